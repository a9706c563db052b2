"""Attack: reboot(2). The second magic number is deliberately wrong: the kernel checks
CAP_SYS_BOOT first (EPERM) and the magic after (EINVAL), so EINVAL would reveal the capability
without rebooting anything."""
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

SYS_REBOOT = 169
LINUX_REBOOT_MAGIC1 = 0xFEE1DEAD
BAD_MAGIC2 = 0
LINUX_REBOOT_CMD_RESTART = 0x01234567
LINUX_REBOOT_CMD_POWER_OFF = 0x4321FEDC


def main():
    return {"outcomes": {
        "reboot restart (bad magic)": attempt_syscall(SYS_REBOOT, LINUX_REBOOT_MAGIC1, BAD_MAGIC2, LINUX_REBOOT_CMD_RESTART, None),
        "reboot power off (bad magic)": attempt_syscall(SYS_REBOOT, LINUX_REBOOT_MAGIC1, BAD_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, None),
    }}
