"""Attack: reach the internet by IP. Documentation addresses (TEST-NET-2/3, 2001:db8::/32) stand
in for public hosts. A route is first probed with a UDP connect(), which sends no packet; a TCP
connect is only attempted when there is no route, so a broken sandbox never emits traffic
beyond the loopback — it reports the route instead."""
import socket

TARGETS = [
    (socket.AF_INET, "198.51.100.7", 80),
    (socket.AF_INET, "203.0.113.9", 443),
    (socket.AF_INET6, "2001:db8::7", 80),
]


def has_route(family, host, port):
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.connect((host, port))  # route lookup only; UDP connect sends nothing
        return True, "route exists"
    except OSError as error:
        return False, "%s: %s" % (type(error).__name__, error)
    finally:
        probe.close()


def main():
    routes = {}
    tcp = {}
    connected = []
    for family, host, port in TARGETS:
        routed, detail = has_route(family, host, port)
        routes[host] = detail
        if routed:
            continue
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(1.0)
        try:
            sock.connect((host, port))
            connected.append(host)
            tcp[host] = "connected"
        except OSError as error:
            tcp[host] = "%s: %s" % (type(error).__name__, error)
        finally:
            sock.close()
    with open("/proc/net/route") as table:
        ipv4_routes = [line.split()[:3] for line in table.read().splitlines()[1:] if line.strip()]
    return {"routed": sorted(h for h, d in routes.items() if d == "route exists"),
            "route_probes": routes, "tcp": tcp, "connected": connected, "ipv4_routes": ipv4_routes}
