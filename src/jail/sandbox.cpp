#include "jail/sandbox.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fault_injection.h"
#include "jail/capabilities.h"
#include "jail/process.h"

namespace stacksync::jail {
namespace {

constexpr unsigned long long kNamespaceFlags =
    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;

// Everything the child needs, prepared before clone: after it, no allocation.
struct ChildPlan {
  const SandboxSpec* spec;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int release_fd;      // read end: one byte once the parent has mapped ids and placed the cgroup
  int error_fd;        // write end, close-on-exec: a ChildFailure, or EOF on execve
  int parent_ends[2];  // the parent's pipe ends, closed in the child so EOF means what it says
};

// Pid 1 of the sandbox: reaps everything, reports the payload's wait status on status_fd and
// exits when the payload does, which makes the kernel kill whatever else is left.
[[noreturn]] void run_init(pid_t payload, const SandboxSpec& spec, int error_fd) {
  (void)error_fd;  // the payload's copy alone now decides between EOF (exec) and a failure
  // The init never execs, so close-on-exec does not apply to it: close every fd but the
  // status pipe — the service's sockets and files must not live on in the sandbox.
  const unsigned status_fd = static_cast<unsigned>(spec.status_fd);
  if (status_fd > 0) ::syscall(SYS_close_range, 0u, status_fd - 1, 0u);
  ::syscall(SYS_close_range, status_fd + 1, ~0u, 0u);
  // Not dumpable: /proc/1/mem and friends become root-owned, out of the payload's reach.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (drop_all_capabilities().failed() || install_seccomp_filter(*spec.seccomp).failed()) {
    ::kill(payload, SIGKILL);
    ::_exit(125);
  }
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid == payload) {
      if (::write(spec.status_fd, &status, sizeof(status)) < 0) ::_exit(124);
      ::_exit(0);
    }
    if (pid < 0 && errno != EINTR) ::_exit(123);
  }
}

// The setup sequence, in the order the kernel needs it.
[[noreturn]] void run_child(const ChildPlan& plan) {
  const SandboxSpec& spec = *plan.spec;
  const int error_fd = plan.error_fd;
  auto fail = [error_fd](const ChildStep& step) { report_child_failure(error_fd, step); };

  reset_signals_and_die_with_parent();
  ::close(plan.parent_ends[0]);
  ::close(plan.parent_ends[1]);
  char released = 0;
  if (::read(plan.release_fd, &released, 1) != 1) ::_exit(126);  // the parent gave up on us
  ::close(plan.release_fd);

  // Now inside the run's cgroup: a cgroup namespace rooted there hides the host's hierarchy.
  // Files we create must belong to a mapped id, so we become the sandbox user first. The
  // capabilities we hold in our own user namespace survive: its root uid is not mapped.
  if (ChildStep s = become_sandbox_user(spec.identity.sandbox_uid, spec.identity.sandbox_gid);
      s.failed())
    fail(s);
  // Changing ids cleared the parent-death signal: set it again, so that a killed service
  // takes its sandboxes with it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::unshare(CLONE_NEWCGROUP) != 0) fail(child_error("namespaces", "unshare(CLONE_NEWCGROUP)"));
  if (::setsid() < 0) fail(child_error("session", "setsid"));
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
    fail(child_error("namespaces", "sethostname"));
  if (ChildStep s = apply_root_filesystem(*spec.mounts); s.failed()) fail(s);
  if (ChildStep s = remap_fds(spec.fds.data(), static_cast<int>(spec.fds.size())); s.failed())
    fail(s);
  if (ChildStep s = apply_rlimits(spec.rlimits); s.failed()) fail(s);
  if (::chdir("/tmp") != 0) fail(child_error("mounts", "chdir", "/tmp"));
  if (ChildStep s = spec.zygote ? ChildStep{} : drop_bounding_set(); s.failed()) fail(s);

  // The script must not be pid 1: the kernel shields a namespace's init from its own signals
  // (os.kill(os.getpid(), SIGSEGV) would do nothing), and init must reap orphans.
  const pid_t payload = static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  if (payload < 0) fail(child_error("namespaces", "fork payload"));
  if (payload > 0) run_init(payload, spec, error_fd);

  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (spec.zygote) {
    if (ChildStep s = keep_zygote_capabilities(); s.failed()) fail(s);
  } else {
    if (ChildStep s = drop_all_capabilities(); s.failed()) fail(s);
    if (ChildStep s = install_seccomp_filter(*spec.seccomp); s.failed()) fail(s);
  }
  ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  fail(child_error("exec", "execve", plan.argv[0]));
  ::_exit(127);
}

std::vector<char*> to_c_array(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

SpawnFailure failure(std::string layer, std::string what, int err) {
  return SpawnFailure{std::move(layer), what + ": " + std::strerror(err)};
}

void reap(pid_t pid, int pidfd) {
  if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

SpawnResult spawn_sandbox(const SandboxSpec& spec) {
  if (spec.mounts == nullptr || spec.seccomp == nullptr || spec.argv.empty())
    return SpawnFailure{"internal", "incomplete sandbox spec"};
  int release[2], errors[2];
  if (::pipe2(release, O_CLOEXEC) != 0) return failure("internal", "pipe", errno);
  UniqueFd release_read(release[0]), release_write(release[1]);
  if (::pipe2(errors, O_CLOEXEC) != 0) return failure("internal", "pipe", errno);
  UniqueFd error_read(errors[0]), error_write(errors[1]);

  ChildPlan plan{&spec,
                 to_c_array(spec.argv),
                 to_c_array(spec.env),
                 release_read.get(),
                 error_write.get(),
                 {release_write.get(), error_read.get()}};
  const int cgroup_fd = spec.cgroup != nullptr ? spec.cgroup->clone_into_fd() : -1;
  if (inject_fault("sandbox_spawn"))
    return SpawnFailure{"namespaces", "clone3: Operation not permitted (injected fault)"};
  int pidfd = -1;
  pid_t pid = clone_process(kNamespaceFlags | CLONE_PIDFD, &pidfd, cgroup_fd);
  if (pid < 0) return failure("namespaces", "clone3(user,pid,mount,net,ipc,uts)", errno);
  if (pid == 0) run_child(plan);

  Sandbox sandbox{pid, UniqueFd(pidfd)};
  release_read.reset();
  error_write.reset();
  if (auto s = write_identity_map(pid, spec.identity); !s) {
    reap(pid, pidfd);
    return SpawnFailure{"user_namespace", s.error().message};
  }
  if (spec.cgroup != nullptr && cgroup_fd < 0) {
    if (auto s = spec.cgroup->attach(pid); !s) {
      reap(pid, pidfd);
      return SpawnFailure{"cgroup", s.error().message};
    }
  }
  const char go = 1;
  if (::write(release_write.get(), &go, 1) != 1) {
    int err = errno;
    reap(pid, pidfd);
    return failure("internal", "release child", err);
  }
  release_write.reset();

  // Wait for execve (EOF) or a failure report. The setup is a bounded list of syscalls; the
  // timeout only guards against a kernel that stalls.
  pollfd wait_for{error_read.get(), POLLIN, 0};
  int ready = ::poll(&wait_for, 1, 10000);
  if (ready <= 0) {
    reap(pid, pidfd);
    return SpawnFailure{"internal", "sandbox setup did not finish within 10 s"};
  }
  ChildFailure report;
  ssize_t n = ::read(error_read.get(), &report, sizeof(report));
  if (n == 0) return sandbox;
  reap(pid, pidfd);
  if (n != static_cast<ssize_t>(sizeof(report)))
    return SpawnFailure{"internal", "sandbox child died during setup"};
  report.layer[sizeof(report.layer) - 1] = '\0';
  report.detail[sizeof(report.detail) - 1] = '\0';
  return failure(report.layer, report.detail, report.err);
}

}  // namespace stacksync::jail
