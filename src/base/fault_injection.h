// Fault injection for tests of our own failure paths. Only in builds configured with
// -DSTACKSYNC_FAULT_INJECTION=ON; elsewhere inject_fault() is constant false and costs nothing.
//
//   STACKSYNC_FAULTS="cgroup_create:3,zygote_kill:2" stacksync serve ...
//   if (inject_fault("cgroup_create")) return Error{"cgroup: injected fault"};
//
// "point:N" fails the Nth time the point is reached (counting from 1); "point" fails every time.
// Points: cgroup_create, sandbox_spawn, zygote_kill (engine), spare_setup, payload_setup (the
// warm zygote, through warm_fault_spec()).
#pragma once

#include <string>
#include <string_view>

namespace stacksync {

#ifdef STACKSYNC_FAULT_INJECTION
bool inject_fault(std::string_view point);
// The faults meant for the warm zygote's python side, as "point:N ..." (empty when none).
std::string warm_fault_spec();
#else
constexpr bool inject_fault(std::string_view) {
  return false;
}
inline std::string warm_fault_spec() {
  return {};
}
#endif

}  // namespace stacksync
