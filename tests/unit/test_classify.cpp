// classify(): how a sandbox ended (supervisor report, OOM flag, result frame) becomes one error
// type. The order matters: the supervisor's own observations beat anything the script wrote.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/serialize.hpp>
#include <string>

#include "engine/classify.h"

namespace stacksync::engine {
namespace {

constexpr std::string_view kSuccessFrame = R"({"ok":true,"result":{"x":[1,2.5]}})";

jail::Termination exited_with(int code, std::string_view frame = {}) {
  jail::Termination t;
  t.exited = true;
  t.exit_code = code;
  t.result_capture.data = frame;
  return t;
}

jail::Termination killed_by(int sig, std::string_view frame = {}) {
  jail::Termination t;
  t.exited = false;
  t.term_signal = sig;
  t.result_capture.data = frame;
  return t;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(Classify, CleanExitWithSuccessFrameIsASuccess) {
  Outcome o = classify(exited_with(0, kSuccessFrame), false, Limits{});
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(o.result_json, R"({"x":[1,2.5]})");
}

TEST(Classify, OutputAndTruncationFlagsAreCarriedOver) {
  jail::Termination t = exited_with(0, kSuccessFrame);
  t.stdout_capture = {"printed\n", true};
  t.stderr_capture = {"warned\n", false};
  Outcome o = classify(t, false, Limits{});
  EXPECT_EQ(o.stdout_bytes, "printed\n");
  EXPECT_EQ(o.stderr_bytes, "warned\n");
  EXPECT_TRUE(o.stdout_truncated);
  EXPECT_FALSE(o.stderr_truncated);
}

TEST(Classify, MemoryLimitWinsOverTimeout) {
  jail::Termination t = killed_by(SIGKILL, kSuccessFrame);
  t.timed_out = true;
  Outcome o = classify(t, /*oom_killed=*/true, Limits{});
  EXPECT_EQ(o.error, ErrorType::memory_limit);
  EXPECT_EQ(o.details.at("limit_mib"), 512) << boost::json::serialize(o.details);
}

TEST(Classify, TimeoutWinsOverEverythingButMemory) {
  jail::Termination t = killed_by(SIGKILL, kSuccessFrame);
  t.timed_out = true;
  t.result_capture.truncated = true;
  t.stdout_capture = {"before the deadline", false};
  Outcome o = classify(t, /*oom_killed=*/false, Limits{});
  EXPECT_EQ(o.error, ErrorType::timeout);
  EXPECT_EQ(o.details.at("limit_seconds"), 5) << boost::json::serialize(o.details);
  EXPECT_TRUE(contains(o.message, "5 s")) << o.message;
  EXPECT_EQ(o.stdout_bytes, "before the deadline");
  EXPECT_TRUE(o.result_json.empty());
}

TEST(Classify, TimeoutWithFractionalLimit) {
  Limits limits;
  limits.wall_ms = 2500;
  jail::Termination t = killed_by(SIGKILL);
  t.timed_out = true;
  Outcome o = classify(t, false, limits);
  ASSERT_EQ(o.error, ErrorType::timeout);
  EXPECT_DOUBLE_EQ(o.details.at("limit_seconds").to_number<double>(), 2.5);
  EXPECT_TRUE(contains(o.message, "2.5 s")) << o.message;
}

TEST(Classify, OomKillIsMemoryLimitWithTheLimitInMib) {
  Limits limits;
  limits.memory_bytes = 32ull << 20;
  Outcome o = classify(killed_by(SIGKILL), /*oom_killed=*/true, limits);
  ASSERT_EQ(o.error, ErrorType::memory_limit);
  EXPECT_EQ(o.details.at("limit_mib"), 32);
  EXPECT_TRUE(contains(o.message, "32 MiB")) << o.message;
}

TEST(Classify, OomKillBeatsASuccessFrame) {
  // The frame may have been written by a process that was killed later; the OOM kill is ours.
  Outcome o = classify(exited_with(0, kSuccessFrame), /*oom_killed=*/true, Limits{});
  EXPECT_EQ(o.error, ErrorType::memory_limit);
  EXPECT_EQ(o.details.at("limit_mib"), 512);
}

TEST(Classify, ScriptErrorFrameIsDecoded) {
  Outcome o = classify(
      exited_with(0, R"({"ok":false,"type":"runtime_error","message":"E: x","exception":"E"})"),
      false, Limits{});
  ASSERT_EQ(o.error, ErrorType::runtime_error);
  EXPECT_EQ(o.message, "E: x");
  EXPECT_EQ(o.details.at("exception"), "E");
}

TEST(Classify, ExitCodeWithoutFrame) {
  Outcome o = classify(exited_with(3), false, Limits{});
  ASSERT_EQ(o.error, ErrorType::exited);
  EXPECT_EQ(o.details.at("exit_code"), 3);
  EXPECT_FALSE(o.details.contains("signal"));
  EXPECT_TRUE(contains(o.message, "code 3")) << o.message;
}

TEST(Classify, ExitCodeZeroWithoutFrameIsStillAnEarlyExit) {
  // os._exit(0) inside main(): the process ended cleanly but main() never returned.
  Outcome o = classify(exited_with(0), false, Limits{});
  ASSERT_EQ(o.error, ErrorType::exited);
  EXPECT_EQ(o.details.at("exit_code"), 0);
}

TEST(Classify, SignalsAreReportedByName) {
  const std::pair<int, std::string_view> signals[] = {{SIGSEGV, "SIGSEGV"}, {SIGKILL, "SIGKILL"},
                                                      {SIGABRT, "SIGABRT"}, {SIGTERM, "SIGTERM"},
                                                      {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"}};
  for (const auto& [sig, name] : signals) {
    Outcome o = classify(killed_by(sig), false, Limits{});
    ASSERT_EQ(o.error, ErrorType::exited) << name;
    EXPECT_EQ(std::string(o.details.at("signal").as_string()), name);
    EXPECT_FALSE(o.details.contains("exit_code")) << name;
    EXPECT_TRUE(contains(o.message, name)) << o.message;
  }
}

TEST(Classify, SigxcpuIsATimeout) {
  Outcome o = classify(killed_by(SIGXCPU), false, Limits{});
  ASSERT_EQ(o.error, ErrorType::timeout);
  EXPECT_TRUE(o.details.contains("limit_seconds"));
  EXPECT_TRUE(contains(o.message, "CPU")) << o.message;
}

TEST(Classify, SigxfszAndSigsysSayWhy) {
  Outcome fsize = classify(killed_by(SIGXFSZ), false, Limits{});
  ASSERT_EQ(fsize.error, ErrorType::exited);
  EXPECT_EQ(fsize.details.at("signal"), "SIGXFSZ");
  EXPECT_TRUE(contains(fsize.message, "file size")) << fsize.message;

  Outcome sys = classify(killed_by(SIGSYS), false, Limits{});
  ASSERT_EQ(sys.error, ErrorType::exited);
  EXPECT_EQ(sys.details.at("signal"), "SIGSYS");
  EXPECT_TRUE(contains(sys.message, "system call")) << sys.message;
}

TEST(Classify, TruncatedResultCaptureIsResultTooLarge) {
  Limits limits;
  limits.result_bytes = 4ull << 20;
  jail::Termination t = exited_with(0, R"({"ok":true,"result":"aaaa)");
  t.result_capture.truncated = true;
  Outcome o = classify(t, false, limits);
  ASSERT_EQ(o.error, ErrorType::result_too_large);
  EXPECT_EQ(o.details.at("limit_bytes"), 4ull << 20);
  EXPECT_TRUE(o.result_json.empty());
}

TEST(Classify, TruncatedCaptureOfAKilledScriptIsStillResultTooLarge) {
  jail::Termination t = killed_by(SIGPIPE, R"({"ok":true,"result":[)");
  t.result_capture.truncated = true;
  EXPECT_EQ(classify(t, false, Limits{}).error, ErrorType::result_too_large);
}

TEST(Classify, ForgedFrameFromACleanExitIsInvalidResult) {
  Outcome o = classify(exited_with(0, R"({"ok":false,"type":"timeout","limit_seconds":1})"), false,
                       Limits{});
  EXPECT_EQ(o.error, ErrorType::invalid_result);
  EXPECT_TRUE(o.details.empty()) << boost::json::serialize(o.details);
}

TEST(Classify, GarbageFrameFromACleanExitIsInvalidResult) {
  EXPECT_EQ(classify(exited_with(0, "\x01\x02garbage"), false, Limits{}).error,
            ErrorType::invalid_result);
}

TEST(Classify, FrameCutShortBySignalIsTheSignalsStory) {
  Outcome o = classify(killed_by(SIGSEGV, R"({"ok":true,"result":[1,2,)"), false, Limits{});
  ASSERT_EQ(o.error, ErrorType::exited);
  EXPECT_EQ(o.details.at("signal"), "SIGSEGV");
}

TEST(Classify, CompleteFrameBeforeASignalStillCounts) {
  // The harness wrote its frame and then the process was killed (e.g. by a leftover thread).
  Outcome o = classify(killed_by(SIGKILL, kSuccessFrame), false, Limits{});
  EXPECT_EQ(o.error, ErrorType::none) << o.message;
}

TEST(Classify, SandboxErrorNamesTheLayerAndSaysTheScriptDidNotRun) {
  Outcome o = sandbox_error("mounts", "bind /tmp/usr: No such file or directory");
  ASSERT_EQ(o.error, ErrorType::sandbox_error);
  EXPECT_EQ(o.details.at("layer"), "mounts");
  EXPECT_TRUE(contains(o.message, "mounts")) << o.message;
  EXPECT_TRUE(contains(o.message, "No such file")) << o.message;
  EXPECT_TRUE(contains(o.message, "not run")) << o.message;
}

}  // namespace
}  // namespace stacksync::engine
