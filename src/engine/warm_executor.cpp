#include "engine/warm_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "base/fault_injection.h"
#include "engine/classify.h"
#include "engine/run_plumbing.h"
#include "jail/supervisor.h"

namespace stacksync::engine {

extern const char kHarnessSource[];

namespace {

constexpr std::uint64_t kZygoteMemoryBytes = 1ull << 30;
constexpr int kZygotePids = 256;
constexpr int kZygoteStartTimeoutMs = 60000;  // python + numpy + pandas, on a loaded machine
constexpr int kMaxForksPerZygote = 5000;

Status send_with_fds(int socket, const std::string& message, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(message.data()), message.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr header{};
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  header.msg_control = control.data();
  header.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  if (::sendmsg(socket, &header, MSG_NOSIGNAL) != static_cast<ssize_t>(message.size()))
    return errno_error("send request to zygote", errno);
  return {};
}

// Waits for one datagram from the zygote and checks it is `expected`.
Status expect_message(int socket, std::string_view expected, int timeout_ms) {
  pollfd ready{socket, POLLIN, 0};
  int n = ::poll(&ready, 1, timeout_ms);
  if (n == 0) return Error{"zygote did not answer within " + std::to_string(timeout_ms) + " ms"};
  if (n < 0) return errno_error("poll zygote", errno);
  char buffer[64];
  ssize_t got = ::recv(socket, buffer, sizeof(buffer), 0);
  if (got <= 0) return Error{"zygote closed its socket (it died)"};
  if (std::string_view(buffer, static_cast<std::size_t>(got)) != expected)
    return Error{"zygote sent an unexpected message"};
  return {};
}

}  // namespace

WarmExecutor::WarmExecutor(std::unique_ptr<SandboxFactory> factory) : factory_(std::move(factory)) {
  const Limits& limits = factory_->config.limits;
  const jail::Rlimits r = factory_->rlimits();
  auto limit = [](int resource, unsigned long long soft, unsigned long long hard) {
    return " rlimit=" + std::to_string(resource) + ":" + std::to_string(soft) + ":" +
           std::to_string(hard);
  };
  request_header_ = "tmp=" + std::to_string(limits.tmpfs_bytes) + warm_fault_spec() +
                    limit(RLIMIT_CPU, r.cpu_seconds, r.cpu_seconds + 1) +
                    limit(RLIMIT_FSIZE, r.file_bytes, r.file_bytes) +
                    limit(RLIMIT_NOFILE, r.open_files, r.open_files) + limit(RLIMIT_CORE, 0, 0) +
                    limit(RLIMIT_MEMLOCK, 0, 0) + limit(RLIMIT_STACK, r.stack_bytes, r.stack_bytes);
}

WarmExecutor::~WarmExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard lock(mutex_);
  stop_zygote_locked();
  reaper_.flush();
}

static long rss_kb(int pid) {
  if (pid <= 0) return 0;
  FILE* file = std::fopen(("/proc/" + std::to_string(pid) + "/statm").c_str(), "r");
  if (file == nullptr) return 0;
  long size = 0, resident = 0;
  if (std::fscanf(file, "%ld %ld", &size, &resident) != 2) resident = 0;
  std::fclose(file);
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

bool WarmExecutor::zygote_grew_locked() const {
  // The zygote runs no user code, so growth means a leak of ours: recycle at twice its start.
  if (!zygote_ || zygote_start_rss_kb_ == 0) return false;
  return rss_kb(zygote_pid_locked()) > 2 * zygote_start_rss_kb_;
}

void WarmExecutor::watch_zygote() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, std::chrono::milliseconds(50));
    if (stopping_) return;
    const bool alive = zygote_alive_locked();
    zygote_up_ = alive;
    if (alive && !zygote_grew_locked()) continue;
    if (auto s = start_zygote_locked(); !s) {
      std::fprintf(stderr, "stacksync: could not replace the warm interpreter: %s\n",
                   s.error().message.c_str());
      stop_.wait_for(lock, std::chrono::seconds(1));  // back off; requests report the failure
    }
  }
}

Result<std::unique_ptr<WarmExecutor>> WarmExecutor::create(
    std::unique_ptr<SandboxFactory> factory) {
  std::unique_ptr<WarmExecutor> executor(new WarmExecutor(std::move(factory)));
  {
    std::lock_guard lock(executor->mutex_);
    if (auto s = executor->start_zygote_locked(); !s) return Error{"zygote: " + s.error().message};
  }
  executor->watcher_ = std::thread([raw = executor.get()] { raw->watch_zygote(); });
  return executor;
}

int WarmExecutor::zygote_pid() const {
  std::lock_guard lock(mutex_);
  return zygote_pid_locked();
}

int WarmExecutor::zygote_pid_locked() const {
  if (!zygote_) return -1;
  // The zygote is the only child of its sandbox's init.
  std::string path = "/proc/" + std::to_string(zygote_->init.pid) + "/task/" +
                     std::to_string(zygote_->init.pid) + "/children";
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return -1;
  int pid = -1;
  if (std::fscanf(file, "%d", &pid) != 1) pid = -1;
  std::fclose(file);
  return pid;
}

int WarmExecutor::zygotes_started() const {
  return zygotes_started_;
}

bool WarmExecutor::zygote_alive_locked() const {
  if (!zygote_) return false;
  pollfd exited{zygote_->init.pidfd.get(), POLLIN, 0};
  return ::poll(&exited, 1, 0) == 0;
}

void WarmExecutor::stop_zygote_locked() {
  if (!zygote_) return;
  zygote_->control.reset();  // the zygote exits on EOF; SIGKILL makes sure
  ::syscall(SYS_pidfd_send_signal, zygote_->init.pidfd.get(), SIGKILL, nullptr, 0);
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), zygote_->init.pidfd.get(), &info, WEXITED) < 0 &&
         errno == EINTR) {
  }
  if (zygote_->cgroup) (void)zygote_->cgroup->destroy();
  zygote_.reset();
  zygote_up_ = false;
}

Status WarmExecutor::start_zygote_locked() {
  stop_zygote_locked();
  Zygote zygote;
  zygote.generation = ++zygotes_started_;
  if (factory_->cgroups) {
    auto cgroup = factory_->cgroups->create_run({kZygoteMemoryBytes, kZygotePids});
    if (!cgroup) return cgroup.error();
    zygote.cgroup.emplace(std::move(*cgroup));
  }
  const auto& program = factory_->seccomp.program;
  auto bpf = sealed_memfd("seccomp-bpf", program.data(), program.size() * sizeof(program[0]));
  if (!bpf) return bpf.error();
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0)
    return errno_error("socketpair", errno);
  UniqueFd ours(sockets[0]), theirs(sockets[1]);
  auto status = make_pipe();
  if (!status) return status.error();
  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));

  jail::SandboxSpec spec;
  spec.argv = {factory_->config.python, "-I",     "-B",           "-u", "-c",
               kHarnessSource,          "zygote", request_header_};
  spec.env = factory_->environment();
  // The zygote's own stdout/stderr go to the service's stderr: its failures belong in our log.
  spec.fds = {{dev_null.get(), 0},
              {STDERR_FILENO, 1},
              {STDERR_FILENO, 2},
              {bpf->get(), 3},
              {theirs.get(), 4}};
  spec.status_fd = status->write_end.get();
  spec.mounts = &factory_->mounts;
  spec.seccomp = &factory_->seccomp;
  spec.cgroup = zygote.cgroup ? &*zygote.cgroup : nullptr;
  spec.rlimits = factory_->rlimits();
  spec.rlimits.cpu_seconds = RLIM_INFINITY - 1;  // a long-lived process; each child gets its own
  spec.zygote = true;
  auto sandbox = jail::spawn_sandbox(spec);
  if (!sandbox)
    return Error{"zygote sandbox (" + sandbox.error().layer + "): " + sandbox.error().message};
  zygote.init = std::move(*sandbox);
  zygote.control = std::move(ours);
  if (auto s = expect_message(zygote.control.get(), "ready", kZygoteStartTimeoutMs); !s) {
    zygote_.emplace(std::move(zygote));
    stop_zygote_locked();
    return Error{"zygote failed to start: " + s.error().message};
  }
  zygote_.emplace(std::move(zygote));
  zygote_start_rss_kb_ = rss_kb(zygote_pid_locked());
  zygote_up_ = true;
  return {};
}

Status WarmExecutor::collect_acks_locked() {
  char buffer[64];
  for (;;) {
    ssize_t got = ::recv(zygote_->control.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got > 0) {
      --zygote_->unacknowledged;
      continue;
    }
    if (got == 0) return Error{"zygote closed its socket (it died)"};
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errno_error("read zygote acks", errno);
    break;
  }
  // The acks trail the requests by one fork at most; many missing means the zygote is stuck.
  if (zygote_->unacknowledged > 64) return Error{"zygote stopped acknowledging requests"};
  return {};
}

Outcome WarmExecutor::run(std::string_view script) {
  bool zygote_died = false;
  Outcome outcome = run_once(script, zygote_died);
  // The zygote died under this request (killed, crashed): once more, on a fresh one.
  if (zygote_died) outcome = run_once(script, zygote_died);
  stats_.record(outcome);
  return outcome;
}

EngineStats WarmExecutor::stats() const {
  EngineStats stats = stats_.snapshot();
  stats.warm_pool_size = zygote_up_ ? 1 : 0;
  stats.zygote_forks = forks_;
  stats.zygote_starts = static_cast<std::uint64_t>(zygotes_started_.load());
  return stats;
}

Outcome WarmExecutor::run_once(std::string_view script, bool& zygote_died) {
  zygote_died = false;
  const auto start = Clock::now();
  const Limits& limits = factory_->config.limits;

  std::optional<jail::RunCgroup> cgroup;
  std::vector<UniqueFd> procs;
  if (factory_->cgroups) {
    auto created = factory_->cgroups->create_run({limits.memory_bytes, limits.pids});
    if (!created) return sandbox_error("cgroup", created.error().message);
    cgroup.emplace(std::move(*created));
    for (const auto& file : cgroup->procs_files()) {
      procs.emplace_back(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
      if (!procs.back())
        return sandbox_error("cgroup", "open " + file + ": " + std::strerror(errno));
    }
  }
  auto out = make_pipe(), err = make_pipe(), result = make_pipe(), status = make_pipe();
  if (!out || !err || !result || !status) return sandbox_error("internal", "pipe2 failed");
  auto script_fd = sealed_memfd("script.py", script.data(), script.size());
  if (!script_fd) return sandbox_error("internal", script_fd.error().message);

  std::vector<int> fds = {script_fd->get(), out->write_end.get(), err->write_end.get(),
                          result->write_end.get(), status->write_end.get()};
  for (const auto& fd : procs) fds.push_back(fd.get());

  int generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (!zygote_alive_locked() || zygote_->forks >= kMaxForksPerZygote) {
      if (auto s = start_zygote_locked(); !s) return sandbox_error("zygote", s.error().message);
    }
    // The zygote acks each request once it has handed it to a spare. The ack is not waited for
    // (the request's own pipes tell how it went); earlier acks are collected here, and a zygote
    // that stopped acking long ago is treated as dead.
    Status sent = collect_acks_locked();
    if (sent) sent = send_with_fds(zygote_->control.get(), "run", fds);
    if (!sent) {
      stop_zygote_locked();
      zygote_died = true;
      return sandbox_error("zygote", sent.error().message);
    }
    ++zygote_->forks;
    ++zygote_->unacknowledged;
    ++forks_;
    if (inject_fault("zygote_kill"))  // the zygote dies with this request in flight
      ::kill(zygote_pid_locked(), SIGKILL);
    generation = zygote_->generation;
  }
  const long setup_us = micros_since(start);
  out->write_end.reset();
  err->write_end.reset();
  result->write_end.reset();
  status->write_end.reset();
  script_fd->reset();
  procs.clear();

  // The script's 5 s start once the request is handed to the zygote: waiting for a zygote
  // (re)start or for the lock is ours, not the user's, time.
  const auto run_start = Clock::now();
  const auto deadline = run_start + std::chrono::milliseconds(limits.wall_ms);
  jail::Termination termination = jail::supervise_pipes(
      {out->read_end.get(), err->read_end.get(), result->read_end.get(), status->read_end.get()},
      deadline, {limits.output_bytes, limits.result_bytes + 4096}, [&] {
        if (cgroup) cgroup->kill_all();
      });
  const long run_us = micros_since(run_start);

  const auto cleanup_start = Clock::now();
  // A run killed at the deadline while stuck at its memory limit (the kernel reclaiming, the
  // OOM killer not yet done) ran out of memory, not time.
  const bool oom =
      cgroup && (cgroup->oom_killed() || (termination.timed_out && cgroup->memory_limit_hit()));
  if (cgroup) reaper_.dispose(std::move(*cgroup));
  if (!termination.setup_failure.empty())
    return sandbox_error("warm_sandbox", to_valid_utf8(termination.setup_failure));
  if (!termination.status_reported && !termination.timed_out && !oom &&
      termination.result_capture.data.empty()) {
    // No report from the request's init: it was killed from outside, which happens when the
    // zygote sandbox it lives under went away. That sandbox's init may still be on its way out.
    std::unique_lock lock(mutex_);
    if (zygote_ && zygote_->generation == generation) {
      pollfd exited{zygote_->init.pidfd.get(), POLLIN, 0};
      lock.unlock();
      ::poll(&exited, 1, 200);
      lock.lock();
    }
    if (!zygote_alive_locked() || zygote_->generation != generation) {
      zygote_died = true;
      return sandbox_error("zygote", "the warm interpreter died while running this request");
    }
  }
  Outcome outcome = classify(std::move(termination), oom, limits);
  outcome.timings = {setup_us, run_us, micros_since(cleanup_start), micros_since(start)};
  return outcome;
}

}  // namespace stacksync::engine
