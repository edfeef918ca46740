#!/usr/bin/env bash
# The README's second command: install what is missing, build once, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Real validators for generated manifests: kubernetes-validate (PyPI, in .venv-tools) and the docker CLI.
bash scripts/validate-manifests.sh --install
swift build --build-tests
swift test --skip-build --disable-swift-testing
