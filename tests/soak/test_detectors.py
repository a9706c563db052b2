# The soak's leak detectors must see leaks: a check that cannot fail proves nothing. Each one is
# shown a real leak of its kind (a uid-65534 process in the server's cgroup, a run-* cgroup left
# behind, extra fds and threads, a new mount, a namespace kept alive, a temp file), made on a
# stand-in for the server: a helper process in a mount namespace of its own. Then the leaks are
# undone and the detectors must be quiet again. Needs root, like the soak itself.
import os
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import soak  # noqa: E402

# Opens 5 fds and starts 3 threads on its first input line, undoes both on the second.
HELPER = textwrap.dedent("""
    import os, sys, threading
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    sys.stdin.readline()
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(5)]
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(3)]
    for t in threads: t.start()
    sys.stdout.write("leaking\\n"); sys.stdout.flush()
    sys.stdin.readline()
    for fd in fds: os.close(fd)
    stop.set()
    for t in threads: t.join()
    sys.stdout.write("clean\\n"); sys.stdout.flush()
    sys.stdin.readline()
""")
TOLERANCES = types.SimpleNamespace(fd_tolerance=2, thread_tolerance=2)


def own_cgroup_dirs():
    """Where this process may create a cgroup: its own cgroup on the pids hierarchy (v1) or on the
    unified one (v2)."""
    candidates = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers == "pids":
                candidates.append("/sys/fs/cgroup/pids" + path)
            elif controllers == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
                candidates.append("/sys/fs/cgroup" + path)
    return [c.rstrip("/") or "/" for c in candidates if os.path.isdir(c)]


def wait_for(predicate, seconds=5):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def remove_cgroup(path):
    """rmdir, retried while a just-killed member is still leaving (EBUSY)."""
    deadline = time.monotonic() + 5
    while os.path.isdir(path):
        try:
            os.rmdir(path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def stand_in(tmp_path):
    """A helper process standing in for the server, with a private mount namespace."""
    if os.geteuid() != 0:
        pytest.skip("the soak's detectors read other processes and make cgroups: root only")
    helper = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "/usr/bin/python3", "-c", HELPER],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert helper.stdout.readline() == "ready\n"
    yield helper
    helper.kill()
    helper.wait()


def test_each_detector_names_its_leak_and_is_quiet_once_it_is_undone(stand_in, tmp_path):
    private_dirs = (str(tmp_path / "tmp"), str(tmp_path / "shm"))
    for path in private_dirs:
        os.mkdir(path)
    server = types.SimpleNamespace(pid=stand_in.pid, cgroup_parents=[])
    tree = None
    for parent in own_cgroup_dirs():
        try:
            os.mkdir(os.path.join(parent, "stacksync-%d-0" % stand_in.pid))
        except OSError:
            continue
        tree = os.path.join(parent, "stacksync-%d-0" % stand_in.pid)
        break
    if tree is None:
        pytest.skip("no cgroup hierarchy this process can create a directory in")
    run_dir = os.path.join(tree, "run-7")
    stray = None
    try:
        server.cgroup_parents = soak.find_tree_parents(stand_in.pid)
        assert server.cgroup_parents == [os.path.dirname(tree)]
        baseline = soak.Snapshot(server, private_dirs)
        assert soak.leak_problems(baseline, baseline, "cold", TOLERANCES) == {}

        # The leaks.
        stand_in.stdin.write("leak\n")
        stand_in.stdin.flush()
        assert stand_in.stdout.readline() == "leaking\n"
        os.mkdir(run_dir)
        # A sandbox process that escaped the server's process tree but not its cgroup, holding
        # namespaces of its own.
        stray = subprocess.Popen(["unshare", "--uts", "--ipc", "setpriv", "--reuid", str(soak.SANDBOX_UID),
                                  "--regid", str(soak.SANDBOX_UID), "--clear-groups", "sleep", "60"])
        assert wait_for(lambda: soak.read_status(stray.pid) and
                        soak.read_status(stray.pid)["Uid"].split()[0] == str(soak.SANDBOX_UID))
        with open(os.path.join(run_dir, "cgroup.procs"), "w") as procs:
            procs.write(str(stray.pid))
        subprocess.run(["nsenter", "-t", str(stand_in.pid), "-m", "mount", "-t", "tmpfs", "soak-detector-test", "/mnt"],
                       check=True)
        Path(private_dirs[0], "left-behind").write_text("x")
        Path(private_dirs[1], "left-behind").write_text("x")

        leaking = soak.Snapshot(server, private_dirs)
        problems = soak.leak_problems(leaking, baseline, "cold", TOLERANCES)
        assert sorted(problems) == sorted(["processes", "fds", "threads", "namespaces", "mounts", "cgroups",
                                           "temp files"]), problems
        assert str(stray.pid) in problems["processes"]
        assert "run-7" in problems["cgroups"]
        assert "soak-detector-test" in problems["mounts"]
        assert "/tmp/left-behind" in problems["temp files"] and "/dev/shm/left-behind" in problems["temp files"]
        # In warm mode the same stray is no spare of the (absent) zygote.
        assert "processes" in soak.leak_problems(leaking, baseline, "warm", TOLERANCES)

        # Undone: quiet again.
        stray.kill()
        stray.wait()
        remove_cgroup(run_dir)
        subprocess.run(["nsenter", "-t", str(stand_in.pid), "-m", "umount", "/mnt"], check=True)
        for path in private_dirs:
            os.unlink(os.path.join(path, "left-behind"))
        stand_in.stdin.write("undo\n")
        stand_in.stdin.flush()
        assert stand_in.stdout.readline() == "clean\n"
        assert soak.leak_problems(soak.Snapshot(server, private_dirs), baseline, "cold", TOLERANCES) == {}
    finally:
        if stray is not None and stray.poll() is None:
            stray.kill()
            stray.wait()
        remove_cgroup(run_dir)
        remove_cgroup(tree)


def test_rss_slope_is_a_least_squares_fit_per_minute():
    # 10 KiB per second with noise around the line: 600 KiB/min.
    samples = [(t, 5000 + 10 * t + (7 if t % 2 else -7)) for t in range(60)]
    assert abs(soak.least_squares_slope(samples) - 600) < 5
    assert soak.least_squares_slope([(t, 4096) for t in range(10)]) == 0
