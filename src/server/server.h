// Server: the I/O threads, the execution workers, the listener and the shutdown sequence.
//
//   Server server(config, executor, "0.1.0");  // executor null: see Service (fail closed)
//   auto endpoint = server.listen();       // binds; with port 0 the kernel picks one
//   if (!endpoint) fail(endpoint.error().message);
//   return server.run();                    // until SIGTERM/SIGINT and the drain; returns 0
//
// Shutdown on the first SIGTERM/SIGINT: stop accepting, /healthz turns 503, idle keep-alive
// connections close, requests in flight (queued or running) finish and are answered with
// "Connection: close", bounded by the drain timeout. A second signal stops at once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "engine/executor.h"
#include "server/config.h"
#include "server/execution_pool.h"
#include "server/http_session.h"
#include "server/listener.h"
#include "server/service.h"

namespace stacksync::server {

class Server {
 public:
  // `executor` null: the sandbox could not be set up and `startup_failure` says why; the server
  // then answers 503 on /healthz and /execute, and serves /metrics.
  Server(const ServerConfig& config, engine::Executor* executor, std::string version,
         std::string startup_failure = "");
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Result<boost::asio::ip::tcp::endpoint> listen();
  // Serves until a signal and the drain that follows; returns the process exit code.
  int run();

 private:
  void wait_for_signal();
  void begin_drain();
  void finish_drain_setup();  // once the listening socket is closed
  void poll_drain();
  void run_io_loop();
  void stop_pools_or_exit();

  const ServerConfig& config_;
  // Declaration order is destruction order in reverse: the io_context (and with it every
  // session) goes before the Service and registry they point to.
  ExecutionPool pool_;
  ExecutionPool scrape_pool_;  // GET /metrics renderings, off the I/O threads
  SessionRegistry registry_;
  Service service_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  std::shared_ptr<Listener> listener_;
  bool draining_ = false;  // only touched by the signal handler chain
  std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace stacksync::server
