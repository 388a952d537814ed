# Shared by the benchmark scripts (source it; not run on its own).
#
# Environment:
#   CORESTREAM_BIN  the binary (default: $CARGO_TARGET_DIR or target, /release/corestream)
#   BENCH_REPEATS   runs per configuration; the median is reported (default 3)
#   BENCH_DIR       where raw stats go (default target/bench)
#   BENCH_RESULTS   the results file (JSON lines) rows are appended to; a script
#                   run on its own starts a fresh one under $BENCH_DIR/<suite>.jsonl
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target_dir=${CARGO_TARGET_DIR:-target}
BIN=${CORESTREAM_BIN:-$target_dir/release/corestream}
REPEATS=${BENCH_REPEATS:-3}
BENCH_DIR=${BENCH_DIR:-target/bench}
RAW="$BENCH_DIR/raw"
mkdir -p "$RAW"

ensure_built() {
  [ -x "$BIN" ] || cargo build --release --quiet --bin corestream
}

# Starts a suite's results file when the script runs on its own.
start_results() {
  local suite=$1
  if [ -z "${BENCH_RESULTS:-}" ]; then
    BENCH_RESULTS="$BENCH_DIR/$suite.jsonl"
    : > "$BENCH_RESULTS"
  fi
}

# 1 and the number of cores (just 1 on a one-core machine).
one_and_all_cores() {
  local cores
  cores=$(nproc)
  if [ "$cores" -gt 1 ]; then echo "1 $cores"; else echo 1; fi
}

# 1, 2, 4, ... up to MAX, and MAX itself.
doubling_to() {
  local max=$1 n=1 out=()
  while [ "$n" -le "$max" ]; do out+=("$n"); n=$((n * 2)); done
  [ "${out[-1]}" -eq "$max" ] || out+=("$max")
  echo "${out[@]}"
}

# measure SUITE NAME RUNTIME SHARDS [record options...] -- corestream run ARGS...
# Runs corestream REPEATS times with --shards/--runtime/--stats-json added and
# records the median. With --histogram, each run also writes a .hgrm next to
# its stats and the run with the median p99 is the one recorded.
measure() {
  local suite=$1 name=$2 runtime=$3 shards=$4
  shift 4
  local record=() histogram=""
  while [ "$1" != "--" ]; do
    if [ "$1" = "--histogram" ]; then histogram=1; else record+=("$1"); fi
    shift
  done
  shift
  local stats=() r base extra
  for r in $(seq 1 "$REPEATS"); do
    base="$RAW/$suite-$name-$runtime-$shards-$r"
    extra=()
    [ -z "$histogram" ] || extra=(--latency-histogram "$base.hgrm")
    "$BIN" run -q "$@" --shards "$shards" --runtime "$runtime" \
      --stats-json "$base.json" "${extra[@]}"
    stats+=("$base.json")
  done
  if [ -n "$histogram" ]; then record+=(--median-by p99 --histogram-suffix .hgrm); fi
  python3 scripts/benchlib.py record --results "$BENCH_RESULTS" --suite "$suite" \
    --name "$name" --runtime "$runtime" --shards "$shards" "${record[@]}" "${stats[@]}"
}

# A trades CSV of $1 rows ($2 symbols, default 2,000; 72 events per second
# of event time), generated once into $BENCH_DIR; prints its path.
trades_csv() {
  local keys=${2:-2000}
  local data="$BENCH_DIR/trades-$1-$keys-72.csv"
  if [ ! -s "$data" ]; then
    "$BIN" run -q -e "SELECT symbol, price, qty, ts FROM trades" \
      --source trades=generator:trades --source-option trades.events="$1" \
      --source-option trades.keys="$keys" --source-option trades.events_per_second_time=72 \
      --format csv -o "$data"
  fi
  echo "$data"
}

print_table() {
  python3 scripts/benchlib.py table --results "$BENCH_RESULTS" --suite "$1"
}

# The broker for the Kafka scripts: the one KAFKA_BOOTSTRAP names, or
# librdkafka's mock cluster (examples/kafka_mock.rs) in a process of its own
# with topic $2 of 16 partitions, held open by fd 3 (close it to stop it).
# Sets servers, broker and mock_pid; $1 is a scratch directory.
start_kafka_broker() {
  local work=$1 topic=$2
  mock_pid=
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
    servers=$KAFKA_BOOTSTRAP
    broker="Kafka at $servers"
    return
  fi
  cargo build --release --quiet --example kafka_mock
  mkfifo "$work/hold"
  "${CARGO_TARGET_DIR:-target}/release/examples/kafka_mock" "$topic:16" < "$work/hold" > "$work/servers" &
  mock_pid=$!
  exec 3> "$work/hold"
  for _ in $(seq 100); do [ -s "$work/servers" ] && break; sleep 0.1; done
  servers=$(head -1 "$work/servers")
  broker="librdkafka mock cluster (in a separate process, same machine)"
}
