#!/usr/bin/env bash
# Regenerates reports/examples/ from real servers: the machine's PostgreSQL 15 and MariaDB, a
# SQLite file, and the SQL Server peers that scripts/services.sh starts. Each example's scene
# (a restricted role on a SQL_ASCII read-only database, a failed login, ...) is built here and
# dropped afterwards. Then it prints, per example, what changed against the committed one in
# check ids and statuses (times, dates and sizes always change and are not shown).
#
# Usage: scripts/examples.sh [BIN]      (default: target/debug/byod-precheck)
#        KEEP=1 scripts/examples.sh     (leave the new files in place; default: compare only)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/byod-precheck}
OUT=$(mktemp -d)
SQLITE_DIR=$(mktemp -d)
PSQL=(psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres)
cleanup() {
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS shop" -c "DROP ROLE IF EXISTS shop_app" >/dev/null 2>&1 || true
  rm -rf "$SQLITE_DIR" "$OUT"
}
trap cleanup EXIT INT TERM

check() { # NAME URL [ARGS...]: the report as JSON (a failing check exits 1, which is expected)
  local name=$1 url=$2
  shift 2
  "$BIN" check "$url" --format json "$@" >"$OUT/$name.json" || [[ $? -eq 1 ]]
}

# The restricted scene: a SQL_ASCII database set read-only by default, a role that may connect
# but not create, with a table it cannot read.
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS shop" -c "DROP ROLE IF EXISTS shop_app" \
  -c "CREATE ROLE shop_app LOGIN" \
  -c "CREATE DATABASE shop ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d shop \
  -c "REVOKE TEMPORARY ON DATABASE shop FROM PUBLIC" \
  -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC" \
  -c "CREATE TABLE orders (id int PRIMARY KEY)" \
  -c "ALTER DATABASE shop SET default_transaction_read_only = on" >/dev/null

check postgres-15 "postgres://postgres@127.0.0.1:5432/test"
check postgres-15-restricted "postgres://shop_app@127.0.0.1:5432/shop?sslmode=disable&application_name=shop"
check postgres-auth-failed "postgres://app@127.0.0.1:5432/nosuchdb?sslmode=disable"
check mariadb-10.11 "mysql://root@127.0.0.1:3306/test"
python3 -c "import sqlite3; sqlite3.connect('$SQLITE_DIR/app.db').execute('CREATE TABLE t (id INTEGER PRIMARY KEY)')"
check sqlite "sqlite://$SQLITE_DIR/app.db"
# The SQL Server peers (scripts/mssql-peer.sh; their URLs carry the test login's password).
MSSQL_CA=${BYOD_TEST_SERVERS:-/var/tmp/byod-precheck-test-servers}/mssql/tls/ca.pem
check mssql-2022-peer "$(scripts/mssql-peer.sh start sql2022 2>/dev/null | tail -1)?ca=$MSSQL_CA"
check mssql-2016-express-oldcompat-peer \
  "$(scripts/mssql-peer.sh start sql2016-oldcompat 2>/dev/null | tail -1)?trust_server_certificate=true"

python3 - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for new_path in sorted(out.glob("*.json")):
    old_path = pathlib.Path("reports/examples") / new_path.name
    new = json.loads(new_path.read_text())
    old = json.loads(old_path.read_text()) if old_path.exists() else {"checks": []}
    o = {c["id"]: c["status"] for c in old["checks"]}
    n = {c["id"]: c["status"] for c in new["checks"]}
    lines = []
    lines += [f"  + {i} ({n[i]})" for i in n if i not in o]
    lines += [f"  - {i} ({o[i]})" for i in o if i not in n]
    lines += [f"  ~ {i}: {o[i]} -> {n[i]}" for i in n if i in o and o[i] != n[i]]
    if [i for i in n if i in o] != [i for i in o if i in n]:
        lines.append("  order of the common checks changed")
    print(f"{new_path.stem}: {len(o)} -> {len(n)} checks, summary {new['summary']['status']}")
    print("\n".join(lines) if lines else "  same checks, same statuses")
PY
if [[ ${KEEP:-} == 1 ]]; then
  cp "$OUT"/*.json reports/examples/
  echo "written to reports/examples/"
fi
