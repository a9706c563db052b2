"""Attack: reach into the sandbox's other processes (its init, which supervises the run and, in
warm mode, was forked from the pre-loaded interpreter) through /proc/<pid>/mem, environ, maps,
fd, exe, root and cwd — checked by ptrace rules, not by the ptrace syscall, so seccomp alone
does not stop them; only a non-dumpable init does."""
import os

ENTRIES = ("mem", "environ", "maps", "fd", "exe", "root", "cwd", "auxv", "stack", "syscall")


def touch(path, name):
    try:
        if name == "fd":
            return "listed %d fds" % len(os.listdir(path))
        if name in ("exe", "root", "cwd"):
            return "resolved " + os.readlink(path)
        fd = os.open(path, os.O_RDWR if name == "mem" else os.O_RDONLY)
        os.close(fd)
        return "opened"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)


def main():
    me = os.getpid()
    reached = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        for name in ENTRIES:
            outcome = touch("/proc/%s/%s" % (entry, name), name)
            reached["%s/%s" % (entry, name)] = outcome
    return {"self_pid": me, "outcomes": reached,
            "succeeded": sorted(k for k, v in reached.items() if v.startswith(("listed", "resolved", "opened")))}
