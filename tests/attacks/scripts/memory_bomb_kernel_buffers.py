"""Attack: park memory in the kernel instead of the process — fill pipe and unix-socket buffers
(sized up with F_SETPIPE_SZ and SO_SNDBUF) from many forked children, each up to its fd limit.
Kernel buffers the memory limit does not account for would let a script pin gigabytes of host
memory. The bytes parked across the whole sandbox must stay within the 512 MiB limit."""
import fcntl
import os
import socket
import time

CHILDREN = 40
F_SETPIPE_SZ = 1031
CHUNK = b"\x03" * 65536


def fill(fd):
    parked = 0
    while True:
        try:
            parked += os.write(fd, CHUNK)
        except (BlockingIOError, OSError):
            return parked


def park(report):
    keep = []
    parked = 0
    try:
        while True:
            read_end, write_end = os.pipe()
            keep += [read_end, write_end]
            try:
                fcntl.fcntl(write_end, F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
            os.set_blocking(write_end, False)
            parked += fill(write_end)
            left, right = socket.socketpair()
            keep += [left, right]
            left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
            right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            left.setblocking(False)
            parked += fill(left.fileno())
    except OSError:
        pass  # out of file descriptors (or memory): hold what is parked
    os.write(report, b"%d\n" % parked)
    time.sleep(3)
    os._exit(0)


def main():
    read_end, write_end = os.pipe()
    children = 0
    for _ in range(CHILDREN):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.close(read_end)
            park(write_end)
        children += 1
    os.close(write_end)
    data = b""
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        data += chunk
        if data.count(b"\n") >= children:
            break
    reports = [int(line) for line in data.split()]
    return {"children": children, "children_reporting": len(reports),
            "parked_mib": round(sum(reports) / (1 << 20), 1)}
