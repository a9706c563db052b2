// Capabilities: the child ends with none — empty bounding, ambient, effective, permitted and
// inheritable sets — and with no_new_privs, so no execve can give any back.
#pragma once

#include "jail/child_failure.h"

namespace stacksync::jail {

// While CAP_SETPCAP is still held: empties the bounding and ambient sets.
ChildStep drop_bounding_set();
// After the last privileged step: empties the remaining sets and sets no_new_privs.
ChildStep drop_all_capabilities();

// For the warm-mode zygote only: keeps CAP_SYS_ADMIN and CAP_SETPCAP (to build each request's
// namespaces and drop them again) across execve as a non-root uid, through the ambient set;
// every other capability leaves the bounding set.
ChildStep keep_zygote_capabilities();

}  // namespace stacksync::jail
