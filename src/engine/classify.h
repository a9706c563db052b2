// Classify: turns how a sandbox ended (supervisor report, cgroup OOM flag, result frame) into
// the Outcome's error taxonomy. Shared by the cold and warm paths so both report alike.
#pragma once

#include "engine/limits.h"
#include "engine/outcome.h"
#include "jail/supervisor.h"

namespace stacksync::engine {

// `oom_killed`: the run's cgroup OOM-killed a process, or the run was stuck at its memory limit
// when the deadline came; either way memory, not time, is what the script ran out of.
Outcome classify(jail::Termination termination, bool oom_killed, const Limits& limits);

// An Outcome for our own failure: the named isolation layer could not be set up.
Outcome sandbox_error(std::string_view layer, std::string_view message);

}  // namespace stacksync::engine
