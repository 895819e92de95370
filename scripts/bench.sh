#!/usr/bin/env bash
# The benchmark of issue 7, on the machine's own servers, in one run:
#   1. `byod-precheck check` against check_postgres (the actions that cover the same ground,
#      one process per action as people run them), on the local PostgreSQL;
#   2. `byod-precheck check` against mysqltuner, on the local MariaDB;
#   3. `byod-precheck check --targets` over FLEET_N scratch databases on the local PostgreSQL.
# For each: wall time (median of RUNS), CPU time (user+sys), peak RSS and queries, and the
# ratios peer / ours. Builds the release binary, installs the peers (Debian packages) if missing,
# and removes every database it made, even when interrupted.
#
#   scripts/bench.sh                 # RUNS=5 FLEET_N=200 FLEET_CONCURRENCY=16
#
# Environment: BIN (a built binary: skip the build), PG_URL (admin URL of the local PostgreSQL, trust auth), MYSQL_HOST/MYSQL_PORT/
# MYSQL_USER (root, no password), PG_LOG (the server log, to count statements).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
FLEET_N=${FLEET_N:-200}
FLEET_CONCURRENCY=${FLEET_CONCURRENCY:-16}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
PG_ADMIN="postgres://$PG_USER@$PG_HOST:$PG_PORT/postgres"
PG_LOG=${PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1 || true)}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${MYSQL_PORT:-3306}
MYSQL_USER=${MYSQL_USER:-root}
BENCH_DB=byod_bench_$$
FLEET_PREFIX=byod_fleet_$$_
TIMEOUT=${TIMEOUT:-120}

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 2; }

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v check_postgres >/dev/null || need_pkgs+=(check-postgres)
command -v mysqltuner >/dev/null || need_pkgs+=(mysqltuner)
command -v psql >/dev/null || need_pkgs+=(postgresql-client)
command -v mysql >/dev/null || need_pkgs+=(mariadb-client)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing ${need_pkgs[*]} (apt)"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
command -v python3 >/dev/null || die "python3 is needed for the statistics"

if [ -z "${BIN:-}" ]; then
    say "building the release binary"
    (cd "$ROOT" && cargo build --release --quiet)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/byod-precheck
fi
[ -x "$BIN" ] || die "no binary at $BIN"

psql_admin() { psql "$PG_ADMIN" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
mysql_root() { mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" -N -B "$@"; }
psql_admin -c 'SELECT 1' >/dev/null || die "the local PostgreSQL does not answer at $PG_ADMIN"
mysql_root -e 'SELECT 1' >/dev/null || die "the local MariaDB does not answer at $MYSQL_HOST:$MYSQL_PORT"

WORK=$(mktemp -d /tmp/byod-bench.XXXXXX)
cleanup() {
    set +e
    # A reader that went away (`scripts/bench.sh | head`) must not stop the cleanup: without
    # this, the first message written to the closed pipe kills the script and leaves
    # FLEET_N databases behind.
    trap '' PIPE
    say "cleaning up" 2>/dev/null
    {
        echo "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE);"
        for i in $(seq -w 1 "$FLEET_N"); do echo "DROP DATABASE IF EXISTS ${FLEET_PREFIX}$i WITH (FORCE);"; done
    } | psql "$PG_ADMIN" -X -q >/dev/null 2>&1
    mysql_root -e "DROP DATABASE IF EXISTS $BENCH_DB" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- targets
say "creating $BENCH_DB on PostgreSQL and MariaDB, and $FLEET_N fleet databases"
psql_admin -c "CREATE DATABASE $BENCH_DB" >/dev/null
# Every statement sent to the benchmark database is logged: that is how queries are counted,
# the same way for every tool, by the server.
psql_admin -c "ALTER DATABASE $BENCH_DB SET log_statement = 'all'" >/dev/null
mysql_root -e "CREATE DATABASE $BENCH_DB; CREATE TABLE $BENCH_DB.t (id int PRIMARY KEY) ENGINE=InnoDB; INSERT INTO $BENCH_DB.t VALUES (1)"
for i in $(seq -w 1 "$FLEET_N"); do echo "CREATE DATABASE ${FLEET_PREFIX}$i;"; done |
    psql "$PG_ADMIN" -X -q -v ON_ERROR_STOP=1 >/dev/null
for i in $(seq -w 1 "$FLEET_N"); do
    echo "fleet$i=postgres://$PG_USER@$PG_HOST:$PG_PORT/${FLEET_PREFIX}$i"
done >"$WORK/targets.txt"

# ---------------------------------------------------------------- measuring
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# /usr/bin/time rounds to 10 ms; this measures the same things (wall clock, and the child's
# rusage from wait4: user+sys CPU and peak RSS, its own descendants included) to the
# microsecond, under a time limit.
cat >"$WORK/measure.py" <<'PY'
import os, signal, subprocess, sys, time
out, limit, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
with open(out, "wb") as o, open(out + ".err", "wb") as e:
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=o, stderr=e, start_new_session=True)
    deadline = t + limit
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
        time.sleep(0.0005)
    wall = time.perf_counter() - t
print(f"{wall:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f} {ru.ru_maxrss}")
PY

# timed OUT CMD...: runs CMD, measured; prints "wall user sys kb" (seconds, KiB).
timed() {
    local out=$1; shift
    python3 "$WORK/measure.py" "$out" "$TIMEOUT" "$@"
}

pg_log_size() { if [ -r "$PG_LOG" ]; then stat -c %s "$PG_LOG"; else echo 0; fi; }
# Statements the server logged for the benchmark database since byte offset $1.
pg_statements_since() {
    if [ ! -r "$PG_LOG" ]; then echo -1; return; fi
    tail -c +"$(($1 + 1))" "$PG_LOG" | grep -c -E "@$BENCH_DB (LOG|LOG:)  (statement|execute [^:]*):" || true
}
my_questions() { mysql_root -e "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{print $2}'; }

# The same database, the same user, TLS as each tool negotiates it by default.
OURS_PG="postgres://$PG_USER@$PG_HOST:$PG_PORT/$BENCH_DB"
OURS_MY="mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$BENCH_DB"
CP_ACTIONS=(connection "version --warning=99" backends "database_size --warning=1TB --critical=2TB"
    timesync "settings_checksum --critical=0")

run_ours_pg() { # run
    local off; off=$(pg_log_size)
    local t; t=$(timed "$WORK/ours_pg.json" "$BIN" check "$OURS_PG" --format json)
    local q; q=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["queries"])' "$WORK/ours_pg.json" 2>/dev/null || echo -1)
    printf 'pg\tbyod-precheck\t%s\t%s\t%s\t%s\n' "$1" "$t" "$q" "$(pg_statements_since "$off")" >>"$RESULTS"
}
run_check_postgres() { # run: one process per action, summed
    local off; off=$(pg_log_size)
    local wall=0 user=0 sys=0 kb=0 a
    for a in "${CP_ACTIONS[@]}"; do
        # shellcheck disable=SC2086
        read -r w u s k < <(timed "$WORK/cp.out" check_postgres --host="$PG_HOST" --port="$PG_PORT" \
            --dbuser="$PG_USER" --dbname="$BENCH_DB" --action=$a)
        wall=$(python3 -c "print($wall+$w)"); user=$(python3 -c "print($user+$u)")
        sys=$(python3 -c "print($sys+$s)"); [ "$k" -gt "$kb" ] && kb=$k
    done
    local q; q=$(pg_statements_since "$off")
    printf 'pg\tcheck_postgres\t%s\t%s %s %s %s\t%s\t%s\n' "$1" "$wall" "$user" "$sys" "$kb" "$q" "$q" >>"$RESULTS"
}
run_ours_my() {
    local before after
    before=$(my_questions)
    local t; t=$(timed "$WORK/ours_my.json" "$BIN" check "$OURS_MY" --format json)
    after=$(my_questions)
    local q; q=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["queries"])' "$WORK/ours_my.json" 2>/dev/null || echo -1)
    printf 'my\tbyod-precheck\t%s\t%s\t%s\t%s\n' "$1" "$t" "$q" "$((after - before - 1))" >>"$RESULTS"
}
run_mysqltuner() {
    local before after
    before=$(my_questions)
    # --skippassword: the weak-password dictionary (620 logins tried, ~23 s here) is ground we
    # do not cover; everything else runs as by default.
    local t; t=$(timed "$WORK/mt.out" mysqltuner --host "$MYSQL_HOST" --port "$MYSQL_PORT" \
        --user "$MYSQL_USER" --pass '' --nocolor --skippassword)
    after=$(my_questions)
    local q=$((after - before - 1))
    printf 'my\tmysqltuner\t%s\t%s\t%s\t%s\n' "$1" "$t" "$q" "$q" >>"$RESULTS"
}
run_fleet() {
    rm -rf "$WORK/fleet"
    local t; t=$(timed "$WORK/fleet.json" "$BIN" check --targets "$WORK/targets.txt" \
        --out-dir "$WORK/fleet" --concurrency "$FLEET_CONCURRENCY" --format json)
    local q; q=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["queries"])' "$WORK/fleet.json" 2>/dev/null || echo -1)
    printf 'fleet\tbyod-precheck --targets\t%s\t%s\t%s\t%s\n' "$1" "$t" "$q" "-" >>"$RESULTS"
}

# Warm-up: page cache, and each new database's first connection (the server builds its
# catalog cache file then), as for databases in use.
say "warming up (one unmeasured run of each)"
run_ours_pg 0; run_check_postgres 0; run_ours_my 0; run_mysqltuner 0; run_fleet 0
: >"$RESULTS"
for r in $(seq 1 "$RUNS"); do
    say "run $r/$RUNS"
    run_ours_pg "$r"; run_check_postgres "$r"; run_ours_my "$r"; run_mysqltuner "$r"
done
for r in $(seq 1 "$(( RUNS < 3 ? RUNS : 3 ))"); do
    say "fleet run $r ($FLEET_N databases)"
    run_fleet "$r"
done
[ -s "$WORK/fleet.json" ] && python3 - "$WORK/fleet.json" <<'EOF' >&2 || true
import json, sys
s = json.load(open(sys.argv[1]))
bad = [e for e in s["entries"] if e["status"] in ("error",) or e.get("error")]
print(f"fleet: {len(s['entries'])} reports, targets by status {s['targets']}, {len(bad)} without a report")
EOF

# ---------------------------------------------------------------- the table
python3 - "$RESULTS" "$FLEET_N" "$FLEET_CONCURRENCY" "$RUNS" "${CP_ACTIONS[*]}" <<'EOF'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
fleet_n, conc, runs, actions = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
by = {}
for group, tool, run, t, q, server_q in rows:
    w, u, s, kb = t.split()
    by.setdefault((group, tool), []).append(
        (float(w) * 1000, (float(u) + float(s)) * 1000, int(kb) / 1024, q, server_q))
def agg(k):
    v = by[k]
    med = lambda i: st.median(x[i] for x in v)
    return med(0), med(1), max(x[2] for x in v), v[-1][3], v[-1][4]
print(f"byod-precheck benchmark: median of {runs} runs (wall, CPU), peak RSS the max over runs\n")
print(f"{'tool':<34}{'wall ms':>10}{'CPU ms':>10}{'peak MB':>10}{'queries':>10}{'server saw':>12}")
def line(name, k):
    w, c, m, q, sq = agg(k)
    print(f"{name:<34}{w:>10.1f}{c:>10.1f}{m:>10.1f}{q:>10}{sq:>12}")
    return w, c, m, q
ratios = []
for group, ours, peer, label in [("pg", "byod-precheck", "check_postgres", "PostgreSQL"),
                                 ("my", "byod-precheck", "mysqltuner", "MariaDB")]:
    print(f"-- {label}")
    a = line(f"byod-precheck check", (group, ours))
    b = line(f"{peer}", (group, peer))
    ratios.append((f"{peer} / byod-precheck", b, a))
print("\nratios (peer / ours; above 1 means we are better)")
print(f"{'':<34}{'wall':>10}{'CPU':>10}{'memory':>10}{'queries':>10}")
for name, b, a in ratios:
    def r(x, y):
        try:
            return f"{float(x) / float(y):>9.1f}x"
        except (ValueError, ZeroDivisionError):
            return f"{'n/a':>10}"
    print(f"{name:<34}{r(b[0], a[0])}{r(b[1], a[1])}{r(b[2], a[2])}{r(b[3], a[3])}")
k = ("fleet", "byod-precheck --targets")
if k in by:
    v = by[k]
    w = st.median(x[0] for x in v)
    c = st.median(x[1] for x in v)
    m = max(x[2] for x in v)
    print(f"\n-- many targets: {fleet_n} databases on the local PostgreSQL, --concurrency {conc}, median of {len(v)} runs")
    print(f"total wall {w:.0f} ms, {fleet_n / (w / 1000):.0f} databases/s, CPU {c:.0f} ms "
          f"({c / fleet_n:.1f} ms per database), peak RSS {m:.1f} MB, queries {v[-1][3]}")
print(f"""
how it was measured:
- wall (perf_counter around the process), CPU (user+sys) and peak RSS from the process's
  rusage (wait4; children included), what /usr/bin/time -v reports, to the microsecond.
- check_postgres: one process per action, as monitoring runs it, summed (wall, CPU; RSS is the
  largest process): {actions}.
  These map to postgres.connection, .version, .max-connections, .database-size, .clock-skew,
  .settings; check_postgres has no equivalent for TLS, encoding, privileges, extensions or
  capabilities, which byod-precheck checks in the same run.
- mysqltuner: one run with --skippassword (its weak-password dictionary is ground we do not
  cover and takes ~23 s here); it ends with an error in its InnoDB section on MariaDB 10.11
  (innodb_buffer_pool_chunk_size = 0), after all its other sections.
- queries: statements sent (the report's "queries"; byod-precheck batches its catalog reads, so
  several statements share one round trip); "server saw" is what the server counted: on
  PostgreSQL the messages it logged for the benchmark database (log_statement = all on that
  database only; a batch of statements is one message, so this is byod-precheck's round trips
  for queries), on MariaDB the delta of SHOW GLOBAL STATUS 'Questions' (statements, the
  reading itself excluded; other clients would add to it).
""")
EOF
