"""Attack: write anywhere but /tmp — create files in /, /usr, /etc, /bin, /lib, /var/tmp,
/dev/shm, /dev, /proc, /sys, /run; open existing system files for writing (nothing is written);
make directories and symlinks; touch timestamps. Anything created is removed again."""
import os
import uuid

DIRECTORIES = ["/", "/usr", "/usr/lib/python3/dist-packages", "/usr/local/lib", "/usr/bin", "/etc",
               "/bin", "/lib", "/var", "/var/tmp", "/dev", "/dev/shm", "/proc", "/sys", "/run", "/home", "/root"]
EXISTING = ["/usr/bin/python3", "/etc/passwd", "/etc/ld.so.cache", "/usr/lib/python3.11/os.py"]


def attempt(action, *args):
    try:
        action(*args)
        return "succeeded"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)


def create_and_remove(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    os.unlink(path)


def open_for_write(path):
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND))


def main():
    name = "stacksync-attack-" + uuid.uuid4().hex
    outcomes = {}
    for directory in DIRECTORIES:
        outcomes["create " + directory] = attempt(create_and_remove, os.path.join(directory, name))
    for path in EXISTING:
        outcomes["open-write " + path] = attempt(open_for_write, path)
        outcomes["utime " + path] = attempt(os.utime, path)
    outcomes["mkdir /usr"] = attempt(lambda: (os.mkdir("/usr/" + name), os.rmdir("/usr/" + name)))
    outcomes["symlink /etc"] = attempt(lambda: (os.symlink("/tmp", "/etc/" + name), os.unlink("/etc/" + name)))
    outcomes["create /tmp (control)"] = attempt(create_and_remove, "/tmp/" + name)
    return {"succeeded": sorted(k for k, v in outcomes.items() if v == "succeeded"), "outcomes": outcomes}
