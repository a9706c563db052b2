// Listener: accepts TCP connections and hands each to a new HttpSession on its own strand.
// Survives accept failures (EMFILE under a connection flood) by pausing briefly, and refuses
// connections past the configured maximum so that file descriptors remain for the sandboxes.
//
//   auto listener = std::make_shared<Listener>(io, context);
//   auto endpoint = listener->bind("0.0.0.0", 8080);
//   listener->start();
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "server/http_session.h"

namespace stacksync::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& io, SessionContext context);

  Result<boost::asio::ip::tcp::endpoint> bind(const std::string& host, unsigned short port);
  void start();
  // Thread-safe: stops accepting (the listening socket is closed, so new connections are
  // refused), then calls `then`. Connections already open are not touched.
  void stop(std::function<void()> then);

 private:
  void accept_next();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  SessionContext context_;
  bool stopped_ = false;  // only touched on strand_
};

}  // namespace stacksync::server
