#!/usr/bin/env bash
# A second MariaDB, with TLS, for the tests of the MySQL engine's TLS layer (the machine's
# MariaDB has none). Listens on 127.0.0.1:3317 only; root without password over TCP; its
# certificate is self-signed for "localhost".
#
# Usage:
#   scripts/mariadb-tls.sh start    # idempotent; the last stdout line is the URL
#   scripts/mariadb-tls.sh stop
#
# State: ${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}/mariadb-tls/
set -euo pipefail

ROOT=${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}/mariadb-tls
PORT=3317
URL="mysql://root@127.0.0.1:$PORT/test"

log() { printf 'mariadb-tls: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

running() {
  [[ -f $ROOT/run/mariadbd.pid ]] && kill -0 "$(cat "$ROOT/run/mariadbd.pid")" 2>/dev/null
}

answers() {
  mysqladmin --no-defaults -h127.0.0.1 -P"$PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

start() {
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9
  if running && answers; then
    log "already running"
    echo "$URL"
    return
  fi
  command -v mariadbd >/dev/null || die "mariadbd is not installed (apt-get install mariadb-server)"
  if [[ ! -f $ROOT/tls/server.pem ]]; then
    mkdir -p "$ROOT/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$ROOT/tls/server-key.pem" -out "$ROOT/tls/server.pem" 2>/dev/null
  fi
  if [[ ! -d $ROOT/data/mysql ]]; then
    rm -rf "$ROOT/data"
    mkdir -p "$ROOT/data"
    chown -R mysql:mysql "$ROOT/data" "$ROOT/tls"
    mariadb-install-db --no-defaults --user=mysql --datadir="$ROOT/data" \
      --auth-root-authentication-method=normal >"$ROOT/install.log" 2>&1 ||
      die "mariadb-install-db failed: $(tail -3 "$ROOT/install.log")"
  fi
  mkdir -p "$ROOT/run"
  chown -R mysql:mysql "$ROOT/data" "$ROOT/tls" "$ROOT/run"
  rm -f "$ROOT/run/mariadbd.pid"
  # fds 9 (the lock) and stdout must not be inherited by the server
  mariadbd --no-defaults --user=mysql --datadir="$ROOT/data" --port="$PORT" --bind-address=127.0.0.1 \
    --socket="$ROOT/run/mysqld.sock" --pid-file="$ROOT/run/mariadbd.pid" --log-error="$ROOT/run/error.log" \
    --skip-name-resolve --ssl-cert="$ROOT/tls/server.pem" --ssl-key="$ROOT/tls/server-key.pem" \
    9>&- >/dev/null 2>&1 &
  for _ in $(seq 1 60); do
    if answers; then
      mysql --no-defaults -h127.0.0.1 -P"$PORT" -uroot -e "CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4; DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES;" ||
        die "could not create database test"
      log "up on 127.0.0.1:$PORT"
      echo "$URL"
      return
    fi
    sleep 0.25
  done
  die "did not answer within 15 s: $(tail -5 "$ROOT/run/error.log" 2>/dev/null)"
}

stop() {
  if running; then
    kill "$(cat "$ROOT/run/mariadbd.pid")" && log "stopped"
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) printf 'usage: %s start | stop\n' "$0" >&2; exit 2 ;;
esac
