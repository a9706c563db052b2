#include "server/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>

#include "server/request_id.h"
#include "server/route.h"

namespace stacksync::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kFirstReadSize = 4096;
constexpr auto kLingerTime = std::chrono::seconds(2);

// Milliseconds with microsecond precision: 12.345.
double to_milliseconds(std::chrono::microseconds duration) {
  return static_cast<double>(duration.count()) / 1000.0;
}

// Cloud Logging's httpRequest.latency is a Duration: "0.123456s".
std::string to_duration_string(std::chrono::microseconds duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6fs", static_cast<double>(duration.count()) / 1e6);
  return text;
}

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

}  // namespace

void SessionRegistry::add(const std::shared_ptr<HttpSession>& session) {
  std::lock_guard lock(mutex_);
  sessions_[session.get()] = session;
}

void SessionRegistry::remove(const HttpSession* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionRegistry::drain_all() {
  std::vector<std::weak_ptr<HttpSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    for (const auto& entry : sessions_) sessions.push_back(entry.second);
  }
  for (const auto& weak : sessions)
    if (auto session = weak.lock()) session->drain();
}

HttpSession::HttpSession(asio::ip::tcp::socket&& socket, SessionContext context)
    : stream_(std::move(socket)), context_(context) {
  beast::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  remote_ip_ = ec ? "" : endpoint.address().to_string();
}

HttpSession::~HttpSession() {
  context_.registry.remove(this);
}

void HttpSession::start() {
  context_.registry.add(shared_from_this());
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&HttpSession::wait_for_request, shared_from_this()));
}

void HttpSession::drain() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->drain_requested_ = true;
    // Between requests: nothing is in flight, close now. Otherwise the response says
    // "Connection: close" and on_write closes.
    if (self->phase_ == Phase::idle) self->stream_.cancel();
  });
}

void HttpSession::wait_for_request() {
  if (drain_requested_ || context_.service.draining()) return close();
  phase_ = Phase::idle;
  parser_.reset();
  request_bytes_ = 0;
  request_id_.clear();
  method_ = "-";
  target_ = "-";
  user_agent_.clear();
  request_keep_alive_ = false;
  request_version_ = 11;
  request_is_head_ = false;
  unread_input_ = false;
  reply_ = Reply{};

  if (buffer_.size() > 0) {  // a pipelined request is already here
    request_started_ = std::chrono::steady_clock::now();
    return read_header();
  }
  // The idle (keep-alive) wait is separate from the header deadline, which starts at the
  // request's first byte.
  stream_.expires_after(context_.config.idle_timeout);
  stream_.async_read_some(
      buffer_.prepare(kFirstReadSize),
      beast::bind_front_handler(&HttpSession::on_first_bytes, shared_from_this()));
}

void HttpSession::on_first_bytes(beast::error_code ec, std::size_t bytes) {
  if (ec) return close();  // client closed, idle timeout, or drain: no request was lost
  buffer_.commit(bytes);
  request_started_ = std::chrono::steady_clock::now();
  read_header();
}

void HttpSession::read_header() {
  phase_ = Phase::reading;
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(context_.config.body_limit);
  stream_.expires_after(context_.config.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::remember_request_line() {
  const auto& request = parser_->get();
  method_ = std::string(request.method_string());
  target_ = std::string(request.target());
  user_agent_ = std::string(request[http::field::user_agent]);
  request_id_ = choose_request_id(request["X-Request-Id"]);
  request_keep_alive_ = request.keep_alive();
  request_version_ = request.version();
  request_is_head_ = request.method() == http::verb::head;
}

void HttpSession::on_header(beast::error_code ec, std::size_t bytes) {
  request_bytes_ += bytes;
  // Beast refuses a Content-Length over the body limit itself, once every field is parsed: the
  // request is known (its id, its route for the log and the metrics), so remember it before
  // answering 413. (The parser is not "header done" then: content_length() must not be asked.)
  if (ec == http::error::body_limit) {
    remember_request_line();
    return on_read_error(ec, "reading the request headers");
  }
  if (ec) return on_read_error(ec, "reading the request headers");
  remember_request_line();
  const auto& request = parser_->get();

  boost::optional<std::uint64_t> length = parser_->content_length();
  if (length && *length > context_.config.body_limit) {
    // Known too large from the headers alone: answer without reading a byte of the body.
    unread_input_ = true;
    return send(error_reply(http::status::payload_too_large, service_error::payload_too_large,
                            "request body of " + std::to_string(*length) +
                                " bytes exceeds the limit of " +
                                std::to_string(context_.config.body_limit) + " bytes",
                            request_id_, {{"limitBytes", context_.config.body_limit}}));
  }

  if (beast::iequals(request[http::field::expect], "100-continue") && !parser_->is_done()) {
    continue_.emplace(http::status::continue_, request.version());
    stream_.expires_after(context_.config.write_timeout);
    return http::async_write(stream_, *continue_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->continue_.reset();
                               if (ec) return self->close();
                               self->read_body();
                             });
  }
  read_body();
}

void HttpSession::read_body() {
  stream_.expires_after(context_.config.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_body, shared_from_this()));
}

void HttpSession::on_body(beast::error_code ec, std::size_t bytes) {
  request_bytes_ += bytes;
  if (ec) return on_read_error(ec, "reading the request body");
  dispatch_request();
}

void HttpSession::on_read_error(beast::error_code ec, std::string_view while_doing) {
  if (request_id_.empty()) request_id_ = generate_request_id();
  if (ec == http::error::body_limit) {
    unread_input_ = true;
    return send(error_reply(http::status::payload_too_large, service_error::payload_too_large,
                            "request body exceeds the limit of " +
                                std::to_string(context_.config.body_limit) + " bytes",
                            request_id_, {{"limitBytes", context_.config.body_limit}}));
  }
  if (ec == http::error::header_limit) {
    unread_input_ = true;
    return send(error_reply(
        http::status::request_header_fields_too_large, service_error::headers_too_large,
        "request headers exceed " + std::to_string(kHeaderLimit) + " bytes", request_id_));
  }
  if (ec == beast::error::timeout) {
    // A slow client: drop it without an answer (writing to it could be just as slow).
    log_line(
        Severity::warning, "connection closed: timeout " + std::string(while_doing),
        {{"requestId", request_id_}, {"remoteIp", remote_ip_}, {"errorType", "client_timeout"}});
    return close();
  }
  // end_of_stream and partial_message: the client closed mid-request; nobody is left to answer.
  if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
      is_http_parse_error(ec)) {
    unread_input_ = true;
    return send(error_reply(http::status::bad_request, service_error::invalid_request,
                            "malformed HTTP request: " + ec.message(), request_id_));
  }
  close();
}

void HttpSession::dispatch_request() {
  phase_ = Phase::handling;
  stream_.expires_never();  // the execution has its own limit; the client just waits
  Service::Completion done = [self = shared_from_this()](Reply reply) {
    asio::post(self->stream_.get_executor(),
               [self, reply = std::move(reply)]() mutable { self->send(std::move(reply)); });
  };
  try {
    context_.service.handle(parser_->release(), request_id_, std::move(done));
  } catch (const std::exception& failure) {
    // Before the completion was handed on (e.g. bad_alloc): answer here, once.
    Reply reply = error_reply(http::status::internal_server_error, service_error::internal,
                              "internal error", request_id_);
    reply.log_detail = std::string("exception: ") + failure.what();
    send(std::move(reply));
  }
}

void HttpSession::send(Reply reply) {
  reply_ = std::move(reply);
  // Counted before the first byte leaves, so that a client who has its answer and then scrapes
  // /metrics always finds its request counted.
  context_.service.metrics().count_request(route_label(route_of(target_)),
                                           static_cast<int>(reply_.status), reply_.error_type);
  bool keep_alive = request_keep_alive_ && !reply_.close_connection && !unread_input_ &&
                    !drain_requested_ && !context_.service.draining();
  response_.emplace(reply_.status, request_version_);
  auto& response = *response_;
  response.set(http::field::server, "stacksync/" + context_.service.version());
  response.set(http::field::content_type, reply_.content_type);
  response.set(http::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Request-Id", request_id_);
  if (reply_.allow) response.set(http::field::allow, *reply_.allow);
  if (reply_.retry_after_seconds)
    response.set(http::field::retry_after, std::to_string(*reply_.retry_after_seconds));
  response.keep_alive(keep_alive);
  if (request_is_head_) {
    // A HEAD answer has the headers of the GET answer and no body, whatever the route: a body
    // here would be read as the start of the next response on this connection.
    response.content_length(reply_.body.size());
  } else {
    response.body() = std::move(reply_.body);
    response.prepare_payload();
  }

  phase_ = Phase::writing;
  stream_.expires_after(context_.config.write_timeout);
  http::async_write(stream_, response,
                    beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
}

void HttpSession::on_write(beast::error_code ec, std::size_t bytes) {
  log_request(bytes, static_cast<bool>(ec));
  bool keep_alive = response_->keep_alive();
  response_.reset();
  if (ec) return close();
  if (!keep_alive) return linger_then_close();
  wait_for_request();
}

void HttpSession::log_request(std::size_t response_bytes, bool write_failed) {
  auto duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - request_started_);
  int status = static_cast<int>(reply_.status);
  boost::json::object http_request{
      {"requestMethod", method_},
      {"requestUrl", target_},
      {"status", status},
      {"requestSize", std::to_string(request_bytes_)},
      {"responseSize", std::to_string(response_bytes)},
      {"userAgent", user_agent_},
      {"remoteIp", remote_ip_},
      {"latency", to_duration_string(duration)},
      {"protocol", "HTTP/1.1"},
  };
  boost::json::object fields{
      {"requestId", request_id_},
      {"status", status},
      {"errorType", reply_.error_type.empty() ? boost::json::value(nullptr)
                                              : boost::json::value(reply_.error_type)},
      {"durationMs", to_milliseconds(duration)},
      {"queueWaitMs", reply_.queue_wait ? boost::json::value(to_milliseconds(*reply_.queue_wait))
                                        : boost::json::value(nullptr)},
      {"runMs", reply_.run_time ? boost::json::value(to_milliseconds(*reply_.run_time))
                                : boost::json::value(nullptr)},
      {"httpRequest", std::move(http_request)},
  };
  if (!reply_.log_detail.empty()) fields["detail"] = reply_.log_detail;
  if (write_failed) fields["writeFailed"] = true;
  log_line(reply_.severity, method_ + " " + target_ + " " + std::to_string(status),
           std::move(fields));
}

void HttpSession::close() {
  phase_ = Phase::closing;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void HttpSession::linger_then_close() {
  phase_ = Phase::closing;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLingerTime);
  stream_.async_read_some(
      asio::buffer(discard_),
      beast::bind_front_handler(&HttpSession::on_linger_read, shared_from_this()));
}

void HttpSession::on_linger_read(beast::error_code ec, std::size_t) {
  if (ec) return close();  // the client closed too (or the linger time is up)
  stream_.async_read_some(
      asio::buffer(discard_),
      beast::bind_front_handler(&HttpSession::on_linger_read, shared_from_this()));
}

}  // namespace stacksync::server
