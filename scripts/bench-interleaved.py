#!/usr/bin/env python3
"""Compares builds of byod-precheck on a loaded machine: runs each binary in turn, round after
round, so that every binary meets the same load, and prints the medians of wall time and CPU
(user+sys, from wait4) and the largest peak RSS.

    scripts/bench-interleaved.py ROUNDS BIN_A,BIN_B[,...] -- ARGS...

ARGS are byod-precheck's own, e.g.

    scripts/bench-interleaved.py 31 old/byod-precheck,new/byod-precheck -- \\
        check postgres://postgres@127.0.0.1:5432/test --format json
    scripts/bench-interleaved.py 5 old,new -- check --targets t.txt --out-dir /tmp/o \\
        --concurrency 16 --format json

Output goes to /dev/null; a run that exits with 2 or more is reported and not counted.
"""
import os
import statistics
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    rounds, bins, args = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[4:]
    runs = {b: [] for b in bins}
    for _ in range(rounds):
        for b in bins:
            t = time.perf_counter()
            p = subprocess.Popen([b, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t
            code = os.waitstatus_to_exitcode(status)
            if code >= 2 or code < 0:
                print(f"{b}: exit {code}, not counted", file=sys.stderr)
                continue
            runs[b].append((wall * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024))
    for b, v in runs.items():
        if not v:
            print(f"{b}: no run counted")
            continue
        w = statistics.median(x[0] for x in v)
        c = statistics.median(x[1] for x in v)
        m = max(x[2] for x in v)
        print(f"{b}: wall {w:.1f} ms, CPU {c:.1f} ms, peak RSS {m:.1f} MB (median of {len(v)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
