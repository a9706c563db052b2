// plan_root_filesystem: what the sandbox's root will contain, checked on the plan itself (the
// sandbox tests check the applied result from inside). Runs against this host's real /usr.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <set>
#include <string>

#include "jail/mounts.h"

namespace stacksync::jail {
namespace {

using Kind = MountStep::Kind;

MountPlan plan_or_die(const RootFsOptions& options = {}) {
  auto plan = plan_root_filesystem(options);
  EXPECT_TRUE(plan.ok()) << (plan ? "" : plan.error().message);
  return plan ? *plan : MountPlan{};
}

// The path a step creates inside the sandbox (its target without the staging prefix).
std::string inside(const MountPlan& plan, const MountStep& step) {
  return step.target.substr(plan.staging.size());
}

const MountStep* find_step(const MountPlan& plan, Kind kind, const std::string& path) {
  for (const auto& step : plan.steps)
    if (step.kind == kind && inside(plan, step) == path) return &step;
  return nullptr;
}

bool is_at_or_below(const std::string& path, const std::string& dir) {
  return path == dir || path.starts_with(dir + "/");
}

TEST(MountPlan, EveryTargetLivesBelowTheStagingRoot) {
  MountPlan plan = plan_or_die();
  ASSERT_FALSE(plan.staging.empty());
  ASSERT_FALSE(plan.steps.empty());
  for (const auto& step : plan.steps) {
    EXPECT_TRUE(step.target.starts_with(plan.staging + "/")) << step.target;
    EXPECT_EQ(step.target.find(".."), std::string::npos) << step.target;
  }
}

TEST(MountPlan, UsrIsBoundReadOnlyNosuidNodev) {
  MountPlan plan = plan_or_die();
  const MountStep* bind = find_step(plan, Kind::bind, "/usr");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(bind->source, "/usr");
  const MountStep* remount = find_step(plan, Kind::remount, "/usr");
  ASSERT_NE(remount, nullptr);
  const unsigned long required = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV;
  EXPECT_EQ(remount->flags & required, required) << std::hex << remount->flags;
  // The remount must come after the bind it makes read-only.
  EXPECT_LT(bind, remount);
}

TEST(MountPlan, EveryBindIsFollowedByAReadOnlyRemount) {
  MountPlan plan = plan_or_die();
  int binds = 0;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (plan.steps[i].kind != Kind::bind) continue;
    ++binds;
    bool remounted = false;
    for (std::size_t j = i + 1; j < plan.steps.size(); ++j) {
      const MountStep& later = plan.steps[j];
      if (later.kind == Kind::remount && later.target == plan.steps[i].target)
        remounted = (later.flags & MS_RDONLY) && (later.flags & MS_NOSUID);
    }
    EXPECT_TRUE(remounted) << plan.steps[i].target << " is not remounted read-only, nosuid";
    EXPECT_FALSE(plan.steps[i].flags & MS_REC) << "recursive bind of " << plan.steps[i].source;
  }
  EXPECT_GE(binds, 5);
}

TEST(MountPlan, DevicesAreOnlyNullZeroRandomUrandom) {
  MountPlan plan = plan_or_die();
  std::set<std::string> devices;
  for (const auto& step : plan.steps) {
    const std::string path = inside(plan, step);
    if (!path.starts_with("/dev/")) continue;
    if (step.kind == Kind::symlink) {
      // /dev/fd, /dev/stdin, ... point into the sandbox's own /proc/self.
      EXPECT_TRUE(step.source.starts_with("/proc/self/fd")) << path << " -> " << step.source;
      continue;
    }
    if (step.kind == Kind::bind) {
      EXPECT_EQ(step.source, path) << "device bound from a different host path";
      devices.insert(path);
      continue;
    }
    EXPECT_TRUE(step.kind == Kind::make_file || step.kind == Kind::remount) << path;
  }
  EXPECT_EQ(devices,
            (std::set<std::string>{"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"}));
  for (const auto& device : devices) {
    const MountStep* remount = find_step(plan, Kind::remount, device);
    ASSERT_NE(remount, nullptr) << device;
    EXPECT_TRUE(remount->flags & MS_NOEXEC) << device;
    EXPECT_TRUE(remount->flags & MS_RDONLY) << device;
  }
}

TEST(MountPlan, NoWholeDevOrHostDevicesAreBound) {
  MountPlan plan = plan_or_die();
  for (const auto& step : plan.steps) {
    if (step.kind != Kind::bind) continue;
    EXPECT_NE(step.source, "/dev");
    EXPECT_NE(step.source, "/dev/pts");
    EXPECT_NE(step.source, "/dev/shm");
    EXPECT_NE(step.source, "/dev/mem");
  }
}

TEST(MountPlan, TmpIsATmpfsOfTheConfiguredSize) {
  RootFsOptions options;
  options.tmp_bytes = 12345678;
  MountPlan plan = plan_or_die(options);
  const MountStep* tmp = find_step(plan, Kind::tmpfs, "/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_NE(tmp->fs_data.find("size=12345678"), std::string::npos) << tmp->fs_data;
  EXPECT_NE(tmp->fs_data.find("uid=65534"), std::string::npos) << tmp->fs_data;
  EXPECT_NE(tmp->fs_data.find("nr_inodes="), std::string::npos) << tmp->fs_data;
  EXPECT_TRUE(tmp->flags & MS_NOSUID);
  EXPECT_TRUE(tmp->flags & MS_NODEV);
  // Exactly one tmpfs: nothing else in the sandbox is writable.
  EXPECT_EQ(std::count_if(plan.steps.begin(), plan.steps.end(),
                          [](const MountStep& s) { return s.kind == Kind::tmpfs; }),
            1);
}

TEST(MountPlan, ProcIsMountedUnlessDisabled) {
  MountPlan with_proc = plan_or_die();
  const MountStep* proc = find_step(with_proc, Kind::proc, "/proc");
  ASSERT_NE(proc, nullptr);
  EXPECT_TRUE(proc->flags & MS_NOSUID);
  EXPECT_TRUE(proc->flags & MS_NOEXEC);

  RootFsOptions options;
  options.mount_proc = false;
  MountPlan without = plan_or_die(options);
  EXPECT_EQ(find_step(without, Kind::proc, "/proc"), nullptr);
}

TEST(MountPlan, NothingPrivateOfTheHostIsInThePlan) {
  MountPlan plan = plan_or_die();
  for (const std::string hidden :
       {"/home", "/root", "/var", "/work", "/run", "/sys", "/boot", "/srv", "/mnt", "/opt",
        "/media", "/etc/shadow", "/etc/ssh", "/usr/local/etc/never"}) {
    for (const auto& step : plan.steps) {
      EXPECT_FALSE(is_at_or_below(inside(plan, step), hidden))
          << hidden << " appears as " << step.target;
      if (step.kind == Kind::bind) {
        EXPECT_FALSE(is_at_or_below(step.source, hidden)) << hidden << " bound from host";
      }
    }
  }
  // Neither the host's whole root nor whole /etc nor /proc is bound.
  for (const auto& step : plan.steps) {
    if (step.kind != Kind::bind) continue;
    EXPECT_NE(step.source, "/");
    EXPECT_NE(step.source, "/etc");
    EXPECT_FALSE(is_at_or_below(step.source, "/proc")) << step.source;
  }
}

TEST(MountPlan, AccountDatabaseKnowsOnlyTheSandboxUser) {
  RootFsOptions options;
  options.sandbox_uid = 4242;
  options.sandbox_gid = 4343;
  MountPlan plan = plan_or_die(options);
  const MountStep* passwd = find_step(plan, Kind::write_file, "/etc/passwd");
  ASSERT_NE(passwd, nullptr);
  EXPECT_NE(passwd->source.find(":4242:4343:"), std::string::npos) << passwd->source;
  EXPECT_EQ(passwd->source.find("root"), std::string::npos) << passwd->source;
  EXPECT_EQ(std::count(passwd->source.begin(), passwd->source.end(), '\n'), 1);
  const MountStep* group = find_step(plan, Kind::write_file, "/etc/group");
  ASSERT_NE(group, nullptr);
  EXPECT_NE(group->source.find(":4343:"), std::string::npos) << group->source;
  EXPECT_EQ(find_step(plan, Kind::write_file, "/etc/shadow"), nullptr);
}

TEST(MountPlan, TopLevelLinksMirrorTheHost) {
  MountPlan plan = plan_or_die();
  char target[4096];
  const ssize_t n = ::readlink("/bin", target, sizeof(target) - 1);
  if (n > 0) {  // merged-/usr host (Debian 12): /bin -> usr/bin
    const MountStep* link = find_step(plan, Kind::symlink, "/bin");
    ASSERT_NE(link, nullptr);
    EXPECT_EQ(link->source, std::string(target, static_cast<std::size_t>(n)));
  } else {
    EXPECT_NE(find_step(plan, Kind::bind, "/bin"), nullptr);
  }
}

TEST(MountPlan, ParentsAreCreatedBeforeTheirChildren) {
  MountPlan plan = plan_or_die();
  std::set<std::string> made = {plan.staging};
  for (const auto& step : plan.steps) {
    if (step.kind == Kind::bind || step.kind == Kind::remount || step.kind == Kind::tmpfs ||
        step.kind == Kind::proc) {
      EXPECT_TRUE(made.count(step.target)) << "mount on " << step.target << " before it exists";
      continue;
    }
    const std::string parent = step.target.substr(0, step.target.rfind('/'));
    EXPECT_TRUE(made.count(parent)) << step.target << " created before its parent";
    made.insert(step.target);
  }
}

TEST(MountPlan, MissingOptionalDirectoriesAreSkipped) {
  RootFsOptions options;
  options.read_only_dirs.push_back("/nonexistent-stacksync-dir");
  options.read_only_files.push_back("/nonexistent-stacksync-file");
  MountPlan plan = plan_or_die(options);
  for (const auto& step : plan.steps)
    EXPECT_EQ(step.target.find("nonexistent-stacksync"), std::string::npos) << step.target;
}

TEST(MountPlan, MissingDeviceFailsTheWholePlan) {
  RootFsOptions options;
  options.devices = {"/dev/null", "/dev/nonexistent-stacksync"};
  auto plan = plan_root_filesystem(options);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("/dev/nonexistent-stacksync"), std::string::npos)
      << plan.error().message;
}

TEST(MountPlan, NonDeviceInTheDeviceListFailsThePlan) {
  RootFsOptions options;
  options.devices = {"/etc/hostname"};  // a regular file must not be bound as a "device"
  EXPECT_FALSE(plan_root_filesystem(options).ok());
}

}  // namespace
}  // namespace stacksync::jail
