#include "engine/executor.h"

#include "engine/cold_executor.h"
#include "engine/sandbox_factory.h"
#include "engine/warm_executor.h"

namespace stacksync::engine {

Result<std::unique_ptr<Executor>> make_executor(const ExecutorConfig& config) {
  auto factory = SandboxFactory::create(config);
  if (!factory) return factory.error();
  std::unique_ptr<Executor> executor;
  if (config.mode == Mode::warm) {
    auto warm = WarmExecutor::create(std::move(*factory));
    if (!warm) return warm.error();
    executor = std::move(*warm);
  } else {
    executor = std::make_unique<ColdExecutor>(std::move(*factory));
  }
  // Fail closed: prove once that a sandbox can be built and python runs in it.
  Outcome probe = executor->run("def main():\n    return 1\n");
  if (!probe.ok()) {
    const auto* layer = probe.details.if_contains("layer");
    const std::string name =
        layer != nullptr && layer->is_string() ? std::string(layer->as_string()) : "self_test";
    return Error{
        name + ": sandbox self-test failed: " + probe.message +
        (probe.stderr_bytes.empty() ? "" : " (stderr: " + probe.stderr_bytes.substr(0, 500) + ")")};
  }
  return executor;
}

}  // namespace stacksync::engine
