//! End-to-end tests of lookup joins (a stream enriched from tables read in
//! full before it starts). Expected rows live in tests/data/joins/*.jsonl,
//! computed with DuckDB by tests/data/joins/expected.py; every query runs
//! on both runtimes at 1 to 4 shards and must give exactly those rows.

mod common;
use common::{assert_success, run, same_everywhere, stderr, stdout};

const DDL: &str = "\
CREATE TABLE orders (id BIGINT, symbol VARCHAR, side VARCHAR, price DOUBLE, qty BIGINT, \
  ts TIMESTAMP) WITH ('path' = 'tests/data/joins/orders.csv');
CREATE TABLE symbols (symbol VARCHAR, sector VARCHAR, lot BIGINT, \
  PRIMARY KEY (symbol) NOT ENFORCED) WITH ('path' = 'tests/data/joins/symbols.csv');
CREATE TABLE sectors (sector VARCHAR, region VARCHAR) \
  WITH ('path' = 'tests/data/joins/sectors.csv');
CREATE TABLE lots (symbol VARCHAR, side VARCHAR, lot BIGINT) \
  WITH ('path' = 'tests/data/joins/lots.csv');
";

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("tests/data/joins/{name}.jsonl")).expect("expected file")
}

fn run_sql(sql: &str, extra: &[&str]) -> std::process::Output {
    let script = format!("{DDL}{sql}");
    let mut args = vec!["run", "-q", "-e", &script];
    args.extend_from_slice(extra);
    run(&args)
}

/// The output of `sql` (after the tables' DDL), the same on both runtimes
/// at 1 to 4 shards and with small chunks.
fn run_everywhere(sql: &str) -> String {
    same_everywhere(sql, |extra| {
        let o = run_sql(sql, extra);
        assert_success(&o);
        stdout(&o)
    })
}

/// The error `sql` fails with, and its exit status.
fn failure(sql: &str) -> (Option<i32>, String) {
    let o = run_sql(sql, &[]);
    assert!(!o.status.success(), "{sql} ran: {}", stdout(&o));
    (o.status.code(), stderr(&o))
}

fn assert_fails_with(sql: &str, code: i32, fragment: &str) {
    let (status, message) = failure(sql);
    assert_eq!(status, Some(code), "{message}");
    assert!(message.contains(fragment), "{message}");
}

#[test]
fn inner_join_keeps_matched_rows_in_input_order() {
    let sql = "SELECT o.id, o.symbol, s.sector, o.qty * s.lot AS shares \
               FROM orders o JOIN symbols s ON o.symbol = s.symbol";
    assert_eq!(run_everywhere(sql), expected("inner"));
}

#[test]
fn left_join_fills_missing_and_null_keys_with_nulls() {
    // NOPE is not in the table; rows without a symbol never match (not even
    // the table's row whose symbol is empty).
    let sql = "SELECT o.id, o.symbol, s.sector, s.lot \
               FROM orders o LEFT OUTER JOIN symbols s ON o.symbol = s.symbol";
    assert_eq!(run_everywhere(sql), expected("left"));
}

#[test]
fn flinks_for_system_time_as_of_is_the_same_join() {
    let flink = "SELECT o.id, o.symbol, s.sector, o.qty * s.lot AS shares FROM orders AS o \
                 JOIN symbols FOR SYSTEM_TIME AS OF o.ts AS s ON o.symbol = s.symbol";
    assert_eq!(run_everywhere(flink), expected("inner"));
}

#[test]
fn tables_chain_and_where_sees_every_column() {
    let sql = "SELECT o.id, s.sector, x.region FROM orders o \
               JOIN symbols s ON o.symbol = s.symbol \
               LEFT JOIN sectors x ON s.sector = x.sector WHERE o.qty > 10";
    assert_eq!(run_everywhere(sql), expected("chained"));
}

#[test]
fn a_stream_from_standard_input_is_joined_as_it_arrives() {
    use std::io::Write;
    let script = DDL.replace("'tests/data/joins/orders.csv'", "'-', 'format' = 'csv'")
        + "SELECT o.id, o.symbol, s.sector, o.qty * s.lot AS shares \
           FROM orders o JOIN symbols s ON o.symbol = s.symbol";
    let mut child = common::corestream()
        .args(["run", "-q", "-e", &script, "--shards", "2"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start corestream");
    let orders = std::fs::read("tests/data/joins/orders.csv").expect("orders");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&orders)
        .expect("write orders");
    let o = child.wait_with_output().expect("run");
    assert_success(&o);
    assert_eq!(stdout(&o), expected("inner"));
}

#[test]
fn a_key_of_two_columns() {
    let sql = "SELECT o.id, o.side, l.lot FROM orders o \
               LEFT JOIN lots l ON o.symbol = l.symbol AND l.side = o.side";
    assert_eq!(run_everywhere(sql), expected("two_keys"));
}

#[test]
fn a_join_feeds_a_windowed_group_by_on_a_table_column() {
    let sql = "SELECT s.sector, window_start, window_end, COUNT(*) AS n, \
               ROUND(SUM(o.price * o.qty), 2) AS revenue \
               FROM orders o JOIN symbols s ON o.symbol = s.symbol \
               GROUP BY s.sector, TUMBLE(o.ts, INTERVAL '1' MINUTE) EMIT FINAL";
    // Orders are up to 7 s out of order: the watermark waits 10 s, so no
    // record is late and the result is DuckDB's.
    let script = format!("{DDL}{sql}");
    for shards in ["1", "2", "4"] {
        let o = run(&[
            "run",
            "-q",
            "-e",
            &script,
            "--max-out-of-orderness",
            "10s",
            "--shards",
            shards,
        ]);
        assert_success(&o);
        assert_eq!(stdout(&o), expected("sector_minutes"), "{shards} shards");
    }
}

#[test]
fn grouping_by_a_column_two_tables_away() {
    let sql = "SELECT x.region, COUNT(*) AS n, SUM(o.qty) AS q FROM orders o \
               LEFT JOIN symbols s ON o.symbol = s.symbol \
               LEFT JOIN sectors x ON s.sector = x.sector GROUP BY x.region EMIT FINAL";
    assert_eq!(run_everywhere(sql), expected("per_region"));
}

#[test]
fn unmatched_rows_of_an_inner_join_count_as_filtered() {
    let sql = "SELECT o.id FROM orders o JOIN symbols s ON o.symbol = s.symbol";
    let o = run(&["run", "-e", &format!("{DDL}{sql}"), "--shards", "2"]);
    assert_success(&o);
    let matched = expected("inner").lines().count();
    let summary = format!(
        "60 records read: {matched} processed, {} filtered, 0 late, 0 malformed",
        60 - matched
    );
    assert!(stderr(&o).contains(&summary), "{}", stderr(&o));
}

#[test]
fn a_late_row_is_dead_lettered_as_the_record_read() {
    let dir = tempfile::tempdir().expect("dir");
    let stream = dir.path().join("late.csv");
    std::fs::write(
        &stream,
        "id,symbol,side,price,qty,ts\n\
         1,AAPL,BUY,1,1,2026-01-01T00:00:01Z\n\
         2,MSFT,BUY,1,1,2026-01-01T00:00:12Z\n\
         3,AAPL,BUY,1,1,2026-01-01T00:00:05Z\n",
    )
    .expect("write");
    let dead = dir.path().join("dead.jsonl");
    let sql = format!(
        "{}SELECT s.sector, COUNT(*) AS n FROM orders o JOIN symbols s ON o.symbol = s.symbol \
         GROUP BY s.sector, TUMBLE(o.ts, INTERVAL '10' SECOND) EMIT FINAL",
        DDL.replace("tests/data/joins/orders.csv", &stream.display().to_string())
    );
    let o = run(&[
        "run",
        "-q",
        "-e",
        &sql,
        "--dead-letter",
        dead.to_str().expect("utf-8 path"),
        // A chunk per line: the watermark moves at chunk ends.
        "--chunk-bytes",
        "40",
    ]);
    assert_success(&o);
    let dead = std::fs::read_to_string(&dead).expect("dead letters");
    let entry: serde_json::Value =
        serde_json::from_str(dead.lines().next().expect("one late row")).expect("json");
    assert_eq!(entry["source"], "orders");
    assert_eq!(entry["record"]["id"], 3);
    assert!(
        entry["record"].get("sector").is_none(),
        "the record as read, without the table's columns: {entry}"
    );
}

#[test]
fn a_table_that_repeats_a_key_is_refused_naming_both_lines() {
    let sql = DDL.replace("symbols.csv", "symbols_repeated.csv")
        + "SELECT o.id FROM orders o JOIN symbols s ON o.symbol = s.symbol";
    let o = run(&["run", "-e", &sql]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let message = stderr(&o);
    assert!(
        message.contains("repeats the join key (AAPL) at tests/data/joins/symbols_repeated.csv line 4 (first at tests/data/joins/symbols_repeated.csv line 2)"),
        "{message}"
    );
}

#[test]
fn a_malformed_table_row_is_an_error_with_its_line() {
    let sql = DDL.replace("symbols.csv", "symbols_malformed.csv")
        + "SELECT o.id FROM orders o JOIN symbols s ON o.symbol = s.symbol";
    let o = run(&["run", "-e", &sql]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("symbols_malformed.csv line 3"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&o),
        "",
        "nothing is written before the tables are read"
    );
}

#[test]
fn keys_of_different_types_are_an_error_naming_both() {
    assert_fails_with(
        "SELECT o.id FROM orders o JOIN symbols s ON o.qty = s.symbol",
        2,
        "cannot join on `o.qty` (BIGINT) = `s.symbol` (VARCHAR)",
    );
}

#[test]
fn a_join_without_a_key_equality_is_refused_with_a_reason() {
    assert_fails_with(
        "SELECT o.id FROM orders o JOIN symbols s ON o.symbol = s.symbol OR o.qty > 1",
        2,
        "ON may only hold equalities between a column of symbols",
    );
    // A range comparison makes it a join of two streams, which needs a key.
    assert_fails_with(
        "SELECT o.id FROM orders o JOIN symbols s ON o.qty > s.lot",
        2,
        "a join of two streams needs an equality on a key",
    );
    assert_fails_with(
        "SELECT o.id FROM orders o CROSS JOIN symbols s",
        2,
        "CROSS JOIN is not supported",
    );
    assert_fails_with(
        "SELECT o.id FROM orders o, symbols s WHERE o.qty > 1",
        2,
        "FROM a, b joins two streams on the equalities WHERE puts between their columns",
    );
    assert_fails_with(
        "SELECT o.id FROM orders o FULL JOIN symbols s ON o.symbol = s.symbol",
        2,
        "RIGHT and FULL joins are not supported",
    );
}

#[test]
fn an_ambiguous_column_names_both_tables() {
    assert_fails_with(
        "SELECT symbol FROM orders o JOIN symbols s ON o.symbol = s.symbol",
        2,
        "column 'symbol' is ambiguous: both orders and symbols have it",
    );
}

#[test]
fn only_a_file_can_be_joined_as_a_table() {
    let sql = "CREATE TABLE live (symbol VARCHAR, sector VARCHAR) WITH ('path' = '-', \
               'format' = 'csv');\
               SELECT o.id FROM orders o JOIN live l ON o.symbol = l.symbol";
    assert_fails_with(sql, 2, "the joined table live must be a file");
}

#[test]
fn explain_shows_the_join_and_its_keys() {
    let sql = format!(
        "{DDL}SELECT o.id, s.sector FROM orders o LEFT JOIN symbols s ON o.symbol = s.symbol"
    );
    let o = run(&["explain", "-e", &sql]);
    assert_success(&o);
    let text = stdout(&o);
    assert!(
        text.contains("Join: LEFT symbols (symbol VARCHAR, sector VARCHAR, lot BIGINT) ON #1 symbol = symbols.symbol"),
        "{text}"
    );
}

#[test]
fn a_missing_table_file_names_the_table() {
    let sql = DDL.replace(
        "tests/data/joins/symbols.csv",
        "tests/data/joins/no-such-file.csv",
    ) + "SELECT o.id FROM orders o LEFT JOIN symbols s ON o.symbol = s.symbol";
    let o = run(&["run", "-e", &sql]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the joined table symbols: tests/data/joins/no-such-file.csv"),
        "{}",
        stderr(&o)
    );
}
