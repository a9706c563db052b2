// Cgroups: a memory and pids limit per sandbox, as a delegated subtree below the cgroup the
// service runs in (read from /proc/self/cgroup), never elsewhere in the host's hierarchy.
// cgroup v2 (unified) is preferred; v1 (memory + pids controllers) is the fallback.
//
//   auto tree = jail::CgroupTree::create();            // once, at startup; fails closed
//   auto run = tree->create_run({512 << 20, 64});      // per sandbox
//   run->attach(child_pid);  ... run->oom_killed(); ... run->destroy();
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace stacksync::jail {

enum class CgroupVersion { v1, v2 };

struct CgroupLimits {
  std::uint64_t memory_bytes = 512ull << 20;
  int pids = 64;
};

// One sandbox's cgroup (v2: one directory; v1: one per controller). Destroying it kills what is
// left inside and removes the directories.
class RunCgroup {
 public:
  RunCgroup(CgroupVersion version, std::vector<std::string> dirs, UniqueFd v2_dir);
  RunCgroup(RunCgroup&&) = default;
  RunCgroup& operator=(RunCgroup&&) = default;
  ~RunCgroup();

  Status attach(pid_t pid) const;
  // v2: a directory fd for clone3(CLONE_INTO_CGROUP); -1 on v1.
  int clone_into_fd() const { return v2_dir_.get(); }
  // Paths of the cgroup.procs files to write a pid into (one per hierarchy).
  std::vector<std::string> procs_files() const;
  bool oom_killed() const;
  // The memory limit was reached at least once (allocation failed or had to reclaim).
  bool memory_limit_hit() const;
  std::uint64_t peak_memory_bytes() const;
  // SIGKILLs every process inside (v2: cgroup.kill; v1: each pid listed, repeatedly).
  void kill_all() const;
  // Kills every process left inside, then removes the directories. Idempotent.
  Status destroy();

 private:
  CgroupVersion version_;
  std::vector<std::string> dirs_;
  UniqueFd v2_dir_;
};

class CgroupTree {
 public:
  // Detects the version, creates this service's parent directories and (v2) moves the service
  // into a leaf so that controllers can be enabled for its children.
  static Result<std::unique_ptr<CgroupTree>> create();
  ~CgroupTree();

  CgroupVersion version() const { return version_; }
  Result<RunCgroup> create_run(const CgroupLimits& limits);
  // The directories runs are created in, for logs and /healthz.
  const std::vector<std::string>& parents() const { return parents_; }

 private:
  CgroupTree(CgroupVersion version, std::vector<std::string> parents);
  CgroupVersion version_;
  std::vector<std::string> parents_;  // v2: one; v1: memory, pids
  std::atomic<std::uint64_t> next_run_{0};
};

}  // namespace stacksync::jail
