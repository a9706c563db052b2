# Helpers for the CLI suite: every test runs the real `stacksync run FILE` binary in a
# subprocess (real sandbox, real /usr/bin/python3) and inspects the JSON it prints.
#
# Environment:
#   STACKSYNC_BIN   the binary (default: build/stacksync under the repository root)
#   STACKSYNC_MODE  if set, passed as `run --mode $STACKSYNC_MODE`
import json
import os
import subprocess
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"

EXIT_OK, EXIT_SCRIPT_ERROR, EXIT_USAGE, EXIT_SANDBOX_ERROR = 0, 1, 2, 3
ERROR_TYPES = {
    "missing_main", "main_not_callable", "syntax_error", "runtime_error", "not_serializable",
    "result_too_large", "invalid_result", "timeout", "memory_limit", "output_limit", "exited",
    "sandbox_error",
}
OUTPUT_CAP = 1 << 20
# A script that never ends is answered within 5.5 s of wall time; the CLI's own start (exec,
# cgroup setup, python start) gets 1 s of slack on top, on this loaded 2-core machine.
TIMEOUT_ANSWER_SECONDS = 6.5
# The subprocess guard: far above any limit, so a hung CLI fails the test instead of hanging it.
CLI_GUARD_SECONDS = 60


def stacksync_bin():
    return Path(os.environ.get("STACKSYNC_BIN", REPO_ROOT / "build" / "stacksync"))


def run_command(path):
    command = [str(stacksync_bin()), "run"]
    mode = os.environ.get("STACKSYNC_MODE")
    if mode:
        command += ["--mode", mode]
    return command + [str(path)]


def _reject_constant(name):
    raise ValueError("non-standard JSON constant %s in the CLI output" % name)


@dataclass
class Run:
    """One finished `stacksync run`: exit code, parsed outcome, raw stdout, wall time."""
    returncode: int
    outcome: dict
    raw: bytes
    stderr: bytes
    wall_seconds: float
    pid: int

    @property
    def ok(self):
        return "result" in self.outcome and "error" not in self.outcome

    @property
    def type(self):
        return self.outcome.get("type")

    def describe(self):
        text = json.dumps(self.outcome)[:2000]
        return "exit %d after %.2f s: %s" % (self.returncode, self.wall_seconds, text)


def parse_outcome(raw):
    """The CLI prints exactly one strict-JSON object followed by a newline."""
    assert raw.endswith(b"\n"), "CLI output does not end with a newline: %r" % raw[-200:]
    text = raw.decode("utf-8")  # strict: invalid UTF-8 in the JSON itself is a bug
    assert text.count("\n") == 1, "CLI output is not a single line"
    outcome = json.loads(text, parse_constant=_reject_constant)
    assert isinstance(outcome, dict), "CLI output is not a JSON object"
    return outcome


def check_shape(run):
    """The contract every outcome obeys, whatever the script did."""
    outcome = run.outcome
    assert isinstance(outcome.get("stdout"), str), run.describe()
    assert isinstance(outcome.get("stderr"), str), run.describe()
    for flag in ("stdout_truncated", "stderr_truncated"):
        # Present only when output was cut, and then true.
        assert outcome.get(flag, True) is True, run.describe()
    if "error" in outcome:
        assert "result" not in outcome, run.describe()
        assert isinstance(outcome["error"], str) and outcome["error"], run.describe()
        assert outcome.get("type") in ERROR_TYPES, run.describe()
        expected_code = EXIT_SANDBOX_ERROR if outcome["type"] == "sandbox_error" else EXIT_SCRIPT_ERROR
        assert run.returncode == expected_code, run.describe()
    else:
        assert "result" in outcome and "type" not in outcome, run.describe()
        assert run.returncode == EXIT_OK, run.describe()


def run_file(path, stdin=None, on_start=None, wrap=None):
    """Runs `stacksync run path`; on_start(pid) is called once the CLI process exists; wrap
    turns the command into one that execs it (so that the pid stays the CLI's)."""
    command = run_command(path)
    if wrap is not None:
        command = wrap(command)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if on_start is not None:
        on_start(process.pid)
    try:
        raw, err = process.communicate(stdin, timeout=CLI_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("stacksync run %s did not finish within %d s" % (path, CLI_GUARD_SECONDS))
    wall = time.perf_counter() - start
    run = Run(process.returncode, parse_outcome(raw), raw, err, wall, process.pid)
    check_shape(run)
    return run


class ScriptRunner:
    """Writes scripts to a private directory and runs them through the CLI."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.count = 0

    def write(self, source, name=None):
        self.count += 1
        path = self.directory / (name or "script_%03d.py" % self.count)
        data = source if isinstance(source, bytes) else textwrap.dedent(source).encode("utf-8")
        path.write_bytes(data)
        return path

    def __call__(self, source, name=None):
        return run_file(self.write(source, name))

    def many(self, sources, workers=4):
        """Runs several scripts at once (the slow ones overlap); results in the given order."""
        paths = [self.write(source) for source in sources]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run_file, paths))
