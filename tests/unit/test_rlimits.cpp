// apply_rlimits in a forked child: the values the kernel reports back, and that they bite.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "child_process.h"
#include "jail/rlimits.h"

namespace stacksync::jail {
namespace {

using stacksync::testing::ChildResult;
using stacksync::testing::run_in_child;
using stacksync::testing::write_report;

struct Limit {
  unsigned long long soft = 0, hard = 0;
  bool operator==(const Limit&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Limit& limit) {
  return out << "{soft " << limit.soft << ", hard " << limit.hard << "}";
}

// Applies `limits` in a child and returns what getrlimit reports there, one resource per line.
std::map<std::string, Limit> limits_seen_in_child(const Rlimits& limits) {
  ChildResult child = run_in_child([&](int report) -> int {
    if (apply_rlimits(limits).failed()) return 1;
    const std::pair<const char*, int> resources[] = {
        {"cpu", RLIMIT_CPU},   {"fsize", RLIMIT_FSIZE}, {"nofile", RLIMIT_NOFILE},
        {"core", RLIMIT_CORE}, {"stack", RLIMIT_STACK}, {"memlock", RLIMIT_MEMLOCK}};
    for (const auto& [name, resource] : resources) {
      rlimit value{};
      if (::getrlimit(resource, &value) != 0) return 2;
      char line[128];
      const int n = std::snprintf(line, sizeof(line), "%s %llu %llu\n", name,
                                  static_cast<unsigned long long>(value.rlim_cur),
                                  static_cast<unsigned long long>(value.rlim_max));
      write_report(report, std::string_view(line, n));
    }
    return 0;
  });
  EXPECT_TRUE(child.exited_with(0)) << child.describe();
  std::map<std::string, Limit> seen;
  std::istringstream lines(child.report);
  std::string name;
  Limit limit;
  while (lines >> name >> limit.soft >> limit.hard) seen[name] = limit;
  return seen;
}

TEST(Rlimits, CustomValuesAreWhatTheKernelReports) {
  Rlimits limits;
  limits.cpu_seconds = 3;
  limits.file_bytes = 1 << 20;
  limits.open_files = 64;
  limits.stack_bytes = 4 << 20;
  auto seen = limits_seen_in_child(limits);
  EXPECT_EQ(seen["cpu"], (Limit{3, 4}));  // soft sends SIGXCPU, hard one second later kills
  EXPECT_EQ(seen["fsize"], (Limit{1 << 20, 1 << 20}));
  EXPECT_EQ(seen["nofile"], (Limit{64, 64}));
  EXPECT_EQ(seen["core"], (Limit{0, 0}));
  EXPECT_EQ(seen["stack"], (Limit{4 << 20, 4 << 20}));
  EXPECT_EQ(seen["memlock"], (Limit{0, 0}));
}

TEST(Rlimits, DefaultsMatchTheDocumentedValues) {
  auto seen = limits_seen_in_child(Rlimits{});
  EXPECT_EQ(seen["cpu"], (Limit{10, 11}));
  EXPECT_EQ(seen["fsize"], (Limit{64ull << 20, 64ull << 20}));
  EXPECT_EQ(seen["nofile"], (Limit{256, 256}));
  EXPECT_EQ(seen["core"], (Limit{0, 0}));
  EXPECT_EQ(seen["stack"], (Limit{8ull << 20, 8ull << 20}));
}

TEST(Rlimits, FileSizeLimitKillsWithSigxfsz) {
  char path[] = "/tmp/stacksync-rlimit-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ChildResult child = run_in_child([fd](int) -> int {
    Rlimits limits;
    limits.file_bytes = 64 * 1024;
    if (apply_rlimits(limits).failed()) return 1;
    char block[4096] = {};
    for (int i = 0; i < 64; ++i)  // 256 KiB, four times the limit
      if (::write(fd, block, sizeof(block)) < 0) return 2;
    return 0;
  });
  ::close(fd);
  EXPECT_TRUE(child.killed_by(SIGXFSZ)) << child.describe();
}

TEST(Rlimits, OpenFilesLimitStopsOpening) {
  ChildResult child = run_in_child([](int report) -> int {
    Rlimits limits;
    limits.open_files = 20;
    if (apply_rlimits(limits).failed()) return 1;
    int opened = 0;
    for (int i = 0; i < 100; ++i) {
      if (::open("/dev/null", O_RDONLY) < 0) {
        if (errno != EMFILE) return 2;
        char text[32];
        write_report(report,
                     std::string_view(text, std::snprintf(text, sizeof(text), "%d", opened)));
        return 0;
      }
      ++opened;
    }
    return 3;
  });
  ASSERT_TRUE(child.exited_with(0)) << child.describe();
  EXPECT_LT(std::stoi(child.report), 20);
}

TEST(Rlimits, TheHardLimitsCannotBeRaisedWithoutPrivilege) {
  ChildResult child = run_in_child([](int) -> int {
    if (apply_rlimits(Rlimits{}).failed()) return 1;
    if (::setresuid(65534, 65534, 65534) != 0) return 2;  // as the sandbox runs: no capabilities
    const rlimit more{1024, 1024};
    if (::setrlimit(RLIMIT_NOFILE, &more) == 0) return 3;
    const rlimit core{1 << 20, 1 << 20};
    if (::setrlimit(RLIMIT_CORE, &core) == 0) return 4;
    return 0;
  });
  EXPECT_TRUE(child.exited_with(0)) << child.describe();
}

TEST(Rlimits, CpuLimitSendsSigxcpu) {
  ChildResult child = run_in_child(
      [](int) -> int {
        Rlimits limits;
        limits.cpu_seconds = 1;
        if (apply_rlimits(limits).failed()) return 1;
        for (;;) asm volatile("" ::: "memory");  // burn CPU; the compiler may not drop it
      },
      30);  // one CPU second can take long on a loaded machine
  EXPECT_TRUE(child.killed_by(SIGXCPU)) << child.describe();
}

}  // namespace
}  // namespace stacksync::jail
