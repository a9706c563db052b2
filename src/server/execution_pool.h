// ExecutionPool: admission control for script executions. A fixed set of worker threads (separate
// from the I/O threads, so a 5 s script never stalls a socket) takes jobs from a bounded FIFO
// queue. At most `workers` jobs run at once and at most `queue_capacity` wait; past that,
// try_submit() refuses and the caller answers 503.
//
//   ExecutionPool pool(4, 16);
//   if (!pool.try_submit([](std::chrono::microseconds queue_wait) { run_script(); }))
//     answer_overloaded();
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stacksync::server {

class ExecutionPool {
 public:
  // The job learns how long it waited in the queue.
  using Job = std::function<void(std::chrono::microseconds queue_wait)>;

  ExecutionPool(int workers, int queue_capacity);
  ~ExecutionPool();
  ExecutionPool(const ExecutionPool&) = delete;
  ExecutionPool& operator=(const ExecutionPool&) = delete;

  // False when `workers` jobs are running and `queue_capacity` are waiting.
  bool try_submit(Job job);

  // Drops the jobs still waiting (they never run) and joins the workers once their running jobs
  // return. Idempotent.
  void stop();

  struct Load {
    std::size_t running = 0;
    std::size_t waiting = 0;
  };
  Load load() const;

  int workers() const { return worker_count_; }
  int queue_capacity() const { return queue_capacity_; }

 private:
  struct Entry {
    Job job;
    std::chrono::steady_clock::time_point admitted;
  };
  void work();

  const int worker_count_;
  const int queue_capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Entry> waiting_;  // guarded by mutex_
  std::size_t running_ = 0;    // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace stacksync::server
