// The `stacksync` command: `serve` (the HTTP service), `run FILE` (one script, outcome as JSON on
// stdout), `version`.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/executor.h"
#ifdef STACKSYNC_HAS_SERVER
#include "server/serve.h"
#endif

namespace {

using namespace stacksync;

constexpr std::string_view kVersion = STACKSYNC_VERSION;

enum ExitCode { kOk = 0, kScriptError = 1, kUsage = 2, kSandboxError = 3 };

void print_usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: stacksync <command> [options]\n"
      "\n"
      "commands:\n"
      "  serve [options]          run the HTTP service (stacksync serve --help)\n"
      "  run [options] FILE|-     run one script in the sandbox; prints the outcome as JSON\n"
      "      --mode cold|warm     execution mode (default: warm)\n"
      "      --allow-weaker-isolation  run without cgroup limits if the machine lacks them\n"
      "  version                  print the version\n"
      "\n"
      "exit status of run: 0 success, 1 script error, 2 usage, 3 sandbox error\n");
}

// --repeat N: runs the script N more times and prints the median of each phase to stderr.
void print_timings(engine::Executor& executor, const std::string& script, int repeat,
                   engine::Outcome& last) {
  std::vector<long> setup, run, cleanup, total;
  for (int i = 0; i < repeat; ++i) {
    last = executor.run(script);
    setup.push_back(last.timings.setup_us);
    run.push_back(last.timings.run_us);
    cleanup.push_back(last.timings.cleanup_us);
    total.push_back(last.timings.total_us);
  }
  auto median = [](std::vector<long> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2] / 1000.0;
  };
  std::fprintf(stderr, "median of %d runs (ms): setup %.2f  run %.2f  cleanup %.2f  total %.2f\n",
               repeat, median(setup), median(run), median(cleanup), median(total));
}

int run_command(int argc, char** argv) {
  engine::ExecutorConfig config;
  std::string file;
  int repeat = 1;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--mode" && i + 1 < argc) {
      std::string_view mode = argv[++i];
      if (mode == "cold") {
        config.mode = engine::Mode::cold;
      } else if (mode == "warm") {
        config.mode = engine::Mode::warm;
      } else {
        std::fprintf(stderr, "stacksync run: unknown mode '%s' (cold or warm)\n", argv[i]);
        return kUsage;
      }
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
      if (repeat < 1) {
        std::fprintf(stderr, "stacksync run: --repeat takes a positive number\n");
        return kUsage;
      }
    } else if (arg == "--allow-weaker-isolation") {
      config.allow_weaker_isolation = true;
    } else if (arg == "--help" || arg == "-h") {
      print_usage(stdout);
      return kOk;
    } else if (file.empty() && (arg == "-" || !arg.starts_with("--"))) {
      file = arg;
    } else {
      std::fprintf(stderr, "stacksync run: unexpected argument '%s'\n", argv[i]);
      return kUsage;
    }
  }
  if (file.empty()) {
    std::fprintf(stderr, "stacksync run: missing FILE (a python script defining main())\n");
    return kUsage;
  }
  std::stringstream source;
  if (file == "-") {
    source << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (std::filesystem::is_directory(file)) {
      std::fprintf(stderr, "stacksync run: %s is a directory, not a script\n", file.c_str());
      return kUsage;
    }
    if (!in) {
      std::fprintf(stderr, "stacksync run: cannot read %s: %s\n", file.c_str(),
                   std::strerror(errno));
      return kUsage;
    }
    source << in.rdbuf();
  }

  auto executor = engine::make_executor(config);
  if (!executor) {
    engine::Outcome failed = engine::sandbox_error_outcome(executor.error().message);
    std::cout << engine::render_outcome(failed) << "\n";
    std::fprintf(stderr, "stacksync run: %s\n", executor.error().message.c_str());
    return kSandboxError;
  }
  engine::Outcome outcome = (*executor)->run(source.str());
  if (repeat > 1) print_timings(**executor, source.str(), repeat, outcome);
  std::cout << engine::render_outcome(outcome) << "\n";
  if (outcome.ok()) return kOk;
  return outcome.error == engine::ErrorType::sandbox_error ? kSandboxError : kScriptError;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return kUsage;
  }
  std::string_view command = argv[1];
  if (command == "run") return run_command(argc - 2, argv + 2);
  if (command == "version" || command == "--version") {
    std::printf("stacksync %s\n", kVersion.data());
    return kOk;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    print_usage(stdout);
    return kOk;
  }
#ifdef STACKSYNC_HAS_SERVER
  if (command == "serve") return server::serve_main(argc - 1, argv + 1, kVersion);
#endif
  std::fprintf(stderr, "stacksync: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return kUsage;
}
