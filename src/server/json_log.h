// Structured logs: one JSON object per line on stderr, in the shape Google Cloud Logging reads
// (severity, message, httpRequest{...}); any other field lands in jsonPayload.
//
//   server::log_line(server::Severity::info, "listening", {{"port", 8080}});
//   -> {"severity": "INFO", "message": "listening", "time": "...", "port": 8080}
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace stacksync::server {

enum class Severity { debug, info, warning, error, critical };

std::string_view severity_name(Severity severity);

// One line of JSON with ", " and ": " separators (`"port": 8080`), so that both people and
// `grep '"port": '` can read it.
std::string to_spaced_json(const boost::json::value& value);

// Writes {"severity", "message", "time", ...fields} as one line; safe from any thread.
void log_line(Severity severity, std::string_view message, boost::json::object fields = {});

}  // namespace stacksync::server
