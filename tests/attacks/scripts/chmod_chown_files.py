"""Attack: change ownership and modes of system files (set to their current values, so a
success changes nothing but is still the finding), plant a setuid file in /tmp, and read the
mount flags that should make it useless (/tmp nosuid,nodev; / and /usr read-only)."""
import os
import stat

TARGETS = ["/usr/bin/python3", "/etc/passwd", "/usr/lib/python3.11/os.py", "/", "/usr", "/dev/null"]


def attempt(action, *args):
    try:
        action(*args)
        return "succeeded"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)


def mount_options():
    options = {}
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            options[fields[4]] = fields[5].split(",")
    return options


def main():
    outcomes = {}
    for path in TARGETS:
        try:
            info = os.stat(path, follow_symlinks=False)
        except OSError as error:
            outcomes["stat " + path] = error.strerror
            continue
        outcomes["chmod " + path] = attempt(os.chmod, path, stat.S_IMODE(info.st_mode))
        outcomes["chown " + path] = attempt(os.chown, path, info.st_uid, info.st_gid)
    planted = "/tmp/stacksync-attack-suid"
    with open(planted, "w") as handle:
        handle.write("#!/bin/sh\nid\n")
    outcomes["chmod 4755 /tmp file"] = attempt(os.chmod, planted, 0o4755)
    options = mount_options()
    return {
        "succeeded": sorted(k for k, v in outcomes.items() if v == "succeeded" and "/tmp" not in k),
        "outcomes": outcomes,
        "mount_options": {p: options.get(p) for p in ("/", "/tmp", "/usr", "/proc", "/dev")},
    }
