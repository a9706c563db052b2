// Outcome: everything one run of a script produced — main()'s result or a precise error,
// plus what it printed. The HTTP layer and the CLI both render it with to_json().
//
//   engine::Outcome o = executor.run(script);
//   if (o.ok()) use(o.result_json); else log(error_type_name(o.error));
//   std::string body = engine::render_outcome(o, {{"requestId", id}});
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace stacksync::engine {

enum class ErrorType {
  none,               // main() returned a serializable value
  missing_main,       // the script defines no main
  main_not_callable,  // main exists but is not callable
  syntax_error,       // the script does not compile (line, column)
  runtime_error,      // an exception escaped the script (exception, traceback)
  not_serializable,   // main() returned something JSON cannot hold (path, value_type)
  result_too_large,   // the serialized result exceeds Limits::result_bytes
  invalid_result,     // the result channel carried bytes that are not a well-formed result
  timeout,            // the wall-clock limit was reached; the process tree was killed
  memory_limit,       // the memory limit was reached (OOM kill or MemoryError)
  exited,             // sys.exit, os._exit or a signal ended the script before main returned
  sandbox_error,      // our failure: an isolation layer could not be set up (fail closed)
};

std::string_view error_type_name(ErrorType type);

// Breakdown of where one run's time went, in microseconds.
struct Timings {
  long setup_us = 0;    // cgroup, pipes, clone, namespaces until the child runs python
  long run_us = 0;      // from release of the child until it exited
  long cleanup_us = 0;  // cgroup removal and reaping
  long total_us = 0;
};

struct Outcome {
  ErrorType error = ErrorType::sandbox_error;
  std::string message;          // human message for errors; empty on success
  std::string result_json;      // main()'s return value as validated JSON text, when error == none
  boost::json::object details;  // type-specific fields: line, column, traceback, path, ...
  std::string stdout_bytes;     // raw bytes the script wrote to fd 1 (capped)
  std::string stderr_bytes;     // raw bytes the script wrote to fd 2 (capped)
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  Timings timings;

  bool ok() const { return error == ErrorType::none; }
};

// The public JSON shape:
//   success: {"result": ..., "stdout": "...", "stderr": "..."}
//   error:   {"error": "<message>", "type": "<type>", "stdout": "...", "stderr": "...", ...details}
// "stdout_truncated"/"stderr_truncated": true appear only when output was cut.
// Output bytes that are not valid UTF-8 are replaced with U+FFFD, so the JSON is always valid.
// The result is spliced in as the harness serialized it (Python's number formatting, no
// re-encoding); `extra` fields (e.g. requestId) are appended.
std::string render_outcome(const Outcome& outcome, const boost::json::object& extra = {});

// Valid UTF-8 of arbitrary bytes: each invalid sequence becomes U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

}  // namespace stacksync::engine

namespace stacksync::engine {
// An Outcome for an executor that could not be created at all (fail closed at startup). The
// message starts with the layer that failed ("cgroup ...", "seccomp: ..."), which becomes "layer".
Outcome sandbox_error_outcome(std::string_view message);
}  // namespace stacksync::engine
