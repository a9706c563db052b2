#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (Debian's clang-14 + libclang-rt-14-dev, which carries
# libFuzzer), outside CMake: the project builds with g++, and libFuzzer needs clang's
# instrumentation on everything it explores. Boost.JSON is compiled header-only into the fuzzers
# (boost_json.cpp), so no g++-built libboost_json is mixed into the instrumented binaries.
#
#   fuzz/build.sh            # -> fuzz/build/{result_channel,request,utf8}_fuzzer
#   CXX=clang++-16 fuzz/build.sh
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
OUT="${FUZZ_BUILD_DIR:-$FUZZ_DIR/build}"
CXX="${CXX:-clang++}"
# Two cores shared with other people: one compiler at a time unless asked otherwise.
JOBS="${JOBS:-1}"

if ! "$CXX" --version 2>/dev/null | grep -q clang; then
  echo "build.sh: $CXX is not clang; libFuzzer needs clang (apt-get install clang)" >&2
  exit 2
fi

fuzzer_runtime="$("$CXX" -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a"
if [[ ! -f "$fuzzer_runtime" ]]; then
  version="$("$CXX" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)"
  echo "build.sh: no libFuzzer runtime at $fuzzer_runtime" >&2
  echo "build.sh: apt-get install libclang-rt-${version}-dev (or libfuzzer-${version}-dev)" >&2
  exit 2
fi

SANITIZE=(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer)
CXXFLAGS=(-std=c++20 -O1 -g -Wall -Wextra "${SANITIZE[@]}" -I"$ROOT/src" -I"$FUZZ_DIR")
# Our own files must be warning-free; the project's sources are built with g++ -Werror already,
# and a clang-only warning in them must not stop the fuzzers from building.
OWN_FLAGS=(-Werror)

mkdir -p "$OUT/obj"

# compile SOURCE OBJECT [extra flags...]: rebuilds only when the source or a header changed.
compile() {
  local source="$1" object="$2"
  shift 2
  local depfile="${object%.o}.d"
  if [[ -f "$object" && -f "$depfile" ]]; then
    local stale=0 dep
    for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$depfile"); do
      if [[ "$dep" -nt "$object" ]]; then stale=1; break; fi
    done
    [[ $stale == 0 && "$FUZZ_DIR/build.sh" -ot "$object" ]] && return 0
  fi
  echo "  CXX $(realpath --relative-to="$ROOT" "$source")"
  "$CXX" "${CXXFLAGS[@]}" "$@" -MMD -MF "$depfile" -c "$source" -o "$object"
}

declare -A PROJECT_OBJECTS=(
  [result.o]="$ROOT/src/base/result.cpp"
  [outcome.o]="$ROOT/src/engine/outcome.cpp"
  [result_channel.o]="$ROOT/src/engine/result_channel.cpp"
  [execute_request.o]="$ROOT/src/server/execute_request.cpp"
  [reply.o]="$ROOT/src/server/reply.cpp"
  [json_log.o]="$ROOT/src/server/json_log.cpp"
  [request_id.o]="$ROOT/src/server/request_id.cpp"
)

pids=()
wait_for_slot() {
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n; done
}
compile "$FUZZ_DIR/boost_json.cpp" "$OUT/obj/boost_json.o" "${OWN_FLAGS[@]}" &
pids+=($!)
for object in "${!PROJECT_OBJECTS[@]}"; do
  wait_for_slot
  compile "${PROJECT_OBJECTS[$object]}" "$OUT/obj/$object" &
  pids+=($!)
done
for target in result_channel request utf8; do
  wait_for_slot
  compile "$FUZZ_DIR/${target}_fuzzer.cpp" "$OUT/obj/${target}_fuzzer.o" "${OWN_FLAGS[@]}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

link() {
  local target="$1"
  shift
  local objects=("$OUT/obj/${target}_fuzzer.o" "$OUT/obj/boost_json.o")
  local name
  for name in "$@"; do objects+=("$OUT/obj/$name"); done
  echo "  LD  ${target}_fuzzer"
  "$CXX" -fsanitize=fuzzer,address,undefined "${objects[@]}" -o "$OUT/${target}_fuzzer"
}
link result_channel result_channel.o outcome.o
link request execute_request.o reply.o request_id.o json_log.o result.o outcome.o
link utf8 outcome.o
