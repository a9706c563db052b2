"""Attack: find the project checkout, the service's build or any of its files anywhere in the
visible filesystem — a walk of everything outside /proc, /sys and /usr for files named like the
project's, plus the install locations under /usr (where Debian's own CMakeLists.txt files live,
so there only names containing "stacksync" count)."""
import os
import time

TELLTALE_NAMES = {"CMakeLists.txt", ".git", "STYLE.md", "context.md", "CMakeCache.txt",
                  "compile_commands.json", "harness.py", "executor.h", "Dockerfile", ".ci"}
SKIP = {"/proc", "/sys", "/usr", "/dev"}


def scan(top, found, deadline, names=TELLTALE_NAMES):
    for directory, subdirs, files in os.walk(top):
        if time.monotonic() > deadline:
            found.append("SCAN TIMED OUT at " + directory)
            return
        subdirs[:] = [d for d in subdirs if os.path.join(directory, d) not in SKIP]
        for name in subdirs + files:
            lowered = name.lower()
            if name in names or "stacksync" in lowered:
                found.append(os.path.join(directory, name))


def main():
    found = []
    deadline = time.monotonic() + 2.0
    scan("/", found, deadline)
    for top in ("/usr/local", "/usr/src", "/usr/share/stacksync", "/usr/lib/stacksync"):
        scan(top, found, deadline, names=())
    for path in ("/usr/bin/stacksync", "/usr/sbin/stacksync", "/usr/local/bin/stacksync"):
        if os.path.lexists(path):
            found.append(path)
    return {"found": sorted(set(found))[:50]}
