# Issue 2, "Nothing leaks": 200 runs of mixed outcomes (successes, exceptions, timeouts, memory
# and fork bombs, os._exit, crashes, daemon threads, forked children that outlive main), four at
# a time; then the host must hold no process, cgroup, mount or temp file of any of them.
#
# The machine is shared with other sessions (servers, podman, compilers), so leftovers are
# attributed: a sandboxed process runs as uid 65534 inside a cgroup named
# stacksync-<pid of its CLI>-<tree>/run-N (stacksync-<pid>/run-N before the tree suffix), which
# names the `stacksync run` it belongs to. Temp files
# cannot be attributed that way: every other run sees, through a private mount namespace,
# empty directories of its own as /tmp and /dev/shm, which must still be empty afterwards.
# The rest run in the host's mount namespace, where a mount they leaked would show.
import os
import re
import signal
import subprocess
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cli_support import EXAMPLES, run_command, run_file

SANDBOX_UID = 65534
CGROUP_ROOT = "/sys/fs/cgroup"
CANARY_PREFIX = "stacksync-leak-canary-"
TREE_NAME = re.compile(r"stacksync-(\d+)(?:-\d+)?")  # one stacksync process's cgroup parent
# Mounts other tenants of this machine make while we run (podman's overlays and netns).
FOREIGN_MOUNT_PREFIXES = ("/var/lib/containers", "/run/containers", "/run/netns", "/run/user",
                          "/var/lib/docker", "/run/docker")


def expect_ok(run):
    return run.ok


def expect_type(error_type, **fields):
    def check(run):
        return run.type == error_type and all(run.outcome.get(k) == v for k, v in fields.items())
    check.__name__ = "type %s %s" % (error_type, fields or "")
    return check


def expect_any_type(*error_types):
    # Four at a time beside a fork bomb on a loaded 2-core host, a memory bomb was seen (2 in
    # 10, once) still reclaiming at the limit when the wall clock ended it. Either end is a
    # limit doing its job; which one is test_limits.py's business, leaks are this test's.
    def check(run):
        return run.type in error_types
    check.__name__ = "type in %s" % (error_types,)
    return check


def expect_forks(run):
    # Stopped by the pids limit (64, threads included), not by the fork count.
    return run.ok and 0 < run.outcome["result"] < 64


# kind -> (how many, script, what its outcome must be)
MIX = {
    "timeout_sleep": (2, "import time\ndef main():\n    time.sleep(100)\n", expect_type("timeout")),
    "timeout_busy": (1, "def main():\n    while True:\n        pass\n", expect_type("timeout")),
    "fork_bomb_endless": (1, """
        import os, time
        def main():
            while True:
                try:
                    os.fork()
                except OSError:
                    time.sleep(0.01)
    """, expect_type("timeout")),
    "ok_trivial": (63, "def main():\n    print('hello')\n    return {'answer': 42}\n", expect_ok),
    "ok_pandas": (8, (EXAMPLES / "dataframe.py").read_text(), expect_ok),
    "exception": (25, "def main():\n    raise ValueError('boom')\n", expect_type("runtime_error", exception="ValueError")),
    "syntax_error": (5, "def main(:\n    pass\n", expect_type("syntax_error")),
    "not_serializable": (5, "def main():\n    return {1, 2}\n", expect_type("not_serializable")),
    "memory_bomb": (10, """
        def main():
            hoard = []
            while True:
                hoard.append(b"m" * (32 << 20))
    """, expect_any_type("memory_limit", "timeout")),
    "fork_bomb_bounded": (8, """
        import os, time
        def main():
            children = 0
            try:
                while children < 1000:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    children += 1
            except OSError:
                pass
            return children
    """, expect_forks),
    "os_exit": (12, "import os\ndef main():\n    os._exit(5)\n", expect_type("exited", exit_code=5)),
    "sys_exit": (5, "import sys\ndef main():\n    sys.exit(2)\n", expect_type("exited", exit_code=2)),
    "segfault": (8, "import ctypes\ndef main():\n    ctypes.string_at(0)\n", expect_type("exited", signal="SIGSEGV")),
    "sigkill_self": (4, "import os, signal\ndef main():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
                     expect_type("exited", signal="SIGKILL")),
    "daemon_thread": (12, """
        import threading, time
        def main():
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            return "left a daemon thread"
    """, expect_ok),
    "plain_thread": (4, """
        import threading, time
        def main():
            threading.Thread(target=time.sleep, args=(60,)).start()
            return "left a thread"
    """, expect_ok),
    "forked_child": (12, """
        import os, time
        def main():
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            return "left a child"
    """, expect_ok),
    "double_fork_daemon": (5, """
        import os, time
        def main():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(60)
                os._exit(0)
            os.wait()
            return "left a grandchild in its own session"
    """, expect_ok),
    "tmp_writer": (10, """
        import os
        def main():
            with open("/tmp/%(prefix)s" + str(os.getpid()), "wb") as f:
                f.write(os.urandom(1 << 20))
            try:
                open("/dev/shm/%(prefix)sshm", "wb").close()
            except OSError:
                pass
            return sorted(os.listdir("/tmp"))
    """ % {"prefix": CANARY_PREFIX}, expect_ok),
}
TOTAL_RUNS = 200
LONG_KINDS = ("timeout_sleep", "timeout_busy", "fork_bomb_endless")


def sandbox_owner(pid):
    """The CLI pid from the stacksync-<pid> cgroup a process lives in, or None."""
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            match = re.search(r"/stacksync-(\d+)(-\d+)?(/|$)", f.read(), flags=re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def parent_and_uid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["PPid"]), int(fields["Uid"].split()[0])
    except (OSError, KeyError, ValueError):
        return None, None


def attributed_owner(pid):
    """Like sandbox_owner, for processes that show no stacksync cgroup: a zombie has already left
    its cgroup, and a sandbox set up a moment ago has not joined it yet. Such a process belongs
    to the stacksync its nearest attributable ancestor belongs to, or to the stacksync that is
    the parent of its sandbox. Returns ("stacksync", pid), ("orphan", None) or ("unknown", None)."""
    for _ in range(64):
        owner = sandbox_owner(pid)
        if owner is not None:
            return "stacksync", owner
        parent, uid = parent_and_uid(pid)
        if parent is None:
            return "unknown", None
        if parent == 1:
            return "orphan", None
        if parent_and_uid(parent)[1] != SANDBOX_UID:
            return "stacksync", parent  # the sandbox's init: its parent runs it
        pid = parent
    return "unknown", None


def nobody_pids_from_proc():
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat("/proc/" + name).st_uid == SANDBOX_UID:
                    pids.append(int(name))
            except OSError:
                pass
    return pids


def nobody_pids_from_pgrep():
    completed = subprocess.run(["pgrep", "-u", str(SANDBOX_UID)], capture_output=True, text=True)
    return [int(p) for p in completed.stdout.split()]


def stacksync_cgroup_dirs():
    """Every stacksync-<pid>[-<tree>] cgroup directory on the host -> its run-* children."""
    found = {}
    for top, dirs, _ in os.walk(CGROUP_ROOT):
        for name in list(dirs):
            if TREE_NAME.fullmatch(name):
                path = os.path.join(top, name)
                try:
                    found[path] = sorted(d for d in os.listdir(path) if d.startswith("run-"))
                except OSError:
                    pass  # removed while we looked
                dirs.remove(name)
    return found


def cgroup_pid(path):
    return int(TREE_NAME.fullmatch(os.path.basename(path)).group(1))


def mounts():
    with open("/proc/self/mountinfo") as f:
        fields = [line.split() for line in f]
    entries = set()
    for parts in fields:
        separator = parts.index("-")
        mount_point, fstype, source = parts[4], parts[separator + 1], parts[separator + 2]
        if not mount_point.startswith(FOREIGN_MOUNT_PREFIXES):
            entries.add((mount_point, fstype, source))
    return entries


def private_temp_dirs(tmp, shm):
    """A wrap for run_file: the CLI sees `tmp` as /tmp and `shm` as /dev/shm, in a mount
    namespace of its own that dies with it (/dev/shm first: both paths are under /tmp).
    unshare and sh exec, so the pid stays the CLI's. The binary is opened before the mounts and
    run through that fd: a checkout under /tmp would otherwise vanish behind the private /tmp."""
    def wrap(command):
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'exec 9<"$3" && mount --bind "$2" /dev/shm && mount --bind "$1" /tmp && shift 3 && '
                'exec /proc/self/fd/9 "$@"',
                "sh", str(tmp), str(shm), command[0]] + command[1:]
    return wrap


class Watch:
    """Samples the host while the runs go on, to prove the leak detectors do see sandboxes."""

    def __init__(self):
        self.cli_pids = set()
        self.lock = threading.Lock()
        self.sandbox_processes_seen = 0
        self.run_cgroups_seen = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def add(self, pid):
        with self.lock:
            self.cli_pids.add(pid)

    def ours(self, pid):
        with self.lock:
            return pid in self.cli_pids

    def sample(self):
        while not self.stop.wait(0.1):
            for pid in nobody_pids_from_proc():
                owner = sandbox_owner(pid)
                if owner is not None and self.ours(owner):
                    self.sandbox_processes_seen += 1
            for path, runs in stacksync_cgroup_dirs().items():
                if runs and self.ours(cgroup_pid(path)):
                    self.run_cgroups_seen += 1


def leftovers_of(cli_pid):
    """What remains on the host of one finished `stacksync run` (its pid was cli_pid)."""
    problems = []
    for pid in nobody_pids_from_proc():
        if sandbox_owner(pid) == cli_pid:
            problems.append("process %d of stacksync run %d is still alive" % (pid, cli_pid))
    for path, runs in stacksync_cgroup_dirs().items():
        if cgroup_pid(path) == cli_pid:
            problems.append("cgroup %s (runs: %s) was not removed" % (path, runs))
    return problems


def test_200_mixed_runs_leave_nothing_behind(tmp_path):
    sources, checks, kinds = [], [], []
    for kind, (count, source, check) in MIX.items():
        for _ in range(count):
            sources.append(source)
            checks.append(check)
            kinds.append(kind)
    assert len(sources) == TOTAL_RUNS
    # The long ones first, so that they overlap the rest instead of ending the test.
    order = sorted(range(TOTAL_RUNS), key=lambda i: kinds[i] not in LONG_KINDS)

    paths = []
    for i, source in enumerate(sources):
        path = tmp_path / ("%03d_%s.py" % (i, kinds[i]))
        path.write_text(textwrap.dedent(source))
        paths.append(path)
    private_tmp, private_shm = tmp_path / "private_tmp", tmp_path / "private_shm"
    private_tmp.mkdir()
    private_shm.mkdir()
    in_private_namespace = private_temp_dirs(private_tmp, private_shm)

    mounts_before = mounts()
    nobody_before = set(nobody_pids_from_pgrep())
    fds_before = len(os.listdir("/proc/self/fd"))

    watch = Watch()
    watch.thread.start()
    per_run_problems = []

    def one(i):
        if i % 2:
            # The script goes through stdin: its path, under /tmp, is hidden by the private /tmp.
            run = run_file("-", stdin=paths[i].read_bytes(), on_start=watch.add, wrap=in_private_namespace)
        else:
            run = run_file(paths[i], on_start=watch.add)
        # Right after this CLI exited: nothing of it may remain, whatever its neighbours do.
        per_run_problems.extend(leftovers_of(run.pid))
        return i, run

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = dict(pool.map(one, order))
    finally:
        watch.stop.set()
        watch.thread.join()
    elapsed = time.perf_counter() - started

    wrong = ["%s: %s" % (kinds[i], results[i].describe()) for i in range(TOTAL_RUNS) if not checks[i](results[i])]
    assert not wrong, "%d runs ended unexpectedly:\n%s" % (len(wrong), "\n".join(wrong[:10]))
    # The detectors below are blind if they never saw a live sandbox.
    assert watch.sandbox_processes_seen > 0, "the sampler never saw a sandboxed process"
    assert watch.run_cgroups_seen > 0, "the sampler never saw a run-* cgroup"
    assert not per_run_problems, "\n".join(per_run_problems[:20])

    # Processes: no uid-65534 process of our runs, and none new that nothing accounts for.
    # Sandboxes of other live stacksync processes, and whatever was there before, are not ours.
    def unaccounted():
        found = []
        for pid in nobody_pids_from_pgrep():
            kind, owner = attributed_owner(pid)
            if kind == "stacksync" and not watch.ours(owner):
                continue  # a sandbox of another stacksync on this machine
            if pid in nobody_before and kind != "stacksync":
                continue  # there before our runs began
            if kind == "unknown" and not os.path.exists("/proc/%d" % pid):
                continue  # gone while we looked
            found.append((pid, kind, owner))
        return found

    leaked = unaccounted()
    if leaked:
        # Another stacksync's sandbox is briefly uid 65534 before it joins its cgroup: look again.
        time.sleep(1.0)
        leaked = [entry for entry in unaccounted() if entry in leaked]
    assert not leaked, "uid %d processes left behind (pid, kind, owner): %s" % (SANDBOX_UID, leaked)

    # Cgroups: each stacksync process removes its stacksync-<pid> parent, runs and all, on exit.
    ours_left = {p: runs for p, runs in stacksync_cgroup_dirs().items() if watch.ours(cgroup_pid(p))}
    assert not ours_left, "cgroups of finished runs left behind: %s" % ours_left

    # Mounts: the sandboxes' mounts live and die in their own namespaces.
    new_mounts = mounts() - mounts_before
    assert not new_mounts, "mounts appeared on the host: %s" % sorted(new_mounts)

    # Temp files: the sandboxes' /tmp is a private tmpfs; nothing lands in the host's.
    left = sorted(os.listdir(private_tmp)) + sorted(os.listdir(private_shm))
    assert not left, "files left in /tmp or /dev/shm by stacksync: %s" % left
    canaries = [name for name in os.listdir("/tmp") + os.listdir("/dev/shm") if name.startswith(CANARY_PREFIX)]
    assert not canaries, "files written to the sandbox /tmp reached the host: %s" % canaries

    assert len(os.listdir("/proc/self/fd")) == fds_before
    # Each tmp_writer saw only its own file: runs do not share /tmp.
    for i in range(TOTAL_RUNS):
        if kinds[i] == "tmp_writer":
            listing = results[i].outcome["result"]
            assert len(listing) == 1 and listing[0].startswith(CANARY_PREFIX), listing
    print("200 runs in %.1f s; sampler saw %d sandbox processes, %d run cgroups"
          % (elapsed, watch.sandbox_processes_seen, watch.run_cgroups_seen))


def sandbox_processes_of(cli_pid):
    return [pid for pid in nobody_pids_from_proc() if sandbox_owner(pid) == cli_pid]


def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_sandbox_dies_when_stacksync_itself_is_killed(tmp_path):
    script = tmp_path / "endless.py"
    script.write_text("import time\ndef main():\n    time.sleep(1000)\n")
    cli = subprocess.Popen(run_command(script), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: sandbox_processes_of(cli.pid), 10), "the sandbox never started"
        time.sleep(1.0)  # let the script itself start, not just the sandbox
        cli.kill()  # SIGKILL: no destructor, no clean-up; only the kernel can help now
        cli.wait()
        survivors = [] if wait_until(lambda: not sandbox_processes_of(cli.pid), 2) else sandbox_processes_of(cli.pid)
    finally:
        # Whatever the verdict, the processes this test started do not outlive it.
        cli.kill()
        cli.wait()
        for pid in sandbox_processes_of(cli.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_until(lambda: not sandbox_processes_of(cli.pid), 5)
    assert not survivors, "sandbox processes outlived their killed stacksync: %s" % survivors
    # Nobody removed its cgroups; the next stacksync starting beside them does.
    trivial = tmp_path / "trivial.py"
    trivial.write_text("def main():\n    return 1\n")
    assert run_file(trivial).ok
    left = [p for p in stacksync_cgroup_dirs() if cgroup_pid(p) == cli.pid]
    assert not left, "stale cgroups of the killed stacksync were not removed: %s" % left
