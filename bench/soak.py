#!/usr/bin/python3
"""Soak test: runs the real `stacksync serve` under mixed, hostile traffic for a bounded time and
checks that every request got the answer its script deserves and that nothing leaked.

  bench/soak.py                         # 60 s, 8 clients, warm mode
  bench/soak.py --seconds 600 --mode cold --clients 16 --allow-overload

The binary is $STACKSYNC_BIN (default build/stacksync). Standard library only; run as root (it
reads the server's /proc entries and the cgroup tree). Exit status 0 only if every check passed;
the last line is `N passed, M failed`.

Traffic: every client keeps one keep-alive connection and sends scripts picked at random by
weight (ok, pandas, exceptions, syntax errors, non-serializable results, os._exit, output floods,
memory bombs, fork bombs, attacks, and a few timeouts, rationed because each one holds an
execution slot for the whole wall limit). Each script carries a nonce that must come back in its
own answer, so answers mixed up between requests are caught too.

What is compared with the baseline (taken after a warm-up, with no connection open) once the
server is idle again: uid-65534 processes that descend from the server or sit in its cgroups,
its open fds and threads, the namespaces its processes hold, the mounts of its mount namespace,
run-* cgroup directories below its stacksync-<pid>-* trees, files in /tmp and /dev/shm, and its
RSS. The machine is shared, so /tmp and /dev/shm are made private to the server: it runs in a
mount namespace of its own where both are empty directories of ours (--shared-tmp turns that
off and then compares the host's directories, which other tenants also write to).
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import percentile  # noqa: E402  (bench/load.py: the same percentile definition)

REPO_ROOT = Path(__file__).resolve().parents[1]
SANDBOX_UID = 65534
CGROUP_ROOT = "/sys/fs/cgroup"
STARTUP_TIMEOUT_S = 60  # warm mode preloads pandas before it listens
REQUEST_TIMEOUT_S = 120  # far above a queue wait plus the wall limit: only a hang reaches it
STOP_TIMEOUT_S = 20  # the server's drain is bounded at 10 s by default
# Mounts other tenants of this machine make (podman, docker); only seen with --shared-tmp, where
# the server shares the host's mount namespace.
FOREIGN_MOUNT_PREFIXES = ("/var/lib/containers", "/run/containers", "/run/netns", "/run/user",
                          "/var/lib/docker", "/run/docker", "/proc/sys/fs/binfmt_misc")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "runtime error:",
                     "ERROR: LeakSanitizer")
BAD_SEVERITIES = ("ERROR", "CRITICAL", "ALERT", "EMERGENCY")


# ------------------------------------------------------------------------------------------------
# The traffic: script kinds, what each must be answered with.

class Kind:
    """One kind of script. make(nonce) returns its source; check(status, body, nonce) returns
    None when the answer is right, else what is wrong. max_in_flight and min_interval ration
    the kinds that hold an execution slot for long."""

    def __init__(self, name, weight, make, check, max_in_flight=None, min_interval=0.0):
        self.name = name
        self.weight = weight
        self.make = make
        self.check = check
        self.max_in_flight = max_in_flight
        self.min_interval = min_interval


def expect_ok(check_result, stdout=None):
    def check(status, body, nonce):
        if status != 200:
            return "expected 200, got %d %s" % (status, body.get("type"))
        if set(body) - {"result", "stdout", "stderr", "stdout_truncated", "stderr_truncated"}:
            return "unexpected fields %s" % sorted(body)
        if "result" not in body or not isinstance(body.get("stdout"), str):
            return "a 200 without result or stdout"
        if stdout is not None and body["stdout"] != stdout(nonce):
            return "stdout %r, expected %r" % (body["stdout"][:200], stdout(nonce))
        return check_result(body, nonce)
    return check


def expect_error(*types, **check_fields):
    """A 400 of one of `types`; check_fields maps a field to a function (value, nonce) -> bool."""
    def check(status, body, nonce):
        if status != 400:
            return "expected 400 %s, got %d %s" % ("/".join(types), status, body.get("type"))
        if body.get("type") not in types:
            return "expected type %s, got %r: %s" % ("/".join(types), body.get("type"), str(body.get("error"))[:200])
        for field in ("error", "stdout", "stderr"):
            if not isinstance(body.get(field), str):
                return "a 400 without a string %r" % field
        predicate = check_fields.get(body["type"])
        if predicate is not None and not predicate(body, nonce):
            return "wrong details for %s: %s" % (body["type"], json.dumps(body)[:300])
        return None
    return check


def build_kinds(server_port, limits):
    wall_seconds = limits["wallMs"] / 1000
    memory_mib = limits["memoryMiB"]
    output_limit = limits["outputBytes"]
    pandas_example = (REPO_ROOT / "examples" / "dataframe.py").read_text()

    def nonce_is(key):
        return lambda body, nonce: (None if body["result"] == {key: nonce}
                                    else "result %r, expected {%r: %d}" % (body["result"], key, nonce))

    def pandas_result(body, nonce):
        expected = {"status": "success", "data": {"test": {"0": 1, "1": 2, "2": 3}}}
        return None if body["result"] == expected else "pandas example returned %r" % (body["result"],)

    def forks_bounded(body, nonce):
        result = body["result"]
        if not isinstance(result, dict) or result.get("nonce") != nonce:
            return "result %r does not carry nonce %d" % (result, nonce)
        # Stopped by the pids limit, not by the fork count.
        return None if 0 < result["children"] < 1000 else "fork bomb made %r children" % result["children"]

    def flood_truncated(body, nonce):
        if body["result"] != {"nonce": nonce}:
            return "result %r, expected {'nonce': %d}" % (body["result"], nonce)
        if body.get("stdout_truncated") is not True:
            return "5 MB of output without stdout_truncated"
        if not (0 < len(body["stdout"].encode()) <= output_limit):
            return "truncated stdout is %d bytes (limit %d)" % (len(body["stdout"].encode()), output_limit)
        return None

    def blocked(body, nonce):
        result = body["result"]
        if not isinstance(result, dict) or result.get("nonce") != nonce:
            return "result %r does not carry nonce %d" % (result, nonce)
        return None if "blocked" in result else "ATTACK SUCCEEDED: %r" % (result,)

    kinds = [
        Kind("ok_trivial", 30,
             lambda n: "def main():\n    print('hello %d')\n    return {'answer': %d}\n" % (n, n),
             expect_ok(nonce_is("answer"), stdout=lambda n: "hello %d\n" % n)),
        Kind("ok_pandas", 10, lambda n: pandas_example + "\n# %d\n" % n,
             expect_ok(pandas_result, stdout=lambda n: "DataFrame created successfully\n")),
        Kind("exception", 10,
             lambda n: "def main():\n    raise ValueError('boom %d')\n" % n,
             expect_error("runtime_error", runtime_error=lambda b, n: (
                 b.get("exception") == "ValueError" and ("boom %d" % n) in b["error"]
                 and ("boom %d" % n) in b.get("traceback", "")))),
        Kind("syntax_error", 6,
             lambda n: "# %d\ndef main(:\n    pass\n" % n,
             expect_error("syntax_error", syntax_error=lambda b, n: b.get("line") == 2)),
        Kind("not_serializable", 6,
             lambda n: "def main():\n    return {'nonce': %d, 'bad': {1, 2}}\n" % n,
             expect_error("not_serializable", not_serializable=lambda b, n: (
                 b.get("value_type") == "set" and "bad" in str(b.get("path"))))),
        Kind("os_exit", 6,
             lambda n: "import os\ndef main():\n    os._exit(%d)\n" % (n % 100 + 1),
             expect_error("exited", exited=lambda b, n: b.get("exit_code") == n % 100 + 1)),
        Kind("output_flood", 4,
             lambda n: "def main():\n    print('x' * (5 << 20))\n    return {'nonce': %d}\n" % n,
             expect_ok(flood_truncated), max_in_flight=2),
        # Memory exhaustion normally wins; on a loaded machine a bomb still reclaiming at the limit
        # can be ended by the wall clock instead. Both are the limits doing their job.
        Kind("memory_bomb", 4,
             lambda n: ("# %d\ndef main():\n    hoard = []\n    while True:\n"
                        "        hoard.append(b'm' * (32 << 20))\n" % n),
             expect_error("memory_limit", "timeout",
                          memory_limit=lambda b, n: b.get("limit_mib") == memory_mib,
                          timeout=lambda b, n: b.get("limit_seconds") == wall_seconds),
             max_in_flight=2),
        Kind("fork_bomb", 4,
             lambda n: ("import os, time\ndef main():\n    children = 0\n    try:\n"
                        "        while children < 1000:\n            if os.fork() == 0:\n"
                        "                time.sleep(60)\n                os._exit(0)\n"
                        "            children += 1\n    except OSError:\n        pass\n"
                        "    return {'nonce': %d, 'children': children}\n" % n),
             expect_ok(forks_bounded), max_in_flight=2),
        Kind("attack_shadow", 3,
             lambda n: ("def main():\n    try:\n        data = open('/etc/shadow').read()\n"
                        "    except OSError as exc:\n"
                        "        return {'nonce': %d, 'blocked': type(exc).__name__}\n"
                        "    return {'nonce': %d, 'escaped': data[:100]}\n" % (n, n)),
             expect_ok(blocked)),
        Kind("attack_connect", 3,
             lambda n: ("import socket\ndef main():\n    s = socket.socket()\n    s.settimeout(2)\n"
                        "    try:\n        s.connect(('127.0.0.1', %d))\n"
                        "    except OSError as exc:\n"
                        "        return {'nonce': %d, 'blocked': type(exc).__name__}\n"
                        "    return {'nonce': %d, 'escaped': 'connected to the service'}\n"
                        % (server_port, n, n)),
             expect_ok(blocked)),
        Kind("timeout", 1,
             lambda n: "import time\ndef main():\n    time.sleep(10)\n    return %d\n" % n,
             expect_error("timeout", timeout=lambda b, n: b.get("limit_seconds") == wall_seconds),
             max_in_flight=1, min_interval=15.0),
    ]
    return {kind.name: kind for kind in kinds}


class Picker:
    """Chooses the next script kind: every kind once first (so a short run covers them all),
    then at random by weight, within each kind's ration."""

    def __init__(self, kinds, seed):
        self.kinds = kinds
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.in_flight = {name: 0 for name in kinds}
        self.last_start = {name: -1e9 for name in kinds}
        self.previous_start = dict(self.last_start)
        self.not_yet = list(kinds)
        self.nonce = seed * 1000003 % 900000 + 100000

    def _allowed(self, kind, now):
        if kind.max_in_flight is not None and self.in_flight[kind.name] >= kind.max_in_flight:
            return False
        return now - self.last_start[kind.name] >= kind.min_interval

    def take(self):
        with self.lock:
            now = time.monotonic()
            candidates = [k for k in self.not_yet if self._allowed(self.kinds[k], now)]
            if candidates:
                name = candidates[0]
                self.not_yet.remove(name)
            else:
                allowed = [k for k in self.kinds.values() if self._allowed(k, now)]
                name = self.random.choices(allowed, weights=[k.weight for k in allowed])[0].name
            self.in_flight[name] += 1
            self.previous_start[name] = self.last_start[name]
            self.last_start[name] = now
            self.nonce += 1
            return self.kinds[name], self.nonce

    def done(self, name, refused=False):
        with self.lock:
            self.in_flight[name] -= 1
            if refused:
                # Refused with 503: the ration was not used, so a rare kind gets its turn again.
                self.last_start[name] = self.previous_start[name]


# ------------------------------------------------------------------------------------------------
# What the host holds of the server.

def read_status(pid):
    """/proc/<pid>/status as a dict, or None if the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (OSError, ValueError):
        return None


def rss_kib(pid):
    status = read_status(pid)
    return int(status["VmRSS"].split()[0]) if status and "VmRSS" in status else None


def thread_count(pid):
    status = read_status(pid)
    return int(status["Threads"]) if status else None


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def process_table():
    """pid -> (ppid, uid, state) for every process on the host."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        status = read_status(int(name))
        if status is None:
            continue
        try:
            table[int(name)] = (int(status["PPid"]), int(status["Uid"].split()[0]), status["State"].split()[0])
        except (KeyError, ValueError, IndexError):
            pass
    return table


def cgroup_lines(pid):
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            return f.read()
    except OSError:
        return ""


def server_sandbox_processes(server_pid):
    """uid-65534 processes of this server: its descendants (PPid chains) and whatever sits in its
    stacksync-<pid>-* cgroups (a process reparented away from the server still shows there).
    Returns pid -> (ppid, state)."""
    table = process_table()
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found = {}
    pending = list(children.get(server_pid, []))
    while pending:
        pid = pending.pop()
        if pid in found or pid not in table:
            continue
        ppid, uid, state = table[pid]
        if uid == SANDBOX_UID:
            found[pid] = (ppid, state)
        pending.extend(children.get(pid, []))
    marker = "/stacksync-%d-" % server_pid
    for pid, (ppid, uid, state) in table.items():
        if uid == SANDBOX_UID and pid not in found and marker in cgroup_lines(pid):
            found[pid] = (ppid, state)
    return found


def namespaces_held(pids):
    """Distinct namespace objects (type:[inode]) the given processes are in."""
    held = set()
    for pid in pids:
        try:
            for entry in os.listdir("/proc/%d/ns" % pid):
                held.add(os.readlink("/proc/%d/ns/%s" % (pid, entry)))
        except OSError:
            pass
    return held


def find_tree_parents(server_pid):
    """Directories under /sys/fs/cgroup that hold stacksync-<server pid>-* trees (one per v1
    hierarchy, or one on v2). Searched once: later looks list only these."""
    pattern = re.compile(r"stacksync-%d-\d+" % server_pid)
    parents = set()
    for top, dirs, _ in os.walk(CGROUP_ROOT):
        for name in list(dirs):
            if pattern.fullmatch(name):
                parents.add(top)
                dirs.remove(name)
            elif name.startswith(("stacksync-", "run-")):
                dirs.remove(name)  # another server's tree: nothing of ours below it
    return sorted(parents)


def server_cgroups(server_pid, parents):
    """tree dir -> its run-* children, for this server's stacksync-<pid>-* trees."""
    pattern = re.compile(r"stacksync-%d-\d+" % server_pid)
    trees = {}
    for parent in parents:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            if pattern.fullmatch(name):
                path = os.path.join(parent, name)
                try:
                    trees[path] = sorted(d for d in os.listdir(path) if d.startswith("run-"))
                except OSError:
                    pass  # removed while we looked
    return trees


def run_cgroup_of(pid):
    """The 'stacksync-<pid>-<n>/run-<m>' part of a process's cgroup paths (set of them)."""
    return set(re.findall(r"(stacksync-\d+-\d+/run-\d+)", cgroup_lines(pid)))


def mounts_of(pid):
    entries = set()
    try:
        with open("/proc/%d/mountinfo" % pid) as f:
            lines = f.read().splitlines()
    except OSError:
        return entries
    for line in lines:
        parts = line.split()
        separator = parts.index("-")
        mount_point, fstype, source = parts[4], parts[separator + 1], parts[separator + 2]
        if not mount_point.startswith(FOREIGN_MOUNT_PREFIXES):
            entries.add((mount_point, fstype, source))
    return entries


def list_dir(path):
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


class Snapshot:
    """What the host holds of the server at one moment."""

    def __init__(self, server, private_dirs):
        pid = server.pid
        self.rss = rss_kib(pid)
        self.fds = open_fds(pid)
        self.threads = thread_count(pid)
        self.processes = server_sandbox_processes(pid)
        self.namespaces = namespaces_held([pid] + list(self.processes))
        self.mounts = mounts_of(pid)  # the server's mount namespace (private unless --shared-tmp)
        self.host_mounts = mounts_of(os.getpid())
        self.cgroups = server_cgroups(pid, server.cgroup_parents)
        self.run_dirs = {(tree, run) for tree, runs in self.cgroups.items() for run in runs}
        if private_dirs:
            self.temp = {("/tmp", n) for n in list_dir(private_dirs[0])} | {
                ("/dev/shm", n) for n in list_dir(private_dirs[1])}
        else:
            self.temp = {("/tmp", n) for n in list_dir("/tmp")} | {("/dev/shm", n) for n in list_dir("/dev/shm")}
        # The warm pool: the zygote's sandbox init is the server's uid-65534 child, the zygote its
        # child; idle spare sandboxes the zygote keeps ready live in the zygote's own cgroup.
        self.inits = sorted(p for p, (ppid, _) in self.processes.items() if ppid == pid)
        self.zygotes = sorted(p for p, (ppid, _) in self.processes.items() if ppid in self.inits)
        zygote_runs = set()
        for zygote in self.zygotes:
            zygote_runs |= run_cgroup_of(zygote)
        self.zygote_run_dirs = {(tree, run) for tree, run in self.run_dirs
                                if "%s/%s" % (os.path.basename(tree), run) in zygote_runs}
        self.zygote_rss = rss_kib(self.zygotes[0]) if len(self.zygotes) == 1 else None
        self.pool = set(self.inits) | set(self.zygotes)
        self.spares = {p for p in self.processes if p not in self.pool
                       and run_cgroup_of(p) and run_cgroup_of(p) <= zygote_runs
                       and self.processes[p][1] != "Z"}
        self.strays = {p: self.processes[p] for p in self.processes if p not in self.pool and p not in self.spares}


# ------------------------------------------------------------------------------------------------
# The server.

class Server:
    def __init__(self, binary, mode, extra_args, private_dirs, allow_overload):
        self.allow_overload = allow_overload
        args = [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--mode", mode] + extra_args
        if private_dirs:
            # Both paths are bind-mounted over in a private mount namespace; sh execs, so the
            # pid we hold is the server's. /dev/shm first: the sources live under /tmp. The
            # binary runs through an fd opened before the mounts: a checkout under /tmp would
            # otherwise vanish behind the private /tmp.
            args = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'exec 9<"$3" && mount --bind "$2" /dev/shm && mount --bind "$1" /tmp && shift 3 && '
                    'exec /proc/self/fd/9 "$@"',
                    "sh", private_dirs[0], private_dirs[1]] + args
        self.args = args
        self.lock = threading.Condition()
        self.startup = None
        self.log_lines = 0
        self.severities = {}
        self.bad_lines = []  # ERROR and worse, 5xx, sanitizer reports, non-JSON lines
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self.pid = self.process.pid
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with self.lock:
            while self.startup is None and time.monotonic() < deadline and self.reader.is_alive():
                self.lock.wait(0.1)
        if self.startup is None:
            self.kill()
            raise RuntimeError("server did not start: %s\n%s" % (" ".join(args), "\n".join(self.bad_lines[-20:])))
        self.port = self.startup["port"]
        self.cgroup_parents = []

    def _read_log(self):
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            with self.lock:
                self.log_lines += 1
                if not isinstance(record, dict):
                    if line.strip():
                        self._keep_bad(line)
                    continue
                severity = str(record.get("severity"))
                self.severities[severity] = self.severities.get(severity, 0) + 1
                if self.startup is None and "port" in record:
                    self.startup = record
                    self.lock.notify_all()
                status = record.get("status")
                if isinstance(status, int) and status == 503 and self.allow_overload and \
                        record.get("errorType") == "overloaded":
                    continue
                if severity in BAD_SEVERITIES or (isinstance(status, int) and status >= 500):
                    self._keep_bad(line)
            if any(marker in line for marker in SANITIZER_MARKERS):
                with self.lock:
                    self._keep_bad(line)

    def _keep_bad(self, line):
        self.bad_lines.append(line[:1000])
        del self.bad_lines[:-200]  # the first ones name the problem; keep memory bounded

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self.reader.join(timeout=5)
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def http_get(port, path, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def in_flight_from_metrics(port):
    """Executions running plus queued per GET /metrics, or None when the server has no such
    endpoint (the count is then judged by its processes and cgroups alone)."""
    try:
        status, body = http_get(port, "/metrics")
    except OSError:
        return None
    if status != 200:
        return None
    total, seen = 0.0, False
    for line in body.decode("utf-8", "replace").splitlines():
        match = re.match(r"(stacksync_executions_in_flight|stacksync_execution_queue_depth)(\{[^}]*\})? (\S+)", line)
        if match:
            total += float(match.group(3))
            seen = True
    return total if seen else None


# ------------------------------------------------------------------------------------------------
# Load.

class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {}  # kind -> [ms]
        self.statuses = {}  # kind -> {status: count}
        self.types = {}  # kind -> {error type: count}
        self.wrong = []  # (kind, what)
        self.wrong_count = 0
        self.dropped = []  # (kind, exception)
        self.server_errors = 0  # 5xx
        self.overloaded = 0
        self.malformed = 0
        self.connections_opened = 0

    def record(self, kind, status, body, elapsed_ms, problem):
        with self.lock:
            self.latencies.setdefault(kind, []).append(elapsed_ms)
            per_kind = self.statuses.setdefault(kind, {})
            per_kind[status] = per_kind.get(status, 0) + 1
            if isinstance(body, dict) and "type" in body:
                per_type = self.types.setdefault(kind, {})
                per_type[body["type"]] = per_type.get(body["type"], 0) + 1
            if status >= 500:
                self.server_errors += 1
            if status == 503 and isinstance(body, dict) and body.get("type") == "overloaded":
                self.overloaded += 1
            if problem:
                self.wrong_count += 1
                if len(self.wrong) < 50:
                    self.wrong.append((kind, problem))

    def record_drop(self, kind, exc):
        with self.lock:
            self.dropped.append((kind, repr(exc)[:300]))

    def record_malformed(self):
        with self.lock:
            self.malformed += 1


def send(connection, kind, nonce, allow_overload):
    """One request; returns (status, body or None, elapsed ms, problem or None). Raises on a
    dropped connection."""
    payload = json.dumps({"script": kind.make(nonce)})
    started = time.perf_counter()
    connection.request("POST", "/execute", payload, {"Content-Type": "application/json"})
    response = connection.getresponse()
    raw = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    status = response.status
    try:
        body = json.loads(raw)
    except ValueError:
        return status, None, elapsed, "not JSON (%d): %r" % (status, raw[:200])
    if not isinstance(body, dict):
        return status, None, elapsed, "JSON but not an object: %r" % raw[:200]
    if not (response.getheader("Content-Type") or "").startswith("application/json"):
        return status, body, elapsed, "Content-Type %r" % response.getheader("Content-Type")
    if not response.getheader("X-Request-Id"):
        return status, body, elapsed, "no X-Request-Id"
    if status == 503 and body.get("type") == "overloaded" and allow_overload:
        return status, body, elapsed, None
    return status, body, elapsed, kind.check(status, body, nonce)


def run_load(port, picker, tally, clients, seconds, allow_overload):
    deadline = time.monotonic() + seconds

    def client():
        connection = None
        while time.monotonic() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
                with tally.lock:
                    tally.connections_opened += 1
            kind, nonce = picker.take()
            try:
                status, body, elapsed, problem = send(connection, kind, nonce, allow_overload)
            except (OSError, http.client.HTTPException) as exc:
                # A reset, a close without an answer, or no answer in REQUEST_TIMEOUT_S.
                picker.done(kind.name)
                tally.record_drop(kind.name, exc)
                connection.close()
                connection = None
                continue
            picker.done(kind.name, refused=status == 503)
            if body is None:
                tally.record_malformed()
            tally.record(kind.name, status, body, elapsed, problem)
            if status == 503:
                time.sleep(0.2)  # overloaded: back off a little, as a client honouring Retry-After would
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT_S + 30)
    return [t for t in threads if t.is_alive()]


def least_squares_slope(samples):
    """Slope of value over time for [(seconds, value)], per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var_t = sum((t - mean_t) ** 2 for t, _ in samples)
    if var_t == 0:
        return 0.0
    covariance = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return covariance / var_t * 60


class Sampler:
    """Every second: server RSS (for the slope), and whether sandboxes and run cgroups are seen
    at all (a leak detector that never sees a sandbox proves nothing)."""

    def __init__(self, server, baseline):
        self.server = server
        self.baseline = baseline
        self.rss = []
        self.peak_processes = 0
        self.peak_run_dirs = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.started = time.monotonic()

    def _sample(self):
        while True:
            now = time.monotonic() - self.started
            value = rss_kib(self.server.pid)
            if value is not None:
                self.rss.append((now, value))
            processes = server_sandbox_processes(self.server.pid)
            extra = len(processes) - len(self.baseline.processes)
            self.peak_processes = max(self.peak_processes, extra)
            runs = server_cgroups(self.server.pid, self.server.cgroup_parents)
            run_count = sum(len(r) for r in runs.values()) - len(self.baseline.run_dirs)
            self.peak_run_dirs = max(self.peak_run_dirs, run_count)
            if self.stop.wait(max(0.0, 1.0 - (time.monotonic() - self.started - now))):
                return


# ------------------------------------------------------------------------------------------------
# Checks.

class Checks:
    def __init__(self):
        self.results = []  # (name, passed, detail)

    def add(self, name, passed, detail=""):
        self.results.append((name, bool(passed), detail))

    def failed(self):
        return [r for r in self.results if not r[1]]


def leak_problems(now, base, mode, args):
    """What differs from the baseline in a way that is a leak (empty when clean)."""
    problems = {}
    if mode == "warm":
        if len(now.inits) != 1 or len(now.zygotes) != 1:
            problems["processes"] = "warm pool is %d init(s) %s and %d zygote(s) %s; expected one each" % (
                len(now.inits), now.inits, len(now.zygotes), now.zygotes)
        elif len(now.spares) > len(base.spares):
            problems["processes"] = "%d idle spare sandbox processes, %d at baseline" % (
                len(now.spares), len(base.spares))
    elif now.inits or now.zygotes or now.spares:
        problems["processes"] = "cold mode, yet uid-%d processes under the server: %s" % (
            SANDBOX_UID, sorted(now.processes))
    if now.strays:
        described = ", ".join("%d(ppid %d, %s, %s)" % (p, ppid, state, "/".join(sorted(run_cgroup_of(p))) or "no run cgroup")
                              for p, (ppid, state) in sorted(now.strays.items())[:10])
        problems["processes"] = (problems.get("processes", "") + "; " if "processes" in problems else "") + \
            "%d leaked sandbox process(es): %s" % (len(now.strays), described)
    if now.fds is None or now.fds > base.fds + args.fd_tolerance:
        problems["fds"] = "%s open fds, %d at baseline (tolerance %d)" % (now.fds, base.fds, args.fd_tolerance)
    if now.threads is None or now.threads > base.threads + args.thread_tolerance:
        problems["threads"] = "%s threads, %d at baseline" % (now.threads, base.threads)
    extra_ns = len(now.namespaces) - len(base.namespaces)
    if extra_ns > 0:
        problems["namespaces"] = "%d namespaces held by the server and its sandboxes, %d at baseline" % (
            len(now.namespaces), len(base.namespaces))
    new_mounts = (now.mounts - base.mounts) | (now.host_mounts - base.host_mounts)
    if new_mounts:
        problems["mounts"] = "new mounts: %s" % sorted(new_mounts)[:10]
    leftover_runs = now.run_dirs - now.zygote_run_dirs
    if leftover_runs:
        problems["cgroups"] = "run cgroups left: %s" % sorted("%s/%s" % d for d in leftover_runs)[:10]
    elif len(now.cgroups) > len(base.cgroups):
        problems["cgroups"] = "%d cgroup trees, %d at baseline: %s" % (len(now.cgroups), len(base.cgroups), sorted(now.cgroups))
    new_temp = now.temp - base.temp
    if new_temp:
        problems["temp files"] = "new entries: %s" % sorted("%s/%s" % e for e in new_temp)[:10]
    return problems


def wait_until_stable(server, private_dirs, seconds):
    """A snapshot once the warm pool's spares and the reaper have settled (two equal looks)."""
    deadline = time.monotonic() + seconds
    previous = Snapshot(server, private_dirs)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = Snapshot(server, private_dirs)
        if (len(current.processes), current.run_dirs, current.fds) == (
                len(previous.processes), previous.run_dirs, previous.fds) and not current.strays:
            return current
        previous = current
    return previous


def format_statuses(counts):
    return " ".join("%d:%d" % (s, c) for s, c in sorted(counts.items()))


def print_summary(tally, kinds, wall, rss, slope, base, end, sampler, mode, seconds, clients):
    print()
    print("soak: mode %s, %d clients, %.0f s of traffic" % (mode, clients, seconds))
    header = "%-17s %8s  %-26s %9s %9s %9s" % ("script", "requests", "statuses", "p50 ms", "p95 ms", "p99 ms")
    print(header)
    print("-" * len(header))
    all_latencies = []
    all_statuses = {}
    for name in kinds:
        latencies = sorted(tally.latencies.get(name, []))
        all_latencies.extend(latencies)
        statuses = tally.statuses.get(name, {})
        for status, count in statuses.items():
            all_statuses[status] = all_statuses.get(status, 0) + count
        print("%-17s %8d  %-26s %9.1f %9.1f %9.1f" % (
            name, len(latencies), format_statuses(statuses), percentile(latencies, 0.5),
            percentile(latencies, 0.95), percentile(latencies, 0.99)))
    all_latencies.sort()
    total = len(all_latencies)
    print("-" * len(header))
    print("%-17s %8d  %-26s %9.1f %9.1f %9.1f" % (
        "all", total, format_statuses(all_statuses), percentile(all_latencies, 0.5),
        percentile(all_latencies, 0.95), percentile(all_latencies, 0.99)))
    print("throughput        %.1f req/s over %.1f s; dropped connections %d; connections opened %d"
          % (total / wall if wall else 0.0, wall, len(tally.dropped), tally.connections_opened))
    bombs = tally.types.get("memory_bomb", {})
    if bombs:
        print("memory bombs      %s" % ", ".join("%s %d" % kv for kv in sorted(bombs.items())))
    print("server RSS        start %d KiB, end %d KiB (%+d KiB), peak %d KiB, slope %+.1f KiB/min over %d samples"
          % (base.rss, end.rss or 0, (end.rss or 0) - base.rss, max([v for _, v in rss] or [0]), slope, len(rss)))
    print("server fds        baseline %d, end %s; threads baseline %d, end %s"
          % (base.fds, end.fds, base.threads, end.threads))
    print("sandboxes         baseline %d uid-%d processes (%d spare), end %d; peak %d more during the load, "
          "peak %d run cgroups" % (len(base.processes), SANDBOX_UID, len(base.spares), len(end.processes),
                                   sampler.peak_processes, sampler.peak_run_dirs))
    if base.zygote_rss is not None:
        print("zygote RSS        baseline %d KiB (pid %d), end %s KiB (pid %s)"
              % (base.zygote_rss, base.zygotes[0], end.zygote_rss, end.zygotes[0] if end.zygotes else None))


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="traffic duration (at most 3600)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--mode", choices=("warm", "cold"), default="warm")
    parser.add_argument("--binary", default=os.environ.get("STACKSYNC_BIN", "build/stacksync"))
    parser.add_argument("--allow-overload", action="store_true",
                        help="accept 503 overloaded (otherwise the queue is sized to the clients)")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra argument for `stacksync serve` (repeatable), e.g. --server-arg=--max-concurrency=4")
    parser.add_argument("--settle-seconds", type=float, default=20,
                        help="after the load, how long the server may take to get back to its baseline")
    parser.add_argument("--rss-tolerance-mib", type=float, default=16,
                        help="end RSS may exceed the start by this much")
    parser.add_argument("--max-rss-slope", type=float, default=None,
                        help="fail if the RSS slope exceeds this many KiB/min (default: only for runs of "
                             "5 minutes or more, 256 KiB/min)")
    parser.add_argument("--fd-tolerance", type=int, default=2)
    parser.add_argument("--thread-tolerance", type=int, default=2)
    parser.add_argument("--shared-tmp", action="store_true",
                        help="let the server use the host's /tmp and /dev/shm (noisy on a shared machine)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    args.seconds = min(max(args.seconds, 1), 3600)
    if args.max_rss_slope is None and args.seconds >= 300:
        args.max_rss_slope = 256.0
    if args.seed is None:
        args.seed = int(time.time()) % 100000
    binary = Path(args.binary)
    if not binary.is_absolute():
        binary = Path.cwd() / binary if (Path.cwd() / binary).exists() else REPO_ROOT / binary
    args.binary = str(binary)
    if not any(a.startswith("--queue-size") for a in args.server_arg) and not args.allow_overload:
        # Every client may wait for a slot: admission control never has to refuse one.
        args.server_arg += ["--queue-size", str(args.clients)]
    return args


def main():
    args = parse_arguments()
    if not os.access(args.binary, os.X_OK):
        print("soak: no executable %s (set STACKSYNC_BIN or --binary)" % args.binary, file=sys.stderr)
        return 2
    private_root = None
    private_dirs = None
    if not args.shared_tmp:
        private_root = tempfile.mkdtemp(prefix="stacksync-soak-")
        private_dirs = (os.path.join(private_root, "tmp"), os.path.join(private_root, "shm"))
        for path in private_dirs:
            os.mkdir(path, 0o1777)
            os.chmod(path, 0o1777)

    checks = Checks()
    servers = []
    try:
        soak(args, private_dirs, checks, servers)
    except Exception as exc:  # a crash of the soak itself must still end in the verdict line
        traceback.print_exc()
        checks.add("soak ran to completion", False, repr(exc))
    finally:
        for server in servers:
            server.kill()
        if private_root:
            shutil.rmtree(private_root, ignore_errors=True)

    print()
    for name, passed, detail in checks.results:
        print("%s  %s%s" % ("PASS" if passed else "FAIL", name, "" if passed or not detail else ": " + detail))
    failed = len(checks.failed())
    print("%d passed, %d failed" % (len(checks.results) - failed, failed))
    return 1 if failed else 0


def soak(args, private_dirs, checks, servers):
    """Start, baseline, load, settle, judge, stop. The server goes into `servers` as soon as it
    exists, so that it is killed whatever happens here."""
    print("soak: %s serve --mode %s %s; seed %d; %d clients for %.0f s"
          % (args.binary, args.mode, " ".join(args.server_arg), args.seed, args.clients, args.seconds), flush=True)
    server = Server(args.binary, args.mode, args.server_arg, private_dirs, args.allow_overload)
    servers.append(server)
    limits = server.startup.get("config", {}).get("limits", {"wallMs": 5000, "memoryMiB": 512,
                                                              "outputBytes": 1 << 20})
    kinds = build_kinds(server.port, limits)
    server.cgroup_parents = find_tree_parents(server.pid)

    # Warm-up: one of each quick kind, so that what the server allocates lazily (worker
    # threads, buffers, the reaper) is part of the baseline. Not counted in the results.
    warm_tally = Tally()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT_S)
    for name, kind in kinds.items():
        if kind.min_interval == 0:
            status, body, _, problem = send(connection, kind, 1, False)
            warm_tally.record(name, status, body, 0, problem)
    connection.close()
    if not server.cgroup_parents:
        server.cgroup_parents = find_tree_parents(server.pid)
    time.sleep(0.5)  # lets the server notice the closed connection
    baseline = wait_until_stable(server, private_dirs, 15)
    print("soak: baseline RSS %d KiB, %d fds, %d threads, %d uid-%d processes (%d spare), "
          "%d run cgroups, %d mounts, cgroup trees under %s"
          % (baseline.rss, baseline.fds, baseline.threads, len(baseline.processes), SANDBOX_UID,
             len(baseline.spares), len(baseline.run_dirs), len(baseline.mounts), server.cgroup_parents),
          flush=True)
    checks.add("warm-up answers", not warm_tally.wrong_count,
               "; ".join("%s: %s" % w for w in warm_tally.wrong[:5]))
    checks.add("cgroup trees found", bool(server.cgroup_parents),
               "no stacksync-%d-* directory under %s" % (server.pid, CGROUP_ROOT))

    picker = Picker(kinds, args.seed)
    tally = Tally()
    sampler = Sampler(server, baseline)
    sampler.thread.start()
    began = time.perf_counter()
    hung = run_load(server.port, picker, tally, args.clients, args.seconds, args.allow_overload)
    wall = time.perf_counter() - began
    sampler.stop.set()
    sampler.thread.join()

    # Idle: every answer is in; the server may still be reaping sandboxes and cgroups.
    settle_deadline = time.monotonic() + args.settle_seconds
    in_flight = in_flight_from_metrics(server.port)
    while in_flight and time.monotonic() < settle_deadline:
        time.sleep(0.2)
        in_flight = in_flight_from_metrics(server.port)
    end = Snapshot(server, private_dirs)
    problems = leak_problems(end, baseline, args.mode, args)
    while problems and time.monotonic() < settle_deadline and server.alive():
        time.sleep(0.5)
        end = Snapshot(server, private_dirs)
        problems = leak_problems(end, baseline, args.mode, args)

    total = sum(len(v) for v in tally.latencies.values())
    rss_samples = sampler.rss
    slope = least_squares_slope(rss_samples)
    print_summary(tally, kinds, wall, rss_samples, slope, baseline, end, sampler, args.mode,
                  args.seconds, args.clients)

    checks.add("server alive after the load", server.alive(), "exit status %s" % server.process.returncode)
    checks.add("no client hung", not hung, "%d client threads still waiting" % len(hung))
    checks.add("requests answered", total > 0, "no request was answered")
    missing = [name for name in kinds if not set(tally.statuses.get(name, {})) - {503}]
    checks.add("every script kind executed", not missing, "never executed: %s" % missing)
    checks.add("zero 5xx", tally.server_errors == (tally.overloaded if args.allow_overload else 0),
               "%d responses were 5xx" % tally.server_errors)
    checks.add("zero dropped connections", not tally.dropped,
               "%d dropped, e.g. %s" % (len(tally.dropped), tally.dropped[:5]))
    checks.add("every response well-formed JSON", tally.malformed == 0, "%d were not" % tally.malformed)
    checks.add("every response as expected for its script", tally.wrong_count == 0,
               "%d wrong, e.g.\n      %s" % (tally.wrong_count, "\n      ".join("%s: %s" % w for w in tally.wrong[:10])))
    if not args.allow_overload:
        checks.add("no 503 overloaded", tally.overloaded == 0, "%d refused" % tally.overloaded)
    checks.add("leak detectors saw sandboxes during the load",
               sampler.peak_processes > 0 and sampler.peak_run_dirs > 0,
               "peak extra processes %d, peak run cgroups %d" % (sampler.peak_processes, sampler.peak_run_dirs))
    checks.add("in-flight executions drained", not in_flight, "/metrics still shows %s" % in_flight)
    print("in flight         %s" % ("%g per /metrics" % in_flight if in_flight is not None
                                    else "n/a (no /metrics): judged by processes and cgroups"))
    for name in ("processes", "fds", "threads", "namespaces", "mounts", "cgroups", "temp files"):
        checks.add("no leaked %s" % name, name not in problems, problems.get(name, ""))
    growth_kib = (end.rss or 0) - baseline.rss
    checks.add("RSS back near its start", end.rss is not None and growth_kib <= args.rss_tolerance_mib * 1024,
               "grew by %d KiB (tolerance %.0f MiB)" % (growth_kib, args.rss_tolerance_mib))
    if args.max_rss_slope is not None:
        checks.add("RSS slope at most %.0f KiB/min" % args.max_rss_slope, slope <= args.max_rss_slope,
                   "%+.1f KiB/min" % slope)
    try:
        health_status, health_body = http_get(server.port, "/healthz")
    except OSError as exc:
        health_status, health_body = None, repr(exc).encode()
    checks.add("healthz 200 after the load", health_status == 200,
               "%s %s" % (health_status, health_body[:200]))

    exit_status = server.stop()
    checks.add("SIGTERM: exits 0", exit_status == 0, "exit status %s" % exit_status)
    # Gone with the server: its cgroup trees and every process in them.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (server_cgroups(server.pid, server.cgroup_parents)
                                           or server_sandbox_processes(server.pid)):
        time.sleep(0.1)
    left_trees = server_cgroups(server.pid, server.cgroup_parents)
    left_processes = server_sandbox_processes(server.pid)
    checks.add("nothing left after shutdown", not left_trees and not left_processes,
               "cgroups %s, processes %s" % (sorted(left_trees), sorted(left_processes)))
    with server.lock:
        bad_lines = list(server.bad_lines)
        severities = dict(server.severities)
    checks.add("server log: no errors, 5xx or sanitizer reports", not bad_lines,
               "%d lines, e.g.\n      %s" % (len(bad_lines), "\n      ".join(bad_lines[:5])))
    print("server log        %s" % ", ".join("%s %d" % kv for kv in sorted(severities.items())))


if __name__ == "__main__":
    sys.exit(main())
