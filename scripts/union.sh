#!/usr/bin/env bash
# UNION ALL: what reading two sources as one costs. A trades CSV (2,000
# symbols) is split into two files by row parity (both span the whole time
# range); a 1-minute tumbling GROUP BY runs over the whole file (`one`), over
# `SELECT * FROM a UNION ALL SELECT * FROM b` (`union`: rows passed through),
# and over branches that project and filter (`union_proj`: `SELECT ts,
# symbol, qty .. WHERE qty > 0`, which every row passes, so the three count
# the same rows), at 1 shard and at all cores, interleaved; DuckDB runs the
# union with the same threads. Checks that the union's rows equal the whole
# file's. Reports rows/s (whole process, file read included).
#
#   scripts/union.sh [ROWS]    (default 5000000; files are kept in $BENCH_DIR)
source "$(dirname "$0")/bench_common.sh"
rows=${1:-5000000}
rows=${rows//_/}
ensure_built
data=$(trades_csv "$rows" 2000)
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
out="$BENCH_DIR/union"
mkdir -p "$out"
half_a="$out/a-$rows.csv" half_b="$out/b-$rows.csv"
if [ ! -s "$half_a" ] || [ ! -s "$half_b" ]; then
  awk -v a="$half_a" -v b="$half_b" 'NR == 1 { print > a; print > b; next }
    NR % 2 == 0 { print > a; next } { print > b }' "$data"
fi
group="GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE) EMIT FINAL"
select="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume"
declare -A sql=(
  [one]="$select FROM trades $group"
  [union]="$select FROM (SELECT * FROM a UNION ALL SELECT * FROM b) $group"
  [union_proj]="$select FROM (SELECT ts, symbol, qty FROM a WHERE qty > 0
    UNION ALL SELECT ts, symbol, qty FROM b WHERE qty > 0) $group"
)
sources=(--source trades="$data" --source a="$half_a" --source b="$half_b")
results="$out/runs.txt"
: > "$results"
echo "union: $rows rows, machine: $(python3 scripts/benchlib.py machine)" >&2
for r in $(seq 1 "$REPEATS"); do
  for threads in $(one_and_all_cores); do
    for query in one union union_proj; do
      /usr/bin/time -f "%e" -o "$out/time" "$BIN" run -q -e "${sql[$query]}" \
        "${sources[@]}" --shards "$threads" --format blackhole
      echo "corestream $query $threads $(cat "$out/time")" >> "$results"
    done
    /usr/bin/time -f "%e" -o "$out/time" python3 - "$half_a" "$half_b" "$threads" <<'PY'
import duckdb, sys
a, b, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute(f"""SELECT symbol, time_bucket(INTERVAL 1 MINUTE, ts) AS w, COUNT(*), SUM(qty)
    FROM (SELECT * FROM read_csv('{a}', header=true) UNION ALL
          SELECT * FROM read_csv('{b}', header=true)) GROUP BY ALL""").fetchall()
PY
    echo "duckdb union $threads $(cat "$out/time")" >> "$results"
  done
done
python3 scripts/benchlib.py walls --rows "$rows" "$results"
# The union's rows are the whole file's (same order: window end, start, key).
"$BIN" run -q -e "${sql[one]}" "${sources[@]}" --format csv -o "$out/one.csv"
"$BIN" run -q -e "${sql[union_proj]}" "${sources[@]}" --shards 2 --format csv -o "$out/union.csv"
if cmp -s "$out/one.csv" "$out/union.csv"; then
  echo "check: the union's $(($(wc -l < "$out/one.csv") - 1)) rows equal the whole file's"
else
  echo "check FAILED: the union's rows differ from the whole file's" >&2
  exit 1
fi
