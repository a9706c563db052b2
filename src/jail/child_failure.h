// ChildFailure: how a sandbox child that failed during setup tells its parent which layer
// failed. Written to a close-on-exec pipe; an empty read (EOF) means execve succeeded.
// Everything here is async-signal-safe: it runs between clone and execve.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace stacksync::jail {

struct ChildFailure {
  char layer[32] = {};    // "mounts", "seccomp", ... — the isolation layer
  char detail[224] = {};  // the step and its path, e.g. "pivot_root /tmp"
  int err = 0;            // errno of the failed syscall
};

// A failed step inside the child: which layer, which step, and the errno.
struct ChildStep {
  const char* layer = nullptr;
  const char* step = nullptr;
  const char* path = nullptr;
  int err = 0;
  bool failed() const { return layer != nullptr; }
};

inline ChildStep child_error(const char* layer, const char* step, const char* path = nullptr) {
  return ChildStep{layer, step, path, errno};
}

// Copies a C string into a fixed buffer without allocating.
inline void copy_bounded(char* out, std::size_t size, const char* in) {
  std::size_t i = 0;
  for (; in != nullptr && in[i] != '\0' && i + 1 < size; ++i) out[i] = in[i];
  out[i] = '\0';
}

}  // namespace stacksync::jail
