#include "base/result.h"

#include <cstring>

namespace stacksync {

Error errno_error(std::string_view what, int err) {
  return Error{std::string(what) + ": " + std::strerror(err)};
}

}  // namespace stacksync
