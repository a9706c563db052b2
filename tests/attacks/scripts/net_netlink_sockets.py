"""Attack: open netlink sockets (route, audit, uevent, netfilter, sock_diag) — a large kernel
attack surface and a way to read or change network configuration."""
import socket

PROTOCOLS = {"route": 0, "sock_diag": 4, "audit": 9, "netfilter": 12, "kobject_uevent": 15,
             "generic": 16, "xfrm": 6, "selinux": 7}


def main():
    opened = []
    attempts = {}
    for name, proto in PROTOCOLS.items():
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
        except OSError as error:
            attempts[name] = "%s: %s" % (type(error).__name__, error)
            continue
        opened.append(name)
        attempts[name] = "opened"
        sock.close()
    return {"opened": opened, "attempts": attempts}
