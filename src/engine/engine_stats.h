// EngineStats: what the engine has done since start, for /metrics. StatsRecorder is the
// thread-safe tally both executors keep.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "engine/outcome.h"

namespace stacksync::engine {

struct EngineStats {
  std::uint64_t runs = 0;
  std::map<std::string, std::uint64_t> outcomes;  // by error type name ("none" for success)
  std::map<std::string, std::uint64_t> sandbox_failures_by_layer;
  std::uint64_t memory_limit_kills = 0;
  std::uint64_t time_limit_kills = 0;
  int warm_pool_size = 0;  // live zygotes (warm mode)
  std::uint64_t zygote_forks = 0;
  std::uint64_t zygote_starts = 0;  // the first one included; starts - 1 are respawns/recycles
};

class StatsRecorder {
 public:
  void record(const Outcome& outcome);
  EngineStats snapshot() const;

 private:
  mutable std::mutex mutex_;
  EngineStats stats_;  // guarded by mutex_
};

}  // namespace stacksync::engine
