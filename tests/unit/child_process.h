// Test helper: runs a function in a forked child and reports how the child ended and what it
// wrote on its report pipe. For per-process state (seccomp, rlimits, capabilities, cgroups)
// that must never be applied to the test runner itself.
//
//   ChildResult r = run_in_child([](int report_fd) { return do_something() ? 0 : 1; });
//   EXPECT_TRUE(r.exited_with(0)) << r.describe();
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <string_view>

namespace stacksync::testing {

struct ChildResult {
  bool exited = false;  // exit() with exit_code; otherwise killed by signal
  int exit_code = -1;
  int signal = 0;
  std::string report;  // everything the child wrote on report_fd

  bool exited_with(int code) const { return exited && exit_code == code; }
  bool killed_by(int sig) const { return !exited && signal == sig; }
  std::string describe() const {
    std::string how = exited ? "exited " + std::to_string(exit_code)
                             : std::string("killed by ") + ::strsignal(signal);
    return how + "; report: '" + report + "'";
  }
};

// Writes text on the report pipe; safe to call in the child (write(2) only).
inline void write_report(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The child exits with body's return value. A child that hangs is killed by SIGALRM after
// timeout_seconds, so a broken jail cannot hang the test run.
inline ChildResult run_in_child(const std::function<int(int report_fd)>& body,
                                unsigned timeout_seconds = 30) {
  ChildResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.report = "pipe2 failed";
    return result;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    result.report = "fork failed";
    return result;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(timeout_seconds);
    ::_exit(body(fds[1]));
  }
  ::close(fds[1]);
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n > 0) {
      result.report.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exited = WIFEXITED(status);
  result.exit_code = result.exited ? WEXITSTATUS(status) : -1;
  result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

}  // namespace stacksync::testing
