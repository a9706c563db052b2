#include "server/server.h"

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "server/json_log.h"

namespace stacksync::server {
namespace {

namespace asio = boost::asio;

constexpr auto kDrainPollInterval = std::chrono::milliseconds(25);
constexpr auto kStopGrace = std::chrono::seconds(15);
// A scrape is a few microseconds of work: one thread and a short queue serve any Prometheus.
constexpr int kScrapeWorkers = 1;
constexpr int kScrapeQueue = 8;

}  // namespace

Server::Server(const ServerConfig& config, engine::Executor* executor, std::string version,
               std::string startup_failure)
    : config_(config),
      pool_(config.max_concurrency, config.queue_size),
      scrape_pool_(kScrapeWorkers, kScrapeQueue),
      service_(executor, std::move(startup_failure), pool_, scrape_pool_, std::move(version),
               config),
      io_(config.io_threads),
      signals_(io_, SIGTERM, SIGINT),
      drain_timer_(io_),
      listener_(std::make_shared<Listener>(io_, SessionContext{config_, service_, registry_})) {}

Server::~Server() {
  // Jobs still queued hold sessions, whose sockets need the io_context: drop them first.
  pool_.stop();
  scrape_pool_.stop();
}

Result<boost::asio::ip::tcp::endpoint> Server::listen() {
  return listener_->bind(config_.host, config_.port);
}

int Server::run() {
  listener_->start();
  wait_for_signal();

  std::vector<std::thread> extra_io_threads;
  for (int i = 1; i < config_.io_threads; ++i)
    extra_io_threads.emplace_back([this] { run_io_loop(); });
  run_io_loop();
  for (std::thread& thread : extra_io_threads) thread.join();

  // Executions still running finish (each is bounded by the script time limit) so that their
  // sandboxes are cleaned up; queued ones are dropped.
  ExecutionPool::Load left = pool_.load();
  stop_pools_or_exit();
  log_line(Severity::info, "stopped",
           {{"abandonedRunning", left.running}, {"abandonedQueued", left.waiting}});
  return 0;
}

void Server::stop_pools_or_exit() {
  // A running execution ends within its time limit (plus sandbox setup and cleanup). Should the
  // engine ever hang past that, a terminated instance must still go away.
  const auto bound = std::chrono::milliseconds(config_.executor.limits.wall_ms) + kStopGrace;
  std::mutex mutex;
  std::condition_variable stopped_changed;
  bool stopped = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    if (!stopped_changed.wait_for(lock, bound, [&] { return stopped; })) {
      log_line(Severity::critical, "executions did not finish after shutdown; exiting without them",
               {{"waitedMs", bound.count()}});
      std::_Exit(1);
    }
  });
  pool_.stop();
  scrape_pool_.stop();
  {
    std::lock_guard lock(mutex);
    stopped = true;
  }
  stopped_changed.notify_one();
  watchdog.join();
}

void Server::run_io_loop() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& failure) {
      // A handler threw: a bug, but one connection's bug must not take down the others.
      log_line(Severity::error, "exception escaped an I/O handler",
               {{"errorType", "internal"}, {"detail", failure.what()}});
    }
  }
}

void Server::wait_for_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int signal_number) {
    if (ec) return;
    if (draining_) {
      log_line(Severity::warning, "second signal: stopping without waiting for in-flight work",
               {{"signal", signal_number}});
      io_.stop();
      return;
    }
    log_line(Severity::info, "signal received: draining", {{"signal", signal_number}});
    begin_drain();
    wait_for_signal();
  });
}

void Server::begin_drain() {
  draining_ = true;
  service_.set_draining();
  listener_->stop([this] { asio::post(io_, [this] { finish_drain_setup(); }); });
}

void Server::finish_drain_setup() {
  registry_.drain_all();
  ExecutionPool::Load load = pool_.load();
  log_line(Severity::info, "draining",
           {{"connections", registry_.size()},
            {"running", load.running},
            {"waiting", load.waiting},
            {"drainTimeoutMs", config_.drain_timeout.count()}});
  drain_deadline_ = std::chrono::steady_clock::now() + config_.drain_timeout;
  poll_drain();
}

void Server::poll_drain() {
  ExecutionPool::Load load = pool_.load();
  std::size_t connections = registry_.size();
  if (connections == 0 && load.running == 0 && load.waiting == 0) {
    log_line(Severity::info, "drained");
    io_.stop();
    return;
  }
  if (std::chrono::steady_clock::now() >= drain_deadline_) {
    log_line(Severity::warning, "drain timeout: closing what is left",
             {{"connections", connections}, {"running", load.running}, {"waiting", load.waiting}});
    io_.stop();
    return;
  }
  drain_timer_.expires_after(kDrainPollInterval);
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll_drain();
  });
}

}  // namespace stacksync::server
