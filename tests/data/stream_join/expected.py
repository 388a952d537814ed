"""Computes the expected outputs of tests/stream_join.rs with DuckDB,
independently of corestream. The inputs are the Nexmark generator's people
(1,500 events) and auctions (3,000 events), written out once by corestream:
    corestream run -q -e "<person DDL, 'events' = '1500'> SELECT id, name, state,
      date_time FROM person" --format csv -o tests/data/stream_join/person.csv
    (and the same for auction: id, seller, category, date_time, 3,000 events)
so the later auctions' sellers are people the person stream does not have.
Run from the repository root:
    python3 tests/data/stream_join/expected.py
Rows are sorted (the test sorts corestream's rows the same way: as text)."""
import os
import sys

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from duckdb_rows import text  # noqa: E402
import json  # noqa: E402

DIR = "tests/data/stream_join"
con = duckdb.connect()
con.execute(f"""CREATE TABLE person AS SELECT * FROM read_csv('{DIR}/person.csv',
    header = true, types = {{'id': 'BIGINT', 'name': 'VARCHAR', 'state': 'VARCHAR',
    'date_time': 'VARCHAR'}})""")
con.execute(f"""CREATE TABLE auction AS SELECT * FROM read_csv('{DIR}/auction.csv',
    header = true, types = {{'id': 'BIGINT', 'seller': 'BIGINT', 'category': 'BIGINT',
    'date_time': 'VARCHAR'}})""")

for kind in ["inner", "left", "right", "full"]:
    cur = con.execute(f"""SELECT P.id AS person, P.name, A.id AS auction, A.category
        FROM person P {kind.upper()} JOIN auction A ON P.id = A.seller
        WHERE A.category IS NULL OR A.category <> 14""")
    columns = [d[0] for d in cur.description]
    lines = sorted(json.dumps({c: text(v) for c, v in zip(columns, row)},
                              separators=(",", ":")) for row in cur.fetchall())
    with open(f"{DIR}/{kind}.jsonl", "w") as out:
        out.write("".join(line + "\n" for line in lines))

# A grouping over a regular join, by the join key: auctions per seller.
cur = con.execute("""SELECT P.id AS person, P.name, COUNT(A.id) AS auctions,
      MAX(A.category) AS top_category
    FROM person P LEFT JOIN auction A ON P.id = A.seller
    GROUP BY P.id, P.name""")
columns = [d[0] for d in cur.description]
lines = sorted(json.dumps({c: text(v) for c, v in zip(columns, row)},
                          separators=(",", ":")) for row in cur.fetchall())
with open(f"{DIR}/grouped_left.jsonl", "w") as out:
    out.write("".join(line + "\n" for line in lines))
