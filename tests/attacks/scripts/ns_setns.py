"""Attack: join namespaces with setns(2) through /proc/<pid>/ns — the door back to the host's
namespaces if any of its processes were visible — and report the sandbox's namespace ids, which
the runner compares with its own."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_SETNS = 308


def main():
    namespaces = {}
    outcomes = {}
    for name in sorted(os.listdir("/proc/self/ns")):
        namespaces[name] = os.readlink("/proc/self/ns/" + name)
        for owner in ("self", "1"):
            try:
                fd = os.open("/proc/%s/ns/%s" % (owner, name), os.O_RDONLY)
            except OSError as error:
                outcomes["%s %s" % (owner, name)] = {"succeeded": False, "open_error": error.strerror}
                continue
            outcomes["%s %s" % (owner, name)] = attempt_syscall(SYS_SETNS, fd, 0)
            os.close(fd)
    return {"namespaces": namespaces, "outcomes": outcomes}
