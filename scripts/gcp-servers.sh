#!/usr/bin/env bash
# The local GCP servers the gcp provider is tested against (Tests/Servers/gcp/README.md says which does what).
#   scripts/gcp-servers.sh install        # .venv-gcp with gcplocal, gcp-storage-emulator, Google's client libraries, pytest
#   scripts/gcp-servers.sh start DIR      # all servers on loopback, free ports; DIR gets pids, ports, logs, keys
#   scripts/gcp-servers.sh stop DIR       # kills exactly the PIDs start wrote into DIR
#   scripts/gcp-servers.sh selftest [PYTEST ARGS]   # start in a temporary DIR, run the self-tests, stop
# start writes DIR/servers.json and DIR/env.sh (source it: GCP_FRONT_URL, GOOGLE_APPLICATION_CREDENTIALS, …).
# Environment: GCP_PROJECT (default maif-test); GCP_FRONT_REQUIRE_TOKEN=0 lets requests without a token through.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv-gcp
srv=$root/Tests/Servers/gcp
req=$srv/requirements.txt
py=$venv/bin/python
SERVERS="front standin gcplocal gcs token"

install() {
    local stamp
    stamp=$venv/.installed-$(sha256sum "$req" | cut -c1-16)
    # The stamp is written only after a complete install of exactly requirements.txt.
    if [ -f "$stamp" ] && [ -x "$py" ] && [ -x "$venv/bin/gcplocal" ] && [ -x "$venv/bin/gcp-storage-emulator" ]; then
        return 0
    fi
    [ -x "$py" ] || python3 -m venv "$venv"
    echo "installing the GCP test servers into $venv" >&2
    timeout 600 "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    rm -f "$venv"/.installed-*
    touch "$stamp"
}

alive() {  # a zombie (dead, not yet reaped by whoever inherited it) is not alive
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

running() {  # any server of DIR still alive?
    local dir=$1 name pid
    for name in $SERVERS; do
        [ -f "$dir/$name.pid" ] || continue
        pid=$(cat "$dir/$name.pid")
        alive "$pid" && return 0
    done
    return 1
}

start() {
    local dir=$1
    install
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if running "$dir"; then echo "GCP servers of $dir are already running (stop $dir first)" >&2; exit 1; fi
    local project=${GCP_PROJECT:-maif-test}
    local ports front standin gcplocal gcs token metadata
    # Six distinct free ports, held open together while chosen.
    ports=$("$py" -c 'import socket
ss=[socket.socket() for _ in range(6)]
[s.bind(("127.0.0.1", 0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))
[s.close() for s in ss]')
    read -r front standin gcplocal gcs token metadata <<<"$ports"
    local host=127.0.0.1
    local token_uri="http://$host:$token/token"

    # Credentials: a service-account key (RSA 2048, PKCS#8 as Google issues them), a second key under the same
    # key id that the token endpoint does not know (a bad signature), and an authorized_user file.
    (umask 077
     openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/sa-private.pem" 2>/dev/null
     openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/wrong-private.pem" 2>/dev/null
     openssl pkey -in "$dir/sa-private.pem" -pubout -out "$dir/sa-public.pem" 2>/dev/null
     PROJECT=$project TOKEN_URI=$token_uri DIR=$dir "$py" - <<'EOF'
import json, os, secrets
d, project, token_uri = os.environ["DIR"], os.environ["PROJECT"], os.environ["TOKEN_URI"]
email = f"maifctl-test@{project}.iam.gserviceaccount.com"
kid = secrets.token_hex(20)
def key(pem):
    return {"type": "service_account", "project_id": project, "private_key_id": kid,
            "private_key": open(os.path.join(d, pem)).read(), "client_email": email,
            "client_id": str(10**20 + secrets.randbelow(10**20)), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri, "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email.replace('@', '%40')}",
            "universe_domain": "googleapis.com"}
user = {"type": "authorized_user", "client_id": f"{secrets.randbelow(10**12)}-local.apps.googleusercontent.com",
        "client_secret": "GOCSPX-" + secrets.token_urlsafe(21), "refresh_token": "1//0" + secrets.token_urlsafe(60),
        "quota_project_id": project, "universe_domain": "googleapis.com"}  # as gcloud writes it: no token_uri
files = {"sa-key.json": key("sa-private.pem"), "sa-key-wrong-signature.json": key("wrong-private.pem"),
         "authorized-user.json": user,
         "token-registry.json": {"service_accounts": [{"client_email": email, "private_key_id": kid,
                                                       "public_key_pem": open(os.path.join(d, "sa-public.pem")).read()}],
                                 "authorized_users": [dict(user, email="developer@example.com")]}}
for name, value in files.items():
    with open(os.path.join(d, name), "w") as f:
        json.dump(value, f, indent=2)
EOF
    )

    # Each in its own session, stdin closed, so that nothing waiting on this script waits on a server.
    launch() {
        local name=$1; shift
        # A simple command in the background: $! is setsid's PID, and setsid execs the server under it.
        (cd "$dir" || exit 1
         setsid env PYTHONDONTWRITEBYTECODE=1 STORAGE_BASE="$dir" "$@" </dev/null >"$dir/$name.log" 2>&1 &
         echo $! >"$dir/$name.pid")
    }
    local require=--require-token
    [ "${GCP_FRONT_REQUIRE_TOKEN:-1}" = 0 ] && require=
    launch gcplocal "$venv/bin/gcplocal" start --host $host --port "$gcplocal"
    launch gcs "$venv/bin/gcp-storage-emulator" start --host $host --port "$gcs" --in-memory --project-number 123456789012
    launch token "$py" "$srv/tokenserver.py" --host $host --port "$token" --metadata-port "$metadata" \
        --registry "$dir/token-registry.json" --project "$project" --sa-email "maifctl-test@$project.iam.gserviceaccount.com"
    launch standin "$py" "$srv/gcpstandin.py" --host $host --port "$standin" --gcplocal "http://$host:$gcplocal" \
        --user "maifctl-test@$project.iam.gserviceaccount.com"
    launch front "$py" "$srv/front.py" --host $host --port "$front" --gcplocal "http://$host:$gcplocal" \
        --gcs "http://$host:$gcs" --standin "http://$host:$standin" --token "http://$host:$token" $require

    local checks=("front http://$host:$front/_front/health" "standin http://$host:$standin/_standin/health"
                  "gcplocal http://$host:$gcplocal/health" "gcs http://$host:$gcs/" "token http://$host:$token/_token/health")
    local c name url ok
    for c in "${checks[@]}"; do
        name=${c%% *} url=${c#* } ok=
        for _ in $(seq 1 150); do
            if curl -fsS -o /dev/null "$url" 2>/dev/null; then ok=1; break; fi
            if ! alive "$(cat "$dir/$name.pid")"; then break; fi
            sleep 0.1
        done
        if [ -z "$ok" ]; then
            echo "the $name server did not answer at $url; its log, $dir/$name.log:" >&2
            tail -n 20 "$dir/$name.log" >&2 || true
            stop "$dir"
            exit 1
        fi
    done
    if ! curl -fsS -o /dev/null -H 'Metadata-Flavor: Google' "http://$host:$metadata/computeMetadata/v1/"; then
        echo "the metadata server did not answer on port $metadata; see $dir/token.log" >&2; stop "$dir"; exit 1
    fi

    cat >"$dir/servers.json" <<EOF
{
  "front": "http://$host:$front",
  "token_uri": "$token_uri",
  "token": "http://$host:$token",
  "metadata": "http://$host:$metadata",
  "metadata_host": "$host:$metadata",
  "standin": "http://$host:$standin",
  "gcplocal": "http://$host:$gcplocal",
  "gcs": "http://$host:$gcs",
  "project": "$project",
  "service_account_email": "maifctl-test@$project.iam.gserviceaccount.com",
  "require_token": $([ -n "$require" ] && echo true || echo false),
  "files": {
    "service_account_key": "$dir/sa-key.json",
    "service_account_key_wrong_signature": "$dir/sa-key-wrong-signature.json",
    "authorized_user": "$dir/authorized-user.json"
  }
}
EOF
    cat >"$dir/env.sh" <<EOF
export GCP_SERVERS_DIR=$dir
export GCP_FRONT_URL=http://$host:$front
export GCP_TOKEN_URI=$token_uri
export GCE_METADATA_HOST=$host:$metadata
export GCE_METADATA_IP=$host:$metadata
export GCP_PROJECT=$project
export GOOGLE_APPLICATION_CREDENTIALS=$dir/sa-key.json
EOF
    echo "GCP servers up (DIR $dir):"
    echo "  API base URL (root URL for compute/v1, storage/v1, upload/storage/v1, dns/v1, v3 monitoring): http://$host:$front/"
    echo "  OAuth2 token endpoint: $token_uri    metadata server: http://$host:$metadata"
    echo "  behind the front: gcplocal http://$host:$gcplocal, gcp-storage-emulator http://$host:$gcs, stand-in http://$host:$standin"
    echo "  credentials: $dir/sa-key.json, $dir/authorized-user.json; environment: source $dir/env.sh"
}

stop() {
    local dir=$1 name pid
    [ -d "$dir" ] || return 0
    for name in $SERVERS; do
        [ -f "$dir/$name.pid" ] || continue
        pid=$(cat "$dir/$name.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.05; done
        alive "$pid" && kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/$name.pid"
    done
}

selftest() {
    install
    local dir rc=0
    dir=$(mktemp -d /tmp/gcp-servers.XXXXXX)
    trap 'stop "'"$dir"'"; rm -rf "'"$dir"'"' EXIT
    start "$dir" >/dev/null
    GCP_SERVERS_DIR=$dir PYTHONDONTWRITEBYTECODE=1 timeout 300 "$py" -m pytest -q -p no:cacheprovider \
        "$srv/test_gcp_servers.py" "$@" || rc=$?
    if [ "$rc" != 0 ]; then
        for name in $SERVERS; do echo "--- $name.log (last lines)"; tail -n 15 "$dir/$name.log"; done >&2
    fi
    return "$rc"
}

case "${1:-}" in
install) install ;;
start) [ $# -ge 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
stop) [ $# -ge 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
selftest) shift; selftest "$@" ;;
*) echo "usage: $0 install | start DIR | stop DIR | selftest [PYTEST ARGS]" >&2; exit 2 ;;
esac
