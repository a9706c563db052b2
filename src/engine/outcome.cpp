#include "engine/outcome.h"

#include <boost/json/serialize.hpp>

namespace stacksync::engine {

std::string_view error_type_name(ErrorType type) {
  switch (type) {
    case ErrorType::none:
      return "none";
    case ErrorType::missing_main:
      return "missing_main";
    case ErrorType::main_not_callable:
      return "main_not_callable";
    case ErrorType::syntax_error:
      return "syntax_error";
    case ErrorType::runtime_error:
      return "runtime_error";
    case ErrorType::not_serializable:
      return "not_serializable";
    case ErrorType::result_too_large:
      return "result_too_large";
    case ErrorType::invalid_result:
      return "invalid_result";
    case ErrorType::timeout:
      return "timeout";
    case ErrorType::memory_limit:
      return "memory_limit";
    case ErrorType::exited:
      return "exited";
    case ErrorType::sandbox_error:
      return "sandbox_error";
  }
  return "unknown";
}

std::string to_valid_utf8(std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    }
    bool valid = len > 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
    for (std::size_t k = 2; valid && k < len; ++k) valid = p[i + k] >= 0x80 && p[i + k] <= 0xBF;
    if (valid) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  return out;
}

std::string render_outcome(const Outcome& outcome, const boost::json::object& extra) {
  boost::json::object fields;
  if (!outcome.ok()) {
    fields["error"] = outcome.message;
    fields["type"] = error_type_name(outcome.error);
  }
  fields["stdout"] = to_valid_utf8(outcome.stdout_bytes);
  fields["stderr"] = to_valid_utf8(outcome.stderr_bytes);
  if (outcome.stdout_truncated) fields["stdout_truncated"] = true;
  if (outcome.stderr_truncated) fields["stderr_truncated"] = true;
  if (!outcome.ok())
    for (const auto& field : outcome.details) fields[field.key()] = field.value();
  for (const auto& field : extra) fields[field.key()] = field.value();

  // {"result":<raw>,"stdout":...}: the object's text without its opening brace follows the result.
  std::string rest = boost::json::serialize(fields);
  if (!outcome.ok()) return rest;
  std::string text;
  text.reserve(outcome.result_json.size() + rest.size() + 16);
  text.append("{\"result\":").append(outcome.result_json).append(",").append(rest, 1);
  return text;
}

}  // namespace stacksync::engine

namespace stacksync::engine {
Outcome sandbox_error_outcome(std::string_view message) {
  Outcome outcome;
  outcome.error = ErrorType::sandbox_error;
  outcome.message = "the sandbox is unavailable: " + std::string(message);
  // Startup errors name their layer first: "cgroup v1: ...", "seccomp: ...", "zygote ...".
  const std::size_t end = message.find_first_of(" :(");
  outcome.details["layer"] =
      message.substr(0, end == std::string_view::npos ? message.size() : end);
  return outcome;
}
}  // namespace stacksync::engine
