#!/usr/bin/env bash
# The README's second command: install what is missing, build once, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Real validators for generated manifests: kubernetes-validate (PyPI, in .venv-tools) and the docker CLI.
bash scripts/validate-manifests.sh --install
swift build --build-tests
# The AWS provider's integration tests talk to moto's server on loopback; a second one checks signatures.
bash scripts/moto.sh start .build/moto.port .build/moto.pid
bash scripts/moto.sh start .build/moto-auth.port .build/moto-auth.pid INITIAL_NO_AUTH_ACTION_COUNT=3
trap 'bash scripts/moto.sh stop .build/moto.pid; bash scripts/moto.sh stop .build/moto-auth.pid' EXIT
export MOTO_ENDPOINT="http://127.0.0.1:$(cat .build/moto.port)" MOTO_AUTH_ENDPOINT="http://127.0.0.1:$(cat .build/moto-auth.port)"
swift test --skip-build
