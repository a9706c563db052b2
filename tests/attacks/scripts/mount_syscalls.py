"""Attack: rearrange the filesystem — mount a tmpfs, bind /proc, remount / read-write, umount,
pivot_root, chroot, and the new mount API (open_tree, fsopen, fspick, move_mount). Arguments are
chosen so a privileged caller would hit EINVAL or a harmless target, never the host's mounts."""
import ctypes
import errno
import json
import os

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


def in_child(action):
    """Runs action() in a forked child and returns its report, or how the child died: a seccomp
    kill (SIGSYS) is then observed instead of ending the whole script."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            report = action()
        except BaseException as error:
            report = {"succeeded": False, "exception": repr(error)}
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    data = b""
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not data:
        return {"succeeded": False, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}
    return json.loads(data)


def raw_syscall(number, *args):
    """One raw syscall; ints travel as C longs so -1 and 64-bit values arrive intact."""
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    ret = LIBC.syscall(ctypes.c_long(number), *converted)
    if ret == -1:
        code = ctypes.get_errno()
        return {"succeeded": False, "errno": errno.errorcode.get(code, str(code))}
    return {"succeeded": True, "ret": ret}


def attempt_syscall(number, *args):
    return in_child(lambda: raw_syscall(number, *args))

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
