// The body of POST /execute: `{"script": "<python source>"}`. Everything wrong with it is the
// client's mistake, reported as a value (400 invalid_request) that says what is wrong.
//
//   auto script = server::parse_execute_body(request.body());
//   if (!script) reply_400(script.error().message);
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace stacksync::server {

Result<std::string> parse_execute_body(std::string_view body);

// Content-Type of an /execute request: absent, or application/json with any parameters
// (charset=utf-8, ...), compared case-insensitively.
bool is_acceptable_content_type(std::string_view header_value);

}  // namespace stacksync::server
