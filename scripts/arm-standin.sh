#!/usr/bin/env bash
# The Azure Resource Manager stand-in (Tests/Servers/azure): a test server that checks every request
# against Microsoft's published Swagger specs. It is not Azure; see Tests/Servers/azure/README.md.
#   scripts/arm-standin.sh install     # .venv-azure with what the server and its self-tests need (idempotent)
#   scripts/arm-standin.sh start DIR   # certificates, config, server on 127.0.0.1; prints the URLs
#   scripts/arm-standin.sh stop DIR    # kills exactly the PID in DIR/pid
#   scripts/arm-standin.sh selftest    # pytest Tests/Servers/azure/test_armserver.py (starts its own server)
# DIR keeps pid, port (HTTPS), http-port, config.json, ca.pem (trust this for HTTPS), client.pem (key +
# certificate of the registered client), client-secret, azure.env (AZURE_* for a client; holds the
# secret, mode 600), server.log. Settings for start (environment): ARM_STANDIN_LRO_DELAY (seconds a
# long-running operation stays InProgress, default 0.5), ARM_STANDIN_RETRY_AFTER (seconds, default 1),
# ARM_STANDIN_TOKEN_LIFETIME (default 3599), ARM_STANDIN_TENANT / ARM_STANDIN_SUBSCRIPTION (default
# 00000000-0000-0000-0000-000000000000, the placeholders in stacks/multi-cloud.yaml).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-azure"
SERVER_DIR="$ROOT/Tests/Servers/azure"
PY="$VENV/bin/python"

have_server_deps() { [ -x "$PY" ] && "$PY" -c 'import cryptography' 2>/dev/null; }
have_test_deps() { have_server_deps && "$PY" -c 'import pytest' 2>/dev/null; }
have_sdk() { [ -x "$PY" ] && "$PY" -c 'import azure.identity, azure.mgmt.resource, azure.mgmt.network' 2>/dev/null; }

pip_install() {
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"
}

install_server() {
    if ! have_server_deps; then
        echo "arm-standin: installing cryptography into $VENV (PyPI)" >&2
        [ -x "$PY" ] || python3 -m venv "$VENV"
        pip_install cryptography
    fi
}

install_all() {
    install_server
    if ! have_test_deps; then
        echo "arm-standin: installing pytest into $VENV (PyPI)" >&2
        pip_install pytest
    fi
    # The official Azure SDK is a real, unmodified client for the self-tests. Without it those tests
    # say so and fail; nothing else depends on it.
    if ! have_sdk; then
        echo "arm-standin: installing azure-identity azure-mgmt-resource azure-mgmt-network into $VENV (PyPI)" >&2
        pip_install azure-identity azure-mgmt-resource azure-mgmt-network || \
            echo "arm-standin: the Azure SDK packages did not install; the SDK self-tests will fail and say so" >&2
    fi
}

make_certs() {
    local dir=$1
    [ -f "$dir/tls-cert.pem" ] && [ -f "$dir/client.pem" ] && return 0
    local log="$dir/openssl.log"
    : >"$log"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" -days 3650 \
        -subj "/CN=arm-standin test CA (not Microsoft)" >>"$log" 2>&1
    openssl req -newkey rsa:2048 -nodes -keyout "$dir/tls-key.pem" -out "$dir/tls.csr" \
        -subj "/CN=127.0.0.1" >>"$log" 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$dir/tls.ext"
    openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
        -out "$dir/tls-cert.pem" -days 3650 -extfile "$dir/tls.ext" >>"$log" 2>&1
    # The registered client's certificate (what AZURE_CLIENT_CERTIFICATE_PATH names): key + cert in one PEM.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/client-key.pem" -out "$dir/client-cert.pem" \
        -days 3650 -subj "/CN=maifctl test service principal" >>"$log" 2>&1
    cat "$dir/client-key.pem" "$dir/client-cert.pem" >"$dir/client.pem"
    # A second key the server does not know, for tests of a bad signature.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/other-key.pem" -out "$dir/other-cert.pem" \
        -days 3650 -subj "/CN=unregistered" >>"$log" 2>&1
    chmod 600 "$dir"/*key.pem "$dir/client.pem"
}

start() {
    local dir=$1
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    install_server
    if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then
        echo "arm-standin: already running in $dir (pid $(cat "$dir/pid")); stop it first" >&2
        exit 1
    fi
    make_certs "$dir"
    [ -f "$dir/client-secret" ] || (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$dir/client-secret")
    local tenant=${ARM_STANDIN_TENANT:-00000000-0000-0000-0000-000000000000}
    local sub=${ARM_STANDIN_SUBSCRIPTION:-00000000-0000-0000-0000-000000000000}
    local client_id=11111111-1111-1111-1111-111111111111
    local mi_client_id=22222222-2222-2222-2222-222222222222
    DIR="$dir" TENANT="$tenant" SUB="$sub" CLIENT_ID="$client_id" MI_CLIENT_ID="$mi_client_id" "$PY" - <<'EOF'
import json, os
d = os.environ["DIR"]
config = {
    "note": "arm-standin configuration (a test stand-in, not Azure)",
    "tenant": os.environ["TENANT"],
    "subscriptions": [os.environ["SUB"]],
    "clients": [{"client_id": os.environ["CLIENT_ID"], "secret_file": f"{d}/client-secret",
                 "certificates": [f"{d}/client-cert.pem"]}],
    "managed_identity": {"client_id": os.environ["MI_CLIENT_ID"], "object_id": "33333333-3333-3333-3333-333333333333",
                         "msi_res_id": f"/subscriptions/{os.environ['SUB']}/resourceGroups/identities/providers/"
                                       f"Microsoft.ManagedIdentity/userAssignedIdentities/maifctl-test"},
    "lro_delay": float(os.environ.get("ARM_STANDIN_LRO_DELAY", "0.5")),
    "retry_after": int(os.environ.get("ARM_STANDIN_RETRY_AFTER", "1")),
    "token_lifetime": int(os.environ.get("ARM_STANDIN_TOKEN_LIFETIME", "3599")),
}
with open(f"{d}/config.json", "w") as f:
    json.dump(config, f, indent=2)
EOF
    rm -f "$dir/ports.json"
    # Its own session, stdin closed: a caller waiting on this script must not wait on the server too.
    setsid "$PY" "$SERVER_DIR/armserver.py" --config "$dir/config.json" --https-port 0 --http-port 0 \
        --tls-cert "$dir/tls-cert.pem" --tls-key "$dir/tls-key.pem" --ports-file "$dir/ports.json" \
        </dev/null >"$dir/server.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/pid"
    for _ in $(seq 1 100); do
        if [ -s "$dir/ports.json" ]; then
            local https http
            https=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$dir/ports.json")
            http=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$dir/ports.json")
            if curl -fsS --cacert "$dir/ca.pem" "https://127.0.0.1:$https/_standin/health" >/dev/null 2>&1; then
                echo "$https" >"$dir/port"
                echo "$http" >"$dir/http-port"
                local base="https://127.0.0.1:$https"
                (umask 077; cat >"$dir/azure.env" <<EOF
# arm-standin (a test stand-in, not Azure): what a client needs. Holds a secret; do not print it.
AZURE_TENANT_ID=$tenant
AZURE_SUBSCRIPTION_ID=$sub
AZURE_CLIENT_ID=$client_id
AZURE_CLIENT_SECRET=$(cat "$dir/client-secret")
AZURE_CLIENT_CERTIFICATE_PATH=$dir/client.pem
AZURE_AUTHORITY_HOST=$base
ARM_ENDPOINT=$base
ARM_STANDIN_CA=$dir/ca.pem
ARM_STANDIN_HTTP_ENDPOINT=http://127.0.0.1:$http
AZURE_POD_IDENTITY_AUTHORITY_HOST=$base
ARM_STANDIN_MANAGED_IDENTITY_CLIENT_ID=$mi_client_id
EOF
)
                echo "ARM endpoint (stand-in, not Azure): $base   (plain HTTP: http://127.0.0.1:$http; trust $dir/ca.pem)"
                echo "Token endpoint: $base/$tenant/oauth2/v2.0/token   IMDS: $base/metadata/identity/oauth2/token"
                echo "Client settings: $dir/azure.env"
                return 0
            fi
        fi
        if ! alive "$pid"; then echo "arm-standin exited; see $dir/server.log" >&2; exit 1; fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    echo "arm-standin did not answer within 10 s; see $dir/server.log" >&2
    exit 1
}

# Alive and not a zombie waiting for init to reap it.
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != "Z" ]; }

stop() {
    local dir=$1
    [ -f "$dir/pid" ] || exit 0
    local pid
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
}

case "${1:-}" in
install) install_all ;;
start) [ $# -eq 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
selftest)
    install_all
    cd "$ROOT"
    timeout 300 "$PY" -m pytest -q -p no:cacheprovider "$SERVER_DIR/test_armserver.py" "${@:2}"
    ;;
*) echo "usage: $0 install | start DIR | stop DIR | selftest [PYTEST-ARGS]" >&2; exit 2 ;;
esac
