// ColdExecutor: one fresh sandbox and one fresh python per script. Slow (python and pandas
// start every time) but the simplest path; kept as the reference and as a fallback.
#pragma once

#include <memory>

#include "engine/executor.h"
#include "engine/sandbox_factory.h"

namespace stacksync::engine {

class ColdExecutor final : public Executor {
 public:
  explicit ColdExecutor(std::unique_ptr<SandboxFactory> factory);
  Outcome run(std::string_view script) override;
  IsolationReport isolation() const override { return factory_->report; }
  Mode mode() const override { return Mode::cold; }
  EngineStats stats() const override { return stats_.snapshot(); }

 private:
  std::unique_ptr<SandboxFactory> factory_;
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  StatsRecorder stats_;
  Outcome run_uncounted(std::string_view script);
};

}  // namespace stacksync::engine
