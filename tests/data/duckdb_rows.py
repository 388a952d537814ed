"""Writes DuckDB query results as corestream's JSON lines (timestamps and
dates as corestream prints them), for the expected-output scripts under
tests/data."""
import datetime
import json


def text(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_rows(con, path, sql):
    """Runs `sql` on the DuckDB connection `con`; writes its rows to `path`."""
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    with open(path, "w") as out:
        for row in cur.fetchall():
            obj = {c: text(v) for c, v in zip(columns, row)}
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")
