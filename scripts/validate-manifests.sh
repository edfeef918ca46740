#!/usr/bin/env bash
# Offline validators for the manifests expansion generates (see ../shared/TESTING.md):
#   validate-manifests.sh --install        put kubernetes-validate into .venv-tools (idempotent; nothing global)
#   validate-manifests.sh --check          exit 0 when every validator is available, else say how to get it
#   validate-manifests.sh k8s FILE...      kubernetes-validate --strict -k 1.30.0 on Kubernetes manifests; kinds
#                                          a CRD brings against scripts/crd-schemas/ (a kind known to neither fails)
#   validate-manifests.sh stack FILE       docker stack config -c FILE (docker CLI, no daemon), printed as JSON
#   validate-manifests.sh cloud-config FILE   cloud-init schema --config-file FILE (Debian's cloud-init)
#   validate-manifests.sh cloud-config-write FILE ROOT   cloud-init's own write_files module run on FILE, every path under ROOT
#   validate-manifests.sh rules FILE       promtool check rules FILE (Debian's prometheus)
#   validate-manifests.sh alertmanager FILE   amtool check-config FILE (Debian's prometheus-alertmanager)
#   validate-manifests.sh alertmanager-route FILE LABEL=VALUE...   the receivers amtool routes an alert with those labels to
#   validate-manifests.sh checkov FILE     checkov --framework kubernetes on FILE, offline, its report as JSON
#                                          (checkov lives in its own .venv-checkov: its dependencies are many)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-tools"
CHECKOV_VENV="$ROOT/.venv-checkov"
K8S_VERSION="1.30.0"
INSTALL_HINT="run: bash scripts/validate-manifests.sh --install"

have_k8s() { [ -x "$VENV/bin/kubernetes-validate" ] && "$VENV/bin/python" -c 'import yaml' 2>/dev/null; }
have_checkov() { [ -x "$CHECKOV_VENV/bin/checkov" ]; }
have_docker() { command -v docker >/dev/null && docker stack config --help >/dev/null 2>&1; }
# cloud-init, promtool and amtool: only their validators are used; policy-rc.d or no init keeps their services down.
have_alerting() { [ -x /usr/bin/cloud-init ] && [ -x /usr/bin/promtool ] && [ -x /usr/bin/amtool ]; }

install() {
  if ! have_k8s; then
    echo "validate-manifests: installing kubernetes-validate into $VENV (PyPI)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate
  fi
  if ! have_checkov; then
    echo "validate-manifests: installing checkov into $CHECKOV_VENV (PyPI)" >&2
    [ -x "$CHECKOV_VENV/bin/python" ] || python3 -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check checkov
  fi
  if ! have_docker; then
    echo "validate-manifests: installing the docker CLI (apt: docker.io; the daemon is not needed)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  if ! have_alerting; then
    echo "validate-manifests: installing cloud-init, prometheus and prometheus-alertmanager (apt; for their validators)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends cloud-init prometheus prometheus-alertmanager >/dev/null
  fi
}

check() {
  local ok=0
  have_k8s || { echo "kubernetes-validate is not installed in $VENV; $INSTALL_HINT" >&2; ok=1; }
  have_docker || { echo "the docker CLI (docker stack config) is not installed; $INSTALL_HINT" >&2; ok=1; }
  have_alerting || { echo "cloud-init, promtool or amtool is not installed; $INSTALL_HINT" >&2; ok=1; }
  return $ok
}

case "${1:-}" in
  --install) install ;;
  --check) check ;;
  k8s)
    shift
    have_k8s || { echo "kubernetes-validate is not installed in $VENV; $INSTALL_HINT" >&2; exit 127; }
    status=0
    out="$("$VENV/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "$@" 2>&1)" || status=$?
    printf '%s\n' "$out"
    [ "$status" -eq 0 ] || exit "$status"
    # A kind a CRD brings has no schema in kubernetes-validate (it only warns): check it against crd-schemas/.
    printf '%s\n' "$out" | "$VENV/bin/python" "$ROOT/scripts/crd-schemas/validate.py" "$@"
    ;;
  checkov)
    shift
    have_checkov || { echo "checkov is not installed in $CHECKOV_VENV; $INSTALL_HINT" >&2; exit 127; }
    # Offline: no policy download, no platform mapping, no results upload. Exit 1 only means "some checks failed".
    BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false \
      "$CHECKOV_VENV/bin/checkov" --framework kubernetes --skip-download --compact -o json -f "$@" || [ $? -eq 1 ]
    ;;
  stack)
    shift
    have_docker || { echo "the docker CLI (docker stack config) is not installed; $INSTALL_HINT" >&2; exit 127; }
    have_k8s || { echo "the YAML→JSON step needs PyYAML from $VENV; $INSTALL_HINT" >&2; exit 127; }
    out="$(docker stack config -c "$1")"
    printf '%s\n' "$out" | "$VENV/bin/python" -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout, sort_keys=True, indent=1)'
    ;;
  cloud-config)
    have_alerting || { echo "cloud-init is not installed; $INSTALL_HINT" >&2; exit 127; }
    exec /usr/bin/cloud-init schema --config-file "$2"
    ;;
  cloud-config-write)
    have_alerting || { echo "cloud-init is not installed; $INSTALL_HINT" >&2; exit 127; }
    # cloud-init's Python (Debian's python3), its YAML loader and its write_files module, paths moved under ROOT.
    exec /usr/bin/python3 - "$2" "$3" <<'PY'
import os, sys
from cloudinit import util
from cloudinit.config import cc_write_files
config_file, root = sys.argv[1], sys.argv[2]
config = util.load_yaml(util.load_file(config_file))
files = config.get("write_files") or []
for f in files:
    f["path"] = os.path.join(root, f["path"].lstrip("/"))
cc_write_files.write_files("write_files", files, "root:root")
for command in config.get("runcmd") or []:
    print("runcmd:", command)
PY
    ;;
  rules)
    have_alerting || { echo "promtool is not installed; $INSTALL_HINT" >&2; exit 127; }
    exec /usr/bin/promtool check rules "$2"
    ;;
  alertmanager)
    have_alerting || { echo "amtool is not installed; $INSTALL_HINT" >&2; exit 127; }
    exec /usr/bin/amtool check-config "$2"
    ;;
  alertmanager-route)
    have_alerting || { echo "amtool is not installed; $INSTALL_HINT" >&2; exit 127; }
    file="$2"; shift 2
    exec /usr/bin/amtool config routes test --config.file="$file" "$@"
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
