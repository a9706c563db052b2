#include "engine/cold_executor.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>

#include "base/unique_fd.h"
#include "engine/classify.h"
#include "jail/sandbox.h"
#include "jail/supervisor.h"

namespace stacksync::engine {

extern const char kHarnessSource[];

namespace {

using Clock = std::chrono::steady_clock;

long micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

struct Pipe {
  UniqueFd read_end, write_end;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error("pipe2", errno);
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  ::fcntl(pipe.read_end.get(), F_SETFL, O_NONBLOCK);
  return pipe;
}

// The script travels as a sealed memfd: no pipe to feed, nothing the sandbox can change.
Result<UniqueFd> script_memfd(std::string_view script) {
  UniqueFd fd(::memfd_create("script.py", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return errno_error("memfd_create", errno);
  const char* data = script.data();
  std::size_t left = script.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), data, left);
    if (n <= 0) return errno_error("write script", errno);
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  return fd;
}

}  // namespace

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
  auto script_fd = script_memfd(script);
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

  const auto deadline = start + std::chrono::milliseconds(limits.wall_ms);
  const auto run_start = Clock::now();
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
