#!/usr/bin/env bash
# High-cardinality GROUP BY: COUNT and SUM per (symbol, price) over a trades
# CSV where almost every row is its own group, written as CSV; corestream at
# 1 shard and at all cores, DuckDB with the same thread counts on the same
# file, in the same run, interleaved. Reports seconds (wall, whole process:
# both read the file and write every group), peak resident memory, and bytes
# of peak memory per group; checks both wrote the same rows.
#
#   scripts/high_cardinality.sh [ROWS]    (default 3000000; the file is kept in $BENCH_DIR)
#
# CORESTREAM_BIN picks the binary; OTHER_BIN, when set, is measured too (e.g.
# the previous release) for a side-by-side ratio.
source "$(dirname "$0")/bench_common.sh"
rows=${1:-3000000}
rows=${rows//_/}
ensure_built
data=$(trades_csv "$rows")
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
sql="SELECT symbol, price, COUNT(*) AS n, SUM(qty) AS volume FROM t GROUP BY symbol, price EMIT FINAL"
out="$BENCH_DIR/high_cardinality"
mkdir -p "$out"
results="$out/runs.txt"
: > "$results"
bins=("$BIN")
[ -z "${OTHER_BIN:-}" ] || bins+=("$OTHER_BIN")
echo "high cardinality: $rows rows, machine: $(python3 scripts/benchlib.py machine)" >&2
for r in $(seq 1 "$REPEATS"); do
  for threads in $(one_and_all_cores); do
    for bin in "${bins[@]}"; do
      /usr/bin/time -f "%e %M" -o "$out/time" "$bin" run -q -e "$sql" --source t="$data" \
        --shards "$threads" --format csv -o "$out/corestream.csv"
      echo "$bin $threads $(cat "$out/time")" >> "$results"
    done
    if python3 -c 'import duckdb' 2>/dev/null; then
      /usr/bin/time -f "%e %M" -o "$out/time" python3 - "$data" "$threads" "$out/duckdb.csv" <<'PY'
import duckdb, sys
data, threads, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute(f"""COPY (SELECT symbol, price, COUNT(*) AS n, SUM(qty) AS volume
    FROM read_csv('{data}', header=true) GROUP BY symbol, price ORDER BY symbol, price)
    TO '{target}' (HEADER, DELIMITER ',')""")
PY
      echo "duckdb $threads $(cat "$out/time")" >> "$results"
    fi
  done
done
groups=$(($(wc -l < "$out/corestream.csv") - 1))
python3 - "$results" "$groups" <<'PY'
import statistics, sys
runs, groups = {}, int(sys.argv[2])
for line in open(sys.argv[1]):
    engine, threads, wall, kb = line.split()
    runs.setdefault((engine, int(threads)), []).append((float(wall), int(kb)))
print(f"{groups} groups")
print(f"{'engine':40} {'threads':>7} {'seconds':>8} {'peak MB':>8} {'bytes/group':>11}")
for (engine, threads), values in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    wall = statistics.median(v[0] for v in values)
    kb = statistics.median(v[1] for v in values)
    print(f"{engine:40} {threads:>7} {wall:>8.2f} {kb / 1024:>8.0f} {kb * 1024 / groups:>11.0f}")
PY
if [ -s "$out/duckdb.csv" ]; then
  if python3 - "$out/corestream.csv" "$out/duckdb.csv" <<'PY'
import csv, sys
def rows(path):
    with open(path) as f:
        r = csv.reader(f); next(r)
        return sorted((s, float(p), int(n), int(v)) for s, p, n, v in r)
sys.exit(0 if rows(sys.argv[1]) == rows(sys.argv[2]) else 1)
PY
  then echo "results: equal to DuckDB's"; else echo "results: DIFFER from DuckDB's"; exit 1; fi
fi
