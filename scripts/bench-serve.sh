#!/usr/bin/env bash
# Benchmark of `byod-precheck serve` (not a test): 16 concurrent clients POST checks of the
# local PostgreSQL for 10 s; printed beside `check --targets` at the same concurrency on the
# same number of checks. Figures: throughput (checks/s), latency p50/p99, the service's peak
# RSS. Targets: throughput >= 90% of the CLI's, p99 < 100 ms, peak RSS < 64 MB.
#
# Usage: scripts/bench-serve.sh [URL]   (default postgres://postgres@127.0.0.1:5432/test)
# Env: CLIENTS (16), SECONDS_RUN (10), BIN (default: a release build, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:-postgres://postgres@127.0.0.1:5432/test}
CLIENTS=${CLIENTS:-16}
SECONDS_RUN=${SECONDS_RUN:-10}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/byod-precheck}
if [[ ! -x $BIN ]]; then
  cargo build --release --bin byod-precheck >&2
fi
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$BIN" serve --listen 127.0.0.1:0 --allow-target 127.0.0.1 --max-concurrent "$CLIENTS" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do
  addr=$(sed -n 's/.*listening on http:\/\///p' "$work/serve.log" | head -n1)
  [[ -n $addr ]] && break
  sleep 0.1
done
[[ -n ${addr:-} ]] || { cat "$work/serve.log" >&2; exit 1; }

# The load: CLIENTS threads, each posting checks back to back for SECONDS_RUN seconds.
python3 - "$addr" "$URL" "$CLIENTS" "$SECONDS_RUN" >"$work/serve.json" <<'PY'
import http.client, json, sys, threading, time
addr, url, clients, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
host, port = addr.rsplit(':', 1)
body = json.dumps({"url": url}).encode()
lat, bad, lock = [], [], threading.Lock()
stop = time.monotonic() + secs
def client():
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    while time.monotonic() < stop:
        t = time.monotonic()
        c.request("POST", "/v1/checks", body, {"Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        dt = time.monotonic() - t
        with lock:
            (lat if r.status == 200 else bad).append(dt if r.status == 200 else r.status)
started = time.monotonic()
ts = [threading.Thread(target=client) for _ in range(clients)]
[t.start() for t in ts]; [t.join() for t in ts]
wall = time.monotonic() - started
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float('nan')
print(json.dumps({"checks": len(lat), "errors": len(bad), "wall": wall,
                  "rate": len(lat) / wall, "p50": q(0.50), "p99": q(0.99)}))
PY
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true

# The CLI on the same number of checks, the same concurrency.
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"])' "$work/serve.json")
for i in $(seq "$n"); do echo "t$i=$URL"; done >"$work/targets.txt"
t0=$(date +%s.%N)
"$BIN" check --targets "$work/targets.txt" --concurrency "$CLIENTS" --out-dir "$work/out" --format json >/dev/null || true
t1=$(date +%s.%N)
cli_rss=$( { /usr/bin/time -f '%M' "$BIN" check --targets "$work/targets.txt" --concurrency "$CLIENTS" --out-dir "$work/out2" --format json >/dev/null; } 2>&1 | tail -n1 || echo '?')

python3 - "$work/serve.json" "$t0" "$t1" "$n" "$rss_kb" "$cli_rss" "$CLIENTS" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t0, t1, n = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rss, cli_rss, clients = int(sys.argv[5]), sys.argv[6], sys.argv[7]
cli_rate = n / (t1 - t0)
ratio = s["rate"] / cli_rate * 100
print(f"{clients} concurrent checks of the local PostgreSQL")
print(f"{'':28}{'serve (HTTP)':>16}{'check --targets':>18}")
print(f"{'checks':28}{s['checks']:>16}{n:>18}")
print(f"{'throughput (checks/s)':28}{s['rate']:>16.1f}{cli_rate:>18.1f}")
print(f"{'latency p50 / p99 (ms)':28}{s['p50']:>7.1f} / {s['p99']:<6.1f}{'-':>18}")
print(f"{'peak RSS (MB)':28}{rss/1024:>16.1f}{(int(cli_rss)/1024 if cli_rss.isdigit() else float('nan')):>18.1f}")
print(f"{'non-200 answers':28}{s['errors']:>16}")
print(f"serve/CLI throughput: {ratio:.0f}% (target >= 90%); p99 {s['p99']:.1f} ms (target < 100); peak RSS {rss/1024:.1f} MB (target < 64)")
PY
