#include "jail/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stacksync::jail {
namespace {

// Once the sandbox's init is gone the kernel kills the rest of its pid namespace; pipes then
// reach EOF within milliseconds. This bounds how long we wait for that.
constexpr auto kDrainGrace = std::chrono::milliseconds(500);

// Reads what is available. Returns false at EOF or on error.
bool drain(int fd, Capture& capture, std::uint64_t cap) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      std::uint64_t room = cap > capture.data.size() ? cap - capture.data.size() : 0;
      std::uint64_t keep =
          static_cast<std::uint64_t>(n) < room ? static_cast<std::uint64_t>(n) : room;
      capture.data.append(buffer, keep);
      if (keep < static_cast<std::uint64_t>(n)) capture.truncated = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

void kill_sandbox(const Sandbox& sandbox) {
  ::syscall(SYS_pidfd_send_signal, sandbox.pidfd.get(), SIGKILL, nullptr, 0);
}

}  // namespace

Termination supervise(Sandbox& sandbox, const SupervisedPipes& pipes, Deadline deadline,
                      const CaptureCaps& caps) {
  Termination result;
  struct Stream {
    int fd;
    Capture* capture;
    std::uint64_t cap;
  } streams[3] = {{pipes.stdout_fd, &result.stdout_capture, caps.output_bytes},
                  {pipes.stderr_fd, &result.stderr_capture, caps.output_bytes},
                  {pipes.result_fd, &result.result_capture, caps.result_bytes}};
  bool open[3] = {pipes.stdout_fd >= 0, pipes.stderr_fd >= 0, pipes.result_fd >= 0};
  bool reaped = false;
  Deadline drain_until = Deadline::max();

  for (;;) {
    const bool any_open = open[0] || open[1] || open[2];
    if (reaped && !any_open) break;
    const auto now = std::chrono::steady_clock::now();
    if (reaped && now >= drain_until) break;
    if (!reaped && now >= deadline && !result.timed_out) {
      result.timed_out = true;
      kill_sandbox(sandbox);
    }
    pollfd fds[4];
    int map[4];
    int count = 0;
    for (int i = 0; i < 3; ++i) {
      if (!open[i]) continue;
      fds[count] = {streams[i].fd, POLLIN, 0};
      map[count++] = i;
    }
    const int pid_slot = reaped ? -1 : count;
    if (!reaped) fds[count++] = {sandbox.pidfd.get(), POLLIN, 0};

    Deadline wake = reaped ? drain_until : (result.timed_out ? now + kDrainGrace : deadline);
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1;
    if (wait_ms < 0) wait_ms = 0;
    int ready = ::poll(fds, count, static_cast<int>(wait_ms));
    if (ready < 0 && errno != EINTR) break;
    for (int slot = 0; slot < count; ++slot) {
      if (fds[slot].revents == 0) continue;
      if (slot == pid_slot) {
        siginfo_t info{};
        if (::waitid(static_cast<idtype_t>(P_PIDFD), sandbox.pidfd.get(), &info, WEXITED) == 0) {
          reaped = true;
          result.exited = info.si_code == CLD_EXITED;
          result.exit_code = result.exited ? info.si_status : 0;
          result.term_signal = result.exited ? 0 : info.si_status;
          drain_until = std::chrono::steady_clock::now() + kDrainGrace;
        }
        continue;
      }
      Stream& stream = streams[map[slot]];
      if (!drain(stream.fd, *stream.capture, stream.cap)) open[map[slot]] = false;
    }
    // A sandbox that outlives its deadline by the grace (it cannot, being SIGKILLed) is left to
    // the caller's cgroup cleanup rather than blocking us forever.
    if (result.timed_out && !reaped &&
        std::chrono::steady_clock::now() > deadline + 4 * kDrainGrace)
      break;
  }
  if (!reaped) {
    // Only reached if the kernel is slow to tear the sandbox down: SIGKILL cannot be refused.
    kill_sandbox(sandbox);
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), sandbox.pidfd.get(), &info, WEXITED) < 0 &&
           errno == EINTR) {
    }
    result.exited = false;
    result.term_signal = SIGKILL;
  }
  // The init exits right after the payload; its report says how the payload itself ended.
  int status = 0;
  if (!result.timed_out && pipes.status_fd >= 0 &&
      ::read(pipes.status_fd, &status, sizeof(status)) == sizeof(status)) {
    result.exited = WIFEXITED(status);
    result.exit_code = result.exited ? WEXITSTATUS(status) : 0;
    result.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return result;
}

Termination supervise_pipes_impl(const SupervisedPipes& pipes, Deadline deadline,
                                 const CaptureCaps& caps, void (*kill)(void*), void* context) {
  Termination result;
  Capture status;
  struct Stream {
    int fd;
    Capture* capture;
    std::uint64_t cap;
  } streams[4] = {{pipes.stdout_fd, &result.stdout_capture, caps.output_bytes},
                  {pipes.stderr_fd, &result.stderr_capture, caps.output_bytes},
                  {pipes.result_fd, &result.result_capture, caps.result_bytes},
                  {pipes.status_fd, &status, 4096}};
  bool open[4];
  for (int i = 0; i < 4; ++i) open[i] = streams[i].fd >= 0;
  Deadline give_up = Deadline::max();
  bool finished_by_frame = false;
  for (;;) {
    if (!(open[0] || open[1] || open[2] || open[3])) break;
    // The harness closes its output and channel once the frame is written; the init's report
    // would only follow the kernel's teardown of the process, so it is not waited for.
    if (!open[0] && !open[1] && !open[2] && !result.result_capture.data.empty()) {
      finished_by_frame = true;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= give_up) break;
    if (now >= deadline && !result.timed_out) {
      result.timed_out = true;
      kill(context);
      give_up = now + 4 * kDrainGrace;
    }
    pollfd fds[4];
    int map[4];
    int count = 0;
    for (int i = 0; i < 4; ++i) {
      if (!open[i]) continue;
      fds[count] = {streams[i].fd, POLLIN, 0};
      map[count++] = i;
    }
    const Deadline wake = result.timed_out ? give_up : deadline;
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1;
    int ready = ::poll(fds, count, static_cast<int>(wait_ms < 0 ? 0 : wait_ms));
    if (ready < 0 && errno != EINTR) break;
    for (int slot = 0; slot < count; ++slot) {
      if (fds[slot].revents == 0) continue;
      Stream& stream = streams[map[slot]];
      if (!drain(stream.fd, *stream.capture, stream.cap)) open[map[slot]] = false;
    }
  }
  constexpr int kSetupFailed = 0x7FFFFFFF;  // the warm init's marker, see harness.py
  int marker = 0;
  if (status.data.size() >= sizeof(int)) std::memcpy(&marker, status.data.data(), sizeof(int));
  if (marker == kSetupFailed) {
    result.setup_failure = status.data.substr(sizeof(int));
    if (result.setup_failure.empty()) result.setup_failure = "unknown";
    result.exited = false;
    result.status_reported = true;
  } else if (finished_by_frame && status.data.size() != sizeof(int)) {
    result.exited = true;
    result.exit_code = 0;
  } else if (status.data.size() == sizeof(int) && !result.timed_out) {
    int wait_status = 0;
    std::memcpy(&wait_status, status.data.data(), sizeof(int));
    result.exited = WIFEXITED(wait_status);
    result.exit_code = result.exited ? WEXITSTATUS(wait_status) : 0;
    result.term_signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
  } else {
    result.exited = false;
    result.term_signal = SIGKILL;
    result.status_reported = false;
  }
  return result;
}

}  // namespace stacksync::jail
