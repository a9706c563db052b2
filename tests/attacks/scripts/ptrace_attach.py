"""Attack: ptrace — PTRACE_TRACEME, and PTRACE_SEIZE/ATTACH on the parent, on pid 1 and on a
sibling. Same-uid tracing is what the kernel allows by default; the seccomp filter must deny it."""
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

import signal
import time

PTRACE_TRACEME = 0
PTRACE_ATTACH = 16
PTRACE_SEIZE = 0x4206
SYS_PTRACE = 101


def main():
    sleeper = os.fork()
    if sleeper == 0:
        time.sleep(10)
        os._exit(0)
    me = os.getpid()
    outcomes = {
        "PTRACE_TRACEME": attempt_syscall(SYS_PTRACE, PTRACE_TRACEME, 0, 0, 0),
        "PTRACE_SEIZE parent": attempt_syscall(SYS_PTRACE, PTRACE_SEIZE, me, 0, 0),
        "PTRACE_SEIZE pid 1": attempt_syscall(SYS_PTRACE, PTRACE_SEIZE, 1, 0, 0),
        "PTRACE_SEIZE sibling": attempt_syscall(SYS_PTRACE, PTRACE_SEIZE, sleeper, 0, 0),
        "PTRACE_ATTACH sibling": attempt_syscall(SYS_PTRACE, PTRACE_ATTACH, sleeper, 0, 0),
    }
    os.kill(sleeper, signal.SIGKILL)
    os.waitpid(sleeper, 0)
    return {"outcomes": outcomes}
