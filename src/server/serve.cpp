#include "server/serve.h"

#include <csignal>
#include <cstdio>
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

  auto executor = engine::make_executor(config->executor);
  if (!executor) {
    boost::json::object fields{{"errorType", "sandbox_error"}, {"config", config_to_json(*config)}};
    if (!config->executor.allow_weaker_isolation)
      fields["hint"] =
          "if an isolation layer is missing on this machine, --allow-weaker-isolation runs "
          "without it (an explicit operator choice, never the default)";
    log_line(
        Severity::critical,
        "cannot start, failing closed: the sandbox is unavailable: " + executor.error().message,
        std::move(fields));
    return kExitSandboxUnavailable;
  }
  engine::IsolationReport isolation = (*executor)->isolation();
  if (isolation.weakened) {
    log_line(Severity::warning,
             "WEAKER ISOLATION IN USE: the operator allowed running without every sandbox layer",
             {{"isolation", isolation_to_json(isolation)}});
  }

  Server server(*config, **executor, std::string(version));
  auto endpoint = server.listen();
  if (!endpoint) {
    log_line(Severity::critical, "cannot start: " + endpoint.error().message,
             {{"errorType", "bind"}});
    return kExitBindFailed;
  }
  log_line(Severity::info,
           "stacksync " + std::string(version) + " listening on " +
               endpoint->address().to_string() + ":" + std::to_string(endpoint->port()),
           {{"port", endpoint->port()},
            {"version", version},
            {"mode", mode_name((*executor)->mode())},
            {"config", config_to_json(*config)},
            {"isolation", isolation_to_json(isolation)}});
  return server.run();
}

}  // namespace stacksync::server
