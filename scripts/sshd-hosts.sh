#!/usr/bin/env bash
# Test hosts for the onprem provider: N OpenSSH servers, one per loopback address (127.0.0.2, .3, …), each with
# its own sshd_config, sharing one host key and one client key made in DIR.
#
#   scripts/sshd-hosts.sh start N DIR   # writes DIR/id_ed25519 (client key), DIR/known_hosts, DIR/hosts (addr per line)
#   scripts/sshd-hosts.sh stop DIR      # stops the servers by the PIDs it recorded, nothing else
#   scripts/sshd-hosts.sh stop-one DIR ADDR
#
# PORT (default 2222) picks the port. Logs go to DIR/sshd-ADDR.log.
set -euo pipefail

port="${PORT:-2222}"

die() { echo "sshd-hosts: $*" >&2; exit 1; }

start() {
    local count="$1" dir="$2"
    [[ "$count" =~ ^[0-9]+$ ]] && (( count >= 1 && count <= 250 )) || die "N must be a number from 1 to 250, got '$count'"
    if [[ ! -x /usr/sbin/sshd ]]; then
        echo "sshd-hosts: installing openssh-server" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y openssh-server >&2 || die "cannot install openssh-server"
    fi
    command -v ssh-keygen >/dev/null || die "ssh-keygen not found (apt-get install -y openssh-client)"
    mkdir -p "$dir" /run/sshd
    # The stacks give MAIF's files to group maif, which the MAIF package creates on a real host.
    getent group maif >/dev/null || groupadd --system maif
    dir="$(cd "$dir" && pwd)"
    [[ -f "$dir/host_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C maif-test-host -f "$dir/host_ed25519"
    [[ -f "$dir/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C maif-test-client -f "$dir/id_ed25519"
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    chmod 600 "$dir/id_ed25519" "$dir/host_ed25519" "$dir/authorized_keys"
    : > "$dir/known_hosts"
    : > "$dir/hosts"
    local i addr
    for (( i = 2; i < count + 2; i++ )); do
        addr="127.0.0.$i"
        cat > "$dir/sshd-$addr.conf" <<EOF
Port $port
ListenAddress $addr
HostKey $dir/host_ed25519
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd-$addr.pid
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
EOF
        # -D keeps sshd in the foreground so $! is its PID; -e sends its log to stderr (the log file).
        /usr/sbin/sshd -D -e -f "$dir/sshd-$addr.conf" 2> "$dir/sshd-$addr.log" &
        echo $! > "$dir/sshd-$addr.pid"
        echo "[$addr]:$port $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >> "$dir/known_hosts"
        echo "$addr" >> "$dir/hosts"
    done
    # Ready when every server accepts a connection (sshd starts in ~0.2 s).
    for addr in $(cat "$dir/hosts"); do
        local ok=""
        for _ in $(seq 1 50); do
            if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then ok=1; break; fi
            sleep 0.1
        done
        [[ -n "$ok" ]] || die "sshd on $addr:$port did not start; its log: $(cat "$dir/sshd-$addr.log")"
    done
    echo "sshd-hosts: $count hosts on port $port: $(tr '\n' ' ' < "$dir/hosts")" >&2
}

stop_pidfile() {
    local pidfile="$1" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    # Only a process that is still the sshd we started (its command line names our config).
    if [[ -n "$pid" ]] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "sshd.*-f $(dirname "$pidfile")/"; then
        # Its per-connection children too (found by our PID), so a stopped host drops open connections like a dead one.
        pkill -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
}

stop() {
    local dir="$1" f
    [[ -d "$dir" ]] || return 0
    for f in "$dir"/sshd-*.pid; do [[ -e "$f" ]] && stop_pidfile "$f"; done
    return 0
}

case "${1:-}" in
    start) [[ $# -eq 3 ]] || die "usage: $0 start N DIR"; start "$2" "$3" ;;
    stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
    stop-one) [[ $# -eq 3 ]] || die "usage: $0 stop-one DIR ADDR"; stop_pidfile "$(cd "$2" && pwd)/sshd-$3.pid" ;;
    *) die "usage: $0 start N DIR | stop DIR | stop-one DIR ADDR" ;;
esac
