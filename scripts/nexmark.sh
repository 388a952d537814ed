#!/usr/bin/env bash
# Nexmark queries benches/nexmark/q{0,1,2,3,4_closing_price,4,5,5_hot,7,8,9,11,14,15,17,20}.sql at 1
# shard and at all cores, thread-per-core runtime, blackhole sink.
#
#   scripts/nexmark.sh [EVENTS]
#
# EVENTS counts all Nexmark events (persons, auctions and bids; bids are 92%),
# as the Nexmark convention does. The table reports both bids/s (the rows the
# queries read: records_read / elapsed) and events/s (EVENTS / elapsed, the
# number Nexmark results are usually quoted in), and events/s per shard.
# Each configuration runs BENCH_REPEATS (3) times; the median is shown.
source "$(dirname "$0")/bench_common.sh"
events=${1:-10000000}
queries=${NEXMARK_QUERIES:-"q0 q1 q2 q3 q4_closing_price q4 q5 q5_hot q7 q8 q9 q11 q14 q15 q17 q20 q20_interval"}
ensure_built
start_results nexmark

echo "nexmark: $events events, blackhole sink, $REPEATS runs each, machine: $(python3 scripts/benchlib.py machine)" >&2
for q in $queries; do
  for shards in $(one_and_all_cores); do
    # Every table the query declares reads the same events.
    tables=$(grep -o 'CREATE TABLE [a-z_]*' "benches/nexmark/$q.sql" | cut -d' ' -f3)
    options=()
    for table in $tables; do options+=(--source-option "$table.events=$events"); done
    measure nexmark "$q" thread-per-core "$shards" --events "$events" -- \
      "benches/nexmark/$q.sql" "${options[@]}" --format blackhole
  done
done
print_table nexmark
