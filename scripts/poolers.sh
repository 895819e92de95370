#!/usr/bin/env bash
# Connection poolers and one-connection servers for the pooler tests (tests/it/pooler.rs):
# PgBouncer and pgpool-II (Debian's packages) in front of the machine's PostgreSQL 15, and
# PGlite (npm @electric-sql/pglite-socket, one client at a time). Each test starts its own on a
# free loopback port, in a folder of its own, and stops it by that folder.
#
# Usage:
#   scripts/poolers.sh install                          # packages and the npm module (idempotent)
#   scripts/poolers.sh pgbouncer DIR MODE POOL USER...  # MODE session|transaction|statement
#     PGBOUNCER_EXTRA='client_idle_timeout = 300' adds settings to pgbouncer.ini, one per line
#   scripts/poolers.sh pgpool DIR POOL                  # pgpool-II, POOL children (clients)
#     PGPOOL_EXTRA='client_idle_limit = 300' adds settings to pgpool.conf, one per line
#   scripts/poolers.sh pglite DIR                       # PGlite, one client at a time
#   scripts/poolers.sh stop DIR                         # stops what DIR's pid file names
# The start commands print the URL (without a password) as their last stdout line.
set -euo pipefail

readonly BACKEND_HOST=127.0.0.1 BACKEND_PORT=5432
readonly SERVERS=${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}
readonly PGLITE_DIR=$SERVERS/pglite
readonly PGLITE_SOCKET_VERSION=0.2.17 PGLITE_VERSION=0.5.14
readonly WAIT_SECS=30

die() {
  printf 'poolers: error: %s\n' "$*" >&2
  exit 1
}

deb_installed() {
  local st
  st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $st == "install ok installed" ]]
}

install_debs() {
  local -a missing=()
  local p
  for p in pgbouncer pgpool2; do
    deb_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  ((EUID == 0)) || die "missing Debian packages (${missing[*]}) and not root"
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
  # The packages start their own services on the default ports: not ours, stop them.
  service pgbouncer stop >/dev/null 2>&1 || true
  service pgpool2 stop >/dev/null 2>&1 || true
}

install_pglite() {
  local mod=$PGLITE_DIR/npm/node_modules/@electric-sql/pglite-socket/package.json
  if [[ -f $mod ]] && grep -q "\"version\": \"$PGLITE_SOCKET_VERSION\"" "$mod"; then
    return 0
  fi
  command -v npm >/dev/null || die "npm is missing (Debian package npm)"
  mkdir -p "$PGLITE_DIR/npm"
  (cd "$PGLITE_DIR/npm" && npm install --no-audit --no-fund --silent \
    "@electric-sql/pglite-socket@$PGLITE_SOCKET_VERSION" "@electric-sql/pglite@$PGLITE_VERSION" >&2) ||
    die "npm install @electric-sql/pglite-socket failed"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

answers() {
  pg_isready -q -h 127.0.0.1 -p "$1" -t 1 -U postgres -d postgres
}

# wait_port PORT DIR WHAT: waits until PORT answers, else prints the log and fails.
wait_port() {
  local deadline=$((SECONDS + WAIT_SECS))
  until answers "$1" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      tail -20 "$2"/*.log >&2 2>/dev/null || true
      die "$3 on port $1 does not answer after ${WAIT_SECS}s"
    fi
    sleep 0.2
  done
}

# A folder the postgres OS user can write to (PgBouncer refuses to run as root).
prepare_dir() {
  mkdir -p "$1"
  chmod 0755 "$1"
  if ((EUID == 0)) && id -u postgres >/dev/null 2>&1; then
    chown postgres:postgres "$1"
  fi
}

as_postgres() {
  if ((EUID == 0)) && id -u postgres >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd_pgbouncer() {
  local dir=$1 mode=$2 pool=$3
  shift 3
  [[ $mode =~ ^(session|transaction|statement)$ ]] || die "pool mode $mode is not session, transaction or statement"
  install_debs
  prepare_dir "$dir"
  local port user
  port=$(free_port)
  : >"$dir/userlist.txt"
  for user in postgres "$@"; do
    printf '"%s" ""\n' "$user" >>"$dir/userlist.txt"
  done
  # Debian's defaults otherwise (ignore_startup_parameters unset: a client sending
  # extra_float_digits is refused, as it would be on a client's PgBouncer).
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$BACKEND_HOST port=$BACKEND_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = $mode
default_pool_size = $pool
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 20
server_reset_query = DISCARD ALL
server_tls_sslmode = prefer
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
EOF
  # More settings, one per line (e.g. PGBOUNCER_EXTRA='client_idle_timeout = 300').
  if [[ -n ${PGBOUNCER_EXTRA:-} ]]; then printf '%s\n' "$PGBOUNCER_EXTRA" >>"$dir/pgbouncer.ini"; fi
  chown -R postgres:postgres "$dir" 2>/dev/null || true
  as_postgres pgbouncer -d "$dir/pgbouncer.ini" >&2 || die "pgbouncer did not start (see $dir/pgbouncer.log)"
  wait_port "$port" "$dir" pgbouncer
  echo "postgres://postgres@127.0.0.1:$port/test"
}

cmd_pgpool() {
  local dir=$1 pool=$2
  install_debs
  prepare_dir "$dir"
  local port pcp
  port=$(free_port)
  pcp=$(free_port)
  : >"$dir/pcp.conf"
  : >"$dir/pool_hba.conf"
  : >"$dir/pool_passwd"
  cat >"$dir/pgpool.conf" <<EOF
backend_clustering_mode = 'raw'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
pcp_listen_addresses = '127.0.0.1'
pcp_port = $pcp
pcp_socket_dir = '$dir'
backend_hostname0 = '$BACKEND_HOST'
backend_port0 = $BACKEND_PORT
backend_weight0 = 1
backend_flag0 = 'DISALLOW_TO_FAILOVER'
enable_pool_hba = off
pool_passwd = ''
num_init_children = $pool
max_pool = 1
connection_cache = on
load_balance_mode = off
health_check_period = 0
sr_check_period = 0
failover_on_backend_error = off
pid_file_name = '$dir/pgpool.pid'
logdir = '$dir'
log_destination = 'stderr'
EOF
  # More settings, one per line (e.g. PGPOOL_EXTRA='client_idle_limit = 300').
  if [[ -n ${PGPOOL_EXTRA:-} ]]; then printf '%s\n' "$PGPOOL_EXTRA" >>"$dir/pgpool.conf"; fi
  chown -R postgres:postgres "$dir" 2>/dev/null || true
  # Detached from our stdout: the caller reads it to the end for the URL.
  as_postgres bash -c "exec pgpool -n -f '$dir/pgpool.conf' -F '$dir/pcp.conf' -a '$dir/pool_hba.conf'" \
    </dev/null >"$dir/pgpool.log" 2>&1 &
  disown
  wait_port "$port" "$dir" pgpool
  echo "postgres://postgres@127.0.0.1:$port/test"
}

cmd_pglite() {
  local dir=$1
  install_pglite
  prepare_dir "$dir"
  local port
  port=$(free_port)
  node "$PGLITE_DIR/npm/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js" \
    --port="$port" --host=127.0.0.1 </dev/null >"$dir/pglite.log" 2>&1 &
  echo $! >"$dir/pglite.pid"
  disown
  # Not pg_isready here: PGlite serves one client at a time, so probe the port only.
  local deadline=$((SECONDS + WAIT_SECS))
  until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; do
    ((SECONDS < deadline)) || {
      tail -20 "$dir/pglite.log" >&2
      die "pglite on port $port does not answer after ${WAIT_SECS}s"
    }
    sleep 0.2
  done
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

cmd_stop() {
  local dir=$1 f pid
  for f in "$dir"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(tr -dc '0-9\n' <"$f" | head -1)
    [[ $pid =~ ^[0-9]+$ ]] || continue
    kill "$pid" 2>/dev/null || continue
    # PGlite's server may linger after SIGTERM: give it a moment, then end it.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
  done
}

main() {
  (($# >= 1)) || die "usage: $0 install | pgbouncer DIR MODE POOL USER... | pgpool DIR POOL | pglite DIR | stop DIR"
  local cmd=$1
  shift
  case $cmd in
    install) install_debs && install_pglite ;;
    pgbouncer) (($# >= 3)) || die "usage: pgbouncer DIR MODE POOL USER..." && cmd_pgbouncer "$@" ;;
    pgpool) (($# == 2)) || die "usage: pgpool DIR POOL" && cmd_pgpool "$@" ;;
    pglite) (($# == 1)) || die "usage: pglite DIR" && cmd_pglite "$@" ;;
    stop) (($# == 1)) || die "usage: stop DIR" && cmd_stop "$@" ;;
    *) die "unknown command $cmd" ;;
  esac
}

main "$@"
