#include "server/listener.h"

#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "server/json_log.h"

namespace stacksync::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

Result<tcp::endpoint> resolve(asio::io_context& io, const std::string& host, unsigned short port) {
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  // A name such as "localhost": take its first address.
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty())
    return Error{"cannot resolve host '" + host + "': " + (ec ? ec.message() : "no address")};
  return results.begin()->endpoint();
}

}  // namespace

Listener::Listener(asio::io_context& io, SessionContext context)
    : io_(io),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      retry_timer_(strand_),
      context_(context) {}

Result<tcp::endpoint> Listener::bind(const std::string& host, unsigned short port) {
  auto endpoint = resolve(io_, host, port);
  if (!endpoint) return endpoint.error();
  std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (ec) return Error{"socket for " + where + ": " + ec.message()};
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return Error{"SO_REUSEADDR on " + where + ": " + ec.message()};
  acceptor_.bind(*endpoint, ec);
  if (ec) return Error{"bind " + where + ": " + ec.message()};
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"listen " + where + ": " + ec.message()};
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return Error{"getsockname " + where + ": " + ec.message()};
  return bound;
}

void Listener::start() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->accept_next(); });
}

void Listener::stop(std::function<void()> then) {
  asio::post(strand_, [self = shared_from_this(), then = std::move(then)] {
    self->stopped_ = true;
    boost::system::error_code ignored;
    // shutdown() acts on the socket, close() only on our descriptor: a sandbox child between
    // clone and exec still holds a copy of it, which would keep the port accepting into a
    // backlog nobody serves.
    if (self->acceptor_.is_open()) ::shutdown(self->acceptor_.native_handle(), SHUT_RDWR);
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
    then();
  });
}

void Listener::accept_next() {
  if (stopped_) return;
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(asio::make_strand(io_), boost::beast::bind_front_handler(
                                                     &Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Usually EMFILE/ENFILE: back off instead of spinning on a listen queue we cannot drain.
    log_line(Severity::warning, "accept failed: " + ec.message(), {{"errorType", "accept"}});
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->accept_next();
    });
    return;
  }
  if (context_.registry.size() >= context_.config.max_connections) {
    log_line(Severity::warning, "connection refused: too many open connections",
             {{"errorType", "too_many_connections"},
              {"maxConnections", context_.config.max_connections}});
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<HttpSession>(std::move(socket), context_)->start();
  }
  accept_next();
}

}  // namespace stacksync::server
