// drop_bounding_set + drop_all_capabilities in a forked child of the (root) test runner: the
// kernel's own view in /proc/self/status must show nothing left, also after an execve as uid 0.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <sstream>
#include <string>

#include "child_process.h"
#include "jail/capabilities.h"

namespace stacksync::jail {
namespace {

using stacksync::testing::ChildResult;
using stacksync::testing::run_in_child;
using stacksync::testing::write_report;

// Copies /proc/self/status to the report pipe with read/write only.
int report_own_status(int report) {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 90;
  char buffer[8192];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
    write_report(report, std::string_view(buffer, static_cast<std::size_t>(n)));
  ::close(fd);
  return 0;
}

std::map<std::string, std::string> status_fields(const std::string& status) {
  std::map<std::string, std::string> fields;
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

bool running_as_root() {
  return ::geteuid() == 0;
}

TEST(Capabilities, DropAllLeavesNothingAndSetsNoNewPrivs) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: there would be no capabilities to drop";
  ChildResult child = run_in_child([](int report) -> int {
    if (drop_bounding_set().failed()) return 1;
    if (drop_all_capabilities().failed()) return 2;
    return report_own_status(report);
  });
  ASSERT_TRUE(child.exited_with(0)) << child.describe();
  auto fields = status_fields(child.report);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_EQ(fields[set], "0000000000000000") << set;
  EXPECT_EQ(fields["NoNewPrivs"], "1");
}

TEST(Capabilities, TheTestRunnerReallyHadCapabilitiesToDrop) {
  // Control for the test above: without the drop, root's sets are not empty.
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  ChildResult child = run_in_child([](int report) { return report_own_status(report); });
  ASSERT_TRUE(child.exited_with(0)) << child.describe();
  auto fields = status_fields(child.report);
  EXPECT_NE(fields["CapEff"], "0000000000000000");
  EXPECT_NE(fields["CapBnd"], "0000000000000000");
}

TEST(Capabilities, BoundingSetGoesFirstWhileEffectiveCapabilitiesRemain) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  ChildResult child = run_in_child([](int report) -> int {
    if (drop_bounding_set().failed()) return 1;
    return report_own_status(report);
  });
  ASSERT_TRUE(child.exited_with(0)) << child.describe();
  auto fields = status_fields(child.report);
  EXPECT_EQ(fields["CapBnd"], "0000000000000000");
  EXPECT_EQ(fields["CapAmb"], "0000000000000000");
  EXPECT_NE(fields["CapEff"], "0000000000000000") << "the later privileged steps need them";
}

TEST(Capabilities, DroppingTheBoundingSetWithoutCapabilitiesReportsTheLayer) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  // The wrong order (everything dropped first) must fail loudly, not half-succeed.
  ChildResult child = run_in_child([](int) -> int {
    if (drop_all_capabilities().failed()) return 1;
    ChildStep step = drop_bounding_set();
    if (!step.failed()) return 2;
    return std::string_view(step.layer) == "capabilities" && step.err == EPERM ? 0 : 3;
  });
  EXPECT_TRUE(child.exited_with(0)) << child.describe();
}

TEST(Capabilities, CapabilityChecksFailAfterTheDrop) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  ChildResult child = run_in_child([](int) -> int {
    // Raising priority needs CAP_SYS_NICE: possible before, refused after.
    if (::setpriority(PRIO_PROCESS, 0, -1) != 0) return 1;
    if (drop_bounding_set().failed() || drop_all_capabilities().failed()) return 2;
    if (::setpriority(PRIO_PROCESS, 0, -2) == 0) return 3;
    return errno == EACCES || errno == EPERM ? 0 : 4;
  });
  EXPECT_TRUE(child.exited_with(0)) << child.describe();
}

TEST(Capabilities, ExecveAsRootDoesNotGiveThemBack) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  // uid 0 normally regains a full permitted set at execve; an empty bounding set and
  // no_new_privs must prevent that.
  ChildResult child = run_in_child([](int report) -> int {
    if (drop_bounding_set().failed() || drop_all_capabilities().failed()) return 1;
    if (::dup2(report, 1) < 0) return 2;
    char* const argv[] = {const_cast<char*>("/usr/bin/cat"), const_cast<char*>("/proc/self/status"),
                          nullptr};
    char* const envp[] = {nullptr};
    ::execve(argv[0], argv, envp);
    return 3;
  });
  ASSERT_TRUE(child.exited_with(0)) << child.describe();
  auto fields = status_fields(child.report);
  EXPECT_EQ(fields["Uid"].substr(0, 1), "0") << "the exec'd process should still be uid 0";
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_EQ(fields[set], "0000000000000000") << set << " after execve";
  EXPECT_EQ(fields["NoNewPrivs"], "1");
}

}  // namespace
}  // namespace stacksync::jail
