#include "engine/sandbox_factory.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace stacksync::engine {
namespace {

// gVisor (Cloud Run's first-generation environment) reports a fixed fake kernel and cannot
// host our namespaces and cgroups; say so plainly instead of failing somewhere deeper.
bool running_under_gvisor() {
  std::ifstream version("/proc/version");
  std::stringstream text;
  text << version.rdbuf();
  return text.str().find("gVisor") != std::string::npos ||
         text.str().find("4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016") != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<SandboxFactory>> SandboxFactory::create(const ExecutorConfig& config) {
  if (running_under_gvisor())
    return Error{
        "kernel: this kernel is gVisor (e.g. Cloud Run's first-generation execution environment), "
        "which "
        "cannot host StackSync's sandbox; deploy with --execution-environment gen2"};
  if (::access(config.python.c_str(), X_OK) != 0)
    return errno_error("python: " + config.python, errno);

  auto factory = std::make_unique<SandboxFactory>();
  factory->config = config;

  auto seccomp = jail::build_seccomp_filter();
  if (!seccomp) return seccomp.error();
  factory->seccomp = std::move(*seccomp);

  jail::RootFsOptions root;
  root.tmp_bytes = config.limits.tmpfs_bytes;
  auto mounts = jail::plan_root_filesystem(root);
  if (!mounts) return mounts.error();
  factory->mounts = std::move(*mounts);

  IsolationReport& report = factory->report;
  report.namespaces = true;
  report.seccomp = true;
  auto cgroups = jail::CgroupTree::create();
  if (cgroups) {
    factory->cgroups = std::move(*cgroups);
    report.cgroup_version = factory->cgroups->version() == jail::CgroupVersion::v2 ? "v2" : "v1";
    report.memory_limit = true;
    report.pids_limit = true;
  } else if (config.allow_weaker_isolation) {
    report.cgroup_version = "none";
    report.weakened = true;
    report.notes = "WEAKER ISOLATION (operator allowed): no cgroup memory or pids limit: " +
                   cgroups.error().message;
  } else {
    return Error{cgroups.error().message +
                 " (refusing to run scripts without memory and pids limits; "
                 "--allow-weaker-isolation overrides)"};
  }
  return factory;
}

std::vector<std::string> SandboxFactory::environment() const {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                  "HOME=/tmp",
                                  "TMPDIR=/tmp",
                                  "LANG=C.UTF-8",
                                  "LC_ALL=C.UTF-8",
                                  "PYTHONIOENCODING=utf-8",
                                  "OPENBLAS_NUM_THREADS=1",
                                  "OMP_NUM_THREADS=1",
                                  "MKL_NUM_THREADS=1",
                                  "NUMEXPR_NUM_THREADS=1"};
  // CPU-model overrides some machines need for OpenBLAS to pick a working kernel.
  for (const char* name : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"})
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  return env;
}

jail::Rlimits SandboxFactory::rlimits() const {
  jail::Rlimits limits;
  limits.cpu_seconds = static_cast<unsigned long>(config.limits.cpu_seconds);
  limits.file_bytes = config.limits.file_bytes;
  limits.open_files = static_cast<unsigned long>(config.limits.open_files);
  return limits;
}

}  // namespace stacksync::engine
