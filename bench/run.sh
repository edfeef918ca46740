#!/usr/bin/env bash
# All benchmarks: the engine bench (bench/engine/run.sh, sizes passed through)
# and, when present, the load-and-validate bench (bench/load/run.sh).
#
#   bench/run.sh [N...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
status=0
echo "## Engine"
"$here/engine/run.sh" "$@" || status=$?
if [ -x "$here/load/run.sh" ]; then
    echo
    echo "## Load and validate"
    "$here/load/run.sh" || status=$?
fi
exit "$status"
