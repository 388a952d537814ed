#!/usr/bin/env bash
# Scaling benchmark: a tumbling-window GROUP BY over 10,000 keys on generated
# trades, with 1, 2, 4, ... shards up to the cores available, for the
# thread-per-core runtime and the shared-lock baseline, in one run.
#
#   scripts/scaling.sh [EVENTS] [MAX_SHARDS]
#
# Prints a Markdown table: records/s, speed-up over 1 shard of the same
# runtime, and p50/p99 end-to-end latency. Writes raw stats to target/scaling/.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-4000000}
max_shards=${2:-$(nproc)}
bin=target/release/corestream
[ -x "$bin" ] || cargo build --release --quiet
out=target/scaling
mkdir -p "$out"

sql="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume, AVG(price) AS avg_price,
  MIN(price) AS low, MAX(price) AS high
FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)"

shard_counts=()
n=1
while [ "$n" -le "$max_shards" ]; do shard_counts+=("$n"); n=$((n * 2)); done
[ "${shard_counts[-1]}" -eq "$max_shards" ] || shard_counts+=("$max_shards")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $events generated trades, 10000 keys, blackhole sink"
echo
echo "| runtime | shards | records/s | speed-up | p50 us | p99 us |"
echo "|---|---|---|---|---|---|"
for runtime in thread-per-core shared-lock; do
  base=""
  for shards in "${shard_counts[@]}"; do
    stats="$out/$runtime-$shards.json"
    "$bin" run -q -e "$sql" --source trades=generator:trades \
      --source-option trades.events="$events" --source-option trades.keys=10000 \
      --format blackhole --shards "$shards" --runtime "$runtime" --stats-json "$stats"
    python3 - "$stats" "$runtime" "$shards" "$base" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rate = s["records_per_second"]
base = float(sys.argv[4]) if sys.argv[4] else rate
lat = s.get("latency_us", {})
print(f"| {sys.argv[2]} | {sys.argv[3]} | {rate:,.0f} | {rate / base:.2f}x | {lat.get('p50', 0)} | {lat.get('p99', 0)} |")
PY
    [ -n "$base" ] || base=$(python3 -c "import json,sys; print(json.load(open('$stats'))['records_per_second'])")
  done
done
