#!/usr/bin/env bash
# The per-phase breakdown of one warm request. Builds the committed HEAD with instrument.patch
# applied (stamps at each hand-over; never part of a release build) in a scratch worktree, starts
# it on a loopback port and runs breakdown.py against it.
#   bench/breakdown/breakdown.sh [--gap SECONDS] [--requests N] [--script FILE]   (as root)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$repo/bench/listening_port.sh"
scratch="$(mktemp -d /tmp/stacksync-breakdown.XXXXXX)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  git -C "$repo" worktree remove --force "$scratch/src" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach "$scratch/src" HEAD >/dev/null 2>&1
git -C "$scratch/src" apply "$here/instrument.patch"
cmake -S "$scratch/src" -B "$scratch/build" -DCMAKE_BUILD_TYPE=Release -DSTACKSYNC_TESTS=OFF >/dev/null
cmake --build "$scratch/build" -j"$(nproc)" --target stacksync >/dev/null
"$scratch/build/stacksync" serve --host 127.0.0.1 --port 0 --mode warm 2>"$scratch/server.log" &
server=$!
port=$(listening_port "$scratch/server.log")
[[ -n "$port" ]] || { cat "$scratch/server.log"; exit 1; }
/usr/bin/python3 "$here/breakdown.py" --port "$port" --log "$scratch/server.log" "$@"
