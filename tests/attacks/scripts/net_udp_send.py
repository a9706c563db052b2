"""Attack: send UDP datagrams out: to the suite's canary on the host's 127.0.0.1:47124, to a
documentation address, to the broadcast address and to the mDNS multicast group. Sends off the
loopback are attempted only when no route exists (a UDP connect() probe sends nothing)."""
import socket

CANARY_UDP_PORT = 47124  # test_attacks.py counts datagrams arriving here on the host


def send(host, port, broadcast=False):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.connect((host, port))  # a route lookup; fails without sending when unroutable
        if not host.startswith("127."):
            return "route exists (not sent)"
        sock.send(b"stacksync-attack-udp")
        return "sent"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error)
    finally:
        sock.close()


def main():
    outcomes = {
        "127.0.0.1:%d" % CANARY_UDP_PORT: send("127.0.0.1", CANARY_UDP_PORT),
        "198.51.100.7:53": send("198.51.100.7", 53),
        "255.255.255.255:9": send("255.255.255.255", 9, broadcast=True),
        "224.0.0.251:5353": send("224.0.0.251", 5353),
    }
    return {"outcomes": outcomes,
            "off_loopback_routable": sorted(k for k, v in outcomes.items() if v.startswith("route exists"))}
