#!/usr/bin/env bash
# Scaling benchmark: a tumbling-window GROUP BY over 10,000 keys on generated
# trades, with 1, 2, 4, ... shards up to the cores available, for the
# thread-per-core runtime on glommio and on plain threads, and the shared-lock
# baseline, in one run.
#
#   scripts/scaling.sh [EVENTS] [MAX_SHARDS]
#
# Prints a Markdown table: records/s (median of BENCH_REPEATS runs, default 3),
# speed-up over 1 shard of the same runtime, and p50/p99 end-to-end latency of
# the median run. Raw stats go to target/bench/raw/ (see scripts/bench_common.sh).
source "$(dirname "$0")/bench_common.sh"
events=${1:-4000000}
max_shards=${2:-$(nproc)}
ensure_built
start_results scaling

sql="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume, AVG(price) AS avg_price,
  MIN(price) AS low, MAX(price) AS high
FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)"

echo "scaling: $events generated trades, 10000 keys, blackhole sink, $REPEATS runs each, machine: $(python3 scripts/benchlib.py machine)" >&2
for runtime in glommio threads shared-lock; do
  for shards in $(doubling_to "$max_shards"); do
    measure scaling tumbling_groupby_10k "$runtime" "$shards" -- -e "$sql" \
      --source trades=generator:trades --source-option trades.events="$events" \
      --source-option trades.keys=10000 --format blackhole
  done
done
print_table scaling
