// engine::to_valid_utf8 makes the script's stdout and stderr safe to put in a JSON string. Any
// byte string goes in; what comes out must be valid UTF-8, must be the input itself when the input
// was already valid, and must never lose the ASCII around a bad byte (a lone lead byte that
// swallowed the following quote or newline would change what the user sees).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/outcome.h"
#include "fuzz_support.h"

namespace {

std::string ascii_only(std::string_view text) {
  std::string ascii;
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x80) ascii.push_back(c);
  return ascii;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string output = stacksync::engine::to_valid_utf8(input);

  FUZZ_CHECK(stacksync::fuzz::is_valid_utf8(output), "output is valid UTF-8");
  if (stacksync::fuzz::is_valid_utf8(input)) {
    FUZZ_CHECK(output == input, "valid input comes back unchanged");
  } else {
    FUZZ_CHECK(output != input, "invalid input is changed");
    // Each bad byte becomes at most one 3-byte U+FFFD.
    FUZZ_CHECK(output.size() <= 3 * input.size(), "output at most three times the input");
  }
  FUZZ_CHECK(ascii_only(output) == ascii_only(input), "every ASCII byte survives, in order");
  return 0;
}
