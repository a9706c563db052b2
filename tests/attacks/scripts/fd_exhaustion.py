"""Attack: open file descriptors until the kernel refuses, to starve the host's fd tables."""
import errno
import os


def main():
    fds = []
    stopped_by = None
    while len(fds) < 1 << 20:
        try:
            fds.append(os.open("/dev/null", os.O_RDONLY))
        except OSError as error:
            stopped_by = errno.errorcode.get(error.errno, str(error.errno))
            break
    count = len(fds)
    for fd in fds:
        os.close(fd)
    return {"opened": count, "stopped_by": stopped_by}
