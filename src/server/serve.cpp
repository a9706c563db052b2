#include "server/serve.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "server/config.h"
#include "server/json_log.h"
#include "server/server.h"
#include "server/service.h"

namespace stacksync::server {
namespace {

constexpr int kExitBindFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSandboxUnavailable = 3;

boost::json::object config_to_json(const ServerConfig& config) {
  return {
      {"host", config.host},
      {"maxConcurrency", config.max_concurrency},
      {"queueSize", config.queue_size},
      {"ioThreads", config.io_threads},
      {"maxConnections", config.max_connections},
      {"bodyLimitBytes", config.body_limit},
      {"idleTimeoutMs", config.idle_timeout.count()},
      {"headerTimeoutMs", config.header_timeout.count()},
      {"bodyTimeoutMs", config.body_timeout.count()},
      {"writeTimeoutMs", config.write_timeout.count()},
      {"drainTimeoutMs", config.drain_timeout.count()},
      {"mode", mode_name(config.executor.mode)},
      {"python", config.executor.python},
      {"allowWeakerIsolation", config.executor.allow_weaker_isolation},
      {"exitOnStartupFailure", config.exit_on_startup_failure},
      {"limits", limits_to_json(config.executor.limits)},
  };
}

}  // namespace

int serve_main(int argc, char** argv, std::string_view version) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);

  Result<ServerConfig> config = parse_server_config(args, read_environment);
  if (!config) {
    std::fprintf(stderr, "stacksync serve: %s\n(see stacksync serve --help)\n",
                 config.error().message.c_str());
    return kExitUsage;
  }
  if (config->show_help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }

  // A client that disconnects, or a sandbox that dies before reading its pipe, must surface as
  // EPIPE on that one write, not kill the server. (The jail resets every signal disposition
  // before exec, so scripts do not inherit this.)
  std::signal(SIGPIPE, SIG_IGN);

  auto made = engine::make_executor(config->executor);
  std::unique_ptr<engine::Executor> executor;
  std::string startup_failure;
  if (made) {
    executor = std::move(*made);
    engine::IsolationReport isolation = executor->isolation();
    if (isolation.weakened) {
      log_line(Severity::warning,
               "WEAKER ISOLATION IN USE: the operator allowed running without every sandbox layer",
               {{"isolation", isolation_to_json(isolation)}});
    }
  } else {
    startup_failure = made.error().message;
    boost::json::object fields{{"errorType", "sandbox_error"},
                               {"reason", startup_failure},
                               {"config", config_to_json(*config)}};
    if (!config->executor.allow_weaker_isolation)
      fields["hint"] =
          "if an isolation layer is missing on this machine, --allow-weaker-isolation runs "
          "without it (an explicit operator choice, never the default)";
    if (config->exit_on_startup_failure) {
      log_line(Severity::critical,
               "cannot start, failing closed: the sandbox is unavailable: " + startup_failure,
               std::move(fields));
      return kExitSandboxUnavailable;
    }
    // Fail closed, but stay up: a platform sees the reason on /healthz and /metrics (and in this
    // line) instead of a restart loop with nothing to scrape.
    log_line(Severity::critical,
             "cannot run scripts, failing closed: the sandbox is unavailable: " + startup_failure +
                 " (serving 503 on /healthz and /execute; /metrics works)",
             std::move(fields));
  }

  Server server(*config, executor.get(), std::string(version), startup_failure);
  auto endpoint = server.listen();
  if (!endpoint) {
    log_line(Severity::critical, "cannot start: " + endpoint.error().message,
             {{"errorType", "bind"}});
    return kExitBindFailed;
  }
  boost::json::object fields{{"port", endpoint->port()},
                             {"version", version},
                             {"mode", mode_name(config->executor.mode)},
                             {"available", executor != nullptr},
                             {"config", config_to_json(*config)}};
  if (executor) {
    fields["isolation"] = isolation_to_json(executor->isolation());
  } else {
    fields["unavailableReason"] = startup_failure;
  }
  log_line(executor ? Severity::info : Severity::warning,
           "stacksync " + std::string(version) + " listening on " +
               endpoint->address().to_string() + ":" + std::to_string(endpoint->port()) +
               (executor ? "" : " (UNAVAILABLE: no script will run)"),
           std::move(fields));
  return server.run();
}

}  // namespace stacksync::server
