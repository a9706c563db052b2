"""Attack: open sockets of families outside AF_UNIX/AF_INET/AF_INET6 — AF_VSOCK (the path to the
hypervisor in a VM), AF_ALG (kernel crypto), AF_KEY, AF_BLUETOOTH, AF_XDP, AF_TIPC, AF_RDS... —
each a known source of kernel exploits. Nothing is connected: creating one is the finding."""
import socket

FAMILIES = {"AF_AX25": 3, "AF_APPLETALK": 5, "AF_X25": 9, "AF_KEY": 15, "AF_RDS": 21,
            "AF_PPPOX": 24, "AF_LLC": 26, "AF_CAN": 29, "AF_TIPC": 30, "AF_BLUETOOTH": 31,
            "AF_IEEE802154": 36, "AF_ALG": 38, "AF_NFC": 39, "AF_VSOCK": 40, "AF_KCM": 41,
            "AF_QIPCRTR": 42, "AF_SMC": 43, "AF_XDP": 44, "AF_MCTP": 45}
TYPES = (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET, socket.SOCK_RAW)


def main():
    opened = []
    errors = {}
    for name, family in FAMILIES.items():
        for kind in TYPES:
            try:
                sock = socket.socket(family, kind, 0)
            except OSError as error:
                errors["%s/%d" % (name, kind)] = error.errno
                continue
            opened.append("%s/%d" % (name, kind))
            sock.close()
    return {"opened": opened, "errnos": sorted(set(errors.values()))}
