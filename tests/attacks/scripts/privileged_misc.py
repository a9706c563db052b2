"""Attack: a sweep of privileged calls Docker's profile denies — swapon/swapoff, acct, iopl,
ioperm, vhangup, fanotify_init, quotactl, lookup_dcookie, nfsservctl."""
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

SYS_SWAPON = 167
SYS_SWAPOFF = 168
SYS_ACCT = 163
SYS_IOPL = 172
SYS_IOPERM = 173
SYS_VHANGUP = 153
SYS_FANOTIFY_INIT = 300
SYS_QUOTACTL = 179
SYS_LOOKUP_DCOOKIE = 212
SYS_NFSSERVCTL = 180
Q_GETINFO_USRQUOTA = 0x800005 << 8  # QCMD(Q_GETINFO, USRQUOTA)


def main():
    return {"outcomes": {
        "swapon": attempt_syscall(SYS_SWAPON, b"/tmp/stacksync-attack-swap", 0),
        "swapoff": attempt_syscall(SYS_SWAPOFF, b"/tmp/stacksync-attack-swap"),
        "acct(NULL)": attempt_syscall(SYS_ACCT, None),
        "iopl(3)": attempt_syscall(SYS_IOPL, 3),
        "ioperm(0x80)": attempt_syscall(SYS_IOPERM, 0x80, 1, 1),
        "vhangup": attempt_syscall(SYS_VHANGUP),
        "fanotify_init": attempt_syscall(SYS_FANOTIFY_INIT, 0, 0),
        "quotactl Q_GETINFO": attempt_syscall(SYS_QUOTACTL, Q_GETINFO_USRQUOTA, b"/", 0, None),
        "lookup_dcookie": attempt_syscall(SYS_LOOKUP_DCOOKIE, 0, None, 0),
        "nfsservctl": attempt_syscall(SYS_NFSSERVCTL, 0, None, None),
    }}
