#include "server/execution_pool.h"

#include <cassert>

namespace stacksync::server {

ExecutionPool::ExecutionPool(int workers, int queue_capacity)
    : worker_count_(workers), queue_capacity_(queue_capacity) {
  assert(workers > 0 && queue_capacity >= 0);
  threads_.reserve(static_cast<std::size_t>(workers));
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

ExecutionPool::~ExecutionPool() {
  stop();
}

bool ExecutionPool::try_submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    // Admitted = running + waiting, counted together so that a job finishing and the next one
    // being picked up never lets more than workers + queue_capacity in.
    std::size_t admitted = running_ + waiting_.size();
    if (stopping_ || admitted >= static_cast<std::size_t>(worker_count_) +
                                     static_cast<std::size_t>(queue_capacity_))
      return false;
    waiting_.push_back(Entry{std::move(job), std::chrono::steady_clock::now()});
  }
  wake_.notify_one();
  return true;
}

void ExecutionPool::work() {
  for (;;) {
    Entry entry;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      entry = std::move(waiting_.front());
      waiting_.pop_front();
      ++running_;
    }
    auto waited = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - entry.admitted);
    // Jobs catch their own exceptions (they own the response); this is the last line of defence
    // against a worker thread dying with std::terminate.
    try {
      entry.job(waited);
    } catch (...) {
    }
    entry.job = nullptr;  // release what the job holds before counting it as done
    std::lock_guard lock(mutex_);
    --running_;
  }
}

void ExecutionPool::stop() {
  std::deque<Entry> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(waiting_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads_)
    if (thread.joinable()) thread.join();
  // `dropped` is destroyed here, outside the lock.
}

ExecutionPool::Load ExecutionPool::load() const {
  std::lock_guard lock(mutex_);
  return Load{running_, waiting_.size()};
}

}  // namespace stacksync::server
