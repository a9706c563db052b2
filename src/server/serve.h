// `stacksync serve`: parses the configuration, builds the sandboxed executor (failing closed
// when an isolation layer is missing, unless --allow-weaker-isolation), listens and serves.
//
//   // argv[0] is "serve"
//   return stacksync::server::serve_main(argc, argv, STACKSYNC_VERSION);
//
// Exit codes: 0 after a clean shutdown or --help, 1 when the port cannot be bound, 2 on a usage
// error, 3 when the sandbox cannot be set up.
#pragma once

#include <string_view>

namespace stacksync::server {

int serve_main(int argc, char** argv, std::string_view version);

}  // namespace stacksync::server
