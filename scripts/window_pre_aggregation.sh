#!/usr/bin/env bash
# Windowed pre-aggregation: a 1-minute tumbling GROUP BY over generated
# trades with few and many keys (no key, 100, 10,000), at 1 and 2 shards,
# blackhole output. Reports wall and CPU time (user + system), median of
# BENCH_REPEATS (default 3), interleaved; with OTHER_BIN set (e.g. the
# previous commit's binary) both are measured in the same runs.
#
#   scripts/window_pre_aggregation.sh [EVENTS]
source "$(dirname "$0")/bench_common.sh"
events=${1:-4000000}
ensure_built
bins=("$BIN")
[ -z "${OTHER_BIN:-}" ] || bins+=("$OTHER_BIN")
declare -A queries=(
  [no_key]="SELECT window_start, COUNT(*) AS n, SUM(qty) AS volume, MAX(price) AS high
    FROM trades GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)"
  [keys_100]="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume, MAX(price) AS high
    FROM trades GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE)"
  [keys_10000]="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume, MAX(price) AS high
    FROM trades GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE)"
)
declare -A keys=([no_key]=100 [keys_100]=100 [keys_10000]=10000)
echo "window pre-aggregation: $events generated trades, blackhole, machine: $(python3 scripts/benchlib.py machine)" >&2
results=$(mktemp)
for r in $(seq 1 "$REPEATS"); do
  for name in no_key keys_100 keys_10000; do
    for bin in "${bins[@]}"; do
      for shards in 1 2; do
        /usr/bin/time -f "%e %U %S" -o "$results.time" "$bin" run -q -e "${queries[$name]}" \
          --source trades=generator:trades --source-option trades.events="$events" \
          --source-option trades.keys="${keys[$name]}" --shards "$shards" --format blackhole
        read -r wall user sys < "$results.time"
        echo "$name $bin $shards $wall $user $sys" >> "$results"
      done
    done
  done
done
python3 - "$results" <<'PY'
import sys, statistics
by = {}
for n, b, s, w, u, y in (l.split() for l in open(sys.argv[1])):
    by.setdefault((n, b, int(s)), []).append((float(w), float(u) + float(y)))
print("| query | binary | shards | wall s (median) | CPU s (median) | speed-up | CPU vs 1 shard |")
print("|---|---|---|---|---|---|---|")
for n, b in dict.fromkeys((k[0], k[1]) for k in by):
    w1 = statistics.median(w for w, _ in by[(n, b, 1)]); c1 = statistics.median(c for _, c in by[(n, b, 1)])
    for s in (1, 2):
        w = statistics.median(x for x, _ in by[(n, b, s)]); c = statistics.median(x for _, x in by[(n, b, s)])
        print(f"| {n} | {b} | {s} | {w:.2f} | {c:.2f} | {w1 / w:.2f}x | {c / c1:.2f}x |")
PY
rm -f "$results" "$results.time"
