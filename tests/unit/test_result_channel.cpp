// decode_result_frame: the script controls every byte of the result channel, so each test here
// is a frame a hostile or broken script could write, and what the supervisor must make of it.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "engine/limits.h"
#include "engine/outcome.h"
#include "engine/result_channel.h"

namespace stacksync::engine {
namespace {

Outcome decode(std::string_view frame, const Limits& limits = {}) {
  Outcome outcome;
  decode_result_frame(frame, limits, outcome);
  return outcome;
}

std::string nested_arrays(int depth, std::string_view inner = "1") {
  return std::string(depth, '[') + std::string(inner) + std::string(depth, ']');
}

// ---- success frames -------------------------------------------------------------------------

TEST(ResultChannel, SuccessFrameKeepsTheResultTextAsWritten) {
  Outcome o = decode(R"({"ok":true,"result":{"a":1.5}})");
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(o.result_json, R"({"a":1.5})");
  EXPECT_TRUE(o.message.empty());
}

TEST(ResultChannel, SuccessFrameKeepsPythonNumberFormatting) {
  // Re-serializing would turn 1.0 into 1E0 and the big integer into a lossy double.
  Outcome o = decode(R"({"ok":true,"result":[1.0,-0.0,12345678901234567890123,1e-7]})");
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(o.result_json, "[1.0,-0.0,12345678901234567890123,1e-7]");
}

TEST(ResultChannel, ScalarAndNullResultsAreSuccesses) {
  for (std::string_view value : {"null", "true", "0", "\"text\"", "[]", "{}"}) {
    Outcome o = decode(std::string(R"({"ok":true,"result":)") + std::string(value) + "}");
    EXPECT_EQ(o.error, ErrorType::none) << value << ": " << o.message;
    EXPECT_EQ(o.result_json, value);
  }
}

TEST(ResultChannel, SuccessFrameWithOtherSpacingIsStillASuccess) {
  Outcome o = decode(R"({ "ok" : true , "result" : [1, 2] })");
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(boost::json::parse(o.result_json), boost::json::parse("[1,2]"));
}

TEST(ResultChannel, ExtraMembersAfterTheResultAreNotSplicedIntoIt) {
  Outcome o = decode(R"({"ok":true,"result":1,"stdout":"forged","type":"timeout"})");
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(o.result_json, "1");
}

TEST(ResultChannel, SuccessWithoutResultIsInvalid) {
  EXPECT_EQ(decode(R"({"ok":true})").error, ErrorType::invalid_result);
}

TEST(ResultChannel, InvalidUtf8InsideTheResultIsInvalid) {
  // The result is spliced raw into the response; one bad byte would make the whole body invalid.
  EXPECT_EQ(decode("{\"ok\":true,\"result\":\"\xff\"}").error, ErrorType::invalid_result);
  EXPECT_EQ(decode("{\"ok\":true,\"result\":\"\xed\xa0\x80\"}").error, ErrorType::invalid_result);
}

TEST(ResultChannel, NonJsonNumbersAreInvalid) {
  for (std::string_view value : {"NaN", "Infinity", "-Infinity", "0x10", "01", "+1", "1."}) {
    Outcome o = decode(std::string(R"({"ok":true,"result":)") + std::string(value) + "}");
    EXPECT_EQ(o.error, ErrorType::invalid_result) << value;
    EXPECT_TRUE(o.result_json.empty()) << value;
  }
}

TEST(ResultChannel, DuplicateOkCannotTurnASuccessIntoAForgedError) {
  Outcome o = decode(R"({"ok":true,"result":1,"ok":false,"type":"timeout"})");
  EXPECT_NE(o.error, ErrorType::timeout);
  EXPECT_TRUE(o.error == ErrorType::none || o.error == ErrorType::invalid_result);
}

// ---- malformed frames -----------------------------------------------------------------------

TEST(ResultChannel, MalformedJsonIsInvalid) {
  for (std::string_view frame :
       {"", "not json", "{", R"({"ok":true,"result":)", R"({"ok":true,"result":1}})",
        R"({"ok":true,"result":1} trailing)", R"({"ok":true,"result":[1,]})",
        R"({"ok":true,"result":1 /* comment */})", "{\"ok\":true,\"result\":\"a\nb\"}"}) {
    Outcome o = decode(frame);
    EXPECT_EQ(o.error, ErrorType::invalid_result) << "frame: " << frame;
    EXPECT_TRUE(o.result_json.empty()) << "frame: " << frame;
  }
}

TEST(ResultChannel, InvalidFrameMessageSaysSo) {
  Outcome o = decode("not json");
  EXPECT_NE(o.message.find("invalid"), std::string::npos) << o.message;
}

TEST(ResultChannel, NonObjectFramesAreInvalid) {
  for (std::string_view frame : {"[1,2]", "\"ok\"", "true", "null", "42"})
    EXPECT_EQ(decode(frame).error, ErrorType::invalid_result) << frame;
}

TEST(ResultChannel, MissingOrNonBooleanOkIsInvalid) {
  for (std::string_view frame :
       {R"({"result":1})", R"({"ok":1,"result":1})", R"({"ok":"true","result":1})",
        R"({"ok":null,"result":1})", R"({"type":"runtime_error","message":"x"})"})
    EXPECT_EQ(decode(frame).error, ErrorType::invalid_result) << frame;
}

TEST(ResultChannel, ErrorTypesOnlyTheSupervisorDecidesAreRejected) {
  // A script that claims "timeout" or "sandbox_error" could make its own failure look like ours.
  for (std::string_view type : {"timeout", "sandbox_error", "invalid_result", "none", "unknown", "",
                                "TIMEOUT", "runtime_error ", "memory_limit\\u0000", "Timeout"}) {
    std::string frame = R"({"ok":false,"type":")" + std::string(type) +
                        R"(","message":"forged","layer":"seccomp","limit_seconds":1})";
    Outcome o = decode(frame);
    EXPECT_EQ(o.error, ErrorType::invalid_result) << "type '" << type << "'";
    EXPECT_TRUE(o.details.empty()) << "type '" << type << "'";
    EXPECT_EQ(o.message.find("forged"), std::string::npos) << o.message;
  }
}

TEST(ResultChannel, NonStringErrorTypeIsInvalid) {
  EXPECT_EQ(decode(R"({"ok":false,"type":7})").error, ErrorType::invalid_result);
  EXPECT_EQ(decode(R"({"ok":false,"type":["timeout"]})").error, ErrorType::invalid_result);
  EXPECT_EQ(decode(R"({"ok":false})").error, ErrorType::invalid_result);
}

// ---- size and depth -------------------------------------------------------------------------

TEST(ResultChannel, ResultAtTheDocumentedDepthIsAccepted) {
  const std::string result = nested_arrays(Limits::kMaxResultDepth);
  Outcome o = decode(R"({"ok":true,"result":)" + result + "}");
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(o.result_json, result);
}

TEST(ResultChannel, ResultNestedBeyondTheLimitIsInvalid) {
  for (int depth : {Limits::kMaxResultDepth + 50, 5000, 200000}) {
    Outcome o = decode(R"({"ok":true,"result":)" + nested_arrays(depth) + "}");
    EXPECT_EQ(o.error, ErrorType::invalid_result) << "depth " << depth;
    EXPECT_TRUE(o.result_json.empty());
  }
}

TEST(ResultChannel, DeepNestingInAnErrorFrameIsInvalid) {
  Outcome o = decode(R"({"ok":false,"type":"runtime_error","junk":)" + nested_arrays(5000) + "}");
  EXPECT_EQ(o.error, ErrorType::invalid_result);
}

TEST(ResultChannel, OversizedFrameIsInvalid) {
  Limits limits;
  limits.result_bytes = 1000;
  const std::string big(limits.result_bytes + 8192, 'x');
  Outcome o = decode(R"({"ok":true,"result":")" + big + "\"}", limits);
  EXPECT_EQ(o.error, ErrorType::invalid_result);
  EXPECT_TRUE(o.result_json.empty());
}

TEST(ResultChannel, FrameWithinTheSizeLimitIsAccepted) {
  Limits limits;
  limits.result_bytes = 1000;
  const std::string text(900, 'x');
  Outcome o = decode(R"({"ok":true,"result":")" + text + "\"}", limits);
  ASSERT_EQ(o.error, ErrorType::none) << o.message;
  EXPECT_EQ(o.result_json, "\"" + text + "\"");
}

// ---- the legitimate error types and their fields --------------------------------------------

TEST(ResultChannel, SyntaxErrorCopiesIntegerLineAndColumnOnly) {
  Outcome o = decode(
      R"json({"ok":false,"type":"syntax_error","message":"invalid syntax (line 3, column 5)",)json"
      R"json("line":3,"column":5,"traceback":"t","exit_code":1,"layer":"x"})json");
  ASSERT_EQ(o.error, ErrorType::syntax_error);
  EXPECT_EQ(o.message, "invalid syntax (line 3, column 5)");
  ASSERT_EQ(o.details.size(), 2u) << boost::json::serialize(o.details);
  EXPECT_EQ(o.details.at("line"), 3);
  EXPECT_EQ(o.details.at("column"), 5);
}

TEST(ResultChannel, SyntaxErrorDropsMistypedFields) {
  Outcome o = decode(R"({"ok":false,"type":"syntax_error","line":"3","column":2.5})");
  ASSERT_EQ(o.error, ErrorType::syntax_error);
  EXPECT_TRUE(o.details.empty()) << boost::json::serialize(o.details);
  EXPECT_EQ(o.message, "syntax_error");  // no message given: the type name stands in
}

TEST(ResultChannel, RuntimeErrorCopiesExceptionAndTraceback) {
  Outcome o = decode(
      R"({"ok":false,"type":"runtime_error","message":"ValueError: bad","exception":"ValueError",)"
      R"("traceback":"Traceback (most recent call last):\n  ...\nValueError: bad","line":4})");
  ASSERT_EQ(o.error, ErrorType::runtime_error);
  EXPECT_EQ(o.message, "ValueError: bad");
  ASSERT_EQ(o.details.size(), 2u) << boost::json::serialize(o.details);
  EXPECT_EQ(o.details.at("exception"), "ValueError");
  EXPECT_EQ(o.details.at("traceback"),
            "Traceback (most recent call last):\n  ...\nValueError: bad");
}

TEST(ResultChannel, RuntimeErrorDropsNonStringFields) {
  Outcome o =
      decode(R"({"ok":false,"type":"runtime_error","exception":{"a":1},"traceback":["x"]})");
  ASSERT_EQ(o.error, ErrorType::runtime_error);
  EXPECT_TRUE(o.details.empty()) << boost::json::serialize(o.details);
}

TEST(ResultChannel, RuntimeErrorFieldsAreBounded) {
  const std::string huge(1 << 20, 'x');
  Outcome o = decode(R"({"ok":false,"type":"runtime_error","message":")" + huge +
                     R"(","exception":")" + huge + R"(","traceback":")" + huge + "\"}");
  ASSERT_EQ(o.error, ErrorType::runtime_error);
  EXPECT_LE(o.message.size(), 4096u + 16);
  EXPECT_GE(o.message.size(), 1024u);  // bounded, not dropped
  EXPECT_LE(o.details.at("exception").as_string().size(), 256u + 16);
  const auto traceback_size = o.details.at("traceback").as_string().size();
  EXPECT_LE(traceback_size, 64u * 1024 + 16);
  EXPECT_GE(traceback_size, 32u * 1024);
}

TEST(ResultChannel, BoundedMessageCutInsideACharacterIsStillValidUtf8) {
  std::string accented;
  for (int i = 0; i < 3000; ++i) accented += "\xc3\xa9";  // é: the cut lands mid-character
  std::string euro;
  for (int i = 0; i < 2000; ++i) euro += "\xe2\x82\xac";
  for (const std::string& text : {accented, euro}) {
    Outcome o = decode(R"({"ok":false,"type":"runtime_error","message":")" + text + "\"}");
    ASSERT_EQ(o.error, ErrorType::runtime_error);
    EXPECT_LT(o.message.size(), text.size());
    EXPECT_EQ(to_valid_utf8(o.message), o.message);
  }
}

TEST(ResultChannel, NonStringMessageFallsBackToTheTypeName) {
  Outcome o = decode(R"({"ok":false,"type":"missing_main","message":{"x":1}})");
  ASSERT_EQ(o.error, ErrorType::missing_main);
  EXPECT_EQ(o.message, "missing_main");
  EXPECT_TRUE(o.details.empty());
}

TEST(ResultChannel, MissingMainAndNotCallableCarryNoDetails) {
  for (std::string_view type : {"missing_main", "main_not_callable"}) {
    Outcome o = decode(R"({"ok":false,"type":")" + std::string(type) +
                       R"(","message":"m","line":1,"path":"p","exit_code":2})");
    EXPECT_EQ(error_type_name(o.error), type);
    EXPECT_EQ(o.message, "m");
    EXPECT_TRUE(o.details.empty()) << boost::json::serialize(o.details);
  }
}

TEST(ResultChannel, NotSerializableCopiesPathAndValueType) {
  Outcome o = decode(R"({"ok":false,"type":"not_serializable","message":"m","path":"result['a']",)"
                     R"("value_type":"set","exception":"E"})");
  ASSERT_EQ(o.error, ErrorType::not_serializable);
  ASSERT_EQ(o.details.size(), 2u) << boost::json::serialize(o.details);
  EXPECT_EQ(o.details.at("path"), "result['a']");
  EXPECT_EQ(o.details.at("value_type"), "set");
}

TEST(ResultChannel, NotSerializablePathIsBounded) {
  const std::string long_path(100000, 'p');
  Outcome o = decode(R"({"ok":false,"type":"not_serializable","path":")" + long_path + "\"}");
  ASSERT_EQ(o.error, ErrorType::not_serializable);
  EXPECT_LE(o.details.at("path").as_string().size(), 1024u + 16);
}

TEST(ResultChannel, ResultTooLargeReportsOurLimitNotTheScripts) {
  Limits limits;
  limits.result_bytes = 12345;
  Outcome o = decode(R"({"ok":false,"type":"result_too_large","size_bytes":99999,"limit_bytes":1})",
                     limits);
  ASSERT_EQ(o.error, ErrorType::result_too_large);
  EXPECT_EQ(o.details.at("size_bytes"), 99999);
  EXPECT_EQ(o.details.at("limit_bytes"), 12345);
}

TEST(ResultChannel, ExitedCopiesExitCodeButNeverASignal) {
  Outcome o = decode(R"({"ok":false,"type":"exited","exit_code":3,"signal":"SIGKILL"})");
  ASSERT_EQ(o.error, ErrorType::exited);
  ASSERT_EQ(o.details.size(), 1u) << boost::json::serialize(o.details);
  EXPECT_EQ(o.details.at("exit_code"), 3);
}

TEST(ResultChannel, ExitedWithNonIntegerCodeDropsIt) {
  Outcome o = decode(R"({"ok":false,"type":"exited","exit_code":"3"})");
  ASSERT_EQ(o.error, ErrorType::exited);
  EXPECT_TRUE(o.details.empty());
}

TEST(ResultChannel, MemoryErrorUsesOurLimitAndOurMessage) {
  Limits limits;
  limits.memory_bytes = 256ull << 20;
  Outcome o =
      decode(R"({"ok":false,"type":"memory_limit","message":"forged text","limit_mib":1})", limits);
  ASSERT_EQ(o.error, ErrorType::memory_limit);
  EXPECT_EQ(o.details.at("limit_mib"), 256);
  EXPECT_EQ(o.message.find("forged"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("256 MiB"), std::string::npos) << o.message;
}

TEST(ResultChannel, AnErrorFrameClearsAnEarlierResult) {
  Outcome o;
  o.error = ErrorType::none;
  o.result_json = "[1]";
  decode_result_frame("garbage", Limits{}, o);
  EXPECT_EQ(o.error, ErrorType::invalid_result);
  EXPECT_TRUE(o.result_json.empty());
}

}  // namespace
}  // namespace stacksync::engine
