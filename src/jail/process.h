// Low-level process helpers shared by the cold and warm paths: clone3 and child hygiene.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "jail/child_failure.h"

namespace stacksync::jail {

// clone3 without a new stack: returns like fork (0 in the child). On success in the parent,
// *pidfd (if CLONE_PIDFD is in flags) refers to the child. cgroup_fd >= 0 adds CLONE_INTO_CGROUP.
pid_t clone_process(unsigned long long flags, int* pidfd, int cgroup_fd);

// In a fresh child: default dispositions, nothing blocked, die with the parent.
void reset_signals_and_die_with_parent();

// Places each source fd at its target number; everything else is closed at execve.
struct FdMapping;
ChildStep remap_fds(const FdMapping* mappings, int count);

// Sends a ChildFailure to the parent and exits. Never returns.
[[noreturn]] void report_child_failure(int error_fd, const ChildStep& step);

}  // namespace stacksync::jail
