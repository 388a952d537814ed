#!/usr/bin/env bash
# Output-heavy scaling: a 1-minute tumbling GROUP BY over a trades CSV with
# 2,000 symbols, every window's rows written as JSON lines (hundreds of
# thousands of rows), at 1 and 2 shards. Reports wall time and CPU time
# (user + system) per run, median of BENCH_REPEATS (default 3), interleaved.
#
#   scripts/output_scaling.sh [ROWS] [FORMAT]       (FORMAT: jsonl, csv or blackhole)
#
# CORESTREAM_BIN picks the binary; OTHER_BIN, when set, is measured in the
# same interleaved runs (e.g. the previous release) for a side-by-side ratio.
source "$(dirname "$0")/bench_common.sh"
rows=${1:-1500000}
format=${2:-jsonl}
ensure_built
data=$(trades_csv "$rows")
sql="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume, AVG(price) AS avg_price
FROM t GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)"
bins=("$BIN")
[ -z "${OTHER_BIN:-}" ] || bins+=("$OTHER_BIN")
echo "output scaling: $rows rows, 2000 symbols, $format, machine: $(python3 scripts/benchlib.py machine)" >&2
results=$(mktemp)
for r in $(seq 1 "$REPEATS"); do
  for bin in "${bins[@]}"; do
    for shards in 1 2; do
      out=$(mktemp)
      /usr/bin/time -f "%e %U %S" -o "$out.time" "$bin" run -q -e "$sql" --source t="$data" \
        --shards "$shards" --format "$format" -o /dev/null
      read -r wall user sys < "$out.time"
      echo "$bin $shards $wall $user $sys" >> "$results"
      rm -f "$out" "$out.time"
    done
  done
done
python3 - "$results" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for b, s, w, u, y in rows:
    by.setdefault((b, int(s)), []).append((float(w), float(u) + float(y)))
print("| binary | shards | wall s (median) | CPU s (median) | speed-up | CPU vs 1 shard |")
print("|---|---|---|---|---|---|")
for b in dict.fromkeys(k[0] for k in by):
    w1 = statistics.median(w for w, _ in by[(b, 1)]); c1 = statistics.median(c for _, c in by[(b, 1)])
    for s in (1, 2):
        w = statistics.median(x for x, _ in by[(b, s)]); c = statistics.median(x for _, x in by[(b, s)])
        print(f"| {b} | {s} | {w:.2f} | {c:.2f} | {w1 / w:.2f}x | {c / c1:.2f}x |")
PY
rm -f "$results"
