#include "engine/cold_executor.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>

#include "base/unique_fd.h"
#include "engine/classify.h"
#include "engine/run_plumbing.h"
#include "jail/sandbox.h"
#include "jail/supervisor.h"

namespace stacksync::engine {

extern const char kHarnessSource[];

ColdExecutor::ColdExecutor(std::unique_ptr<SandboxFactory> factory)
    : factory_(std::move(factory)),
      argv_{factory_->config.python, "-I", "-B", "-u", "-c", kHarnessSource},
      env_(factory_->environment()) {}

Outcome ColdExecutor::run(std::string_view script) {
  Outcome outcome = run_uncounted(script);
  stats_.record(outcome);
  return outcome;
}

Outcome ColdExecutor::run_uncounted(std::string_view script) {
  const auto start = Clock::now();
  const Limits& limits = factory_->config.limits;

  std::optional<jail::RunCgroup> cgroup;
  if (factory_->cgroups) {
    auto created = factory_->cgroups->create_run({limits.memory_bytes, limits.pids});
    if (!created) return sandbox_error("cgroup", created.error().message);
    cgroup.emplace(std::move(*created));
  }
  auto out = make_pipe(), err = make_pipe(), result = make_pipe(), status = make_pipe();
  if (!out || !err || !result || !status) return sandbox_error("internal", "pipe2 failed");
  auto script_fd = sealed_memfd("script.py", script.data(), script.size());
  if (!script_fd) return sandbox_error("internal", script_fd.error().message);
  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null) return sandbox_error("internal", "open /dev/null failed");

  jail::SandboxSpec spec;
  spec.argv = argv_;
  spec.env = env_;
  spec.fds = {{dev_null.get(), 0},
              {out->write_end.get(), 1},
              {err->write_end.get(), 2},
              {script_fd->get(), 3},
              {result->write_end.get(), 4}};
  spec.status_fd = status->write_end.get();
  spec.mounts = &factory_->mounts;
  spec.seccomp = &factory_->seccomp;
  spec.cgroup = cgroup ? &*cgroup : nullptr;
  spec.rlimits = factory_->rlimits();

  auto sandbox = jail::spawn_sandbox(spec);
  if (!sandbox) return sandbox_error(sandbox.error().layer, sandbox.error().message);
  const long setup_us = micros_since(start);
  out->write_end.reset();
  err->write_end.reset();
  result->write_end.reset();
  status->write_end.reset();

  // The script's 5 s start once python is exec'd: a slow sandbox build (a loaded host, a
  // sanitizer build) must not eat the user's budget. The build itself is bounded in spawn_sandbox.
  const auto run_start = Clock::now();
  const auto deadline = run_start + std::chrono::milliseconds(limits.wall_ms);
  jail::Termination termination = jail::supervise(
      *sandbox,
      {out->read_end.get(), err->read_end.get(), result->read_end.get(), status->read_end.get()},
      deadline, {limits.output_bytes, limits.result_bytes + 4096});
  const long run_us = micros_since(run_start);

  const auto cleanup_start = Clock::now();
  // A run killed at the deadline while stuck at its memory limit (the kernel reclaiming, the
  // OOM killer not yet done) ran out of memory, not time.
  const bool oom =
      cgroup && (cgroup->oom_killed() || (termination.timed_out && cgroup->memory_limit_hit()));
  if (cgroup) (void)cgroup->destroy();
  Outcome outcome = classify(std::move(termination), oom, limits);
  outcome.timings = {setup_us, run_us, micros_since(cleanup_start), micros_since(start)};
  return outcome;
}

}  // namespace stacksync::engine
