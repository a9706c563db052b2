// Sandbox: one untrusted process in fresh user, pid, mount, network, ipc, uts and cgroup
// namespaces, on a read-only root, with no capabilities, rlimits and a seccomp filter.
// The child's setup reads top to bottom in the order the kernel needs it; every step that fails
// is reported to the parent with its layer, and the program never runs.
//
//   jail::SandboxSpec spec{...};
//   auto sandbox = jail::spawn_sandbox(spec);
//   if (!sandbox) report(sandbox.error().layer, sandbox.error().message);
#pragma once

#include <sys/types.h>

#include <string>
#include <variant>
#include <vector>

#include "base/unique_fd.h"
#include "jail/cgroups.h"
#include "jail/mounts.h"
#include "jail/rlimits.h"
#include "jail/seccomp.h"
#include "jail/user_map.h"

namespace stacksync::jail {

struct FdMapping {
  int source;  // an fd of the parent
  int target;  // the number it gets in the child
};

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0] is the absolute path to execute
  std::vector<std::string> env;
  std::vector<FdMapping> fds;  // every other fd is closed at execve
  int status_fd = -1;          // write end: the sandbox's init reports the payload's wait status
  const MountPlan* mounts = nullptr;
  const SeccompFilter* seccomp = nullptr;
  const RunCgroup* cgroup = nullptr;  // null only in an operator-allowed weaker mode
  Rlimits rlimits;
  IdentityMap identity;
  std::string hostname = "stacksync";
  // Warm mode's zygote: keeps CAP_SYS_ADMIN/CAP_SETPCAP and runs without seccomp, because it
  // builds each request's namespaces itself. Never set for code that runs user scripts.
  bool zygote = false;
};

struct Sandbox {
  pid_t pid = -1;
  UniqueFd pidfd;
};

struct SpawnFailure {
  std::string layer;    // the isolation layer that could not be set up
  std::string message;  // the step, its path and the errno text
};

class SpawnResult {
 public:
  SpawnResult(Sandbox sandbox) : state_(std::move(sandbox)) {}
  SpawnResult(SpawnFailure failure) : state_(std::move(failure)) {}
  explicit operator bool() const { return std::holds_alternative<Sandbox>(state_); }
  Sandbox& operator*() { return std::get<Sandbox>(state_); }
  const SpawnFailure& error() const { return std::get<SpawnFailure>(state_); }

 private:
  std::variant<Sandbox, SpawnFailure> state_;
};

SpawnResult spawn_sandbox(const SandboxSpec& spec);

// The namespaces every sandbox gets, for reports.
inline constexpr const char* kSandboxNamespaces = "user,pid,mount,net,ipc,uts,cgroup";

}  // namespace stacksync::jail
