"""HTTP checks that tests/container/run.sh runs against a StackSync container on loopback.

Each subcommand prints `PASS <what>` / `FAIL <what>: <why>` lines (run.sh counts them) and
exits non-zero if any check failed. Standard library only: runs on Debian's /usr/bin/python3.

    probe.py healthy URL TIMEOUT        wait for GET /healthz == 200
    probe.py examples URL               the public examples, exact result and stdout
    probe.py attacks URL CONTAINER      a few escapes that must fail; the service survives them
    probe.py latency URL N              median latency of the pandas example
    probe.py drain URL CONTAINER        SIGTERM during a request: it completes, exit code 0
    probe.py logs-are-json FILE         every line of the service's log is a JSON object
    probe.py flagset URL TIMEOUT [CONTAINER]  exit 0 if the jail works, 3 if it fails closed
"""

import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

PANDAS_EXAMPLE = """def main():
    import pandas as pd
    df = pd.DataFrame({"test": [1, 2, 3]})
    print("DataFrame created successfully")
    return {"status": "success", "data": df.to_dict()}
"""

DESCRIBE_EXAMPLE = """def main():
    import pandas as pd
    import numpy as np
    data = {"A": np.random.rand(5), "B": np.random.rand(5)}
    df = pd.DataFrame(data)
    result = df.describe().to_dict()
    return {"status": "success", "statistics": result}
"""

HELLO_EXAMPLE = 'def main():\n    import pandas as pd\n    print("Hello")\n    return {"message": "success"}'

READ_SHADOW = """def main():
    with open("/etc/shadow") as f:
        return f.read()
"""

# The service listens on 0.0.0.0:8080 in the container's network namespace: without a network
# namespace of its own, a sandboxed script would reach it on loopback.
CONNECT_TO_SERVICE = """import socket
def main():
    try:
        socket.create_connection(("127.0.0.1", 8080), timeout=2).close()
        return "connected"
    except OSError as error:
        return type(error).__name__
"""

FORK_BOMB = """import os
def main():
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""

MEMORY_BOMB = """def main():
    blocks = []
    while True:
        blocks.append(b"x" * (64 * 1024 * 1024))
"""

failures = 0


def report(ok, what, why=""):
    global failures
    if ok:
        print(f"PASS {what}", flush=True)
    else:
        failures += 1
        print(f"FAIL {what}: {why}", flush=True)
    return ok


class Client:
    """One keep-alive connection to the service (reconnects when the server closes it)."""

    def __init__(self, url, timeout=30):
        parsed = urllib.parse.urlsplit(url)
        assert parsed.hostname in ("127.0.0.1", "localhost"), "loopback only"
        self.host, self.port, self.timeout = parsed.hostname, parsed.port, timeout
        self.connection = None

    def request(self, method, path, body=None):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                # Checks read fields with .get(): a non-object body is an empty one to them.
                return response.status, parsed if isinstance(parsed, dict) else {}, raw
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def execute(self, script):
        return self.request("POST", "/execute", json.dumps({"script": script}).encode())

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def container_running(container):
    state = subprocess.run(["podman", "inspect", "--format", "{{.State.Status}}", container],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    return state in ("running", "created", "configured", "initialized")


def poll_healthz(url, timeout, container=None):
    """Returns (status, body) of the first definite /healthz answer, or (None, last error).
    Gives up early when `container` is given and has stopped."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        if container and polls % 4 == 0 and not container_running(container):
            return None, "the container has exited"
        client = Client(url, timeout=5)
        try:
            status, body, raw = client.request("GET", "/healthz")
            if status in (200, 503):
                return status, body or raw
            last = f"status {status}"
        except OSError as error:
            last = f"{type(error).__name__}: {error}"
        finally:
            client.close()
        time.sleep(0.5)
    return None, last


def cmd_healthy(url, timeout):
    status, body = poll_healthz(url, float(timeout))
    report(status == 200, "GET /healthz is 200", f"status {status}: {str(body)[:400]}")
    if status == 200:
        print(f"  healthz: {json.dumps(body)[:600]}")


def cmd_examples(url):
    client = Client(url)

    status, body, raw = client.execute(PANDAS_EXAMPLE)
    expected = {"status": "success", "data": {"test": {"0": 1, "1": 2, "2": 3}}}
    report(
        status == 200 and body.get("result") == expected and body.get("stdout") == "DataFrame created successfully\n",
        "example 1 (DataFrame to_dict): exact result and stdout",
        f"{status} {raw[:400]!r}",
    )

    status, body, raw = client.execute(DESCRIBE_EXAMPLE)
    statistics_ok = False
    if status == 200 and isinstance(body.get("result"), dict):
        result = body["result"]
        stats = result.get("statistics", {})
        rows = {"count", "mean", "std", "min", "25%", "50%", "75%", "max"}
        statistics_ok = (
            result.get("status") == "success"
            and set(stats) == {"A", "B"}
            and all(set(stats[column]) == rows and stats[column]["count"] == 5 for column in stats)
            and all(0 <= stats[column]["min"] <= stats[column]["max"] < 1 for column in stats)
        )
    report(
        statistics_ok and body.get("stdout") == "",
        "example 2 (describe of random data): statistics of 5 rows for A and B, empty stdout",
        f"{status} {raw[:400]!r}",
    )

    status, body, raw = client.execute(HELLO_EXAMPLE)
    report(
        status == 200 and body.get("result") == {"message": "success"} and body.get("stdout") == "Hello\n",
        "example 3 (Hello): exact result and stdout",
        f"{status} {raw[:400]!r}",
    )
    # Keys beyond the contract must be documented ones only.
    extra = set(body or {}) - {"result", "stdout", "stderr", "stdout_truncated", "stderr_truncated"}
    report(not extra, "success body has only documented fields", f"unexpected {sorted(extra)}")


def container_processes(container):
    """Names of the processes in the container (sandbox children included), minus this probe's
    own shell: the loop uses shell builtins only, so it forks nothing that would be counted."""
    output = subprocess.run(
        ["podman", "exec", container, "/bin/sh", "-c",
         'for p in /proc/[0-9]*; do read -r name < "$p/comm" && echo "$name"; done 2>/dev/null'],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    if "sh" in output:
        output.remove("sh")
    return sorted(output)


def settle_processes(container, baseline, seconds=10):
    """Waits until no more processes than `baseline` remain, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    processes = container_processes(container)
    while len(processes) > len(baseline) and time.monotonic() < deadline:
        time.sleep(0.25)
        processes = container_processes(container)
    return processes


def cmd_attacks(url, container):
    client = Client(url, timeout=30)
    client.execute("def main():\n    return 1\n")
    baseline = container_processes(container)

    status, body, raw = client.execute(READ_SHADOW)
    report(
        status == 400
        and body.get("type") == "runtime_error"
        and body.get("exception") in ("FileNotFoundError", "PermissionError")
        and b"root:" not in raw,
        "attack: reading /etc/shadow fails (runtime_error, file absent or denied)",
        f"{status} {raw[:300]!r}",
    )

    status, body, raw = client.execute(CONNECT_TO_SERVICE)
    report(
        status == 200 and body.get("result") not in (None, "connected"),
        "attack: connecting to the service's own port from the sandbox fails",
        f"{status} {raw[:300]!r}",
    )

    started = time.monotonic()
    status, body, raw = client.execute(FORK_BOMB)
    took = time.monotonic() - started
    report(
        status == 400 and body.get("type") in ("timeout", "exited", "runtime_error") and took < 8,
        f"attack: fork bomb is contained ({body.get('type') if body else status} after {took:.1f} s)",
        f"{status} after {took:.1f} s: {raw[:300]!r}",
    )
    after = settle_processes(container, baseline)
    report(len(after) <= len(baseline), "fork bomb leaves no process behind",
           f"{after} remain 10 s later, {baseline} before")

    started = time.monotonic()
    status, body, raw = client.execute(MEMORY_BOMB)
    took = time.monotonic() - started
    report(
        status == 400 and body.get("type") == "memory_limit" and body.get("limit_mib") == 512,
        f"attack: memory bomb ends in memory_limit at 512 MiB ({took:.1f} s)",
        f"{status} {raw[:300]!r}",
    )

    status, body = poll_healthz(url, 10)
    trivial_status, trivial_body, _ = client.execute("def main():\n    return 41 + 1\n")
    report(
        status == 200 and trivial_status == 200 and trivial_body.get("result") == 42,
        "service healthy and answering after the attacks",
        f"healthz {status}, trivial {trivial_status}",
    )


def cmd_latency(url, count):
    client = Client(url)
    client.execute(PANDAS_EXAMPLE)  # first request may pay for warming up
    latencies = []
    for _ in range(int(count)):
        started = time.perf_counter()
        status, body, raw = client.execute(PANDAS_EXAMPLE)
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            report(False, "pandas example latency", f"status {status}: {raw[:200]!r}")
            return
    median = statistics.median(latencies)
    report(
        True,
        f"pandas example latency over HTTP: median {median:.1f} ms of {count} "
        f"(min {min(latencies):.1f}, max {max(latencies):.1f})",
    )


SLOW_SCRIPT = """import time
def main():
    time.sleep(2)
    return "finished"
"""


def cmd_drain(url, container):
    """SIGTERM (podman stop -> tini -> stacksync) while a 2 s script runs: the script's answer
    still arrives, and the service exits 0 well within podman's 20 s grace period."""
    answer = {}

    def slow_request():
        try:
            answer["response"] = Client(url, timeout=30).execute(SLOW_SCRIPT)
        except OSError as error:
            answer["error"] = f"{type(error).__name__}: {error}"

    worker = threading.Thread(target=slow_request)
    worker.start()
    time.sleep(0.7)  # the script is running now
    started = time.monotonic()
    subprocess.run(["podman", "stop", "--time", "20", container], capture_output=True, timeout=60)
    took = time.monotonic() - started
    worker.join(timeout=30)
    status, body, raw = answer.get("response", (None, {}, answer.get("error", "")))
    report(status == 200 and body.get("result") == "finished",
           "SIGTERM during a request: the request still completes", f"{status} {str(raw)[:200]}")
    state = subprocess.run(["podman", "inspect", "--format", "{{.State.ExitCode}}", container],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    report(state == "0" and took < 15, f"SIGTERM: the service exits 0 ({took:.1f} s)",
           f"exit code {state!r} after {took:.1f} s")


def cmd_logs_are_json(path):
    with open(path, encoding="utf-8", errors="replace") as log:
        lines = [line for line in log.read().splitlines() if line.strip()]
    bad = []
    for line in lines:
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "severity" not in record:
                bad.append(line)
        except ValueError:
            bad.append(line)
    report(bool(lines) and not bad, f"service log: {len(lines)} lines, each a JSON object with severity",
           f"{len(bad)} bad, first: {bad[:1]!r}")


def cmd_flagset(url, timeout, container=None):
    """0: works (and holds), 3: fails closed, 1: anything else. Last line: the outcome."""
    status, body = poll_healthz(url, float(timeout), container)
    if status is None:
        print(f"no /healthz answer within {timeout} s ({body})")
        return 1
    client = Client(url, timeout=30)
    exec_status, exec_body, exec_raw = client.execute(PANDAS_EXAMPLE)
    if status == 503:
        if exec_status in (500, 503) or (exec_body or {}).get("type") == "sandbox_error":
            reason = body.get("error") or body.get("reason") if isinstance(body, dict) else None
            print(f"fails closed: /healthz 503 ({str(reason or body)[:200]}), /execute {exec_status}")
            return 3
        print(f"NOT fail-closed: /healthz 503 but /execute {exec_status} {exec_raw[:200]!r}")
        return 1
    shadow_status, shadow_body, _ = client.execute(READ_SHADOW)
    net_status, net_body, _ = client.execute(CONNECT_TO_SERVICE)
    holds = (
        exec_status == 200
        and exec_body.get("stdout") == "DataFrame created successfully\n"
        and shadow_status == 400
        and net_status == 200
        and net_body.get("result") != "connected"
    )
    if holds:
        print("works: /healthz 200, example ok, shadow and network attacks fail")
        return 0
    print(f"BROKEN: /healthz 200 but example {exec_status}, shadow {shadow_status}, net {net_body}")
    return 1


def main(argv):
    commands = {
        "healthy": cmd_healthy,
        "examples": cmd_examples,
        "attacks": cmd_attacks,
        "latency": cmd_latency,
        "logs-are-json": cmd_logs_are_json,
        "drain": cmd_drain,
        "flagset": cmd_flagset,
    }
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        code = commands[argv[1]](*argv[2:])
    except Exception as error:  # a crash of a check is a failed check, with its cause
        report(False, f"{argv[1]} crashed", f"{type(error).__name__}: {error}")
        return 1
    if code is not None:
        return code
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
