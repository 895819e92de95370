#!/usr/bin/env bash
# Start and stop SQL Server wire-protocol peers for byod-precheck's live tests.
#
# No real SQL Server runs here. Each profile is a pysqlbridge server (pinned
# PyPI package, pure Python, speaks TDS with TLS) that scripts/mssql_peer.py
# dresses up as one particular server: SQL Server 2022, 2016, 2019, Azure SQL
# Database. See scripts/mssql-peer.md for the profiles and what they answer.
#
#   scripts/mssql-peer.sh start PROFILE   # idempotent; last stdout line is the URL
#   scripts/mssql-peer.sh stop PROFILE
#   scripts/mssql-peer.sh stop-all
#   scripts/mssql-peer.sh status | list
#
# Everything but the URL goes to stderr. State (venv, TLS material, pid and
# log files) lives in ${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}/mssql.
# The login is sa / $BYOD_MSSQL_PEER_PASSWORD (default Precheck-test-pw1, a
# throwaway test password); the server reads it from the environment.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
STATE="${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}/mssql"
VENV="$STATE/venv"
TLS="$STATE/tls"
PYSQLBRIDGE_VERSION=2.1.3
LAUNCHER="$SCRIPT_DIR/mssql_peer.py"
CONFIG="$SCRIPT_DIR/mssql-peer-data/config.json"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT_SECS=30
export BYOD_MSSQL_PEER_PASSWORD="${BYOD_MSSQL_PEER_PASSWORD:-Precheck-test-pw1}"

log() { printf 'mssql-peer: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    cat >&2 <<EOF
usage: $0 start PROFILE | stop PROFILE | stop-all | status | list
profiles:
$("$PYTHON" "$LAUNCHER" --list | sed 's/^/  /')
EOF
    exit 2
}

# --- one-time setup, under a lock shared by every profile (fd 8) -----------

ensure_venv() {
    local marker="$VENV/.pysqlbridge-$PYSQLBRIDGE_VERSION"
    if [[ -x "$VENV/bin/python" && -f "$marker" ]]; then
        return
    fi
    log "creating $VENV (pysqlbridge==$PYSQLBRIDGE_VERSION)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" >&2 \
        || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --disable-pip-version-check --quiet \
        "pysqlbridge==$PYSQLBRIDGE_VERSION" >&2 \
        || die "pip install pysqlbridge==$PYSQLBRIDGE_VERSION failed"
    touch "$marker"
}

# A private CA, a server certificate for localhost/127.0.0.1 signed by it, and
# a separate self-signed certificate for the same names. Never committed.
ensure_tls() {
    if [[ -f "$TLS/ca.pem" && -f "$TLS/server.pem" && -f "$TLS/server-key.pem" \
          && -f "$TLS/selfsigned.pem" && -f "$TLS/selfsigned-key.pem" ]] \
       && openssl x509 -checkend 86400 -noout -in "$TLS/server.pem" >/dev/null \
       && openssl x509 -checkend 86400 -noout -in "$TLS/selfsigned.pem" >/dev/null; then
        return
    fi
    log "generating test CA and certificates in $TLS"
    rm -rf "$TLS"
    mkdir -p "$TLS"
    (
        umask 077
        cd "$TLS"
        printf '%s\n' \
            'subjectAltName=DNS:localhost,IP:127.0.0.1' \
            'basicConstraints=critical,CA:FALSE' \
            'keyUsage=critical,digitalSignature,keyEncipherment' \
            'extendedKeyUsage=serverAuth' >server-ext.cnf
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -keyout ca-key.pem -out ca.pem \
            -subj "/CN=byod-precheck test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server-key.pem \
            -out server.csr -subj "/CN=localhost" 2>/dev/null
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem \
            -CAcreateserial -days 825 -extfile server-ext.cnf \
            -out server.pem 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
            -keyout selfsigned-key.pem -out selfsigned.pem -subj "/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -addext "basicConstraints=critical,CA:FALSE" \
            -addext "extendedKeyUsage=serverAuth" 2>/dev/null
        rm -f server.csr
        chmod 644 ca.pem server.pem selfsigned.pem
    )
    openssl verify -CAfile "$TLS/ca.pem" "$TLS/server.pem" >/dev/null \
        || die "generated server certificate does not verify against ca.pem"
}

setup() {
    mkdir -p "$STATE"
    exec 8>"$STATE/setup.lock"
    flock -w 300 8 || die "timed out waiting for $STATE/setup.lock"
    ensure_venv
    ensure_tls
    exec 8>&-
}

# --- profiles ----------------------------------------------------------------

# Sets PORT, TLS_KIND, URL from the launcher's profile table.
describe() {
    local profile=$1 line out
    out=$("$PYTHON" "$LAUNCHER" --describe "$profile") || usage
    PORT='' TLS_KIND='' URL=''
    while IFS= read -r line; do
        case $line in
            port=*) PORT=${line#port=} ;;
            tls=*) TLS_KIND=${line#tls=} ;;
            url=*) URL=${line#url=} ;;
        esac
    done <<<"$out"
    [[ -n $PORT && -n $TLS_KIND && -n $URL ]] || die "cannot describe profile $profile"
}

lock_profile() {
    mkdir -p "$STATE"
    exec 9>"$STATE/$1.lock"
    flock -w 120 9 || die "timed out waiting for $STATE/$1.lock"
}

# The pid in PROFILE.pid, if that process is still this profile's launcher.
running_pid() {
    local profile=$1 pid
    [[ -f "$STATE/$profile.pid" ]] || return 1
    pid=$(<"$STATE/$profile.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "mssql_peer.py --profile $profile " \
        || return 1
    printf '%s\n' "$pid"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The pid listening on PORT if it is this profile's launcher (one left behind
# when its state directory was deleted, e.g. by `cargo clean`).
orphan_pid() {
    local profile=$1 port=$2 pid
    command -v ss >/dev/null || return 1
    pid=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "mssql_peer.py --profile $profile " \
        || return 1
    printf '%s\n' "$pid"
}

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_start() {
    local profile=$1 pid cert key i
    describe "$profile"
    setup
    lock_profile "$profile"

    if pid=$(running_pid "$profile") && port_open "$PORT" \
       && [[ ! "$TLS/server.pem" -nt "$STATE/$profile.pid" ]]; then
        log "$profile already running (pid $pid, port $PORT)"
    else
        if [[ -n ${pid:-} ]]; then
            log "$profile (pid $pid) is not answering or has old certificates; restarting it"
            stop_pid "$pid"
        fi
        rm -f "$STATE/$profile.pid"
        if port_open "$PORT"; then
            if pid=$(orphan_pid "$profile" "$PORT"); then
                log "stopping $profile left over from an earlier state directory (pid $pid)"
                stop_pid "$pid"
            else
                die "port $PORT is taken by another process; cannot start $profile"
            fi
        fi
        case $TLS_KIND in
            ca) cert="$TLS/server.pem" key="$TLS/server-key.pem" ;;
            self-signed) cert="$TLS/selfsigned.pem" key="$TLS/selfsigned-key.pem" ;;
            *) die "unknown TLS kind '$TLS_KIND' for $profile" ;;
        esac
        # setsid: the server outlives this script and the test run that asked
        # for it; fd 8/9 closed so it does not hold the locks.
        setsid "$VENV/bin/python" "$LAUNCHER" --profile "$profile" --port "$PORT" \
            --config "$CONFIG" --cert "$cert" --key "$key" \
            </dev/null >"$STATE/$profile.log" 2>&1 8>&- 9>&- &
        pid=$!
        printf '%s\n' "$pid" >"$STATE/$profile.pid"
        for ((i = 0; i < START_TIMEOUT_SECS * 10; i++)); do
            if grep -q "listening on 127.0.0.1:$PORT" "$STATE/$profile.log" 2>/dev/null; then
                break
            fi
            if ! kill -0 "$pid" 2>/dev/null; then
                tail -n 20 "$STATE/$profile.log" >&2 || true
                rm -f "$STATE/$profile.pid"
                die "$profile exited during startup (log: $STATE/$profile.log)"
            fi
            sleep 0.1
        done
        if ! grep -q "listening on 127.0.0.1:$PORT" "$STATE/$profile.log"; then
            tail -n 20 "$STATE/$profile.log" >&2 || true
            stop_pid "$pid"
            rm -f "$STATE/$profile.pid"
            die "$profile did not start listening within ${START_TIMEOUT_SECS}s"
        fi
        log "started $profile (pid $pid, port $PORT, log $STATE/$profile.log)"
    fi
    log "ca: $TLS/ca.pem"
    log "certificate: $([[ $TLS_KIND == ca ]] && echo "signed by ca.pem" || echo "self-signed ($TLS/selfsigned.pem)")"
    printf '%s\n' "$URL"
}

cmd_stop() {
    local profile=$1 pid
    describe "$profile"
    lock_profile "$profile"
    if pid=$(running_pid "$profile"); then
        stop_pid "$pid"
        log "stopped $profile (pid $pid)"
    else
        log "$profile is not running"
    fi
    rm -f "$STATE/$profile.pid"
}

cmd_stop_all() {
    local file profile
    shopt -s nullglob
    for file in "$STATE"/*.pid; do
        profile=$(basename "$file" .pid)
        ( cmd_stop "$profile" )
    done
}

cmd_status() {
    local name pid
    while IFS=$'\t' read -r name _; do
        if pid=$(running_pid "$name"); then
            describe "$name"
            printf '%-20s running  pid %-8s %s\n' "$name" "$pid" "$URL"
        else
            printf '%-20s stopped\n' "$name"
        fi
    done < <("$PYTHON" "$LAUNCHER" --list)
}

case ${1:-} in
    start) [[ $# -eq 2 ]] || usage; cmd_start "$2" ;;
    stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
    stop-all) [[ $# -eq 1 ]] || usage; cmd_stop_all ;;
    status) cmd_status ;;
    list) "$PYTHON" "$LAUNCHER" --list ;;
    *) usage ;;
esac
