#!/usr/bin/env python3
"""Live-output latency as a reader sees it: writes one CSV line every 200 ms
to corestream's standard input and timestamps each output line as it arrives;
prints the median and worst delay between writing a line and reading its row.

    scripts/slow_producer.py [LINES] [-- extra corestream run options]
"""
import subprocess, sys, threading, time

lines = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--" else 20
extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
binary = "target/release/corestream"
sql = ("CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) "
       "WITH ('path' = '-', 'format' = 'csv', 'header' = 'false'); "
       "SELECT symbol, price * qty AS notional, ts FROM trades")
proc = subprocess.Popen([binary, "run", "-q", "-e", sql, *extra], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, bufsize=0)
seen = []
def read():
    for line in proc.stdout:
        seen.append(time.monotonic())
reader = threading.Thread(target=read)
reader.start()
written = []
time.sleep(0.5)  # let the run start: its start-up is not what is measured
for i in range(lines):
    written.append(time.monotonic())
    proc.stdin.write(f"S{i},1.5,3,2026-01-01T00:00:{i % 60:02d}Z\n".encode())
    proc.stdin.flush()
    time.sleep(0.2)
proc.stdin.close()
proc.wait()
reader.join()
delays = sorted((s - w) * 1000 for w, s in zip(written, seen))
print(f"slow producer: {len(seen)}/{lines} rows; delay from line written to row read: "
      f"median {delays[len(delays) // 2]:.2f} ms, worst {delays[-1]:.2f} ms")
