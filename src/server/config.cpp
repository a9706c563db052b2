#include "server/config.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <thread>

namespace stacksync::server {
namespace {

// 'text', built by appending: g++ 12 at -O3 flags "literal" + std::string(...) with a false
// -Wrestrict.
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  out.append(text);
  out.push_back('\'');
  return out;
}

int available_cpus() {
  // The affinity mask, not the machine's core count: containers pin us to fewer CPUs.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

Result<long long> parse_integer(std::string_view text, long long min, long long max) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return Error{quoted(text) + " is not an integer"};
  if (value < min || value > max)
    return Error{quoted(text) + " is out of range [" + std::to_string(min) + ", " +
                 std::to_string(max) + "]"};
  return value;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// "10s", "500ms", "1.5" (seconds).
Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double scale_ms = 1000;
  std::string_view number = text;
  if (ends_with(text, "ms")) {
    scale_ms = 1;
    number.remove_suffix(2);
  } else if (ends_with(text, "s")) {
    number.remove_suffix(1);
  }
  std::string copy(number);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno != 0 || !std::isfinite(value) ||
      value <= 0 || value * scale_ms > 24.0 * 3600 * 1000)
    return Error{quoted(text) + " is not a positive duration (e.g. 10s, 500ms)"};
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(value * scale_ms)));
}

// "1048576", "512KiB", "1MiB", "1M", "2GiB" (binary units).
Result<std::uint64_t> parse_size(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    std::uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"K", 1ull << 10},
      {"M", 1ull << 20},   {"G", 1ull << 30},   {"k", 1ull << 10},   {"B", 1}};
  std::uint64_t factor = 1;
  std::string_view number = text;
  for (const Unit& unit : kUnits) {
    if (ends_with(text, unit.suffix)) {
      factor = unit.factor;
      number.remove_suffix(unit.suffix.size());
      break;
    }
  }
  // At most 1 TiB, so that the product cannot overflow.
  auto value = parse_integer(number, 1, static_cast<long long>((1ull << 40) / factor));
  if (!value) return Error{quoted(text) + " is not a size (e.g. 1048576, 512KiB, 1MiB)"};
  return static_cast<std::uint64_t>(*value) * factor;
}

Result<bool> parse_boolean(std::string_view text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off" || text.empty()) return false;
  return Error{quoted(text) + " is not a boolean (true/false)"};
}

struct Option {
  std::string_view flag;    // without the leading "--"
  const char* environment;  // nullptr: flag only
  bool takes_value;
  std::string_view placeholder;  // for --help
  std::string_view help;
  Status (*apply)(ServerConfig&, std::string_view value);
};

template <class T>
Status store(Result<T> parsed, T& into) {
  if (!parsed) return parsed.error();
  into = *parsed;
  return {};
}

const Option kOptions[] = {
    {"host", "STACKSYNC_HOST", true, "ADDR", "address to listen on (default 0.0.0.0)",
     [](ServerConfig& c, std::string_view v) -> Status {
       if (v.empty()) return Error{"empty host"};
       c.host = std::string(v);
       return {};
     }},
    {"port", "PORT", true, "N", "TCP port (default 8080; 0 picks a free port)",
     [](ServerConfig& c, std::string_view v) -> Status {
       auto port = parse_integer(v, 0, 65535);
       if (!port) return port.error();
       c.port = static_cast<unsigned short>(*port);
       return {};
     }},
    {"max-concurrency", "STACKSYNC_MAX_CONCURRENCY", true, "N",
     "scripts executing at once (default: number of CPUs)",
     [](ServerConfig& c, std::string_view v) -> Status {
       auto n = parse_integer(v, 1, 1024);
       if (!n) return n.error();
       c.max_concurrency = static_cast<int>(*n);
       return {};
     }},
    {"queue-size", "STACKSYNC_QUEUE_SIZE", true, "N",
     "requests waiting for a slot; past it: 503 (default 4 x max-concurrency)",
     [](ServerConfig& c, std::string_view v) -> Status {
       auto n = parse_integer(v, 0, 100000);
       if (!n) return n.error();
       c.queue_size = static_cast<int>(*n);
       return {};
     }},
    {"body-limit", "STACKSYNC_BODY_LIMIT", true, "SIZE",
     "largest request body; past it: 413 (default 1MiB)",
     [](ServerConfig& c, std::string_view v) { return store(parse_size(v), c.body_limit); }},
    {"mode", "STACKSYNC_MODE", true, "cold|warm",
     "cold: a fresh interpreter per request; warm: forked from a pre-loaded one",
     [](ServerConfig& c, std::string_view v) -> Status {
       if (v == "cold") {
         c.executor.mode = engine::Mode::cold;
       } else if (v == "warm") {
         c.executor.mode = engine::Mode::warm;
       } else {
         return Error{quoted(v) + " is not a mode (cold or warm)"};
       }
       return {};
     }},
    {"allow-weaker-isolation", "STACKSYNC_ALLOW_WEAKER_ISOLATION", false, "",
     "run even when an isolation layer is unavailable (logged loudly; never the default)",
     [](ServerConfig& c, std::string_view v) {
       return store(parse_boolean(v), c.executor.allow_weaker_isolation);
     }},
    {"exit-on-startup-failure", "STACKSYNC_EXIT_ON_STARTUP_FAILURE", false, "",
     "exit with status 3 when the sandbox cannot be set up, instead of staying up and answering "
     "503 (/healthz, /execute) so that the failure shows",
     [](ServerConfig& c, std::string_view v) {
       return store(parse_boolean(v), c.exit_on_startup_failure);
     }},
    {"time-limit", "STACKSYNC_TIME_LIMIT", true, "DURATION",
     "wall-clock limit per script (default 5s)",
     [](ServerConfig& c, std::string_view v) -> Status {
       auto d = parse_duration(v);
       if (!d) return d.error();
       if (d->count() > 3600'000) return Error{quoted(v) + " exceeds one hour"};
       c.executor.limits.wall_ms = static_cast<int>(d->count());
       return {};
     }},
    {"memory-limit", "STACKSYNC_MEMORY_LIMIT", true, "SIZE",
     "memory limit per script (default 512MiB)",
     [](ServerConfig& c, std::string_view v) {
       return store(parse_size(v), c.executor.limits.memory_bytes);
     }},
    {"python", "STACKSYNC_PYTHON", true, "PATH",
     "interpreter run inside the sandbox (default /usr/bin/python3)",
     [](ServerConfig& c, std::string_view v) -> Status {
       if (v.empty() || v.front() != '/') return Error{quoted(v) + " is not absolute"};
       c.executor.python = std::string(v);
       return {};
     }},
    {"io-threads", "STACKSYNC_IO_THREADS", true, "N",
     "threads serving sockets; scripts run on separate worker threads (default 1-2)",
     [](ServerConfig& c, std::string_view v) -> Status {
       auto n = parse_integer(v, 1, 64);
       if (!n) return n.error();
       c.io_threads = static_cast<int>(*n);
       return {};
     }},
    {"max-connections", "STACKSYNC_MAX_CONNECTIONS", true, "N",
     "open client connections; more are closed on accept (default 1024)",
     [](ServerConfig& c, std::string_view v) -> Status {
       auto n = parse_integer(v, 1, 1'000'000);
       if (!n) return n.error();
       c.max_connections = static_cast<std::size_t>(*n);
       return {};
     }},
    {"idle-timeout", "STACKSYNC_IDLE_TIMEOUT", true, "DURATION",
     "keep-alive connection without a request is closed after (default 620s)",
     [](ServerConfig& c, std::string_view v) { return store(parse_duration(v), c.idle_timeout); }},
    {"header-timeout", "STACKSYNC_HEADER_TIMEOUT", true, "DURATION",
     "from a request's first byte to the end of its headers (default 10s)",
     [](ServerConfig& c, std::string_view v) {
       return store(parse_duration(v), c.header_timeout);
     }},
    {"body-timeout", "STACKSYNC_BODY_TIMEOUT", true, "DURATION",
     "from the end of the headers to the end of the body (default 30s)",
     [](ServerConfig& c, std::string_view v) { return store(parse_duration(v), c.body_timeout); }},
    {"write-timeout", "STACKSYNC_WRITE_TIMEOUT", true, "DURATION",
     "writing one response (default 30s)",
     [](ServerConfig& c, std::string_view v) { return store(parse_duration(v), c.write_timeout); }},
    {"drain-timeout", "STACKSYNC_DRAIN_TIMEOUT", true, "DURATION",
     "on SIGTERM/SIGINT, time to finish in-flight requests (default 10s)",
     [](ServerConfig& c, std::string_view v) { return store(parse_duration(v), c.drain_timeout); }},
};

const Option* find_option(std::string_view flag) {
  for (const Option& option : kOptions)
    if (option.flag == flag) return &option;
  return nullptr;
}

}  // namespace

std::optional<std::string> read_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string_view mode_name(engine::Mode mode) {
  return mode == engine::Mode::warm ? "warm" : "cold";
}

Result<ServerConfig> parse_server_config(const std::vector<std::string_view>& args,
                                         const EnvironmentLookup& environment) {
  ServerConfig config;
  config.max_concurrency = available_cpus();
  config.io_threads = std::min(2, available_cpus());
  bool queue_size_given = false;

  for (const Option& option : kOptions) {
    if (option.environment == nullptr) continue;
    std::optional<std::string> value = environment(option.environment);
    if (!value) continue;
    if (Status applied = option.apply(config, *value); !applied)
      return Error{"environment variable " + std::string(option.environment) + ": " +
                   applied.error().message};
    if (option.flag == "queue-size") queue_size_given = true;
  }

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      config.show_help = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") return Error{"unexpected argument '" + std::string(arg) + "'"};
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (auto equals = name.find('='); equals != std::string_view::npos) {
      inline_value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const Option* option = find_option(name);
    if (option == nullptr) return Error{"unknown option '--" + std::string(name) + "'"};
    std::string_view value;
    if (option->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Error{"option '--" + std::string(name) + "' needs a value"};
      }
    } else {
      value = inline_value.value_or("true");
    }
    if (Status applied = option->apply(config, value); !applied)
      return Error{"option '--" + std::string(name) + "': " + applied.error().message};
    if (option->flag == "queue-size") queue_size_given = true;
  }

  if (!queue_size_given) config.queue_size = 4 * config.max_concurrency;
  return config;
}

std::string usage_text() {
  std::string text =
      "usage: stacksync serve [options]\n"
      "\n"
      "Serves POST /execute, GET /healthz and GET /metrics (Prometheus) over HTTP/1.1.\n"
      "Each option can also be set by the environment variable shown; flags win.\n"
      "\n";
  for (const Option& option : kOptions) {
    text += "  --" + std::string(option.flag);
    if (option.takes_value) text += " " + std::string(option.placeholder);
    if (option.environment != nullptr) text += "  [$" + std::string(option.environment) + "]";
    text += "\n      " + std::string(option.help);
    if (option.flag == "mode")
      text += " (default " + std::string(mode_name(engine::ExecutorConfig{}.mode)) + ")";
    text += "\n";
  }
  text += "  -h, --help\n      this text\n";
  return text;
}

}  // namespace stacksync::server
