// Executor: runs one untrusted script to an Outcome. Thread-safe: the server calls run()
// from several worker threads at once; each call gets its own sandbox.
//
//   auto executor = engine::make_executor(config);
//   if (!executor) fail(executor.error().message);
//   engine::Outcome o = (*executor)->run("def main():\n    return 1\n");
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "engine/engine_stats.h"
#include "engine/limits.h"
#include "engine/outcome.h"

namespace stacksync::engine {

enum class Mode { cold, warm };

struct ExecutorConfig {
  Mode mode = Mode::warm;
  Limits limits;
  std::string python = "/usr/bin/python3";
  // Operator opt-in to run without the layers the machine cannot provide. Never the default:
  // when false, a missing layer makes make_executor() fail.
  bool allow_weaker_isolation = false;
};

// Which isolation layers are in force, for logs and /healthz.
struct IsolationReport {
  std::string cgroup_version;  // "v2", "v1" or "none"
  bool namespaces = false;     // user, pid, mount, net, ipc, uts, cgroup
  bool seccomp = false;
  bool memory_limit = false;
  bool pids_limit = false;
  bool weakened = false;  // the operator allowed a weaker mode and it is in use
  std::string notes;      // what is missing, in words
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual Outcome run(std::string_view script) = 0;
  virtual IsolationReport isolation() const = 0;
  virtual Mode mode() const = 0;
  // Counters since start (runs, outcomes, kills, sandbox failures, warm pool), for /metrics.
  virtual EngineStats stats() const = 0;
};

// Probes the machine (cgroups, namespaces, seccomp) and fails closed when a layer is missing.
Result<std::unique_ptr<Executor>> make_executor(const ExecutorConfig& config);

}  // namespace stacksync::engine
