#include "jail/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jail/sandbox.h"

namespace stacksync::jail {

pid_t clone_process(unsigned long long flags, int* pidfd, int cgroup_fd) {
  clone_args args{};
  args.flags = flags;
  args.pidfd = reinterpret_cast<unsigned long long>(pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<unsigned long long>(cgroup_fd);
  }
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
}

void reset_signals_and_die_with_parent() {
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &action, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

ChildStep remap_fds(const FdMapping* mappings, int count) {
  // Lift every source above the targets first so that no dup2 overwrites a later source.
  int lifted[16];
  if (count > 16) {
    errno = EINVAL;
    return child_error("fds", "too many fd mappings");
  }
  for (int i = 0; i < count; ++i) {
    lifted[i] = ::fcntl(mappings[i].source, F_DUPFD_CLOEXEC, 32);
    if (lifted[i] < 0) return child_error("fds", "dup");
  }
  int highest = 0;
  for (int i = 0; i < count; ++i) {
    if (::dup2(lifted[i], mappings[i].target) < 0) return child_error("fds", "dup2");
    if (mappings[i].target > highest) highest = mappings[i].target;
  }
  // Everything above the mapped fds — the service's sockets, files, the lifted copies — is
  // closed at execve. Close-on-exec, not close: the failure pipe must work until then.
  if (::syscall(SYS_close_range, highest + 1, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
    return child_error("fds", "close_range");
  return {};
}

void report_child_failure(int error_fd, const ChildStep& step) {
  ChildFailure failure;
  copy_bounded(failure.layer, sizeof(failure.layer), step.layer);
  char detail[sizeof(failure.detail)];
  copy_bounded(detail, sizeof(detail), step.step);
  if (step.path != nullptr) {
    std::size_t used = std::strlen(detail);
    if (used + 2 < sizeof(detail)) {
      detail[used] = ' ';
      copy_bounded(detail + used + 1, sizeof(detail) - used - 1, step.path);
    }
  }
  copy_bounded(failure.detail, sizeof(failure.detail), detail);
  failure.err = step.err;
  if (::write(error_fd, &failure, sizeof(failure)) < 0) {
    // Nothing more can be done: the parent sees a child that exited without exec.
  }
  ::_exit(127);
}

}  // namespace stacksync::jail
