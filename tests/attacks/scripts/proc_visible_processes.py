"""Attack: see (and so target) processes outside the sandbox through /proc — the host's init,
the service, the test runner. A pid namespace of its own leaves only the sandbox's processes."""
import os


def read(path):
    try:
        with open(path, "rb") as source:
            return source.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError as error:
        return "ERROR %s" % error.strerror


def main():
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            processes[entry] = {"comm": read("/proc/%s/comm" % entry), "cmdline": read("/proc/%s/cmdline" % entry)}
    return {"self_pid": os.getpid(), "parent_pid": os.getppid(), "processes": processes}
