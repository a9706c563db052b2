#include "jail/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/fault_injection.h"

namespace stacksync::jail {
namespace {

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

Status write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("cgroup: open " + path, errno);
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return errno_error("cgroup: write '" + text + "' to " + path, err);
  return {};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return errno_error("cgroup: mkdir " + path, errno);
  return {};
}

// The value after `key ` in a flat-keyed file such as memory.events or memory.oom_control.
std::uint64_t keyed_value(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string name;
  std::uint64_t value = 0;
  while (lines >> name >> value)
    if (name == key) return value;
  return 0;
}

struct OwnCgroup {
  std::string v2_path;             // from the "0::" line
  std::string v1_memory, v1_pids;  // from the v1 lines naming those controllers
  bool has_v1 = false;
};

OwnCgroup read_own_cgroup() {
  OwnCgroup own;
  std::istringstream lines(read_file("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      own.v2_path = path;
      continue;
    }
    own.has_v1 = true;
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == "memory") own.v1_memory = path;
      if (name == "pids") own.v1_pids = path;
    }
  }
  return own;
}

struct CgroupMount {
  std::string point;  // where the hierarchy is mounted here
  std::string root;   // which of its directories is mounted there ("/" unless a sub-tree)
};

// Mount of a cgroup hierarchy: v2 ("cgroup2") or the v1 one carrying `controller`.
CgroupMount find_mount(bool v2, const std::string& controller) {
  std::istringstream lines(read_file("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(lines, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string fstype, source, options;
    after >> fstype >> source >> options;
    std::istringstream before(line.substr(0, dash));
    std::string id, parent, devno, root, mount_point;
    before >> id >> parent >> devno >> root >> mount_point;
    if (v2 && fstype == "cgroup2") return {mount_point, root};
    if (!v2 && fstype == "cgroup") {
      std::istringstream opts(options);
      std::string opt;
      while (std::getline(opts, opt, ','))
        if (opt == controller) return {mount_point, root};
    }
  }
  return {};
}

// The directory of cgroup `path` (as /proc/self/cgroup names it). A container that shares the
// host's cgroup namespace sees full host paths, with only its own sub-tree mounted: the mount's
// root is then a prefix of the path and must not be repeated.
std::string join(const CgroupMount& mount, std::string path) {
  if (mount.root != "/" && path.rfind(mount.root, 0) == 0 &&
      (path.size() == mount.root.size() || path[mount.root.size()] == '/'))
    path = path.substr(mount.root.size());
  if (path == "/" || path.empty()) return mount.point;
  return mount.point + path;
}

// Kills what is left in a run's cgroup directory and removes it. Processes of a killed pid
// namespace vanish asynchronously, so this waits up to ~2 s for them.
Status kill_and_remove(const std::string& dir) {
  for (int attempt = 0; attempt < 400; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY) break;
    std::istringstream pids(read_file(dir + "/cgroup.procs"));
    pid_t pid;
    while (pids >> pid) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 20 ? 1 : 5));
  }
  return errno_error("cgroup: rmdir " + dir, errno);
}

// Removes cgroups left behind by an earlier instance that died without cleaning up.
void remove_stale_siblings(const std::string& base) {
  std::string prefix = "stacksync-";
  if (auto* dir = ::opendir(base.c_str())) {
    while (auto* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name.rfind(prefix, 0) != 0 || name == "stacksync-service") continue;
      std::string pid = name.substr(prefix.size());
      pid = pid.substr(0, pid.find('-'));  // stacksync-<pid>-<tree>
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (exists("/proc/" + pid)) continue;
      std::string parent = base + "/" + name;
      if (auto* runs = ::opendir(parent.c_str())) {
        while (auto* run = ::readdir(runs)) {
          std::string run_name = run->d_name;
          if (run_name.rfind("run-", 0) == 0) (void)kill_and_remove(parent + "/" + run_name);
        }
        ::closedir(runs);
      }
      ::rmdir(parent.c_str());
    }
    ::closedir(dir);
  }
}

// stacksync-<pid>-<n>: unique per tree, so that several executors in one process (tests) and
// several services on one host never share a directory.
std::string tree_name() {
  static std::atomic<int> trees{0};
  return "stacksync-" + std::to_string(::getpid()) + "-" + std::to_string(trees.fetch_add(1));
}

Result<std::vector<std::string>> setup_v2(const CgroupMount& mount, const std::string& own) {
  const std::string base = join(mount, own);
  const std::string controllers = read_file(base + "/cgroup.controllers");
  if (controllers.find("memory") == std::string::npos ||
      controllers.find("pids") == std::string::npos)
    return Error{"cgroup v2: the memory and pids controllers are not delegated to " + base +
                 " (cgroup.controllers: '" + controllers + "')"};
  // No internal processes: the service (and whatever shares its cgroup) moves into a leaf so
  // that the controllers can be enabled for the sandboxes beside it.
  const std::string leaf = base + "/stacksync-service";
  if (auto s = make_dir(leaf); !s) return s.error();
  std::istringstream pids(read_file(base + "/cgroup.procs"));
  std::string pid;
  while (pids >> pid) (void)write_file(leaf + "/cgroup.procs", pid);
  if (auto s = write_file(base + "/cgroup.subtree_control", "+memory +pids"); !s) return s.error();
  remove_stale_siblings(base);
  const std::string parent = base + "/" + tree_name();
  if (auto s = make_dir(parent); !s) return s.error();
  if (auto s = write_file(parent + "/cgroup.subtree_control", "+memory +pids"); !s)
    return s.error();
  return std::vector<std::string>{parent};
}

Result<std::vector<std::string>> setup_v1(const OwnCgroup& own) {
  std::vector<std::string> parents;
  const std::string name = tree_name();
  for (const auto& [controller, path] :
       {std::pair<std::string, std::string>{"memory", own.v1_memory}, {"pids", own.v1_pids}}) {
    CgroupMount mount = find_mount(false, controller);
    if (mount.point.empty() || path.empty())
      return Error{"cgroup v1: the " + controller + " controller is not mounted"};
    const std::string base = join(mount, path);
    remove_stale_siblings(base);
    const std::string parent = base + "/" + name;
    if (auto s = make_dir(parent); !s) return s.error();
    parents.push_back(parent);
  }
  return parents;
}

}  // namespace

RunCgroup::RunCgroup(CgroupVersion version, std::vector<std::string> dirs, UniqueFd v2_dir)
    : version_(version), dirs_(std::move(dirs)), v2_dir_(std::move(v2_dir)) {}

RunCgroup::~RunCgroup() {
  (void)destroy();
}

Status RunCgroup::attach(pid_t pid) const {
  for (const auto& dir : dirs_)
    if (auto s = write_file(dir + "/cgroup.procs", std::to_string(pid)); !s) return s;
  return {};
}

std::vector<std::string> RunCgroup::procs_files() const {
  std::vector<std::string> files;
  for (const auto& dir : dirs_) files.push_back(dir + "/cgroup.procs");
  return files;
}

bool RunCgroup::oom_killed() const {
  if (dirs_.empty()) return false;
  if (version_ == CgroupVersion::v2)
    return keyed_value(read_file(dirs_[0] + "/memory.events"), "oom_kill") > 0;
  return keyed_value(read_file(dirs_[0] + "/memory.oom_control"), "oom_kill") > 0;
}

bool RunCgroup::memory_limit_hit() const {
  if (dirs_.empty()) return false;
  if (version_ == CgroupVersion::v2)
    return keyed_value(read_file(dirs_[0] + "/memory.events"), "max") > 0;
  try {
    return std::stoull(read_file(dirs_[0] + "/memory.failcnt")) > 0;
  } catch (...) {
    return false;
  }
}

std::uint64_t RunCgroup::peak_memory_bytes() const {
  if (dirs_.empty()) return 0;
  const std::string file =
      version_ == CgroupVersion::v2 ? "/memory.peak" : "/memory.max_usage_in_bytes";
  try {
    return std::stoull(read_file(dirs_[0] + file));
  } catch (...) {
    return 0;
  }
}

void RunCgroup::kill_all() const {
  if (dirs_.empty()) return;
  if (version_ == CgroupVersion::v2 && exists(dirs_[0] + "/cgroup.kill")) {
    (void)write_file(dirs_[0] + "/cgroup.kill", "1");
    return;
  }
  // The pids limit bounds how many a fork loop can add between two passes.
  for (int pass = 0; pass < 8; ++pass) {
    std::istringstream pids(read_file(dirs_.back() + "/cgroup.procs"));
    pid_t pid;
    bool any = false;
    while (pids >> pid) {
      ::kill(pid, SIGKILL);
      any = true;
    }
    if (!any) return;
  }
}

Status RunCgroup::destroy() {
  if (dirs_.empty()) return {};
  if (version_ == CgroupVersion::v2 && exists(dirs_[0] + "/cgroup.kill"))
    (void)write_file(dirs_[0] + "/cgroup.kill", "1");
  Status status;
  for (const auto& dir : dirs_)
    if (auto s = kill_and_remove(dir); !s && status) status = s;
  dirs_.clear();
  v2_dir_.reset();
  return status;
}

CgroupTree::CgroupTree(CgroupVersion version, std::vector<std::string> parents)
    : version_(version), parents_(std::move(parents)) {}

CgroupTree::~CgroupTree() {
  for (const auto& parent : parents_) ::rmdir(parent.c_str());
}

Result<std::unique_ptr<CgroupTree>> CgroupTree::create() {
  OwnCgroup own = read_own_cgroup();
  if (!own.has_v1) {
    CgroupMount mount = find_mount(true, "");
    if (mount.point.empty()) return Error{"cgroup: no cgroup2 mount found in /proc/self/mountinfo"};
    auto parents = setup_v2(mount, own.v2_path);
    if (!parents) return parents.error();
    return std::unique_ptr<CgroupTree>(new CgroupTree(CgroupVersion::v2, std::move(*parents)));
  }
  auto parents = setup_v1(own);
  if (!parents) return parents.error();
  return std::unique_ptr<CgroupTree>(new CgroupTree(CgroupVersion::v1, std::move(*parents)));
}

Result<RunCgroup> CgroupTree::create_run(const CgroupLimits& limits) {
  if (inject_fault("cgroup_create")) return Error{"cgroup: write failed (injected fault)"};
  const std::string name = "/run-" + std::to_string(next_run_.fetch_add(1));
  std::vector<std::string> dirs;
  UniqueFd v2_dir;
  auto fail = [&](const Error& e) -> Result<RunCgroup> {
    for (const auto& dir : dirs) ::rmdir(dir.c_str());
    return e;
  };
  const std::string memory = std::to_string(limits.memory_bytes);
  const std::string pids = std::to_string(limits.pids);
  if (version_ == CgroupVersion::v2) {
    const std::string dir = parents_[0] + name;
    if (auto s = make_dir(dir); !s) return s.error();
    dirs.push_back(dir);
    if (auto s = write_file(dir + "/memory.max", memory); !s) return fail(s.error());
    if (exists(dir + "/memory.swap.max"))
      if (auto s = write_file(dir + "/memory.swap.max", "0"); !s) return fail(s.error());
    // One OOM kill takes the whole sandbox, not just the largest process in it.
    if (exists(dir + "/memory.oom.group")) (void)write_file(dir + "/memory.oom.group", "1");
    if (auto s = write_file(dir + "/pids.max", pids); !s) return fail(s.error());
    v2_dir.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!v2_dir) return fail(errno_error("cgroup: open " + dir, errno));
  } else {
    const std::string memory_dir = parents_[0] + name;
    const std::string pids_dir = parents_[1] + name;
    if (auto s = make_dir(memory_dir); !s) return s.error();
    dirs.push_back(memory_dir);
    if (auto s = make_dir(pids_dir); !s) return fail(s.error());
    dirs.push_back(pids_dir);
    if (auto s = write_file(memory_dir + "/memory.limit_in_bytes", memory); !s)
      return fail(s.error());
    // Without swap accounting the memsw file is absent; there is then no swap to escape to
    // only if the host has none, which the isolation report states.
    if (exists(memory_dir + "/memory.memsw.limit_in_bytes"))
      if (auto s = write_file(memory_dir + "/memory.memsw.limit_in_bytes", memory); !s)
        return fail(s.error());
    if (auto s = write_file(pids_dir + "/pids.max", pids); !s) return fail(s.error());
  }
  return RunCgroup(version_, std::move(dirs), std::move(v2_dir));
}

}  // namespace stacksync::jail
