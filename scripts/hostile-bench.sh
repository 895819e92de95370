#!/usr/bin/env bash
# Peak memory and wall time of `check` against each hostile fake server (tests/fake/server.py),
# of a fleet of hostile fakes among the local PostgreSQL and MariaDB, and render times of
# reports holding one 200,000- and one 2,000,000-character string, in every format.
#
#   scripts/hostile-bench.sh [path/to/byod-precheck]
#
# Default binary: target/release/byod-precheck (or $CARGO_TARGET_DIR's). Needs python3 and GNU
# time (/usr/bin/time); the fleet row needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust)
# and MariaDB on 127.0.0.1:3306 (root, no password), as scripts/services.sh sets them up.
# Prints a Markdown table per part; each row ends with the command that reproduces it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$root/target}/release/byod-precheck}"
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release, or pass its path)" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Starts a fake server; prints its port.
fake() {
    local out="$work/fake.$1.$2"
    python3 "$root/tests/fake/server.py" "$1" "$2" --lifetime 120 >"$out" &
    pids+=($!)
    for _ in $(seq 100); do
        [ -s "$out" ] && { head -1 "$out"; return; }
        sleep 0.05
    done
    echo "the fake server $1 $2 did not start" >&2
    exit 2
}

# Runs the binary under GNU time; prints "peak MB | wall s | exit".
measure() {
    local t="$work/time"
    local code=0
    /usr/bin/time -v -o "$t" "$bin" "$@" >"$work/out" 2>"$work/err" || code=$?
    local kb wall
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$t")
    # m:ss.cc to seconds
    wall=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    printf '%.1f MB | %.2f s | %s' "$(echo "$kb / 1024" | bc -l)" "$wall" "$code"
}

limits=(--timeout 5 --connect-timeout 2 --check-timeout 2)
echo "## Fake servers (one check each: ${limits[*]})"
echo
echo "| scenario | peak RSS | wall | exit | reproduce |"
echo "|---|---|---|---|---|"
for s in "pg endless postgres" "pg paramflood postgres" "pg hugeerror postgres" "pg stall postgres" \
    "pg reset postgres" "pg hugerows postgres" "pg hugevalue postgres" "pg mediumrows postgres" \
    "pg md5thenclear postgres" "pg cleartext postgres" \
    "mysql continuation mysql" "mysql hugeerror mysql" "mysql stall mysql" "mysql hugerows mysql" \
    "mysql hugevalue mysql" "mysql mediumrows mysql" "mysql authswitch mysql" \
    "mysql greetswap mysql" "mysql cleartext mysql" \
    "tds endless mssql" "tds stall mssql"; do
    set -- $s
    port=$(fake "$1" "$2")
    url="$3://app:pw@127.0.0.1:$port/app"
    echo "| $1 $2 | $(measure check "$url" --format json "${limits[@]}") | \`python3 tests/fake/server.py $1 $2\` then \`/usr/bin/time -v byod-precheck check $3://app:pw@127.0.0.1:PORT/app --format json ${limits[*]}\` |"
done
# The same without a password: no pre-login look and no login watch, the driver alone.
for s in "pg hugeerror postgres" "mysql continuation mysql"; do
    set -- $s
    port=$(fake "$1" "$2")
    echo "| $1 $2, no password | $(measure check "$3://app@127.0.0.1:$port/app" --format json "${limits[@]}") | \`python3 tests/fake/server.py $1 $2\` then \`/usr/bin/time -v byod-precheck check $3://app@127.0.0.1:PORT/app --format json ${limits[*]}\` |"
done

echo
echo "## Fleet: the local PostgreSQL and MariaDB among hostile fakes (--concurrency 16)"
echo
targets="$work/targets.txt"
{
    echo "pg_ok=postgres://postgres@127.0.0.1:5432/postgres"
    echo "my_ok=mysql://root@127.0.0.1:3306/mysql"
    echo "endless=postgres://app:pw@127.0.0.1:$(fake pg endless)/app"
    echo "flood=postgres://app:pw@127.0.0.1:$(fake pg paramflood)/app"
    echo "stall=postgres://app:pw@127.0.0.1:$(fake pg stall)/app"
    echo "rows=mysql://app:pw@127.0.0.1:$(fake mysql hugerows)/app"
    echo "hugeerror=postgres://app@127.0.0.1:$(fake pg hugeerror)/app"
    echo "tds=mssql://app:pw@127.0.0.1:$(fake tds endless)/app"
} >"$targets"
echo "| fleet | peak RSS | wall | exit | reproduce |"
echo "|---|---|---|---|---|"
echo "| 2 real + 6 hostile | $(measure check --targets "$targets" --out-dir "$work/fleet" "${limits[@]}") | \`/usr/bin/time -v byod-precheck check --targets FILE --out-dir DIR ${limits[*]}\` (FILE as this script writes it) |"
echo
echo '```'
sed -n '/^Why:/,$p' "$work/out" | sed "s#127.0.0.1:[0-9]*#127.0.0.1:PORT#g"
echo '```'

echo
echo "## Render times (reports/examples/postgres-15.json with one long word in a message, an observed value and the server version)"
echo
echo "| characters | table | json | markdown | html | junit |"
echo "|---|---|---|---|---|---|"
for n in 200000 2000000; do
    report="$work/long-$n.json"
    python3 - "$root/reports/examples/postgres-15.json" "$report" "$n" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
w = "w" * int(sys.argv[3])
r["checks"][0]["message"] = w
r["checks"][0]["observed"] = w
r["server"]["version_raw"] = w
json.dump(r, open(sys.argv[2], "w"))
EOF
    row="| $n"
    for f in table json markdown html junit; do
        start=$(date +%s.%N)
        "$bin" render --format "$f" "$report" >/dev/null
        row="$row | $(echo "$(date +%s.%N) - $start" | bc -l | xargs printf '%.3f') s"
    done
    echo "$row |"
done
echo
echo "Reproduce a render: \`byod-precheck render --format FORMAT REPORT\` (REPORT as above)."
