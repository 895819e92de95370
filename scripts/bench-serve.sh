#!/usr/bin/env bash
# Benchmark of `byod-precheck serve` (not a test): CLIENTS concurrent clients POST checks of the
# local PostgreSQL for SECONDS_RUN s, then `check --targets` runs the same number of checks at the
# same concurrency; ROUNDS rounds alternate the two, so a machine shared with other work loads
# both alike. Printed side by side: throughput, latency (the client's, and each check's own
# `duration_ms`), CPU per check, peak RSS, and the PostgreSQL sessions and transactions each
# check cost the server. Targets: throughput >= 90% of the CLI's, p99 < 100 ms, peak RSS < 64 MB.
#
# Usage: scripts/bench-serve.sh [URL]   (default postgres://postgres@127.0.0.1:5432/test)
# Env: CLIENTS (16), SECONDS_RUN (10), ROUNDS (2), MAX_CONCURRENT (the service's
# --max-concurrent; default CLIENTS), BIN (default: a release build, built if missing).
# BYOD_PRECHECK_SHARE_TTL=0 turns the service's per-server sharing off (to measure without it).
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:-postgres://postgres@127.0.0.1:5432/test}
CLIENTS=${CLIENTS:-16}
SECONDS_RUN=${SECONDS_RUN:-10}
ROUNDS=${ROUNDS:-2}
MAX_CONCURRENT=${MAX_CONCURRENT:-$CLIENTS}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/byod-precheck}
if [[ ! -x $BIN ]]; then
  cargo build --release --bin byod-precheck >&2
fi
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# Sessions and transactions the server counted for the target's database (pg_stat_database;
# its counters are flushed within a second of a session's end).
server_counts() {
  sleep 1.2
  psql "$URL" -X -A -t -c "SELECT sessions || ' ' || (xact_commit + xact_rollback) FROM pg_stat_database WHERE datname = current_database()" 2>/dev/null ||
    echo "0 0"
}
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

serve_round() { # $1: round number; writes $work/serve-$1.json
  local r=$1 addr=
  "$BIN" serve --listen 127.0.0.1:0 --allow-target 127.0.0.1 --max-concurrent "$MAX_CONCURRENT" 2>"$work/serve-$r.log" &
  pid=$!
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*listening on http:\/\///p' "$work/serve-$r.log" | head -n1)
    [[ -n $addr ]] && break
    sleep 0.1
  done
  [[ -n $addr ]] || { cat "$work/serve-$r.log" >&2; exit 1; }
  local before cpu0 cpu1 after
  before=$(server_counts)
  cpu0=$(cpu_ticks "$pid")
  # The load: CLIENTS threads, each posting checks back to back on one keep-alive connection.
  python3 - "$addr" "$URL" "$CLIENTS" "$SECONDS_RUN" >"$work/load-$r.json" <<'PY'
import http.client, json, resource, sys, threading, time
addr, url, clients, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
host, port = addr.rsplit(':', 1)
body = json.dumps({"url": url}).encode()
lat, own, bad, lock = [], [], [], threading.Lock()
stop = time.monotonic() + secs
def client():
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    while time.monotonic() < stop:
        t = time.monotonic()
        c.request("POST", "/v1/checks", body, {"Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        dt = time.monotonic() - t
        with lock:
            if r.status == 200:
                lat.append(dt * 1000); own.append(json.loads(data)["duration_ms"])
            else:
                bad.append(r.status)
started = time.monotonic()
ts = [threading.Thread(target=client) for _ in range(clients)]
[t.start() for t in ts]; [t.join() for t in ts]
wall = time.monotonic() - started
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"checks": len(lat), "errors": len(bad), "wall": wall, "lat": lat, "own": own,
                  "client_cpu_s": ru.ru_utime + ru.ru_stime}))
PY
  cpu1=$(cpu_ticks "$pid")
  local rss_kb
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true; pid=
  after=$(server_counts)
  python3 - "$work/load-$r.json" "$cpu0" "$cpu1" "$rss_kb" "$before" "$after" "$(getconf CLK_TCK)" "$work/serve-$r.log" >"$work/serve-$r.json" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
tick = int(sys.argv[7])
# The service's own time per request, from its access log ("POST /v1/checks -> 200 in N ms").
s["served"] = [int(m.group(1)) for m in re.finditer(r"POST /v1/checks -> 200 in (\d+) ms", open(sys.argv[8]).read())]
b, a = [int(x) for x in sys.argv[5].split()], [int(x) for x in sys.argv[6].split()]
s.update(cpu_s=(int(sys.argv[3]) - int(sys.argv[2])) / tick, rss_kb=int(sys.argv[4]),
         sessions=a[0] - b[0], xacts=a[1] - b[1])
print(json.dumps(s))
PY
}

cli_round() { # $1: round number, $2: number of checks; writes $work/cli-$1.json
  local r=$1 n=$2 before after t0 t1
  for i in $(seq "$n"); do echo "t$i=$URL"; done >"$work/targets.txt"
  rm -rf "$work/out"
  before=$(server_counts)
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$work/time-$r" \
    "$BIN" check --targets "$work/targets.txt" --concurrency "$CLIENTS" --out-dir "$work/out" --format json >/dev/null || true
  t1=$(date +%s.%N)
  after=$(server_counts)
  python3 - "$work/out/summary.json" "$t0" "$t1" "$work/time-$r" "$before" "$after" >"$work/cli-$r.json" <<'PY'
import json, sys
summ = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
rss_kb, u, s = open(sys.argv[4]).read().split()[-3:]
b, a = [int(x) for x in sys.argv[5].split()], [int(x) for x in sys.argv[6].split()]
own = [e["duration_ms"] for e in summ["entries"] if e["status"] != "error"]
print(json.dumps({"checks": len(own), "errors": len(summ["entries"]) - len(own), "wall": wall,
                  "own": own, "cpu_s": float(u) + float(s), "rss_kb": int(rss_kb),
                  "sessions": a[0] - b[0], "xacts": a[1] - b[1]}))
PY
}

for r in $(seq "$ROUNDS"); do
  serve_round "$r"
  n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"])' "$work/serve-$r.json")
  cli_round "$r" "$n"
done

python3 - "$work" "$ROUNDS" "$CLIENTS" "$MAX_CONCURRENT" "${BYOD_PRECHECK_SHARE_TTL:-default}" <<'PY'
import json, sys
work, rounds, clients, maxc, ttl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float('nan')
print(f"{clients} concurrent checks of the local PostgreSQL, {rounds} alternating rounds "
      f"(serve --max-concurrent {maxc}, share TTL {ttl})")
ratios = []
for r in range(1, rounds + 1):
    s = json.load(open(f"{work}/serve-{r}.json")); c = json.load(open(f"{work}/cli-{r}.json"))
    sr, cr = s["checks"] / s["wall"], c["checks"] / c["wall"]
    ratios.append(sr / cr * 100)
    n_s, n_c = max(s["checks"], 1), max(c["checks"], 1)
    rows = [
        ("checks (errors)", f"{s['checks']} ({s['errors']})", f"{c['checks']} ({c['errors']})"),
        ("wall (s)", f"{s['wall']:.2f}", f"{c['wall']:.2f}"),
        ("throughput (checks/s)", f"{sr:.1f}", f"{cr:.1f}"),
        ("client latency p50 / p99 (ms)", f"{q(s['lat'], .5):.0f} / {q(s['lat'], .99):.0f}", "-"),
        ("request time in the service p50 / p99", f"{q(s['served'], .5):.0f} / {q(s['served'], .99):.0f}", "-"),
        ("check duration_ms p50 / p99", f"{q(s['own'], .5):.0f} / {q(s['own'], .99):.0f}",
         f"{q(c['own'], .5):.0f} / {q(c['own'], .99):.0f}"),
        ("mean latency = clients/throughput (ms)", f"{clients / sr * 1000:.0f}", f"{clients / cr * 1000:.0f}"),
        ("CPU per check (ms)", f"{s['cpu_s'] / n_s * 1000:.2f}", f"{c['cpu_s'] / n_c * 1000:.2f}"),
        ("load generator CPU per check (ms)", f"{s['client_cpu_s'] / n_s * 1000:.2f}", "-"),
        ("peak RSS (MB)", f"{s['rss_kb'] / 1024:.1f}", f"{c['rss_kb'] / 1024:.1f}"),
        ("server sessions per check", f"{s['sessions'] / n_s:.2f}", f"{c['sessions'] / n_c:.2f}"),
        ("server transactions per check", f"{s['xacts'] / n_s:.2f}", f"{c['xacts'] / n_c:.2f}"),
    ]
    print(f"\nround {r}")
    print(f"{'':40}{'serve (HTTP)':>16}{'check --targets':>18}")
    for name, a, b in rows:
        print(f"{name:40}{a:>16}{b:>18}")
last = json.load(open(f"{work}/serve-{rounds}.json"))
p99 = max(q(json.load(open(f"{work}/serve-{r}.json"))["lat"], .99) for r in range(1, rounds + 1))
rss = max(json.load(open(f"{work}/serve-{r}.json"))["rss_kb"] for r in range(1, rounds + 1)) / 1024
print(f"\nserve/CLI throughput per round: {', '.join(f'{x:.0f}%' for x in ratios)} (target >= 90%); "
      f"worst p99 {p99:.0f} ms (target < 100); peak RSS {rss:.1f} MB (target < 64)")
PY
