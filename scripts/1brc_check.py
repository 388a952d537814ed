#!/usr/bin/env python3
"""The billion-row challenge's other side: DuckDB runs, and result checks.

  1brc_check.py duckdb FILE THREADS OUT.csv   run DuckDB with THREADS threads,
                                              write station,min,mean,max sorted
                                              by station; print the query seconds
  1brc_check.py python FILE OUT.csv           the same result in plain Python
                                              (a slow reference for small files)
  1brc_check.py compare A.csv B.csv           compare two results, rounding to one
                                              decimal; prints 'match' or the
                                              differences; exit 1 on a mismatch
"""

import csv
import sys
import time


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["station", "min", "mean", "max"])
        for row in sorted(rows):
            w.writerow(row)


def run_duckdb(path, threads, out):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    query = (
        "SELECT station, MIN(temperature), AVG(temperature), MAX(temperature) "
        "FROM read_csv(?, delim = ';', header = false, "
        "columns = {'station': 'VARCHAR', 'temperature': 'DOUBLE'}) GROUP BY station"
    )
    start = time.perf_counter()
    rows = con.execute(query, [path]).fetchall()
    seconds = time.perf_counter() - start
    write(out, rows)
    print(f"{seconds:.6f}")


def run_python(path, out):
    acc = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            station, _, text = line.rstrip("\n").partition(";")
            t = float(text)
            a = acc.get(station)
            if a is None:
                acc[station] = [t, t, t, 1]
            else:
                a[0] = min(a[0], t)
                a[1] += t
                a[2] = max(a[2], t)
                a[3] += 1
    write(out, [(s, a[0], a[1] / a[3], a[2]) for s, a in acc.items()])


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {r["station"]: tuple(float(r[k]) for k in ("min", "mean", "max")) for r in rows}


def same(a, b):
    # Sums in another order can differ in the last bits; allow that before rounding.
    return round(a, 1) == round(b, 1) or abs(a - b) < 1e-9 * max(1.0, abs(a))


def compare(left, right):
    a, b = read(left), read(right)
    problems = []
    for station in sorted(set(a) | set(b)):
        if station not in a or station not in b:
            problems.append(f"{station}: only in {'the first' if station in a else 'the second'}")
        elif not all(same(x, y) for x, y in zip(a[station], b[station])):
            problems.append(f"{station}: {a[station]} vs {b[station]}")
    if problems:
        print(f"MISMATCH ({len(problems)} stations), e.g. " + "; ".join(problems[:3]))
        sys.exit(1)
    print(f"match ({len(a)} stations)")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "duckdb":
        run_duckdb(*args)
    elif cmd == "python":
        run_python(*args)
    elif cmd == "compare":
        compare(*args)
    else:
        sys.exit(__doc__)
