"""Attack: use descriptors inherited from the service — a listening socket would let the script
accept other clients' requests, an open directory would be a path back to the host. Every open
fd is listed and identified; sockets report their family and whether they listen."""
import os
import socket
import stat


def describe(fd):
    info = os.fstat(fd)
    try:
        link = os.readlink("/proc/self/fd/%d" % fd)
    except OSError:
        link = None
    entry = {"link": link, "kind": stat.filemode(info.st_mode)[0]}
    if stat.S_ISSOCK(info.st_mode):
        sock = socket.socket(fileno=os.dup(fd))
        try:
            entry["family"] = sock.family.name if hasattr(sock.family, "name") else int(sock.family)
            entry["listening"] = bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        finally:
            sock.close()
    return entry


def main():
    fds = {}
    listing = sorted(int(name) for name in os.listdir("/proc/self/fd"))
    for fd in listing:
        try:
            fds[str(fd)] = describe(fd)
        except OSError:
            pass  # the fd of the listing itself, already closed
    return {"fds": fds}
