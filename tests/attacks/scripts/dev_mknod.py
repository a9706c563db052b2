"""Attack: create device nodes — /dev/mem's twin in /tmp, a block device for the first disk,
a node in /dev itself — and read through any that got created."""
import os
import stat


def attempt_mknod(path, mode, major, minor):
    try:
        os.mknod(path, mode | 0o666, os.makedev(major, minor))
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)
    try:
        with open(path, "rb") as node:
            return "created and read %d bytes" % len(node.read(16))
    except OSError as error:
        return "created, open failed: %s" % error.strerror


def main():
    outcomes = {
        "/tmp/mem (char 1:1)": attempt_mknod("/tmp/stacksync-attack-mem", stat.S_IFCHR, 1, 1),
        "/tmp/kmsg (char 1:11)": attempt_mknod("/tmp/stacksync-attack-kmsg", stat.S_IFCHR, 1, 11),
        "/tmp/sda (block 8:0)": attempt_mknod("/tmp/stacksync-attack-sda", stat.S_IFBLK, 8, 0),
        "/tmp/vda (block 254:0)": attempt_mknod("/tmp/stacksync-attack-vda", stat.S_IFBLK, 254, 0),
        "/dev/mem2 (char 1:1)": attempt_mknod("/dev/stacksync-attack-mem", stat.S_IFCHR, 1, 1),
    }
    return {"created": sorted(k for k, v in outcomes.items() if v.startswith("created")), "outcomes": outcomes}
