// CgroupTree and RunCgroup on this machine's real cgroup hierarchy (v1 memory+pids, or v2):
// limits written and read back, processes attached, killed, OOM-killed, and directories removed.
// Everything is created below the test process's own cgroup, as the service does.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jail/cgroups.h"

namespace stacksync::jail {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::string dir_of(const std::string& file) {
  return file.substr(0, file.rfind('/'));
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// What /proc/self/cgroup says: the v2 path, and the v1 path of each named controller.
struct OwnCgroups {
  bool v1 = false;
  std::string v2_path;
  std::map<std::string, std::string> v1_paths;
};

OwnCgroups own_cgroups() {
  OwnCgroups own;
  std::istringstream lines(read_text("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      own.v2_path = path;
      continue;
    }
    own.v1 = true;
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) own.v1_paths[name] = path;
  }
  return own;
}

// Mount point of the v1 hierarchy carrying `controller`, or of cgroup2 if controller is empty.
std::string cgroup_mount(const std::string& controller) {
  std::istringstream lines(read_text("/proc/self/mounts"));
  std::string device, mount_point, type, options;
  std::string rest;
  while (lines >> device >> mount_point >> type >> options) {
    std::getline(lines, rest);
    if (controller.empty() && type == "cgroup2") return mount_point;
    if (!controller.empty() && type == "cgroup") {
      std::istringstream opts(options);
      std::string opt;
      while (std::getline(opts, opt, ','))
        if (opt == controller) return mount_point;
    }
  }
  return {};
}

std::string below(const std::string& mount, const std::string& path) {
  return path == "/" ? mount : mount + path;
}

std::unique_ptr<CgroupTree> make_tree() {
  auto tree = CgroupTree::create();
  EXPECT_TRUE(tree.ok()) << (tree ? "" : tree.error().message);
  return tree ? std::move(*tree) : nullptr;
}

// A forked child that waits for one byte on a pipe, then runs `body` and exits with its value.
// Lets the parent attach it to a cgroup before it does anything.
struct HeldChild {
  pid_t pid = -1;
  int release_fd = -1;
  int report_fd = -1;  // read end of what the child reports

  template <class Body>
  static HeldChild start(Body body) {
    int release[2], report[2];
    if (::pipe2(release, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) return {};
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      ::alarm(60);  // a broken limit must not leave this running forever
      ::close(release[1]);
      ::close(report[0]);
      char go = 0;
      if (::read(release[0], &go, 1) != 1) ::_exit(100);
      ::_exit(body(report[1]));
    }
    ::close(release[0]);
    ::close(report[1]);
    return {pid, release[1], report[0]};
  }

  void release() {
    const char go = 1;
    (void)!::write(release_fd, &go, 1);
    ::close(release_fd);
    release_fd = -1;
  }

  std::string read_report_line() {
    std::string line;
    char c;
    while (::read(report_fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
  }

  // Returns the wait status.
  int wait() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (release_fd >= 0) ::close(release_fd);
    if (report_fd >= 0) ::close(report_fd);
    release_fd = report_fd = -1;
    pid = -1;
    return status;
  }
};

TEST(Cgroups, CreateDetectsThisMachinesVersion) {
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  const OwnCgroups own = own_cgroups();
  EXPECT_EQ(tree->version(), own.v1 ? CgroupVersion::v1 : CgroupVersion::v2);
  EXPECT_EQ(tree->parents().size(), own.v1 ? 2u : 1u);
}

// "<base>/stacksync-<pid>-<n>": below `base`, named for this process and one tree of it.
void expect_tree_directory(const std::string& parent, const std::string& base) {
  const std::string prefix = base + "/stacksync-" + std::to_string(::getpid()) + "-";
  ASSERT_TRUE(parent.starts_with(prefix)) << parent << " is not below " << base;
  const std::string tree = parent.substr(prefix.size());
  EXPECT_FALSE(tree.empty());
  EXPECT_EQ(tree.find_first_not_of("0123456789"), std::string::npos) << parent;
}

TEST(Cgroups, ParentsLiveBelowTheTestProcesssOwnCgroup) {
  const OwnCgroups own = own_cgroups();
  std::vector<std::string> parents;
  {
    auto tree = make_tree();
    ASSERT_NE(tree, nullptr);
    parents = tree->parents();
    if (tree->version() == CgroupVersion::v1) {
      ASSERT_EQ(parents.size(), 2u);
      expect_tree_directory(parents[0], below(cgroup_mount("memory"), own.v1_paths.at("memory")));
      expect_tree_directory(parents[1], below(cgroup_mount("pids"), own.v1_paths.at("pids")));
      // One tree, one name, in both hierarchies.
      EXPECT_EQ(parents[0].substr(parents[0].rfind('/')), parents[1].substr(parents[1].rfind('/')));
    } else {
      ASSERT_EQ(parents.size(), 1u);
      expect_tree_directory(parents[0], below(cgroup_mount(""), own.v2_path));
    }
    for (const auto& parent : parents) EXPECT_TRUE(exists(parent)) << parent;
  }
  for (const auto& parent : parents) EXPECT_FALSE(exists(parent)) << parent << " left behind";
}

TEST(Cgroups, CreateRunWritesTheLimits) {
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  auto run = tree->create_run({32ull << 20, 17});
  ASSERT_TRUE(run.ok()) << run.error().message;
  const auto files = run->procs_files();
  if (tree->version() == CgroupVersion::v1) {
    ASSERT_EQ(files.size(), 2u);
    const std::string memory = dir_of(files[0]), pids = dir_of(files[1]);
    EXPECT_EQ(dir_of(memory), tree->parents()[0]);
    EXPECT_EQ(dir_of(pids), tree->parents()[1]);
    EXPECT_EQ(trimmed(read_text(memory + "/memory.limit_in_bytes")), "33554432");
    if (exists(memory + "/memory.memsw.limit_in_bytes")) {
      EXPECT_EQ(trimmed(read_text(memory + "/memory.memsw.limit_in_bytes")), "33554432");
    }
    EXPECT_EQ(trimmed(read_text(pids + "/pids.max")), "17");
  } else {
    ASSERT_EQ(files.size(), 1u);
    const std::string dir = dir_of(files[0]);
    EXPECT_EQ(dir_of(dir), tree->parents()[0]);
    EXPECT_EQ(trimmed(read_text(dir + "/memory.max")), "33554432");
    EXPECT_EQ(trimmed(read_text(dir + "/memory.swap.max")), "0");
    EXPECT_EQ(trimmed(read_text(dir + "/pids.max")), "17");
    EXPECT_GE(run->clone_into_fd(), 0);
  }
  EXPECT_TRUE(run->destroy().ok());
  for (const auto& file : files) EXPECT_FALSE(exists(dir_of(file)));
}

TEST(Cgroups, RunsOfOneTreeGetDistinctDirectories) {
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  auto first = tree->create_run({});
  auto second = tree->create_run({});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->procs_files(), second->procs_files());
}

TEST(Cgroups, TwoTreesInOneProcessDoNotShareRunDirectories) {
  // A second executor in the same process (e.g. a warm pool plus a cold fallback) builds its
  // own tree. Its runs must not reuse the first tree's run directories: destroy() of one would
  // kill the other's sandbox, and both would share one memory and pids budget.
  auto first_tree = make_tree();
  auto second_tree = make_tree();
  ASSERT_NE(first_tree, nullptr);
  ASSERT_NE(second_tree, nullptr);
  auto a = first_tree->create_run({});
  auto b = second_tree->create_run({});
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_NE(a->procs_files(), b->procs_files())
      << "both runs live in " << dir_of(a->procs_files()[0]);
  // Retiring the first executor must leave the second one working.
  EXPECT_TRUE(a->destroy().ok());
  first_tree.reset();
  auto c = second_tree->create_run({});
  EXPECT_TRUE(c.ok()) << c.error().message;
}

TEST(Cgroups, AttachedChildIsInsideAndDestroyKillsItAndRemovesTheDirectories) {
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  auto run = tree->create_run({64ull << 20, 8});
  ASSERT_TRUE(run.ok()) << run.error().message;
  HeldChild child = HeldChild::start([](int) {
    for (;;) ::pause();
    return 0;
  });
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(run->attach(child.pid).ok());
  child.release();
  const auto files = run->procs_files();
  for (const auto& procs : files)
    EXPECT_NE((" " + read_text(procs)).find(" " + std::to_string(child.pid) + "\n"),
              std::string::npos)
        << procs << ": " << read_text(procs);
  const std::string seen = read_text("/proc/" + std::to_string(child.pid) + "/cgroup");
  const std::string run_name = dir_of(files[0]).substr(dir_of(files[0]).rfind('/'));
  EXPECT_NE(seen.find(run_name + "\n"), std::string::npos) << seen;
  EXPECT_FALSE(run->oom_killed());

  EXPECT_TRUE(run->destroy().ok());
  const int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  for (const auto& file : files) EXPECT_FALSE(exists(dir_of(file))) << dir_of(file);
  EXPECT_TRUE(run->destroy().ok()) << "destroy() must be idempotent";
}

TEST(Cgroups, ChildBeyondTheMemoryLimitIsOomKilled) {
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  auto run = tree->create_run({32ull << 20, 16});
  ASSERT_TRUE(run.ok()) << run.error().message;
  HeldChild child = HeldChild::start([](int) {
    const std::size_t size = 256ull << 20;
    void* memory =
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 2;
    for (std::size_t offset = 0; offset < size; offset += 4096)
      static_cast<volatile char*>(memory)[offset] = 1;
    return 0;  // survived: the limit did not hold
  });
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(run->attach(child.pid).ok());
  child.release();
  const int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "exited " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  EXPECT_TRUE(run->oom_killed());
  const auto peak = run->peak_memory_bytes();
  EXPECT_GE(peak, 16ull << 20);
  EXPECT_LE(peak, 40ull << 20);
  EXPECT_TRUE(run->destroy().ok());
}

TEST(Cgroups, ChildWithinTheMemoryLimitIsNotOomKilled) {
  // Control for the test above: same limit, a small allocation, no OOM flag.
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  auto run = tree->create_run({32ull << 20, 16});
  ASSERT_TRUE(run.ok()) << run.error().message;
  HeldChild child = HeldChild::start([](int) {
    const std::size_t size = 4ull << 20;
    void* memory =
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 2;
    for (std::size_t offset = 0; offset < size; offset += 4096)
      static_cast<volatile char*>(memory)[offset] = 1;
    return 0;
  });
  ASSERT_TRUE(run->attach(child.pid).ok());
  child.release();
  const int status = child.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_FALSE(run->oom_killed());
}

TEST(Cgroups, PidsLimitStopsForksAndDestroyKillsEveryProcessInside) {
  auto tree = make_tree();
  ASSERT_NE(tree, nullptr);
  auto run = tree->create_run({64ull << 20, 5});
  ASSERT_TRUE(run.ok()) << run.error().message;
  HeldChild child = HeldChild::start([](int report) {
    int forked = 0;
    for (int i = 0; i < 20; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::alarm(60);  // not inherited from the child: a failed destroy() must not leak us
        for (;;) ::pause();
      }
      if (pid < 0) break;
      ++forked;
    }
    char line[16];
    (void)!::write(report, line, std::snprintf(line, sizeof(line), "%d\n", forked));
    for (;;) ::pause();
    return 0;
  });
  ASSERT_TRUE(run->attach(child.pid).ok());
  child.release();
  const std::string forked = child.read_report_line();
  EXPECT_EQ(forked, "4") << "5 tasks allowed: the child itself and 4 more";

  const auto files = run->procs_files();
  std::istringstream pids(read_text(files.back()));
  std::vector<pid_t> inside;
  for (pid_t pid; pids >> pid;) inside.push_back(pid);
  EXPECT_EQ(inside.size(), 5u);

  EXPECT_TRUE(run->destroy().ok());
  const int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (pid_t pid : inside) {
    // Orphaned grandchildren are reaped by init, not by us: wait for them to be gone.
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      const std::string state = read_text("/proc/" + std::to_string(pid) + "/stat");
      gone = state.empty() || state.find(") Z") != std::string::npos;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(gone) << "pid " << pid << " survived destroy()";
  }
  for (const auto& file : files) EXPECT_FALSE(exists(dir_of(file)));
}

}  // namespace
}  // namespace stacksync::jail
