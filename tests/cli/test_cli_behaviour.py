# How the command behaves around the script: fresh randomness per run, main() called once, exit
# codes for usage and sandbox errors, reading the script from stdin.
import os
import shutil
import subprocess

import pytest

from cli_support import (CLI_GUARD_SECONDS, EXIT_SANDBOX_ERROR, EXIT_USAGE, check_shape, parse_outcome,
                         run_command, run_file, stacksync_bin, Run)

RANDOM_SCRIPT = """
    import os, random
    import numpy as np
    def main():
        return {"random": random.random(), "numpy": float(np.random.rand()),
                "urandom": os.urandom(16).hex()}
"""


def test_two_runs_of_the_same_script_see_different_random_numbers(run_script):
    first, second = run_script(RANDOM_SCRIPT).outcome["result"], run_script(RANDOM_SCRIPT).outcome["result"]
    for key in ("random", "numpy", "urandom"):
        assert first[key] != second[key], key


def test_main_guard_in_the_script_does_not_call_main_twice(run_script):
    run = run_script("""
        calls = []
        print("module body")
        def main():
            calls.append(1)
            print("main call", len(calls))
            return len(calls)
        if __name__ == "__main__":
            main()
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == 1
    assert run.outcome["stdout"] == "module body\nmain call 1\n"


def test_script_from_stdin(tmp_path):
    run = run_file("-", stdin=b"def main():\n    print('from stdin')\n    return 42\n")
    assert run.ok, run.describe()
    assert run.outcome == {"result": 42, "stdout": "from stdin\n", "stderr": ""}


def run_cli(args, **kwargs):
    return subprocess.run([str(stacksync_bin())] + args, capture_output=True, timeout=CLI_GUARD_SECONDS,
                          **kwargs)


@pytest.mark.parametrize("args", [
    ["run"],
    ["run", "/nonexistent/script.py"],
    ["run", "--mode", "lukewarm", "script.py"],
    ["run", "a.py", "b.py"],
    ["no-such-command"],
    [],
])
def test_usage_errors_exit_2_with_a_message_on_stderr(args):
    completed = run_cli(args)
    assert completed.returncode == EXIT_USAGE, completed
    assert completed.stderr.strip(), "a usage error must say what is wrong"
    assert completed.stdout == b""


def test_version():
    completed = run_cli(["version"])
    assert completed.returncode == 0
    assert completed.stdout.startswith(b"stacksync ")


def unprivileged_run(script):
    """`stacksync run -` as an unprivileged uid: it cannot create cgroups, so it must fail closed."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop to an unprivileged uid")
    command = ["setpriv", "--reuid=12345", "--regid=12345", "--clear-groups"] + run_command("-")
    completed = subprocess.run(command, input=script, capture_output=True, timeout=CLI_GUARD_SECONDS)
    run = Run(completed.returncode, parse_outcome(completed.stdout), completed.stdout, completed.stderr, 0.0, 0)
    check_shape(run)
    return run


CANARY_SCRIPT = b"def main():\n    print('ran')\n    return 'ran without a sandbox'\n"


def test_missing_isolation_layer_fails_closed_with_exit_3():
    run = unprivileged_run(CANARY_SCRIPT)
    assert run.returncode == EXIT_SANDBOX_ERROR, run.describe()
    assert run.type == "sandbox_error", run.describe()
    assert "cgroup" in run.outcome["error"]
    # The script did not run.
    assert run.outcome["stdout"] == "" and "result" not in run.outcome


def test_sandbox_error_names_the_failed_layer():
    run = unprivileged_run(CANARY_SCRIPT)
    assert run.outcome.get("layer") == "cgroup", run.describe()


# --- the script file as python3 would read it --------------------------------------------------

def test_crlf_line_endings(run_script):
    run = run_script(b"def main():\r\n    print('windows')\r\n    return 'crlf'\r\n")
    assert run.ok, run.describe()
    assert run.outcome["result"] == "crlf"


def test_script_with_a_utf8_byte_order_mark(run_script):
    run = run_script(b"\xef\xbb\xbfdef main():\n    return 'bom'\n")
    assert run.ok, run.describe()
    assert run.outcome["result"] == "bom"


def test_script_with_a_coding_declaration(run_script):
    run = run_script(b"# -*- coding: latin-1 -*-\ndef main():\n    return 'caf\xe9'\n")
    assert run.ok, run.describe()
    assert run.outcome["result"] == "caf\u00e9"


def test_directory_instead_of_a_script_is_a_usage_error(tmp_path):
    completed = run_cli(["run", str(tmp_path)])
    assert completed.returncode == EXIT_USAGE, completed
