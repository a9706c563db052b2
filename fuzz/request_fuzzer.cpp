// POST /execute's input is the client's, so every byte is hostile. One input is used five ways,
// each a piece of the server's request validation:
//   - as the body: parse_execute_body yields a non-empty script or an invalid_request message;
//   - as a Content-Type value: is_acceptable_content_type, checked against its own promises;
//   - as an X-Request-Id: only safe ids are echoed;
//   - as the message of an error reply: the 404 and 415 bodies quote request bytes (the target,
//     the Content-Type), and whatever they quote, the body must stay valid JSON;
//   - as a request target in a log line, and (when it is JSON) as a log field's value.
#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "server/execute_request.h"
#include "server/json_log.h"
#include "server/reply.h"
#include "server/request_id.h"

namespace {

namespace server = stacksync::server;

// What the body means to an ordinary strict JSON parser with the server's depth limit: the script
// when the body is an object whose "script" is a non-empty string, else nothing.
bool expected_script(std::string_view body, std::string& script) {
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(body, ec, {}, options);
  if (ec || !document.is_object()) return false;
  const boost::json::value* field = document.as_object().if_contains("script");
  if (field == nullptr || !field->is_string() || field->as_string().empty()) return false;
  script.assign(field->as_string().data(), field->as_string().size());
  return true;
}

// The reply the client receives must parse and say what the server meant to say.
void check_error_reply(std::string_view message, std::string_view request_id) {
  server::Reply reply =
      server::error_reply(boost::beast::http::status::bad_request,
                          server::service_error::invalid_request, message, request_id);
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(reply.body, ec);
  FUZZ_CHECK(!ec && body.is_object(), "an error reply is a JSON object");
  const boost::json::value* type = body.as_object().if_contains("type");
  FUZZ_CHECK(type != nullptr && type->is_string() && type->as_string() == "invalid_request",
             "the reply names its type");
  const boost::json::value* error = body.as_object().if_contains("error");
  FUZZ_CHECK(error != nullptr && error->is_string(), "the reply has a message");
  if (stacksync::fuzz::is_valid_utf8(message))
    FUZZ_CHECK(error->as_string() == message, "a message that is valid UTF-8 is kept as it is");
}

void check_body(std::string_view body) {
  stacksync::Result<std::string> script = server::parse_execute_body(body);
  std::string expected;
  const bool acceptable = expected_script(body, expected);
  if (script) {
    FUZZ_CHECK(acceptable, "only an object with a non-empty string \"script\" is accepted");
    FUZZ_CHECK(*script == expected, "the script is the body's \"script\" string, unaltered");
    FUZZ_CHECK(stacksync::fuzz::is_valid_utf8(*script), "the script is valid UTF-8");
    return;
  }
  FUZZ_CHECK(!acceptable, "a well-formed request is not refused");
  const std::string& message = script.error().message;
  FUZZ_CHECK(!message.empty(), "invalid_request says what is wrong");
  FUZZ_CHECK(stacksync::fuzz::is_valid_utf8(message), "the message is valid UTF-8");
  check_error_reply(message, "fuzz-request");
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t") == std::string_view::npos;
}

void check_content_type(std::string_view value) {
  const bool accepted = server::is_acceptable_content_type(value);
  std::string upper(value);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  FUZZ_CHECK(server::is_acceptable_content_type(upper) == accepted, "case does not matter");
  if (!accepted || is_blank(value)) return;
  // Accepted and not blank: it names application/json, and parameters do not change that.
  std::string_view media_type = value.substr(value.find_first_not_of(" \t"));
  FUZZ_CHECK(media_type.size() >= 16, "an accepted type is application/json");
  for (std::size_t i = 0; i < 16; ++i)
    FUZZ_CHECK(std::tolower(static_cast<unsigned char>(media_type[i])) ==
                   static_cast<unsigned char>("application/json"[i]),
               "an accepted type is application/json");
  media_type.remove_prefix(16);
  const std::size_t next = media_type.find_first_not_of(" \t");
  FUZZ_CHECK(next == std::string_view::npos || media_type[next] == ';',
             "nothing but parameters follows the media type");
  FUZZ_CHECK(server::is_acceptable_content_type(std::string(value) + "; charset=utf-8"),
             "a parameter keeps an accepted type accepted");
}

void check_request_id(std::string_view candidate) {
  const std::string chosen = server::choose_request_id(candidate);
  FUZZ_CHECK(server::is_acceptable_request_id(chosen), "the chosen id is always acceptable");
  if (!server::is_acceptable_request_id(candidate)) {
    FUZZ_CHECK(chosen != candidate, "an unsafe id is never echoed");
    return;
  }
  FUZZ_CHECK(chosen == candidate, "a safe id is kept");
  FUZZ_CHECK(!candidate.empty() && candidate.size() <= 128, "an id has 1 to 128 characters");
  for (char c : candidate)
    FUZZ_CHECK(
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-',
        "an id cannot split a header or a log line");
}

// The request log line quotes the target ("GET <target> 404", "requestUrl"). It must be one JSON
// object whatever the target holds, or log readers (Cloud Logging, jq) cannot parse it (found by
// this fuzzer: the bytes went out raw; fixed in a6ac99a).
void check_log_line(std::string_view target) {
  const std::string line = server::to_spaced_json(boost::json::object{
      {"message", "GET " + std::string(target) + " 404"}, {"requestUrl", target}});
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(line, ec);
  FUZZ_CHECK(!ec && parsed.is_object(), "a log line is a JSON object");
  const boost::json::value* url = parsed.as_object().if_contains("requestUrl");
  FUZZ_CHECK(url != nullptr && url->is_string(), "the log line keeps its fields");
  if (stacksync::fuzz::is_valid_utf8(target))
    FUZZ_CHECK(url->as_string() == target, "a target that is valid UTF-8 is logged as it is");
}

// Log fields are written with the project's own spaced serializer (numbers in shortest form,
// non-finite ones as null); whatever JSON goes in, JSON must come out.
void check_spaced_json(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, options);
  if (ec) return;
  const std::string spaced = server::to_spaced_json(value);
  options.max_depth = 65;
  boost::json::value reparsed = boost::json::parse(spaced, ec, {}, options);
  FUZZ_CHECK(!ec, "the spaced form of a JSON value is JSON");
  FUZZ_CHECK(reparsed.kind() == value.kind() ||
                 (value.is_number() && (reparsed.is_number() || reparsed.is_null())),
             "the spaced form keeps the value's kind");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_body(input);
  check_content_type(input);
  check_request_id(input);
  // The server quotes request bytes in its error messages ("no such endpoint: <target>",
  // "Content-Type must be application/json, got '<value>'"), so an error reply must be valid JSON
  // whatever its message holds (found by this fuzzer: they went out raw; fixed in 4949091).
  check_error_reply(input, "fuzz-request");
  check_log_line(input);
  check_spaced_json(input);
  return 0;
}
