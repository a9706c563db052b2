#include "server/execute_request.h"

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <cctype>

namespace stacksync::server {
namespace {

constexpr std::string_view kExpectedShape = R"(expected {"script": "<python source>"})";

std::string_view json_kind_name(boost::json::kind kind) {
  switch (kind) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "unknown";
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

Result<std::string> parse_execute_body(std::string_view body) {
  if (trim(body).empty()) return Error{"request body is empty; " + std::string(kExpectedShape)};

  boost::json::parse_options options;
  options.max_depth = 64;  // the request is one flat object; deep nesting is not a script
  boost::json::parser parser(boost::json::storage_ptr(), options);
  boost::system::error_code ec;
  // write() wants exactly one complete JSON text: truncation and trailing data are errors too.
  std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec)
    return Error{"request body is not valid JSON: " + ec.message() + " at byte " +
                 std::to_string(consumed)};
  boost::json::value document = parser.release();

  if (!document.is_object())
    return Error{"request body must be a JSON object, got " +
                 std::string(json_kind_name(document.kind())) + "; " + std::string(kExpectedShape)};
  const boost::json::object& object = document.get_object();
  const boost::json::value* script = object.if_contains("script");
  if (script == nullptr)
    return Error{"field \"script\" is missing; " + std::string(kExpectedShape)};
  if (!script->is_string())
    return Error{"field \"script\" must be a string, got " +
                 std::string(json_kind_name(script->kind()))};
  const boost::json::string& source = script->get_string();
  if (source.empty()) return Error{"field \"script\" is empty; it must define main()"};
  return std::string(source.data(), source.size());
}

bool is_acceptable_content_type(std::string_view header_value) {
  std::string_view media_type = header_value.substr(0, header_value.find(';'));
  media_type = trim(media_type);
  if (media_type.empty()) return trim(header_value).empty();  // absent or blank: accepted
  return equals_ignoring_case(media_type, "application/json");
}

}  // namespace stacksync::server
