#!/usr/bin/env bash
# Cost of one `stacksync run` (a whole CLI process) for a trivial script and for the pandas
# example: median of 20 invocations per execution mode. See bench/cold_run_cost.py for options.
#   bench/cold_run_cost.sh [--runs N] [--bin PATH] [--modes cold,warm]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/cold_run_cost.py "$@"
