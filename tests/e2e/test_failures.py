"""Our own failures: the server fails closed at startup when the sandbox cannot be set up, and a
jail that breaks while serving gives 500 (never blamed on the script), an error log line with the
request id, and a 503 /healthz."""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import ServerProcess, binary_path


def test_startup_fails_closed_when_the_sandbox_cannot_run_python():
    result = subprocess.run(
        [str(binary_path()), "serve", "--port", "0", "--host", "127.0.0.1", "--python", "/nonexistent/python3"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert b'"severity": "CRITICAL"' in result.stderr
    assert b"/nonexistent/python3" in result.stderr
    assert b'"port"' not in result.stderr  # it never listened


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--port", "70000"], b"--port"),
        (["--max-concurrency", "0"], b"--max-concurrency"),
        (["--mode", "lukewarm"], b"--mode"),
        (["--body-limit", "lots"], b"--body-limit"),
        (["--no-such-flag"], b"--no-such-flag"),
    ],
)
def test_bad_configuration_is_a_usage_error(args, complaint):
    result = subprocess.run(
        [str(binary_path()), "serve", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert result.returncode == 2
    assert complaint in result.stderr


def test_environment_configures_the_server(start_server):
    env = dict(os.environ, STACKSYNC_BODY_LIMIT="4KiB", STACKSYNC_QUEUE_SIZE="3", STACKSYNC_MAX_CONCURRENCY="1")
    configured = start_server(env=env)
    config = configured.startup["config"]
    assert config["bodyLimitBytes"] == 4096
    assert config["queueSize"] == 3
    assert config["maxConcurrency"] == 1


def test_help_lists_the_options():
    result = subprocess.run([str(binary_path()), "serve", "--help"], capture_output=True, timeout=30)
    assert result.returncode == 0
    for option in (b"--port", b"--max-concurrency", b"--queue-size", b"--body-limit", b"--mode", b"PORT"):
        assert option in result.stdout


def test_a_jail_broken_at_runtime_is_500_and_unhealthy():
    # An interpreter visible inside the sandbox (under /usr) that disappears after startup: the
    # sandbox cannot exec it, which is our failure, never the script's.
    directory = Path("/usr/local/lib") / f"stacksync-e2e-{uuid.uuid4().hex[:8]}"
    directory.mkdir(parents=True)
    interpreter = directory / "python3"
    interpreter.symlink_to(os.path.realpath("/usr/bin/python3"))
    server = None
    try:
        # Cold mode execs the interpreter per request (warm mode forks an already running one).
        server = ServerProcess("--mode", "cold", "--python", str(interpreter))
        assert server.execute("def main():\n    return 'before'\n").status == 200
        shutil.rmtree(directory)

        for attempt in range(3):
            request_id = f"broken-jail-{attempt}"
            response = server.execute("def main():\n    return 1\n", headers={"X-Request-Id": request_id})
            assert response.status == 500
            body = response.json()
            assert body["type"] == "sandbox_error"
            assert body["requestId"] == request_id
            record = server.wait_for_log(lambda r, i=request_id: r.get("requestId") == i)
            assert record["severity"] == "ERROR"
            assert record["status"] == 500
            assert "detail" in record

        health = server.request("GET", "/healthz")
        assert health.status == 503
        assert health.json()["status"] == "unavailable"
        assert health.json()["type"] == "unavailable"
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if server is not None:
            assert server.stop() == 0
