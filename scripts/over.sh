#!/usr/bin/env bash
# OVER windows: a trades CSV (2,000 symbols) read plainly and with three OVER
# queries, at 1 shard and at all cores, against DuckDB's window functions
# with the same thread counts, in one run, interleaved. Queries:
#   plain     SELECT symbol, price                             (the read alone)
#   running   SUM(qty) OVER (PARTITION BY symbol ORDER BY ts)  (running total)
#   moving    AVG(price) OVER (.. ROWS 9 PRECEDING)            (moving average)
#   lag       price - LAG(price) OVER (PARTITION BY symbol ORDER BY ts)
#   top3      ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY price DESC)
#             .. WHERE rn <= 3 (a Top-N; EMIT CHANGES, its default)
# corestream writes to blackhole; DuckDB sums the window column, so that it
# computes every row's value without writing them (for top3, the prices of
# the rows QUALIFY keeps, compared with corestream's EMIT FINAL rows). Reports rows/s (whole
# process, file read included) and checks that the sum of each query's
# column is the same in both engines.
#
#   scripts/over.sh [ROWS]    (default 5000000; files are kept in $BENCH_DIR)
source "$(dirname "$0")/bench_common.sh"
rows=${1:-5000000}
rows=${rows//_/}
ensure_built
data=$(trades_csv "$rows" 2000)
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
w="PARTITION BY symbol ORDER BY ts"
declare -A sql=(
  [plain]="SELECT symbol, price AS v FROM trades"
  [running]="SELECT symbol, SUM(qty) OVER ($w) AS v FROM trades"
  [moving]="SELECT symbol, AVG(price) OVER ($w ROWS 9 PRECEDING) AS v FROM trades"
  [lag]="SELECT symbol, price - LAG(price) OVER ($w) AS v FROM trades"
  [top3]="SELECT symbol, price AS v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY price DESC) AS rn FROM trades) WHERE rn <= 3"
)
# The query whose rows the sum check reads (a Top-N's final rows).
declare -A final=([top3]="${sql[top3]} EMIT FINAL")
# DuckDB orders peers (same ts) by file position, as corestream does.
declare -A duck=(
  [running]="SUM(qty) OVER (PARTITION BY symbol ORDER BY ts)"
  [moving]="AVG(price) OVER (PARTITION BY symbol ORDER BY ts, pos ROWS 9 PRECEDING)"
  [lag]="price - LAG(price) OVER (PARTITION BY symbol ORDER BY ts, pos)"
  [top3]="QUALIFY row_number() OVER (PARTITION BY symbol ORDER BY price DESC, pos) <= 3"
)
out="$BENCH_DIR/over"
mkdir -p "$out"
results="$out/runs.txt"
: > "$results"
echo "over: $rows rows, machine: $(python3 scripts/benchlib.py machine)" >&2
for r in $(seq 1 "$REPEATS"); do
  for threads in $(one_and_all_cores); do
    for query in plain running moving lag top3; do
      /usr/bin/time -f "%e" -o "$out/time" "$BIN" run -q -e "${sql[$query]}" \
        --source trades="$data" --shards "$threads" --format blackhole
      echo "corestream $query $threads $(cat "$out/time")" >> "$results"
      [ "$query" = plain ] && continue
      /usr/bin/time -f "%e" -o "$out/time" python3 - "$data" "$threads" "${duck[$query]}" \
        "$out/duckdb-$query.txt" <<'PY'
import duckdb, sys
data, threads, window, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
con = duckdb.connect()
con.execute(f"SET threads={threads}")
source = f"(SELECT *, row_number() OVER () AS pos FROM read_csv('{data}', header=true))"
if window.startswith("QUALIFY"):
    query = f"SELECT SUM(price) FROM (SELECT price FROM {source} {window})"
else:
    query = f"SELECT SUM(v) FROM (SELECT {window} AS v FROM {source})"
total = con.execute(query).fetchone()[0]
open(target, "w").write(f"{total}\n")
PY
      echo "duckdb $query $threads $(cat "$out/time")" >> "$results"
    done
  done
done
python3 scripts/benchlib.py walls --rows "$rows" "$results"
# The same sums from corestream's rows (one run per query, 1 shard).
for query in running moving lag top3; do
  [ -s "$out/duckdb-$query.txt" ] || continue
  "$BIN" run -q -e "${final[$query]:-${sql[$query]}}" --source trades="$data" --format csv -o "$out/rows.csv"
  ours=$(python3 -c "
import csv, sys
rows = csv.DictReader(open(sys.argv[1]))
print(sum(float(r['v']) for r in rows if r['v'] != ''))" "$out/rows.csv")
  rm -f "$out/rows.csv"
  theirs=$(cat "$out/duckdb-$query.txt")
  if python3 -c "import math,sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if math.isclose(a,b,rel_tol=1e-9) else 1)" "$ours" "$theirs"; then
    echo "$query: sum equal to DuckDB's ($ours)"
  else
    echo "$query: sum DIFFERS: corestream $ours, DuckDB $theirs"; exit 1
  fi
done
