"""Attack: ptrace — PTRACE_TRACEME, and PTRACE_SEIZE/ATTACH on the parent, on pid 1 and on a
sibling. Same-uid tracing is what the kernel allows by default; the seccomp filter must deny it."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

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
