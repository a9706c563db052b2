#include "server/service.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <exception>

#include "engine/outcome.h"
#include "server/execute_request.h"
#include "server/route.h"

namespace stacksync::server {
namespace {

namespace http = boost::beast::http;

// A few sandbox failures in a row mean the jail itself is broken (cgroups gone, fds exhausted):
// /healthz then says so, so that the platform replaces this instance.
constexpr int kSandboxFailuresBeforeUnhealthy = 3;

std::chrono::microseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

}  // namespace

boost::json::object isolation_to_json(const engine::IsolationReport& report) {
  return {
      {"namespaces", report.namespaces}, {"cgroupVersion", report.cgroup_version},
      {"seccomp", report.seccomp},       {"memoryLimit", report.memory_limit},
      {"pidsLimit", report.pids_limit},  {"weakened", report.weakened},
      {"notes", report.notes},
  };
}

boost::json::object limits_to_json(const engine::Limits& limits) {
  return {
      {"wallMs", limits.wall_ms},
      {"memoryMiB", limits.memory_bytes >> 20},
      {"pids", limits.pids},
      {"tmpfsMiB", limits.tmpfs_bytes >> 20},
      {"outputBytes", limits.output_bytes},
      {"resultBytes", limits.result_bytes},
  };
}

Service::Service(engine::Executor* executor, std::string startup_failure, ExecutionPool& executions,
                 ExecutionPool& scrapes, std::string version, const ServerConfig& config)
    : executor_(executor),
      // Never empty without an executor: an empty reason would read as healthy.
      startup_failure_(executor == nullptr && startup_failure.empty()
                           ? std::string("the sandbox could not be set up")
                           : std::move(startup_failure)),
      executions_(executions),
      scrapes_(scrapes),
      version_(std::move(version)),
      config_(config) {}

void Service::handle(Request&& request, const std::string& request_id, Completion done) {
  const http::verb method = request.method();
  switch (route_of(request.target())) {
    case Route::execute:
      if (method != http::verb::post) {
        Reply reply =
            error_reply(http::status::method_not_allowed, service_error::method_not_allowed,
                        "/execute accepts POST only", request_id);
        reply.allow = "POST";
        return done(std::move(reply));
      }
      return handle_execute(std::move(request), request_id, std::move(done));
    case Route::healthz:
      if (method != http::verb::get && method != http::verb::head) {
        Reply reply =
            error_reply(http::status::method_not_allowed, service_error::method_not_allowed,
                        "/healthz accepts GET and HEAD only", request_id);
        reply.allow = "GET, HEAD";
        return done(std::move(reply));
      }
      return done(handle_health(request_id));
    case Route::metrics:
      if (method != http::verb::get && method != http::verb::head) {
        Reply reply =
            error_reply(http::status::method_not_allowed, service_error::method_not_allowed,
                        "/metrics accepts GET and HEAD only", request_id);
        reply.allow = "GET, HEAD";
        return done(std::move(reply));
      }
      return handle_metrics(request_id, std::move(done));
    case Route::unknown:
      break;
  }
  return done(error_reply(http::status::not_found, service_error::not_found,
                          "no such endpoint: " + std::string(request.target()) +
                              " (the API is POST /execute, GET /healthz and GET /metrics)",
                          request_id));
}

void Service::handle_execute(Request&& request, const std::string& request_id, Completion done) {
  if (executor_ == nullptr) {
    // Fail closed: whatever the body, nothing runs without the sandbox.
    return done(error_reply(http::status::service_unavailable, service_error::unavailable,
                            startup_failure_, request_id));
  }
  auto content_type = request.find(http::field::content_type);
  if (content_type != request.end() && !is_acceptable_content_type(content_type->value())) {
    return done(error_reply(
        http::status::unsupported_media_type, service_error::unsupported_media_type,
        "Content-Type must be application/json, got '" + std::string(content_type->value()) + "'",
        request_id));
  }
  Result<std::string> script = parse_execute_body(request.body());
  if (!script) {
    return done(error_reply(http::status::bad_request, service_error::invalid_request,
                            script.error().message, request_id));
  }
  request.body().clear();
  request.body().shrink_to_fit();  // the script lives on in the job; do not hold it twice

  bool admitted = executions_.try_submit(
      [this, script = std::move(*script), request_id, done](std::chrono::microseconds queue_wait) {
        metrics_.observe_queue_wait(queue_wait);
        auto started = std::chrono::steady_clock::now();
        Reply reply;
        try {
          engine::Outcome outcome = executor_->run(script);
          reply = reply_for_outcome(outcome, request_id);
        } catch (const std::exception& failure) {
          reply = error_reply(http::status::internal_server_error, service_error::internal,
                              "internal error while running the script", request_id);
          reply.log_detail = std::string("exception: ") + failure.what();
        } catch (...) {
          reply = error_reply(http::status::internal_server_error, service_error::internal,
                              "internal error while running the script", request_id);
          reply.log_detail = "unknown exception";
        }
        reply.queue_wait = queue_wait;
        reply.run_time = elapsed_since(started);
        metrics_.observe_execution(*reply.run_time);
        done(std::move(reply));
      });
  if (!admitted) {
    Reply reply =
        error_reply(http::status::service_unavailable, service_error::overloaded,
                    "server is at capacity (" + std::to_string(executions_.workers()) +
                        " executions running, " + std::to_string(executions_.queue_capacity()) +
                        " queued); retry later",
                    request_id);
    reply.retry_after_seconds = 1;
    reply.severity = Severity::warning;
    done(std::move(reply));
  }
}

Reply Service::reply_for_outcome(const engine::Outcome& outcome, const std::string& request_id) {
  Reply reply;
  reply.error_type = outcome.ok() ? "" : std::string(engine::error_type_name(outcome.error));
  if (outcome.error == engine::ErrorType::sandbox_error) {
    // Our jail failed, not the script: a 5xx, with an id to find the log line by.
    reply.body = engine::render_outcome(outcome, {{"requestId", request_id}});
    reply.status = http::status::internal_server_error;
    reply.severity = Severity::error;
    reply.log_detail = outcome.message;
    ++consecutive_sandbox_failures_;
  } else {
    reply.body = engine::render_outcome(outcome);
    reply.status = outcome.ok() ? http::status::ok : http::status::bad_request;
    consecutive_sandbox_failures_ = 0;
  }
  return reply;
}

bool Service::can_run_scripts() const {
  return consecutive_sandbox_failures_.load() < kSandboxFailuresBeforeUnhealthy;
}

std::string Service::unavailable_reason() const {
  if (executor_ == nullptr) return startup_failure_;
  if (draining_) return "shutting down";
  if (!can_run_scripts())
    return "the sandbox failed " + std::to_string(consecutive_sandbox_failures_.load()) +
           " executions in a row";
  return "";
}

engine::Mode Service::mode() const {
  return executor_ != nullptr ? executor_->mode() : config_.executor.mode;
}

Reply Service::handle_health(const std::string& request_id) const {
  ExecutionPool::Load load = executions_.load();
  const std::string unavailable_because = unavailable_reason();
  boost::json::object body;
  body["status"] = unavailable_because.empty() ? "ok" : "unavailable";
  if (!unavailable_because.empty()) {
    body["reason"] = unavailable_because;
    body["error"] = unavailable_because;  // the field every other error answer has
    body["type"] = service_error::unavailable;
    body["requestId"] = request_id;
  }
  body["version"] = version_;
  body["mode"] = mode_name(mode());
  if (executor_ != nullptr) {
    body["isolation"] = isolation_to_json(executor_->isolation());
  } else {
    // No sandbox exists, so no layer is in force.
    engine::IsolationReport none;
    none.cgroup_version = "none";
    none.notes = "no sandbox: " + startup_failure_;
    body["isolation"] = isolation_to_json(none);
  }
  body["limits"] = limits_to_json(config_.executor.limits);
  body["load"] = {{"running", load.running},
                  {"waiting", load.waiting},
                  {"maxConcurrency", executions_.workers()},
                  {"queueSize", executions_.queue_capacity()}};

  Reply reply;
  reply.body = boost::json::serialize(body);
  if (!unavailable_because.empty()) {
    reply.status = http::status::service_unavailable;
    reply.error_type = std::string(service_error::unavailable);
    reply.severity = Severity::warning;
  }
  return reply;
}

void Service::handle_metrics(const std::string& request_id, Completion done) {
  bool admitted = scrapes_.try_submit([this, request_id, done](std::chrono::microseconds) {
    Reply reply;
    try {
      reply = render_metrics_reply();
    } catch (const std::exception& failure) {
      reply = error_reply(http::status::internal_server_error, service_error::internal,
                          "internal error while rendering the metrics", request_id);
      reply.log_detail = std::string("exception: ") + failure.what();
    }
    done(std::move(reply));
  });
  if (!admitted) {
    Reply reply = error_reply(http::status::service_unavailable, service_error::overloaded,
                              "too many /metrics requests at once; retry later", request_id);
    reply.retry_after_seconds = 1;
    reply.severity = Severity::warning;
    done(std::move(reply));
  }
}

Reply Service::render_metrics_reply() {
  MetricsSnapshot snapshot;
  snapshot.version = version_;
  snapshot.mode = std::string(mode_name(mode()));
  snapshot.unavailable_reason = unavailable_reason();
  snapshot.requests = metrics_.requests();
  snapshot.execution = metrics_.execution();
  snapshot.queue_wait = metrics_.queue_wait();
  ExecutionPool::Load load = executions_.load();
  snapshot.executions_running = load.running;
  snapshot.executions_waiting = load.waiting;
  snapshot.execution_slots = executions_.workers();
  snapshot.queue_capacity = executions_.queue_capacity();
  if (executor_ != nullptr) snapshot.engine = executor_->stats();
  snapshot.process = read_process_stats();

  Reply reply;
  reply.body = render_metrics(snapshot);
  reply.content_type = std::string(kMetricsContentType);
  return reply;
}

}  // namespace stacksync::server
