#!/usr/bin/env bash
# The README's second command: install what is missing, build once, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p .build
# What the tests use besides the build, installed while it compiles (each script is quiet when all is there):
# kubernetes-validate, checkov and the docker CLI (.venv-tools, .venv-checkov); the pull-request checkers and tmux
# (.venv-ci); the ARM stand-in's venv (.venv-azure); the GCP servers' venv (.venv-gcp); kubectl and the
# kube-apiserver stand-in's venv (.venv-kube).
(
    bash scripts/validate-manifests.sh --install
    bash scripts/ci-tools.sh --install
    bash scripts/arm-standin.sh install
    bash scripts/gcp-servers.sh install
    bash scripts/kube-apiserver.sh install
) >.build/installs.log 2>&1 &
installs=$!
swift build --build-tests
wait "$installs" || { cat .build/installs.log; echo "test.sh: installing the test tools failed (above)" >&2; exit 1; }

stop_servers() {
    bash scripts/moto.sh stop .build/moto.pid
    bash scripts/moto.sh stop .build/moto-auth.pid
    bash scripts/moto.sh stop .build/moto-gcp.pid
    bash scripts/dockerd.sh stop "$PWD/.build/dockerd"
    bash scripts/arm-standin.sh stop "$PWD/.build/arm-standin"
    bash scripts/gcp-servers.sh stop "$PWD/.build/gcp-servers"
    bash scripts/kube-apiserver.sh stop "$PWD/.build/kube-standin"
    if [ -n "${arm_selftest:-}" ]; then kill -- -"$arm_selftest" 2>/dev/null || true; fi
    if [ -n "${kube_selftest:-}" ]; then kill -- -"$kube_selftest" 2>/dev/null || true; fi
}
trap stop_servers EXIT
# What a run killed before its trap left behind.
bash scripts/arm-standin.sh stop "$PWD/.build/arm-standin"
bash scripts/gcp-servers.sh stop "$PWD/.build/gcp-servers"
bash scripts/dockerd.sh stop "$PWD/.build/dockerd"
bash scripts/kube-apiserver.sh stop "$PWD/.build/kube-standin"

# Servers that start in the background while the others start:
# - the ARM stand-in (Tests/Servers/azure: every request checked against Microsoft's published specs);
ARM_STANDIN_LRO_DELAY=0.2 bash scripts/arm-standin.sh start "$PWD/.build/arm-standin" >.build/arm-standin.out 2>&1 &
arm_start=$!
# - the local GCP servers (Tests/Servers/gcp/README.md);
bash scripts/gcp-servers.sh start "$PWD/.build/gcp-servers" >.build/gcp-servers.out 2>&1 &
gcp_servers=$!
# - production.yaml's AWS part for the gcp suite's run of the whole stack: a moto of its own, since the AWS suite resets
#   its moto while the suites run.
bash scripts/moto.sh start .build/moto-gcp.port .build/moto-gcp.pid &
gcp_moto=$!
# - the kube-apiserver stand-in (Tests/Servers/kubernetes: objects checked against Kubernetes' published schemas, kept
#   honest by the real kubectl), with its own CA and a kubeconfig in the folder.
bash scripts/kube-apiserver.sh start "$PWD/.build/kube-standin" >.build/kube-standin.out 2>&1 &
kube_start=$!
# The AWS provider's integration tests talk to moto's server on loopback; a second one checks signatures.
bash scripts/moto.sh start .build/moto.port .build/moto.pid
bash scripts/moto.sh start .build/moto-auth.port .build/moto-auth.pid INITIAL_NO_AUTH_ACTION_COUNT=3
export MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto.port)" MOTO_AUTH_ENDPOINT="http://127.0.0.1:$(cat .build/moto-auth.port)"
# The swarm provider's integration tests talk to a two-node Docker swarm (a manager, a worker in a network namespace).
DOCKER_TEST_HOST="$(bash scripts/dockerd.sh start "$PWD/.build/dockerd")"
export DOCKER_TEST_HOST
wait "$arm_start" || { cat .build/arm-standin.out; exit 1; }
export ARM_STANDIN_DIR="$PWD/.build/arm-standin"
wait "$gcp_servers" || { cat .build/gcp-servers.out; exit 1; }
wait "$gcp_moto"
wait "$kube_start" || { cat .build/kube-standin.out; exit 1; }
export KUBE_STANDIN_DIR="$PWD/.build/kube-standin"
export GCP_SERVERS_DIR="$PWD/.build/gcp-servers" GCP_MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto-gcp.port)"

# The ARM stand-in's own self-test (spec rejections, ARM semantics, the Azure SDK as a client; it starts its own server)
# runs beside the Swift tests, in a process group of its own so the trap can stop all of it.
setsid bash scripts/arm-standin.sh selftest >.build/arm-selftest.log 2>&1 </dev/null &
arm_selftest=$!
# Likewise the kube-apiserver stand-in's self-test: the real kubectl against a server of its own.
setsid bash scripts/kube-apiserver.sh selftest >.build/kube-selftest.log 2>&1 </dev/null &
kube_selftest=$!
swift test --skip-build
if ! wait "$arm_selftest"; then arm_selftest=""; echo "ARM stand-in self-test failed:" >&2; tail -40 .build/arm-selftest.log >&2; exit 1; fi
if ! wait "$kube_selftest"; then kube_selftest=""; echo "kube-apiserver stand-in self-test failed:" >&2; tail -40 .build/kube-selftest.log >&2; exit 1; fi
arm_selftest="" kube_selftest=""
