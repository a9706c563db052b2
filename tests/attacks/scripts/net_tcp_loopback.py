"""Attack: reach TCP services on the host's loopback — the service itself, databases, and the
suite's own canary listener (127.0.0.1:47123). Only the sandbox's empty network namespace may
answer, so every connect must fail."""
import socket

CANARY_TCP_PORT = 47123  # test_attacks.py listens here on the host while the suite runs
PORTS = [CANARY_TCP_PORT, 22, 53, 80, 443, 2375, 2376, 3306, 5432, 6379, 8000, 8080, 8443,
         9000, 9090, 11211, 27017]


def try_connect(family, address):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(0.5)
    try:
        sock.connect(address)
        return "connected"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error)
    finally:
        sock.close()


def main():
    attempts = {}
    for port in PORTS:
        attempts["127.0.0.1:%d" % port] = try_connect(socket.AF_INET, ("127.0.0.1", port))
    for port in (CANARY_TCP_PORT, 8080):
        attempts["[::1]:%d" % port] = try_connect(socket.AF_INET6, ("::1", port))
    connected = sorted(address for address, outcome in attempts.items() if outcome == "connected")
    return {"connected": connected, "attempts": attempts}
