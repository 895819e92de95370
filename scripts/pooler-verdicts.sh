#!/usr/bin/env bash
# What the tool says through each pooler and one-connection server, next to a direct check,
# and whether a plain session through the same pooler afterwards is untouched: the table of
# issue 11's closing note. Needs the machine's PostgreSQL 15 and `scripts/poolers.sh install`.
#
# Usage: scripts/pooler-verdicts.sh [BIN]     (default: target/release/byod-precheck)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/byod-precheck}
POOLERS=scripts/poolers.sh
SERVERS=${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}
mkdir -p "$SERVERS"
# The poolers run as the postgres user, so their folders must be readable by it.
WORK=$(mktemp -d "$SERVERS/pooler-verdicts.XXXXXX")
chmod 755 "$WORK"
ROLE=pv_limit1
cleanup() {
  for d in "$WORK"/*/; do [[ -d $d ]] && "$POOLERS" stop "$d" >/dev/null 2>&1 || true; done
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# One line: the scenario, the verdicts that poolers can change, and the session left behind.
verdicts() {
  local name=$1 url=$2 extra=${3:-}
  local json
  json=$("$BIN" check "$url" --format json $extra 2>/dev/null || true)
  local after
  after=$(psql "$url" -Atc "SELECT current_setting('default_transaction_read_only') || ',' || current_setting('statement_timeout') || ',' || current_setting('lock_timeout') || ',' || (SELECT count(*) FROM pg_prepared_statements)" 2>/dev/null | tr -d '\n' || echo "-")
  REPORT=$json python3 - "$name" "$after" <<'PY'
import json, os, sys
name, after = sys.argv[1], sys.argv[2]
try:
    r = json.loads(os.environ["REPORT"])
except Exception:
    print(f"| {name} | no report | | | | {after} |")
    sys.exit()
by = {c["id"]: c for c in r["checks"]}
def v(i):
    c = by.get(i)
    return f'{c["status"].upper()}: {c["message"][:90]}' if c else "-"
s = r["summary"]
bad = ", ".join(f"{c['id']} ({c['status']})" for c in r["checks"] if c["status"] in ("fail", "error"))
print(f"| {name} | {s['status']} ({s['pass']} pass, {s['warn']} warn, {s['fail']} fail, {s['error']} error, {s['skip']} skip) | {bad or '-'} | {v('postgres.pooler')} | {v('postgres.writability')} | {after} |")
PY
}

echo "| scenario | summary | fails and errors | postgres.pooler | postgres.writability | a plain session afterwards: read_only, statement_timeout, lock_timeout, prepared statements |"
echo "|---|---|---|---|---|---|"
verdicts "direct PostgreSQL 15" "postgres://postgres@127.0.0.1:5432/test"
for mode in session transaction statement; do
  url=$("$POOLERS" pgbouncer "$WORK/pgb-$mode" "$mode" 1 postgres | tail -1)
  verdicts "PgBouncer $mode, pool 1" "$url"
  verdicts "PgBouncer $mode, pool 1, --probe-write" "$url" --probe-write
done
url=$("$POOLERS" pgpool "$WORK/pgpool" 1 | tail -1)
verdicts "pgpool-II, 1 child" "$url"
url=$("$POOLERS" pglite "$WORK/pglite" | tail -1)
verdicts "PGlite (one client at a time)" "$url"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN SUPERUSER CONNECTION LIMIT 1" >/dev/null
verdicts "role with CONNECTION LIMIT 1" "postgres://$ROLE@127.0.0.1:5432/test"
verdicts "role with CONNECTION LIMIT 1, --probe-write" "postgres://$ROLE@127.0.0.1:5432/test" --probe-write
