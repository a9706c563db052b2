"""Attack: create a file far larger than the file-size rlimit without spending any space — a
sparse file (one byte written at 1 GiB, another truncated to 8 GiB)."""
import errno
import os


def attempt(action):
    try:
        action()
        return "succeeded"
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))


def write_far():
    with open("/tmp/sparse", "wb", buffering=0) as target:
        target.seek(1 << 30)
        target.write(b"x")


def truncate_far():
    with open("/tmp/sparse2", "wb"):
        pass
    os.truncate("/tmp/sparse2", 8 << 30)


def main():
    outcomes = {"write at 1 GiB": attempt(write_far), "truncate to 8 GiB": attempt(truncate_far)}
    sizes = {}
    for name in ("/tmp/sparse", "/tmp/sparse2"):
        try:
            sizes[name] = os.stat(name).st_size
        except OSError:
            sizes[name] = None
    return {"outcomes": outcomes, "sizes": sizes}
