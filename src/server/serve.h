// `stacksync serve`: parses the configuration, builds the sandboxed executor, listens and serves.
// When an isolation layer is missing (and --allow-weaker-isolation was not given) it fails closed
// but stays observable: a CRITICAL log line, then /healthz and /execute answer 503 with the
// reason and /metrics works; no script ever runs. --exit-on-startup-failure exits 3 instead.
//
//   // argv[0] is "serve"
//   return stacksync::server::serve_main(argc, argv, STACKSYNC_VERSION);
//
// Exit codes: 0 after a clean shutdown or --help, 1 when the port cannot be bound, 2 on a usage
// error, 3 when the sandbox cannot be set up and --exit-on-startup-failure was given.
#pragma once

#include <string_view>

namespace stacksync::server {

int serve_main(int argc, char** argv, std::string_view version);

}  // namespace stacksync::server
