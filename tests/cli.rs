//! End-to-end tests of the `corestream` binary on the small files in tests/data.
//! Every expected output here was computed by hand from those files.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn corestream(args: &[&str]) -> Output {
    corestream_with_stdin(args, None)
}

fn corestream_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corestream"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start corestream");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        input.write_all(bytes).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait for corestream")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status.code(),
        stderr(o)
    );
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn read_json(path: &PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read json");
    serde_json::from_str(&text).expect("valid json")
}

const TUMBLING_EXPECTED: &str = r#"{"symbol":"AAPL","window_start":"2026-01-01T00:00:00.000Z","window_end":"2026-01-01T00:00:10.000Z","n":2,"volume":30,"avg_price":101.0,"low":100.5,"high":101.5}
{"symbol":"GOOG","window_start":"2026-01-01T00:00:00.000Z","window_end":"2026-01-01T00:00:10.000Z","n":1,"volume":7,"avg_price":150.25,"low":150.25,"high":150.25}
{"symbol":"MSFT","window_start":"2026-01-01T00:00:00.000Z","window_end":"2026-01-01T00:00:10.000Z","n":1,"volume":5,"avg_price":200.0,"low":200.0,"high":200.0}
{"symbol":"AAPL","window_start":"2026-01-01T00:00:10.000Z","window_end":"2026-01-01T00:00:20.000Z","n":1,"volume":30,"avg_price":99.0,"low":99.0,"high":99.0}
{"symbol":"GOOG","window_start":"2026-01-01T00:00:10.000Z","window_end":"2026-01-01T00:00:20.000Z","n":1,"volume":3,"avg_price":151.75,"low":151.75,"high":151.75}
{"symbol":"MSFT","window_start":"2026-01-01T00:00:10.000Z","window_end":"2026-01-01T00:00:20.000Z","n":1,"volume":15,"avg_price":202.0,"low":202.0,"high":202.0}
{"symbol":"AAPL","window_start":"2026-01-01T00:00:20.000Z","window_end":"2026-01-01T00:00:30.000Z","n":1,"volume":5,"avg_price":100.0,"low":100.0,"high":100.0}
"#;

#[test]
fn tumbling_window_from_a_query_file_with_ddl() {
    let o = corestream(&["run", "tests/data/tumbling.sql", "--shards", "1"]);
    assert_success(&o);
    assert_eq!(stdout(&o), TUMBLING_EXPECTED);
}

#[test]
fn flink_style_tumble_with_inferred_schema_gives_the_same_rows() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol, window_start, window_end, COUNT(*) AS n, SUM(qty) AS volume, \
         AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high \
         FROM trades GROUP BY symbol, TUMBLE(ts, INTERVAL '10' SECOND)",
        "--source",
        "trades=tests/data/trades.csv",
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), TUMBLING_EXPECTED);
}

#[test]
fn stateless_filter_and_projection_keep_input_order() {
    let dir = temp_dir();
    let stats = dir.path().join("stats.json");
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol, price * qty AS notional FROM trades WHERE price > 100 AND symbol <> 'GOOG'",
        "--source",
        "trades=tests/data/trades.csv",
        "--stats-json",
        stats.to_str().unwrap(),
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "{\"symbol\":\"AAPL\",\"notional\":1005.0}\n\
         {\"symbol\":\"MSFT\",\"notional\":1000.0}\n\
         {\"symbol\":\"AAPL\",\"notional\":2030.0}\n\
         {\"symbol\":\"MSFT\",\"notional\":3030.0}\n"
    );
    let s = read_json(&stats);
    assert_eq!(s["records_read"], 8);
    assert_eq!(s["records_filtered"], 4);
    assert_eq!(s["records_late"], 0);
    assert_eq!(s["records_malformed"], 0);
    assert_eq!(s["rows_emitted"], 4);
    assert!(s["elapsed_seconds"].as_f64().is_some());
    assert!(s["records_per_second"].as_f64().is_some());
}

#[test]
fn emit_changes_is_the_default_without_a_window() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol, COUNT(*) AS n, SUM(qty) AS volume FROM trades GROUP BY symbol",
        "--source",
        "trades=tests/data/trades.csv",
        "--format",
        "csv",
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "symbol,n,volume\nAAPL,1,10\nMSFT,1,5\nAAPL,2,30\nGOOG,1,7\nMSFT,2,20\nAAPL,3,60\nGOOG,2,10\nAAPL,4,65\n"
    );
}

#[test]
fn sliding_window_puts_a_record_in_every_window_that_covers_it() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT window_start, window_end, COUNT(*) AS n FROM trades WHERE symbol = 'AAPL' \
         GROUP BY symbol WINDOW SLIDING(ts, 10s, 5s)",
        "--source",
        "trades=tests/data/trades.csv",
        "--format",
        "csv",
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "window_start,window_end,n\n\
         2025-12-31T23:59:55.000Z,2026-01-01T00:00:05.000Z,2\n\
         2026-01-01T00:00:00.000Z,2026-01-01T00:00:10.000Z,2\n\
         2026-01-01T00:00:05.000Z,2026-01-01T00:00:15.000Z,1\n\
         2026-01-01T00:00:10.000Z,2026-01-01T00:00:20.000Z,1\n\
         2026-01-01T00:00:15.000Z,2026-01-01T00:00:25.000Z,1\n\
         2026-01-01T00:00:20.000Z,2026-01-01T00:00:30.000Z,1\n"
    );
}

#[test]
fn session_windows_close_after_the_gap_per_key() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol, window_start, window_end, COUNT(*) AS n FROM trades \
         GROUP BY symbol WINDOW SESSION(ts, 8s)",
        "--source",
        "trades=tests/data/trades.csv",
        "--format",
        "csv",
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "symbol,window_start,window_end,n\n\
         MSFT,2026-01-01T00:00:02.000Z,2026-01-01T00:00:10.000Z,1\n\
         AAPL,2026-01-01T00:00:01.000Z,2026-01-01T00:00:12.000Z,2\n\
         MSFT,2026-01-01T00:00:11.000Z,2026-01-01T00:00:19.000Z,1\n\
         AAPL,2026-01-01T00:00:12.500Z,2026-01-01T00:00:20.500Z,1\n\
         GOOG,2026-01-01T00:00:09.000Z,2026-01-01T00:00:23.000Z,2\n\
         AAPL,2026-01-01T00:00:21.000Z,2026-01-01T00:00:29.000Z,1\n"
    );
}

fn late_run(extra: &[&str]) -> (String, serde_json::Value, String) {
    let dir = temp_dir();
    let stats = dir.path().join("stats.json");
    let dead = dir.path().join("dead.jsonl");
    let mut args = vec![
        "run",
        "-e",
        "SELECT window_start, COUNT(*) AS n FROM t GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)",
        "--source",
        "t=tests/data/late.csv",
        "--format",
        "csv",
        "--stats-json",
        stats.to_str().unwrap(),
        "--dead-letter",
        dead.to_str().unwrap(),
        "--shards",
        "1",
        // The watermark moves at chunk ends: every line is a chunk here.
        "--chunk-bytes",
        "32",
    ];
    args.extend_from_slice(extra);
    let o = corestream(&args);
    assert_success(&o);
    let dead_text = std::fs::read_to_string(&dead).unwrap_or_default();
    (stdout(&o), read_json(&stats), dead_text)
}

#[test]
fn a_record_for_a_closed_window_is_late_counted_and_dead_lettered() {
    let (out, stats, dead) = late_run(&[]);
    assert_eq!(
        out,
        "window_start,n\n2026-01-01T00:00:00.000Z,1\n2026-01-01T00:00:10.000Z,2\n"
    );
    assert_eq!(stats["records_read"], 4);
    assert_eq!(stats["records_late"], 1);
    let lines: Vec<&str> = dead.lines().collect();
    assert_eq!(lines.len(), 1, "{dead}");
    let entry: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(
        entry["reason"].as_str().unwrap().contains("late"),
        "{entry}"
    );
    assert_eq!(entry["source"], "t");
}

#[test]
fn out_of_orderness_holds_the_watermark_back() {
    let (out, stats, _) = late_run(&["--max-out-of-orderness", "5s"]);
    assert_eq!(
        out,
        "window_start,n\n2026-01-01T00:00:00.000Z,2\n2026-01-01T00:00:10.000Z,2\n"
    );
    assert_eq!(stats["records_late"], 0);
}

#[test]
fn allowed_lateness_keeps_a_window_open_past_the_watermark() {
    let (out, stats, _) = late_run(&["--allowed-lateness", "3s"]);
    assert_eq!(
        out,
        "window_start,n\n2026-01-01T00:00:00.000Z,2\n2026-01-01T00:00:10.000Z,2\n"
    );
    assert_eq!(stats["records_late"], 0);
}

#[test]
fn malformed_rows_are_counted_dead_lettered_and_the_run_goes_on() {
    let dir = temp_dir();
    let stats = dir.path().join("stats.json");
    let dead = dir.path().join("dead.jsonl");
    let o = corestream(&[
        "run",
        "-e",
        "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
         WITH ('path' = 'tests/data/bad.csv'); SELECT symbol FROM trades",
        "--stats-json",
        stats.to_str().unwrap(),
        "--dead-letter",
        dead.to_str().unwrap(),
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "{\"symbol\":\"A\"}\n{\"symbol\":\"D\"}\n{\"symbol\":\"F\"}\n"
    );
    let s = read_json(&stats);
    assert_eq!(s["records_read"], 6);
    assert_eq!(s["records_malformed"], 3);
    assert_eq!(s["rows_emitted"], 3);
    let entries: Vec<serde_json::Value> = std::fs::read_to_string(&dead)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["line"], 3);
    assert!(entries[0]["reason"].as_str().unwrap().contains("price"));
    assert_eq!(entries[1]["line"], 4);
    assert!(entries[1]["reason"].as_str().unwrap().contains("field"));
    assert_eq!(entries[2]["line"], 6);
    assert!(entries[2]["reason"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(entries[0]["source"], "trades");
}

#[test]
fn json_lines_input_with_a_broken_line() {
    let dir = temp_dir();
    let stats = dir.path().join("stats.json");
    let o = corestream(&[
        "run",
        "-e",
        "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
         WITH ('path' = 'tests/data/trades.jsonl'); \
         SELECT symbol, qty, ts FROM trades WHERE qty >= 10",
        "--stats-json",
        stats.to_str().unwrap(),
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "{\"symbol\":\"AAPL\",\"qty\":10,\"ts\":\"2026-01-01T00:00:01.000Z\"}\n\
         {\"symbol\":\"AAPL\",\"qty\":20,\"ts\":\"2026-01-01T00:00:04.000Z\"}\n\
         {\"symbol\":\"MSFT\",\"qty\":15,\"ts\":\"2026-01-01T00:00:11.000Z\"}\n"
    );
    let s = read_json(&stats);
    assert_eq!(s["records_read"], 5);
    assert_eq!(s["records_malformed"], 1);
    assert_eq!(s["records_filtered"], 1);
}

#[test]
fn standard_input_is_a_source() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/trades.csv"
    ))
    .unwrap();
    let o = corestream_with_stdin(
        &[
            "run",
            "-e",
            "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
             WITH ('path' = '-', 'format' = 'csv'); \
             SELECT symbol, SUM(qty) AS volume FROM trades GROUP BY symbol EMIT FINAL",
            "--format",
            "csv",
        ],
        Some(&input),
    );
    assert_success(&o);
    assert_eq!(stdout(&o), "symbol,volume\nAAPL,65\nGOOG,10\nMSFT,20\n");
}

#[test]
fn empty_input_is_valid() {
    let dir = temp_dir();
    let stats = dir.path().join("stats.json");
    let o = corestream(&[
        "run",
        "-e",
        "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
         WITH ('path' = 'tests/data/empty.csv'); SELECT symbol FROM trades",
        "--stats-json",
        stats.to_str().unwrap(),
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), "");
    assert_eq!(read_json(&stats)["records_read"], 0);
}

#[test]
fn limit_stops_after_n_rows() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol FROM trades LIMIT 2",
        "--source",
        "trades=tests/data/trades.csv",
        "--shards",
        "1",
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), "{\"symbol\":\"AAPL\"}\n{\"symbol\":\"MSFT\"}\n");
}

#[test]
fn sql_that_does_not_parse_names_line_and_column() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol\nFROM trades\nWHERE price >",
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("column"), "{err}");
    assert!(err.to_lowercase().contains("expected"), "{err}");
    assert_eq!(stdout(&o), "");
}

#[test]
fn unknown_column_is_named() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol, volume FROM trades",
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("volume"), "{err}");
    assert!(err.contains("line 1, column 16"), "{err}");
}

#[test]
fn unsupported_join_is_named() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT a.symbol FROM trades a FULL JOIN trades b ON a.symbol = b.symbol",
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("RIGHT and FULL joins are not supported"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn aggregate_misuse_names_the_column() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol, price, COUNT(*) FROM trades GROUP BY symbol",
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("price") && err.contains("GROUP BY"), "{err}");
}

#[test]
fn type_errors_name_the_expression() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol + 1 FROM trades",
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("symbol") && err.contains("VARCHAR"), "{err}");
}

#[test]
fn a_missing_file_fails_before_any_output() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let o = corestream(&[
        "run",
        "-e",
        "CREATE TABLE trades (symbol VARCHAR) WITH ('path' = 'tests/data/no-such-file.csv'); \
         SELECT symbol FROM trades",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("tests/data/no-such-file.csv"), "{err}");
    assert!(err.contains("No such file"), "{err}");
    assert!(!out.exists(), "no output file may be created");
}

#[test]
fn inferring_a_missing_file_also_fails_with_its_path() {
    let o = corestream(&[
        "run",
        "-e",
        "SELECT * FROM trades",
        "--source",
        "trades=tests/data/absent.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("tests/data/absent.csv"));
}

#[test]
fn explain_prints_the_typed_plan() {
    let o = corestream(&["explain", "tests/data/tumbling.sql"]);
    assert_success(&o);
    let text = stdout(&o);
    assert!(text.contains("EMIT FINAL"), "{text}");
    assert!(text.contains("TUMBLING"), "{text}");
    assert!(text.contains("symbol VARCHAR"), "{text}");
    assert!(text.contains("avg_price DOUBLE"), "{text}");
}

#[test]
fn demo_runs_on_the_built_in_generator() {
    let dir = temp_dir();
    let stats = dir.path().join("stats.json");
    let o = corestream(&[
        "demo",
        "--events",
        "120000",
        "--keys",
        "3",
        "--stats-json",
        stats.to_str().unwrap(),
    ]);
    assert_success(&o);
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 120,000 events at one millisecond each span two one-minute windows, three symbols each.
    assert_eq!(rows.len(), 6);
    let total: i64 = rows.iter().map(|r| r["trades"].as_i64().unwrap()).sum();
    assert_eq!(total, 120_000);
    let s = read_json(&stats);
    assert_eq!(s["records_read"], 120_000);
    assert!(stderr(&o).contains("records read"));
}

#[test]
fn help_lists_every_subcommand() {
    let o = corestream(&["--help"]);
    assert_success(&o);
    let text = stdout(&o);
    for word in ["run", "explain", "demo"] {
        assert!(text.contains(word), "{text}");
    }
    let o = corestream(&["run", "--help"]);
    let text = stdout(&o);
    for option in [
        "--source",
        "--output",
        "--format",
        "--dead-letter",
        "--max-out-of-orderness",
        "--allowed-lateness",
        "--stats-json",
        "--shards",
    ] {
        assert!(text.contains(option), "{option} missing from run --help");
    }
}

#[test]
fn bad_usage_exits_with_two() {
    let o = corestream(&["run", "--shards", "many", "-e", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn metrics_on_port_zero_announce_the_bound_address() {
    let query = [
        "run",
        "-e",
        "SELECT symbol FROM trades WHERE price > 100",
        "--source",
        "trades=tests/data/trades.csv",
    ];
    let plain = corestream(&query);
    let o = corestream(&[&query[..], &["--metrics-address", "127.0.0.1:0"]].concat());
    assert_success(&o);
    let err = stderr(&o);
    let announced = err
        .lines()
        .find_map(|l| l.strip_prefix("corestream: metrics at http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no metrics address in\n{err}"));
    let port: u16 = announced
        .strip_suffix("/metrics")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {announced}"));
    assert_ne!(port, 0);
    assert_success(&plain);
    assert_eq!(stdout(&o), stdout(&plain), "metrics change no output");
}

#[test]
fn a_metrics_address_in_use_is_a_usage_error_before_any_output() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol FROM trades",
        "--source",
        "trades=tests/data/trades.csv",
        "--output",
        out.to_str().unwrap(),
        "--metrics-address",
        &address,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&address), "{}", stderr(&o));
    assert!(!out.exists(), "no output is created");
}

#[test]
fn a_generator_rate_out_of_range_is_a_usage_error_not_a_panic() {
    for rate in ["1e-20", "-1", "NaN", "inf"] {
        let sql = format!(
            "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
             WITH ('connector' = 'trades', 'events' = '5', 'rate' = '{rate}'); \
             SELECT * FROM trades"
        );
        let o = corestream(&["run", "-e", &sql]);
        assert_eq!(o.status.code(), Some(2), "rate {rate}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("'rate' must be 0 (as fast as possible) or from 0.001"),
            "rate {rate}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert_eq!(stdout(&o), "");
    }
}

#[test]
fn repeated_header_names_each_read_their_own_column() {
    let dir = temp_dir();
    let path = dir.path().join("dup.csv");
    std::fs::write(&path, "symbol,qty,QTY,qty\nA,1,2,3\nB,4,5,6\n").expect("write csv");
    let source = format!("t={}", path.display());
    let o = corestream(&["run", "-e", "SELECT * FROM t", "--source", &source]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "{\"symbol\":\"A\",\"qty\":1,\"QTY_2\":2,\"qty_3\":3}\n\
         {\"symbol\":\"B\",\"qty\":4,\"QTY_2\":5,\"qty_3\":6}\n"
    );
}

#[test]
fn a_nexmark_table_declared_out_of_order_binds_columns_by_name() {
    let declared = |columns: &str| {
        format!(
            "CREATE TABLE bid ({columns}) WITH ('connector' = 'nexmark', 'table' = 'bid', \
             'events' = '200'); SELECT auction, price FROM bid"
        )
    };
    let straight = corestream(&[
        "run",
        "-e",
        &declared("auction BIGINT, bidder BIGINT, price BIGINT"),
    ]);
    assert_success(&straight);
    let reordered = corestream(&[
        "run",
        "-e",
        &declared("price BIGINT, auction BIGINT, bidder BIGINT"),
    ]);
    assert_success(&reordered);
    assert!(!stdout(&straight).is_empty());
    assert_eq!(stdout(&reordered), stdout(&straight));
    let mistyped = corestream(&["run", "-e", &declared("auction BIGINT, price DOUBLE")]);
    assert_eq!(mistyped.status.code(), Some(2));
    assert!(
        stderr(&mistyped)
            .contains("column 'price' of the nexmark bid generator is BIGINT, not DOUBLE"),
        "{}",
        stderr(&mistyped)
    );
}

#[test]
fn dev_stdin_is_read_as_a_stream() {
    let o = corestream_with_stdin(
        &[
            "run",
            "-e",
            "CREATE TABLE t (symbol VARCHAR, qty BIGINT) \
             WITH ('path' = '/dev/stdin', 'format' = 'csv'); SELECT * FROM t",
        ],
        Some(b"symbol,qty\nA,1\nB,2\n"),
    );
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "{\"symbol\":\"A\",\"qty\":1}\n{\"symbol\":\"B\",\"qty\":2}\n"
    );
}

#[test]
fn json_lines_with_a_byte_order_mark_keep_their_first_record() {
    let dir = temp_dir();
    let path = dir.path().join("bom.jsonl");
    std::fs::write(&path, "\u{feff}{\"a\":1}\n{\"a\":2}\n").expect("write jsonl");
    let source = format!("t={}", path.display());
    let o = corestream(&["run", "-e", "SELECT a FROM t", "--source", &source]);
    assert_success(&o);
    assert_eq!(stdout(&o), "{\"a\":1}\n{\"a\":2}\n");
}

// ---- Outputs that would destroy an input, and outputs checked up front ----

/// A copy of tests/data/trades.csv in `dir`, as `name`.
fn copy_of_trades(dir: &std::path::Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy("tests/data/trades.csv", &path).expect("copy trades.csv");
    path
}

fn path_arg(path: &std::path::Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

#[test]
fn an_output_naming_the_input_is_refused_and_the_input_kept() {
    let dir = temp_dir();
    let input = copy_of_trades(dir.path(), "input.csv");
    let symlink = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&input, &symlink).expect("symlink");
    let hard_link = dir.path().join("hard.csv");
    std::fs::hard_link(&input, &hard_link).expect("hard link");
    let source = format!("trades={}", path_arg(&input));
    let cases = [
        ("--output", &input),
        ("--dead-letter", &input),
        ("--stats-json", &input),
        ("--latency-histogram", &input),
        ("--output", &symlink),
        ("--output", &hard_link),
    ];
    for (option, path) in cases {
        let o = corestream(&[
            "run",
            "-e",
            "SELECT symbol FROM trades",
            "--source",
            &source,
            option,
            path_arg(path),
        ]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{option} {path:?}: {}",
            stderr(&o)
        );
        let err = stderr(&o);
        assert!(
            err.contains(option) && err.contains(path_arg(path)),
            "{err}"
        );
        assert!(err.contains(path_arg(&input)), "{err}");
        assert_eq!(stdout(&o), "", "nothing may run");
        let kept = std::fs::read_to_string(&input).expect("input still there");
        let original = std::fs::read_to_string("tests/data/trades.csv").unwrap();
        assert_eq!(kept, original, "{option} {path:?} destroyed the input");
    }
    let with_output = format!(
        "CREATE STREAM out AS SELECT symbol FROM trades WITH ('output' = '{}')",
        path_arg(&input)
    );
    let o = corestream(&["run", "-e", &with_output, "--source", &source]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("WITH ('output' = ..)"),
        "{}",
        stderr(&o)
    );
    let original = std::fs::read_to_string("tests/data/trades.csv").unwrap();
    assert_eq!(std::fs::read_to_string(&input).unwrap(), original);
}

/// `corestream run .. --source t=- -o in.csv < in.csv`: standard input is
/// the file the output names; writing it would truncate the input unread.
#[test]
fn an_output_naming_the_file_on_standard_input_is_refused() {
    let dir = temp_dir();
    let input = copy_of_trades(dir.path(), "input.csv");
    let script = "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
                  WITH ('path' = '-', 'format' = 'csv'); SELECT symbol FROM trades";
    let o = Command::new(env!("CARGO_BIN_EXE_corestream"))
        .args(["run", "-e", script, "--output", path_arg(&input)])
        .stdin(std::fs::File::open(&input).expect("open input"))
        .output()
        .expect("run corestream");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is the input file"), "{}", stderr(&o));
    let original = std::fs::read_to_string("tests/data/trades.csv").unwrap();
    assert_eq!(std::fs::read_to_string(&input).unwrap(), original);
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let o = corestream(&[
        "run",
        "-e",
        "SELECT symbol FROM trades",
        "--source",
        "trades=tests/data/trades.csv",
        "--output",
        path_arg(&out),
        "--stats-json",
        path_arg(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--output") && err.contains("--stats-json"),
        "{err}"
    );
    assert!(err.contains("same file"), "{err}");
    assert!(!out.exists(), "nothing may be created");
}

#[test]
fn an_unwritable_output_fails_before_the_run_and_leaves_nothing_behind() {
    let dir = temp_dir();
    let missing = dir.path().join("no-such-dir").join("file");
    for option in [
        "--output",
        "--dead-letter",
        "--stats-json",
        "--latency-histogram",
    ] {
        let out = dir.path().join("rows.jsonl");
        let dead = dir.path().join("dead.jsonl");
        let mut args = vec![
            "run",
            "-e",
            "SELECT symbol FROM trades",
            "--source",
            "trades=tests/data/trades.csv",
        ];
        // The other outputs are fine; files they created must be removed.
        if option != "--output" {
            args.extend(["--output", path_arg(&out)]);
        }
        if option != "--dead-letter" {
            args.extend(["--dead-letter", path_arg(&dead)]);
        }
        args.extend([option, path_arg(&missing)]);
        let o = corestream(&args);
        assert_eq!(o.status.code(), Some(1), "{option}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(option) && err.contains(path_arg(&missing)),
            "{err}"
        );
        assert!(err.contains("No such file or directory"), "{err}");
        assert_eq!(stdout(&o), "", "{option}: the run must not start");
        assert!(
            !err.contains("records read"),
            "{option}: the run must not start"
        );
        assert!(
            !out.exists() && !dead.exists(),
            "{option}: files left behind"
        );
    }
}

// ---- Refusing quickly, argument handling ----

#[test]
fn an_inline_script_may_start_with_a_comment() {
    let o = corestream(&[
        "run",
        "-e",
        "-- the symbols\nSELECT symbol FROM trades LIMIT 1",
        "--source",
        "trades=tests/data/trades.csv",
        "-q",
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), "{\"symbol\":\"AAPL\"}\n");
}

#[test]
fn sql_that_is_not_utf8_is_a_usage_error_from_a_file_or_inline() {
    let dir = temp_dir();
    let script = dir.path().join("bad.sql");
    std::fs::write(&script, b"SELECT symbol FROM trades WHERE symbol = '\xff'").unwrap();
    let o = corestream(&[
        "run",
        path_arg(&script),
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(path_arg(&script)) && err.contains("UTF-8"),
        "{err}"
    );
    use std::os::unix::ffi::OsStrExt;
    let inline = std::ffi::OsStr::from_bytes(b"SELECT '\xff' FROM trades");
    let o = Command::new(env!("CARGO_BIN_EXE_corestream"))
        .args(["run", "--source", "trades=tests/data/trades.csv", "-e"])
        .arg(inline)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run corestream");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_sliding_window_with_millions_of_windows_per_record_is_refused() {
    for query in [
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW SLIDING(ts, 1d, 1ms)",
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol, HOP(ts, 1ms, 100d)",
    ] {
        let o = corestream(&[
            "run",
            "-e",
            query,
            "--source",
            "trades=tests/data/trades.csv",
        ]);
        assert_eq!(o.status.code(), Some(2), "{query}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("limit 10000 windows per record"),
            "{}",
            stderr(&o)
        );
    }
}

// ---- Expressions that nest too deeply ----

fn chain(op: &str, term: &str, terms: usize) -> String {
    format!("SELECT {} AS x FROM trades", vec![term; terms].join(op))
}

#[test]
fn long_expression_chains_are_refused_not_crashed() {
    for sql in [
        chain(" + ", "1", 5_000),
        chain(" AND ", "qty > 1", 5_000),
        chain(" OR ", "qty > 1", 5_000),
        chain(" || ", "symbol", 5_000),
    ] {
        for command in ["run", "explain"] {
            let o = corestream(&[
                command,
                "-e",
                &sql,
                "--source",
                "trades=tests/data/trades.csv",
            ]);
            assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(
                err.contains("expression nests too deeply (limit 500"),
                "{err}"
            );
        }
    }
}

#[test]
fn fifty_nested_nots_evaluate() {
    let sql = format!(
        "SELECT {}(qty > 6) AS x FROM trades LIMIT 2",
        "NOT ".repeat(50)
    );
    let o = corestream(&[
        "run",
        "-e",
        &sql,
        "--source",
        "trades=tests/data/trades.csv",
        "-q",
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), "{\"x\":true}\n{\"x\":false}\n");
}

#[test]
fn an_error_in_the_deepest_accepted_chain_is_reported() {
    // The error is at the top of the chain, about all of it.
    let sql = format!(
        "SELECT {} + symbol AS x FROM trades",
        vec!["qty"; 495].join(" + ")
    );
    let o = corestream(&[
        "explain",
        "-e",
        &sql,
        "--source",
        "trades=tests/data/trades.csv",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot apply '+' to BIGINT and VARCHAR"),
        "{}",
        stderr(&o)
    );
}

// ---- The state limit option ----

#[test]
fn max_state_bytes_takes_sizes_with_units() {
    for size in ["512MiB", "2G", "1000000"] {
        let o = corestream(&[
            "run",
            "-e",
            "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol",
            "--source",
            "trades=tests/data/trades.csv",
            "--max-state-bytes",
            size,
            "-q",
        ]);
        assert_success(&o);
    }
    for bad in ["lots", "0"] {
        let o = corestream(&["run", "-e", "SELECT 1", "--max-state-bytes", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("--max-state-bytes"), "{}", stderr(&o));
    }
}

// ---- What a newcomer reads and trips over ----

#[test]
fn paths_in_a_script_file_are_relative_to_the_script() {
    let dir = temp_dir();
    copy_of_trades(dir.path(), "in.csv");
    let script = dir.path().join("query.sql");
    std::fs::write(
        &script,
        "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
         WITH ('path' = 'in.csv');\n\
         CREATE STREAM big AS SELECT symbol FROM trades WHERE qty >= 20 \
         WITH ('output' = 'out.jsonl');",
    )
    .unwrap();
    let o = corestream(&["run", path_arg(&script), "-q"]);
    assert_success(&o);
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("output");
    assert_eq!(written, "{\"symbol\":\"AAPL\"}\n{\"symbol\":\"AAPL\"}\n");
}

#[test]
fn the_json_lines_sample_infers_a_timestamp() {
    let o = corestream(&[
        "explain",
        "-e",
        "SELECT ts FROM trades",
        "--source",
        "trades=tests/data/trades.jsonl",
    ]);
    assert_success(&o);
    assert!(stdout(&o).contains("ts TIMESTAMP"), "{}", stdout(&o));
}

#[test]
fn help_tells_what_the_code_does() {
    let o = corestream(&["run", "--help"]);
    let help = stdout(&o);
    assert!(help.contains("generator:nexmark"), "{help}");
    assert!(help.contains("0.25 ms"), "{help}");
    assert!(!help.contains("1 ms worth"), "{help}");
    assert!(help.contains("standard input, whose"), "{help}");
    assert!(help.contains("Velostream's V2"), "{help}");
    for command in [&["--help"][..], &["run", "--help"], &["demo", "--help"]] {
        let text = stdout(&corestream(command)).to_lowercase();
        assert!(!text.contains("seed"), "{command:?} speaks of the seed");
    }
}

#[test]
fn the_readme_and_docs_stand_alone() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let docs = std::fs::read_to_string("docs/sql.md").unwrap();
    for (name, text) in [("README.md", &readme), ("docs/sql.md", &docs)] {
        assert!(
            !text.contains("../shared"),
            "{name} points outside the repository"
        );
        assert!(!text.contains("the seed"), "{name} speaks of the seed");
    }
    assert!(readme.contains("cargo install --path ."));
    assert!(readme.contains("EMIT CHANGES"));
    // README says what CI runs: every command of .ci/run.
    let ci = std::fs::read_to_string(".ci/run").unwrap();
    for command in ci.lines().filter(|l| l.starts_with("cargo ")) {
        assert!(readme.contains(command), "README does not name `{command}`");
    }
}
