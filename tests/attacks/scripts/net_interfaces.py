"""Attack: enumerate the network the sandbox sits in — interfaces, routes, and the sockets the
kernel lists in /proc/net (which would show the host's listeners if the namespace were shared)."""
import os
import socket


def read_lines(path):
    try:
        with open(path) as source:
            return source.read().splitlines()
    except OSError as error:
        return ["ERROR %s" % error]


def main():
    interfaces = set()
    for line in read_lines("/proc/net/dev")[2:]:
        if ":" in line:
            interfaces.add(line.split(":")[0].strip())
    try:
        interfaces.update(os.listdir("/sys/class/net"))
    except OSError:
        pass
    try:
        index_names = [name for _, name in socket.if_nameindex()]
        interfaces.update(index_names)
    except OSError as error:
        index_names = "%s: %s" % (type(error).__name__, error)
    listeners = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in read_lines(table)[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                listeners.append(fields[1])
    unix_paths = [line.split()[-1] for line in read_lines("/proc/net/unix")[1:] if len(line.split()) >= 8]
    return {"interfaces": sorted(interfaces), "if_nameindex": index_names,
            "tcp_listeners": listeners, "unix_socket_paths": unix_paths}
