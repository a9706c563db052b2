"""End-to-end fixtures: the real `stacksync serve` binary on an ephemeral loopback port.

The binary is $STACKSYNC_BIN (default build/stacksync under the repository root); $STACKSYNC_MODE,
when set, is passed as --mode. The server's stderr (one JSON object per line) is read on a
background thread, so that the port can be found in the startup line, the pipe never fills up,
and tests can assert on the request log.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60  # warm mode starts interpreters before it listens
STOP_TIMEOUT_S = 20


def binary_path():
    path = Path(os.environ.get("STACKSYNC_BIN", "build/stacksync"))
    return path if path.is_absolute() else REPO_ROOT / path


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:500]!r})"


def read_response(connection, method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    raw = connection.getresponse()
    return Response(raw.status, raw.headers, raw.read())


class ServerProcess:
    def __init__(self, *extra_args, env=None):
        args = [str(binary_path()), "serve", "--port", "0", "--host", "127.0.0.1"]
        if os.environ.get("STACKSYNC_MODE"):
            args += ["--mode", os.environ["STACKSYNC_MODE"]]
        args += list(extra_args)
        self.args = args
        self.lines = []
        self._lines_changed = threading.Condition()
        self.port = None
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        startup = self.wait_for_log(lambda r: "port" in r, timeout=STARTUP_TIMEOUT_S)
        if startup is None:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"server did not start: {args}\n" + "".join(self.lines))
        self.port = startup["port"]
        self.startup = startup

    def _read_stderr(self):
        for raw in self.process.stderr:
            with self._lines_changed:
                self.lines.append(raw.decode("utf-8", "replace"))
                self._lines_changed.notify_all()

    def records(self):
        """The JSON log lines so far (lines that are not JSON are skipped)."""
        with self._lines_changed:
            lines = list(self.lines)
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
        return records

    def wait_for_log(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lines_changed:
            while True:
                for line in self.lines:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if predicate(record):
                        return record
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    return None
                self._lines_changed.wait(min(remaining, 0.1))

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw_socket(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        connection = self.connection(timeout)
        try:
            return read_response(connection, method, path, body, headers)
        finally:
            connection.close()

    def execute(self, script, headers=None, timeout=30):
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        return self.request("POST", "/execute", json.dumps({"script": script}), all_headers, timeout)

    def signal(self, number=signal.SIGTERM):
        self.process.send_signal(number)

    def wait(self, timeout=STOP_TIMEOUT_S):
        return self.process.wait(timeout=timeout)

    def sanitizer_reports(self):
        """Lines a sanitizer build (ASan, UBSan, TSan) printed: each one is a bug of ours."""
        markers = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "runtime error:", "ERROR: LeakSanitizer")
        with self._lines_changed:
            return [line for line in self.lines if any(marker in line for marker in markers)]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        return self.process.returncode


@pytest.fixture(scope="session")
def server():
    """One server with the default configuration, shared by the tests that do not stop it."""
    if not binary_path().exists():
        pytest.fail(f"{binary_path()} does not exist: build first (or set STACKSYNC_BIN)")
    instance = ServerProcess()
    yield instance
    instance.stop()
    assert instance.sanitizer_reports() == []


@pytest.fixture
def start_server():
    """Starts servers with extra flags for one test; stops them afterwards."""
    started = []

    def start(*extra_args, env=None):
        instance = ServerProcess(*extra_args, env=env)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()
    for instance in started:
        assert instance.sanitizer_reports() == []
