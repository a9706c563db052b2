"""Wall time of one `stacksync run` invocation, start to exit, for a trivial script and for the
pandas example: median (and spread) of N runs in each execution mode, as a table.

Each run is a whole CLI process: executor set-up (cgroup parents, in warm mode the zygote),
sandbox, python start-up, the script, clean-up. Runs go one after the other, never in parallel.

usage: /usr/bin/python3 bench/cold_run_cost.py [--runs N] [--bin PATH] [--modes cold,warm]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TRIVIAL_SCRIPT = "def main():\n    return 1\n"


def time_one(binary, mode, script):
    start = time.perf_counter()
    completed = subprocess.run([binary, "run", "--mode", mode, script], capture_output=True)
    elapsed = time.perf_counter() - start
    outcome = json.loads(completed.stdout or b"{}")
    if completed.returncode != 0 or "result" not in outcome:
        sys.exit("run of %s in %s mode failed (exit %d): %s %s"
                 % (script, mode, completed.returncode, completed.stdout[:500], completed.stderr[:500]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--bin", default=os.environ.get("STACKSYNC_BIN", str(REPO_ROOT / "build" / "stacksync")))
    parser.add_argument("--modes", default="cold,warm")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as directory:
        trivial = Path(directory) / "trivial.py"
        trivial.write_text(TRIVIAL_SCRIPT)
        scripts = [("trivial (return 1)", str(trivial)),
                   ("examples/dataframe.py", str(REPO_ROOT / "examples" / "dataframe.py"))]
        rows = []
        for mode in args.modes.split(","):
            for label, script in scripts:
                time_one(args.bin, mode, script)  # warm the page cache; not counted
                samples = [time_one(args.bin, mode, script) for _ in range(args.runs)]
                rows.append((label, mode, statistics.median(samples), min(samples), max(samples)))

    # Other work on the machine skews these numbers: the load average says how much there was.
    print("stacksync run: wall time per invocation, %d runs each (%s, %d cores, load %.1f -> %.1f)"
          % (args.runs, args.bin, os.cpu_count(), load_before, os.getloadavg()[0]))
    print("%-24s %-5s %10s %10s %10s" % ("script", "mode", "median ms", "min ms", "max ms"))
    for label, mode, median, low, high in rows:
        print("%-24s %-5s %10.1f %10.1f %10.1f" % (label, mode, median * 1e3, low * 1e3, high * 1e3))


if __name__ == "__main__":
    main()
