#!/usr/bin/env bash
# Provider round trips against the real local servers the tests use: how long apply, a no-op plan and destroy
# take, and what they cost (API calls, ssh connections per host).
#
#   bench/providers/run.sh [aws] [onprem] [swarm] [azure] [gcp] [kubernetes]     # default: all six
#
# aws: stacks/production.yaml and stacks/multi-region.yaml (--target aws) against moto (scripts/moto.sh).
# onprem: the on-prem part of stacks/hybrid.yaml against four sshd hosts (scripts/sshd-hosts.sh), through an
#   overlay that only says how to reach them; connections counted from each sshd's log.
# swarm: stacks/swarm.yaml (--target swarm) against the two-node swarm of scripts/dockerd.sh.
# azure: the azure part of stacks/multi-cloud.yaml (--target azure) against the ARM stand-in (scripts/arm-standin.sh,
#   operations 0.5 s InProgress, Retry-After 1 s); requests counted by the stand-in as well as by maifctl.
# gcp: the gcp part of stacks/multi-cloud.yaml (--target gcp) against the local GCP servers (scripts/gcp-servers.sh);
#   API calls as the provider counts them and as the validating front counts them, per discovery method.
# kubernetes: stacks/kubernetes.yaml (--target k8s) and a generated stack of 500 ConfigMaps against the
#   kube-apiserver stand-in (scripts/kube-apiserver.sh); API calls counted by the stand-in's request counter.
# MAIFCTL=path times a binary you built (default: a release build in .build-release).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(aws onprem swarm azure gcp kubernetes)
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

# Like row, with maifctl's CPU time (user + system, GNU time) beside the wall time: on a loaded machine the wall
# time is mostly waiting for a core.
krow() {
    local label=$1; shift
    local status=0
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$MAIFCTL" "$@" --no-color >"$work/out" 2>&1 || status=$?
    local wall user sys summary calls
    read -r wall user sys < <(tail -1 "$work/time")
    summary=$(grep -E "^(Apply|Destroy) complete|^No changes|^Plan:" "$work/out" | tail -1 || true)
    calls=$(grep -E "^Provider calls" "$work/out" | sed 's/^Provider calls (plan and apply): //' || true)
    printf "| %s | %.2f | %.2f | %s | %s | %s |\n" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$status" "${calls:--}" "$summary"
}
kheader() { echo; echo "### $1"; echo; echo "| run | wall s | CPU s | exit | provider calls | summary |"; echo "|---|--:|--:|--:|---|---|"; }

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
azure)
    bash scripts/arm-standin.sh start "$work/arm" >/dev/null
    cleanup+=("bash scripts/arm-standin.sh stop '$work/arm'")
    base="https://127.0.0.1:$(cat "$work/arm/port")"
    cat >"$work/arm.yaml" <<YAML
clouds:
  azure:
    client_id: 11111111-1111-1111-1111-111111111111
    endpoint: $base
    authority_host: $base
    ca_file: $work/arm/ca.pem
    admin_ssh_public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0c3RhbmRpbnRlc3RrZXlmb3JtYWlmY3Rs bench
    operations_dir: $work/azure-operations
YAML
    header "azure: the azure part of stacks/multi-cloud.yaml → the ARM stand-in"
    args=("$root/stacks/multi-cloud.yaml" "$work/arm.yaml" --target azure --state "$work/state-azure")
    seen() { curl -fsS "http://127.0.0.1:$(cat "$work/arm/http-port")/_standin/requests" \
        | python3 -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(c["total"], "requests:", ", ".join(f"{k} {v}" for k,v in sorted(c["by_method"].items())))'
        curl -fsS -X DELETE "http://127.0.0.1:$(cat "$work/arm/http-port")/_standin/requests" >/dev/null; }
    export AZURE_CLIENT_SECRET="$(cat "$work/arm/client-secret")"
    (cd "$work" && HOME="$work" row "apply" apply "${args[@]}" --auto-approve); echo "stand-in saw: $(seen)"
    (cd "$work" && HOME="$work" row "plan (no-op)" plan "${args[@]}" --detailed-exitcode); echo "stand-in saw: $(seen)"
    (cd "$work" && HOME="$work" row "destroy" destroy "${args[@]}" --auto-approve); echo "stand-in saw: $(seen)"
    unset AZURE_CLIENT_SECRET
    ;;
gcp)
    bash scripts/gcp-servers.sh start "$work/gcp" >/dev/null
    cleanup+=("bash scripts/gcp-servers.sh stop '$work/gcp'")
    front=$(sed -n 's/.*"front": "\(.*\)".*/\1/p' "$work/gcp/servers.json")
    # Operations take as long as on the tests' servers (30 ms pending, 70 ms running).
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"opPendingSeconds": 0.03, "opRunningSeconds": 0.07}' "$front/_standin/config"
    header "gcp: the gcp part of stacks/multi-cloud.yaml → the local GCP servers"
    args=("$root/stacks/multi-cloud.yaml" --target gcp --state "$work/state-gcp")
    export MAIFCTL_GCP_ENDPOINT="$front" GOOGLE_APPLICATION_CREDENTIALS="$work/gcp/sa-key.json"
    export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AZURE_CLIENT_SECRET=bench
    front_calls() { curl -fsS "$front/_front/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
    for verb in apply plan destroy; do
        curl -fsS -o /dev/null -X POST "$front/_front/reset"
        case $verb in
        apply) (cd "$work" && HOME="$work" row "apply" apply "${args[@]}" --auto-approve) ;;
        plan) (cd "$work" && HOME="$work" row "plan (no-op)" plan "${args[@]}" --detailed-exitcode) ;;
        destroy) (cd "$work" && HOME="$work" row "destroy" destroy "${args[@]}" --auto-approve) ;;
        esac
        echo "front: $(front_calls) API calls; by method: $(curl -fsS "$front/_front/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin)["byMethod"]; print(", ".join(k.partition(chr(46))[2] + " " + str(v) for k,v in sorted(d.items())))')"
    done
    ;;
kubernetes)
    bash scripts/kube-apiserver.sh start "$work/kube" >/dev/null
    cleanup+=("bash scripts/kube-apiserver.sh stop '$work/kube'")
    kube() { KUBECONFIG="$work/kube/kubeconfig" HOME="$work" KUBECACHEDIR="$work/kube-cache" "$root/.venv-kube/bin/kubectl" "$@"; }
    # What the stand-in counted since the last clear (its own /_standin endpoints are not counted).
    counted() {
        kube get --raw /_standin/requests | python3 -c 'import json, sys
d = json.load(sys.stdin)
p = d["byPath"]
print("stand-in counted %d requests (%s); discovery: GET /api %d, GET /apis %d" % (d["total"],
      ", ".join("%s %d" % kv for kv in sorted(d["byVerb"].items())), p.get("GET /api", 0), p.get("GET /apis", 0)))'
        kube delete --raw /_standin/requests >/dev/null
    }
    # No StatefulSet controller runs in the stand-in: the bench does not wait for the rollout (the tests play it).
    printf 'clouds:\n  kubernetes:\n    kubeconfig: %s\n    context: admin\n    wait: false\n' "$work/kube/kubeconfig" >"$work/kube.yaml"
    export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret
    bench_need_gnu_time
    kheader "kubernetes: stacks/kubernetes.yaml → the kube-apiserver stand-in"
    args=("$root/stacks/kubernetes.yaml" "$work/kube.yaml" --var namespace=bench --target k8s --state "$work/state-k8s")
    kube delete --raw /_standin/requests >/dev/null
    for step in "apply|apply --auto-approve" "plan (no-op)|plan --detailed-exitcode" "destroy|destroy --auto-approve"; do
        read -r -a verb <<<"${step#*|}"
        (cd "$work" && HOME="$work" krow "${step%%|*}" "${verb[@]}" "${args[@]}")
        counted
    done
    n=${K8S_BENCH_CONFIGMAPS:-500}
    python3 - "$n" >"$work/configmaps.yaml" <<'PY'
import sys
n = int(sys.argv[1])
print("stack: {name: configmaps}\nresources:\n  - type: k8s.namespace\n    name: ns\n    properties:\n"
      "      manifest: {apiVersion: v1, kind: Namespace, metadata: {name: bench-configmaps}}")
for i in range(n):
    print("  - type: k8s.config_map\n    name: cm-%d\n    properties:\n      manifest:\n        apiVersion: v1\n"
          "        kind: ConfigMap\n        metadata: {name: cm-%d, namespace: \"${k8s.namespace.ns.name}\"}\n"
          "        data: {index: \"%d\", text: \"%s\"}" % (i, i, i, "x" * 200))
PY
    kheader "kubernetes: $n ConfigMaps → the kube-apiserver stand-in"
    args=("$work/configmaps.yaml" "$work/kube.yaml" --state "$work/state-cm")
    for step in "apply|apply --auto-approve" "plan (no-op)|plan --detailed-exitcode" "destroy|destroy --auto-approve" \
                "apply, --parallelism 1|apply --auto-approve --parallelism 1" "plan (no-op), --parallelism 1|plan --detailed-exitcode --parallelism 1"; do
        read -r -a verb <<<"${step#*|}"
        (cd "$work" && HOME="$work" krow "${step%%|*}" "${verb[@]}" "${args[@]}")
        counted
    done
    # The server's own pace: the same $n GETs the no-op plan makes, by curl over one kept-alive connection.
    port=$(cat "$work/kube/port")
    urls=()
    for i in $(seq 0 $((n - 1))); do urls+=("https://127.0.0.1:$port/api/v1/namespaces/bench-configmaps/configmaps/cm-$i"); done
    start=$(date +%s.%N)
    curl -s --cacert "$work/kube/ca.crt" --cert "$work/kube/admin.crt" --key "$work/kube/admin.key" "${urls[@]}" >/dev/null
    printf "| curl: the same %d GETs, one connection, one after another | %.2f | | | | |\n" "$n" "$(echo "$(date +%s.%N) - $start" | bc)"
    kube delete --raw /_standin/requests >/dev/null
    (cd "$work" && HOME="$work" krow "destroy" destroy --auto-approve "${args[@]}")
    counted
    ;;
*) echo "unknown provider '$provider' (aws, onprem, swarm, azure, gcp, kubernetes)" >&2; exit 2 ;;
esac
done
