"""Computes the expected outputs of tests/union.rs with DuckDB,
independently of corestream. Run from the repository root:
    python3 tests/data/union/expected.py
The ORDER BY is corestream's output order (EMIT FINAL: window end, window
start, then the keys)."""
import os
import sys

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from duckdb_rows import write_rows  # noqa: E402

DIR = "tests/data/union"
con = duckdb.connect()
con.execute(f"""CREATE TABLE eu AS SELECT * REPLACE (
      CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts)
    FROM read_csv('{DIR}/eu.csv', header = true,
      types = {{'ts': 'VARCHAR', 'symbol': 'VARCHAR', 'price': 'BIGINT', 'qty': 'BIGINT'}})""")
# The malformed line (qty not a number) is left out, as corestream does.
con.execute(f"""CREATE TABLE us AS SELECT * REPLACE (
      CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts,
      CAST(qty AS BIGINT) AS qty)
    FROM read_csv('{DIR}/us.csv', header = true, all_varchar = true)
    WHERE TRY_CAST(qty AS BIGINT) IS NOT NULL""")
con.execute("""CREATE VIEW orders AS
    SELECT ts, symbol, price, qty FROM eu
    UNION ALL SELECT ts, sym, CAST(px AS BIGINT), qty FROM us WHERE venue <> 'iex'""")


def write(name, sql):
    write_rows(con, f"{DIR}/{name}.jsonl", sql)


write("per_minute", """SELECT symbol, time_bucket(INTERVAL 1 MINUTE, ts) AS window_start,
    COUNT(*) AS n, SUM(price * qty) AS notional FROM orders GROUP BY 1, 2
    ORDER BY window_start + INTERVAL 1 MINUTE, window_start, symbol""")
write("first_rows", """SELECT ts, symbol, price, qty FROM orders
    ORDER BY ts DESC, symbol LIMIT 5""")
write("running", """SELECT ts, symbol, qty, SUM(qty) OVER (PARTITION BY symbol
    ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS last3
    FROM orders WHERE price > 120 ORDER BY ts""")
write("top_per_window", """SELECT symbol, window_start, window_start + INTERVAL 5 MINUTE AS window_end,
    n, 1 AS rn FROM (SELECT symbol, time_bucket(INTERVAL 5 MINUTE, ts) AS window_start,
    COUNT(*) AS n FROM (SELECT ts, symbol FROM eu UNION ALL SELECT ts, sym FROM us)
    GROUP BY 1, 2)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY n DESC, symbol) = 1
    ORDER BY window_start""")
con.execute("""CREATE TABLE symbols AS
    SELECT * FROM read_csv('tests/data/joins/symbols.csv', header = true)""")
write("by_sector", """SELECT s.sector, COUNT(*) AS n, SUM(o.qty * s.lot) AS shares
    FROM orders o LEFT JOIN symbols s ON o.symbol = s.symbol
    GROUP BY s.sector ORDER BY s.sector NULLS FIRST""")
