//! End-to-end tests of issue 9's single-stage pieces: LIMIT 0, aggregates
//! over empty input, GROUP BY by alias and ordinal, session boundaries, and
//! other engines' spellings of corestream's windows and emit modes (ksqlDB,
//! RisingWave, Flink). Expected rows live in tests/data/dialects/*.jsonl,
//! computed with DuckDB by tests/data/dialects/expected.py (or, where a
//! test says so, by hand).

mod common;
use common::{assert_success, run, stderr, stdout};

const TRADES: &str = "trades=tests/data/trades.csv";
const TRADES_DDL: &str =
    "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
     WITH ('path' = 'tests/data/trades.csv');";

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("tests/data/dialects/{name}.jsonl")).expect("expected file")
}

/// Runs the script `sql` with the options `extra`; its standard output.
fn run_sql(sql: &str, extra: &[&str]) -> String {
    let mut args = vec!["run", "-q", "-e", sql];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_success(&o);
    stdout(&o)
}

/// Runs `sql` over trades.csv (inferred schema) with `extra` options.
fn query(sql: &str, extra: &[&str]) -> String {
    let mut args = vec!["--source", TRADES];
    args.extend_from_slice(extra);
    run_sql(sql, &args)
}

/// Every runtime and shard count gives the same output.
fn query_everywhere(sql: &str) -> String {
    run_everywhere(sql, &["--source", TRADES])
}

/// The output of the script `sql` with the options `source`, the same on
/// every runtime and shard count.
fn run_everywhere(sql: &str, source: &[&str]) -> String {
    let with = |extra: &[&str]| {
        let mut args = source.to_vec();
        args.extend_from_slice(extra);
        run_sql(sql, &args)
    };
    let first = with(&["--shards", "1"]);
    for extra in [
        &["--shards", "3", "--chunk-bytes", "64"][..],
        &["--runtime", "shared-lock", "--shards", "2"],
        &["--runtime", "shared-lock", "--shards", "1"],
    ] {
        assert_eq!(with(extra), first, "{sql} with {extra:?}");
    }
    first
}

/// The SQL error of `sql` over trades: (message, "line L, column C").
fn sql_error(sql: &str) -> String {
    let o = run(&["run", "-q", "-e", sql, "--source", TRADES]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    stderr(&o)
}

/// Asserts that `sql` over trades fails with an error containing `fragment`.
fn assert_sql_error(sql: &str, fragment: &str) {
    let message = sql_error(sql);
    assert!(message.contains(fragment), "{message}");
}

#[test]
fn limit_zero_writes_no_row_on_any_runtime_and_shard_count() {
    assert_eq!(query_everywhere("SELECT symbol FROM trades LIMIT 0"), "");
    let grouped = "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol LIMIT 0";
    assert_eq!(query_everywhere(grouped), "");
    let final_rows = "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL LIMIT 0";
    assert_eq!(query_everywhere(final_rows), "");
}

#[test]
fn limit_n_writes_n_rows_on_the_shared_lock_runtime_too() {
    let sql = "SELECT symbol FROM trades LIMIT 3";
    assert_eq!(query_everywhere(sql), expected("limit_3"));
}

#[test]
fn aggregate_without_group_by_over_empty_input_emits_one_row() {
    let sql = "CREATE TABLE t (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
               WITH ('path' = 'tests/data/empty.csv'); \
               SELECT COUNT(*) AS n, SUM(qty) AS s, AVG(price) AS a, MIN(symbol) AS lo \
               FROM t EMIT FINAL";
    for extra in [
        &["--shards", "1"][..],
        &["--shards", "3"],
        &["--runtime", "shared-lock"],
    ] {
        assert_eq!(run_sql(sql, extra), expected("empty_global"), "{extra:?}");
    }
}

#[test]
fn aggregate_without_group_by_whose_where_drops_every_row_emits_one_row() {
    let sql = "SELECT COUNT(*) AS n, SUM(qty) AS s FROM trades WHERE qty > 1000 EMIT FINAL";
    assert_eq!(query_everywhere(sql), expected("filtered_global"));
}

#[test]
fn group_by_output_alias_and_ordinal() {
    let by_alias = "SELECT symbol AS s, COUNT(*) AS n, SUM(qty) AS v FROM trades \
                    GROUP BY s EMIT FINAL";
    let by_ordinal = "SELECT symbol AS s, COUNT(*) AS n, SUM(qty) AS v FROM trades \
                      GROUP BY 1 EMIT FINAL";
    assert_eq!(query_everywhere(by_alias), expected("group_by_alias"));
    assert_eq!(query_everywhere(by_ordinal), expected("group_by_alias"));
    let expression = "SELECT qty >= 10 AS big, COUNT(*) AS n FROM trades GROUP BY big EMIT FINAL";
    assert_eq!(
        query_everywhere(expression),
        expected("group_by_expression_alias")
    );
}

#[test]
fn group_by_a_source_column_wins_over_an_alias_of_the_same_name() {
    // As in standard SQL and DuckDB: `qty` is the column, not the alias.
    let sql = "SELECT qty * 0 AS qty, COUNT(*) AS n FROM trades GROUP BY qty EMIT FINAL";
    assert_eq!(
        query_everywhere(sql),
        expected("group_by_column_over_alias")
    );
}

#[test]
fn group_by_ordinal_errors_name_the_position() {
    assert_sql_error(
        "SELECT symbol, COUNT(*) AS n FROM trades\nGROUP BY 3",
        "line 2, column 10: GROUP BY 3 refers to SELECT item 3, but the SELECT list has 2 item(s)",
    );
    assert_sql_error(
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY 2",
        "column 51: GROUP BY `2` refers to `COUNT(*)`, which is an aggregate",
    );
}

#[test]
fn records_exactly_gap_apart_start_a_new_session() {
    let sql = "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS v FROM s \
               GROUP BY k WINDOW SESSION(ts, INTERVAL '5' SECOND)";
    for shards in ["1", "2"] {
        let out = run_sql(
            sql,
            &[
                "--source",
                "s=tests/data/dialects/sessions.csv",
                "--shards",
                shards,
            ],
        );
        assert_eq!(out, expected("session_boundaries"));
    }
}

#[test]
fn ksqldb_tumbling_window_with_windowstart_and_windowend() {
    let sql = "SELECT symbol, WINDOWSTART AS window_start, WINDOWEND AS window_end, \
               COUNT(*) AS n, SUM(qty) AS v FROM trades \
               WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY symbol EMIT FINAL";
    assert_eq!(query_everywhere(sql), expected("tumbling_10s"));
}

#[test]
fn ksqldb_hopping_window() {
    let sql = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
               FROM trades WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) \
               GROUP BY symbol EMIT FINAL";
    assert_eq!(query_everywhere(sql), expected("hopping_10s_5s"));
}

#[test]
fn ksqldb_session_window() {
    let sql = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
               FROM trades WINDOW SESSION (8 SECONDS) GROUP BY symbol";
    assert_eq!(query_everywhere(sql), expected("session_8s"));
}

/// late.csv by hand: A@1s, A@12s, A@5s, A@13s, a chunk each (the watermark
/// moves at chunk ends). Without grace the 5s record comes after the
/// watermark (12s) passed the [0s, 10s) window's end: late.
#[test]
fn ksqldb_grace_period_is_the_allowed_lateness() {
    let sql = |window: &str| {
        format!("SELECT window_start, COUNT(*) AS n FROM t WINDOW TUMBLING ({window}) GROUP BY window_start")
    };
    let late = |window: &str| {
        run_sql(
            &sql(window),
            &[
                "--source",
                "t=tests/data/late.csv",
                "--format",
                "csv",
                "--chunk-bytes",
                "32",
            ],
        )
    };
    assert_eq!(
        late("SIZE 10 SECONDS"),
        "window_start,n\n2026-01-01T00:00:00.000Z,1\n2026-01-01T00:00:10.000Z,2\n"
    );
    assert_eq!(
        late("SIZE 10 SECONDS, GRACE PERIOD 3 SECONDS"),
        "window_start,n\n2026-01-01T00:00:00.000Z,2\n2026-01-01T00:00:10.000Z,2\n"
    );
}

#[test]
fn flink_watermark_in_ddl_sets_the_out_of_orderness_and_primary_key_is_accepted() {
    // By hand, as above: a 5 s watermark delay keeps [0s, 10s) open for A@5s.
    let sql = "CREATE TABLE t (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP(3),\n\
               WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,\n\
               PRIMARY KEY (symbol) NOT ENFORCED) WITH ('path' = 'tests/data/late.csv');\n\
               SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), \
               INTERVAL '10' SECOND)) GROUP BY window_start, window_end";
    let out = run_sql(sql, &["--format", "csv"]);
    assert_eq!(
        out,
        "window_start,n\n2026-01-01T00:00:00.000Z,2\n2026-01-01T00:00:10.000Z,2\n"
    );
}

#[test]
fn flink_window_table_functions_tumble_and_hop() {
    let tumble = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
                  FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '10' SECOND)) \
                  GROUP BY window_start, window_end, symbol";
    assert_eq!(query_everywhere(tumble), expected("tumbling_10s"));
    let hop = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
               FROM TABLE(HOP(TABLE trades, DESCRIPTOR(ts), INTERVAL '5' SECOND, \
               INTERVAL '10' SECOND)) GROUP BY window_start, window_end, symbol";
    assert_eq!(query_everywhere(hop), expected("hopping_10s_5s"));
}

#[test]
fn flink_cumulate_windows_grow_from_one_start_until_their_size() {
    let cumulate = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
                    FROM TABLE(CUMULATE(TABLE trades, DESCRIPTOR(ts), INTERVAL '5' SECOND, \
                    INTERVAL '20' SECOND)) GROUP BY window_start, window_end, symbol";
    assert_eq!(query_everywhere(cumulate), expected("cumulate_20s_5s"));
    assert_sql_error(
        "SELECT window_start, COUNT(*) FROM TABLE(CUMULATE(TABLE trades, DESCRIPTOR(ts), \
         INTERVAL '7' SECOND, INTERVAL '20' SECOND)) GROUP BY window_start, window_end",
        "size (20s) must be a whole multiple of its step (7s)",
    );
}

#[test]
fn risingwave_tumble_in_from_with_emit_on_window_close() {
    let sql = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
               FROM TUMBLE(trades, ts, INTERVAL '10' SECOND) \
               GROUP BY window_start, window_end, symbol EMIT ON WINDOW CLOSE";
    assert_eq!(query_everywhere(sql), expected("tumbling_10s"));
}

#[test]
fn create_table_and_materialized_view_as_select_run_the_query() {
    let select = "SELECT symbol AS s, COUNT(*) AS n, SUM(qty) AS v FROM trades \
                  GROUP BY symbol EMIT FINAL";
    for head in [
        "CREATE TABLE totals AS",
        "CREATE MATERIALIZED VIEW totals AS",
        "CREATE STREAM totals AS",
    ] {
        let sql = format!("{TRADES_DDL}\n{head} {select}");
        assert_eq!(run_sql(&sql, &[]), expected("group_by_alias"), "{head}");
    }
}

#[test]
fn ksqldb_create_stream_with_properties_before_as() {
    let sql = format!(
        "{TRADES_DDL}\nCREATE STREAM firsts WITH ('output.format' = 'csv') AS \
         SELECT symbol FROM trades LIMIT 3"
    );
    assert_eq!(run_sql(&sql, &[]), "symbol\nAAPL\nMSFT\nAAPL\n");
}

#[test]
fn dialect_errors_carry_line_and_column() {
    assert_sql_error(
        "CREATE TABLE t (a VARCHAR, ts TIMESTAMP,\n  WATERMARK FOR ts AS ts + 1) WITH ('path' = 'x.csv');\nSELECT a FROM t",
        "line 2, column 3: WATERMARK must be written WATERMARK FOR <column> AS <column> - INTERVAL",
    );
    assert_sql_error(
        "CREATE TABLE t (a VARCHAR, ts TIMESTAMP, WATERMARK FOR tss AS tss) WITH ('path' = 'x.csv');\nSELECT a FROM t",
        "line 1, column 1: WATERMARK FOR tss: tss is not a declared column",
    );
    assert_sql_error(
        "SELECT COUNT(*) AS n FROM trades\nWINDOW TUMBLING (SIZE 10 PARSECS)",
        "line 2, column 26: unknown time unit PARSECS",
    );
    assert_sql_error("SELECT COUNT(*) AS n\nFROM TABLE(SLIDING(TABLE trades, DESCRIPTOR(ts), 1s, 10s))\nGROUP BY window_start, window_end", "line 2, column 12: FROM TABLE(SLIDING(..)) is not supported");
    // The dropped TABLE keyword leaves the other tokens where they were.
    assert_sql_error("SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(tss), INTERVAL '1' MINUTE))\nGROUP BY window_start", "line 1, column 65: unknown column 'tss'");
    assert_sql_error(
        "SELECT COUNT(*) AS n FROM trades GROUP BY window_start",
        "column 43: GROUP BY window_start needs a window",
    );
    assert_sql_error("SELECT COUNT(*) AS n FROM TUMBLE(trades, ts, 10s) GROUP BY window_start WINDOW TUMBLING(ts, 5s)", "only one window");
    assert_sql_error("SELECT COUNT(*) AS n FROM trades WINDOW HOPPING (SIZE 10 SECONDS)", "column 34: the window must be written WINDOW HOPPING (SIZE <duration>, ADVANCE BY <duration>)");
}

#[test]
fn greatest_least_if_split_part_date_trunc_floor_and_ceil_to_a_unit() {
    let units = [
        "second", "minute", "hour", "day", "week", "month", "quarter", "year",
    ];
    let trunc: String = units
        .iter()
        .map(|u| format!(", DATE_TRUNC('{u}', ts) AS trunc_{u}"))
        .collect();
    let ceil: String = units
        .iter()
        .map(|u| format!(", CEIL(ts TO {}) AS ceil_{u}", u.to_uppercase()))
        .collect();
    let sql = format!(
        "SELECT id, GREATEST(a, b) AS g, LEAST(a, b, 0) AS l, IF(a > b, 'a', 'b') AS i, \
         SPLIT_PART(s, '-', 2) AS p2, SPLIT_PART(s, '-', -1) AS plast, \
         SPLIT_PART(s, '-', 0) AS p0, SPLIT_PART(s, '', 1) AS pchar{trunc}{ceil} FROM t"
    );
    let out = run_sql(&sql, &["--source", "t=tests/data/dialects/times.csv"]);
    assert_eq!(out, expected("scalar_functions"));
    // FLOOR(ts TO unit) is DATE_TRUNC.
    let floor: String = units
        .iter()
        .map(|u| format!(", FLOOR(ts TO {}) AS trunc_{u}", u.to_uppercase()))
        .collect();
    let both = format!("SELECT id{floor} FROM t");
    let via_trunc = format!("SELECT id{trunc} FROM t");
    let run_one = |sql: &str| run_sql(sql, &["--source", "t=tests/data/dialects/times.csv"]);
    assert_eq!(run_one(&both), run_one(&via_trunc));
}

#[test]
fn date_format_refuses_an_unknown_pattern_letter() {
    assert_sql_error(
        "SELECT symbol,\n  DATE_FORMAT(ts, 'hh:mm') AS t FROM trades",
        "line 2, column 3: DATE_FORMAT pattern letter 'h' is not supported",
    );
    // Quoted text is text.
    let o = query(
        "SELECT DATE_FORMAT(ts, 'HH''h''mm') AS t FROM trades LIMIT 1",
        &[],
    );
    assert_eq!(o, "{\"t\":\"00h00\"}\n");
}

#[test]
fn function_errors_name_the_place() {
    assert_sql_error(
        "SELECT DATE_TRUNC('fortnight', ts) AS t FROM trades",
        "column 8: DATE_TRUNC takes a unit literal",
    );
    assert_sql_error(
        "SELECT CEIL(ts TO DOW) AS t FROM trades",
        "column 13: FLOOR/CEIL(.. TO DOW) is not supported",
    );
    assert_sql_error(
        "SELECT GREATEST(qty, symbol) AS g FROM trades",
        "GREATEST arguments have incompatible types",
    );
    assert_sql_error(
        "SELECT IF(qty, 1, 2) AS g FROM trades",
        "IF expects BOOLEAN as argument 1",
    );
}

#[test]
fn an_unknown_function_in_a_grouped_query_is_named_not_its_column() {
    assert_sql_error(
        "SELECT symbol, MEDIAN(price) AS l FROM trades GROUP BY symbol",
        "column 16: unknown function 'median'",
    );
}

const MOMENTS_DDL: &str = "CREATE TABLE m (id BIGINT, a TIMESTAMP, b TIMESTAMP, s VARCHAR, \
     f VARCHAR, n BIGINT) WITH ('path' = 'tests/data/dialects/moments.csv');\n";

#[test]
fn extract_every_field_of_duckdb_and_flink() {
    let fields = [
        "year",
        "quarter",
        "month",
        "week",
        "isoyear",
        "day",
        "dow",
        "dayofweek",
        "isodow",
        "doy",
        "dayofyear",
        "hour",
        "minute",
        "second",
        "millisecond",
        "microsecond",
        "epoch",
    ];
    let columns: String = fields
        .iter()
        .map(|f| format!(", EXTRACT({} FROM a) AS {f}", f.to_uppercase()))
        .collect();
    let out = run_sql(&format!("{MOMENTS_DDL}SELECT id{columns} FROM m"), &[]);
    assert_eq!(out, expected("extract_fields"));
    // Flink's function forms are the same fields.
    let functions = [
        ("YEAR", "year"),
        ("QUARTER", "quarter"),
        ("MONTH", "month"),
        ("WEEK", "week"),
        ("DAYOFMONTH", "day"),
        ("DAYOFYEAR", "doy"),
        ("HOUR", "hour"),
        ("MINUTE", "minute"),
        ("SECOND", "second"),
    ];
    let select = |column: &dyn Fn(&str, &str) -> String| {
        let columns: String = functions.iter().map(|(f, n)| column(f, n)).collect();
        run_sql(&format!("{MOMENTS_DDL}SELECT id{columns} FROM m"), &[])
    };
    assert_eq!(
        select(&|f, n| format!(", {f}(a) AS {n}")),
        select(&|_, n| format!(", EXTRACT({n} FROM a) AS {n}"))
    );
}

#[test]
fn timestampdiff_timestampadd_and_to_timestamp() {
    let units = [
        "second", "minute", "hour", "day", "week", "month", "quarter", "year",
    ];
    let diffs: String = units
        .iter()
        .map(|u| format!(", TIMESTAMPDIFF({}, a, b) AS diff_{u}", u.to_uppercase()))
        .collect();
    let sql = format!(
        "{MOMENTS_DDL}SELECT id{diffs}, TIMESTAMPADD(MONTH, 1, a) AS plus_month, \
         TIMESTAMPADD('month', -13, a) AS minus_13_months, \
         TIMESTAMPADD(QUARTER, -3, b) AS minus_3_quarters, \
         TIMESTAMPADD(HOUR, 36, a) AS plus_36_hours, TO_TIMESTAMP(s) AS parsed, \
         TO_TIMESTAMP(f, 'dd/MM/yyyy HH:mm:ss') AS patterned, TO_TIMESTAMP(n) AS from_epoch \
         FROM m"
    );
    assert_eq!(run_sql(&sql, &[]), expected("time_functions"));
}

#[test]
fn time_function_errors_name_the_place() {
    assert_sql_error(
        "SELECT\n  EXTRACT(JULIAN FROM ts) AS j FROM trades",
        "line 2, column 23: EXTRACT(JULIAN FROM ..) is not supported",
    );
    assert_sql_error(
        "SELECT TIMESTAMPDIFF(FORTNIGHT, ts, ts) AS d FROM trades",
        "column 8: TIMESTAMPDIFF takes a unit as its first argument",
    );
    assert_sql_error(
        "SELECT TIMESTAMPADD(DAY, ts) AS d FROM trades",
        "TIMESTAMPADD takes 3 arguments, got 2",
    );
    assert_sql_error(
        "SELECT TO_TIMESTAMP(symbol, 'yyyy-MM-dd hh') AS t FROM trades",
        "TO_TIMESTAMP pattern letter 'h' is not supported",
    );
}

/// CURRENT_TIMESTAMP and NOW() are the wall clock while the query runs
/// (processing time): only checked against generous bounds.
#[test]
fn current_timestamp_is_the_wall_clock() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    let out = query(
        "SELECT TIMESTAMPDIFF(MILLISECOND, TIMESTAMP '1970-01-01 00:00:00', CURRENT_TIMESTAMP) \
         AS a, TIMESTAMPDIFF(MILLISECOND, TIMESTAMP '1970-01-01 00:00:00', NOW()) AS b \
         FROM trades LIMIT 1",
        &[],
    );
    let after = before + 10 * 60 * 1000;
    let row: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON row");
    for column in ["a", "b"] {
        let millis = row[column].as_i64().expect("a number");
        assert!(
            (before..after).contains(&millis),
            "{column}: {millis} not in {before}..{after}"
        );
    }
}

const TEXTS_DDL: &str = "CREATE TABLE t (id BIGINT, s VARCHAR, j VARCHAR) \
     WITH ('path' = 'tests/data/dialects/texts.csv');\n";

#[test]
fn regexp_json_and_md5_functions() {
    let sql = format!(
        "{TEXTS_DDL}SELECT id, REGEXP_LIKE(s, 'shipped') AS like_plain, \
         REGEXP_LIKE(s, 'shipped', 'i') AS like_i, \
         REGEXP_EXTRACT(s, '(\\w+)-(\\d+)', 2) AS ex_group, REGEXP_EXTRACT(s, '\\d+') AS ex_whole, \
         REGEXP_REPLACE(s, '(\\w)(\\d)', '\\2\\1') AS rep_first, \
         REGEXP_REPLACE(s, '(\\w)(\\d)', '<\\2\\1>', 'g') AS rep_all, \
         JSON_VALUE(j, '$.a.b[1].c') AS jv_c, JSON_VALUE(j, '$.t') AS jv_t, \
         JSON_VALUE(j, '$.a') AS jv_object, JSON_VALUE(j, '$.n') AS jv_null, \
         j ->> 'name' AS arrow_name, j ->> 'a' AS arrow_object, j ->> 1 AS arrow_index, \
         MD5(s) AS md5 FROM t"
    );
    assert_eq!(run_sql(&sql, &[]), expected("text_functions"));
}

/// HASH is xxHash64 with seed 0 of the value's text: the specification's
/// test vector for the empty text, the same on every runtime and shard count.
#[test]
fn hash_is_xxhash64_and_stable_everywhere() {
    let out = query_everywhere(
        "SELECT HASH('') AS h, HASH(symbol) = HASH(symbol) AS same FROM trades LIMIT 1",
    );
    let empty = 0xef46_db37_51d8_e999_u64 as i64;
    assert_eq!(out, format!("{{\"h\":{empty},\"same\":true}}\n"));
}

#[test]
fn regexp_and_json_errors_are_found_at_plan_time() {
    assert_sql_error(
        "SELECT symbol,\n  REGEXP_LIKE(symbol, 'a(') AS x FROM trades",
        "line 2, column 3: REGEXP_LIKE: invalid regular expression",
    );
    assert_sql_error(
        "SELECT REGEXP_EXTRACT(symbol, symbol) AS x FROM trades",
        "column 8: REGEXP_EXTRACT takes a constant pattern (a string literal) as argument 2",
    );
    assert_sql_error(
        "SELECT REGEXP_EXTRACT(symbol, '(a)', 2) AS x FROM trades",
        "REGEXP_EXTRACT group 2 does not exist: the pattern has 1 group(s)",
    );
    assert_sql_error(
        "SELECT REGEXP_REPLACE(symbol, 'a', 'b', 'x') AS x FROM trades",
        "REGEXP_REPLACE flag 'x' is not supported (flags: gi)",
    );
    assert_sql_error(
        "SELECT JSON_VALUE(symbol, 'a.b') AS x FROM trades",
        "column 8: JSON path 'a.b' must start with '$'",
    );
    assert_sql_error(
        "SELECT qty ->> 'a' AS x FROM trades",
        "->> expects VARCHAR as argument 1, got BIGINT",
    );
}

const TICKS_DDL: &str = "CREATE TABLE ticks (k VARCHAR, name VARCHAR, x DOUBLE, flag BOOLEAN, \
     ts TIMESTAMP) WITH ('path' = 'tests/data/dialects/ticks.csv');\n";

const NEW_AGGREGATES: &str = "BOOL_AND(flag) AS all_flag, BOOL_OR(flag) AS any_flag, \
     ARG_MAX(name, x) AS top_name, ARG_MIN(name, x) AS bottom_name, \
     FIRST_VALUE(x) AS first_x, LAST_VALUE(x) AS last_x, COLLECT_LIST(name) AS names, \
     APPROX_COUNT_DISTINCT(name) AS distinct_names, ROUND(APPROX_PERCENTILE(x, 0.5), 6) AS median_x, \
     ROUND(PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY x), 6) AS p90_x";

/// `SELECT k, <columns><NEW_AGGREGATES> FROM ticks GROUP BY <group_by>` on
/// every runtime and shard count gives the DuckDB-computed `name`.
fn assert_new_aggregates(columns: &str, group_by: &str, name: &str) {
    let sql =
        format!("{TICKS_DDL}SELECT k, {columns}{NEW_AGGREGATES} FROM ticks GROUP BY {group_by}");
    assert_eq!(run_everywhere(&sql, &[]), expected(name), "{sql}");
}

#[test]
fn new_aggregates_by_key_with_emit_final_on_every_shard_count() {
    assert_new_aggregates("", "k EMIT FINAL", "aggregates_by_key");
}

#[test]
fn new_aggregates_in_tumbling_windows() {
    assert_new_aggregates(
        "window_start, window_end, ",
        "k, TUMBLE(ts, INTERVAL '60' SECOND) EMIT FINAL",
        "aggregates_tumbling_60s",
    );
}

/// EMIT CHANGES: each record's group row, computed by DuckDB as running
/// window functions in record order. Percentiles are rounded to 6 places
/// (DuckDB interpolates in more than double precision).
#[test]
fn new_aggregates_with_emit_changes() {
    let sql = format!(
        "{TICKS_DDL}SELECT k, BOOL_AND(flag) AS all_flag, MAX_BY(name, x) AS top_name, \
         EARLIEST_BY_OFFSET(x) AS first_x, LATEST_BY_OFFSET(x) AS last_x, \
         ROUND(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x), 6) AS median_x \
         FROM ticks GROUP BY k EMIT CHANGES"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("aggregates_changes"));
}

#[test]
fn aggregate_argument_errors_name_the_place() {
    assert_sql_error(
        "SELECT symbol,\n  ARG_MAX(qty) AS a FROM trades GROUP BY symbol",
        "line 2, column 3: ARG_MAX takes exactly two arguments (x, by)",
    );
    assert_sql_error(
        "SELECT PERCENTILE_CONT(1.5) WITHIN GROUP (ORDER BY qty) AS p FROM trades",
        "PERCENTILE_CONT takes a fraction from 0 to 1 as a number literal, got `1.5`",
    );
    assert_sql_error(
        "SELECT BOOL_AND(qty) AS b FROM trades",
        "BOOL_AND needs a BOOLEAN argument, got BIGINT",
    );
    assert_sql_error(
        "SELECT COUNT(*) AS n FROM trades GROUP BY symbol HAVING MEDIAN(qty) > 1",
        "unknown function 'median'",
    );
}

#[test]
fn select_distinct_writes_each_row_once_as_first_seen_or_at_the_end() {
    let sql = "SELECT DISTINCT symbol, qty >= 10 AS big FROM trades";
    assert_eq!(query_everywhere(sql), expected("distinct_first_seen"));
    let at_the_end = query_everywhere(&format!("{sql} EMIT FINAL"));
    assert_eq!(at_the_end, expected("distinct_rows"));
}

#[test]
fn select_distinct_per_window_writes_each_row_once_per_window() {
    let sql = format!(
        "{TICKS_DDL}SELECT DISTINCT k, name, window_start FROM ticks \
         WINDOW TUMBLING (SIZE 60 SECONDS)"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("distinct_per_window"));
}

#[test]
fn new_aggregates_with_emit_changes_in_tumbling_windows() {
    assert_new_aggregates(
        "window_start, ",
        "k, TUMBLE(ts, INTERVAL '60' SECOND) EMIT CHANGES",
        "aggregates_changes_tumbling_60s",
    );
}

#[test]
fn new_aggregates_in_session_windows() {
    assert_new_aggregates(
        "window_start, window_end, ",
        "k, SESSION(ts, INTERVAL '20' SECOND) EMIT FINAL",
        "aggregates_session_20s",
    );
}

/// bridge.csv by hand: A@0s (v 1), A@10s (v 2), then A@5s (v 3), which
/// joins the sessions [0s, 8s) and [10s, 18s) into [0s, 18s): the merged
/// state holds the earlier session's rows first, then the later one's, then
/// the bridging record.
#[test]
fn new_aggregates_survive_a_session_merge() {
    let sql = "SELECT k, window_start, window_end, FIRST_VALUE(v) AS f, LAST_VALUE(v) AS l, \
               COLLECT_LIST(v) AS vs, ARG_MAX(v, ts) AS newest, \
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v) AS median FROM b \
               GROUP BY k, SESSION(ts, INTERVAL '8' SECOND)";
    for shards in ["1", "3"] {
        let out = run_sql(
            sql,
            &[
                "--source",
                "b=tests/data/dialects/bridge.csv",
                "--max-out-of-orderness",
                "10s",
                "--shards",
                shards,
            ],
        );
        assert_eq!(
            out,
            "{\"k\":\"A\",\"window_start\":\"2026-01-01T00:00:00.000Z\",\
             \"window_end\":\"2026-01-01T00:00:18.000Z\",\"f\":1,\"l\":3,\"vs\":\"[1,2,3]\",\
             \"newest\":2,\"median\":2.0}\n"
        );
    }
}

/// The changelog of the new aggregates, applied in order (add `+I`/`+U`,
/// take back one equal row per `-U`/`-D`), leaves the EMIT FINAL result.
#[test]
fn new_aggregates_in_a_changelog_add_up_to_emit_final() {
    let sql = format!("{TICKS_DDL}SELECT k, {NEW_AGGREGATES} FROM ticks GROUP BY k EMIT CHANGES");
    let parse = |line: &str| serde_json::from_str::<serde_json::Value>(line).expect("a JSON row");
    let sorted = |mut rows: Vec<serde_json::Value>| {
        rows.sort_by_key(|r| r.to_string());
        rows
    };
    let want = sorted(expected("aggregates_by_key").lines().map(parse).collect());
    for shards in ["1", "3"] {
        let out = run_sql(&sql, &["--changelog", "--shards", shards]);
        let mut table = Vec::new();
        for line in out.lines() {
            let mut row = parse(line);
            let op = row.as_object_mut().and_then(|o| o.remove("op"));
            match op.as_ref().and_then(|op| op.as_str()) {
                Some("+I" | "+U") => table.push(row),
                _ => {
                    let i = table
                        .iter()
                        .position(|r| *r == row)
                        .expect("the row taken back");
                    table.swap_remove(i);
                }
            }
        }
        assert_eq!(sorted(table), want, "{shards} shard(s)");
    }
}

/// `INSERT INTO sink SELECT ..` (Flink, Velostream) writes where the sink
/// table's WITH keys say, under its column names. Expected rows: DuckDB's
/// `SELECT symbol, COUNT(*), SUM(qty) FROM trades GROUP BY 1 ORDER BY 1`.
#[test]
fn insert_into_a_declared_sink_writes_its_file_with_its_column_names() {
    let dir = tempfile::tempdir().expect("dir");
    let sink = dir.path().join("volumes.csv");
    let sql = format!(
        "{TRADES_DDL}
         CREATE TABLE volumes (sym VARCHAR, n BIGINT, volume BIGINT) \
         WITH ('path' = '{}', 'format' = 'csv');
         INSERT INTO volumes SELECT symbol, COUNT(*), SUM(qty) FROM trades GROUP BY symbol EMIT FINAL",
        sink.display()
    );
    assert_eq!(
        run_sql(&sql, &["--shards", "2"]),
        "",
        "nothing on standard output"
    );
    let written = std::fs::read_to_string(&sink).expect("the sink's file");
    assert_eq!(written, "sym,n,volume\nAAPL,4,65\nGOOG,2,10\nMSFT,2,20\n");
}

#[test]
fn insert_into_names_a_missing_sink_and_a_column_of_another_type() {
    let missing = format!("{TRADES_DDL}\nINSERT INTO nowhere SELECT symbol FROM trades");
    let o = run(&["run", "-e", &missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 2, column 1: INSERT INTO nowhere: no table nowhere is declared"),
        "{}",
        stderr(&o)
    );
    let mistyped = format!(
        "{TRADES_DDL} CREATE TABLE sums (s VARCHAR, v DOUBLE) WITH ('path' = 'unused.csv');
         INSERT INTO sums SELECT symbol, SUM(qty) FROM trades GROUP BY symbol"
    );
    let o = run(&["run", "-e", &mistyped]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "column 2 of the query, sum (BIGINT), does not have the type of sums.v (DOUBLE)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!std::path::Path::new("unused.csv").exists());
}

#[test]
fn a_subquery_that_filters_and_projects_runs_as_one_query() {
    let sql = format!(
        "{TICKS_DDL}SELECT k, who, x2 FROM \
           (SELECT k, name AS who, x * 2 AS x2, flag FROM ticks WHERE x IS NOT NULL) t \
         WHERE t.flag AND x2 > 100"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("nested_rows"));
}

#[test]
fn with_queries_window_and_filter_the_groups_like_having() {
    let sql = format!(
        "{TICKS_DDL}WITH named AS (SELECT k, x, ts FROM ticks WHERE name <> 'ann'), \
           per_minute AS (SELECT k, TUMBLE_START(ts, INTERVAL '60' SECOND) AS window_start, \
             COUNT(*) AS n, SUM(x) AS total FROM named \
             GROUP BY k, TUMBLE(ts, INTERVAL '60' SECOND)) \
         SELECT window_start, k, total FROM per_minute WHERE n >= 2 EMIT FINAL"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("nested_windows"));
}

#[test]
fn a_view_is_read_by_name_with_a_ksqldb_window() {
    let sql = format!(
        "{TICKS_DDL}CREATE VIEW flagged AS SELECT k, x, ts FROM ticks WHERE flag;\n\
         SELECT k, WINDOWSTART AS ws, COUNT(*) AS n, MAX(x) AS top FROM flagged \
         WINDOW TUMBLING (SIZE 60 SECONDS) GROUP BY k EMIT FINAL"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("view_windows"));
}

#[test]
fn nested_query_errors_carry_line_and_column() {
    let message = sql_error("SELECT symbol,\n  price\nFROM (SELECT symbol, qty FROM trades)");
    assert!(
        message.contains("line 2, column 3: column price is not a column of the subquery"),
        "{message}"
    );
    let message = sql_error(
        "CREATE VIEW v AS SELECT symbol FROM trades;\nCREATE VIEW v AS SELECT qty FROM trades;\n\
         SELECT * FROM v",
    );
    assert!(
        message.contains("line 2, column 1: view v has the name of another view"),
        "{message}"
    );
    let message = sql_error(
        "SELECT n, COUNT(*) AS c\nFROM (SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol)\n\
         GROUP BY n",
    );
    assert!(
        message.contains("line 2, column 7: a grouping over a grouping groups again"),
        "{message}"
    );
}

#[test]
fn a_flink_window_table_function_reads_a_view() {
    let sql = format!(
        "{TICKS_DDL}CREATE TEMPORARY VIEW flagged AS SELECT k, x, ts AS t FROM ticks WHERE flag;\n\
         SELECT window_start, window_end, k, COUNT(*) AS n, MAX(x) AS top \
         FROM TABLE(TUMBLE(TABLE flagged, DESCRIPTOR(t), INTERVAL '60' SECOND)) \
         GROUP BY window_start, window_end, k"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("view_tvf_windows"));
}

#[test]
fn velostream_per_object_keys_declare_the_source_and_the_sink() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy("tests/data/trades.csv", dir.path().join("input.csv")).expect("copy");
    let script = dir.path().join("hello.sql");
    std::fs::write(
        &script,
        "CREATE STREAM hello AS SELECT symbol, qty FROM input_data WHERE qty > 5\n\
         EMIT CHANGES\n\
         WITH ('input_data.type' = 'file_source', 'input_data.path' = 'input.csv',\n\
               'input_data.format' = 'csv', 'hello.type' = 'file_sink',\n\
               'hello.path' = 'out/hello.csv', 'hello.format' = 'csv');",
    )
    .expect("script");
    std::fs::create_dir(dir.path().join("out")).expect("out dir");
    let script = script.to_string_lossy().into_owned();
    for shards in ["1", "3"] {
        let o = run(&["run", "-q", &script, "--shards", shards]);
        assert_success(&o);
        assert_eq!(
            stdout(&o),
            "",
            "rows go to the sink's path, not standard output"
        );
        let written = std::fs::read_to_string(dir.path().join("out/hello.csv")).expect("output");
        // trades.csv's rows with qty > 5, in input order (by hand).
        assert_eq!(
            written,
            "symbol,qty\nAAPL,10\nAAPL,20\nGOOG,7\nMSFT,15\nAAPL,30\n"
        );
    }
    assert_sql_error(
        "CREATE STREAM s AS SELECT * FROM t WITH ('t.type' = 'file_source')",
        "WITH 't.type' = 'file_source' needs 't.path'",
    );
}

#[test]
fn velostream_window_without_a_time_column_uses_the_event_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = dir.path().join("windows.jsonl");
    let sql = format!(
        "CREATE STREAM windows AS SELECT symbol, _window_start AS window_start, \
           _window_end AS window_end, COUNT(*) AS n, SUM(qty) AS v \
         FROM market_data GROUP BY symbol WINDOW TUMBLING(10s) EMIT FINAL \
         WITH ('market_data.type' = 'file_source', 'market_data.path' = 'tests/data/trades.csv', \
               'windows.type' = 'file_sink', 'windows.path' = '{}', 'windows.format' = 'json')",
        output.display()
    );
    assert_eq!(run_sql(&sql, &[]), "");
    let written = std::fs::read_to_string(&output).expect("output");
    assert_eq!(written, expected("tumbling_10s"));
}

#[test]
fn arroyo_tumble_and_hop_without_a_time_column_use_the_event_time() {
    let columns =
        "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v FROM trades";
    let tumbling = format!("{columns} GROUP BY symbol, tumble(interval '10 seconds') EMIT FINAL");
    assert_eq!(query_everywhere(&tumbling), expected("tumbling_10s"));
    let hopping = format!(
        "{columns} GROUP BY hop(interval '5 seconds', interval '10 seconds'), symbol EMIT FINAL"
    );
    assert_eq!(query_everywhere(&hopping), expected("hopping_10s_5s"));
}

const DEDUP: &str = "SELECT k, name, x, flag, ts FROM (SELECT *, ROW_NUMBER() OVER \
                     (PARTITION BY k, name ORDER BY ts{order}) AS rn FROM ticks) WHERE rn = 1";

#[test]
fn row_number_deduplication_keeps_the_first_row_per_key_with_its_nulls() {
    let first = format!("{TICKS_DDL}{}", DEDUP.replace("{order}", ""));
    assert_eq!(run_everywhere(&first, &[]), expected("dedup_first"));
    let last = format!(
        "{TICKS_DDL}{} EMIT FINAL",
        DEDUP.replace("{order}", " DESC")
    );
    assert_eq!(run_everywhere(&last, &[]), expected("dedup_last"));
}

#[test]
fn row_number_deduplication_per_window() {
    let sql = format!(
        "{TICKS_DDL}SELECT window_start, window_end, k, name, x FROM (SELECT *, ROW_NUMBER() \
           OVER (PARTITION BY window_start, window_end, k ORDER BY ts) AS rn \
         FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR(ts), INTERVAL '60' SECOND))) WHERE rn = 1"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("dedup_per_window"));
}

#[test]
fn flink_session_window_table_function_with_and_without_partition_by() {
    let per_symbol = "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
        FROM TABLE(SESSION(TABLE trades PARTITION BY symbol, DESCRIPTOR(ts), INTERVAL '8' SECOND)) \
        GROUP BY window_start, window_end, symbol EMIT FINAL";
    assert_eq!(query_everywhere(per_symbol), expected("session_8s"));
    let whole_stream = "SELECT window_start, window_end, COUNT(*) AS n, SUM(qty) AS v \
        FROM TABLE(SESSION(TABLE trades, DESCRIPTOR(ts), INTERVAL '5' SECOND)) \
        GROUP BY window_start, window_end EMIT FINAL";
    assert_eq!(
        query_everywhere(whole_stream),
        expected("session_global_5s")
    );
    assert_sql_error(
        "SELECT window_start, COUNT(*) AS n FROM TABLE(SESSION(TABLE trades PARTITION BY \
         symbol, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end",
        "must GROUP BY window_start, window_end and exactly the PARTITION BY columns",
    );
    assert_sql_error(
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE trades PARTITION BY \
         symbol, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end",
        "PARTITION BY in TUMBLE(..) is not supported: only SESSION takes it",
    );
}

#[test]
fn order_by_sorts_a_bounded_final_result_with_limit_on_every_shard_count() {
    let top = "SELECT symbol, SUM(qty) AS v FROM trades GROUP BY symbol EMIT FINAL \
               ORDER BY v DESC LIMIT 2";
    assert_eq!(query_everywhere(top), expected("order_by_volume_top2"));
    let ticks = ["--source", "ticks=tests/data/dialects/ticks.csv"];
    let rows = "SELECT k, name, x FROM ticks ORDER BY x DESC, name";
    assert_eq!(run_everywhere(rows, &ticks), expected("order_by_rows"));
    let nulls = "SELECT k, x FROM ticks ORDER BY 2 NULLS FIRST LIMIT 8";
    assert_eq!(
        run_everywhere(nulls, &ticks),
        expected("order_by_nulls_first")
    );
    let hidden = "SELECT symbol, price FROM trades ORDER BY qty DESC, ts LIMIT 4";
    assert_eq!(query_everywhere(hidden), expected("order_by_hidden"));
}

#[test]
fn order_by_is_refused_on_a_stream_of_changes_and_an_input_that_never_ends() {
    assert_sql_error(
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol ORDER BY n",
        "use EMIT FINAL",
    );
    assert_sql_error(
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL ORDER BY qty",
        "ORDER BY `qty` is not an output column of this grouping, nor an expression of its \
         keys and aggregates; sort by one of symbol, n",
    );
    assert_sql_error(
        "SELECT symbol FROM trades ORDER BY 2",
        "the SELECT list has 1 columns",
    );
    let followed = "CREATE TABLE t (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
                    WITH ('path' = 'tests/data/trades.csv', 'follow' = 'true'); \
                    SELECT symbol FROM t ORDER BY symbol";
    let o = run(&["run", "-q", "-e", followed]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("never ends"), "{}", stderr(&o));
}

#[test]
fn risingwave_format_plain_encode_json_is_the_format_key() {
    let sql = "CREATE SOURCE t (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
               WITH (connector = 'file', path = 'tests/data/trades.jsonl') FORMAT PLAIN ENCODE JSON; \
               SELECT symbol, qty FROM t LIMIT 2";
    assert_eq!(
        run_sql(sql, &[]),
        "{\"symbol\":\"AAPL\",\"qty\":10}\n{\"symbol\":\"MSFT\",\"qty\":5}\n"
    );
    let avro = "CREATE SOURCE t (symbol VARCHAR) WITH (path = 'tests/data/trades.jsonl') \
                FORMAT UPSERT ENCODE AVRO; SELECT symbol FROM t";
    let o = run(&["run", "-q", "-e", avro]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("column 74: of RisingWave's FORMAT"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ksqldb_partition_by_of_a_query_names_the_kafka_key_setting() {
    assert_sql_error(
        "CREATE STREAM s AS SELECT * FROM trades PARTITION BY symbol EMIT CHANGES",
        "column 41: ksqlDB's PARTITION BY (re-keying a query's output) is not supported",
    );
}

/// `dates`: a declared DATE column (with NULLs) beside a TIMESTAMP.
const DATES_DDL: &str = "CREATE TABLE dates (k VARCHAR, d DATE, ts TIMESTAMP) \
                         WITH ('path' = 'tests/data/dialects/dates.csv', 'format' = 'csv');";

#[test]
fn a_date_column_is_read_computed_with_and_written_as_duckdb_does() {
    let sql = format!(
        "{DATES_DDL} SELECT k, d, d + 7 AS week_later, d - DATE '2026-01-01' AS days_in, \
         CAST(ts AS DATE) AS ts_day, CAST(ts AS DATE) = d AS same_day, d < ts AS before_ts, \
         DATE_TRUNC('month', d) AS month, EXTRACT(DOW FROM d) AS dow, \
         d + INTERVAL '12' HOUR AS noon, CAST(d AS VARCHAR) AS text \
         FROM dates WHERE d >= '2026-01-05' OR d IS NULL"
    );
    assert_eq!(run_everywhere(&sql, &[]), expected("dates_rows"));
    let grouped = format!(
        "{DATES_DDL} SELECT d, COUNT(*) AS n, MIN(ts) AS first_ts, MAX(k) AS last_k \
         FROM dates GROUP BY d EMIT FINAL"
    );
    assert_eq!(run_everywhere(&grouped, &[]), expected("dates_by_day"));
}

#[test]
fn dates_convert_from_text_and_timestamps_and_refuse_what_has_no_meaning() {
    let sql = "SELECT CAST('2026-02-03 04:05:06' AS DATE) AS from_text, \
               CAST(CAST('2026-02-03' AS DATE) AS TIMESTAMP) AS midnight, \
               CAST('not a date' AS DATE) AS bad, \
               DATE '2026-02-03' + 1 - 2 AS back, 1 + DATE '2026-02-03' AS ahead \
               FROM trades LIMIT 1";
    assert_eq!(
        query(sql, &[]),
        "{\"from_text\":\"2026-02-03\",\"midnight\":\"2026-02-03T00:00:00.000Z\",\
         \"bad\":null,\"back\":\"2026-02-02\",\"ahead\":\"2026-02-04\"}\n"
    );
    assert_sql_error(
        "SELECT DATE '2026-02-03' * 2 FROM trades",
        "cannot apply '*' to DATE and BIGINT",
    );
    assert_sql_error(
        "SELECT DATE '2026-02-30' FROM trades",
        "'2026-02-30' is not a valid DATE",
    );
    assert_sql_error(
        "SELECT symbol FROM trades WHERE CAST(ts AS DATE) = 'soon'",
        "'soon' is not a date",
    );
}

#[test]
fn a_grouping_sorts_by_aggregates_and_window_bounds_it_does_not_write() {
    let by_range = "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL \
                    ORDER BY MAX(price) - MIN(price) DESC, symbol";
    assert_eq!(
        query_everywhere(by_range),
        expected("order_by_hidden_aggregate")
    );
    let by_end = "SELECT window_start, SUM(qty) AS v FROM trades \
                  GROUP BY TUMBLE(ts, INTERVAL '10' SECOND) ORDER BY window_end DESC";
    assert_eq!(query_everywhere(by_end), expected("order_by_hidden_window"));
}
