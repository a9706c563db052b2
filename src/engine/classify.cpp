#include "engine/classify.h"

#include <signal.h>
#include <string.h>

#include <cstdio>

#include "engine/result_channel.h"

namespace stacksync::engine {
namespace {

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string format_seconds(int ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", ms / 1000.0);
  return text;
}

void set_limit_seconds(Outcome& outcome, const Limits& limits) {
  if (limits.wall_ms % 1000 == 0)
    outcome.details["limit_seconds"] = limits.wall_ms / 1000;
  else
    outcome.details["limit_seconds"] = limits.wall_ms / 1000.0;
}

}  // namespace

Outcome sandbox_error(std::string_view layer, std::string_view message) {
  Outcome outcome;
  outcome.error = ErrorType::sandbox_error;
  // Errors from the jail usually name their layer already ("cgroup: mkdir ...").
  const bool named = message.starts_with(layer) && message.substr(layer.size()).starts_with(":");
  outcome.message =
      "the sandbox could not be set up (" +
      (named ? std::string(message) : std::string(layer) + ": " + std::string(message)) +
      "); the script was not run";
  outcome.details["layer"] = layer;
  return outcome;
}

Outcome classify(jail::Termination termination, bool oom_killed, const Limits& limits) {
  Outcome outcome;
  outcome.stdout_bytes = std::move(termination.stdout_capture.data);
  outcome.stderr_bytes = std::move(termination.stderr_capture.data);
  outcome.stdout_truncated = termination.stdout_capture.truncated;
  outcome.stderr_truncated = termination.stderr_capture.truncated;

  const std::uint64_t limit_mib = limits.memory_bytes >> 20;
  if (oom_killed) {
    outcome.error = ErrorType::memory_limit;
    outcome.message =
        "the script exceeded the " + std::to_string(limit_mib) + " MiB memory limit and was killed";
    outcome.details["limit_mib"] = limit_mib;
    return outcome;
  }
  if (termination.timed_out) {
    outcome.error = ErrorType::timeout;
    outcome.message = "the script exceeded the " + format_seconds(limits.wall_ms) +
                      " s time limit and was killed";
    set_limit_seconds(outcome, limits);
    return outcome;
  }
  const jail::Capture& frame = termination.result_capture;
  if (!frame.data.empty() && !frame.truncated) {
    decode_result_frame(frame.data, limits, outcome);
    if (outcome.error != ErrorType::invalid_result) return outcome;
    // A frame cut short by a signal is the signal's story, not a forged frame.
    if (termination.exited) return outcome;
  }
  if (frame.truncated) {
    outcome.error = ErrorType::result_too_large;
    outcome.message =
        "the result exceeds the " + std::to_string(limits.result_bytes >> 20) + " MiB limit";
    outcome.details["limit_bytes"] = limits.result_bytes;
    return outcome;
  }
  outcome.error = ErrorType::exited;
  if (termination.exited) {
    outcome.message = "the script exited with code " + std::to_string(termination.exit_code) +
                      " before main() returned";
    outcome.details["exit_code"] = termination.exit_code;
    return outcome;
  }
  const int sig = termination.term_signal;
  if (sig == SIGXCPU) {
    outcome.error = ErrorType::timeout;
    outcome.message = "the script exceeded its CPU time limit and was killed";
    set_limit_seconds(outcome, limits);
    return outcome;
  }
  outcome.message = "the script was killed by " + signal_name(sig) + " before main() returned";
  if (sig == SIGXFSZ) outcome.message += " (file size limit exceeded)";
  if (sig == SIGSYS) outcome.message += " (forbidden system call)";
  outcome.details["signal"] = signal_name(sig);
  return outcome;
}

}  // namespace stacksync::engine
