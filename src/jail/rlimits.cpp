#include "jail/rlimits.h"

#include <sys/resource.h>

namespace stacksync::jail {
namespace {

bool set_limit(int resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  return ::setrlimit(resource, &limit) == 0;
}

}  // namespace

ChildStep apply_rlimits(const Rlimits& limits) {
  // The soft CPU limit delivers SIGXCPU; one second later the hard limit kills.
  if (!set_limit(RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1))
    return child_error("rlimits", "RLIMIT_CPU");
  if (!set_limit(RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes))
    return child_error("rlimits", "RLIMIT_FSIZE");
  if (!set_limit(RLIMIT_NOFILE, limits.open_files, limits.open_files))
    return child_error("rlimits", "RLIMIT_NOFILE");
  if (!set_limit(RLIMIT_CORE, 0, 0)) return child_error("rlimits", "RLIMIT_CORE");
  if (!set_limit(RLIMIT_STACK, limits.stack_bytes, limits.stack_bytes))
    return child_error("rlimits", "RLIMIT_STACK");
  if (!set_limit(RLIMIT_MEMLOCK, 0, 0)) return child_error("rlimits", "RLIMIT_MEMLOCK");
  return {};
}

}  // namespace stacksync::jail
