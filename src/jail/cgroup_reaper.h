// CgroupReaper: removes finished runs' cgroups on a background thread, so a request's answer
// does not wait for the kernel to tear down the sandbox's processes. Everything handed over is
// killed at once and removed as soon as it is empty; the destructor finishes the queue.
//
//   jail::CgroupReaper reaper;
//   reaper.dispose(std::move(run_cgroup));
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "jail/cgroups.h"

namespace stacksync::jail {

class CgroupReaper {
 public:
  CgroupReaper();
  ~CgroupReaper();
  CgroupReaper(const CgroupReaper&) = delete;
  CgroupReaper& operator=(const CgroupReaper&) = delete;

  void dispose(RunCgroup cgroup);
  // Blocks until everything handed over so far is removed (tests, shutdown).
  void flush();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<RunCgroup> queue_;  // guarded by mutex_
  bool busy_ = false;            // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_
  std::thread thread_;
};

}  // namespace stacksync::jail
