// The service's routes, from a request target. Shared by the router (Service) and the request
// counter (its `route` label), so that both agree; anything unknown is one value, "other", so that
// clients cannot create label values at will.
//
//   route_label(route_of("/healthz?verbose=1"))  // "/healthz"
#pragma once

#include <string_view>

namespace stacksync::server {

enum class Route { execute, healthz, metrics, unknown };

inline Route route_of(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/execute") return Route::execute;
  if (path == "/healthz") return Route::healthz;
  if (path == "/metrics") return Route::metrics;
  return Route::unknown;
}

inline std::string_view route_label(Route route) {
  switch (route) {
    case Route::execute:
      return "/execute";
    case Route::healthz:
      return "/healthz";
    case Route::metrics:
      return "/metrics";
    case Route::unknown:
      break;
  }
  return "other";
}

}  // namespace stacksync::server
