"""Computes the expected outputs of tests/dialects.rs with DuckDB,
independently of corestream. Run from the repository root:
    python3 tests/data/dialects/expected.py
Each query states the rows in SQL terms; the ORDER BY is corestream's
output order (EMIT FINAL: window end, window start, then the keys)."""
import os
import sys

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from duckdb_rows import write_rows  # noqa: E402

DIR = "tests/data/dialects"
con = duckdb.connect()


def table(name, path, types):
    con.execute(
        f"""CREATE TABLE {name} AS SELECT * REPLACE (
              CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts)
            FROM read_csv('{path}', header = true, types = {types})"""
    )


table("trades", "tests/data/trades.csv",
      "{'symbol': 'VARCHAR', 'price': 'DOUBLE', 'qty': 'BIGINT', 'ts': 'VARCHAR'}")
table("empty", "tests/data/empty.csv",
      "{'symbol': 'VARCHAR', 'price': 'DOUBLE', 'qty': 'BIGINT', 'ts': 'VARCHAR'}")
table("sessions", f"{DIR}/sessions.csv",
      "{'k': 'VARCHAR', 'v': 'BIGINT', 'ts': 'VARCHAR'}")


def write(name, sql):
    write_rows(con, f"{DIR}/{name}.jsonl", sql)


# Aggregates without GROUP BY over no rows: one row, COUNT 0, the others NULL.
write("empty_global", """SELECT COUNT(*) AS n, SUM(qty) AS s, AVG(price) AS a,
    MIN(symbol) AS lo FROM empty""")
write("filtered_global", """SELECT COUNT(*) AS n, SUM(qty) AS s FROM trades
    WHERE qty > 1000""")
write("limit_3", "SELECT symbol FROM trades LIMIT 3")
# GROUP BY an output alias, an ordinal, and an expression's alias.
write("group_by_alias", """SELECT symbol AS s, COUNT(*) AS n, SUM(qty) AS v
    FROM trades GROUP BY s ORDER BY s""")
write("group_by_expression_alias", """SELECT qty >= 10 AS big, COUNT(*) AS n
    FROM trades GROUP BY big ORDER BY big""")

WINDOWED = """SELECT symbol, window_start, window_end, COUNT(*) AS n,
    SUM(qty) AS v FROM windows GROUP BY ALL
    ORDER BY window_end, window_start, symbol"""


def windows(size_s, advance_s):
    """Every (record, window) pair: windows of size_s starting at multiples of advance_s."""
    con.execute(f"""CREATE OR REPLACE VIEW windows AS
        SELECT t.*, s AS window_start, s + INTERVAL {size_s} SECOND AS window_end
        FROM trades t, LATERAL (SELECT unnest(generate_series(
            time_bucket(INTERVAL {advance_s} SECOND, t.ts) - INTERVAL {size_s - advance_s} SECOND,
            time_bucket(INTERVAL {advance_s} SECOND, t.ts),
            INTERVAL {advance_s} SECOND)) AS s)
        WHERE t.ts >= s AND t.ts < s + INTERVAL {size_s} SECOND""")


windows(10, 10)
write("tumbling_10s", WINDOWED)
windows(10, 5)
write("hopping_10s_5s", WINDOWED)
# Cumulating windows (Flink's CUMULATE): from every multiple of 20 s, windows
# ending every 5 s; a record is in each one that ends after it.
con.execute("""CREATE OR REPLACE VIEW windows AS
    SELECT t.*, time_bucket(INTERVAL 20 SECOND, t.ts) AS window_start, e AS window_end
    FROM trades t, LATERAL (SELECT unnest(generate_series(
        time_bucket(INTERVAL 20 SECOND, t.ts) + INTERVAL 5 SECOND,
        time_bucket(INTERVAL 20 SECOND, t.ts) + INTERVAL 20 SECOND,
        INTERVAL 5 SECOND)) AS e)
    WHERE t.ts < e""")
write("cumulate_20s_5s", WINDOWED)


def session_rows(name, source, key, value, gap_ms):
    """Sessions: a record less than gap after the previous one of its key
    joins its session; one exactly gap after it starts a new one."""
    write(name, f"""WITH marked AS (
          SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY {key} ORDER BY ts)
                         < INTERVAL {gap_ms} MILLISECOND THEN 0 ELSE 1 END AS fresh
          FROM {source}),
        numbered AS (
          SELECT *, SUM(fresh) OVER (PARTITION BY {key} ORDER BY ts) AS session FROM marked)
        SELECT {key}, MIN(ts) AS window_start,
               MAX(ts) + INTERVAL {gap_ms} MILLISECOND AS window_end,
               COUNT(*) AS n, SUM({value}) AS v
        FROM numbered GROUP BY {key}, session
        ORDER BY window_end, window_start, {key}""")


session_rows("session_boundaries", "sessions", "k", "v", 5000)
session_rows("session_8s", "trades", "symbol", "qty", 8000)
# A GROUP BY name that is a source column is the column, not the alias.
write("group_by_column_over_alias", """SELECT qty * 0 AS qty, COUNT(*) AS n
    FROM trades GROUP BY qty ORDER BY trades.qty""")

table("times", f"{DIR}/times.csv",
      "{'id': 'BIGINT', 's': 'VARCHAR', 'a': 'BIGINT', 'b': 'BIGINT', 'ts': 'VARCHAR'}")
# Scalar functions, row by row. DuckDB has no FLOOR/CEIL(ts TO unit):
# FLOOR is DATE_TRUNC, CEIL the next boundary unless ts is on one.
UNITS = ["second", "minute", "hour", "day", "week", "month", "quarter", "year"]
ceil = lambda u: (f"CASE WHEN date_trunc('{u}', ts) = ts THEN ts "
                  f"ELSE date_trunc('{u}', ts) + INTERVAL 1 {u} END AS ceil_{u}")
write("scalar_functions", f"""SELECT id, greatest(a, b) AS g, least(a, b, 0) AS l,
    if(a > b, 'a', 'b') AS i, split_part(s, '-', 2) AS p2, split_part(s, '-', -1) AS plast,
    split_part(s, '-', 0) AS p0, split_part(s, '', 1) AS pchar,
    {", ".join(f"date_trunc('{u}', ts) AS trunc_{u}" for u in UNITS)},
    {", ".join(ceil(u) for u in UNITS)}
    FROM times ORDER BY id""")

# Time functions over moments.csv (a, b timestamps; s, f text; n epoch seconds).
con.execute("SET TimeZone = 'UTC'")
con.execute(f"""CREATE TABLE moments AS SELECT * REPLACE (
      CAST(replace(replace(a, 'T', ' '), 'Z', '') AS TIMESTAMP) AS a,
      CAST(replace(replace(b, 'T', ' '), 'Z', '') AS TIMESTAMP) AS b)
    FROM read_csv('{DIR}/moments.csv', header = true, types = {{'id': 'BIGINT',
      'a': 'VARCHAR', 'b': 'VARCHAR', 's': 'VARCHAR', 'f': 'VARCHAR', 'n': 'BIGINT'}})""")
FIELDS = ["year", "quarter", "month", "week", "isoyear", "day", "dow", "dayofweek",
          "isodow", "doy", "dayofyear", "hour", "minute", "second", "millisecond",
          "microsecond", "epoch"]
write("extract_fields", f"""SELECT id,
    {", ".join(f"extract({f} FROM a) AS {f}" for f in FIELDS)}
    FROM moments ORDER BY id""")
# TIMESTAMPDIFF counts whole units (DuckDB's date_sub, not date_diff, which
# counts boundaries); TIMESTAMPADD is + INTERVAL; TO_TIMESTAMP(text) a cast,
# with a pattern strptime, of epoch seconds to_timestamp.
DIFF_UNITS = ["second", "minute", "hour", "day", "week", "month", "quarter", "year"]
write("time_functions", f"""SELECT id,
    {", ".join(f"date_sub('{u}', a, b) AS diff_{u}" for u in DIFF_UNITS)},
    a + INTERVAL 1 MONTH AS plus_month, a + INTERVAL (-13) MONTH AS minus_13_months,
    b + INTERVAL (-3 * 3) MONTH AS minus_3_quarters, a + INTERVAL 36 HOUR AS plus_36_hours,
    try_cast(s AS TIMESTAMP) AS parsed,
    try_strptime(f, '%d/%m/%Y %H:%M:%S') AS patterned,
    CAST(to_timestamp(n) AS TIMESTAMP) AS from_epoch
    FROM moments ORDER BY id""")

# Regular expressions (DuckDB's regexp_matches is REGEXP_LIKE), JSON and MD5
# over texts.csv. JSON_VALUE is json_extract_string of a scalar, NULL for an
# object or array; text that is not JSON is NULL.
con.execute(f"""CREATE TABLE texts AS SELECT * FROM read_csv('{DIR}/texts.csv',
    header = true, types = {{'id': 'BIGINT', 's': 'VARCHAR', 'j': 'VARCHAR'}})""")


def json_value(path):
    return (f"CASE WHEN json_valid(j) AND json_type(j, '{path}') NOT IN ('OBJECT', 'ARRAY') "
            f"THEN json_extract_string(j, '{path}') END")


write("text_functions", f"""SELECT id,
    regexp_matches(s, 'shipped') AS like_plain, regexp_matches(s, 'shipped', 'i') AS like_i,
    regexp_extract(s, '(\\w+)-(\\d+)', 2) AS ex_group, regexp_extract(s, '\\d+') AS ex_whole,
    regexp_replace(s, '(\\w)(\\d)', '\\2\\1') AS rep_first,
    regexp_replace(s, '(\\w)(\\d)', '<\\2\\1>', 'g') AS rep_all,
    {json_value('$.a.b[1].c')} AS jv_c, {json_value('$.t')} AS jv_t,
    {json_value('$.a')} AS jv_object, {json_value('$.n')} AS jv_null,
    CASE WHEN json_valid(j) THEN j ->> 'name' END AS arrow_name,
    CASE WHEN json_valid(j) THEN j ->> 'a' END AS arrow_object,
    CASE WHEN json_valid(j) THEN j ->> 1 END AS arrow_index,
    md5(s) AS md5
    FROM texts ORDER BY id""")

# Aggregates over ticks.csv, in input order (pos). FIRST_VALUE, LAST_VALUE
# and COLLECT_LIST skip NULLs; APPROX_COUNT_DISTINCT is exact while small
# (at most 128 values), so count(DISTINCT ..) is its expectation here.
# Percentiles are rounded to 6 places: DuckDB interpolates with more than
# double precision, so the last bit can differ.
con.execute(f"""CREATE TABLE ticks AS SELECT * REPLACE (
      CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts),
      row_number() OVER () AS pos
    FROM read_csv('{DIR}/ticks.csv', header = true, types = {{'k': 'VARCHAR',
      'name': 'VARCHAR', 'x': 'DOUBLE', 'flag': 'BOOLEAN', 'ts': 'VARCHAR'}})""")
AGGREGATES = """bool_and(flag) AS all_flag, bool_or(flag) AS any_flag,
    arg_max(name, x) AS top_name, arg_min(name, x) AS bottom_name,
    first(x ORDER BY pos) FILTER (WHERE x IS NOT NULL) AS first_x,
    last(x ORDER BY pos) FILTER (WHERE x IS NOT NULL) AS last_x,
    CAST(to_json(list(name ORDER BY pos)) AS VARCHAR) AS names,
    count(DISTINCT name) AS distinct_names,
    round(quantile_cont(x, 0.5), 6) AS median_x, round(quantile_cont(x, 0.9), 6) AS p90_x"""
write("aggregates_by_key", f"""SELECT k, {AGGREGATES} FROM ticks GROUP BY k ORDER BY k""")
write("aggregates_tumbling_60s", f"""SELECT k, time_bucket(INTERVAL 60 SECOND, ts) AS window_start,
    time_bucket(INTERVAL 60 SECOND, ts) + INTERVAL 60 SECOND AS window_end, {AGGREGATES}
    FROM ticks GROUP BY ALL ORDER BY window_end, window_start, k""")
# EMIT CHANGES: the group's row after each record that changes it, in
# record order (a record that leaves the row as it was writes nothing).
RUNNING = "OVER (PARTITION BY k ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"


def changes(name, group, columns):
    """Running `columns` per `group`, kept where the row differs from the
    group's previous one."""
    names = ", ".join(c.rsplit(" AS ", 1)[1] for c in columns)
    write(name, f"""WITH running AS (SELECT pos, {", ".join(columns)} FROM ticks)
        SELECT {names} FROM running
        QUALIFY ROW({names}) IS DISTINCT FROM
                lag(ROW({names})) OVER (PARTITION BY {group} ORDER BY pos)
        ORDER BY pos""")


changes("aggregates_changes", "k", [
    "k AS k", f"bool_and(flag) {RUNNING} AS all_flag", f"arg_max(name, x) {RUNNING} AS top_name",
    f"first_value(x IGNORE NULLS) {RUNNING} AS first_x",
    f"last_value(x IGNORE NULLS) {RUNNING} AS last_x",
    f"round(quantile_cont(x, 0.5) {RUNNING}, 6) AS median_x"])
# EMIT CHANGES in 60-second tumbling windows: every aggregate, running
# within (key, window).
BUCKET = "time_bucket(INTERVAL 60 SECOND, ts)"
IN_WINDOW = (f"OVER (PARTITION BY k, {BUCKET} ORDER BY pos "
             "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")
changes("aggregates_changes_tumbling_60s", "k, window_start", [
    "k AS k", f"{BUCKET} AS window_start",
    f"bool_and(flag) {IN_WINDOW} AS all_flag", f"bool_or(flag) {IN_WINDOW} AS any_flag",
    f"arg_max(name, x) {IN_WINDOW} AS top_name", f"arg_min(name, x) {IN_WINDOW} AS bottom_name",
    f"first_value(x IGNORE NULLS) {IN_WINDOW} AS first_x",
    f"last_value(x IGNORE NULLS) {IN_WINDOW} AS last_x",
    f"CAST(to_json(list(name) {IN_WINDOW}) AS VARCHAR) AS names",
    f"count(DISTINCT name) {IN_WINDOW} AS distinct_names",
    f"round(quantile_cont(x, 0.5) {IN_WINDOW}, 6) AS median_x",
    f"round(quantile_cont(x, 0.9) {IN_WINDOW}, 6) AS p90_x"])
# Session windows (20 s gap) per key with every aggregate.
write("aggregates_session_20s", f"""WITH marked AS (
      SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY k ORDER BY ts)
                     < INTERVAL 20 SECOND THEN 0 ELSE 1 END AS fresh FROM ticks),
    numbered AS (SELECT *, SUM(fresh) OVER (PARTITION BY k ORDER BY ts) AS session FROM marked)
    SELECT k, MIN(ts) AS window_start, MAX(ts) + INTERVAL 20 SECOND AS window_end, {AGGREGATES}
    FROM numbered GROUP BY k, session ORDER BY window_end, window_start, k""")

# SELECT DISTINCT: a GROUP BY over the selected items. EMIT FINAL writes
# them at the end (ordered by window end, window start, then the items);
# EMIT CHANGES each as it is first seen.
write("distinct_rows", """SELECT DISTINCT symbol, qty >= 10 AS big FROM trades ORDER BY symbol, big""")
write("distinct_first_seen", """SELECT symbol, big FROM (
      SELECT symbol, qty >= 10 AS big, row_number() OVER () AS pos FROM trades)
    GROUP BY symbol, big ORDER BY min(pos)""")
write("distinct_per_window", """SELECT DISTINCT k, name, time_bucket(INTERVAL 60 SECOND, ts) AS window_start
    FROM ticks ORDER BY window_start, k, name""")

# Subqueries, WITH queries and views, written flat: a nested filter and
# projection is one WHERE; a filter over a grouping is HAVING.
write("nested_rows", """SELECT k, name AS who, x * 2 AS x2 FROM ticks
    WHERE x IS NOT NULL AND flag AND x * 2 > 100 ORDER BY pos""")
write("nested_windows", f"""SELECT {BUCKET} AS window_start, k, SUM(x) AS total FROM ticks
    WHERE name <> 'ann' GROUP BY 1, 2 HAVING COUNT(*) >= 2 ORDER BY 1, 2""")
write("view_windows", f"""SELECT k, {BUCKET} AS ws, COUNT(*) AS n, MAX(x) AS top FROM ticks
    WHERE flag GROUP BY 1, 2 ORDER BY 2, 1""")
write("view_tvf_windows", f"""SELECT {BUCKET} AS window_start,
    {BUCKET} + INTERVAL 60 SECOND AS window_end, k, COUNT(*) AS n, MAX(x) AS top
    FROM ticks WHERE flag GROUP BY 1, 2, 3 ORDER BY 2, 1, 3""")

# Deduplication (ROW_NUMBER() .. = 1): the first row per key in time
# (written as first seen, ts being in input order), the last row per key at
# the end (ordered by the keys), and the first row per key and window.
DEDUP = "SELECT k, name, x, flag, ts FROM (SELECT *, row_number() OVER (PARTITION BY k, name ORDER BY {order}) AS rn FROM ticks) WHERE rn = 1"
write("dedup_first", DEDUP.format(order="ts") + " ORDER BY pos")
write("dedup_last", DEDUP.format(order="ts DESC") + " ORDER BY k, name")
write("dedup_per_window", f"""SELECT window_start, window_end, k, name, x FROM (
      SELECT *, {BUCKET} AS window_start, {BUCKET} + INTERVAL 60 SECOND AS window_end,
        row_number() OVER (PARTITION BY {BUCKET}, k ORDER BY ts) AS rn FROM ticks)
    WHERE rn = 1 ORDER BY window_end, window_start, k""")
# Flink's SESSION table function without PARTITION BY: sessions over the
# whole stream (5 s gap; records exactly 5 s apart start a new one).
write("session_global_5s", """WITH marked AS (
      SELECT *, CASE WHEN ts - lag(ts) OVER (ORDER BY ts) < INTERVAL 5 SECOND
                     THEN 0 ELSE 1 END AS fresh FROM trades),
    numbered AS (SELECT *, SUM(fresh) OVER (ORDER BY ts) AS session FROM marked)
    SELECT MIN(ts) AS window_start, MAX(ts) + INTERVAL 5 SECOND AS window_end,
           COUNT(*) AS n, SUM(qty) AS v
    FROM numbered GROUP BY session ORDER BY window_end, window_start""")

# OVER windows over overs.csv (k, x with NULLs, n, ts: out of order by up to
# 3 s, with rows of one key at the same time). corestream processes rows in
# event time, ties in input order (pos), and writes them in that order.
# RANGE frames and RANK see rows of the same time as peers; ROWS frames,
# ROW_NUMBER, LAG and LEAD order peers by input order. Floating-point
# results are rounded in both (sums in another order differ in the last bit).
# A row with LEAD(.., n) goes out in the place of the row n later in its
# partition, which completes it; rows without one go out last, in input order.
con.execute(f"""CREATE TABLE overs AS SELECT * REPLACE (
      CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts),
      row_number() OVER () AS pos
    FROM read_csv('{DIR}/overs.csv', header = true, types = {{'k': 'VARCHAR',
      'x': 'DOUBLE', 'n': 'BIGINT', 'ts': 'VARCHAR'}})""")
BY_ROW = "PARTITION BY k ORDER BY ts, pos"
BY_TIME = "PARTITION BY k ORDER BY ts"
write("over_functions", f"""SELECT k, x, n, ts,
    row_number() OVER ({BY_ROW}) AS rn, rank() OVER ({BY_TIME}) AS rk,
    dense_rank() OVER ({BY_TIME}) AS drk,
    lag(x) OVER ({BY_ROW}) AS prev_x, lag(n, 2, -1) OVER ({BY_ROW}) AS prev2_n,
    lead(n) OVER ({BY_ROW}) AS next_n, lead(x, 2, 0.0) OVER ({BY_ROW}) AS next2_x,
    lead(n, 0) OVER ({BY_ROW}) AS same_n,
    first_value(x) OVER ({BY_ROW} ROWS UNBOUNDED PRECEDING) AS first_x,
    first_value(n) OVER ({BY_ROW} ROWS 2 PRECEDING) AS first3_n,
    last_value(x) OVER ({BY_ROW} ROWS UNBOUNDED PRECEDING) AS last_x
    FROM overs ORDER BY lead(ts, 2) OVER ({BY_ROW}) NULLS LAST,
      lead(pos, 2) OVER ({BY_ROW}), pos""")
write("over_aggregates", f"""SELECT k, ts,
    sum(n) OVER ({BY_TIME}) AS running_n,
    count(*) OVER ({BY_TIME}) AS running_count,
    sum(n) OVER ({BY_ROW} ROWS UNBOUNDED PRECEDING) AS row_running_n,
    round(avg(x) OVER ({BY_ROW} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 6) AS avg3_x,
    count(x) OVER ({BY_ROW} ROWS 2 PRECEDING) AS count3_x,
    min(x) OVER ({BY_TIME} RANGE BETWEEN INTERVAL 10 SECOND PRECEDING AND CURRENT ROW) AS min10_x,
    max(n) OVER ({BY_TIME} RANGE INTERVAL 10 SECOND PRECEDING) AS max10_n,
    sum(n) OVER ({BY_TIME} RANGE BETWEEN INTERVAL 10 SECOND PRECEDING AND CURRENT ROW) AS sum10_n,
    round(stddev_samp(x) OVER ({BY_ROW} ROWS 3 PRECEDING), 6) AS sd4_x
    FROM overs ORDER BY ts, pos""")
write("over_qualify", f"""SELECT k, n, ts, sum(n) OVER ({BY_TIME}) AS running_n,
    row_number() OVER ({BY_ROW}) AS rn
    FROM overs QUALIFY rn <= 2 ORDER BY ts, pos""")
write("over_global", """SELECT k, n, ts, sum(n) OVER (ORDER BY ts) AS total_n,
    count(*) OVER (ORDER BY ts RANGE INTERVAL 5 SECOND PRECEDING) AS last5s
    FROM overs ORDER BY ts, pos""")

# Top-N (ROW_NUMBER by a value, bounded by rn <= N): rows tied on every
# ORDER BY key rank in input order (pos); NULLs last unless written. EMIT
# FINAL writes each partition's rows by partition key, then rank; folding
# the EMIT CHANGES changelog must give the same rows.
TOP = "PARTITION BY k ORDER BY x DESC NULLS LAST, pos"
write("top_n_per_key", f"""SELECT k, x, n, ts, rn FROM (SELECT *,
    row_number() OVER ({TOP}) AS rn FROM overs) WHERE rn <= 3 ORDER BY k, rn""")
write("top_n_unranked", f"""SELECT k, x, n FROM (SELECT *,
    row_number() OVER ({TOP}) AS rn FROM overs) WHERE rn <= 2 AND n > 5
    ORDER BY k, rn""")
write("top_n_global", """SELECT k, n, x, rn FROM (SELECT *,
    row_number() OVER (ORDER BY n, x DESC NULLS FIRST, pos) AS rn FROM overs)
    WHERE rn <= 5 ORDER BY rn""")
# A Top-N over a windowed grouping (Flink's window Top-N): each window's
# groups ranked once the window closes, written in window order, then rank.
# Groups tied on the ORDER BY rank in the grouping's output order: by key.
write("window_top_n_tumbling", """SELECT window_start, window_end, k, c, hi, rn FROM (
    SELECT *, row_number() OVER (PARTITION BY window_start, window_end
                                 ORDER BY hi DESC NULLS LAST, k) AS rn
    FROM (SELECT time_bucket(INTERVAL 20 SECOND, ts) AS window_start,
                 time_bucket(INTERVAL 20 SECOND, ts) + INTERVAL 20 SECOND AS window_end,
                 k, COUNT(*) AS c, MAX(x) AS hi
          FROM overs GROUP BY ALL))
    WHERE rn <= 2 ORDER BY window_end, window_start, rn""")
# Hopping windows (30 s every 10 s), a filter between the grouping and the
# ranking, and an output without the row number.
con.execute("""CREATE VIEW hops AS SELECT o.*, s AS window_start,
      s + INTERVAL 30 SECOND AS window_end
    FROM overs o, LATERAL (SELECT unnest(generate_series(
      time_bucket(INTERVAL 10 SECOND, o.ts) - INTERVAL 20 SECOND,
      time_bucket(INTERVAL 10 SECOND, o.ts), INTERVAL 10 SECOND)) AS s)""")
write("window_top_n_hopping", """SELECT window_end, k, s FROM (
    SELECT *, row_number() OVER (PARTITION BY window_start, window_end ORDER BY s DESC, k) AS rn
    FROM (SELECT window_start, window_end, k, SUM(n) AS s FROM hops GROUP BY ALL)
    WHERE s > 10)
    WHERE rn = 1 ORDER BY window_end, window_start""")
# RANK and DENSE_RANK over a windowed grouping: tied groups share a number
# and every one within the bound is kept (ordered by key, their arrival).
for name, function in [("window_rank", "rank"), ("window_dense_rank", "dense_rank")]:
    write(name, f"""SELECT window_end, k, c, r FROM (
        SELECT *, {function}() OVER (PARTITION BY window_start, window_end ORDER BY c DESC) AS r
        FROM (SELECT time_bucket(INTERVAL 20 SECOND, ts) AS window_start,
                     time_bucket(INTERVAL 20 SECOND, ts) + INTERVAL 20 SECOND AS window_end,
                     k, COUNT(*) AS c
              FROM overs GROUP BY ALL))
        WHERE r <= 2 ORDER BY window_end, window_start, r, k""")
# An unwindowed grouping ranked at the end of the input (EMIT FINAL).
write("top_n_of_grouping", """SELECT k, s, rn FROM (
    SELECT *, row_number() OVER (ORDER BY s DESC, k) AS rn
    FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k)) WHERE rn <= 3 ORDER BY rn""")
# A grouping over a grouping (a second stage on the merger). Over each
# 20-second window's groups, grouped by the window: written when the window
# closes, in window order.
WINDOW_GROUPS = """SELECT time_bucket(INTERVAL 20 SECOND, ts) AS window_start,
        time_bucket(INTERVAL 20 SECOND, ts) + INTERVAL 20 SECOND AS window_end,
        k, COUNT(*) AS c, MAX(x) AS hi, SUM(n) AS s
    FROM overs GROUP BY ALL"""
write("grouping_of_windows", f"""SELECT window_start, window_end, COUNT(*) AS keys,
    SUM(c) AS rows_in, MAX(hi) AS top, MIN(s) AS least, COUNT(hi) AS with_x
    FROM ({WINDOW_GROUPS}) WHERE c > 1 GROUP BY window_start, window_end
    ORDER BY window_end, window_start""")
# Over the windows' groups, by key: groups span the input (EMIT FINAL, by key).
write("grouping_of_windows_by_key", f"""SELECT k, COUNT(*) AS windows, MAX(c) AS busiest,
    SUM(s) AS total FROM ({WINDOW_GROUPS}) GROUP BY k ORDER BY k""")
# Over an unwindowed grouping: its final rows grouped again at the end, with
# HAVING; and without GROUP BY.
write("grouping_of_grouping", """SELECT size, COUNT(*) AS keys, SUM(s) AS total,
    MIN(hi) AS lowest_top FROM (SELECT k, SUM(n) AS s, MAX(x) AS hi,
      CASE WHEN SUM(n) > 220 THEN 'big' ELSE 'small' END AS size FROM overs GROUP BY k) g
    GROUP BY size HAVING COUNT(*) > 0 ORDER BY size""")
write("aggregate_of_grouping", """SELECT COUNT(*) AS keys, SUM(s) AS total, MAX(s) AS most
    FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k)""")

# DATE: a declared DATE column (with NULLs) beside a TIMESTAMP; DATE plus
# days is a DATE, minus a DATE the days between, plus an INTERVAL a
# TIMESTAMP; DATE_TRUNC of a DATE is a TIMESTAMP; a DATE compares with a
# TIMESTAMP as its midnight.
con.execute(f"""CREATE TABLE dates AS SELECT * REPLACE (
      CAST(replace(replace(ts, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ts),
      row_number() OVER () AS pos
    FROM read_csv('{DIR}/dates.csv', header = true,
      types = {{'k': 'VARCHAR', 'd': 'DATE', 'ts': 'VARCHAR'}})""")
write("dates_rows", """SELECT k, d, d + 7 AS week_later, d - DATE '2026-01-01' AS days_in,
    CAST(ts AS DATE) AS ts_day, CAST(ts AS DATE) = d AS same_day, d < ts AS before_ts,
    date_trunc('month', d) AS month, extract(dow FROM d) AS dow,
    d + INTERVAL 12 HOUR AS noon, CAST(d AS VARCHAR) AS text
    FROM dates WHERE d >= DATE '2026-01-05' OR d IS NULL ORDER BY pos""")
write("dates_by_day", """SELECT d, COUNT(*) AS n, MIN(ts) AS first_ts, MAX(k) AS last_k
    FROM dates GROUP BY d ORDER BY d NULLS FIRST""")

# ORDER BY a final result: ties keep corestream's output order (input order
# for rows, pos here); NULLs last in both directions, as DuckDB's default.
write("order_by_volume_top2", """SELECT symbol, SUM(qty) AS v FROM trades GROUP BY symbol
    ORDER BY v DESC LIMIT 2""")
write("order_by_rows", """SELECT k, name, x FROM ticks ORDER BY x DESC, name, pos""")
write("order_by_nulls_first", """SELECT k, x FROM ticks ORDER BY 2 NULLS FIRST, pos LIMIT 8""")
# Sorted by columns the output leaves out.
write("order_by_hidden", """SELECT symbol, price FROM trades ORDER BY qty DESC, ts LIMIT 4""")
# A grouping sorted by an aggregate and a window bound it does not select.
write("order_by_hidden_aggregate", """SELECT symbol, COUNT(*) AS n FROM trades
    GROUP BY symbol ORDER BY MAX(price) - MIN(price) DESC, symbol""")
write("order_by_hidden_window", """SELECT time_bucket(INTERVAL 10 SECOND, ts) AS window_start,
    SUM(qty) AS v FROM trades GROUP BY window_start ORDER BY window_start + INTERVAL 10 SECOND DESC""")
