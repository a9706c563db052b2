"""Attack: find any writable place besides the private /tmp. Only a mount without "ro" can hold
one, so every such mount (outside /proc, /sys and /tmp) is walked and a file is created in each
of its directories. A writable directory shared by runs would be a channel between requests (in
warm mode every request's filesystem is a copy of the zygote's)."""
import os
import time
import uuid

EXEMPT = ("/proc", "/sys", "/tmp")


def writable_mounts():
    mounts = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            point, options = fields[4], fields[5].split(",")
            if "ro" in options or any(point == e or point.startswith(e + "/") for e in EXEMPT):
                continue
            mounts.append(point)
    return mounts


def main():
    name = "stacksync-attack-" + uuid.uuid4().hex
    mounts = writable_mounts()
    writable = []
    tried = 0
    deadline = time.monotonic() + 3.0
    finished = True
    for top in mounts:
        for directory, subdirs, _ in os.walk(top):
            subdirs[:] = [d for d in subdirs if not any(os.path.join(directory, d) == e for e in EXEMPT)]
            if time.monotonic() > deadline:
                finished = False
                break
            tried += 1
            probe = os.path.join(directory, name)
            try:
                fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError:
                continue
            os.close(fd)
            os.unlink(probe)
            writable.append(directory)
    return {"writable_mounts": mounts, "writable": sorted(set(writable)), "directories_tried": tried,
            "finished": finished}
