"""Host-side observers for the attack suite: canary listeners on the host's loopback that a
sandbox sharing the host's network would reach, and what the sandboxes may leave behind
(processes, mounts, cgroups, files the scripts wrote), attributed to this suite's runs — other
people's sandboxes may run as uid 65534 on the same machine meanwhile.
"""
import os
import socket
import threading
import time
import urllib.parse
from pathlib import Path

from attack_client import CLI_PIDS, PARALLELISM, SANDBOX_UID, SCRIPTS_DIR, URL

# The scripts know these fixed values; the runner listens on them on the host's loopback.
CANARY_TCP_PORT = 47123
CANARY_UDP_PORT = 47124
CANARY_ABSTRACT = "\0stacksync-attack-canary"



def cgroup_of(pid):
    """The memory (v1) or unified (v2) cgroup path of a process, or None if it is gone."""
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(",") or controllers == "":
            if controllers == "" and any("memory" in l.split(":")[1] for l in lines):
                continue
            return path
    return None


class Canaries:
    """Listeners on the host's loopback that the network scripts try to reach. A sandbox sharing
    the host's network namespace would reach them; they count what arrives."""

    def __init__(self):
        self.tcp_accepted = 0
        self.udp_received = 0
        self.unix_accepted = 0
        self.unavailable = []
        self._sockets = []
        self._open(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", CANARY_TCP_PORT), "tcp")
        self._open(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", CANARY_UDP_PORT), "udp")
        self._open(socket.AF_UNIX, socket.SOCK_STREAM, CANARY_ABSTRACT, "unix")

    def _open(self, family, kind, address, name):
        sock = socket.socket(family, kind)
        try:
            if family == socket.AF_INET:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            if kind == socket.SOCK_STREAM:
                sock.listen(16)
        except OSError as error:
            self.unavailable.append("%s: %s" % (name, error))
            sock.close()
            return
        self._sockets.append(sock)
        threading.Thread(target=self._serve, args=(sock, name), daemon=True).start()

    def _serve(self, sock, name):
        while True:
            try:
                if name == "udp":
                    sock.recvfrom(65536)
                    self.udp_received += 1
                else:
                    connection, _ = sock.accept()
                    connection.close()
                    if name == "tcp":
                        self.tcp_accepted += 1
                    else:
                        self.unix_accepted += 1
            except OSError:
                return

    def close(self):
        for sock in self._sockets:
            sock.close()


def _proc_text(pid, name):
    with open("/proc/%s/%s" % (pid, name), "rb") as source:
        return source.read().decode("utf-8", "replace")


def process_table():
    """{(pid, start time): (uid, ppid, pid namespace, command)} of every process on the host."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_text = _proc_text(entry, "stat")
            fields = stat_text[stat_text.rindex(")") + 2:].split()
            uid = next(int(line.split()[1]) for line in _proc_text(entry, "status").splitlines()
                       if line.startswith("Uid:"))
            command = _proc_text(entry, "cmdline").replace("\0", " ").strip()[:200] or stat_text.split()[1]
            try:
                pid_ns = os.readlink("/proc/%s/ns/pid" % entry)
            except OSError:
                pid_ns = None
        except (OSError, StopIteration, ValueError):
            continue  # exited while we looked
        table[(int(entry), fields[19])] = (uid, int(fields[1]), pid_ns, command)
    return table


def stacksync_mounts():
    with open("/proc/self/mountinfo") as mountinfo:
        return sorted(line.strip() for line in mountinfo if "stacksync" in line.lower())


def stacksync_cgroup_dirs():
    """{path: [pids in it]} of every cgroup directory named stacksync-* or below one."""
    found = {}
    for top in Path("/sys/fs/cgroup").glob("*"):
        for directory, subdirs, _ in os.walk(top):
            if "/stacksync-" in directory:
                try:
                    with open(os.path.join(directory, "cgroup.procs")) as procs:
                        found[directory] = procs.read().split()
                except OSError:
                    found[directory] = []
    return found


# Names the scripts write inside their private /tmp; on the host's they mean a shared /tmp.
SCRIPT_TMP_NAMES = ("stacksync-attack-", "outlived-", "fill-", "sparse")


def script_traces_on_host():
    found = set()
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            found.update(os.path.join(top, n) for n in os.listdir(top) if n.startswith(SCRIPT_TMP_NAMES))
        except OSError:
            pass
    return found


def listening_pid(port):
    """The host pid holding a TCP listener on port, or None (e.g. the service is in a container)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as source:
                for line in source.read().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % fields[9])
        except OSError:
            pass
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % entry):
                if os.readlink("/proc/%s/fd/%s" % (entry, fd)) in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


class HostState:
    """What the host looked like before the suite, and how to attribute what appears later to
    this suite's runs — the machine may run other people's sandboxes as uid 65534 meanwhile."""

    def __init__(self):
        self.processes = process_table()
        self.mounts = stacksync_mounts()
        self.cgroups = stacksync_cgroup_dirs()
        self.script_traces = script_traces_on_host()
        self.own_pid_ns = os.readlink("/proc/self/ns/pid")
        self.sandbox_uids = {SANDBOX_UID}
        self.ignored_pids = set()
        self.server_pid = listening_pid(urllib.parse.urlsplit(URL).port or 80) if URL else None

    def _ancestors(self, pid, table):
        parents = {key[0]: value[1] for key, value in table.items()}
        chain = []
        while pid in parents and pid > 1 and len(chain) < 64:
            pid = parents[pid]
            chain.append(pid)
        return chain

    def leftover_processes(self):
        current = process_table()
        by_pid = {key[0]: value for key, value in current.items()}
        scripts = str(SCRIPTS_DIR)
        # The sandbox's init is a clone of the CLI, so its command line names the script file:
        # every pid namespace holding such a process belongs to one of this suite's runs.
        our_namespaces = {ns for uid, ppid, ns, command in current.values()
                          if scripts in command and ns not in (None, self.own_pid_ns)}
        # Warm mode keeps spare sandboxes ready below the zygote: they stay in the zygote's own
        # cgroup until a request moves them into its run cgroup, so anything still in the cgroup
        # of a sandbox init started by the service itself (a sandboxed process whose parent is
        # not sandboxed: the zygote sandbox's init, once the runs are over) is a spare. The
        # service's own pid is not used: in a container the listening pid is the port forwarder.
        pool_cgroups = {cgroup_of(key[0]) for key, value in current.items()
                        if URL and value[0] in self.sandbox_uids
                        and by_pid.get(value[1], (None,))[0] not in self.sandbox_uids}
        pool_cgroups.discard(None)
        leftovers = []
        for key, (uid, ppid, pid_ns, command) in current.items():
            pid = key[0]
            if key in self.processes or pid in self.ignored_pids or pid == os.getpid():
                continue
            foreign = pid_ns is not None and pid_ns != self.own_pid_ns
            if uid not in self.sandbox_uids and not foreign:
                continue
            ancestors = self._ancestors(pid, current)
            if URL:
                if self.server_pid not in ancestors:
                    continue
                # Below the service, a sandbox's processes sit under another sandboxed process
                # (its init or a zygote); a worker the service itself (re)started does not.
                if not any(by_pid.get(a, (None,))[0] in self.sandbox_uids for a in ancestors):
                    continue
                if cgroup_of(pid) in pool_cgroups:
                    continue
            elif not (scripts in command or pid_ns in our_namespaces or os.getpid() in ancestors
                      or CLI_PIDS & set(ancestors)):
                continue
            leftovers.append((pid, "pid %d uid %d ppid %d: %s" % (pid, uid, ppid, command)))
        return leftovers

    def new_mounts(self):
        return [m for m in stacksync_mounts() if m not in self.mounts]

    def leftover_cgroups(self):
        """CLI: any cgroup directory named after one of our CLI processes (all have exited).
        Service: run cgroups holding a leftover process, or more run cgroups than a pool of
        them explains (the zygote keeps one; requests in flight may hold a few)."""
        current = stacksync_cgroup_dirs()
        if URL:
            owner = "/stacksync-%s/" % self.server_pid
            leftover_pids = {str(pid) for pid, _ in self.leftover_processes()}
            runs = {path: pids for path, pids in current.items() if owner in path + "/" and "/run-" in path}
            before = sum(1 for path in self.cgroups if owner in path + "/" and "/run-" in path)
            found = sorted("%s holds %s" % (path, pids) for path, pids in runs.items() if leftover_pids & set(pids))
            if len(runs) > before + 2 * PARALLELISM + 2:
                found.append("%d run cgroups of the service (%d before the suite): %s" % (
                    len(runs), before, sorted(runs)[:10]))
            return found
        ours = tuple("/stacksync-%d" % pid for pid in CLI_PIDS)
        return sorted(path for path in current if any(part + "/" in path + "/" for part in ours))

    def new_script_traces(self):
        return sorted(script_traces_on_host() - self.script_traces)


def assert_no_leftover_processes(host, grace_seconds=1.5):
    """Leftovers get a moment to be reaped; anything still there after it is a leak."""
    deadline = time.monotonic() + grace_seconds
    while True:
        leftovers = [description for _, description in host.leftover_processes()]
        if not leftovers or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not leftovers, "processes of the sandbox survived its run: %s%s" % (leftovers, (
        " (over HTTP: new processes below a sandboxed process of the service; a zygote the service"
        " replaced during the suite would show up here too)" if URL else ""))
