// Seccomp: the syscall filter for untrusted code. Built once with libseccomp in the parent and
// exported as a BPF program; a child installs it with one prctl, no allocation.
//
//   auto filter = jail::build_seccomp_filter();          // once, at startup
//   ChildStep s = jail::install_seccomp_filter(*filter); // in the child, last before execve
//
// Policy: default allow, with a denylist at least as strong as Docker's default profile plus
// isolate's additions. Denied calls fail with EPERM; clone3 fails with ENOSYS so libc falls back
// to clone, whose flags the filter can inspect.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "base/result.h"
#include "jail/child_failure.h"

namespace stacksync::jail {

struct SeccompFilter {
  std::vector<sock_filter> program;
};

Result<SeccompFilter> build_seccomp_filter();

// Requires no_new_privs (or CAP_SYS_ADMIN). Async-signal-safe.
ChildStep install_seccomp_filter(const SeccompFilter& filter);

}  // namespace stacksync::jail
