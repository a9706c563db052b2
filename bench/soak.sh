#!/usr/bin/env bash
# Soak test with sane defaults: bench/soak.py against build/stacksync (or $STACKSYNC_BIN),
# 8 keep-alive clients, warm mode, 60 s. MODE "both" runs warm, then cold. Extra arguments go to
# soak.py (see bench/soak.py --help). Needs root; exit status is non-zero if any check failed.
#   bench/soak.sh                    # 60 s, warm
#   bench/soak.sh 600                # the 10-minute run
#   bench/soak.sh 120 both --clients 16 --allow-overload
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mode=${2:-warm}
shift $(($# < 2 ? $# : 2))
export STACKSYNC_BIN=${STACKSYNC_BIN:-build/stacksync}
[[ $EUID -eq 0 ]] || { echo "soak: run as root (it reads the server's /proc entries and cgroups)" >&2; exit 2; }
[[ -x $STACKSYNC_BIN ]] || { echo "soak: no $STACKSYNC_BIN (build it: scripts/setup.sh, or set STACKSYNC_BIN)" >&2; exit 2; }
case $mode in
  warm | cold) modes=("$mode") ;;
  both) modes=(warm cold) ;;
  *) echo "soak: MODE is warm, cold or both, not '$mode'" >&2; exit 2 ;;
esac

status=0
for m in "${modes[@]}"; do
  /usr/bin/python3 bench/soak.py --seconds "$seconds" --mode "$m" --clients "${SOAK_CLIENTS:-8}" "$@" || status=1
done
exit $status
