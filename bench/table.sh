#!/usr/bin/env bash
# Prints one table: mode x script x {p50, p95, p99, req/s}, from one run, both modes side by
# side. Sequential: 50 requests from one client; concurrent: 4 clients for SECONDS (default 20).
#   bench/table.sh [SECONDS]          (needs build/stacksync: scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/listening_port.sh
seconds=${1:-20}
trivial=$(mktemp --suffix=.py)
printf 'def main():\n    return 1\n' >"$trivial"
trap 'rm -f "$trivial"; [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null; true' EXIT

echo "| mode | script | load | p50 ms | p95 ms | p99 ms | req/s |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for mode in cold warm; do
  log=$(mktemp)
  build/stacksync serve --host 127.0.0.1 --port 0 --mode "$mode" 2>"$log" &
  server=$!
  port=$(listening_port "$log")
  [[ -n "$port" ]] || { echo "server ($mode) did not start:"; cat "$log"; exit 1; }
  for script in "$trivial" examples/dataframe.py; do
    name=$([[ $script == "$trivial" ]] && echo "return 1" || echo "pandas example")
    for load in "sequential" "4 clients"; do
      if [[ $load == sequential ]]; then args=(--clients 1 --requests 50); else args=(--clients 4 --seconds "$seconds"); fi
      /usr/bin/python3 bench/load.py --url "http://127.0.0.1:$port" --script "$script" --json "${args[@]}" |
        /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print('| $mode | $name | $load | %.1f | %.1f | %.1f | %.1f |' % (s['p50'], s['p95'], s['p99'], s['rps']))"
    done
  done
  kill -TERM "$server"
  wait "$server" || true
  server=""
  rm -f "$log"
done
