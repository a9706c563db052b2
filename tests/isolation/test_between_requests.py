"""Requests must not influence each other (issue 4): whatever a script changes in its process —
modules, globals, files in /tmp, the environment, RNG state — is gone for the next request, and
concurrent requests cannot see each other's processes, files or abstract unix sockets.

Runs the real server (STACKSYNC_BIN, default build/stacksync) in STACKSYNC_MODE (default warm)
over HTTP on loopback."""
import concurrent.futures
import http.client
import json
import os
import pathlib
import re
import subprocess
import textwrap
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("STACKSYNC_BIN", str(ROOT / "build" / "stacksync"))
MODE = os.environ.get("STACKSYNC_MODE", "warm")


@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen(
        [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--mode", MODE, "--max-concurrency", "2"],
        stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.monotonic() + 60
    while port is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        match = re.search(r'"port":\s*(\d+)', line)
        if match:
            port = int(match.group(1))
    assert port, "the server did not start"
    yield port
    process.terminate()
    process.wait(timeout=20)


def execute(port, script):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/execute", json.dumps({"script": textwrap.dedent(script)}),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 200, body
    return body["result"]


def test_monkeypatched_modules_and_globals_do_not_carry_over(server):
    execute(server, """
        import builtins, json, sys, types
        import pandas
        def main():
            json.dumps = lambda *a, **k: "forged"
            pandas.DataFrame = None
            builtins.LEAKED = 1
            sys.modules["planted"] = types.ModuleType("planted")
            return "patched"
    """)
    after = execute(server, """
        import builtins, json, sys
        import pandas
        def main():
            return {"dumps": json.dumps([1]), "frame": pandas.DataFrame is not None,
                    "leaked": hasattr(builtins, "LEAKED"), "planted": "planted" in sys.modules}
    """)
    assert after == {"dumps": "[1]", "frame": True, "leaked": False, "planted": False}


def test_tmp_files_and_environment_do_not_carry_over(server):
    execute(server, """
        import os
        def main():
            with open("/tmp/marker", "w") as f:
                f.write("from the first request")
            os.environ["LEAKED"] = "1"
            os.putenv("LEAKED_TOO", "1")
            return sorted(os.listdir("/tmp"))
    """)
    after = execute(server, """
        import os
        def main():
            return {"tmp": sorted(os.listdir("/tmp")), "env": sorted(os.environ)}
    """)
    assert after["tmp"] == []
    assert "LEAKED" not in after["env"] and "LEAKED_TOO" not in after["env"]


def test_random_state_differs_between_requests(server):
    script = """
        import os, random, secrets
        import numpy
        def main():
            return [random.random(), float(numpy.random.rand()), secrets.token_hex(8),
                    os.urandom(8).hex(), float(numpy.random.default_rng().random())]
    """
    draws = [execute(server, script) for _ in range(6)]
    for column in range(5):
        values = [draw[column] for draw in draws]
        assert len(set(values)) == len(values), (column, values)


def test_concurrent_requests_cannot_see_each_other(server):
    holder = """
        import os, socket, time
        def main():
            with open("/tmp/holder-file", "w") as f:
                f.write("secret")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind("\\0stacksync-isolation-test")
            listener.listen(1)
            listener.settimeout(2.5)
            try:
                listener.accept()
                return "someone connected"
            except socket.timeout:
                return "nobody connected"
    """
    prober = """
        import os, socket, time
        def main():
            time.sleep(0.5)
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect("\\0stacksync-isolation-test")
                connected = True
            except OSError:
                connected = False
            pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            cmdlines = [open("/proc/%d/cmdline" % p, "rb").read() for p in pids]
            return {"connected": connected, "tmp": os.listdir("/tmp"), "pids": pids,
                    "own_pid": os.getpid(), "foreign": [c.decode(errors="replace") for c in cmdlines
                                                        if b"holder" in c]}
    """
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        held = pool.submit(execute, server, holder)
        probed = pool.submit(execute, server, prober)
        held, probed = held.result(), probed.result()
    assert held == "nobody connected"
    assert probed["connected"] is False
    assert probed["tmp"] == []
    assert probed["pids"] == [probed["own_pid"]], probed
    assert probed["foreign"] == []
