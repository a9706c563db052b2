// Resource limits the kernel enforces per process: CPU time, file size, open files, no cores.
#pragma once

#include "jail/child_failure.h"

namespace stacksync::jail {

struct Rlimits {
  unsigned long cpu_seconds = 10;
  unsigned long file_bytes = 64ul << 20;
  unsigned long open_files = 256;
  unsigned long stack_bytes = 8ul << 20;
};

// In the child; async-signal-safe.
ChildStep apply_rlimits(const Rlimits& limits);

}  // namespace stacksync::jail
