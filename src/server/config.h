// ServerConfig: everything `stacksync serve` can be told, from flags and environment variables.
// Flags win over the environment; the environment wins over the defaults.
//
//   auto parsed = server::parse_server_config(args, server::read_environment);
//   if (!parsed) { print(parsed.error().message); return 2; }
//   if (parsed->show_help) { print(server::usage_text()); return 0; }
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/executor.h"

namespace stacksync::server {

struct ServerConfig {
  std::string host = "0.0.0.0";
  unsigned short port = 8080;  // 0 asks the kernel for a free port (tests)
  int max_concurrency = 1;     // executions at once; the default is the number of CPUs
  int queue_size = 4;          // admitted requests waiting for an execution slot
  int io_threads = 1;
  std::size_t max_connections = 1024;
  std::uint64_t body_limit = 1ull << 20;
  // Keep-alive: waiting for the next request. Longer than the 600 s keep-alive of Google's front
  // ends, so that the proxy closes idle connections, never us under a request already on its way.
  std::chrono::milliseconds idle_timeout{620'000};
  std::chrono::milliseconds header_timeout{10'000};  // first byte to end of headers
  std::chrono::milliseconds body_timeout{30'000};    // end of headers to end of body
  std::chrono::milliseconds write_timeout{30'000};   // a client that does not read its answer
  std::chrono::milliseconds drain_timeout{10'000};   // SIGTERM: time to finish in-flight work
  engine::ExecutorConfig executor;
  // When the sandbox cannot be set up: exit 3 (true), or serve /healthz 503, /execute 503 and
  // /metrics so that the failure is observable (false, the default). Never runs a script either
  // way.
  bool exit_on_startup_failure = false;
  bool show_help = false;
};

// Looks up one environment variable; empty when unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> read_environment(const char* name);

// args excludes the word "serve". Errors name the flag or variable and what was wrong with it.
Result<ServerConfig> parse_server_config(const std::vector<std::string_view>& args,
                                         const EnvironmentLookup& environment);

std::string usage_text();

std::string_view mode_name(engine::Mode mode);

}  // namespace stacksync::server
