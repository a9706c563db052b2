"""Attack: open raw IP, ICMP and packet (AF_PACKET) sockets, which would let the script forge
traffic or sniff the host's interfaces."""
import socket

ETH_P_ALL = 0x0003

CANDIDATES = {
    "inet_raw_icmp": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    "inet_raw_ipproto_raw": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
    "inet6_raw_icmpv6": (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6),
    "inet_ping_dgram": (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP),
    "packet_raw_all": (socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)),
    "packet_dgram_all": (socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL)),
}


def main():
    opened = []
    attempts = {}
    for name, (family, kind, proto) in CANDIDATES.items():
        try:
            sock = socket.socket(family, kind, proto)
        except OSError as error:
            attempts[name] = "%s: %s" % (type(error).__name__, error)
            continue
        opened.append(name)
        attempts[name] = "opened"
        sock.close()
    return {"opened": opened, "attempts": attempts}
