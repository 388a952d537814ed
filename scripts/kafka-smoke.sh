#!/usr/bin/env bash
# End-to-end Kafka scenarios against an external broker (a real Kafka,
# Redpanda, tansu): KAFKA_BOOTSTRAP=host:9092 scripts/kafka-smoke.sh.
# Skipped (exit 0) when KAFKA_BOOTSTRAP is unset. `cargo test` runs the same
# scenarios against librdkafka's mock cluster (tests/kafka.rs).
#
# The topics must exist (corestream never creates topics):
#   KAFKA_SMOKE_IN  (default corestream-smoke-in),  any partition count
#   KAFKA_SMOKE_OUT (default corestream-smoke-out), any partition count
# e.g. `rpk topic create corestream-smoke-in -p 4 corestream-smoke-out -p 3`.
# Old messages in them do no harm: every read starts at this run's start time.
#
# corestream itself produces (trades generator -> topic) and consumes
# (bounded reads), so nothing else needs to be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  echo "kafka-smoke: KAFKA_BOOTSTRAP is not set; skipped"
  exit 0
fi
B=$KAFKA_BOOTSTRAP
IN=${KAFKA_SMOKE_IN:-corestream-smoke-in}
OUT=${KAFKA_SMOKE_OUT:-corestream-smoke-out}
BIN=${CORESTREAM_BIN:-${CARGO_TARGET_DIR:-target}/release/corestream}
[ -x "$BIN" ] || cargo build --release --quiet --bin corestream
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
events=${KAFKA_SMOKE_EVENTS:-20000}
since=$(($(date +%s%3N) - 1))
cols="symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP"
from() { # TOPIC FORMAT: a bounded CREATE TABLE trades reading what this run produced
  echo "CREATE TABLE trades ($cols) WITH ('connector' = 'kafka', 'topic' = '$1',
    'properties.bootstrap.servers' = '$B', 'format' = '$2',
    'scan.startup.mode' = 'timestamp', 'scan.startup.timestamp-millis' = '$since',
    'scan.bounded.mode' = 'latest-offset');"
}
fail() { echo "kafka-smoke: FAILED: $*" >&2; exit 1; }
gen=(--source trades=generator:trades --source-option trades.events="$events")

echo "kafka-smoke: $events trades -> $IN (json) on $B"
"$BIN" run -e "SELECT symbol, price, qty, ts FROM trades" "${gen[@]}" \
  --output "kafka://$B/$IN" --format json
"$BIN" run -e "SELECT symbol, price, qty, ts FROM trades" "${gen[@]}" --format csv |
  tail -n +2 | sort > "$work/expected.csv"

echo "kafka-smoke: bounded read of $IN, compared with the generator"
"$BIN" run -e "$(from "$IN" json) SELECT * FROM trades" --format csv |
  tail -n +2 | sort > "$work/read.csv"
cmp -s "$work/expected.csv" "$work/read.csv" ||
  fail "$IN holds $(wc -l < "$work/read.csv") rows, expected $events (diff $work/*.csv)"

echo "kafka-smoke: $IN -> keyed CSV in $OUT -> read back"
"$BIN" run -e "$(from "$IN" json) CREATE STREAM copy AS SELECT * FROM trades
    WITH ('connector' = 'kafka', 'topic' = '$OUT', 'properties.bootstrap.servers' = '$B',
    'format' = 'csv', 'key.fields' = 'symbol')"
"$BIN" run -e "$(from "$OUT" csv) SELECT * FROM trades" --format csv |
  tail -n +2 | sort > "$work/copied.csv"
cmp -s "$work/expected.csv" "$work/copied.csv" ||
  fail "$OUT holds $(wc -l < "$work/copied.csv") rows, expected $events"

echo "kafka-smoke: a tumbling window over the topic equals the same over the generator"
q="SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS v FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' SECOND) EMIT FINAL"
"$BIN" run -e "$q" "${gen[@]}" --format csv | sort > "$work/w_expected.csv"
"$BIN" run -e "$(from "$IN" json) $q" --format csv | sort > "$work/w_read.csv"
cmp -s "$work/w_expected.csv" "$work/w_read.csv" || fail "window results differ"

echo "kafka-smoke: a missing topic and a broker that is down are errors (exit 1)"
set +e
"$BIN" run -e "$(from corestream-smoke-no-such-topic json) SELECT * FROM trades" 2> "$work/err"
[ $? -eq 1 ] && grep -q "does not exist" "$work/err" || fail "missing topic: $(cat "$work/err")"
"$BIN" run -e "$(B=127.0.0.1:1; from "$IN" json) SELECT * FROM trades" 2> "$work/err"
[ $? -eq 1 ] && grep -q "no answer from Kafka" "$work/err" || fail "broker down: $(cat "$work/err")"
set -e
echo "kafka-smoke: all passed"
