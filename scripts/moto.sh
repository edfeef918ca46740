#!/usr/bin/env bash
# Starts and stops moto's AWS server on loopback for the AWS integration tests.
#   scripts/moto.sh start PORTFILE PIDFILE [EXTRA_ENV=VALUE ...]   # free port → PORTFILE, PID → PIDFILE
#   scripts/moto.sh stop PIDFILE                                   # kills exactly that PID
set -euo pipefail

case "${1:-}" in
start)
    portfile=$2 pidfile=$3; shift 3
    if ! command -v moto_server >/dev/null; then
        python3 -m pip install --quiet 'moto[server]'
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    log=${pidfile%.pid}.log
    # Its own session, stdin closed: a caller waiting on this script must not wait on the server too.
    setsid env "$@" moto_server -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
            echo "$port" >"$portfile"
            echo "$pid" >"$pidfile"
            exit 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then echo "moto_server exited; see $log" >&2; exit 1; fi
        sleep 0.1
    done
    kill "$pid"; echo "moto_server did not answer on port $port within 10 s; see $log" >&2; exit 1
    ;;
stop)
    pidfile=$2
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    # moto_server has been seen to ignore SIGTERM here: make sure.
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    ;;
*)
    echo "usage: $0 start PORTFILE PIDFILE [ENV=VALUE ...] | stop PIDFILE" >&2; exit 2 ;;
esac
