#!/usr/bin/env bash
# Installs what StackSync needs on Debian 12 (as root) and builds it into build/.
# Usage: scripts/setup.sh [--tests]   (--tests also installs the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config libseccomp-dev libboost1.81-dev libboost-json1.81-dev
          python3 python3-numpy python3-pandas)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(libgtest-dev googletest python3-pytest clang-format procps clang libclang-rt-14-dev util-linux)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

tests=OFF
[[ "${1:-}" == "--tests" ]] && tests=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTACKSYNC_TESTS=$tests >/dev/null
cmake --build build -j"$(nproc)"
