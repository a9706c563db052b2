// Mounts: the sandbox's root filesystem. The parent plans it (allocations, stat calls); the child
// applies the plan with syscalls only, then pivots into it and detaches the host's root.
//
//   auto plan = jail::plan_root_filesystem(options);   // in the parent
//   ...clone...
//   ChildStep s = jail::apply_root_filesystem(*plan);  // in the child, new mount namespace
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "jail/child_failure.h"

namespace stacksync::jail {

struct RootFsOptions {
  // Host directories bound read-only, nosuid, nodev at the same path.
  std::vector<std::string> read_only_dirs = {"/usr", "/etc/alternatives", "/etc/python3",
                                             "/etc/python3.11", "/etc/ssl/certs"};
  // Host files bound read-only at the same path (missing ones are skipped).
  std::vector<std::string> read_only_files = {"/etc/ld.so.cache", "/etc/localtime",
                                              "/etc/nsswitch.conf", "/etc/mime.types"};
  // Top-level links of a merged-/usr system (/bin -> usr/bin); bound read-only where they are
  // real directories instead.
  std::vector<std::string> top_level_links = {"/bin",   "/sbin",  "/lib",
                                              "/lib32", "/lib64", "/libx32"};
  std::vector<std::string> devices = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"};
  unsigned long long tmp_bytes = 64ull << 20;
  unsigned sandbox_uid = 65534;
  unsigned sandbox_gid = 65534;
  bool mount_proc = true;
};

struct MountStep {
  enum class Kind { make_dir, make_file, bind, remount, tmpfs, proc, symlink, write_file };
  Kind kind;
  std::string source;   // bind source, symlink target, or file contents
  std::string target;   // absolute path below the staging directory
  std::string fs_data;  // mount data for tmpfs
  unsigned long flags = 0;
};

struct MountPlan {
  std::string staging;  // where the new root is assembled inside the child's mount namespace
  std::vector<MountStep> steps;
};

Result<MountPlan> plan_root_filesystem(const RootFsOptions& options);

// In the child (new user + mount namespace, before dropping capabilities): builds the root,
// pivot_roots into it, detaches the old root and makes the new root read-only.
ChildStep apply_root_filesystem(const MountPlan& plan);

// In a child that already lives in a sandbox root (warm mode): a fresh private /tmp and a fresh
// /proc for its new pid namespace, in its own new mount namespace.
ChildStep remount_private_tmp_and_proc(const char* tmpfs_data);

}  // namespace stacksync::jail
