"""Attack: create new namespaces — unshare(2) with every namespace flag, clone(2) and clone3(2)
with CLONE_NEWUSER. A nested user namespace hands out full capabilities inside it, the door to
most container escapes."""
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
