// Supervisor: watches one running sandbox until it exits or its deadline passes, draining its
// output pipes with caps, then kills and reaps it. Whatever the sandbox does, this returns
// within the deadline plus a short grace.
//
//   auto report = jail::supervise(sandbox, {out, err, result}, deadline, caps);
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "jail/sandbox.h"

namespace stacksync::jail {

struct Capture {
  std::string data;
  bool truncated = false;  // more arrived than the cap; the rest was read and dropped
};

struct SupervisedPipes {
  int stdout_fd = -1;
  int stderr_fd = -1;
  int result_fd = -1;
  int status_fd = -1;  // the init's report of the payload's wait status
};

struct CaptureCaps {
  std::uint64_t output_bytes = 1 << 20;
  std::uint64_t result_bytes = 16 << 20;
};

struct Termination {
  bool timed_out = false;  // we killed it at the deadline
  bool exited = false;     // exit() with exit_code; otherwise killed by term_signal
  int exit_code = 0;
  int term_signal = 0;
  bool status_reported = true;  // false: the sandbox's init died without reporting (killed)
  std::string setup_failure;    // warm mode: the sandbox failed before the script ran, and why
  Capture stdout_capture;
  Capture stderr_capture;
  Capture result_capture;
};

using Deadline = std::chrono::steady_clock::time_point;

// Takes ownership of nothing; closes nothing. The pipes should be non-blocking read ends.
Termination supervise(Sandbox& sandbox, const SupervisedPipes& pipes, Deadline deadline,
                      const CaptureCaps& caps);

// For a sandbox that is not our child (warm mode): watches the pipes until all reach EOF, which
// happens when its init and everything below it are gone. At the deadline calls kill(). The
// payload's wait status comes from the status pipe; without one, the sandbox was killed.
template <class Kill>
Termination supervise_pipes(const SupervisedPipes& pipes, Deadline deadline,
                            const CaptureCaps& caps, Kill kill);

Termination supervise_pipes_impl(const SupervisedPipes& pipes, Deadline deadline,
                                 const CaptureCaps& caps, void (*kill)(void*), void* context);

template <class Kill>
Termination supervise_pipes(const SupervisedPipes& pipes, Deadline deadline,
                            const CaptureCaps& caps, Kill kill) {
  return supervise_pipes_impl(
      pipes, deadline, caps, [](void* k) { (*static_cast<Kill*>(k))(); }, &kill);
}

}  // namespace stacksync::jail
