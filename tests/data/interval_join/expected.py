"""Computes the expected outputs of tests/interval_join.rs with DuckDB,
independently of corestream, over the inputs make_inputs.py wrote. No row
of them is late (see make_inputs.py), so an interval join's result is the
SQL join's. Rows are sorted as text (the test sorts corestream's the same
way). Run from the repository root:
    python3 tests/data/interval_join/expected.py"""
import json
import os
import sys

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from duckdb_rows import text  # noqa: E402

DIR = "tests/data/interval_join"
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute(f"""CREATE TABLE orders AS SELECT * FROM read_csv('{DIR}/orders.csv',
    header = true, types = {{'id': 'BIGINT', 'customer': 'VARCHAR', 'amount': 'BIGINT',
    'ts': 'TIMESTAMP'}})""")
con.execute(f"""CREATE TABLE payments AS SELECT * FROM read_csv('{DIR}/payments.csv',
    header = true, types = {{'pid': 'BIGINT', 'order_id': 'BIGINT', 'amount': 'BIGINT',
    'ts': 'TIMESTAMP'}})""")


def write_sorted(name, sql):
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    lines = sorted(json.dumps({c: text(v) for c, v in zip(columns, row)},
                              separators=(",", ":")) for row in cur.fetchall())
    with open(f"{DIR}/{name}.jsonl", "w") as out:
        out.write("".join(line + "\n" for line in lines))


SELECT = "SELECT o.id, o.customer, o.amount, p.pid, p.amount AS paid, p.ts AS paid_at"
for kind in ["inner", "left", "right", "full"]:
    write_sorted(kind, f"""{SELECT} FROM orders o {kind.upper()} JOIN payments p
        ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE""")

write_sorted("comma_strict", """SELECT o.id, p.pid FROM orders o, payments p
    WHERE o.id = p.order_id AND p.ts > o.ts - INTERVAL '1' MINUTE
      AND p.ts < o.ts + INTERVAL '30' MINUTE AND p.amount >= 10""")

write_sorted("mirrored_left", """SELECT o.id, p.pid FROM orders o LEFT JOIN payments p
    ON o.id = p.order_id AND o.ts >= p.ts - INTERVAL '10' MINUTE AND o.ts <= p.ts
    AND p.amount > 20""")

write_sorted("within_left", """SELECT o.id, p.pid FROM orders o LEFT JOIN payments p
    ON o.id = p.order_id
    AND p.ts BETWEEN o.ts - INTERVAL '1' MINUTE AND o.ts + INTERVAL '30' MINUTE""")

write_sorted("left_where", """SELECT o.id, p.pid FROM orders o LEFT JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE
    WHERE o.amount > 100 AND (p.amount IS NULL OR p.amount > 5)""")

# GROUP BY over the join, by the join key (the grouping runs on the key's shard).
write_sorted("grouped_by_payment_window", """SELECT o.id,
      time_bucket(INTERVAL '10 minutes', p.ts) AS w, COUNT(*) AS n, SUM(p.amount) AS paid
    FROM orders o JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE
    GROUP BY o.id, time_bucket(INTERVAL '10 minutes', p.ts)""")

write_sorted("grouped_left_by_order_window", """SELECT o.id,
      time_bucket(INTERVAL '5 minutes', o.ts) AS w, COUNT(*) AS n, COUNT(p.pid) AS payments,
      MAX(p.amount) AS most
    FROM orders o LEFT JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL '1' MINUTE
      AND o.ts + INTERVAL '30' MINUTE
    GROUP BY o.id, time_bucket(INTERVAL '5 minutes', o.ts)
    HAVING COUNT(*) < 3""")

write_sorted("grouped_full", """SELECT o.id, p.order_id, COUNT(*) AS n, SUM(p.amount) AS paid
    FROM orders o FULL JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE
    GROUP BY o.id, p.order_id""")

# A Top-N over the join, partitioned by the join key: each order's largest payment.
write_sorted("top_payment", """SELECT id, pid, amount FROM (
    SELECT o.id, p.pid, p.amount,
      ROW_NUMBER() OVER (PARTITION BY o.id ORDER BY p.amount DESC, p.pid) AS rn
    FROM orders o JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE)
    WHERE rn <= 1""")

# OVER over the join, partitioned by the join key and ordered by a side's time.
write_sorted("over_payments", """SELECT o.id, p.pid,
      COUNT(*) OVER (PARTITION BY o.id ORDER BY p.ts
        RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n,
      SUM(p.amount) OVER (PARTITION BY o.id ORDER BY p.ts
        RANGE BETWEEN INTERVAL '10' MINUTE PRECEDING AND CURRENT ROW) AS recent
    FROM orders o JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE""")

# GROUP BY over the join by keys without the join key, written as a grouping
# over a grouping: each order's payments per 10-minute window (by the join
# key, on its shard), then per customer and window (on the merger).
write_sorted("per_customer_window", """SELECT o.customer,
      time_bucket(INTERVAL '10 minutes', p.ts) AS window_start,
      COUNT(DISTINCT o.id) AS orders, SUM(p.amount) AS paid
    FROM orders o JOIN payments p
    ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE
    GROUP BY o.customer, time_bucket(INTERVAL '10 minutes', p.ts)""")

# A window Top-N over that grouping by the join key: the two orders paid
# most in each 10-minute window (ties by order id, the grouping's order).
write_sorted("top_orders_per_window", """SELECT window_start, id, paid, rn FROM (
    SELECT *, row_number() OVER (PARTITION BY window_start ORDER BY paid DESC, id) AS rn
    FROM (SELECT o.id, time_bucket(INTERVAL '10 minutes', p.ts) AS window_start,
            SUM(p.amount) AS paid
          FROM orders o JOIN payments p
          ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE
          GROUP BY ALL))
    WHERE rn <= 2""")

# Window joins (Flink's): orders and payments in the same 1-minute tumbling
# window (epoch-aligned; time_bucket's default origin is minute-aligned).
WINDOW = "time_bucket(INTERVAL '1 minute', {}.ts)"
for kind in ["inner", "left", "right", "full"]:
    write_sorted(f"window_{kind}", f"""SELECT o.id, o.amount, p.pid, p.amount AS paid,
      {WINDOW.format('o')} AS window_start, {WINDOW.format('p')} AS paid_window
    FROM orders o {kind.upper()} JOIN payments p
    ON o.id = p.order_id AND {WINDOW.format('o')} = {WINDOW.format('p')}""")

write_sorted("window_comma", f"""SELECT o.id, p.pid FROM orders o, payments p
    WHERE o.id = p.order_id AND {WINDOW.format('o')} = {WINDOW.format('p')}
      AND {WINDOW.format('p')} + INTERVAL '1' MINUTE <= TIMESTAMP '2026-03-01 10:00:00'
      AND p.amount >= 10""")

# GROUP BY the join key and the join's window over a LEFT window join.
write_sorted("window_grouped", f"""SELECT o.id, {WINDOW.format('o')} AS window_start,
      {WINDOW.format('o')} + INTERVAL '1' MINUTE AS window_end,
      COUNT(*) AS n, COUNT(p.pid) AS payments, SUM(p.amount) AS paid
    FROM orders o LEFT JOIN payments p
    ON o.id = p.order_id AND {WINDOW.format('o')} = {WINDOW.format('p')}
    WHERE o.ts IS NOT NULL
    GROUP BY o.id, {WINDOW.format('o')}""")

# GROUP BY the join key alone over a window join: rows are routed by the key.
write_sorted("window_per_order", f"""SELECT o.id, COUNT(*) AS n, SUM(p.amount) AS paid
    FROM orders o JOIN payments p
    ON o.id = p.order_id AND {WINDOW.format('o')} = {WINDOW.format('p')}
    GROUP BY o.id""")
