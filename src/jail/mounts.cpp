#include "jail/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace stacksync::jail {
namespace {

constexpr const char* kLayer = "mounts";
constexpr const char* kStaging = "/tmp";

// A remount inside a user namespace must keep the flags the kernel locked on the source
// mount (atime, nosuid, nodev, noexec); statvfs tells which the source has.
unsigned long locked_flags_of(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) return 0;
  unsigned long flags = 0;
  if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (info.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (info.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (info.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

void add_dir(MountPlan& plan, const std::string& path) {
  plan.steps.push_back({MountStep::Kind::make_dir, "", plan.staging + path, "", 0});
}

// Every ancestor of `path` below the staging root, shallowest first, each once.
void add_parents(MountPlan& plan, const std::string& path, std::vector<std::string>& made) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    bool known = false;
    for (const auto& m : made) known = known || m == parent;
    if (!known) {
      add_dir(plan, parent);
      made.push_back(parent);
    }
  }
}

void add_read_only_bind(MountPlan& plan, const std::string& source, bool is_dir,
                        unsigned long extra_flags, std::vector<std::string>& made) {
  add_parents(plan, source, made);
  const std::string target = plan.staging + source;
  plan.steps.push_back(
      {is_dir ? MountStep::Kind::make_dir : MountStep::Kind::make_file, "", target, "", 0});
  if (is_dir) made.push_back(source);
  plan.steps.push_back({MountStep::Kind::bind, source, target, "", MS_BIND});
  plan.steps.push_back({MountStep::Kind::remount, "", target, "",
                        MS_BIND | MS_REMOUNT | MS_RDONLY | extra_flags | locked_flags_of(source)});
}

}  // namespace

Result<MountPlan> plan_root_filesystem(const RootFsOptions& options) {
  MountPlan plan;
  plan.staging = kStaging;
  std::vector<std::string> made;

  for (const auto& dir : options.read_only_dirs) {
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      if (dir == "/usr") return Error{"mounts: /usr is not a directory on this host"};
      continue;  // optional directory missing on this distribution
    }
    add_read_only_bind(plan, dir, true, MS_NOSUID | MS_NODEV, made);
  }
  for (const auto& file : options.read_only_files) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    add_read_only_bind(plan, file, false, MS_NOSUID | MS_NODEV, made);
  }
  for (const auto& link : options.top_level_links) {
    struct stat info {};
    if (::lstat(link.c_str(), &info) != 0) continue;
    if (S_ISLNK(info.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
      if (n < 0) return errno_error("mounts: readlink " + link, errno);
      plan.steps.push_back(
          {MountStep::Kind::symlink, std::string(target, n), plan.staging + link, "", 0});
    } else if (S_ISDIR(info.st_mode)) {
      add_read_only_bind(plan, link, true, MS_NOSUID | MS_NODEV, made);
    }
  }

  // /dev: only harmless character devices, bound from the host (a user namespace cannot mknod).
  add_dir(plan, "/dev");
  made.push_back("/dev");
  for (const auto& device : options.devices) {
    struct stat info {};
    if (::stat(device.c_str(), &info) != 0 || !S_ISCHR(info.st_mode))
      return Error{"mounts: device " + device + " is missing on this host"};
    add_read_only_bind(plan, device, false, MS_NOSUID | MS_NOEXEC, made);
  }
  plan.steps.push_back(
      {MountStep::Kind::symlink, "/proc/self/fd", plan.staging + "/dev/fd", "", 0});
  plan.steps.push_back(
      {MountStep::Kind::symlink, "/proc/self/fd/0", plan.staging + "/dev/stdin", "", 0});
  plan.steps.push_back(
      {MountStep::Kind::symlink, "/proc/self/fd/1", plan.staging + "/dev/stdout", "", 0});
  plan.steps.push_back(
      {MountStep::Kind::symlink, "/proc/self/fd/2", plan.staging + "/dev/stderr", "", 0});

  // A minimal account database: the sandbox user exists, nobody else does.
  if (std::find(made.begin(), made.end(), "/etc") == made.end()) {
    add_dir(plan, "/etc");
    made.push_back("/etc");
  }
  const std::string uid = std::to_string(options.sandbox_uid);
  const std::string gid = std::to_string(options.sandbox_gid);
  plan.steps.push_back({MountStep::Kind::write_file,
                        "sandbox:x:" + uid + ":" + gid + ":sandbox:/tmp:/usr/sbin/nologin\n",
                        plan.staging + "/etc/passwd", "", 0});
  plan.steps.push_back({MountStep::Kind::write_file, "sandbox:x:" + gid + ":\n",
                        plan.staging + "/etc/group", "", 0});
  plan.steps.push_back(
      {MountStep::Kind::write_file, "stacksync\n", plan.staging + "/etc/hostname", "", 0});

  add_dir(plan, "/tmp");
  plan.steps.push_back({MountStep::Kind::tmpfs, "tmpfs", plan.staging + "/tmp",
                        "size=" + std::to_string(options.tmp_bytes) +
                            ",nr_inodes=16384,mode=0700,uid=" + uid + ",gid=" + gid,
                        MS_NOSUID | MS_NODEV});
  if (options.mount_proc) {
    add_dir(plan, "/proc");
    // hidepid=2: a process the script cannot ptrace (its init: not dumpable) is invisible.
    plan.steps.push_back({MountStep::Kind::proc, "proc", plan.staging + "/proc", "hidepid=2",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC});
  }
  return plan;
}

namespace {

ChildStep apply_step(const MountStep& step) {
  const char* target = step.target.c_str();
  switch (step.kind) {
    case MountStep::Kind::make_dir:
      if (::mkdir(target, 0755) != 0 && errno != EEXIST)
        return child_error(kLayer, "mkdir", target);
      break;
    case MountStep::Kind::make_file: {
      int fd = ::open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
      if (fd < 0) return child_error(kLayer, "create", target);
      ::close(fd);
      break;
    }
    case MountStep::Kind::bind:
      if (::mount(step.source.c_str(), target, nullptr, step.flags, nullptr) != 0)
        return child_error(kLayer, "bind", target);
      break;
    case MountStep::Kind::remount:
      if (::mount(nullptr, target, nullptr, step.flags, nullptr) != 0)
        return child_error(kLayer, "remount read-only", target);
      break;
    case MountStep::Kind::tmpfs:
      if (::mount("tmpfs", target, "tmpfs", step.flags, step.fs_data.c_str()) != 0)
        return child_error(kLayer, "mount tmpfs", target);
      break;
    case MountStep::Kind::proc:
      if (::mount("proc", target, "proc", step.flags, step.fs_data.c_str()) != 0)
        return child_error("proc", "mount proc", target);
      break;
    case MountStep::Kind::symlink:
      if (::symlink(step.source.c_str(), target) != 0)
        return child_error(kLayer, "symlink", target);
      break;
    case MountStep::Kind::write_file: {
      int fd = ::open(target, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0444);
      if (fd < 0) return child_error(kLayer, "create", target);
      const char* data = step.source.data();
      std::size_t left = step.source.size();
      while (left > 0) {
        ssize_t n = ::write(fd, data, left);
        if (n <= 0) {
          ::close(fd);
          return child_error(kLayer, "write", target);
        }
        data += n;
        left -= static_cast<std::size_t>(n);
      }
      ::close(fd);
      break;
    }
  }
  return {};
}

}  // namespace

ChildStep apply_root_filesystem(const MountPlan& plan) {
  const char* staging = plan.staging.c_str();
  // Nothing we mount may propagate back to the host's mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return child_error(kLayer, "make / private", "/");
  if (::mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=1m,nr_inodes=4096,mode=0755") != 0)
    return child_error(kLayer, "mount root tmpfs", staging);
  for (const auto& step : plan.steps) {
    ChildStep result = apply_step(step);
    if (result.failed()) return result;
  }
  if (::chdir(staging) != 0) return child_error("pivot_root", "chdir", staging);
  // pivot_root(".", ".") stacks the old root under the new one; detaching "." then drops it.
  if (::syscall(SYS_pivot_root, ".", ".") != 0)
    return child_error("pivot_root", "pivot_root", staging);
  if (::umount2(".", MNT_DETACH) != 0) return child_error("pivot_root", "detach old root", "/");
  if (::chdir("/") != 0) return child_error("pivot_root", "chdir", "/");
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0)
    return child_error(kLayer, "remount root read-only", "/");
  return {};
}

ChildStep remount_private_tmp_and_proc(const char* tmpfs_data) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return child_error(kLayer, "make / private", "/");
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmpfs_data) != 0)
    return child_error(kLayer, "mount tmpfs", "/tmp");
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") != 0)
    return child_error("proc", "mount proc", "/proc");
  return {};
}

}  // namespace stacksync::jail
