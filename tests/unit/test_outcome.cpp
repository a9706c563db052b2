// render_outcome and to_valid_utf8: the public JSON shape, and that it stays valid JSON whatever
// bytes the script printed. Every rendering is parsed back with Boost.JSON, which rejects
// invalid UTF-8, so "valid JSON" is checked by a real parser rather than by eye.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>
#include <set>
#include <string>

#include "engine/classify.h"
#include "engine/outcome.h"

namespace stacksync::engine {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

boost::json::object parse_object(const std::string& text) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << "not valid JSON (" << ec.message() << "): " << text;
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::set<std::string> keys_of(const boost::json::object& object) {
  std::set<std::string> keys;
  for (const auto& field : object) keys.emplace(field.key());
  return keys;
}

Outcome success(std::string result_json) {
  Outcome o;
  o.error = ErrorType::none;
  o.result_json = std::move(result_json);
  return o;
}

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

// True if a JSON parser accepts `text` as the contents of a string literal: the UTF-8 oracle.
// Only for inputs without quotes, backslashes or control characters.
bool json_accepts_as_utf8(const std::string& text) {
  boost::json::error_code ec;
  (void)boost::json::parse("\"" + text + "\"", ec);
  return !ec;
}

// ---- render_outcome: success ----------------------------------------------------------------

TEST(RenderOutcome, SuccessHasExactlyResultStdoutStderr) {
  Outcome o = success(R"({"a":1.5,"b":[1,2]})");
  o.stdout_bytes = "hello\n";
  o.stderr_bytes = "warn\n";
  const std::string text = render_outcome(o);
  boost::json::object json = parse_object(text);
  EXPECT_EQ(keys_of(json), (std::set<std::string>{"result", "stdout", "stderr"})) << text;
  EXPECT_EQ(json["result"], boost::json::parse(R"({"a":1.5,"b":[1,2]})"));
  EXPECT_EQ(json["stdout"], "hello\n");
  EXPECT_EQ(json["stderr"], "warn\n");
}

TEST(RenderOutcome, SuccessSplicesTheResultTextUnchanged) {
  const std::string text = render_outcome(success("[1.0,12345678901234567890123]"));
  EXPECT_EQ(text.rfind(R"({"result":[1.0,12345678901234567890123],)", 0), 0u) << text;
  parse_object(text);
}

TEST(RenderOutcome, SuccessWithScalarResults) {
  for (std::string_view result : {"null", "false", "0", "\"\"", "{}", "[]"}) {
    boost::json::object json = parse_object(render_outcome(success(std::string(result))));
    EXPECT_EQ(json["result"], boost::json::parse(result)) << result;
  }
}

TEST(RenderOutcome, SuccessIgnoresLeftoverErrorFields) {
  Outcome o = success("1");
  o.message = "stale";
  o.details["line"] = 3;
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_EQ(keys_of(json), (std::set<std::string>{"result", "stdout", "stderr"}));
}

// ---- render_outcome: errors -----------------------------------------------------------------

TEST(RenderOutcome, ErrorHasMessageTypeOutputAndDetails) {
  Outcome o;
  o.error = ErrorType::runtime_error;
  o.message = "ValueError: bad";
  o.details["exception"] = "ValueError";
  o.details["traceback"] = "Traceback ...";
  o.stdout_bytes = "partial";
  o.result_json = "[1]";  // must not leak into an error rendering
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_EQ(keys_of(json),
            (std::set<std::string>{"error", "type", "stdout", "stderr", "exception", "traceback"}));
  EXPECT_EQ(json["error"], "ValueError: bad");
  EXPECT_EQ(json["type"], "runtime_error");
  EXPECT_EQ(json["stdout"], "partial");
  EXPECT_EQ(json["stderr"], "");
  EXPECT_EQ(json["exception"], "ValueError");
}

TEST(RenderOutcome, EveryErrorTypeRendersItsName) {
  const std::pair<ErrorType, std::string_view> types[] = {
      {ErrorType::missing_main, "missing_main"},
      {ErrorType::main_not_callable, "main_not_callable"},
      {ErrorType::syntax_error, "syntax_error"},
      {ErrorType::runtime_error, "runtime_error"},
      {ErrorType::not_serializable, "not_serializable"},
      {ErrorType::result_too_large, "result_too_large"},
      {ErrorType::invalid_result, "invalid_result"},
      {ErrorType::timeout, "timeout"},
      {ErrorType::memory_limit, "memory_limit"},
      {ErrorType::exited, "exited"},
      {ErrorType::sandbox_error, "sandbox_error"},
  };
  for (const auto& [type, name] : types) {
    EXPECT_EQ(error_type_name(type), name);
    Outcome o;
    o.error = type;
    o.message = "m";
    boost::json::object json = parse_object(render_outcome(o));
    EXPECT_EQ(std::string(json["type"].as_string()), name);
    EXPECT_FALSE(json.contains("result")) << name;
  }
}

TEST(RenderOutcome, SandboxErrorNamesTheLayer) {
  Outcome o = sandbox_error("seccomp", "prctl(PR_SET_SECCOMP): Invalid argument");
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_EQ(json["type"], "sandbox_error");
  EXPECT_EQ(json["layer"], "seccomp");
  EXPECT_NE(std::string(json["error"].as_string()).find("seccomp"), std::string::npos);
}

TEST(RenderOutcome, SandboxErrorOutcomeForAMissingExecutor) {
  Outcome o = sandbox_error_outcome("no cgroups");
  EXPECT_EQ(o.error, ErrorType::sandbox_error);
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_EQ(json["type"], "sandbox_error");
  EXPECT_NE(std::string(json["error"].as_string()).find("no cgroups"), std::string::npos);
}

// ---- truncation flags and extra fields ------------------------------------------------------

TEST(RenderOutcome, TruncationFlagsAppearOnlyWhenSet) {
  Outcome o = success("1");
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_FALSE(json.contains("stdout_truncated"));
  EXPECT_FALSE(json.contains("stderr_truncated"));

  o.stdout_truncated = true;
  json = parse_object(render_outcome(o));
  EXPECT_EQ(json["stdout_truncated"], true);
  EXPECT_FALSE(json.contains("stderr_truncated"));

  o.stderr_truncated = true;
  o.stdout_truncated = false;
  json = parse_object(render_outcome(o));
  EXPECT_FALSE(json.contains("stdout_truncated"));
  EXPECT_EQ(json["stderr_truncated"], true);
}

TEST(RenderOutcome, TruncationFlagsOnErrors) {
  Outcome o;
  o.error = ErrorType::timeout;
  o.message = "t";
  o.stdout_truncated = true;
  o.stderr_truncated = true;
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_EQ(json["stdout_truncated"], true);
  EXPECT_EQ(json["stderr_truncated"], true);
}

TEST(RenderOutcome, ExtraFieldsAreAppendedToBothShapes) {
  const boost::json::object extra{{"requestId", "req-42"}, {"duration_ms", 17}};
  boost::json::object ok = parse_object(render_outcome(success("[1]"), extra));
  EXPECT_EQ(keys_of(ok),
            (std::set<std::string>{"result", "stdout", "stderr", "requestId", "duration_ms"}));
  EXPECT_EQ(ok["requestId"], "req-42");
  EXPECT_EQ(ok["duration_ms"], 17);

  Outcome failed;
  failed.error = ErrorType::exited;
  failed.message = "m";
  boost::json::object err = parse_object(render_outcome(failed, extra));
  EXPECT_EQ(err["requestId"], "req-42");
  EXPECT_EQ(err["type"], "exited");
}

// ---- output bytes that are not UTF-8 text ---------------------------------------------------

TEST(RenderOutcome, InvalidUtf8AndNulInStdoutStillGiveValidJson) {
  Outcome o = success("1");
  o.stdout_bytes = std::string("a\0b\xff\xfe c\xc3", 8);
  o.stderr_bytes = std::string("\x80\0\xed\xa0\x80", 5);
  const std::string text = render_outcome(o);
  boost::json::object json = parse_object(text);
  const std::string expected_stdout = std::string("a\0b", 3) + std::string(kReplacement) +
                                      std::string(kReplacement) + " c" + std::string(kReplacement);
  EXPECT_EQ(std::string(json["stdout"].as_string()), expected_stdout);
  EXPECT_EQ(std::string(json["stderr"].as_string()),
            std::string(kReplacement) + std::string("\0", 1) + repeat(kReplacement, 3));
  EXPECT_NE(text.find("\\u0000"), std::string::npos) << "NUL must be escaped, not raw";
  EXPECT_EQ(text.find('\0'), std::string::npos);
}

TEST(RenderOutcome, ControlCharactersAndQuotesAreEscaped) {
  Outcome o;
  o.error = ErrorType::runtime_error;
  o.message = "quote \" backslash \\ bell \x07";
  o.stdout_bytes = "line1\nline2\r\t\x1b[31m\"";
  boost::json::object json = parse_object(render_outcome(o));
  EXPECT_EQ(json["stdout"], "line1\nline2\r\t\x1b[31m\"");
  EXPECT_EQ(json["error"], "quote \" backslash \\ bell \x07");
}

TEST(RenderOutcome, RandomBytesInOutputAlwaysGiveValidJson) {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
  for (int i = 0; i < 2000; ++i) {
    Outcome o = success("0");
    for (int n = length(random); n > 0; --n)
      o.stdout_bytes.push_back(static_cast<char>(byte(random)));
    for (int n = length(random); n > 0; --n)
      o.stderr_bytes.push_back(static_cast<char>(byte(random)));
    boost::json::error_code ec;
    (void)boost::json::parse(render_outcome(o), ec);
    ASSERT_FALSE(ec) << "iteration " << i;
  }
}

// ---- to_valid_utf8 --------------------------------------------------------------------------

TEST(ToValidUtf8, ValidTextIsUnchanged) {
  for (std::string text : {std::string(""), std::string("plain ascii ~"),
                           std::string("\xc3\xa9"),          // é, 2 bytes
                           std::string("\xe2\x82\xac"),      // €, 3 bytes
                           std::string("\xf0\x9f\x98\x80"),  // 😀, 4 bytes
                           std::string("\xed\x9f\xbf"),      // U+D7FF, just below surrogates
                           std::string("\xee\x80\x80"),      // U+E000, just above them
                           std::string("\xef\xbf\xbd"),      // U+FFFD itself
                           std::string("\xf4\x8f\xbf\xbf"),  // U+10FFFF, the last code point
                           std::string("\xc2\x80"),          // U+0080, smallest 2-byte
                           std::string("\xe0\xa0\x80"),      // U+0800, smallest 3-byte
                           std::string("\xf0\x90\x80\x80"),  // U+10000, smallest 4-byte
                           std::string("\0mid\0", 5)}) {
    EXPECT_EQ(to_valid_utf8(text), text);
  }
}

TEST(ToValidUtf8, OverlongEncodingsAreReplaced) {
  // '/' as 2, 3 and 4 bytes, and NUL as 2 bytes (the "modified UTF-8" trick).
  EXPECT_EQ(to_valid_utf8("\xc0\xaf"), repeat(kReplacement, 2));
  EXPECT_EQ(to_valid_utf8("\xc1\xbf"), repeat(kReplacement, 2));
  EXPECT_EQ(to_valid_utf8("\xe0\x80\xaf"), repeat(kReplacement, 3));
  EXPECT_EQ(to_valid_utf8("\xe0\x9f\xbf"), repeat(kReplacement, 3));
  EXPECT_EQ(to_valid_utf8("\xf0\x80\x80\xaf"), repeat(kReplacement, 4));
  EXPECT_EQ(to_valid_utf8("\xf0\x8f\xbf\xbf"), repeat(kReplacement, 4));
  EXPECT_EQ(to_valid_utf8(std::string("\xc0\x80", 2)), repeat(kReplacement, 2));
}

TEST(ToValidUtf8, SurrogatesAreReplaced) {
  EXPECT_EQ(to_valid_utf8("\xed\xa0\x80"), repeat(kReplacement, 3));  // U+D800
  EXPECT_EQ(to_valid_utf8("\xed\xbf\xbf"), repeat(kReplacement, 3));  // U+DFFF
  // A CESU-8 surrogate pair for U+1F600.
  EXPECT_EQ(to_valid_utf8("\xed\xa0\xbd\xed\xb8\x80"), repeat(kReplacement, 6));
}

TEST(ToValidUtf8, CodePointsAboveTheUnicodeRangeAreReplaced) {
  EXPECT_EQ(to_valid_utf8("\xf4\x90\x80\x80"), repeat(kReplacement, 4));  // U+110000
  EXPECT_EQ(to_valid_utf8("\xf5\x80\x80\x80"), repeat(kReplacement, 4));
  EXPECT_EQ(to_valid_utf8("\xf7\xbf\xbf\xbf"), repeat(kReplacement, 4));
  EXPECT_EQ(to_valid_utf8("\xf8\x88\x80\x80\x80"), repeat(kReplacement, 5));  // old 5-byte
  EXPECT_EQ(to_valid_utf8("\xfc\x84\x80\x80\x80\x80"), repeat(kReplacement, 6));
  EXPECT_EQ(to_valid_utf8("\xfe\xff"), repeat(kReplacement, 2));
}

TEST(ToValidUtf8, LoneContinuationBytesAreReplacedOneEach) {
  EXPECT_EQ(to_valid_utf8("a\x80"
                          "b\xbf"
                          "c"),
            "a" + std::string(kReplacement) + "b" + std::string(kReplacement) + "c");
}

TEST(ToValidUtf8, TruncatedSequencesAreReplacedAndWhatFollowsIsKept) {
  for (std::string cut :
       {std::string("\xc3"), std::string("\xe2\x82"), std::string("\xe2"),
        std::string("\xf0\x9f\x98"), std::string("\xf0\x9f"), std::string("\xf0")}) {
    // At the very end (output cut at the cap), and followed by ASCII or by a valid character.
    for (std::string after : {std::string(""), std::string("AB"), std::string("\xc3\xa9z")}) {
      const std::string out = to_valid_utf8("x" + cut + after);
      EXPECT_TRUE(json_accepts_as_utf8(out)) << "cut " << cut.size() << " bytes";
      EXPECT_EQ(out.rfind("x" + std::string(kReplacement), 0), 0u);
      EXPECT_TRUE(out.ends_with(std::string(kReplacement) + after)) << "follow-up lost";
      EXPECT_LE(out.size(), 1 + cut.size() * kReplacement.size() + after.size());
    }
  }
}

TEST(ToValidUtf8, BadSecondByteDoesNotSwallowTheNextCharacter) {
  // \xe2 followed by an ASCII byte: the ASCII byte must survive, not be eaten as a continuation.
  EXPECT_EQ(to_valid_utf8("\xe2(\xa1"),
            std::string(kReplacement) + "(" + std::string(kReplacement));
  EXPECT_EQ(to_valid_utf8("\xf0\x9f\x98"
                          "\xf0\x9f\x98\x80"),
            std::string(to_valid_utf8("\xf0\x9f\x98")) + "\xf0\x9f\x98\x80");
}

TEST(ToValidUtf8, RandomBytesAlwaysBecomeValidUtf8KeepingPrintableAscii) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0x20, 0xff), length(0, 48);
  for (int i = 0; i < 5000; ++i) {
    std::string input;
    for (int n = length(random); n > 0; --n) {
      char c = static_cast<char>(byte(random));
      if (c == '"' || c == '\\' || c == 0x7f) c = 'q';
      input.push_back(c);
    }
    const std::string out = to_valid_utf8(input);
    ASSERT_TRUE(json_accepts_as_utf8(out)) << "iteration " << i;
    ASSERT_EQ(to_valid_utf8(out), out) << "not idempotent at iteration " << i;
    std::string ascii_in, ascii_out;
    for (char c : input)
      if (static_cast<unsigned char>(c) < 0x80) ascii_in.push_back(c);
    for (char c : out)
      if (static_cast<unsigned char>(c) < 0x80) ascii_out.push_back(c);
    ASSERT_EQ(ascii_out, ascii_in) << "iteration " << i;
  }
}

}  // namespace
}  // namespace stacksync::engine
