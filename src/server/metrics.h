// Metrics for GET /metrics, in the Prometheus text exposition format (version 0.0.4), written by
// hand: the format is a few lines of text per family. ServiceMetrics holds what the server counts
// as it goes (requests, execution and queue-wait latency); everything else is read when scraped
// (pool load, Executor::stats(), /proc/self) and handed to render_metrics() as a MetricsSnapshot.
//
//   ServiceMetrics metrics;
//   metrics.count_request("/execute", 400, "timeout");  // once per answered request
//   metrics.observe_execution(run_time);                // once per execution
//   MetricsSnapshot snapshot{...};                      // at scrape time
//   std::string body = render_metrics(snapshot);        // Content-Type: kMetricsContentType
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine_stats.h"

namespace stacksync::server {

// The reference client's value: version 0.0.4 of the text format, and UTF-8, since label values
// (the interpreter path, a startup failure's reason) may hold any character.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// A latency histogram with fixed buckets from 1 ms to 10 s. observe() is lock-free (two relaxed
// atomic additions), so that the request path never waits for a scrape.
class LatencyHistogram {
 public:
  // Upper bounds in microseconds: 1, 2.5, 5 per decade from 1 ms to 10 s.
  static constexpr std::array<std::int64_t, 13> kUpperBoundsMicros = {
      1'000,   2'500,   5'000,     10'000,    25'000,    50'000,    100'000,
      250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
  static constexpr std::size_t kBuckets = kUpperBoundsMicros.size() + 1;  // + above every bound

  struct Snapshot {
    // Observations per bucket, not cumulative; the last bucket holds those above every bound.
    std::array<std::uint64_t, kBuckets> counts{};
    std::uint64_t sum_micros = 0;
    std::uint64_t count() const;
  };

  void observe(std::chrono::microseconds value);
  // Read while observations go on, sum and counts may disagree by the observations in progress;
  // the rendered _count is the sum of the buckets, so `le="+Inf"` always equals _count.
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> sum_micros_{0};
};

// One series of stacksync_http_requests_total.
struct RequestLabels {
  std::string route;       // route_label(): "/execute", "/healthz", "/metrics" or "other"
  int status = 0;          // the HTTP status sent
  std::string error_type;  // "none" on success
  auto operator<=>(const RequestLabels&) const = default;
};

// What the server counts itself. Thread-safe: called from I/O threads and execution workers.
class ServiceMetrics {
 public:
  // error_type empty means success.
  void count_request(std::string_view route, int status, std::string_view error_type);
  void observe_execution(std::chrono::microseconds run_time) { execution_.observe(run_time); }
  void observe_queue_wait(std::chrono::microseconds waited) { queue_wait_.observe(waited); }

  std::map<RequestLabels, std::uint64_t> requests() const;
  LatencyHistogram::Snapshot execution() const { return execution_.snapshot(); }
  LatencyHistogram::Snapshot queue_wait() const { return queue_wait_.snapshot(); }

 private:
  mutable std::mutex mutex_;
  std::map<RequestLabels, std::uint64_t> requests_;  // guarded by mutex_
  LatencyHistogram execution_;                       // lock-free
  LatencyHistogram queue_wait_;                      // lock-free
};

// This process, from /proc/self and getrusage(); a value that cannot be read is left out.
struct ProcessStats {
  std::optional<std::uint64_t> resident_bytes;
  std::optional<std::uint64_t> open_fds;
  std::optional<std::uint64_t> max_fds;
  std::optional<double> cpu_seconds;
};
ProcessStats read_process_stats();

// Everything one scrape shows.
struct MetricsSnapshot {
  std::string version;
  std::string mode;  // "cold" or "warm"
  // Empty when the service can run scripts (GET /healthz is 200); else why not.
  std::string unavailable_reason;
  std::map<RequestLabels, std::uint64_t> requests;
  LatencyHistogram::Snapshot execution;
  LatencyHistogram::Snapshot queue_wait;
  std::size_t executions_running = 0;
  std::size_t executions_waiting = 0;
  int execution_slots = 0;
  int queue_capacity = 0;
  engine::EngineStats engine;  // all zero when there is no executor (startup failed)
  ProcessStats process;
};

std::string render_metrics(const MetricsSnapshot& snapshot);

// The text format's escaping of a label value: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

}  // namespace stacksync::server
