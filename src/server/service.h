// Service: the HTTP API, independent of sockets. Routes a parsed request to its handler and
// produces a Reply: GET /healthz answers at once; POST /execute validates the body, then runs
// the script on the ExecutionPool (never on an I/O thread) and answers from the worker.
//
//   Service service(executor, pool, "0.1.0", config);
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
#include "server/reply.h"

namespace stacksync::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

class Service {
 public:
  // Called exactly once per request: synchronously for most routes, from a worker thread for
  // an execution.
  using Completion = std::function<void(Reply)>;

  Service(engine::Executor& executor, ExecutionPool& pool, std::string version,
          const ServerConfig& config);

  void handle(Request&& request, const std::string& request_id, Completion done);

  // Once draining, /healthz answers 503 so that load balancers stop sending work.
  void set_draining() { draining_ = true; }
  bool draining() const { return draining_; }

  const std::string& version() const { return version_; }

 private:
  void handle_execute(Request&& request, const std::string& request_id, Completion done);
  Reply handle_health(const std::string& request_id) const;
  Reply reply_for_outcome(const engine::Outcome& outcome, const std::string& request_id);
  bool can_run_scripts() const;

  engine::Executor& executor_;
  ExecutionPool& pool_;
  const std::string version_;
  const ServerConfig& config_;
  std::atomic<bool> draining_{false};
  // Executions in a row that ended in sandbox_error: the jail is broken, not one script.
  std::atomic<int> consecutive_sandbox_failures_{0};
};

// The isolation layers in force, as logged at startup and shown by /healthz.
boost::json::object isolation_to_json(const engine::IsolationReport& report);
boost::json::object limits_to_json(const engine::Limits& limits);

}  // namespace stacksync::server
