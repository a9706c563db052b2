"""Attack: reach host daemons over unix sockets — the suite's abstract canary
(@stacksync-attack-canary), the Docker and containerd sockets, systemd, D-Bus, journald, X11.
Abstract sockets belong to the network namespace; the filesystem ones must not be mounted."""
import socket

ABSTRACT_CANARY = "\0stacksync-attack-canary"  # test_attacks.py listens on it on the host
PATHS = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
         "/run/systemd/private", "/run/systemd/notify", "/run/dbus/system_bus_socket",
         "/var/run/dbus/system_bus_socket", "/run/systemd/journal/socket", "/dev/log",
         "/tmp/.X11-unix/X0", "/run/user/0/bus"]


def try_connect(address):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(0.5)
    try:
        sock.connect(address)
        return "connected"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error)
    finally:
        sock.close()


def main():
    attempts = {"@stacksync-attack-canary": try_connect(ABSTRACT_CANARY)}
    for path in PATHS:
        attempts[path] = try_connect(path)
    return {"connected": sorted(k for k, v in attempts.items() if v == "connected"), "attempts": attempts}
