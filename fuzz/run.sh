#!/usr/bin/env bash
# Builds the fuzzers, replays every saved regression input, then fuzzes each target for SECONDS
# (default 60) starting from the seed corpus. Exits non-zero if any input crashes or breaks an
# invariant, and prints each target's executions.
#
#   fuzz/run.sh            # 60 s per target (CI)
#   fuzz/run.sh 600        # 10 minutes per target
#   FUZZ_TARGETS=utf8 fuzz/run.sh 30
#
# New inputs that libFuzzer finds go to fuzz/build/corpus/<target>/ (kept between local runs, not
# committed); crashes go to fuzz/build/artifacts/<target>/ and are printed as hex.
set -uo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${FUZZ_BUILD_DIR:-$FUZZ_DIR/build}"
SECONDS_PER_TARGET="${1:-60}"
TARGETS=(${FUZZ_TARGETS:-result_channel request utf8})
# The machine is shared: fuzz at a lower priority than interactive work and the tests.
NICE=(nice -n "${FUZZ_NICE:-10}")

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]]; then
  echo "usage: fuzz/run.sh [SECONDS]" >&2
  exit 2
fi

FUZZ_BUILD_DIR="$OUT" "$FUZZ_DIR/build.sh" || exit 1

failures=()
summary=()

show_crash() {
  local target="$1" log="$2"
  echo "---- $target: last lines of $log" >&2
  grep -v '^#' "$log" | tail -n 40 >&2
  local artifact
  for artifact in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
    echo "---- $target: crashing input $artifact (hex):" >&2
    xxd -p "$artifact" | head -c 4000 >&2
    echo >&2
  done
}

for target in "${TARGETS[@]}"; do
  fuzzer="$OUT/${target}_fuzzer"
  mkdir -p "$OUT/logs" "$OUT/corpus/$target" "$OUT/artifacts/$target"

  # 1. Regressions: every input that once crashed must pass now.
  regressions=()
  if [[ -d "$FUZZ_DIR/regressions/$target" ]]; then
    while IFS= read -r -d '' file; do regressions+=("$file"); done \
      < <(find "$FUZZ_DIR/regressions/$target" -type f ! -name '*.md' -print0 | sort -z)
  fi
  if ((${#regressions[@]} > 0)); then
    log="$OUT/logs/$target.regressions.log"
    failed_inputs=()
    # One process per input, so one failure does not hide the others.
    for input in "${regressions[@]}"; do
      if ! "$fuzzer" "$input" >"$log.one" 2>&1; then
        failed_inputs+=("$input")
        cat "$log.one" >>"$log"
        echo "---- $target: regression $(basename "$input") fails:" >&2
        grep -E 'invariant violated|ERROR: (AddressSanitizer|libFuzzer)|runtime error' "$log.one" \
          | head -n 3 >&2
      fi
    done
    rm -f "$log.one"
    if ((${#failed_inputs[@]} > 0)); then
      failures+=("$target: ${#failed_inputs[@]} of ${#regressions[@]} regression inputs fail")
    else
      echo "$target: ${#regressions[@]} regression inputs pass"
    fi
  fi

  # 2. Fuzzing from the seeds plus whatever earlier local runs found.
  log="$OUT/logs/$target.log"
  args=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$OUT/artifacts/$target/")
  [[ -f "$FUZZ_DIR/dict/$target.dict" ]] && args+=(-dict="$FUZZ_DIR/dict/$target.dict")
  echo "$target: fuzzing for ${SECONDS_PER_TARGET}s (log: $log)"
  started=$(date +%s)
  "${NICE[@]}" "$fuzzer" "${args[@]}" ${FUZZ_ARGS:-} "$OUT/corpus/$target" \
    "$FUZZ_DIR/corpus/$target" >"$log" 2>&1
  status=$?
  elapsed=$(($(date +%s) - started))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [[ -n "$executions" ]] || executions=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  executions="${executions:-0}"
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
  if ((status != 0)); then
    failures+=("$target: fuzzing stopped with status $status after ${elapsed}s")
    show_crash "$target" "$log"
    result="FAILED"
  else
    result="ok"
  fi
  summary+=("$(printf '%-15s %6ss %12s executions %8s exec/s  %-32s %s' "$target" "$elapsed" \
    "$executions" "$((executions / (elapsed > 0 ? elapsed : 1)))" "${coverage:-}" "$result")")
done

echo
echo "target          time    executions             speed   coverage                         result"
printf '%s\n' "${summary[@]}"
if ((${#failures[@]} > 0)); then
  echo
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
