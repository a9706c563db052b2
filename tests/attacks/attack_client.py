"""Running one attack script against StackSync and checking what every run must satisfy.

The CLI by default (`$STACKSYNC_BIN run [--mode $STACKSYNC_MODE] FILE`), or the HTTP service when
STACKSYNC_URL is set (POST /execute). Either way the answer is parsed into a Run.
"""
import http.client
import json
import re
import os
import subprocess
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
BINARY = os.environ.get("STACKSYNC_BIN", str(REPO / "build" / "stacksync"))
URL = os.environ.get("STACKSYNC_URL")
MODE = os.environ.get("STACKSYNC_MODE")
HOST_CHECKS = os.environ.get("STACKSYNC_HOST_CHECKS", "1") != "0"
PARALLELISM = int(os.environ.get("STACKSYNC_ATTACK_PARALLELISM", "2"))

# The public contract (src/engine/limits.h).
WALL_SECONDS = 5.0
ANSWER_SECONDS = 5.5  # the promise: the whole process tree killed and the answer out by then
# Slack for running two attacks at once on two cores. The suite measures on top of both the
# cost of answering a trivial script (warm CLI runs start a pandas zygote first), so the bounds
# hold for the sandbox, not for the way it is started.
LOAD_SLACK_SECONDS = 0.5
PROMPT_SECONDS = 2.0  # "ended promptly after main returned": lingering children wait 1 s, the wall is 5 s
TRIVIAL_SCRIPT = "def main():\n    return 1\n"
OUTPUT_CAP = 1 << 20
PIDS_LIMIT = 64
MEMORY_LIMIT_MIB = 512
TMPFS_MIB = 64
FILE_SIZE_LIMIT = 64 << 20
OPEN_FILES_LIMIT = 256
SANDBOX_UID = 65534

# Handed to the CLI in its environment; a sandbox that passes the environment through leaks it.
CANARY_ENV_NAME = "ATTACK_SUITE_CANARY_SECRET"
CANARY_ENV_VALUE = "canary-" + uuid.uuid4().hex

ERROR_TYPES = {"missing_main", "main_not_callable", "syntax_error", "runtime_error", "not_serializable",
               "result_too_large", "invalid_result", "timeout", "memory_limit", "output_limit", "exited",
               "sandbox_error"}
# Pids of the CLI processes this suite started: what it may attribute leftovers to on a machine
# where other sandboxes (other users of the same uid 65534) run at the same time.
CLI_PIDS = set()



# ---------------------------------------------------------------------------------------------
# Running one script


@dataclass
class Run:
    script: str
    outcome: dict
    elapsed: float
    status: int  # the CLI's exit code, or the HTTP status
    body_bytes: int

    @property
    def ok(self):
        return "error" not in self.outcome and "result" in self.outcome

    @property
    def type(self):
        return self.outcome.get("type")

    @property
    def result(self):
        return self.outcome.get("result")

    @property
    def stdout(self):
        return self.outcome.get("stdout", "")

    @property
    def stderr(self):
        return self.outcome.get("stderr", "")

    def describe(self):
        shown = dict(self.outcome)
        for key in ("stdout", "stderr"):
            if isinstance(shown.get(key), str) and len(shown[key]) > 600:
                shown[key] = shown[key][:600] + "...(%d chars)" % len(shown[key])
        text = json.dumps(shown, default=str)
        if len(text) > 6000:
            text = text[:6000] + "..."
        return "%s: %.2fs, status %d, outcome %s" % (self.script, self.elapsed, self.status, text)


def _reject_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def parse_answer(script, raw, status, elapsed, context):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AssertionError("%s: the answer is not UTF-8 (%s); %s" % (script, error, context))
    try:
        outcome = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise AssertionError("%s: the answer is not valid JSON (%s): %r; %s" % (script, error, text[:500], context))
    if not isinstance(outcome, dict):
        raise AssertionError("%s: the answer is not a JSON object: %r" % (script, text[:500]))
    return Run(script, outcome, elapsed, status, len(raw))


PRELUDE_DIR = Path(__file__).resolve().parent / "prelude"
PRELUDE_MARK = re.compile(r"^# prelude: (\w+).*$", re.MULTILINE)


def script_source(script):
    """The script as the sandbox gets it: each `# prelude: NAME` line replaced by prelude/NAME.py."""
    source = (SCRIPTS_DIR / (script + ".py")).read_text()
    return PRELUDE_MARK.sub(lambda match: (PRELUDE_DIR / (match.group(1) + ".py")).read_text(), source)


def script_path(script):
    """A file holding script_source(script). Scripts with a prelude are written below
    scripts/assembled/, so that the CLI's command line still names the scripts directory (the
    host checks find a run's leftovers by it)."""
    path = SCRIPTS_DIR / (script + ".py")
    source = script_source(script)
    if source == path.read_text():
        return path
    assembled = SCRIPTS_DIR / "assembled" / (script + ".py")
    assembled.parent.mkdir(exist_ok=True)
    if not assembled.exists() or assembled.read_text() != source:
        temporary = assembled.with_suffix(".%d.tmp" % os.getpid())
        temporary.write_text(source)
        temporary.replace(assembled)
    return assembled


def run_cli(script, path=None):
    path = path or script_path(script)
    command = [BINARY, "run"] + (["--mode", MODE] if MODE else []) + [str(path)]
    environment = dict(os.environ, **{CANARY_ENV_NAME: CANARY_ENV_VALUE})
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    CLI_PIDS.add(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("%s: `%s` did not answer within 30 s" % (script, " ".join(command)))
    elapsed = time.monotonic() - started
    context = "exit %d, stderr %r" % (process.returncode, stderr[-2000:])
    return parse_answer(script, stdout, process.returncode, elapsed, context)


def run_http(script, source=None):
    target = urllib.parse.urlsplit(URL)
    body = json.dumps({"script": source or script_source(script)})
    connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
    started = time.monotonic()
    try:
        connection.request("POST", target.path.rstrip("/") + "/execute", body=body,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise AssertionError("%s: POST %s/execute failed: %r" % (script, URL, error))
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    return parse_answer(script, raw, response.status, elapsed, "HTTP %d" % response.status)


def run_script(script):
    return run_http(script) if URL else run_cli(script)


def measure_startup(tmp_dir):
    """Seconds to answer `def main(): return 1`, the best of three: the fixed cost of one run."""
    path = Path(tmp_dir) / "trivial.py"
    path.write_text(TRIVIAL_SCRIPT)
    timings = []
    for _ in range(3):
        run = run_http("trivial", TRIVIAL_SCRIPT) if URL else run_cli("trivial", path)
        assert run.ok and run.result == 1, "a trivial script fails, nothing can be tested: " + run.describe()
        timings.append(run.elapsed)
    return min(timings)


# Set by the suite fixture once the start-up cost is known.
LIMITS = {"answer_seconds": ANSWER_SECONDS + LOAD_SLACK_SECONDS, "prompt_seconds": PROMPT_SECONDS}


def check_common(run):
    """What every run must satisfy, whatever the script attempted."""
    outcome = run.outcome
    assert run.type != "sandbox_error", "the sandbox failed to set up, so the attack was not tested: " + run.describe()
    for key in ("stdout", "stderr"):
        assert isinstance(outcome.get(key), str), "%r missing or not a string: %s" % (key, run.describe())
        assert len(outcome[key]) <= OUTPUT_CAP, "%s longer than the 1 MiB cap (%d chars)" % (key, len(outcome[key]))
        assert outcome.get(key + "_truncated", True) is True, "%s_truncated present but not true" % key
    if run.ok:
        assert "type" not in outcome, "a success carries an error type: " + run.describe()
    else:
        assert "result" not in outcome, "an error carries a result: " + run.describe()
        assert isinstance(outcome.get("error"), str) and outcome["error"], "error without a message: " + run.describe()
        assert run.type in ERROR_TYPES, "unknown error type: " + run.describe()
    if URL:
        expected = 200 if run.ok else 400
        assert run.status == expected, "HTTP %d, expected %d: %s" % (run.status, expected, run.describe())
    else:
        expected = 0 if run.ok else 1
        assert run.status == expected, "exit code %d, expected %d: %s" % (run.status, expected, run.describe())
    assert run.elapsed <= LIMITS["answer_seconds"], "the answer took %.2f s (limit %.2f s): %s" % (
        run.elapsed, LIMITS["answer_seconds"], run.describe())
