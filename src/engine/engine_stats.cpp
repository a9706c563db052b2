#include "engine/engine_stats.h"

namespace stacksync::engine {

void StatsRecorder::record(const Outcome& outcome) {
  std::lock_guard lock(mutex_);
  ++stats_.runs;
  ++stats_.outcomes[std::string(error_type_name(outcome.error))];
  if (outcome.error == ErrorType::memory_limit) ++stats_.memory_limit_kills;
  if (outcome.error == ErrorType::timeout) ++stats_.time_limit_kills;
  if (outcome.error == ErrorType::sandbox_error) {
    const auto* layer = outcome.details.if_contains("layer");
    std::string name =
        layer != nullptr && layer->is_string() ? std::string(layer->as_string()) : "unknown";
    ++stats_.sandbox_failures_by_layer[name];
  }
}

EngineStats StatsRecorder::snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace stacksync::engine
