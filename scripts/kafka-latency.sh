#!/usr/bin/env bash
# End-to-end latency of a live Kafka query: from the moment a record is
# produced (its Kafka message timestamp, set by the producer) to the moment
# the row it caused reaches the query's reader.
#
#   scripts/kafka-latency.sh [RATE] [SECONDS]   (default 2000 records/s, 20 s)
#
# A paced producer (corestream's trades generator at RATE records/s into a
# 16-partition topic) feeds a live query (a consumer-group member per shard,
# 2 shards) that selects each record's message timestamp and writes CSV to a
# pipe; a reader on the pipe compares every row with the wall clock as it
# arrives (rows produced before the first row arrived, while the group was
# still assigning partitions, are left out). Prints p50 / p99 / p99.9 / max in ms. The broker is librdkafka's
# mock cluster (examples/kafka_mock.rs, a process of its own on this
# machine), or the broker named by KAFKA_BOOTSTRAP (its topic
# KAFKA_LATENCY_TOPIC, 16 partitions, must exist).
source "$(dirname "$0")/bench_common.sh"
rate=${1:-2000}
seconds=${2:-20}
shards=${KAFKA_LATENCY_SHARDS:-2}
ensure_built
work=$(mktemp -d)
mock_pid=
query_pid=
cleanup() {
  [ -n "$query_pid" ] && kill "$query_pid" 2>/dev/null
  exec 3>&- 2>/dev/null || true
  [ -n "$mock_pid" ] && wait "$mock_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
topic=${KAFKA_LATENCY_TOPIC:-latency}
start_kafka_broker "$work" "$topic"
table="CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP, produced BIGINT)
  WITH ('connector' = 'kafka', 'topic' = '$topic', 'properties.bootstrap.servers' = '$servers',
  'format' = 'json', 'properties.group.id' = 'latency-bench-$$',
  'properties.auto.offset.reset' = 'earliest', 'properties.fetch.wait.max.ms' = '10',
  'metadata.timestamp' = 'produced')"
# The reader: one latency per row, taken as the row arrives. Rows produced
# before the first row arrived were waiting for the group to assign the
# partitions (a backlog, not live rows) and are left out.
measure='
import sys, time
lat, first = [], None
for line in sys.stdin:
    now = time.time() * 1000
    line = line.strip()
    if not line.isdigit():
        continue
    first = first or now
    if int(line) >= first:
        lat.append(now - int(line))
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
if lat:
    print(f"rows {len(lat)}: p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, "
          f"p99.9 {pick(0.999):.1f} ms, max {lat[-1]:.1f} ms")
else:
    print("no rows arrived")
'
"$BIN" run -q -e "$table; SELECT produced FROM trades" --format csv --shards "$shards" \
  --flush-interval 1ms 2>"$work/query.err" | python3 -c "$measure" > "$work/result" &
query_pid=$(jobs -p | tail -1)
sleep 3 # the members join the group (rows before they read are left out)
echo "kafka-latency: producing $((rate * seconds)) records at $rate/s to $topic on $servers" >&2
"$BIN" run -q -e "CREATE STREAM s AS SELECT * FROM trades" \
  --source trades=generator:trades --source-option trades.events=$((rate * seconds)) \
  --source-option trades.rate="$rate" --output "kafka://$servers/$topic" --format json
sleep 2
pkill -TERM -f "latency-bench-$$" || true
wait "$query_pid" 2>/dev/null || true
query_pid=
echo "machine: $(python3 scripts/benchlib.py machine)"
echo "broker: $broker; $rate records/s for $seconds s, JSON, 16 partitions, $shards shards"
echo "produce -> row read: $(cat "$work/result")"
grep -v "^$" "$work/query.err" | head -5 >&2 || true
