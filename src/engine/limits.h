// Limits: what one script may use. Defaults are the service's public contract.
#pragma once

#include <cstdint>

namespace stacksync::engine {

struct Limits {
  int wall_ms = 5000;                          // whole sandbox lifetime, then SIGKILL
  std::uint64_t memory_bytes = 512ull << 20;   // cgroup memory limit, swap 0
  int pids = 64;                               // cgroup pids limit (threads count)
  std::uint64_t tmpfs_bytes = 64ull << 20;     // private /tmp
  std::uint64_t output_bytes = 1ull << 20;     // stdout and stderr, each; the rest is dropped
  std::uint64_t result_bytes = 16ull << 20;    // serialized result
  int cpu_seconds = 10;                        // RLIMIT_CPU, a backstop behind wall_ms
  std::uint64_t file_bytes = 64ull << 20;      // RLIMIT_FSIZE
  int open_files = 256;                        // RLIMIT_NOFILE
  static constexpr int kMaxResultDepth = 100;  // nesting of the result value
};

}  // namespace stacksync::engine
