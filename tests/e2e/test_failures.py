"""Our own failures: when the sandbox cannot be set up the server fails closed but stays observable
(/healthz and /execute 503 with the reason, /metrics 200, no script ever runs), or exits 3 when told
to; a jail that breaks while serving gives 500 (never blamed on the script), an error log line with
the request id, a 503 /healthz and the failure counted by layer in /metrics."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import ServerProcess, binary_path
from prometheus_text import Scrape
from test_concurrency import descendant_processes


def test_without_a_sandbox_the_server_stays_up_and_refuses_every_execution(start_server):
    unavailable = start_server("--python", "/nonexistent/python3")
    critical = unavailable.wait_for_log(lambda r: r.get("severity") == "CRITICAL")
    assert critical is not None and "/nonexistent/python3" in critical["message"]
    reason = critical["reason"]
    assert unavailable.startup["available"] is False

    health = unavailable.request("GET", "/healthz")
    assert health.status == 503
    body = health.json()
    assert body["status"] == "unavailable"
    assert body["reason"] == reason and "/nonexistent/python3" in reason
    assert body["isolation"]["namespaces"] is False and body["isolation"]["seccomp"] is False
    assert body["version"] and body["mode"] in ("cold", "warm")

    # Valid or not, no request runs a script: each is refused with the same reason.
    for script_body in (json.dumps({"script": "def main():\n    return 1\n"}), "{}", "not json"):
        refused = unavailable.request("POST", "/execute", script_body, {"Content-Type": "application/json"})
        assert refused.status == 503, refused
        assert refused.json()["type"] == "unavailable"
        assert refused.json()["error"] == reason
        assert refused.json()["requestId"] == refused.headers["X-Request-Id"]
    assert descendant_processes(unavailable.process.pid) == set(), "something was started"

    metrics = unavailable.request("GET", "/metrics")
    assert metrics.status == 200
    scrape = Scrape.parse(metrics.body.decode("utf-8"))
    assert scrape.value("stacksync_available") == 0
    assert scrape.value("stacksync_unavailable_info", reason=reason) == 1
    assert scrape.value("stacksync_http_requests_total", route="/execute", status="503", error_type="unavailable") == 3
    assert scrape.value("stacksync_engine_runs_total") == 0
    # Still a well-behaved service: it drains and exits 0.
    assert unavailable.stop() == 0


@pytest.mark.parametrize(
    "how", [["--exit-on-startup-failure"], ["--exit-on-startup-failure=true"], "STACKSYNC_EXIT_ON_STARTUP_FAILURE"]
)
def test_exit_on_startup_failure_keeps_the_old_exit_3(how):
    args = [str(binary_path()), "serve", "--port", "0", "--host", "127.0.0.1", "--python", "/nonexistent/python3"]
    env = dict(os.environ)
    env.pop("STACKSYNC_EXIT_ON_STARTUP_FAILURE", None)
    if isinstance(how, str):
        env[how] = "1"
    else:
        args += how
    result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env)
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
        (["--exit-on-startup-failure=maybe"], b"--exit-on-startup-failure"),
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
    for option in (
        b"--port",
        b"--max-concurrency",
        b"--queue-size",
        b"--body-limit",
        b"--mode",
        b"PORT",
        b"--exit-on-startup-failure",
        b"STACKSYNC_EXIT_ON_STARTUP_FAILURE",
    ):
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
        before = Scrape.parse(server.request("GET", "/metrics").body.decode("utf-8"))
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

        after = Scrape.parse(server.request("GET", "/metrics").body.decode("utf-8"))
        assert after.value("stacksync_available") == 0
        assert after.value("stacksync_unavailable_info", reason=health.json()["reason"]) == 1
        failures = after.series("stacksync_sandbox_failures_total")
        assert sum(failures.values()) - sum(before.series("stacksync_sandbox_failures_total").values()) == 3
        assert all(dict(series).get("layer") for series in failures), failures
        assert (
            after.value("stacksync_http_requests_total", route="/execute", status="500", error_type="sandbox_error")
            == 3
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if server is not None:
            assert server.stop() == 0
