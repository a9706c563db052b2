# The kernel-enforced limits through `stacksync run`: 5 s of wall time for the whole process
# tree, 512 MiB of memory. The slow scripts run once per module, side by side, and each test
# asserts on its own outcome.
import pytest

from cli_support import EXIT_SCRIPT_ERROR, TIMEOUT_ANSWER_SECONDS

WALL_LIMIT_SECONDS = 5
MEMORY_LIMIT_MIB = 512

SCRIPTS = {
    "busy_loop": """
        import sys
        def main():
            print("flushed", flush=True)
            print("buffered")
            sys.stderr.write("progress on stderr\\n")
            while True:
                pass
    """,
    "sleep_at_module_level": """
        import time
        time.sleep(100)
        def main():
            return "never"
    """,
    # A tree of processes that ignore SIGTERM: the limit must take all of them.
    "stubborn_process_tree": """
        import os, signal, time
        def main():
            for _ in range(5):
                if os.fork() == 0:
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    while True:
                        time.sleep(0.01)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(100)
    """,
    # Closing its own output must not make the supervisor think the script is done.
    "closed_output": """
        import os, time
        def main():
            os.close(1)
            os.close(2)
            time.sleep(100)
    """,
    "memory_bomb": """
        def main():
            print("allocating", flush=True)
            hoard = []
            while True:
                hoard.append(b"x" * (32 << 20))
    """,
    "numpy_memory_bomb": """
        import numpy as np
        def main():
            return float(np.ones((1024, 1024, 160)).sum())  # 1.25 GiB of float64
    """,
    "one_huge_allocation": """
        def main():
            return len(bytearray(10 << 40))  # 10 TiB: MemoryError before any page is touched
    """,
    "within_memory_limit": """
        def main():
            block = b"y" * (300 << 20)
            return len(block) >> 20
    """,
}


@pytest.fixture(scope="module")
def outcomes(module_runner):
    # Two at a time on this 2-core machine: the wall-time assertions measure the CLI from the
    # outside, start-up included, and must not measure our own contention.
    names = list(SCRIPTS)
    return dict(zip(names, module_runner.many([SCRIPTS[name] for name in names], workers=2)))


@pytest.mark.parametrize("name", ["busy_loop", "sleep_at_module_level", "stubborn_process_tree",
                                  "closed_output"])
def test_endless_script_is_stopped_at_the_wall_limit(outcomes, name):
    run = outcomes[name]
    assert run.returncode == EXIT_SCRIPT_ERROR, run.describe()
    assert run.type == "timeout", run.describe()
    assert run.outcome["limit_seconds"] == WALL_LIMIT_SECONDS
    assert "5 s" in run.outcome["error"]
    # Killed at the limit: not earlier, and answered within 5.5 s (+ CLI start-up slack).
    assert WALL_LIMIT_SECONDS <= run.wall_seconds < TIMEOUT_ANSWER_SECONDS, run.describe()


def test_timeout_returns_flushed_stdout_and_stderr(outcomes):
    run = outcomes["busy_loop"]
    assert run.outcome["stdout"].startswith("flushed\n"), run.describe()
    assert run.outcome["stderr"] == "progress on stderr\n"


def test_timeout_returns_print_output_that_was_not_flushed(outcomes):
    assert outcomes["busy_loop"].outcome["stdout"] == "flushed\nbuffered\n"


@pytest.mark.parametrize("name", ["memory_bomb", "numpy_memory_bomb", "one_huge_allocation"])
def test_memory_over_512_mib_is_memory_limit(outcomes, name):
    run = outcomes[name]
    assert run.returncode == EXIT_SCRIPT_ERROR, run.describe()
    assert run.type == "memory_limit", run.describe()
    assert run.outcome["limit_mib"] == MEMORY_LIMIT_MIB
    assert "512 MiB" in run.outcome["error"]


def test_memory_limit_keeps_flushed_output(outcomes):
    assert outcomes["memory_bomb"].outcome["stdout"] == "allocating\n"


def test_300_mib_is_within_the_memory_limit(outcomes):
    run = outcomes["within_memory_limit"]
    assert run.ok, run.describe()
    assert run.outcome["result"] == 300
