"""Fault injection (issue 6): the jail's setup steps fail on demand in a test build
(-DSTACKSYNC_FAULT_INJECTION=ON, binary from STACKSYNC_FAULT_BIN, default build-fault/stacksync),
and each failure ends in a clear error for that request — or a transparent retry — and a
healthy service after.

STACKSYNC_FAULTS="point:N" fails the Nth time a point is reached. Startup counts: the self-test
run is the first request; warm mode also creates the zygote's cgroup and sandbox first."""
import http.client
import json
import os
import pathlib
import re
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("STACKSYNC_FAULT_BIN", str(ROOT / "build-fault" / "stacksync"))
TRIVIAL = "def main():\n    return 42\n"


class Server:
    def __init__(self, mode, faults):
        env = dict(os.environ, STACKSYNC_FAULTS=faults)
        self.process = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--mode", mode],
            stderr=subprocess.PIPE, text=True, env=env)
        self.port = None
        deadline = time.monotonic() + 60
        while self.port is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            match = re.search(r'"port":\s*(\d+)', line)
            if match:
                self.port = int(match.group(1))
        assert self.port, "the fault-injection server did not start"

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body, {"Content-Type": "application/json"} if body else {})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, json.loads(data) if data.startswith(b"{") else data

    def execute(self, script=TRIVIAL):
        return self.request("POST", "/execute", json.dumps({"script": script}))

    def stop(self):
        self.process.terminate()
        assert self.process.wait(timeout=30) == 0


@pytest.fixture
def start():
    servers = []

    def starter(mode, faults):
        server = Server(mode, faults)
        servers.append(server)
        return server

    yield starter
    for server in servers:
        server.stop()


def assert_healthy_after(server, requests=3):
    for _ in range(requests):
        status, body = server.execute()
        assert (status, body["result"]) == (200, 42), body
    status, body = server.request("GET", "/healthz")
    assert status == 200, body


@pytest.mark.parametrize("mode, faults", [("cold", "cgroup_create:3"), ("warm", "cgroup_create:4")])
def test_cgroup_write_failure_fails_that_request_only(start, mode, faults):
    server = start(mode, faults)
    assert server.execute() == (200, {"result": 42, "stdout": "", "stderr": ""})
    status, body = server.execute()
    assert status == 500, body
    assert body["type"] == "sandbox_error" and body["layer"] == "cgroup", body
    assert "injected fault" in body["error"] and "not run" in body["error"], body
    assert body.get("requestId"), body
    assert_healthy_after(server)


def test_namespace_creation_failure_fails_that_request_only(start):
    server = start("cold", "sandbox_spawn:3")
    assert server.execute()[0] == 200
    status, body = server.execute()
    assert status == 500 and body["layer"] == "namespaces", body
    assert "clone3" in body["error"], body
    assert_healthy_after(server)


def test_zygote_dying_mid_request_is_retried_transparently(start):
    server = start("warm", "zygote_kill:3")
    results = [server.execute() for _ in range(4)]
    assert all(status == 200 and body["result"] == 42 for status, body in results), results
    assert_healthy_after(server)


def test_spare_sandbox_failing_its_setup_is_replaced(start):
    server = start("warm", "spare_setup:4")
    results = [server.execute() for _ in range(5)]
    assert all(status == 200 and body["result"] == 42 for status, body in results), results


def test_payload_failing_to_drop_privileges_never_runs_the_script(start):
    server = start("warm", "payload_setup:3")
    assert server.execute()[0] == 200
    status, body = server.execute('def main():\n    print("ran")\n    return 42\n')
    assert status == 500 and body["layer"] == "warm_sandbox", body
    assert "seccomp" in body["error"] and body["stdout"] == "", body
    assert_healthy_after(server)


def test_zygote_that_cannot_be_restarted_recovers_later(start):
    # The zygote dies during the first request, and the first attempt to start a new one fails.
    server = start("warm", "zygote_kill:2,sandbox_spawn:2")
    status, body = server.execute()
    assert status in (200, 500), body
    if status == 500:
        assert body["layer"] == "zygote", body
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, body = server.execute()
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, body
    assert_healthy_after(server)
