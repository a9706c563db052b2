// WarmExecutor: a template interpreter ("zygote") with numpy, pandas and the harness imported
// lives in a sandbox of its own; per request it forks a child that enters fresh pid, mount,
// network, ipc, uts and cgroup namespaces, a private /tmp, the request's cgroup, and drops every
// capability and installs the seccomp filter before the script runs (see harness.py, zygote()).
// Supervision and killing stay here, through the pipes and the request's cgroup.
//
// A zygote that dies is replaced on the next request; a request it was serving is retried once
// on the new one. Zygotes are recycled after ExecutorConfig::zygote_max_forks requests.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/executor.h"
#include "engine/sandbox_factory.h"
#include "jail/cgroup_reaper.h"
#include "jail/cgroups.h"
#include "jail/sandbox.h"

namespace stacksync::engine {

class WarmExecutor final : public Executor {
 public:
  static Result<std::unique_ptr<WarmExecutor>> create(std::unique_ptr<SandboxFactory> factory);
  ~WarmExecutor() override;

  Outcome run(std::string_view script) override;
  IsolationReport isolation() const override { return factory_->report; }
  Mode mode() const override { return Mode::warm; }
  EngineStats stats() const override;

  // For tests and /metrics: the zygote's host pid (-1 if none) and how many were started.
  int zygote_pid() const;
  int zygotes_started() const;

 private:
  struct Zygote {
    jail::Sandbox init;  // the zygote sandbox's pid 1; the zygote is its only child
    std::optional<jail::RunCgroup> cgroup;
    UniqueFd control;
    int forks = 0;
    int unacknowledged = 0;  // requests sent whose ack has not been read yet
    int generation = 0;
  };
  enum class Dispatch { sent, zygote_failed, setup_failed };

  explicit WarmExecutor(std::unique_ptr<SandboxFactory> factory);
  Status start_zygote_locked();
  void stop_zygote_locked();
  bool zygote_alive_locked() const;
  Status collect_acks_locked();
  int zygote_pid_locked() const;
  Outcome run_once(std::string_view script, bool& zygote_died);

  // Replaces a zygote that died between requests (killed, crashed, OOM) without waiting for
  // the next request to notice, and recycles one that grew.
  void watch_zygote();
  bool zygote_grew_locked() const;

  std::unique_ptr<SandboxFactory> factory_;
  jail::CgroupReaper reaper_;   // finished runs' cgroups are removed off the request path
  std::string request_header_;  // tmpfs size and rlimits, passed to the zygote at its start
  mutable std::mutex mutex_;
  std::optional<Zygote> zygote_;  // guarded by mutex_
  // Counters read by stats() without mutex_, which a zygote start holds for up to a minute.
  std::atomic<int> zygotes_started_{0};
  std::atomic<bool> zygote_up_{false};
  long zygote_start_rss_kb_ = 0;  // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::condition_variable stop_;
  std::atomic<std::uint64_t> forks_{0};
  StatsRecorder stats_;
  std::thread watcher_;  // started last, joined first
};

}  // namespace stacksync::engine
