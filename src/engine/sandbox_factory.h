// SandboxFactory: what every sandbox of this service shares, prepared once at startup — the
// cgroup tree, the seccomp program, the root filesystem plan — and the per-run pieces built
// from it. Used by both the cold and the warm executors.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "engine/executor.h"
#include "jail/cgroups.h"
#include "jail/mounts.h"
#include "jail/rlimits.h"
#include "jail/seccomp.h"

namespace stacksync::engine {

struct SandboxFactory {
  ExecutorConfig config;
  std::unique_ptr<jail::CgroupTree> cgroups;  // null only when the operator allowed it
  jail::SeccompFilter seccomp;
  jail::MountPlan mounts;
  IsolationReport report;

  static Result<std::unique_ptr<SandboxFactory>> create(const ExecutorConfig& config);

  // The sandbox's fixed environment.
  std::vector<std::string> environment() const;
  jail::Rlimits rlimits() const;
};

}  // namespace stacksync::engine
