//! End-to-end tests of OVER windows: ROWS and RANGE frames, ranking, LAG,
//! LEAD, FIRST_VALUE / LAST_VALUE, QUALIFY and a WHERE around a subquery,
//! Velostream's ROWS WINDOW BUFFER, late rows and errors. Expected rows live
//! in tests/data/dialects/over_*.jsonl, computed with DuckDB by
//! tests/data/dialects/expected.py over overs.csv (rows out of order by up
//! to 3 s, keys with several rows at one time, NULLs).

mod common;
use common::{assert_success, run, same_everywhere, stderr, stdout};

const OVERS: &str = "overs=tests/data/dialects/overs.csv";

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("tests/data/dialects/{name}.jsonl")).expect("expected file")
}

/// The output of `sql` over overs.csv (3 s out of order), the same on both
/// runtimes, at 1 to 4 shards and with tiny chunks.
fn over_everywhere(sql: &str) -> String {
    let with = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "-q",
            "-e",
            sql,
            "--source",
            OVERS,
            "--max-out-of-orderness",
            "3s",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_success(&o);
        stdout(&o)
    };
    same_everywhere(sql, with)
}

fn assert_sql_error(sql: &str, fragments: &[&str]) {
    let o = run(&["run", "-q", "-e", sql, "--source", OVERS]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let message = stderr(&o);
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment}: {message}");
    }
}

#[test]
fn ranking_lag_lead_first_and_last_value_match_duckdb() {
    let sql = "SELECT k, x, n, ts, ROW_NUMBER() OVER w AS rn, RANK() OVER w AS rk, \
               DENSE_RANK() OVER w AS drk, LAG(x) OVER w AS prev_x, LAG(n, 2, -1) OVER w AS prev2_n, \
               LEAD(n) OVER w AS next_n, LEAD(x, 2, 0.0) OVER w AS next2_x, \
               LEAD(n, 0) OVER w AS same_n, \
               FIRST_VALUE(x) OVER (w ROWS UNBOUNDED PRECEDING) AS first_x, \
               FIRST_VALUE(n) OVER (PARTITION BY k ORDER BY ts ROWS 2 PRECEDING) AS first3_n, \
               LAST_VALUE(x) OVER (w ROWS UNBOUNDED PRECEDING) AS last_x \
               FROM overs WINDOW w AS (PARTITION BY k ORDER BY ts)";
    assert_eq!(over_everywhere(sql), expected("over_functions"));
}

#[test]
fn rows_and_range_frames_match_duckdb() {
    let by = "PARTITION BY k ORDER BY ts";
    let sql = format!(
        "SELECT k, ts, SUM(n) OVER ({by}) AS running_n, COUNT(*) OVER ({by}) AS running_count, \
         SUM(n) OVER ({by} ROWS UNBOUNDED PRECEDING) AS row_running_n, \
         ROUND(AVG(x) OVER ({by} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 6) AS avg3_x, \
         COUNT(x) OVER ({by} ROWS 2 PRECEDING) AS count3_x, \
         MIN(x) OVER ({by} RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW) AS min10_x, \
         MAX(n) OVER ({by} RANGE INTERVAL '10' SECOND PRECEDING) AS max10_n, \
         SUM(n) OVER ({by} RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW) AS sum10_n, \
         ROUND(STDDEV_SAMP(x) OVER ({by} ROWS 3 PRECEDING), 6) AS sd4_x FROM overs"
    );
    assert_eq!(over_everywhere(&sql), expected("over_aggregates"));
}

#[test]
fn an_over_without_partition_by_sees_every_row() {
    let sql = "SELECT k, n, ts, SUM(n) OVER (ORDER BY ts) AS total_n, \
               COUNT(*) OVER (ORDER BY ts RANGE INTERVAL '5' SECOND PRECEDING) AS last5s FROM overs";
    assert_eq!(over_everywhere(sql), expected("over_global"));
}

#[test]
fn qualify_and_a_where_around_the_subquery_filter_the_rows_windows_made() {
    let qualify = "SELECT k, n, ts, SUM(n) OVER w AS running_n, ROW_NUMBER() OVER w AS rn \
                   FROM overs WINDOW w AS (PARTITION BY k ORDER BY ts) QUALIFY rn <= 2";
    assert_eq!(over_everywhere(qualify), expected("over_qualify"));
    let nested = "SELECT k, n, ts, running_n, rn FROM (SELECT *, \
                  SUM(n) OVER (PARTITION BY k ORDER BY ts) AS running_n, \
                  ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn FROM overs) WHERE rn <= 2";
    assert_eq!(over_everywhere(nested), expected("over_qualify"));
}

#[test]
fn velostream_rows_window_buffer_is_a_rows_frame() {
    let frame = "SELECT k, ts, AVG(x) OVER (PARTITION BY k ORDER BY ts \
                 ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS a FROM overs";
    let buffer = "SELECT k, ts, AVG(x) OVER (ROWS WINDOW BUFFER 5 ROWS PARTITION BY k \
                  ORDER BY ts) AS a FROM overs";
    let out = over_everywhere(buffer);
    assert_eq!(out, over_everywhere(frame));
    assert_eq!(out.lines().count(), 90);
}

/// late.csv: A@1s, A@12s, A@5s, A@13s, one record per chunk. The
/// watermark is 12 s after the second, so A@5s is late: counted, dead-lettered,
/// and in no row. The running count skips it.
#[test]
fn a_row_behind_the_watermark_is_late_counted_and_dead_lettered() {
    let dir = std::env::temp_dir().join(format!("corestream-over-late-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dead = dir.join("dead.jsonl");
    let o = run(&[
        "run",
        "-e",
        "SELECT price, COUNT(*) OVER (PARTITION BY symbol ORDER BY ts) AS n FROM t",
        "--source",
        "t=tests/data/late.csv",
        "--format",
        "csv",
        "--chunk-bytes",
        "16",
        "--shards",
        "1",
        "--dead-letter",
        dead.to_str().expect("utf-8 path"),
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), "price,n\n1,1\n2,2\n4,3\n");
    let summary = stderr(&o);
    assert!(summary.contains("1 late"), "{summary}");
    let dead_letters = std::fs::read_to_string(&dead).expect("dead letters");
    assert_eq!(dead_letters.lines().count(), 1, "{dead_letters}");
    assert!(dead_letters.contains("late"), "{dead_letters}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_shows_the_partitioning_and_each_call_with_its_frame() {
    let o = run(&[
        "explain",
        "-e",
        "SELECT k, AVG(x) OVER (PARTITION BY k ORDER BY ts ROWS 9 PRECEDING) AS a, \
         LAG(n) OVER (PARTITION BY k ORDER BY ts) AS p FROM overs",
        "--source",
        OVERS,
    ]);
    assert_success(&o);
    let text = stdout(&o);
    assert!(
        text.contains("Over: PARTITION BY [#0 k] ORDER BY ts"),
        "{text}"
    );
    assert!(text.contains("AVG(#1 x) ROWS 9 PRECEDING"), "{text}");
    assert!(text.contains("LAG(#2 n, 1)"), "{text}");
}

#[test]
fn what_over_cannot_do_is_refused_with_the_reason_and_place() {
    assert_sql_error(
        "SELECT SUM(n) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM overs",
        &["must end at the current row", "line 1, column 8"],
    );
    assert_sql_error(
        "SELECT SUM(n) OVER (PARTITION BY k ORDER BY ts), COUNT(*) OVER (ORDER BY ts) FROM overs",
        &["same PARTITION BY and ORDER BY", "column 50"],
    );
    assert_sql_error(
        "SELECT * FROM (SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY n DESC) AS rn \
         FROM overs) WHERE rn <= 3",
        &["ORDER BY the event-time column", "Top-N"],
    );
    assert_sql_error(
        "SELECT k FROM overs WHERE ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) = 1",
        &["not allowed in WHERE", "QUALIFY"],
    );
    assert_sql_error(
        "SELECT k, COUNT(*), SUM(n) OVER (PARTITION BY k ORDER BY ts) FROM overs GROUP BY k",
        &["second stage"],
    );
    assert_sql_error(
        "SELECT SUM(n) OVER (ORDER BY ts ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) FROM overs",
        &["one that ends before it is not supported"],
    );
    assert_sql_error(
        "SELECT SUM(n) OVER (ORDER BY k) FROM overs",
        &["OVER's ORDER BY column `k` is VARCHAR"],
    );
    assert_sql_error(
        "SELECT NTILE(4) OVER (PARTITION BY k ORDER BY ts) FROM overs",
        &["unknown window function NTILE"],
    );
    assert_sql_error(
        "SELECT SUM(n) OVER w FROM overs WINDOW v AS (ORDER BY ts)",
        &["no window named w"],
    );
    assert_sql_error(
        "SELECT k FROM overs QUALIFY n > 1",
        &["QUALIFY filters on window functions"],
    );
    assert_sql_error(
        "SELECT AVG(x) OVER (ROWS WINDOW BUFFER 0 ROWS ORDER BY ts) FROM overs",
        &["ROWS WINDOW BUFFER <n> ROWS", "column 21"],
    );
}
