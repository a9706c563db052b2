// HttpSession: one client connection, in the shape of Beast's async server examples:
// wait for a request -> read headers -> (100 Continue) -> read body -> Service -> write -> repeat
// while keep-alive. Every read and write has a deadline on the stream, so a slow or silent client
// holds only its own socket, never a worker. All handlers run on the connection's strand.
//
//   std::make_shared<HttpSession>(std::move(socket), context)->start();
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/config.h"
#include "server/reply.h"
#include "server/service.h"

namespace stacksync::server {

class HttpSession;

// The open connections, so that a drain can close the idle ones and know when all are gone.
class SessionRegistry {
 public:
  void add(const std::shared_ptr<HttpSession>& session);
  void remove(const HttpSession* session);
  std::size_t size() const;
  // Asks every session to finish its current request, if any, and close.
  void drain_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const HttpSession*, std::weak_ptr<HttpSession>> sessions_;  // guarded
};

struct SessionContext {
  const ServerConfig& config;
  Service& service;
  SessionRegistry& registry;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, SessionContext context);
  ~HttpSession();

  void start();
  // Thread-safe: closes the connection now if it is between requests, else after this response.
  void drain();

 private:
  enum class Phase { idle, reading, handling, writing, closing };

  void wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, std::size_t bytes);
  void read_header();
  void on_header(boost::beast::error_code ec, std::size_t bytes);
  void remember_request_line();  // method, target, request id... of the parsed header
  void read_body();
  void on_body(boost::beast::error_code ec, std::size_t bytes);
  void on_read_error(boost::beast::error_code ec, std::string_view while_doing);
  void dispatch_request();
  void send(Reply reply);
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void log_request(std::size_t response_bytes, bool write_failed);
  void close();
  // Half-closes, then discards what the client still sends for a short while before closing, so
  // that its unread bytes do not turn our FIN into a RST that would destroy the response.
  void linger_then_close();
  void on_linger_read(boost::beast::error_code ec, std::size_t bytes);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  SessionContext context_;
  std::string remote_ip_;
  Phase phase_ = Phase::idle;
  bool drain_requested_ = false;  // only touched on the strand

  // The request in progress.
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::chrono::steady_clock::time_point request_started_;
  std::size_t request_bytes_ = 0;
  std::string request_id_;
  std::string method_;
  std::string target_;
  std::string user_agent_;
  bool request_keep_alive_ = false;
  unsigned request_version_ = 11;  // HTTP/1.1; a 1.0 request gets a 1.0 answer
  bool request_is_head_ = false;
  bool unread_input_ = false;  // we answer without having read the whole request

  // The response in flight (Beast needs it alive until the write completes).
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> continue_;
  Reply reply_;
  std::chrono::steady_clock::time_point linger_deadline_;
  std::array<char, 4096> discard_{};
};

}  // namespace stacksync::server
