#!/usr/bin/env bash
# Sets StackSync up (Debian 12, as root) and runs the service on port ${PORT:-8080}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/stacksync serve "$@"
