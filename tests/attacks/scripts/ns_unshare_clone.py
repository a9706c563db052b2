"""Attack: create new namespaces — unshare(2) with every namespace flag, clone(2) and clone3(2)
with CLONE_NEWUSER. A nested user namespace hands out full capabilities inside it, the door to
most container escapes."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

import signal
import struct

SYS_UNSHARE = 272
SYS_CLONE = 56
SYS_CLONE3 = 435
NAMESPACE_FLAGS = {"CLONE_NEWUSER": 0x10000000, "CLONE_NEWNS": 0x00020000, "CLONE_NEWNET": 0x40000000,
                   "CLONE_NEWPID": 0x20000000, "CLONE_NEWUTS": 0x04000000, "CLONE_NEWIPC": 0x08000000,
                   "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWTIME": 0x00000080,
                   "CLONE_NEWUSER|CLONE_NEWNS": 0x10020000}


def clone_like_fork(number, *args):
    report = raw_syscall(number, *args)
    if report["succeeded"] and report["ret"] == 0:
        os._exit(0)  # the new process: leave at once, it must not report too
    return report


def main():
    outcomes = {}
    for name, flag in NAMESPACE_FLAGS.items():
        outcomes["unshare " + name] = attempt_syscall(SYS_UNSHARE, flag)
    outcomes["clone CLONE_NEWUSER"] = in_child(
        lambda: clone_like_fork(SYS_CLONE, NAMESPACE_FLAGS["CLONE_NEWUSER"] | signal.SIGCHLD, 0, 0, 0, 0))
    outcomes["clone CLONE_NEWNET"] = in_child(
        lambda: clone_like_fork(SYS_CLONE, NAMESPACE_FLAGS["CLONE_NEWNET"] | signal.SIGCHLD, 0, 0, 0, 0))
    clone_args = ctypes.create_string_buffer(
        struct.pack("<11Q", NAMESPACE_FLAGS["CLONE_NEWUSER"], 0, 0, 0, signal.SIGCHLD, 0, 0, 0, 0, 0, 0), 88)
    outcomes["clone3 CLONE_NEWUSER"] = in_child(lambda: clone_like_fork(SYS_CLONE3, clone_args, 88))
    return {"outcomes": outcomes}
