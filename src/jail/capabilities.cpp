#include "jail/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace stacksync::jail {

ChildStep drop_bounding_set() {
  for (int cap = 0; cap <= 63; ++cap) {
    // EINVAL marks the end of the capabilities this kernel knows.
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      return child_error("capabilities", "drop bounding set");
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return child_error("capabilities", "clear ambient set");
  return {};
}

ChildStep drop_all_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) return child_error("capabilities", "capset");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return child_error("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)");
  return {};
}

ChildStep keep_zygote_capabilities() {
  constexpr unsigned kKept[] = {CAP_SYS_ADMIN, CAP_SETPCAP};
  for (int cap = 0; cap <= 63; ++cap) {
    if (cap == CAP_SYS_ADMIN || cap == CAP_SETPCAP) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      return child_error("capabilities", "drop bounding set");
    }
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (unsigned cap : kKept) {
    data[cap / 32].effective |= 1u << (cap % 32);
    data[cap / 32].permitted |= 1u << (cap % 32);
    data[cap / 32].inheritable |= 1u << (cap % 32);
  }
  if (::syscall(SYS_capset, &header, data) != 0) return child_error("capabilities", "capset");
  for (unsigned cap : kKept)
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return child_error("capabilities", "raise ambient");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return child_error("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)");
  return {};
}

}  // namespace stacksync::jail
