#!/usr/bin/env bash
# Kafka source into blackhole against the same records read from a JSON-lines
# file: what reading Kafka costs. The broker is librdkafka's mock cluster
# (examples/kafka_mock.rs, in-process brokers on 127.0.0.1), or the broker
# named by KAFKA_BOOTSTRAP (its topic KAFKA_BENCH_TOPIC, 16 partitions, must
# exist and be empty or hold only this benchmark's records).
#
#   scripts/kafka-bench.sh [EVENTS]      (default 700000: the mock keeps at
#   most 5 MB or 100000 messages per partition and drops older ones)
#
# Prints records/s (median of BENCH_REPEATS runs) for both, 2 shards, and the
# ratio. JSON values, 16 partitions, the trades generator's records.
source "$(dirname "$0")/bench_common.sh"
events=${1:-700000}
shards=${KAFKA_BENCH_SHARDS:-2}
ensure_built
work=$(mktemp -d)
mock_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "$mock_pid" ] && wait "$mock_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
topic=${KAFKA_BENCH_TOPIC:-bench}
start_kafka_broker "$work" "$topic"
gen=(--source trades=generator:trades --source-option trades.events="$events" --source-option trades.keys=10000)
echo "kafka-bench: producing $events JSON records to $topic (16 partitions) on $servers" >&2
# Keyed by symbol (10000 keys), so the partitions fill evenly.
"$BIN" run -q -e "CREATE STREAM s AS SELECT * FROM trades WITH ('key.fields' = 'symbol')" "${gen[@]}" \
  --output "kafka://$servers/$topic" --format json 2>/dev/null
"$BIN" run -q -e "SELECT * FROM trades" "${gen[@]}" --output "$work/trades.jsonl" 2>/dev/null
cols="symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP"
query="SELECT symbol, price * qty AS notional, ts FROM trades WHERE price > 500"
kafka_sql="CREATE TABLE trades ($cols) WITH ('connector' = 'kafka', 'topic' = '$topic',
  'properties.bootstrap.servers' = '$servers', 'format' = 'json',
  'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset'); $query"
file_sql="CREATE TABLE trades ($cols) WITH ('path' = '$work/trades.jsonl'); $query"
rate() { # SQL: the median records/s of REPEATS runs
  local rates=()
  for _ in $(seq "$REPEATS"); do
    "$BIN" run -q -e "$1" --format blackhole --shards "$shards" --stats-json "$work/stats.json" 2>/dev/null
    rates+=("$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["records_read"]==int(sys.argv[2]), s["records_read"]; print(int(s["records_per_second"]))' "$work/stats.json" "$events")")
  done
  printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (REPEATS + 1) / 2 ))p"
}
kafka=$(rate "$kafka_sql")
file=$(rate "$file_sql")
echo "machine: $(python3 scripts/benchlib.py machine)"
echo "broker: $broker; $events records, JSON, 16 partitions, $shards shards, blackhole, median of $REPEATS"
echo "kafka source: $kafka records/s"
echo "jsonl file:   $file records/s"
python3 -c "import sys; print(f'kafka / file: {int(sys.argv[1]) / int(sys.argv[2]):.2f}')" "$kafka" "$file"
