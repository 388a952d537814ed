#!/usr/bin/env bash
# Velostream's benchmark scenarios over the trades generator (10,000 keys):
# pure SELECT (filter + projection), GROUP BY without a window (EMIT FINAL),
# TUMBLING + GROUP BY, TUMBLING + EMIT CHANGES, SLIDING + GROUP BY and
# SESSION + GROUP BY, each at 1 shard and at all cores, for the thread-per-core
# runtime and the shared-lock baseline side by side. Blackhole sink.
#
#   scripts/scenarios.sh [EVENTS]
#
# Each configuration runs BENCH_REPEATS (3) times; the table shows the median
# records/s. See scripts/bench_common.sh for the environment it reads.
source "$(dirname "$0")/bench_common.sh"
events=${1:-4000000}
ensure_built
start_results scenarios

aggs="COUNT(*) AS n, SUM(qty) AS volume, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high"
declare -A sql=(
  [pure_select]="SELECT symbol, price * qty AS notional, ts FROM trades WHERE price > 500"
  [groupby_final]="SELECT symbol, $aggs FROM trades GROUP BY symbol EMIT FINAL"
  [tumbling_groupby]="SELECT symbol, window_start, $aggs FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)"
  [tumbling_emit_changes]="SELECT symbol, window_start, $aggs FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) EMIT CHANGES"
  [sliding_groupby]="SELECT symbol, window_start, $aggs FROM trades GROUP BY symbol WINDOW SLIDING(ts, INTERVAL '1' MINUTE, INTERVAL '20' SECOND)"
  [session_groupby]="SELECT symbol, window_start, window_end, $aggs FROM trades GROUP BY symbol WINDOW SESSION(ts, INTERVAL '30' SECOND)"
)
order=(pure_select groupby_final tumbling_groupby tumbling_emit_changes sliding_groupby session_groupby)

echo "scenarios: $events generated trades, 10000 keys, blackhole sink, $REPEATS runs each, machine: $(python3 scripts/benchlib.py machine)" >&2
for name in "${order[@]}"; do
  for shards in $(one_and_all_cores); do
    for runtime in thread-per-core shared-lock; do
      measure scenarios "$name" "$runtime" "$shards" -- -e "${sql[$name]}" \
        --source trades=generator:trades --source-option trades.events="$events" \
        --source-option trades.keys=10000 --format blackhole
    done
  done
done
print_table scenarios
