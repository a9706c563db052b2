#include "server/request_id.h"

#include <cstdint>
#include <random>

namespace stacksync::server {

bool is_acceptable_request_id(std::string_view candidate) {
  if (candidate.empty() || candidate.size() > 128) return false;
  for (char c : candidate) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == ':' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

std::string generate_request_id() {
  // Ids need to be unique, not secret: a per-thread generator seeded from the OS is enough.
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = generator();
    for (int i = 0; i < 16; ++i, bits >>= 4) id += kHex[bits & 0xf];
  }
  return id;
}

std::string choose_request_id(std::string_view from_client) {
  if (is_acceptable_request_id(from_client)) return std::string(from_client);
  return generate_request_id();
}

}  // namespace stacksync::server
