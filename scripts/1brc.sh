#!/usr/bin/env bash
# The billion-row challenge (min/mean/max temperature per station) on a
# generated file, corestream at 1 shard and at all cores, and DuckDB with the
# same thread counts on the same file when its Python package is available
# (pip install duckdb is tried once; without it the script carries on).
#
#   scripts/1brc.sh [ROWS]      (default 100000000; the file is kept in target/1brc/)
#
# Prints a table (engine, threads, rows/s, seconds; median of BENCH_REPEATS
# runs) and whether corestream's result equals DuckDB's, rounded to one
# decimal. Without DuckDB, a small file (<= 2M rows) is checked against a
# plain-Python computation instead. Seconds are the query's own time:
# corestream's elapsed_seconds from --stats-json, DuckDB's query time measured
# around execute().fetchall(); neither counts process start-up.
source "$(dirname "$0")/bench_common.sh"
rows=${1:-100000000}
rows=${rows//_/}
ensure_built
start_results 1brc
gen="$target_dir/release/examples/gen_1brc"
[ -x "$gen" ] || cargo build --release --quiet --example gen_1brc
mkdir -p target/1brc
data="$(pwd)/target/1brc/measurements-$rows.txt"
if [ ! -s "$data" ]; then
  echo "generating $rows rows into $data" >&2
  start=$(date +%s.%N)
  "$gen" "$rows" "$data.tmp"
  mv "$data.tmp" "$data"
  echo "  generated in $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s" >&2
fi

have_duckdb=""
if python3 -c 'import duckdb' 2>/dev/null; then
  have_duckdb=1
elif pip install --quiet duckdb >/dev/null 2>&1 && python3 -c 'import duckdb' 2>/dev/null; then
  have_duckdb=1
else
  echo "DuckDB is not importable and pip install duckdb failed: corestream only" >&2
fi

echo "1brc: $rows rows, $REPEATS runs each, machine: $(python3 scripts/benchlib.py machine)" >&2
out=target/1brc/results
mkdir -p "$out"
for threads in $(one_and_all_cores); do
  measure 1brc 1brc thread-per-core "$threads" -- benches/1brc/1brc.sql \
    --source-option measurements.path="$data" --format csv -o "$out/corestream-$threads.csv"
  if [ -n "$have_duckdb" ]; then
    seconds=()
    for _ in $(seq 1 "$REPEATS"); do
      seconds+=("$(python3 scripts/1brc_check.py duckdb "$data" "$threads" "$out/duckdb-$threads.csv")")
    done
    python3 scripts/benchlib.py record-timed --results "$BENCH_RESULTS" --suite 1brc \
      --name 1brc --engine duckdb --shards "$threads" --rows "$rows" "${seconds[@]}"
  fi
done

print_table 1brc
echo
status=0
for threads in $(one_and_all_cores); do
  mine="$out/corestream-$threads.csv"
  if [ -n "$have_duckdb" ]; then
    reference="$out/duckdb-$threads.csv" who=DuckDB
  elif [ "$rows" -le 2000000 ]; then
    reference="$out/python.csv" who="plain Python"
    [ -s "$reference" ] || python3 scripts/1brc_check.py python "$data" "$reference"
  else
    echo "corestream ($threads shards): not checked (no DuckDB, file too big for the Python reference)"
    continue
  fi
  verdict=$(python3 scripts/1brc_check.py compare "$mine" "$reference") || status=1
  echo "corestream ($threads shards) vs $who: $verdict"
done
exit $status
