// User namespace identity: the parent maps one sandbox uid/gid to one host uid/gid; the child
// then drops the host root's supplementary groups and becomes that uid.
#pragma once

#include <sys/types.h>

#include "base/result.h"
#include "jail/child_failure.h"

namespace stacksync::jail {

struct IdentityMap {
  unsigned sandbox_uid = 65534;
  unsigned sandbox_gid = 65534;
  unsigned host_uid = 65534;
  unsigned host_gid = 65534;
};

// In the parent, after clone(CLONE_NEWUSER) and before releasing the child.
Status write_identity_map(pid_t child, const IdentityMap& map);

// In the child, after the parent wrote the map, while it still holds CAP_SETUID/CAP_SETGID in its
// namespace. Clears supplementary groups (the host root's would otherwise stay) and sets the ids.
ChildStep become_sandbox_user(unsigned uid, unsigned gid);

}  // namespace stacksync::jail
