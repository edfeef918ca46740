#!/usr/bin/env bash
# Provider round trips against the real local servers the tests use: how long apply, a no-op plan and destroy
# take, and what they cost (API calls, ssh connections per host).
#
#   bench/providers/run.sh [aws] [onprem] [swarm]     # default: all three
#
# aws: stacks/production.yaml and stacks/multi-region.yaml (--target aws) against moto (scripts/moto.sh).
# onprem: the on-prem part of stacks/hybrid.yaml against four sshd hosts (scripts/sshd-hosts.sh), through an
#   overlay that only says how to reach them; connections counted from each sshd's log.
# swarm: stacks/swarm.yaml (--target swarm) against the two-node swarm of scripts/dockerd.sh.
# MAIFCTL=path times a binary you built (default: a release build in .build-release).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(aws onprem swarm)
source "$root/bench/lib.sh"
bench_maifctl "$root"
MAIFCTL="$maifctl"
work="$(mktemp -d /tmp/maif-bench-providers.XXXXXX)"
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c" || true; done; rm -rf "$work"' EXIT

# run LABEL maifctl-args…: one timed run; prints a table row with the last summary line.
row() {
    local label=$1; shift
    local start end status=0
    start=$(date +%s.%N)
    "$MAIFCTL" "$@" --no-color >"$work/out" 2>&1 || status=$?
    end=$(date +%s.%N)
    local summary calls
    summary=$(grep -E "^(Apply|Destroy) complete|^No changes|^Plan:" "$work/out" | tail -1 || true)
    calls=$(grep -E "^Provider calls" "$work/out" | sed 's/^Provider calls (plan and apply): //' || true)
    printf "| %s | %.2f | %s | %s | %s |\n" "$label" "$(echo "$end - $start" | bc)" "$status" "${calls:--}" "$summary"
}

header() { echo; echo "### $1"; echo; echo "| run | wall s | exit | provider calls | summary |"; echo "|---|--:|--:|---|---|"; }

for provider in "${which[@]}"; do
case "$provider" in
aws)
    bash scripts/moto.sh start "$work/moto.port" "$work/moto.pid"
    cleanup+=("bash scripts/moto.sh stop '$work/moto.pid'")
    export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$work/moto.port")" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    # The stacks name their on-call webhook by reference; on loopback (moto posts only when a message is published).
    export MAIF_ONCALL_WEBHOOK=https://127.0.0.1:9/maif-oncall
    for stack in production multi-region; do
        header "aws: stacks/$stack.yaml → moto"
        sed 's/prevent_destroy: true/prevent_destroy: false/' "stacks/$stack.yaml" >"$work/$stack.yaml"
        args=("$work/$stack.yaml" --target aws --state "$work/state-$stack")
        (cd "$work" && HOME="$work" row "apply" apply "${args[@]}" --auto-approve)
        (cd "$work" && HOME="$work" row "plan (no-op)" plan "${args[@]}" --detailed-exitcode)
        (cd "$work" && HOME="$work" row "destroy" destroy "${args[@]}" --auto-approve)
    done
    ;;
onprem)
    PORT=2224 bash scripts/sshd-hosts.sh start 4 "$work/lab" >/dev/null
    cleanup+=("bash scripts/sshd-hosts.sh stop '$work/lab'")
    mapfile -t hosts <"$work/lab/hosts"
    stack_hosts=(10.0.1.10 10.0.1.11 10.0.1.12 10.0.1.20)
    : >"$work/lab/ssh_config"
    for i in 0 1 2 3; do printf 'Host %s\n  HostName %s\n' "${stack_hosts[$i]}" "${hosts[$i]}" >>"$work/lab/ssh_config"; done
    cat >"$work/lab.yaml" <<YAML
clouds:
  onprem:
    port: 2224
    key: {file: $work/lab/id_ed25519}
    known_hosts: $work/lab/known_hosts
    ssh_config: $work/lab/ssh_config
    root: $work/lab/fs/{host}
YAML
    header "onprem: the on-prem part of stacks/hybrid.yaml → 4 sshd hosts"
    args=("$root/stacks/hybrid.yaml" "$work/lab.yaml" --var ssh_user=root --target onprem --state "$work/state-onprem")
    count() { for h in "${hosts[@]}"; do grep -c "Accepted publickey" "$work/lab/sshd-$h.log" || true; done | paste -sd' '; }
    before=$(count)
    row "apply" apply "${args[@]}" --auto-approve
    echo "ssh connections per host during apply: before [$before] after [$(count)]"
    row "plan (no-op)" plan "${args[@]}" --detailed-exitcode
    row "destroy" destroy "${args[@]}" --auto-approve
    ;;
swarm)
    bash scripts/dockerd.sh stop "$work/dockerd" >/dev/null 2>&1 || true
    host=$(bash scripts/dockerd.sh start "$work/dockerd")
    cleanup+=("bash scripts/dockerd.sh stop '$work/dockerd'")
    header "swarm: stacks/swarm.yaml → a two-node swarm"
    args=("$root/stacks/swarm.yaml" --target swarm --state "$work/state-swarm")
    export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret
    (cd "$work" && DOCKER_HOST="$host" row "apply" apply "${args[@]}" --auto-approve)
    (cd "$work" && DOCKER_HOST="$host" row "plan (no-op)" plan "${args[@]}" --detailed-exitcode)
    (cd "$work" && DOCKER_HOST="$host" row "destroy" destroy "${args[@]}" --auto-approve)
    ;;
*) echo "unknown provider '$provider' (aws, onprem, swarm)" >&2; exit 2 ;;
esac
done
