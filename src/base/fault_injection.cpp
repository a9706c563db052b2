#include "base/fault_injection.h"

#ifdef STACKSYNC_FAULT_INJECTION

#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

namespace stacksync {
namespace {

struct Faults {
  std::mutex mutex;
  std::map<std::string, long> nth;   // 0: every time
  std::map<std::string, long> seen;  // guarded by mutex
};

Faults& faults() {
  static Faults* instance = [] {
    auto* f = new Faults;
    if (const char* spec = std::getenv("STACKSYNC_FAULTS")) {
      std::stringstream items(spec);
      std::string item;
      while (std::getline(items, item, ',')) {
        auto colon = item.find(':');
        f->nth[item.substr(0, colon)] =
            colon == std::string::npos ? 0 : std::atol(item.c_str() + colon + 1);
      }
    }
    return f;
  }();
  return *instance;
}

}  // namespace

bool inject_fault(std::string_view point) {
  Faults& f = faults();
  std::lock_guard lock(f.mutex);
  auto it = f.nth.find(std::string(point));
  if (it == f.nth.end()) return false;
  const long count = ++f.seen[it->first];
  return it->second == 0 || it->second == count;
}

std::string warm_fault_spec() {
  Faults& f = faults();
  std::string spec;
  for (const char* point : {"spare_setup", "payload_setup"}) {
    auto it = f.nth.find(point);
    if (it != f.nth.end())
      spec += std::string(" fault=") + point + ":" + std::to_string(it->second);
  }
  return spec;
}

}  // namespace stacksync

#endif
