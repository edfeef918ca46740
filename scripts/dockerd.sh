#!/usr/bin/env bash
# A Docker Engine swarm for the swarm provider's integration tests, entirely inside DIR: a manager daemon with its
# own data root, exec root, pidfile and unix socket, plus (WORKERS=1, the default) a worker daemon in a network
# namespace of its own joined to the host by a veth pair, so that services placed on `node.role == worker` run too.
# The image the stack names is built locally with `docker import` on every node.
#
#   scripts/dockerd.sh start DIR   # prints the manager's DOCKER_HOST (unix://DIR/docker.sock) once everything is ready;
#                                  # the manager also listens on tcp://127.0.0.1:TLS_PORT (default 23760) with TLS,
#                                  # client certificates in DIR/tls/client (ca.pem, cert.pem, key.pem), as the docker CLI wants
#   scripts/dockerd.sh stop DIR    # leaves the swarm, stops each daemon by the PID it recorded, removes the namespaces,
#                                  # the veth pairs and docker_gwbridge, and deletes DIR
#
# WORKERS=0 gives a one-node swarm on 127.0.0.1 (as TESTING.md describes); worker tasks then stay pending.
# IMAGE (default maif/maif-enterprise:latest) names the image to build. SUBNET (default 10.231.7) is the /24 of the
# veth link; the manager advertises SUBNET.1. Logs: DIR/dockerd.log, DIR/worker-1/dockerd.log.
#
# One test swarm per machine (swarm's ports and the namespace names are fixed): a second `start` from another
# checkout waits, up to LOCK_WAIT seconds (default 1800), for the first one's `stop`. The lock is LOCK_FILE
# (default /tmp/maif-test-swarm.lock), holding the DIR of its owner; a lock whose DIR is gone is stale.
set -euo pipefail

image="${IMAGE:-maif/maif-enterprise:latest}"
workers="${WORKERS:-1}"
subnet="${SUBNET:-10.231.7}"
tls_port="${TLS_PORT:-23760}"
lock_file="${LOCK_FILE:-/tmp/maif-test-swarm.lock}"
lock_wait="${LOCK_WAIT:-1800}"

die() { echo "dockerd.sh: $*" >&2; exit 1; }

install_missing() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v busybox >/dev/null || missing+=(busybox-static)
    if (( ${#missing[@]} > 0 )); then
        echo "dockerd.sh: installing ${missing[*]} (apt)" >&2
        local sudo=""; [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
        $sudo apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
            || die "cannot install ${missing[*]}"
    fi
    command -v docker >/dev/null || die "no docker CLI on PATH (apt-get install -y docker.io)"
    command -v nsenter >/dev/null || die "nsenter not found (apt-get install -y util-linux)"
}

# A CA, a server certificate for 127.0.0.1 and a client certificate, in DIR/tls (short-lived, test only).
make_certificates() {
    local tls="$dir/tls"
    mkdir -p "$tls/client"
    command -v openssl >/dev/null || die "openssl not found (apt-get install -y openssl)"
    local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${key[@]}" -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" -days 2 -subj /CN=maif-test-ca 2>/dev/null
    openssl req "${key[@]}" -keyout "$tls/server-key.pem" -out "$tls/server.csr" -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial -days 2 \
        -extfile "$tls/server.ext" -out "$tls/server-cert.pem" 2>/dev/null
    openssl req "${key[@]}" -keyout "$tls/client/key.pem" -out "$tls/client.csr" -subj /CN=maif-test-client 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >"$tls/client.ext"
    openssl x509 -req -in "$tls/client.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial -days 2 \
        -extfile "$tls/client.ext" -out "$tls/client/cert.pem" 2>/dev/null
    cp "$tls/ca.pem" "$tls/client/ca.pem"
    echo "$tls_port" >"$tls/port"
}

# Starts one dockerd whose files all live in $1 (the socket is $1/docker.sock); the rest are a command prefix
# (nsenter into a network namespace) and, after `--`, extra dockerd flags. The daemon gets its own session and no
# stdin, so whoever waits on this script does not wait on the daemon.
start_daemon() {
    local home="$1"; shift
    local prefix=() extra=()
    while (( $# > 0 )) && [[ "$1" != "--" ]]; do prefix+=("$1"); shift; done
    (( $# > 0 )) && shift
    extra=("$@")
    mkdir -p "$home/data" "$home/exec"
    setsid "${prefix[@]}" dockerd \
        --data-root "$home/data" --exec-root "$home/exec" --pidfile "$home/dockerd.pid" \
        -H "unix://$home/docker.sock" "${extra[@]}" \
        --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
        --log-level=warn </dev/null >"$home/dockerd.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$home/dockerd.launcher.pid"
    for _ in $(seq 1 300); do
        if curl -fsS --max-time 2 --unix-socket "$home/docker.sock" http://localhost/_ping >/dev/null 2>&1; then return; fi
        kill -0 "$pid" 2>/dev/null || { tail -5 "$home/dockerd.log" >&2; die "dockerd exited; see $home/dockerd.log"; }
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    die "dockerd did not answer on $home/docker.sock within 30 s; see $home/dockerd.log"
}

# A rootfs of one static busybox whose entrypoint ignores the service's arguments and idles until stopped:
# swarm's Args replace CMD, so the entrypoint is what keeps the task running. It exits at once on SIGTERM,
# so rolling updates and removals do not wait out the stop grace period.
build_image() {
    local socket="$1" rootfs="$dir/rootfs"
    if docker -H "unix://$socket" image inspect "$image" >/dev/null 2>&1; then return; fi
    if [[ ! -f "$dir/rootfs.tar" ]]; then
        local busybox
        busybox="$(command -v busybox)"
        if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
            die "$busybox is not statically linked (apt-get install -y busybox-static)"
        fi
        rm -rf "$rootfs"
        mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/data" "$rootfs/config" "$rootfs/run/secrets"
        cp "$busybox" "$rootfs/bin/busybox"
        ln -s busybox "$rootfs/bin/sh"
        ln -s busybox "$rootfs/bin/sleep"
        ln -s busybox "$rootfs/bin/cat"
        tar -C "$rootfs" -cf "$dir/rootfs.tar" .
        rm -rf "$rootfs"
    fi
    docker -H "unix://$socket" import \
        --change 'ENTRYPOINT ["/bin/sh", "-c", "echo maif stand-in: \"$0 $*\"; trap \"exit 0\" TERM INT; while :; do sleep 1 & wait $!; done"]' \
        --change 'CMD ["maif"]' \
        "$dir/rootfs.tar" "$image" >/dev/null
}

# Takes the machine's test-swarm lock for $dir, waiting while another live checkout holds it.
take_lock() {
    local waited=0 owner
    while ! ( set -o noclobber; echo "$dir" >"$lock_file" ) 2>/dev/null; do
        owner="$(cat "$lock_file" 2>/dev/null || true)"
        if [[ "$owner" == "$dir" ]]; then return; fi
        if [[ -z "$owner" || ! -d "$owner" ]]; then rm -f "$lock_file"; continue; fi
        (( waited % 60 == 0 )) && echo "dockerd.sh: waiting for the test swarm of $owner to stop ($lock_file)" >&2
        (( waited < lock_wait )) || die "the test swarm of $owner is still running after $lock_wait s; stop it with: $0 stop $owner"
        sleep 5
        waited=$((waited + 5))
    done
}

release_lock() {
    if [[ "$(cat "$lock_file" 2>/dev/null || true)" == "$dir" ]]; then rm -f "$lock_file"; fi
}

start() {
    dir="$1"
    install_missing
    [[ "$workers" =~ ^[01]$ ]] || die "WORKERS must be 0 or 1, got '$workers'"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    # A unix socket path may not exceed 107 bytes.
    (( ${#dir} < 80 )) || die "DIR is too long for a unix socket path: $dir"
    take_lock
    if [[ -f "$dir/dockerd.launcher.pid" ]] && kill -0 "$(cat "$dir/dockerd.launcher.pid")" 2>/dev/null; then
        die "a dockerd from $dir is already running; run: $0 stop $dir"
    fi
    local advertise=127.0.0.1 i
    if (( workers > 0 )); then
        # A veth pair: host side SUBNET.1 (where the manager listens), worker side SUBNET.2.
        advertise="$subnet.1"
        for (( i = 1; i <= workers; i++ )); do
            # Holding the lock, whatever has these names was left by a run that died before its stop.
            ip netns delete "maif-swarm-w$i" 2>/dev/null || true
            ip link delete "maifsw${i}h" 2>/dev/null || true
            ip netns add "maif-swarm-w$i" || die "cannot create network namespace maif-swarm-w$i (left by an earlier run? $0 stop DIR)"
            echo "maif-swarm-w$i" >>"$dir/netns"
            ip link add "maifsw${i}h" type veth peer name "maifsw${i}w"
            echo "maifsw${i}h" >>"$dir/links"
            ip link set "maifsw${i}w" netns "maif-swarm-w$i"
            ip addr add "$subnet.1/24" dev "maifsw${i}h"
            ip link set "maifsw${i}h" up
            ip -n "maif-swarm-w$i" addr add "$subnet.$((i + 1))/24" dev "maifsw${i}w"
            ip -n "maif-swarm-w$i" link set "maifsw${i}w" up
            ip -n "maif-swarm-w$i" link set lo up
        done
    fi
    make_certificates
    start_daemon "$dir" -- -H "tcp://127.0.0.1:$tls_port" --tlsverify \
        --tlscacert "$dir/tls/ca.pem" --tlscert "$dir/tls/server-cert.pem" --tlskey "$dir/tls/server-key.pem"
    local manager=(docker -H "unix://$dir/docker.sock")
    if [[ "$("${manager[@]}" info --format '{{.Swarm.LocalNodeState}}')" != "active" ]]; then
        "${manager[@]}" swarm init --advertise-addr "$advertise" --listen-addr "$advertise:2377" >/dev/null \
            || die "docker swarm init failed; see $dir/dockerd.log"
    fi
    build_image "$dir/docker.sock"
    local token
    token="$("${manager[@]}" swarm join-token -q worker)"
    for (( i = 1; i <= workers; i++ )); do
        local home="$dir/worker-$i" addr="$subnet.$((i + 1))"
        # nsenter enters only the network namespace: `ip netns exec` would remount /sys without the cgroups dockerd needs.
        start_daemon "$home" nsenter "--net=/var/run/netns/maif-swarm-w$i"
        docker -H "unix://$home/docker.sock" swarm join --token "$token" --advertise-addr "$addr" \
            --listen-addr "$addr:2377" "$advertise:2377" >/dev/null || die "worker $i could not join; see $home/dockerd.log"
        build_image "$home/docker.sock"
    done
    rm -f "$dir/rootfs.tar"
    # Ready when every node is: a service created now must find its nodes.
    local ready=0
    for _ in $(seq 1 100); do
        ready="$("${manager[@]}" node ls --format '{{.Status}}' | grep -c '^Ready$' || true)"
        (( ready == workers + 1 )) && break
        sleep 0.1
    done
    (( ready == workers + 1 )) || die "only $ready of $((workers + 1)) swarm nodes are ready"
    echo "unix://$dir/docker.sock"
}

# Stops the daemon whose files are in $1, by the PID it recorded.
stop_daemon() {
    local home="$1" pid=""
    [[ -f "$home/dockerd.pid" ]] && pid="$(cat "$home/dockerd.pid")"
    [[ -z "$pid" && -f "$home/dockerd.launcher.pid" ]] && pid="$(cat "$home/dockerd.launcher.pid")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    timeout 20 docker -H "unix://$home/docker.sock" swarm leave --force >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "dockerd.sh: dockerd (PID $pid) ignored SIGTERM for 15 s; killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    # The containerd this dockerd started for itself, should it outlive its parent.
    if [[ -f "$home/exec/containerd/containerd.pid" ]]; then
        local cpid
        cpid="$(cat "$home/exec/containerd/containerd.pid")"
        kill "$cpid" 2>/dev/null || true
    fi
}

stop() {
    dir="$1"
    [[ -d "$dir" ]] || exit 0
    dir="$(cd "$dir" && pwd)"
    # Services first, so no task is running when the daemons go.
    if curl -fsS --max-time 2 --unix-socket "$dir/docker.sock" http://localhost/_ping >/dev/null 2>&1; then
        local services
        services="$(docker -H "unix://$dir/docker.sock" service ls -q 2>/dev/null || true)"
        if [[ -n "$services" ]]; then
            # shellcheck disable=SC2086
            docker -H "unix://$dir/docker.sock" service rm $services >/dev/null 2>&1 || true
        fi
    fi
    local home
    for home in "$dir"/worker-*; do [[ -d "$home" ]] && stop_daemon "$home"; done
    stop_daemon "$dir"
    if [[ -f "$dir/netns" ]]; then
        while read -r ns; do ip netns delete "$ns" 2>/dev/null || true; done <"$dir/netns"
    fi
    if [[ -f "$dir/links" ]]; then
        while read -r link; do ip link delete "$link" 2>/dev/null || true; done <"$dir/links"
    fi
    # Swarm's gateway bridge outlives the daemon that made it.
    ip link delete docker_gwbridge 2>/dev/null || true
    # Mounts a daemon left under DIR (netns files, layers) would make the removal fail.
    { grep -F " $dir/" /proc/self/mounts || true; } | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
    release_lock
}

case "${1:-}" in
start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; start "$2" ;;
stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
*) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
