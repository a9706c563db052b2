#include "server/reply.h"

#include <boost/json/serialize.hpp>

namespace stacksync::server {

Reply error_reply(boost::beast::http::status status, std::string_view type,
                  std::string_view message, std::string_view request_id,
                  boost::json::object extra) {
  boost::json::object body;
  body["error"] = message;
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
