"""Attack: become root or regain capabilities — setuid(0), setgid(0), setgroups, capset with every
bit, ambient CAP_SYS_ADMIN, clearing no_new_privs — and report the identity the kernel sees
(uid/gid, capability sets, NoNewPrivs, seccomp mode, uid_map)."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

import struct

SYS_CAPSET = 126
SYS_PRCTL = 157
PR_GET_NO_NEW_PRIVS = 39
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
CAP_SYS_ADMIN = 21
LINUX_CAPABILITY_VERSION_3 = 0x20080522
STATUS_FIELDS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                 "Seccomp", "Seccomp_filters")


def attempt(action, *args):
    try:
        action(*args)
        return "succeeded"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)


def read(path):
    try:
        with open(path) as source:
            return source.read().strip()
    except OSError as error:
        return "ERROR %s" % error.strerror


def main():
    status = {}
    for line in read("/proc/self/status").splitlines():
        key, _, value = line.partition(":")
        if key in STATUS_FIELDS:
            status[key] = value.strip()
    header = ctypes.create_string_buffer(struct.pack("<Ii", LINUX_CAPABILITY_VERSION_3, 0), 8)
    everything = ctypes.create_string_buffer(struct.pack("<6I", *([0xFFFFFFFF] * 6)), 24)
    outcomes = {
        "setuid(0)": attempt(os.setuid, 0),
        "setgid(0)": attempt(os.setgid, 0),
        "setresuid(0,0,0)": attempt(os.setresuid, 0, 0, 0),
        "setgroups([0])": attempt(os.setgroups, [0]),
        "seteuid(0)": attempt(os.seteuid, 0),
    }
    probes = {
        "capset all": attempt_syscall(SYS_CAPSET, header, everything),
        "ambient raise CAP_SYS_ADMIN": attempt_syscall(SYS_PRCTL, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0),
        "clear no_new_privs": attempt_syscall(SYS_PRCTL, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0),
    }
    return {
        "status": status,
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "no_new_privs": LIBC.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
        "uid_map": read("/proc/self/uid_map"), "gid_map": read("/proc/self/gid_map"),
        "setgroups": read("/proc/self/setgroups"),
        "outcomes": outcomes, "probes": probes,
    }
