//! End-to-end tests of UNION ALL: two order feeds with different column
//! names read side by side (tests/data/union, made by make_inputs.py), with
//! a WHERE in one branch, under a windowed GROUP BY, an OVER window, a
//! Top-N over a grouping, ORDER BY .. LIMIT and a join with a table. Expected rows were computed
//! with DuckDB by tests/data/union/expected.py. The us feed starts three
//! minutes after the eu feed, so with one watermark for both, the eu rows
//! read after the first us rows would be late: each input has its own.

mod common;
use common::{
    assert_explains, assert_refused, assert_success, run, same_everywhere, stderr, stdout,
};
use std::path::Path;

const TABLES: &str = "CREATE TABLE eu (ts TIMESTAMP, symbol VARCHAR, price BIGINT, qty BIGINT) \
    WITH ('path' = 'tests/data/union/eu.csv'); \
    CREATE TABLE us (venue VARCHAR, sym VARCHAR, qty BIGINT, px BIGINT, ts TIMESTAMP) \
    WITH ('path' = 'tests/data/union/us.csv');\n";

const ORDERS: &str = "SELECT ts, symbol, price, qty FROM eu \
    UNION ALL SELECT ts, sym, px, qty FROM us WHERE venue <> 'iex'";

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("tests/data/union/{name}.jsonl")).expect("expected file")
}

/// The output of `sql` (after the two tables) with `options`.
fn output_of(sql: &str, options: &[&str]) -> String {
    let script = format!("{TABLES}{sql}");
    let mut args = vec!["run", "-q", "-e", &script];
    args.extend_from_slice(options);
    let o = run(&args);
    assert_success(&o);
    stdout(&o)
}

/// The output of `sql`, the same on both runtimes, at 1 to 4 shards and
/// with tiny chunks (which interleave the inputs' chunks finely).
fn union_everywhere(sql: &str) -> String {
    same_everywhere(sql, |extra| output_of(sql, extra))
}

fn assert_sql_error(sql: &str, fragments: &[&str]) {
    let script = format!("{TABLES}{sql}");
    let o = run(&["run", "-q", "-e", &script]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let message = stderr(&o);
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment}: {message}");
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read json");
    serde_json::from_str(&text).expect("valid json")
}

#[test]
fn a_windowed_grouping_over_a_union_matches_duckdb_with_a_watermark_per_input() {
    let sql = format!(
        "SELECT symbol, window_start, COUNT(*) AS n, SUM(price * qty) AS notional \
         FROM ({ORDERS}) GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE) EMIT FINAL"
    );
    assert_eq!(union_everywhere(&sql), expected("per_minute"));
}

#[test]
fn every_record_of_every_input_is_accounted_for() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let dead = dir.path().join("dead.jsonl");
    let sql = format!("SELECT symbol, COUNT(*) AS n FROM ({ORDERS}) GROUP BY symbol");
    for shards in ["1", "3"] {
        output_of(
            &sql,
            &[
                "--shards",
                shards,
                "--chunk-bytes",
                "200",
                "--stats-json",
                stats.to_str().expect("utf-8 path"),
                "--dead-letter",
                dead.to_str().expect("utf-8 path"),
            ],
        );
        let s = read_json(&stats);
        // 300 eu rows; 70 us rows and a malformed one; a third of the us
        // rows are from iex, dropped by the branch's WHERE.
        assert_eq!(s["records_read"], 371);
        assert_eq!(s["records_malformed"], 1);
        assert_eq!(s["records_filtered"], 24);
        assert_eq!(s["records_processed"], 346);
        assert_eq!(s["records_late"], 0);
        let dead = std::fs::read_to_string(&dead).expect("dead letters");
        let entry: serde_json::Value = serde_json::from_str(dead.trim()).expect("one entry");
        assert_eq!(entry["source"], "us", "{shards} shards");
        assert_eq!(
            entry["line"], 42,
            "numbered in its own file, {shards} shards"
        );
    }
}

#[test]
fn a_late_record_is_dead_lettered_with_the_input_it_came_from() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (early, late_feed) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    let stamp = |s: u32| format!("2026-01-01T00:{:02}:{:02}Z", s / 60, s % 60);
    let rows = |times: &[u32]| -> String {
        let lines: Vec<String> = times.iter().map(|t| format!("{},1\n", stamp(*t))).collect();
        format!("ts,v\n{}", lines.concat())
    };
    let mut b_times: Vec<u32> = (0..20).map(|i| 15 * i).collect();
    b_times.push(30); // 5 minutes behind b's own time, and a's
    std::fs::write(
        &early,
        rows(&(0..20).map(|i| 20 + 15 * i).collect::<Vec<_>>()),
    )
    .unwrap();
    std::fs::write(&late_feed, rows(&b_times)).unwrap();
    let dead = dir.path().join("dead.jsonl");
    let script = format!(
        "CREATE TABLE a (ts TIMESTAMP, v BIGINT) WITH ('path' = '{}'); \
         CREATE TABLE b (ts TIMESTAMP, v BIGINT) WITH ('path' = '{}'); \
         SELECT COUNT(*) AS n, window_start FROM (SELECT * FROM a UNION ALL SELECT * FROM b) \
         GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE) EMIT FINAL",
        early.display(),
        late_feed.display()
    );
    let dead_path = dead.to_str().expect("utf-8 path");
    for shards in ["1", "2"] {
        let o = run(&[
            "run",
            "-q",
            "-e",
            &script,
            "--shards",
            shards,
            "--chunk-bytes",
            "64",
            "--dead-letter",
            dead_path,
        ]);
        assert_success(&o);
        let entries = std::fs::read_to_string(&dead).expect("dead letters");
        let entry: serde_json::Value = serde_json::from_str(entries.trim()).expect("one entry");
        assert_eq!(entry["source"], "b");
        let reason = entry["reason"].as_str().expect("a reason");
        assert!(reason.contains("2026-01-01T00:00:30"), "{entry}");
        let total: u64 = stdout(&o)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        assert_eq!(total, 40, "every record but the late one");
    }
}

#[test]
fn over_windows_top_n_and_order_by_read_a_union() {
    let running = format!(
        "WITH orders AS ({ORDERS}) SELECT ts, symbol, qty, SUM(qty) OVER (PARTITION BY symbol \
         ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS last3 FROM orders \
         WHERE price > 120"
    );
    assert_eq!(union_everywhere(&running), expected("running"));
    let top = "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end \
               ORDER BY n DESC) AS rn FROM (SELECT symbol, window_start, window_end, COUNT(*) AS n \
               FROM (SELECT ts, symbol FROM eu UNION ALL SELECT ts, sym FROM us) \
               GROUP BY symbol, TUMBLE(ts, INTERVAL '5' MINUTE))) WHERE rn <= 1 EMIT FINAL";
    assert_eq!(union_everywhere(top), expected("top_per_window"));
    let last = format!("{ORDERS} ORDER BY ts DESC, symbol LIMIT 5");
    assert_eq!(union_everywhere(&last), expected("first_rows"));
}

#[test]
fn a_union_can_be_joined_with_a_table() {
    let sql = format!(
        "CREATE TABLE symbols (symbol VARCHAR, sector VARCHAR, lot BIGINT, \
         PRIMARY KEY (symbol) NOT ENFORCED) WITH ('path' = 'tests/data/joins/symbols.csv'); \
         SELECT s.sector, COUNT(*) AS n, SUM(o.qty * s.lot) AS shares FROM ({ORDERS}) o \
         LEFT JOIN symbols s ON o.symbol = s.symbol GROUP BY s.sector EMIT FINAL"
    );
    assert_eq!(union_everywhere(&sql), expected("by_sector"));
}

#[test]
fn generator_tables_can_be_unioned() {
    let table = |name: &str, columns: &str| {
        format!(
            "CREATE TABLE {name} ({columns}) WITH ('connector' = 'nexmark', 'table' = '{name}', \
             'events' = '200000', 'events_per_second_time' = '10000');"
        )
    };
    let tables = format!(
        "{}{}",
        table("bid", "auction BIGINT, price BIGINT, date_time TIMESTAMP"),
        table("person", "id BIGINT, name VARCHAR, date_time TIMESTAMP")
    );
    let count = |from: &str| {
        format!(
            "{tables} SELECT kind, window_start, COUNT(*) AS n FROM ({from}) \
             GROUP BY kind, TUMBLE(date_time, INTERVAL '1' SECOND) EMIT FINAL"
        )
    };
    let union = count(
        "SELECT 'bid' AS kind, date_time FROM bid \
         UNION ALL SELECT 'person' AS kind, date_time FROM person",
    );
    let alone = |name: &str| {
        let o = run(&[
            "run",
            "-q",
            "-e",
            &count(&format!("SELECT '{name}' AS kind, date_time FROM {name}")),
        ]);
        assert_success(&o);
        stdout(&o)
    };
    let mut separately: Vec<String> = [alone("bid"), alone("person")]
        .iter()
        .flat_map(|out| out.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    separately.sort();
    let together = same_everywhere(&union, |extra| {
        let mut args = vec!["run", "-q", "-e", &union, "--chunk-events", "5000"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_success(&o);
        stdout(&o)
    });
    let mut together: Vec<String> = together.lines().map(str::to_string).collect();
    together.sort();
    assert!(together.len() > 2);
    assert_eq!(together, separately);
}

#[test]
fn explain_shows_each_input_with_its_filter_and_projection() {
    let script = format!("{TABLES}SELECT symbol, COUNT(*) AS n FROM ({ORDERS}) GROUP BY symbol");
    assert_explains(
        &script,
        &[
            "UNION ALL of 2 inputs read side by side, each with a watermark of its own",
            "Input 1: eu (ts TIMESTAMP, symbol VARCHAR, price BIGINT, qty BIGINT)",
            "Input 2: us (venue VARCHAR, sym VARCHAR, qty BIGINT, px BIGINT, ts TIMESTAMP)",
            "Filter: (#0 venue <> 'iex')",
            "Project: #4 ts, #1 sym, #3 px, #2 qty",
        ],
    );
}

#[test]
fn what_a_union_cannot_do_is_refused_with_the_reason_and_place() {
    assert_sql_error(
        "SELECT ts, symbol FROM eu UNION ALL SELECT ts FROM us",
        &[
            "line 2, column 37",
            "branch 2 has 1 column where the first has 2",
        ],
    );
    assert_sql_error(
        "SELECT ts, symbol FROM eu UNION ALL SELECT ts, qty FROM us",
        &[
            "column 2 (symbol) is BIGINT in branch 2 and VARCHAR",
            "CAST",
        ],
    );
    assert_sql_error(
        "SELECT ts, symbol FROM eu UNION SELECT ts, sym FROM us",
        &["line 2, column 1", "UNION without ALL", "SELECT DISTINCT"],
    );
    assert_sql_error(
        "SELECT ts FROM eu EXCEPT SELECT ts FROM us",
        &["EXCEPT is not supported"],
    );
    assert_sql_error(
        "SELECT symbol, COUNT(*) AS n FROM eu GROUP BY symbol UNION ALL SELECT sym, 1 FROM us",
        &[
            "inside a UNION ALL branch is not supported",
            "group, join or order above",
        ],
    );
    let script = format!(
        "{TABLES}CREATE TABLE live (ts TIMESTAMP, sym VARCHAR) WITH ('path' = '-', \
         'format' = 'csv'); SELECT ts, symbol FROM eu UNION ALL SELECT ts, sym FROM live"
    );
    assert_refused(&script, "source 'live' is a stream");
}
