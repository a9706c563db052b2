"""Attack: rearrange the filesystem — mount a tmpfs, bind /proc, remount / read-write, umount,
pivot_root, chroot, and the new mount API (open_tree, fsopen, fspick, move_mount). Arguments are
chosen so a privileged caller would hit EINVAL or a harmless target, never the host's mounts."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_MOUNT = 165
SYS_UMOUNT2 = 166
SYS_PIVOT_ROOT = 155
SYS_CHROOT = 161
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_FSOPEN = 430
SYS_FSPICK = 433
AT_FDCWD = -100
MS_BIND = 0x1000
MS_REMOUNT = 0x20
OPEN_TREE_CLONE = 1
# Not a mount point and named so the suite's host-side mount check would spot a leak.
TARGET = "/tmp/stacksync-attack-mnt"


def main():
    os.makedirs(TARGET + "/old", exist_ok=True)
    target = TARGET.encode()
    outcomes = {
        "mount tmpfs": attempt_syscall(SYS_MOUNT, b"tmpfs", target, b"tmpfs", 0, None),
        "bind /proc": attempt_syscall(SYS_MOUNT, b"/proc", target, None, MS_BIND, None),
        "remount / writable": attempt_syscall(SYS_MOUNT, None, b"/", None, MS_REMOUNT | MS_BIND, None),
        "umount2 (not a mount point)": attempt_syscall(SYS_UMOUNT2, target, 0),
        "pivot_root": attempt_syscall(SYS_PIVOT_ROOT, target, target + b"/old"),
        "chroot /tmp": attempt_syscall(SYS_CHROOT, b"/tmp"),
        "open_tree clone /": attempt_syscall(SYS_OPEN_TREE, AT_FDCWD, b"/", OPEN_TREE_CLONE),
        "fsopen tmpfs": attempt_syscall(SYS_FSOPEN, b"tmpfs", 0),
        "fspick /": attempt_syscall(SYS_FSPICK, AT_FDCWD, b"/", 0),
        "move_mount": attempt_syscall(SYS_MOVE_MOUNT, AT_FDCWD, target, AT_FDCWD, target + b"/old", 0),
    }
    with open("/proc/self/mountinfo") as mountinfo:
        mounted_on_target = [line.split()[4] for line in mountinfo if TARGET in line]
    return {"outcomes": outcomes, "mounted_on_target": mounted_on_target}
