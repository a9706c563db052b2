// Request ids: the client's X-Request-Id when it is safe to echo and log, else a fresh one.
//
//   std::string id = server::choose_request_id(request[http::field::x_request_id] ...);
#pragma once

#include <string>
#include <string_view>

namespace stacksync::server {

// 1 to 128 characters of [A-Za-z0-9._:-]: nothing that could split a header or a log line.
bool is_acceptable_request_id(std::string_view candidate);

// 32 random hex digits.
std::string generate_request_id();

// The client's id if acceptable, else a generated one.
std::string choose_request_id(std::string_view from_client);

}  // namespace stacksync::server
