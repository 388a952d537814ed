"""Computes the expected outputs of tests/joins.rs with DuckDB,
independently of corestream. Run from the repository root:
    python3 tests/data/joins/expected.py
Each query states the rows in SQL terms; the ORDER BY is corestream's
output order (stateless: input order; EMIT FINAL: window end, window
start, then the keys)."""
import os
import sys

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from duckdb_rows import write_rows  # noqa: E402

DIR = "tests/data/joins"
con = duckdb.connect()


def table(name, types):
    con.execute(
        f"CREATE TABLE {name} AS SELECT * FROM read_csv('{DIR}/{name}.csv', "
        f"header = true, types = {types})"
    )


con.execute(
    f"""CREATE TABLE orders AS SELECT * REPLACE (
          CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts)
        FROM read_csv('{DIR}/orders.csv', header = true, types = {{'id': 'BIGINT',
        'symbol': 'VARCHAR', 'side': 'VARCHAR', 'price': 'DOUBLE', 'qty': 'BIGINT',
        'ts': 'VARCHAR'}})"""
)
table("symbols", "{'symbol': 'VARCHAR', 'sector': 'VARCHAR', 'lot': 'BIGINT'}")
table("sectors", "{'sector': 'VARCHAR', 'region': 'VARCHAR'}")
table("lots", "{'symbol': 'VARCHAR', 'side': 'VARCHAR', 'lot': 'BIGINT'}")


def write(name, sql):
    write_rows(con, f"{DIR}/{name}.jsonl", sql)


write("inner", """SELECT o.id, o.symbol, s.sector, o.qty * s.lot AS shares
    FROM orders o JOIN symbols s ON o.symbol = s.symbol ORDER BY o.id""")
write("left", """SELECT o.id, o.symbol, s.sector, s.lot
    FROM orders o LEFT JOIN symbols s ON o.symbol = s.symbol ORDER BY o.id""")
# A second table keyed by a column of the first; the where sees both.
write("chained", """SELECT o.id, s.sector, x.region
    FROM orders o JOIN symbols s ON o.symbol = s.symbol
    LEFT JOIN sectors x ON s.sector = x.sector
    WHERE o.qty > 10 ORDER BY o.id""")
# Two key columns.
write("two_keys", """SELECT o.id, o.side, l.lot
    FROM orders o LEFT JOIN lots l ON o.symbol = l.symbol AND o.side = l.side
    ORDER BY o.id""")
# Revenue per sector per minute, from orders enriched with symbols.
write("sector_minutes", """SELECT s.sector, time_bucket(INTERVAL 1 MINUTE, o.ts) AS window_start,
    time_bucket(INTERVAL 1 MINUTE, o.ts) + INTERVAL 1 MINUTE AS window_end,
    COUNT(*) AS n, round(SUM(o.price * o.qty), 2) AS revenue
    FROM orders o JOIN symbols s ON o.symbol = s.symbol
    GROUP BY ALL ORDER BY window_end, window_start, s.sector NULLS FIRST""")
# Grouped by a column of the table only (rows cross shards by it).
write("per_region", """SELECT x.region, COUNT(*) AS n, SUM(o.qty) AS q
    FROM orders o LEFT JOIN symbols s ON o.symbol = s.symbol
    LEFT JOIN sectors x ON s.sector = x.sector
    GROUP BY ALL ORDER BY x.region NULLS FIRST""")
