#!/usr/bin/env bash
# Installs what maifctl needs to build and test on a fresh Debian machine (idempotent, quiet when all is there).
set -euo pipefail

need_apt=()
pkg-config --exists libgit2 2>/dev/null || need_apt+=(libgit2-dev pkg-config)
command -v git >/dev/null || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (apt)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: swift is at /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "setup: a Swift 6 toolchain is required (https://swift.org/install)" >&2
  fi
  exit 1
fi

# State commits need an author; give git one if this machine has none.
git config --global user.email >/dev/null 2>&1 || git config --global user.email "maifctl@localhost"
git config --global user.name >/dev/null 2>&1 || git config --global user.name "maifctl"
