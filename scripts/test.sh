#!/usr/bin/env bash
# Sets StackSync up (Debian 12, as root) and runs every test: unit (GoogleTest), the CLI and
# attack suites through `stacksync run`, the HTTP end-to-end suite, in every execution mode;
# the unit and CLI suites again under ASan+UBSan; and the container test (podman).
# Then the soak (60 s of mixed load), ThreadSanitizer, fuzzing (60 s per target) and container
# stages, where present.
# Environment: STACKSYNC_SKIP_CONTAINER=1 skips the container test; STACKSYNC_SKIP_SANITIZERS=1
# skips the sanitizer build; STACKSYNC_FUZZ_SECONDS sets the fuzzing time per target.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/setup.sh --tests || { echo "setup failed"; exit 1; }

reports=$(mktemp -d)
failed_stages=()
stage() {  # stage NAME COMMAND...: runs one suite, remembers whether it failed
  local name=$1
  shift
  echo
  echo "=== $name"
  if ! "$@"; then failed_stages+=("$name"); fi
}
pytest_suite() {  # pytest_suite NAME PATHS...
  local name=$1
  shift
  /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$reports/$name.xml" "$@"
}

stage unit ctest --test-dir build --output-on-failure --output-junit "$reports/unit.xml"
for mode in ${STACKSYNC_MODES:-cold warm}; do
  if [[ $mode == warm ]] && ! build/stacksync run --help 2>/dev/null | grep -q warm; then continue; fi
  export STACKSYNC_MODE=$mode
  for suite in cli e2e attacks isolation; do
    [[ -d tests/$suite ]] && stage "$suite-$mode" pytest_suite "$suite-$mode" "tests/$suite"
  done
  unset STACKSYNC_MODE
done

if [[ -z "${STACKSYNC_SKIP_SANITIZERS:-}" ]]; then
  # The sanitizer build also carries the fault-injection hooks (inert unless STACKSYNC_FAULTS).
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSTACKSYNC_SANITIZE=ON \
    -DSTACKSYNC_FAULT_INJECTION=ON >/dev/null &&
    cmake --build build-asan -j"$(nproc)" >/dev/null || failed_stages+=("asan-build")
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  stage unit-asan ctest --test-dir build-asan --output-on-failure --output-junit "$reports/unit-asan.xml"
  for suite in cli e2e; do
    [[ -d tests/$suite ]] && STACKSYNC_BIN="$root/build-asan/stacksync" stage "$suite-asan" pytest_suite "$suite-asan" "tests/$suite"
  done
  STACKSYNC_FAULT_BIN="$root/build-asan/stacksync" stage fault pytest_suite fault tests/fault
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

[[ -d tests/soak ]] && stage soak pytest_suite soak tests/soak
[[ -x tests/tsan/run.sh ]] && stage tsan tests/tsan/run.sh
# The breakdown benchmark's patch must keep applying, and its stamps must keep adding up.
[[ -x bench/breakdown/breakdown.sh ]] && stage breakdown bench/breakdown/breakdown.sh --requests 50
[[ -x fuzz/run.sh ]] && stage fuzz fuzz/run.sh "${STACKSYNC_FUZZ_SECONDS:-60}"

if [[ -z "${STACKSYNC_SKIP_CONTAINER:-}" && -x tests/container/run.sh ]]; then
  stage container tests/container/run.sh
fi

# One closing line over every suite.
/usr/bin/python3 - "$reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.xml"):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    for s in suites:
        total = int(s.get("tests", 0)); bad = int(s.get("failures", 0)) + int(s.get("errors", 0))
        skip = int(s.get("skipped", 0) or s.get("disabled", 0) or 0)
        passed += total - bad - skip; failed += bad; skipped += skip
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
if ((${#failed_stages[@]})); then
  echo "failed stages: ${failed_stages[*]}"
  exit 1
fi
