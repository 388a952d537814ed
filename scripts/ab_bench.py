#!/usr/bin/env python3
"""Two corestream binaries side by side, interleaved, on one machine.

    scripts/ab_bench.py BEFORE AFTER [--repeats 3] [--events 10000000]
        [--csv PATH] [--only NAME,...]

Each round runs every workload once with each binary (the order of the two
alternating from round to round), so that a noisy, shared machine slows both
alike; the table shows each side's median wall time and rate over the rounds
and the after/before speed ratio, then the median CPU time (user + system of
the run: less disturbed by other load on a shared machine) and its ratio. Rates are input records (events or CSV rows)
per second of wall time. The CSV workloads need --csv (a trades file with a
header: symbol,price,qty,ts; write one with --write-csv ROWS first).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

NEXMARK = "benches/nexmark"
GENERATOR_ONLY = (
    "CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, "
    "url VARCHAR, date_time TIMESTAMP, extra VARCHAR) "
    "WITH ('connector' = 'nexmark', 'table' = 'bid', 'events' = '{events}');\n"
    "SELECT auction FROM bid WHERE price < 0;"
)
CSV_GROUP_BY = "SELECT symbol, COUNT(*) AS n, SUM(qty) AS volume FROM trades GROUP BY symbol EMIT FINAL"


def workloads(events, csv_path, csv_rows):
    """(name, records, argv after the binary) for each workload."""
    found = [
        ("nexmark generator (filter drops all)", events,
         ["run", "-q", "-e", GENERATOR_ONLY.format(events=events), "--shards", "1"]),
    ]
    for query in ["q0", "q5", "q7"]:
        found.append((f"nexmark {query} 1 shard", events,
                      ["run", "-q", f"{NEXMARK}/{query}.sql", "--source-option",
                       f"bid.events={events}", "--shards", "1"]))
    if csv_path:
        for shards in [1, 2]:
            found.append((f"csv GROUP BY symbol {shards} shard(s)", csv_rows,
                          ["run", "-q", "-e", CSV_GROUP_BY, "--source", f"trades={csv_path}",
                           "--shards", str(shards)]))
    return [(name, records, argv + ["--format", "blackhole"]) for name, records, argv in found]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(binary, argv):
    """(wall seconds, CPU seconds) of one run."""
    began, cpu_before = time.perf_counter(), children_cpu()
    subprocess.run([binary] + argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began, children_cpu() - cpu_before


def write_csv(binary, path, rows):
    sql = "SELECT symbol, price, qty, ts FROM trades"
    with open(path, "wb") as out:
        subprocess.run([binary, "run", "-q", "-e", sql, "--source", "trades=generator:trades",
                        "--source-option", f"trades.events={rows}",
                        "--source-option", "trades.keys=2000", "--format", "csv"],
                       check=True, stdout=out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--csv")
    parser.add_argument("--write-csv", type=int, metavar="ROWS")
    parser.add_argument("--only", help="comma-separated workload name prefixes")
    args = parser.parse_args()
    csv_rows = 0
    if args.csv:
        if args.write_csv:
            write_csv(args.after, args.csv, args.write_csv)
        with open(args.csv, "rb") as f:
            csv_rows = sum(1 for _ in f) - 1
    chosen = workloads(args.events, args.csv, csv_rows)
    if args.only:
        prefixes = args.only.split(",")
        chosen = [w for w in chosen if any(w[0].startswith(p) for p in prefixes)]
    times = {(name, side): [] for name, _, _ in chosen for side in ("before", "after")}
    for round_ in range(args.repeats):
        order = [("before", args.before), ("after", args.after)]
        if round_ % 2:
            order.reverse()
        for name, _, argv in chosen:
            for side, binary in order:
                wall, cpu = timed(binary, argv)
                times[(name, side)].append((wall, cpu))
                print(f"round {round_ + 1} {name} {side}: {wall:.3f}s wall, {cpu:.3f}s CPU",
                      file=sys.stderr)
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} cores; median of {args.repeats}, interleaved")
    print("| workload | records | before s | after s | before M rec/s | after M rec/s | speed-up "
          "| before CPU s | after CPU s | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, records, _ in chosen:
        before = statistics.median(wall for wall, _ in times[(name, "before")])
        after = statistics.median(wall for wall, _ in times[(name, "after")])
        cpu_before = statistics.median(cpu for _, cpu in times[(name, "before")])
        cpu_after = statistics.median(cpu for _, cpu in times[(name, "after")])
        print(f"| {name} | {records:,} | {before:.3f} | {after:.3f} | "
              f"{records / before / 1e6:.2f} | {records / after / 1e6:.2f} | {before / after:.2f}x "
              f"| {cpu_before:.2f} | {cpu_after:.2f} | {cpu_before / cpu_after:.2f}x |")


if __name__ == "__main__":
    main()
