#!/usr/bin/env bash
# The README's first command: plan and apply the local demo stack on this machine, no cloud needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "building maifctl (the first build takes a few minutes)…"
swift build --product maifctl 2>&1 | grep -E "error:|Build complete" || true
BIN="$(swift build --show-bin-path)/maifctl"
[ -x "$BIN" ] || { echo "build failed; run: swift build" >&2; exit 1; }

# Outside this checkout: a state directory inside a git repository would commit into that repository.
work="${DEMO_DIR:-${TMPDIR:-/tmp}/maifctl-demo}"
rm -rf "$work"; mkdir -p "$work"
cp stacks/local-demo.yaml "$work/"
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "maifctl validate local-demo.yaml"
"$BIN" validate local-demo.yaml
step "maifctl plan local-demo.yaml"
"$BIN" plan local-demo.yaml
step "maifctl apply local-demo.yaml --auto-approve"
"$BIN" apply local-demo.yaml --auto-approve
step "what the local provider created (.maif/)"
find .maif -type f | sort
step "git log of the state directory"
git -C state log --stat --format='%h %s%n%b' | head -40
step "maifctl plan local-demo.yaml --detailed-exitcode (0 = nothing to do)"
"$BIN" plan local-demo.yaml --detailed-exitcode
echo "exit status: $?"
step "maifctl output -f local-demo.yaml"
"$BIN" output -f local-demo.yaml
printf '\nThe demo lives in %s/; try editing local-demo.yaml and running plan again, or:\n  %s destroy local-demo.yaml --auto-approve\n' "$work" "$BIN"
