#include "server/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <utility>

namespace stacksync::server {
namespace {

using Label = std::pair<std::string_view, std::string_view>;

// HELP text escapes backslash and line feed only (quotes are literal there).
std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[64];
  // Shortest text that reads back as the same double: "0.001", "2.5", "10".
  auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
  return ec == std::errc() ? std::string(text, end) : "NaN";
}

std::string format_number(std::uint64_t value) {
  return std::to_string(value);
}

// One family at a time: HELP and TYPE, then its samples. Families are never split, as the format
// requires.
class ExpositionWriter {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escape_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  template <class Number>
  void sample(std::string_view name, std::initializer_list<Label> labels, Number value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, label_value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += label;
        out_ += "=\"";
        out_ += escape_label_value(label_value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += format_number(value);
    out_ += '\n';
  }

  // A family of one unlabelled sample.
  template <class Number>
  void single(std::string_view name, std::string_view type, std::string_view help, Number value) {
    family(name, type, help);
    sample(name, {}, value);
  }

  void histogram(std::string_view name, std::string_view help,
                 const LatencyHistogram::Snapshot& snapshot) {
    family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < LatencyHistogram::kUpperBoundsMicros.size(); ++i) {
      cumulative += snapshot.counts[i];
      std::string bound =
          format_number(static_cast<double>(LatencyHistogram::kUpperBoundsMicros[i]) / 1e6);
      sample(bucket, {{"le", bound}}, cumulative);
    }
    cumulative += snapshot.counts.back();
    sample(bucket, {{"le", "+Inf"}}, cumulative);
    sample(std::string(name) + "_sum", {}, static_cast<double>(snapshot.sum_micros) / 1e6);
    sample(std::string(name) + "_count", {}, cumulative);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::optional<std::uint64_t> read_resident_bytes() {
  std::FILE* file = std::fopen("/proc/self/statm", "re");
  if (file == nullptr) return std::nullopt;
  unsigned long long size_pages = 0, resident_pages = 0;
  bool read = std::fscanf(file, "%llu %llu", &size_pages, &resident_pages) == 2;
  std::fclose(file);
  long page_size = ::sysconf(_SC_PAGESIZE);
  if (!read || page_size <= 0) return std::nullopt;
  return static_cast<std::uint64_t>(resident_pages) * static_cast<std::uint64_t>(page_size);
}

std::optional<std::uint64_t> count_open_fds() {
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return std::nullopt;
  const int own_fd = ::dirfd(directory);
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] == '.') continue;
    // The descriptor of this very listing is not one of ours.
    if (std::to_string(own_fd) == entry->d_name) continue;
    ++count;
  }
  ::closedir(directory);
  return count;
}

}  // namespace

std::uint64_t LatencyHistogram::Snapshot::count() const {
  std::uint64_t total = 0;
  for (std::uint64_t n : counts) total += n;
  return total;
}

void LatencyHistogram::observe(std::chrono::microseconds value) {
  const std::int64_t micros = std::max<std::int64_t>(0, value.count());
  std::size_t bucket = 0;
  while (bucket < kUpperBoundsMicros.size() && micros > kUpperBoundsMicros[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(micros), std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot snapshot;
  for (std::size_t i = 0; i < kBuckets; ++i)
    snapshot.counts[i] = counts_[i].load(std::memory_order_relaxed);
  snapshot.sum_micros = sum_micros_.load(std::memory_order_relaxed);
  return snapshot;
}

void ServiceMetrics::count_request(std::string_view route, int status,
                                   std::string_view error_type) {
  RequestLabels labels{std::string(route), status,
                       error_type.empty() ? std::string("none") : std::string(error_type)};
  std::lock_guard lock(mutex_);
  ++requests_[std::move(labels)];
}

std::map<RequestLabels, std::uint64_t> ServiceMetrics::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

ProcessStats read_process_stats() {
  ProcessStats stats;
  stats.resident_bytes = read_resident_bytes();
  stats.open_fds = count_open_fds();
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    stats.max_fds = static_cast<std::uint64_t>(limit.rlim_cur);
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    stats.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  return stats;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_metrics(const MetricsSnapshot& s) {
  ExpositionWriter w;
  using std::uint64_t;

  w.family("stacksync_build_info", "gauge", "Always 1; the labels say which build and mode run.");
  w.sample("stacksync_build_info", {{"version", s.version}, {"mode", s.mode}}, uint64_t{1});
  w.single("stacksync_available", "gauge",
           "1 when the service can run scripts (GET /healthz is 200), else 0.",
           uint64_t{s.unavailable_reason.empty() ? 1u : 0u});
  if (!s.unavailable_reason.empty()) {
    w.family("stacksync_unavailable_info", "gauge",
             "Present while the service cannot run scripts; the label says why.");
    w.sample("stacksync_unavailable_info", {{"reason", s.unavailable_reason}}, uint64_t{1});
  }

  w.family("stacksync_http_requests_total", "counter",
           "HTTP requests answered, by route, status and error type (\"none\" on success).");
  for (const auto& [labels, count] : s.requests) {
    const std::string status = std::to_string(labels.status);
    w.sample("stacksync_http_requests_total",
             {{"route", labels.route}, {"status", status}, {"error_type", labels.error_type}},
             count);
  }

  w.histogram("stacksync_execution_seconds",
              "Time to run one script in its sandbox (setup, run and cleanup).", s.execution);
  w.histogram("stacksync_queue_wait_seconds",
              "Time an admitted execution waited for a free execution slot.", s.queue_wait);
  w.single("stacksync_executions_in_flight", "gauge", "Scripts running now.",
           uint64_t{s.executions_running});
  w.single("stacksync_execution_queue_depth", "gauge",
           "Admitted executions waiting for a slot now.", uint64_t{s.executions_waiting});
  w.single("stacksync_execution_slots", "gauge", "Scripts that may run at once (max concurrency).",
           static_cast<uint64_t>(s.execution_slots));
  w.single("stacksync_execution_queue_capacity", "gauge",
           "Executions that may wait for a slot; past it, requests get 503 overloaded.",
           static_cast<uint64_t>(s.queue_capacity));

  const engine::EngineStats& e = s.engine;
  w.single("stacksync_engine_runs_total", "counter", "Scripts the engine ran to an outcome.",
           e.runs);
  w.family("stacksync_engine_outcomes_total", "counter",
           "Engine outcomes by error type (\"none\" on success).");
  for (const auto& [type, count] : e.outcomes)
    w.sample("stacksync_engine_outcomes_total", {{"type", type}}, count);
  w.family("stacksync_sandbox_failures_total", "counter",
           "Sandbox setup failures (our failures, answered with 500), by isolation layer.");
  for (const auto& [layer, count] : e.sandbox_failures_by_layer)
    w.sample("stacksync_sandbox_failures_total", {{"layer", layer}}, count);
  w.single("stacksync_memory_limit_kills_total", "counter", "Scripts killed at the memory limit.",
           e.memory_limit_kills);
  w.single("stacksync_time_limit_kills_total", "counter", "Scripts killed at the time limit.",
           e.time_limit_kills);
  w.single("stacksync_warm_pool_size", "gauge",
           "Live pre-loaded interpreters (zygotes) scripts are forked from; 0 in cold mode.",
           static_cast<uint64_t>(std::max(0, e.warm_pool_size)));
  w.single("stacksync_zygote_forks_total", "counter",
           "Executions forked from a pre-loaded interpreter (warm mode).", e.zygote_forks);
  w.single("stacksync_zygote_starts_total", "counter",
           "Pre-loaded interpreters started, the first one included.", e.zygote_starts);
  w.single("stacksync_zygote_respawns_total", "counter",
           "Pre-loaded interpreters started to replace one that died or was recycled.",
           e.zygote_starts > 0 ? e.zygote_starts - 1 : uint64_t{0});

  const ProcessStats& p = s.process;
  if (p.resident_bytes)
    w.single("process_resident_memory_bytes", "gauge", "Resident memory of the service.",
             *p.resident_bytes);
  if (p.open_fds)
    w.single("process_open_fds", "gauge", "Open file descriptors of the service.", *p.open_fds);
  if (p.max_fds)
    w.single("process_max_fds", "gauge", "Limit on open file descriptors (RLIMIT_NOFILE).",
             *p.max_fds);
  if (p.cpu_seconds)
    w.single("process_cpu_seconds_total", "counter",
             "CPU time of the service's own threads (sandboxes excluded).", *p.cpu_seconds);
  return w.take();
}

}  // namespace stacksync::server
