#!/usr/bin/env bash
# Makes sure the database servers the integration tests use are running, and waits
# until each answers. Idempotent: what already runs is left alone.
#
# Usage:
#   scripts/services.sh up       # install missing Debian packages, start everything
#   scripts/services.sh status   # one line per service, exit 1 if one is down
#   scripts/services.sh down     # stop the embedded PostgreSQL servers (not the machine's)
#
# Services:
#   PostgreSQL 15 (the machine's, Debian)   127.0.0.1:5432, trust auth
#   MariaDB 10.11 (the machine's, Debian)   127.0.0.1:3306, root without password
#   PostgreSQL 12 and 18 (embedded)         127.0.0.1:55412 and :55418,
#                                           see scripts/embedded-postgres.sh
# Status lines go to stderr; nothing is printed on stdout.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EMBEDDED_PG=$SCRIPT_DIR/embedded-postgres.sh

# Debian packages the tests need. Each is installed only when missing, and
# `apt-get update` only runs when something is. Add to this list as needed.
DEB_PACKAGES=(
  util-linux           # flock, runuser
  postgresql-15        # the machine's PostgreSQL server (pg_ctlcluster)
  postgresql-client-15 # psql, pg_isready
  mariadb-server       # mariadbd
  mariadb-client       # mysqladmin, mariadb
  chromium             # headless browser for the HTML report test (tests/it/render.rs)
  fonts-liberation     # a font for its screenshot (chromium only recommends it)
  time python3         # GNU time (peak memory) and the fake servers of tests/it/hostile.rs
)

# Majors of the embedded PostgreSQL servers to start.
EMBEDDED_PG_MAJORS=(12 18)

readonly PG_HOST=127.0.0.1 PG_PORT=5432
readonly MARIADB_HOST=127.0.0.1 MARIADB_PORT=3306
readonly WAIT_SECS=60

status() { printf 'services: %s\n' "$*" >&2; }
die() {
  printf 'services: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s up | status | down\n' "$0" >&2
  exit 2
}

# --- Debian packages -----------------------------------------------------------

deb_installed() {
  local st
  st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $st == "install ok installed" ]]
}

ensure_deb_packages() {
  local -a wanted=("${DEB_PACKAGES[@]}") missing=()
  # The embedded servers are installed with npm.
  if ! command -v npm >/dev/null; then
    wanted+=(nodejs npm)
  fi
  local p
  for p in "${wanted[@]}"; do
    deb_installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    status "debian packages: all present (${#wanted[@]})"
    return 0
  fi
  ((EUID == 0)) || die "missing Debian packages (${missing[*]}) and not root: run 'sudo apt-get install ${missing[*]}'"
  status "debian packages: installing ${missing[*]}"
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
  status "debian packages: installed ${missing[*]}"
}

# --- waiting ------------------------------------------------------------------------

# wait_for SECS CMD...: runs CMD until it succeeds or SECS have passed.
wait_for() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# --- PostgreSQL 15 (the machine's) -------------------------------------------------

pg_answers() {
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -t 2
}

pg_server_version() {
  psql -X -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atc 'show server_version' 2>/dev/null |
    cut -d' ' -f1 || true
}

pg_up() {
  command -v pg_isready >/dev/null || die "pg_isready is missing (Debian package postgresql-client-15)"
  if pg_answers; then
    status "postgresql $(pg_server_version) on $PG_HOST:$PG_PORT: up (already running)"
    return 0
  fi
  [[ -d /etc/postgresql ]] || die "postgresql: /etc/postgresql is missing; install the Debian package postgresql-15"
  local dir ver started=0
  for dir in /etc/postgresql/*/main; do
    [[ -d $dir ]] || continue
    ver=$(basename "$(dirname "$dir")")
    status "postgresql $ver/main: starting"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 ||
      die "postgresql: 'pg_ctlcluster --skip-systemctl-redirect $ver main start' failed (see /var/log/postgresql/postgresql-$ver-main.log)"
    started=1
  done
  ((started)) || die "postgresql: no cluster named main under /etc/postgresql"
  wait_for "$WAIT_SECS" pg_answers ||
    die "postgresql: started but $PG_HOST:$PG_PORT does not answer after ${WAIT_SECS}s (see /var/log/postgresql/)"
  status "postgresql $(pg_server_version) on $PG_HOST:$PG_PORT: up (started)"
}

pg_status() {
  if pg_answers; then
    status "postgresql $(pg_server_version) on $PG_HOST:$PG_PORT: up"
  else
    status "postgresql on $PG_HOST:$PG_PORT: DOWN"
    return 1
  fi
}

# --- MariaDB (the machine's) --------------------------------------------------------

mariadb_answers() {
  mysqladmin -h"$MARIADB_HOST" -P"$MARIADB_PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

mariadb_server_version() {
  mysql -h"$MARIADB_HOST" -P"$MARIADB_PORT" -uroot -N -B -e 'select version()' 2>/dev/null || true
}

mariadb_up() {
  command -v mysqladmin >/dev/null || die "mysqladmin is missing (Debian package mariadb-client)"
  if mariadb_answers; then
    status "mariadb $(mariadb_server_version) on $MARIADB_HOST:$MARIADB_PORT: up (already running)"
    return 0
  fi
  [[ -x /usr/sbin/mariadbd ]] || die "mariadb: /usr/sbin/mariadbd is missing (Debian package mariadb-server)"
  ((EUID == 0)) || die "mariadb: not running on $MARIADB_HOST:$MARIADB_PORT, and starting it needs root"
  # /run is emptied at boot; mariadbd needs its folder there for the pid file and socket.
  if id -u mysql >/dev/null 2>&1; then
    install -d -m 0755 -o mysql -g mysql /run/mysqld
  fi
  status "mariadb: starting"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 ||
    die "mariadb: start-stop-daemon --exec /usr/sbin/mariadbd failed"
  wait_for "$WAIT_SECS" mariadb_answers ||
    die "mariadb: started but $MARIADB_HOST:$MARIADB_PORT does not answer after ${WAIT_SECS}s (see /var/log/mysql/ or journal)"
  status "mariadb $(mariadb_server_version) on $MARIADB_HOST:$MARIADB_PORT: up (started)"
}

mariadb_status() {
  if mariadb_answers; then
    status "mariadb $(mariadb_server_version) on $MARIADB_HOST:$MARIADB_PORT: up"
  else
    status "mariadb on $MARIADB_HOST:$MARIADB_PORT: DOWN"
    return 1
  fi
}

# --- embedded PostgreSQL servers ------------------------------------------------------

embedded_up() {
  local major url log
  for major in "${EMBEDDED_PG_MAJORS[@]}"; do
    log=$(mktemp)
    if ! url=$("$EMBEDDED_PG" start "$major" 2>"$log"); then
      cat "$log" >&2
      rm -f "$log"
      die "embedded postgresql $major: could not be started (scripts/embedded-postgres.sh start $major)"
    fi
    rm -f "$log"
    url=${url##*$'\n'}
    status "embedded postgresql $major: up ($url)"
  done
}

embedded_status() {
  local major rc=0
  for major in "${EMBEDDED_PG_MAJORS[@]}"; do
    if "$EMBEDDED_PG" status "$major" 2>/dev/null; then
      status "embedded postgresql $major: up ($("$EMBEDDED_PG" url "$major" 2>/dev/null))"
    else
      status "embedded postgresql $major: DOWN"
      rc=1
    fi
  done
  return "$rc"
}

# --- a second MariaDB, with TLS -----------------------------------------------------

mariadb_tls_up() {
  local url
  if ! url=$("$SCRIPT_DIR/mariadb-tls.sh" start 2>/dev/null); then
    die "mariadb with tls: could not be started (scripts/mariadb-tls.sh start)"
  fi
  status "mariadb with tls: up (${url##*@})"
}

# --- SQL Server wire-protocol peer ---------------------------------------------------

# Prepares the peer's venv and certificates (PyPI, once) by starting the healthy profile; the
# tests start the other profiles themselves, each in well under a second after this.
mssql_peer_up() {
  local url
  if ! url=$("$SCRIPT_DIR/mssql-peer.sh" start sql2022 2>/dev/null); then
    die "sql server peer: could not be started (scripts/mssql-peer.sh start sql2022)"
  fi
  status "sql server peer (sql2022): up (${url##*@})"
}

# --- commands ---------------------------------------------------------------------

cmd_up() {
  ensure_deb_packages
  pg_up
  mariadb_up
  embedded_up
  mariadb_tls_up
  mssql_peer_up
  "$SCRIPT_DIR/migration-tools.sh" up >/dev/null || die "migration tools: scripts/migration-tools.sh up failed"
  bash "$SCRIPT_DIR/serve-tools.sh" || die "serve tools: scripts/serve-tools.sh failed"
  "$SCRIPT_DIR/poolers.sh" install || die "poolers: could not be installed (scripts/poolers.sh install)"
  status "all up"
}

cmd_status() {
  local rc=0
  pg_status || rc=1
  mariadb_status || rc=1
  embedded_status || rc=1
  return "$rc"
}

cmd_down() {
  "$EMBEDDED_PG" stop-all
  "$SCRIPT_DIR/mssql-peer.sh" stop-all
  "$SCRIPT_DIR/mariadb-tls.sh" stop
}

main() {
  (($# == 1)) || usage
  case $1 in
    up) cmd_up ;;
    status) cmd_status ;;
    down) cmd_down ;;
    *) usage ;;
  esac
}

main "$@"
