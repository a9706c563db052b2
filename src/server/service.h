// Service: the HTTP API, independent of sockets. Routes a parsed request to its handler and
// produces a Reply: GET /healthz answers at once; GET /metrics is rendered on the scrape worker
// (reading the engine's counters may wait for its lock, never on an I/O thread); POST /execute
// validates the body, then runs the script on the ExecutionPool and answers from the worker.
//
// Without an executor (the sandbox could not be set up at startup) the service fails closed but
// stays observable: /healthz and /execute answer 503 with the reason, /metrics works, and no
// script ever runs.
//
//   Service service(executor, "", pool, scrape_pool, "0.1.0", config);
//   service.handle(std::move(request), request_id, [](Reply reply) { send(reply); });
#pragma once

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "engine/executor.h"
#include "server/config.h"
#include "server/execution_pool.h"
#include "server/metrics.h"
#include "server/reply.h"

namespace stacksync::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

class Service {
 public:
  // Called exactly once per request: synchronously for most routes, from a worker thread for
  // an execution or a scrape.
  using Completion = std::function<void(Reply)>;

  // `executor` null: the sandbox could not be set up, and `startup_failure` says why.
  // `scrapes` runs /metrics renderings (one worker is plenty).
  Service(engine::Executor* executor, std::string startup_failure, ExecutionPool& executions,
          ExecutionPool& scrapes, std::string version, const ServerConfig& config);

  void handle(Request&& request, const std::string& request_id, Completion done);

  // Once draining, /healthz answers 503 so that load balancers stop sending work.
  void set_draining() { draining_ = true; }
  bool draining() const { return draining_; }

  // Empty when scripts can run (/healthz 200); else the reason, as /healthz and /metrics say it.
  std::string unavailable_reason() const;

  const std::string& version() const { return version_; }
  ServiceMetrics& metrics() { return metrics_; }

 private:
  void handle_execute(Request&& request, const std::string& request_id, Completion done);
  void handle_metrics(const std::string& request_id, Completion done);
  Reply handle_health(const std::string& request_id) const;
  Reply render_metrics_reply();
  Reply reply_for_outcome(const engine::Outcome& outcome, const std::string& request_id);
  bool can_run_scripts() const;
  engine::Mode mode() const;

  engine::Executor* const executor_;  // null: startup failed, see startup_failure_
  const std::string startup_failure_;
  ExecutionPool& executions_;
  ExecutionPool& scrapes_;
  const std::string version_;
  const ServerConfig& config_;
  ServiceMetrics metrics_;  // thread-safe on its own
  std::atomic<bool> draining_{false};
  // Executions in a row that ended in sandbox_error: the jail is broken, not one script.
  std::atomic<int> consecutive_sandbox_failures_{0};
};

// The isolation layers in force, as logged at startup and shown by /healthz.
boost::json::object isolation_to_json(const engine::IsolationReport& report);
boost::json::object limits_to_json(const engine::Limits& limits);

}  // namespace stacksync::server
