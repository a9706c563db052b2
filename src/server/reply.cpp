#include "server/reply.h"

#include <boost/json/serialize.hpp>

#include "engine/outcome.h"

namespace stacksync::server {

Reply error_reply(boost::beast::http::status status, std::string_view type,
                  std::string_view message, std::string_view request_id,
                  boost::json::object extra) {
  boost::json::object body;
  // Messages may quote request bytes (a target, a Content-Type): Boost.JSON would copy invalid
  // UTF-8 through verbatim, so the reply stays valid JSON only if it is repaired first.
  body["error"] = engine::to_valid_utf8(message);
  body["type"] = type;
  body["requestId"] = request_id;
  for (auto& member : extra) body[member.key()] = std::move(member.value());
  Reply reply;
  reply.status = status;
  reply.body = boost::json::serialize(body);
  reply.error_type = std::string(type);
  if (static_cast<int>(status) >= 500) reply.severity = Severity::error;
  return reply;
}

}  // namespace stacksync::server
