# Issue 6, soak: 60 s of mixed, hostile traffic from 8 keep-alive clients against the real
# `stacksync serve` (warm mode), then the checks of bench/soak.py: every answer right for its
# script, zero 5xx, zero dropped connections, nothing leaked, RSS back near its start, clean
# SIGTERM. The whole run stays under ~90 s: startup, warm-up, 60 s, the last timeouts, settling.
import os
import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOAK = REPO_ROOT / "bench" / "soak.py"
SOAK_SECONDS = 60
# Past this the soak itself hangs: startup (60 s at most) and settling are bounded inside it.
RUN_TIMEOUT_S = SOAK_SECONDS + 120


def test_sixty_seconds_of_mixed_load_warm():
    environment = dict(os.environ)
    environment.setdefault("STACKSYNC_BIN", str(REPO_ROOT / "build" / "stacksync"))
    completed = subprocess.run(
        ["/usr/bin/python3", str(SOAK), "--seconds", str(SOAK_SECONDS), "--clients", "8", "--mode", "warm"],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    report = completed.stdout + completed.stderr
    print(report)  # pytest shows it on failure, and with -s always: the figures are the point

    verdict = re.search(r"^(\d+) passed, (\d+) failed$", completed.stdout, flags=re.MULTILINE)
    assert verdict, "the soak printed no verdict:\n" + report
    failed_checks = [line for line in completed.stdout.splitlines() if line.startswith("FAIL")]
    assert int(verdict.group(2)) == 0 and not failed_checks, "\n".join(failed_checks)
    assert completed.returncode == 0, report
    # The load was real: a few hundred answers at least, across every kind of script.
    total = re.search(r"^all\s+(\d+)\s", completed.stdout, flags=re.MULTILINE)
    assert total and int(total.group(1)) >= 100, "too little traffic:\n" + report
    assert int(verdict.group(1)) >= 20, "fewer checks than expected ran:\n" + report
