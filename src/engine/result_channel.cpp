#include "engine/result_channel.h"

#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <utility>

namespace stacksync::engine {
namespace {

constexpr std::size_t kMaxMessageBytes = 4096;
constexpr std::size_t kMaxTracebackBytes = 64 * 1024;

void set_invalid(Outcome& outcome, std::string why) {
  outcome.error = ErrorType::invalid_result;
  outcome.message = "the result channel carried an invalid frame: " + std::move(why);
  outcome.result_json.clear();
  outcome.details.clear();
}

std::string bounded_string(const boost::json::value* v, std::size_t limit) {
  if (v == nullptr || !v->is_string()) return {};
  std::string s(v->as_string());
  if (s.size() > limit) {
    // Cut between characters: back up over continuation bytes (the parser already checked the
    // string is valid UTF-8).
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

// The error types a script may report about itself. timeout, memory (by OOM kill),
// sandbox_error and invalid_result are decided by the supervisor alone.
constexpr std::array<std::pair<std::string_view, ErrorType>, 8> kScriptErrors = {{
    {"missing_main", ErrorType::missing_main},
    {"main_not_callable", ErrorType::main_not_callable},
    {"syntax_error", ErrorType::syntax_error},
    {"runtime_error", ErrorType::runtime_error},
    {"not_serializable", ErrorType::not_serializable},
    {"result_too_large", ErrorType::result_too_large},
    {"exited", ErrorType::exited},
    {"memory_limit", ErrorType::memory_limit},
}};

// Boost.JSON turns a number too large for a double (1e400, 0e999) into an infinity or a NaN,
// which it cannot serialize back as JSON. Only frames that are re-serialized (not the harness's
// own shape, so written by the script itself) are checked.
bool all_numbers_finite(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const auto& item : value.get_array())
        if (!all_numbers_finite(item)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& member : value.get_object())
        if (!all_numbers_finite(member.value())) return false;
      return true;
    default:
      return true;
  }
}

}  // namespace

void decode_result_frame(std::string_view frame, const Limits& limits, Outcome& outcome) {
  if (frame.empty()) return set_invalid(outcome, "empty");
  if (frame.size() > limits.result_bytes + 4096) return set_invalid(outcome, "too large");
  boost::json::parse_options options;
  options.max_depth = Limits::kMaxResultDepth + 8;
  boost::json::error_code ec;
  // The harness writes successes as {"ok":true,"result":<value>}: validate <value> alone and keep
  // its text, so numbers keep Python's formatting and nothing is encoded twice.
  constexpr std::string_view kSuccessPrefix = "{\"ok\":true,\"result\":";
  if (frame.starts_with(kSuccessPrefix) && frame.ends_with('}')) {
    std::string_view value = frame.substr(kSuccessPrefix.size());
    value.remove_suffix(1);
    boost::json::monotonic_resource scratch;
    // Kept as text, so an integer beyond double range (Python's 10**400) keeps its digits.
    (void)boost::json::parse(value, ec, &scratch, options);
    if (!ec) {
      outcome.error = ErrorType::none;
      outcome.message.clear();
      outcome.result_json.assign(value);
      return;
    }
    ec.clear();
  }
  boost::json::value parsed = boost::json::parse(frame, ec, {}, options);
  if (ec) return set_invalid(outcome, "not JSON (" + ec.message() + ")");
  if (!parsed.is_object()) return set_invalid(outcome, "not an object");
  if (!all_numbers_finite(parsed)) return set_invalid(outcome, "a number out of range");
  boost::json::object& object = parsed.as_object();
  const boost::json::value* ok = object.if_contains("ok");
  if (ok == nullptr || !ok->is_bool()) return set_invalid(outcome, "no boolean \"ok\"");

  if (ok->as_bool()) {
    const boost::json::value* result = object.if_contains("result");
    if (result == nullptr) return set_invalid(outcome, "success without \"result\"");
    outcome.error = ErrorType::none;
    outcome.message.clear();
    outcome.result_json = boost::json::serialize(*result);
    return;
  }

  const boost::json::value* type = object.if_contains("type");
  if (type == nullptr || !type->is_string()) return set_invalid(outcome, "error without \"type\"");
  ErrorType error = ErrorType::sandbox_error;
  bool known = false;
  for (const auto& [name, value] : kScriptErrors)
    if (type->as_string() == name) {
      error = value;
      known = true;
    }
  if (!known) return set_invalid(outcome, "unknown error type");

  outcome.error = error;
  outcome.message = bounded_string(object.if_contains("message"), kMaxMessageBytes);
  outcome.details.clear();
  // Copy only the documented, type-specific fields, with their types checked.
  auto copy_int = [&](const char* key) {
    if (const auto* v = object.if_contains(key); v != nullptr && v->is_int64())
      outcome.details[key] = v->as_int64();
  };
  auto copy_string = [&](const char* key, std::size_t limit) {
    if (const auto* v = object.if_contains(key); v != nullptr && v->is_string())
      outcome.details[key] = bounded_string(v, limit);
  };
  switch (error) {
    case ErrorType::syntax_error:
      copy_int("line");
      copy_int("column");
      break;
    case ErrorType::runtime_error:
      copy_string("exception", 256);
      copy_string("traceback", kMaxTracebackBytes);
      break;
    case ErrorType::not_serializable:
      copy_string("path", 1024);
      copy_string("value_type", 256);
      break;
    case ErrorType::result_too_large:
      copy_int("size_bytes");
      outcome.details["limit_bytes"] = limits.result_bytes;
      break;
    case ErrorType::exited:
      copy_int("exit_code");
      break;
    case ErrorType::memory_limit:
      outcome.details["limit_mib"] = limits.memory_bytes >> 20;
      outcome.message = "the script ran out of memory (MemoryError); the limit is " +
                        std::to_string(limits.memory_bytes >> 20) + " MiB";
      break;
    default:
      break;
  }
  if (outcome.message.empty()) outcome.message = std::string(error_type_name(error));
}

}  // namespace stacksync::engine
