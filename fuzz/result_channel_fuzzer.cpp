// The result channel carries bytes written by the script's own process, so a hostile script
// controls all of them. Whatever arrives, decode_result_frame must yield an outcome the service can
// answer with: only the error types a script may claim, a success whose result is valid JSON, and a
// rendered body (what the client receives) that is one valid JSON object agreeing with the outcome.
#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/limits.h"
#include "engine/outcome.h"
#include "engine/result_channel.h"
#include "fuzz_support.h"

namespace {

using stacksync::engine::ErrorType;

// The script-claimable types (see the harness); timeout, sandbox_error and the rest are the
// supervisor's to decide, and invalid_result is what a bad frame becomes.
constexpr std::array kScriptClaimableErrors = {
    ErrorType::missing_main,  ErrorType::main_not_callable, ErrorType::syntax_error,
    ErrorType::runtime_error, ErrorType::not_serializable,  ErrorType::result_too_large,
    ErrorType::exited,        ErrorType::memory_limit,
};

constexpr std::string_view kInvalidPrefix = "the result channel carried an invalid frame: ";

// Strict JSON as a client would parse it, deep enough for any result the decoder may accept.
boost::json::value parse_strictly(std::string_view text, boost::system::error_code& ec) {
  boost::json::parse_options options;
  options.max_depth = 10000;
  return boost::json::parse(text, ec, {}, options);
}

bool is_string_equal_to(const boost::json::value* value, std::string_view text) {
  return value != nullptr && value->is_string() && value->as_string() == text;
}

bool is_claimable(ErrorType error) {
  return std::find(kScriptClaimableErrors.begin(), kScriptClaimableErrors.end(), error) !=
         kScriptClaimableErrors.end();
}

// The documented details of each type, with the JSON kind each must have.
bool detail_is_documented(ErrorType error, std::string_view key, const boost::json::value& value) {
  auto is = [&](std::string_view name, bool kind_ok) { return key == name && kind_ok; };
  switch (error) {
    case ErrorType::syntax_error:
      return is("line", value.is_int64()) || is("column", value.is_int64());
    case ErrorType::runtime_error:
      return is("exception", value.is_string()) || is("traceback", value.is_string());
    case ErrorType::not_serializable:
      return is("path", value.is_string()) || is("value_type", value.is_string());
    case ErrorType::result_too_large:
      return is("size_bytes", value.is_int64()) || is("limit_bytes", value.is_number());
    case ErrorType::exited:
      return is("exit_code", value.is_int64());
    case ErrorType::memory_limit:
      return is("limit_mib", value.is_number());
    default:
      return false;
  }
}

// Value equality for parses of the same text. Boost.JSON 1.81 reads numbers imprecisely (the same
// digits can land one or two ulps apart depending on where they sit in the buffer) and reads some
// finite texts (0e400) as NaN, so doubles are equal when close or both NaN.
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.as_double(), y = b.as_double();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    // A number at the very top of the double range can read as infinity in one place and as
    // DBL_MAX in another.
    if (std::isinf(x) || std::isinf(y))
      return x == y || (std::signbit(x) == std::signbit(y) &&
                        std::min(std::fabs(x), std::fabs(y)) >= 0.9999999999999 * DBL_MAX);
    return std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return a == b;  // int64 1 and uint64 1 are equal, say
  if (a.is_array()) {
    const auto &left = a.as_array(), &right = b.as_array();
    return left.size() == right.size() &&
           std::equal(left.begin(), left.end(), right.begin(), same_json);
  }
  if (a.is_object()) {
    const auto &left = a.as_object(), &right = b.as_object();
    if (left.size() != right.size()) return false;
    for (const auto& member : left) {
      const boost::json::value* other = right.if_contains(member.key());
      if (other == nullptr || !same_json(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::size_t string_detail_limit(std::string_view key) {
  if (key == "traceback") return 64 * 1024;
  if (key == "path") return 1024;
  return 256;  // exception, value_type
}

// A string longer than its limit is cut and marked with "...". The cut must fall between
// characters: what is left is the start of the script's own text, not a U+FFFD where a character
// was split in two.
void check_bounded_copy(std::string_view original, std::string_view copy, std::size_t limit) {
  if (original.size() <= limit) {
    FUZZ_CHECK(copy == original, "a string within its limit is copied unchanged");
    return;
  }
  FUZZ_CHECK(copy.size() <= limit + 3 && copy.ends_with("..."), "a long string is cut and marked");
  FUZZ_CHECK(original.starts_with(copy.substr(0, copy.size() - 3)),
             "a long string is cut between characters, keeping the start of its text");
  FUZZ_CHECK(stacksync::fuzz::is_valid_utf8(copy), "a cut never splits a character");
  FUZZ_CHECK(copy.size() + 3 >= limit, "a cut keeps all but the last character's bytes");
}

void check_decoded(std::string_view frame, const stacksync::engine::Outcome& outcome) {
  boost::system::error_code ec;
  if (outcome.ok()) {
    FUZZ_CHECK(outcome.message.empty(), "a success has no message");
    FUZZ_CHECK(!outcome.result_json.empty(), "a success has a result");
    boost::json::value result = parse_strictly(outcome.result_json, ec);
    FUZZ_CHECK(!ec, "result_json is valid JSON");
    // The frame as a whole must really be a success carrying this very result.
    boost::json::value whole = parse_strictly(frame, ec);
    FUZZ_CHECK(!ec && whole.is_object(), "a success frame is a JSON object");
    const boost::json::value* ok = whole.as_object().if_contains("ok");
    FUZZ_CHECK(ok != nullptr && ok->is_bool() && ok->as_bool(), "a success frame says ok:true");
    const boost::json::value* claimed = whole.as_object().if_contains("result");
    FUZZ_CHECK(claimed != nullptr && same_json(*claimed, result),
               "result_json is the frame's result");
    return;
  }
  FUZZ_CHECK(outcome.result_json.empty(), "an error carries no result");
  FUZZ_CHECK(!outcome.message.empty(), "an error has a message");
  FUZZ_CHECK(stacksync::fuzz::is_valid_utf8(outcome.message), "the message is valid UTF-8");
  if (outcome.error == ErrorType::invalid_result) {
    FUZZ_CHECK(outcome.message.starts_with(kInvalidPrefix), "invalid_result says why");
    FUZZ_CHECK(outcome.details.empty(), "invalid_result has no details");
    return;
  }
  FUZZ_CHECK(is_claimable(outcome.error), "only script-claimable error types come from a frame");
  boost::json::value whole = parse_strictly(frame, ec);
  FUZZ_CHECK(!ec && whole.is_object(), "an error frame is a JSON object");
  const boost::json::object& fields = whole.as_object();
  FUZZ_CHECK(is_string_equal_to(fields.if_contains("type"),
                                stacksync::engine::error_type_name(outcome.error)),
             "the error type is the one the frame named");
  if (outcome.error != ErrorType::memory_limit) {  // memory_limit has a message of our own
    const boost::json::value* message = fields.if_contains("message");
    if (message != nullptr && message->is_string() && !message->as_string().empty())
      check_bounded_copy(message->as_string(), outcome.message, 4096);
    else
      FUZZ_CHECK(outcome.message == stacksync::engine::error_type_name(outcome.error),
                 "without a message of its own, an error is named by its type");
  }
  for (const auto& detail : outcome.details) {
    FUZZ_CHECK(detail_is_documented(outcome.error, detail.key(), detail.value()),
               "only documented details, of the documented kind");
    if (detail.value().is_string()) {
      const boost::json::value* original = fields.if_contains(detail.key());
      FUZZ_CHECK(original != nullptr && original->is_string(),
                 "a string detail comes from the frame");
      check_bounded_copy(original->as_string(), detail.value().as_string(),
                         string_detail_limit(detail.key()));
    }
  }
}

void check_rendered(const stacksync::engine::Outcome& outcome, std::string_view rendered) {
  boost::system::error_code ec;
  boost::json::value body = parse_strictly(rendered, ec);
  FUZZ_CHECK(!ec, "the rendered body is valid JSON");
  FUZZ_CHECK(body.is_object(), "the rendered body is an object");
  const boost::json::object& fields = body.as_object();
  const boost::json::value* stdout_text = fields.if_contains("stdout");
  FUZZ_CHECK(
      is_string_equal_to(stdout_text, stacksync::engine::to_valid_utf8(outcome.stdout_bytes)),
      "stdout is the script's output, made valid UTF-8");
  const boost::json::value* request_id = fields.if_contains("requestId");
  FUZZ_CHECK(is_string_equal_to(request_id, "fuzz-request"), "extra fields are kept");
  if (outcome.ok()) {
    // Spliced in as the harness wrote it: Python's number formatting survives byte for byte.
    FUZZ_CHECK(rendered.starts_with("{\"result\":" + outcome.result_json + ","),
               "the result text is spliced in unchanged");
    const boost::json::value* result = fields.if_contains("result");
    FUZZ_CHECK(result != nullptr && same_json(*result, parse_strictly(outcome.result_json, ec)),
               "the rendered result is the decoded one");
    FUZZ_CHECK(!fields.contains("error") && !fields.contains("type"), "a success has no error");
  } else {
    const boost::json::value* error = fields.if_contains("error");
    const boost::json::value* type = fields.if_contains("type");
    FUZZ_CHECK(is_string_equal_to(error, outcome.message), "the error message is rendered");
    FUZZ_CHECK(is_string_equal_to(type, stacksync::engine::error_type_name(outcome.error)),
               "the error type is rendered");
    FUZZ_CHECK(!fields.contains("result"), "an error has no result");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  stacksync::engine::Outcome outcome;
  outcome.error = ErrorType::sandbox_error;  // the decoder must overwrite it in every case
  stacksync::engine::decode_result_frame(frame, stacksync::engine::Limits{}, outcome);
  FUZZ_CHECK(outcome.error != ErrorType::sandbox_error, "every frame gets an outcome");
  check_decoded(frame, outcome);

  // The same script also controls its stdout; reuse the bytes so rendering sees hostile output.
  outcome.stdout_bytes.assign(frame);
  outcome.stderr_bytes.assign(frame.substr(frame.size() / 2));
  outcome.stdout_truncated = size % 2 == 1;
  const std::string rendered =
      stacksync::engine::render_outcome(outcome, {{"requestId", "fuzz-request"}});
  check_rendered(outcome, rendered);
  return 0;
}
