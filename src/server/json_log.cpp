#include "server/json_log.h"

#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

#include "engine/outcome.h"

namespace stacksync::server {
namespace {

void append_spaced(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += boost::json::serialize(boost::json::string(engine::to_valid_utf8(member.key())));
        out += ": ";
        append_spaced(out, member.value());
      }
      out += '}';
      break;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ", ";
        first = false;
        append_spaced(out, element);
      }
      out += ']';
      break;
    }
    case boost::json::kind::double_: {
      // Shortest round-trip form ("0.087", "5"), not Boost's "8.7E-2".
      double number = value.get_double();
      if (!std::isfinite(number)) {
        out += "null";
        break;
      }
      char text[32];
      auto [end, ec] = std::to_chars(text, text + sizeof(text), number);
      out.append(text, ec == std::errc() ? end : text);
      break;
    }
    case boost::json::kind::string:
      // Log fields quote request bytes (the target): repaired, or the line stops being JSON.
      out += boost::json::serialize(boost::json::string(engine::to_valid_utf8(value.get_string())));
      break;
    default:
      out += boost::json::serialize(value);
  }
}

// RFC 3339 in UTC with milliseconds, the format Cloud Logging parses from "time".
std::string utc_timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &parts);
  char with_millis[48];
  std::snprintf(with_millis, sizeof(with_millis), "%s.%03lldZ", buffer,
                static_cast<long long>(millis));
  return with_millis;
}

std::mutex& stderr_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::debug:
      return "DEBUG";
    case Severity::info:
      return "INFO";
    case Severity::warning:
      return "WARNING";
    case Severity::error:
      return "ERROR";
    case Severity::critical:
      return "CRITICAL";
  }
  return "DEFAULT";
}

std::string to_spaced_json(const boost::json::value& value) {
  std::string out;
  append_spaced(out, value);
  return out;
}

void log_line(Severity severity, std::string_view message, boost::json::object fields) {
  boost::json::object line;
  line["severity"] = severity_name(severity);
  line["message"] = message;
  line["time"] = utc_timestamp();
  for (auto& member : fields) line[member.key()] = std::move(member.value());
  std::string text = to_spaced_json(line);
  text += '\n';

  // One write(2) per line under a lock: lines from different threads never interleave.
  std::lock_guard lock(stderr_mutex());
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // stderr is gone; logging must never take the server down
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace stacksync::server
