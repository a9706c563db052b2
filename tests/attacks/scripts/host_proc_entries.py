"""Attack: learn about the host through /proc — who pid 1 is, its root and cwd, the mount table
(does it show host paths?), the cgroup path, the kernel's memory and log."""
import os


def read(path, limit=65536):
    try:
        with open(path, "rb") as source:
            return source.read(limit).decode("utf-8", "replace")
    except OSError as error:
        return "ERROR %s" % error.strerror


def main():
    mount_points = []
    for line in read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        if len(fields) > 4:
            mount_points.append(fields[4])
    try:
        pid1_root = sorted(os.listdir("/proc/1/root"))
    except OSError as error:
        pid1_root = "ERROR %s" % error.strerror
    kcore = read("/proc/kcore", 16)
    return {
        "pid1_comm": read("/proc/1/comm").strip(),
        "pid1_cmdline": read("/proc/1/cmdline").replace("\0", " ").strip(),
        "pid1_root": pid1_root,
        "mount_points": mount_points,
        "cgroup": read("/proc/self/cgroup").strip(),
        "kcore_readable": not kcore.startswith("ERROR"),
        "kmsg_readable": not read("/proc/kmsg", 16).startswith("ERROR"),
        "hostname": read("/proc/sys/kernel/hostname").strip(),
    }
