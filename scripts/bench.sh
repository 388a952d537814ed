#!/usr/bin/env bash
# Runs every benchmark and writes the results and plots:
#
#   scripts/bench.sh [--quick] [--publish] [--criterion]
#
#   --quick      small inputs (about two minutes on 2 cores, after the build)
#   --publish    copy the plots and results.md to docs/bench/
#   --criterion  also run the criterion benches (on without --quick unless --no-criterion)
#
# Suites (each configuration BENCH_REPEATS=3 times, median reported; shard
# counts adapt to nproc):
#   scenarios.sh  Velostream's six scenarios, 1 shard / all cores, both runtimes
#   nexmark.sh    Nexmark q0 q1 q2 q5 q7 q11 q14 q15 q17, 1 shard / all cores
#   scaling.sh    tumbling GROUP BY, 1, 2, 4, .. nproc shards, both runtimes
#   1brc.sh       billion-row challenge vs DuckDB (when importable)
#   latency.sh    pure SELECT on the trades generator paced at half the
#                 throughput measured by scenarios.sh (all cores), on glommio,
#                 plain threads and shared-lock, with --latency-histogram
# Writes target/bench/results.json (all rows), results.md (Markdown tables),
# throughput_vs_shards.svg and latency_percentiles.svg.
source "$(dirname "$0")/bench_common.sh"

quick="" publish="" criterion=""
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-criterion) criterion=0 ;;
    --publish) publish=1 ;;
    --criterion) criterion=1 ;;
    *) echo "usage: scripts/bench.sh [--quick] [--publish] [--criterion|--no-criterion]" >&2; exit 2 ;;
  esac
done
[ -n "$quick" ] || [ "$criterion" = 0 ] || criterion=1
[ "$criterion" = 0 ] && criterion=""

if [ -n "$quick" ]; then
  mode=quick scenario_events=100000 nexmark_events=200000 scaling_events=500000
  brc_rows=1000000 latency_seconds=2
else
  mode=full scenario_events=4000000 nexmark_events=10000000 scaling_events=4000000
  brc_rows=100000000 latency_seconds=20
fi

cargo build --release --quiet --bin corestream --example gen_1brc --example plot
rm -rf "$RAW" && mkdir -p "$RAW"
export BENCH_RESULTS="$BENCH_DIR/results.jsonl" BENCH_DIR BENCH_REPEATS="$REPEATS"
: > "$BENCH_RESULTS"
started=$(date +%s)
machine=$(python3 scripts/benchlib.py machine)
echo "bench ($mode): $machine, $REPEATS runs per configuration (median)"

section() { printf '\n### %s\n\n' "$1"; }

section "Scenarios ($scenario_events trades, 10000 keys)"
scripts/scenarios.sh "$scenario_events"
section "Nexmark ($nexmark_events events)"
scripts/nexmark.sh "$nexmark_events"
section "Scaling ($scaling_events trades)"
scripts/scaling.sh "$scaling_events"
section "Billion-row challenge ($brc_rows rows)"
brc_check=ok
scripts/1brc.sh "$brc_rows" || brc_check="MISMATCH (see above)"

# Latency: the pure SELECT paced at half of its measured all-cores throughput.
cores=$(nproc)
max_rate=$(python3 - "$BENCH_RESULTS" "$cores" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rates = [r["records_per_second"] for r in rows if r["suite"] == "scenarios"
         and r["name"] == "pure_select" and r["runtime"] == "thread-per-core"
         and r["shards"] == int(sys.argv[2])]
print(int(rates[0]) if rates else 1000000)
PY
)
section "Latency (pure SELECT paced at half of $max_rate events/s, ${latency_seconds} s)"
scripts/latency.sh "$latency_seconds" "$cores" "$max_rate"

notes=(--note "Billion-row challenge result check against the reference: $brc_check.")
if [ -n "$criterion" ]; then
  section "Criterion benches (engine, ingest)"
  cargo bench --bench engine --bench ingest 2>&1 | tee "$BENCH_DIR/criterion.txt" |
    grep -E '^[a-z_0-9]+/|time:|thrpt:' || true
  # "group/name: [low mid high] elements/s", the first thrpt line after each name.
  summary=$(awk '/^[a-z_0-9]+\/[a-z_0-9]+/ { name = $1 }
    /thrpt:/ && name != "" { sub(/^ *thrpt: */, ""); print "    " name ": " $0; name = "" }' \
    "$BENCH_DIR/criterion.txt")
  notes+=(--note "## Criterion (elements/s; cargo bench --bench engine --bench ingest)"$'\n\n'"$summary")
fi

python3 scripts/benchlib.py report --results "$BENCH_RESULTS" --json "$BENCH_DIR/results.json" \
  --md "$BENCH_DIR/results.md" --mode "$mode" --repeats "$REPEATS" "${notes[@]}"
histograms=$(python3 - "$BENCH_RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(" ".join(f"{r['runtime']}={r['histogram']}" for r in rows if r.get("histogram")))
PY
)
# shellcheck disable=SC2086 # one NAME=PATH word per histogram
"$target_dir/release/examples/plot" "$BENCH_DIR/results.json" "$BENCH_DIR" $histograms
echo >> "$BENCH_DIR/results.md"
for svg in throughput_vs_shards latency_percentiles; do
  [ -s "$BENCH_DIR/$svg.svg" ] && echo "![$svg]($svg.svg)" >> "$BENCH_DIR/results.md"
done

if [ -n "$publish" ]; then
  mkdir -p docs/bench
  cp "$BENCH_DIR"/*.svg "$BENCH_DIR/results.md" "$BENCH_DIR/results.json" docs/bench/
  echo "published to docs/bench/"
fi
echo
echo "done in $(( $(date +%s) - started )) s: $BENCH_DIR/results.json, $BENCH_DIR/results.md, $BENCH_DIR/*.svg"
