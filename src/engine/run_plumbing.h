// The plumbing every run needs, cold or warm: pipes whose read end the supervisor polls, the
// script as a sealed memfd, and phase timings.
#pragma once

#include <chrono>
#include <cstddef>

#include "base/result.h"
#include "base/unique_fd.h"

namespace stacksync::engine {

using Clock = std::chrono::steady_clock;

inline long micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

struct Pipe {
  UniqueFd read_end;   // ours, non-blocking
  UniqueFd write_end;  // the sandbox's
};

// Both ends close-on-exec; the read end non-blocking.
Result<Pipe> make_pipe();

// A memfd holding `size` bytes, sealed against any change: what travels into a sandbox as the
// script (or the seccomp program) cannot be altered from inside.
Result<UniqueFd> sealed_memfd(const char* name, const void* data, std::size_t size);

}  // namespace stacksync::engine
