#!/usr/bin/env bash
# Interval joins of two files: orders (one every 10 ms of event time) and
# payments (0 to 2 per order, up to 10 minutes after it, each file jittered
# by up to 5 s), joined on the order id with the payment within 15 minutes
# (`interval`: INNER; `interval_left`: LEFT, which writes the unpaid orders
# as the watermark passes them), and the same join without the time bound
# (`regular`, FROM a, b WHERE: every row kept to the end), at 1 shard and at
# all cores, interleaved; DuckDB runs the interval join's SQL (a hash join
# with the BETWEEN as a filter) with the same threads. Reports records/s
# (orders + payments, whole process, files read included) and peak memory,
# and checks that corestream's row count equals DuckDB's.
#
#   scripts/interval_join.sh [ORDERS]   (default 2000000; files kept in $BENCH_DIR)
source "$(dirname "$0")/bench_common.sh"
orders=${1:-2000000}
orders=${orders//_/}
ensure_built
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || true
out="$BENCH_DIR/interval_join"
mkdir -p "$out"
o="$out/orders-$orders.csv" p="$out/payments-$orders.csv"
if [ ! -s "$o" ] || [ ! -s "$p" ]; then
  python3 - "$orders" "$o" "$p" <<'PY'
import datetime, random, sys
n, orders_path, payments_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
random.seed(7)
base = datetime.datetime(2026, 1, 1)
def stamp(ms):
    t = base + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
orders, payments = [], []
for i in range(n):
    at = 10 * i
    orders.append((at + random.randrange(5000), f"{i},c{random.randrange(5000)},{random.randrange(1, 500)},{stamp(at)}"))
    for _ in range(random.choice([0, 1, 1, 2])):
        paid = at + random.randrange(600_000)
        payments.append((paid + random.randrange(5000), f"{i},{random.randrange(1, 500)},{stamp(paid)}"))
orders.sort(); payments.sort()
with open(orders_path, "w") as f:
    f.write("id,customer,amount,ts\n")
    f.writelines(line + "\n" for _, line in orders)
with open(payments_path, "w") as f:
    f.write("order_id,amount,ts\n")
    f.writelines(line + "\n" for _, line in payments)
PY
fi
records=$(( $(wc -l < "$o") + $(wc -l < "$p") - 2 ))
tables="CREATE TABLE orders (id BIGINT, customer VARCHAR, amount BIGINT, ts TIMESTAMP)
  WITH ('path' = '$o', 'watermark.max_out_of_orderness' = '5s');
CREATE TABLE payments (order_id BIGINT, amount BIGINT, ts TIMESTAMP)
  WITH ('path' = '$p', 'watermark.max_out_of_orderness' = '5s');"
bound="AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '15' MINUTE"
declare -A sql=(
  [interval]="SELECT o.id, o.customer, p.amount FROM orders o JOIN payments p ON o.id = p.order_id $bound"
  [interval_left]="SELECT o.id, o.customer, p.amount FROM orders o LEFT JOIN payments p ON o.id = p.order_id $bound"
  [regular]="SELECT o.id, o.customer, p.amount FROM orders o, payments p WHERE o.id = p.order_id"
)
times="$out/runs.txt" memory="$out/memory.txt"
: > "$times"; : > "$memory"
echo "interval_join: $records records, machine: $(python3 scripts/benchlib.py machine)" >&2
for r in $(seq 1 "$REPEATS"); do
  for threads in $(one_and_all_cores); do
    for query in interval interval_left regular; do
      /usr/bin/time -f "%e %M" -o "$out/time" "$BIN" run -q -e "$tables ${sql[$query]}" \
        --shards "$threads" --format blackhole
      read -r wall kb < "$out/time"
      echo "corestream $query $threads $wall" >> "$times"
      echo "corestream $query $threads $kb" >> "$memory"
    done
    /usr/bin/time -f "%e %M" -o "$out/time" python3 - "$o" "$p" "$threads" <<'PY'
import duckdb, sys
o, p, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute(f"""SELECT count(*) FROM (SELECT o.id, o.customer, p.amount
    FROM read_csv('{o}', header=true) o JOIN read_csv('{p}', header=true) p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL 15 MINUTE)""").fetchall()
PY
    read -r wall kb < "$out/time"
    echo "duckdb interval $threads $wall" >> "$times"
    echo "duckdb interval $threads $kb" >> "$memory"
  done
done
python3 scripts/benchlib.py walls --rows "$records" "$times"
echo "peak memory (median MB):"
python3 - "$memory" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    engine, query, threads, kb = line.split()
    runs.setdefault((engine, query, int(threads)), []).append(int(kb))
for (engine, query, threads), kbs in sorted(runs.items(), key=lambda kv: (kv[0][2], kv[0][1])):
    print(f"  {engine:10} {query:14} {threads:>2} threads {statistics.median(kbs) / 1024:8.0f} MB")
PY
# corestream's rows are DuckDB's (counted: the interval join over no late data).
got=$("$BIN" run -q -e "$tables ${sql[interval]}" --shards 2 --format csv | tail -n +2 | wc -l)
want=$(python3 - "$o" "$p" <<'PY'
import duckdb, sys
print(duckdb.sql(f"""SELECT count(*) FROM read_csv('{sys.argv[1]}', header=true) o
    JOIN read_csv('{sys.argv[2]}', header=true) p ON o.id = p.order_id
    AND p.ts BETWEEN o.ts AND o.ts + INTERVAL 15 MINUTE""").fetchall()[0][0])
PY
)
[ "$got" = "$want" ] && echo "rows: $got, as DuckDB's" || { echo "rows differ: corestream $got, DuckDB $want"; exit 1; }
