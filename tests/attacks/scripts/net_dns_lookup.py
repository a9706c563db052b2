"""Attack: resolve a public name through the host's resolver. The resolvers named in
/etc/resolv.conf are first probed with a UDP connect() (no packet sent); the lookup itself runs
only when none is routable, so a broken sandbox reports "resolver reachable" instead of sending
a query off the machine."""
import socket


def nameservers():
    try:
        with open("/etc/resolv.conf") as conf:
            return [line.split()[1] for line in conf if line.startswith("nameserver") and len(line.split()) > 1]
    except OSError:
        return []


def routable(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.connect((address, 53))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def main():
    servers = nameservers()
    reachable = [s for s in servers if not s.startswith("127.") and routable(s)]
    observation = {"nameservers": servers, "reachable_resolvers": reachable,
                   "lookup_attempted": False, "resolved": None, "error": None}
    if reachable:
        return observation
    observation["lookup_attempted"] = True
    try:
        infos = socket.getaddrinfo("example.com", 443, proto=socket.IPPROTO_TCP)
        observation["resolved"] = sorted({info[4][0] for info in infos})
    except OSError as error:
        observation["error"] = "%s: %s" % (type(error).__name__, error)
    return observation
