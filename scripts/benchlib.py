#!/usr/bin/env python3
"""Bookkeeping for the benchmark scripts: medians, a results file, tables.

Every configuration is run several times (scripts/bench_common.sh); `record`
takes the runs' --stats-json files, keeps the median, and appends one JSON
line to a results file. `table` prints one suite's Markdown table from that
file; `report` writes results.json and results.md for all suites.

  benchlib.py record --results F --suite S --name N --runtime R --shards K
                     [--engine E] [--events N] [--median-by rate|p99]
                     [--histogram-suffix .hgrm] STATS.json ...
  benchlib.py record-timed --results F --suite S --name N --engine E
                     --shards K --rows N SECONDS ...
  benchlib.py table --results F --suite S
  benchlib.py report --results F --json OUT.json --md OUT.md [--mode M]
  benchlib.py machine
"""

import argparse
import json
import os
import platform
import statistics
import sys


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor() or 'unknown CPU'}"


def median_index(values):
    """Index of the median element (the lower median for an even count)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    return order[(len(order) - 1) // 2]


def append(path, row):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def cmd_record(a):
    runs = [json.load(open(p)) for p in a.stats]
    rates = [r["records_per_second"] for r in runs]
    seconds = [r["elapsed_seconds"] for r in runs]
    if a.median_by == "p99":
        pick = median_index([r.get("latency_us", {}).get("p99", 0) for r in runs])
    else:
        pick = median_index(rates)
    chosen = runs[pick]
    row = {
        "suite": a.suite,
        "name": a.name,
        "engine": a.engine,
        "runtime": a.runtime,
        "shards": a.shards,
        "records": chosen["records_read"],
        "records_per_second": statistics.median(rates),
        "seconds": statistics.median(seconds),
        "runs_records_per_second": rates,
        "latency_us": chosen.get("latency_us", {}),
        "rows_emitted": chosen.get("rows_emitted"),
    }
    if a.events:
        row["events"] = a.events
        row["events_per_second"] = a.events / row["seconds"]
    if a.rate:
        row["rate"] = a.rate
    if a.histogram_suffix:
        row["histogram"] = os.path.splitext(a.stats[pick])[0] + a.histogram_suffix
    append(a.results, row)
    spread = f"{min(rates):,.0f}..{max(rates):,.0f}"
    print(
        f"  {a.suite} {a.name} {a.runtime} shards={a.shards}: "
        f"{row['records_per_second']:,.0f} records/s (median of {len(rates)}: {spread})",
        file=sys.stderr,
    )


def cmd_record_timed(a):
    seconds = a.seconds
    row = {
        "suite": a.suite,
        "name": a.name,
        "engine": a.engine,
        "runtime": a.engine,
        "shards": a.shards,
        "records": a.rows,
        "records_per_second": a.rows / statistics.median(seconds),
        "seconds": statistics.median(seconds),
        "runs_records_per_second": [a.rows / s for s in seconds],
    }
    append(a.results, row)
    print(
        f"  {a.suite} {a.name} {a.engine} threads={a.shards}: "
        f"{row['records_per_second']:,.0f} rows/s (median of {len(seconds)})",
        file=sys.stderr,
    )


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def num(x):
    return f"{x:,.0f}"


def table_scaling(rows):
    out = ["| runtime | shards | records/s | speed-up | p50 us | p99 us |", "|---|---|---|---|---|---|"]
    base = {}
    for r in rows:
        b = base.setdefault(r["runtime"], r["records_per_second"])
        lat = r.get("latency_us", {})
        out.append(
            f"| {r['runtime']} | {r['shards']} | {num(r['records_per_second'])} | "
            f"{r['records_per_second'] / b:.2f}x | {lat.get('p50', '')} | {lat.get('p99', '')} |"
        )
    return out


def table_scenarios(rows):
    """Side by side: thread-per-core and shared-lock records/s per query and shard count."""
    keys = []
    cells = {}
    for r in rows:
        k = (r["name"], r["shards"])
        if k not in keys:
            keys.append(k)
        cells[(k, r["runtime"])] = r["records_per_second"]
    out = [
        "| scenario | shards | thread-per-core records/s | shared-lock records/s | tpc / shared-lock |",
        "|---|---|---|---|---|",
    ]
    for k in keys:
        tpc = cells.get((k, "thread-per-core"))
        lock = cells.get((k, "shared-lock"))
        ratio = f"{tpc / lock:.2f}x" if tpc and lock else ""
        out.append(
            f"| {k[0]} | {k[1]} | {num(tpc) if tpc else ''} | {num(lock) if lock else ''} | {ratio} |"
        )
    return out


def table_nexmark(rows):
    out = [
        "| query | shards | bids/s | events/s | events/s per shard | seconds | rows out |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        eps = r.get("events_per_second", 0)
        out.append(
            f"| {r['name']} | {r['shards']} | {num(r['records_per_second'])} | {num(eps)} | "
            f"{num(eps / r['shards'])} | {r['seconds']:.3f} | {r.get('rows_emitted', '')} |"
        )
    return out


def table_1brc(rows):
    out = ["| engine | threads | rows/s | seconds |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['engine']} | {r['shards']} | {num(r['records_per_second'])} | {r['seconds']:.3f} |")
    return out


def table_latency(rows):
    out = [
        "| query | runtime | shards | rate (events/s) | achieved records/s | p50 us | p90 us | p99 us | p99.9 us | max us |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lat = r.get("latency_us", {})
        out.append(
            f"| {r['name']} | {r['runtime']} | {r['shards']} | {num(r.get('rate', 0))} | "
            f"{num(r['records_per_second'])} | {lat.get('p50', '')} | {lat.get('p90', '')} | "
            f"{lat.get('p99', '')} | {lat.get('p999', '')} | {lat.get('max', '')} |"
        )
    return out


TABLES = {
    "scaling": ("Scaling: tumbling GROUP BY over 10,000 keys", table_scaling),
    "scenarios": ("Scenarios (trades generator, 10,000 keys)", table_scenarios),
    "nexmark": ("Nexmark (blackhole sink)", table_nexmark),
    "1brc": ("Billion-row challenge", table_1brc),
    "latency": ("Latency (paced trades generator, stateless query)", table_latency),
}


def cmd_table(a):
    rows = [r for r in load(a.results) if r["suite"] == a.suite]
    print("\n".join(TABLES[a.suite][1](rows)))


def cmd_report(a):
    rows = load(a.results)
    report = {"machine": machine(), "mode": a.mode, "repeats": a.repeats, "results": rows}
    with open(a.json, "w") as f:
        json.dump(report, f, indent=2)
    lines = [
        "# corestream benchmark results",
        "",
        f"Machine: {report['machine']}. Mode: {a.mode}. Each configuration ran "
        f"{a.repeats} times; the tables show the median.",
    ]
    for suite, (title, fn) in TABLES.items():
        chosen = [r for r in rows if r["suite"] == suite]
        if chosen:
            lines += ["", f"## {title}", ""] + fn(chosen)
    for note in a.note or []:
        lines += ["", note]
    with open(a.md, "w") as f:
        f.write("\n".join(lines) + "\n")


def cmd_walls(a):
    """Medians of "engine query threads seconds" lines, as rows/s per thread."""
    runs = {}
    for line in open(a.runs):
        engine, query, threads, wall = line.split()
        runs.setdefault((engine, query, int(threads)), []).append(float(wall))
    print(f"{'engine':10} {'query':8} {'threads':>7} {'seconds':>8} {'M rows/s':>9} {'per thread':>10}")
    for (engine, query, threads), walls in sorted(runs.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
        wall = statistics.median(walls)
        rate = a.rows / wall / 1e6
        print(f"{engine:10} {query:8} {threads:>7} {wall:>8.2f} {rate:>9.2f} {rate / threads:>10.2f}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--results", required=True)
    r.add_argument("--suite", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--engine", default="corestream")
    r.add_argument("--runtime", required=True)
    r.add_argument("--shards", type=int, required=True)
    r.add_argument("--events", type=int)
    r.add_argument("--rate", type=float)
    r.add_argument("--median-by", choices=["rate", "p99"], default="rate")
    r.add_argument("--histogram-suffix")
    r.add_argument("stats", nargs="+")
    t = sub.add_parser("record-timed")
    t.add_argument("--results", required=True)
    t.add_argument("--suite", required=True)
    t.add_argument("--name", required=True)
    t.add_argument("--engine", required=True)
    t.add_argument("--shards", type=int, required=True)
    t.add_argument("--rows", type=int, required=True)
    t.add_argument("seconds", type=float, nargs="+")
    tb = sub.add_parser("table")
    tb.add_argument("--results", required=True)
    tb.add_argument("--suite", required=True, choices=sorted(TABLES))
    rp = sub.add_parser("report")
    rp.add_argument("--results", required=True)
    rp.add_argument("--json", required=True)
    rp.add_argument("--md", required=True)
    rp.add_argument("--mode", default="full")
    rp.add_argument("--repeats", type=int, default=3)
    rp.add_argument("--note", action="append")
    w = sub.add_parser("walls")
    w.add_argument("--rows", type=int, required=True)
    w.add_argument("runs")
    sub.add_parser("machine")
    a = p.parse_args()
    if a.cmd == "record":
        cmd_record(a)
    elif a.cmd == "record-timed":
        cmd_record_timed(a)
    elif a.cmd == "table":
        cmd_table(a)
    elif a.cmd == "report":
        cmd_report(a)
    elif a.cmd == "walls":
        cmd_walls(a)
    else:
        print(machine())


if __name__ == "__main__":
    main()
