"""Attack: steal a file descriptor from another process with pidfd_getfd (the parent's stdout
here; in a service it would be a socket), and compare files across processes with kcmp."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438
SYS_KCMP = 312
KCMP_FILE = 0


def steal(parent):
    opened = raw_syscall(SYS_PIDFD_OPEN, parent, 0)
    if not opened["succeeded"]:
        return {"succeeded": False, "pidfd_open": opened}
    stolen = raw_syscall(SYS_PIDFD_GETFD, opened["ret"], 1, 0)
    stolen["pidfd_open"] = opened
    return stolen


def main():
    parent = os.getpid()
    return {"pidfd_getfd": in_child(lambda: steal(parent)),
            "kcmp": in_child(lambda: raw_syscall(SYS_KCMP, parent, os.getpid(), KCMP_FILE, 1, 1))}
