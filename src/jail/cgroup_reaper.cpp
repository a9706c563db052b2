#include "jail/cgroup_reaper.h"

namespace stacksync::jail {

CgroupReaper::CgroupReaper() : thread_([this] { loop(); }) {}

CgroupReaper::~CgroupReaper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void CgroupReaper::dispose(RunCgroup cgroup) {
  cgroup.kill_all();  // nothing of the run may go on while it waits in the queue
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(cgroup));
  }
  wake_.notify_one();
}

void CgroupReaper::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void CgroupReaper::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    RunCgroup cgroup = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    (void)cgroup.destroy();
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace stacksync::jail
