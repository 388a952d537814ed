#!/usr/bin/env bash
# Latency benchmark: the pure SELECT on generated trades, paced at half of the
# throughput it reaches unpaced, with SHARDS shards (default: all cores), for
# every runtime: thread-per-core on glommio, on plain threads, and the
# shared-lock baseline. Latency is measured at the sink (from the moment a
# record was due to the moment the write carrying its row returned).
#
#   scripts/latency.sh [SECONDS] [SHARDS] [MAX_RATE]
#
# MAX_RATE skips the unpaced measurement (bench.sh passes the one scenarios.sh
# measured). Prints Markdown tables of the unpaced runs and of p50/p90/p99/
# p99.9/max per runtime; .hgrm histograms go to target/bench/raw/.
source "$(dirname "$0")/bench_common.sh"
seconds=${1:-10}
shards=${2:-$(nproc)}
max_rate=${3:-}
ensure_built
start_results latency

sql="SELECT symbol, price * qty AS notional, ts FROM trades WHERE price > 500"
source_args=(--source trades=generator:trades --source-option trades.keys=10000 --format blackhole)
if [ -z "$max_rate" ]; then
  measure latency_max pure_select glommio "$shards" -- -e "$sql" "${source_args[@]}" \
    --source-option trades.events=20000000
  max_rate=$(python3 - "$BENCH_RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(int(next(r["records_per_second"] for r in rows if r["suite"] == "latency_max")))
PY
)
fi
rate=$((max_rate / 2))
events=$((rate * seconds))
echo "latency: pure SELECT paced at $rate events/s (half of $max_rate), $seconds s, $shards shards, machine: $(python3 scripts/benchlib.py machine)" >&2
for runtime in glommio threads shared-lock; do
  measure latency pure_select "$runtime" "$shards" --histogram --rate "$rate" -- \
    -e "$sql" "${source_args[@]}" --source-option trades.events="$events" \
    --source-option trades.rate="$rate"
done
print_table latency
