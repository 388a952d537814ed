#!/usr/bin/env bash
# Enrichment join: a trades CSV (10,000 symbols) joined with a 10,000-row
# table of symbols (sector, lot), at 1 shard and at all cores, against the
# same query without the join and against DuckDB with the same thread
# counts, in one run, interleaved. Three queries:
#   project   SELECT t.symbol, s.sector, price * s.lot .. JOIN   (blackhole output)
#   plain     the same SELECT without the join, the table's columns left out
#   grouped   revenue per sector: JOIN, GROUP BY s.sector, EMIT FINAL
# Reports rows/s and rows/s per shard (whole process, file read included);
# checks that corestream's and DuckDB's grouped results are equal.
#
#   scripts/enrichment.sh [ROWS]    (default 10000000; files are kept in $BENCH_DIR)
source "$(dirname "$0")/bench_common.sh"
rows=${1:-10000000}
rows=${rows//_/}
ensure_built
data=$(trades_csv "$rows" 10000)
table="$BENCH_DIR/symbols-10000.csv"
python3 - "$table" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("symbol,sector,lot\n")
    for i in range(1, 10001):
        out.write(f"SYM{i:05d},sector{i % 11},{i % 100 + 1}\n")
PY
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
ddl="CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP)
  WITH ('path' = '$data');
CREATE TABLE symbols (symbol VARCHAR, sector VARCHAR, lot BIGINT, PRIMARY KEY (symbol) NOT ENFORCED)
  WITH ('path' = '$table');"
declare -A sql=(
  [project]="SELECT t.symbol, s.sector, price * s.lot AS notional FROM trades t JOIN symbols s ON t.symbol = s.symbol"
  [plain]="SELECT t.symbol, price * qty AS notional FROM trades t"
  [grouped]="SELECT s.sector, COUNT(*) AS n, SUM(price * qty) AS revenue FROM trades t JOIN symbols s ON t.symbol = s.symbol GROUP BY s.sector EMIT FINAL"
)
out="$BENCH_DIR/enrichment"
mkdir -p "$out"
results="$out/runs.txt"
: > "$results"
echo "enrichment: $rows rows, machine: $(python3 scripts/benchlib.py machine)" >&2
for r in $(seq 1 "$REPEATS"); do
  for threads in $(one_and_all_cores); do
    for query in plain project grouped; do
      format=blackhole
      [ "$query" = grouped ] && format=csv
      /usr/bin/time -f "%e" -o "$out/time" "$BIN" run -q -e "$ddl ${sql[$query]}" \
        --shards "$threads" --format "$format" -o "$out/corestream-$query.csv"
      echo "corestream $query $threads $(cat "$out/time")" >> "$results"
    done
    if python3 -c 'import duckdb' 2>/dev/null; then
      /usr/bin/time -f "%e" -o "$out/time" python3 - "$data" "$table" "$threads" "$out/duckdb-grouped.csv" <<'PY'
import duckdb, sys
data, table, threads, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute(f"""COPY (SELECT s.sector, COUNT(*) AS n, SUM(price * qty) AS revenue
    FROM read_csv('{data}', header=true) t JOIN read_csv('{table}', header=true) s
    ON t.symbol = s.symbol GROUP BY s.sector ORDER BY s.sector)
    TO '{target}' (HEADER, DELIMITER ',')""")
PY
      echo "duckdb grouped $threads $(cat "$out/time")" >> "$results"
    fi
  done
done
python3 scripts/benchlib.py walls --rows "$rows" "$results"
if [ -s "$out/duckdb-grouped.csv" ]; then
  if python3 - "$out/corestream-grouped.csv" "$out/duckdb-grouped.csv" <<'PY'
import csv, math, sys
def rows(path):
    with open(path) as f:
        r = csv.reader(f); next(r)
        return sorted((s, int(n), float(v)) for s, n, v in r)
a, b = rows(sys.argv[1]), rows(sys.argv[2])
same = len(a) == len(b) and all(x[:2] == y[:2] and math.isclose(x[2], y[2], rel_tol=1e-9) for x, y in zip(a, b))
sys.exit(0 if same else 1)
PY
  then echo "grouped results: equal to DuckDB's (sums within 1e-9 relative: summation order differs)"; else echo "grouped results: DIFFER from DuckDB's"; exit 1; fi
fi
