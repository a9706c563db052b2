// Reply: what a handler decided to answer, before it becomes HTTP bytes. Carries what the
// request log line needs (error type, queue wait, run time) next to the status and JSON body.
#pragma once

#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "server/json_log.h"

namespace stacksync::server {

// Error types of the service itself; the script's own error types come from the engine.
namespace service_error {
inline constexpr std::string_view invalid_request = "invalid_request";
inline constexpr std::string_view not_found = "not_found";
inline constexpr std::string_view method_not_allowed = "method_not_allowed";
inline constexpr std::string_view payload_too_large = "payload_too_large";
inline constexpr std::string_view headers_too_large = "headers_too_large";
inline constexpr std::string_view unsupported_media_type = "unsupported_media_type";
inline constexpr std::string_view overloaded = "overloaded";
inline constexpr std::string_view unavailable = "unavailable";
inline constexpr std::string_view internal = "internal";
}  // namespace service_error

struct Reply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string body;  // serialized JSON, unless content_type says otherwise
  std::string content_type = "application/json";
  std::string error_type;                  // empty on success; for the log line
  std::optional<std::string> allow;        // 405
  std::optional<int> retry_after_seconds;  // 503
  bool close_connection = false;

  // For the log line.
  Severity severity = Severity::info;
  std::string log_detail;  // our own failures, in words; never sent to the client
  std::optional<std::chrono::microseconds> queue_wait;
  std::optional<std::chrono::microseconds> run_time;
};

// {"error": message, "type": type, "requestId": id, ...extra}
Reply error_reply(boost::beast::http::status status, std::string_view type,
                  std::string_view message, std::string_view request_id,
                  boost::json::object extra = {});

}  // namespace stacksync::server
