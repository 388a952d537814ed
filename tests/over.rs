//! End-to-end tests of OVER windows: ROWS and RANGE frames, ranking, LAG,
//! LEAD, FIRST_VALUE / LAST_VALUE, QUALIFY and a WHERE around a subquery,
//! Velostream's ROWS WINDOW BUFFER, late rows and errors. Expected rows live
//! in tests/data/dialects/over_*.jsonl, computed with DuckDB by
//! tests/data/dialects/expected.py over overs.csv (rows out of order by up
//! to 3 s, keys with several rows at one time, NULLs). Top-N queries
//! (ROW_NUMBER by a value, bounded) are here too: their EMIT FINAL rows, and
//! the changelog of their EMIT CHANGES, which must fold to the same rows; so
//! are the other second stage's, a grouping over a grouping.

mod common;
use common::{assert_success, run, same_everywhere, stderr, stdout};

const OVERS: &str = "overs=tests/data/dialects/overs.csv";

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("tests/data/dialects/{name}.jsonl")).expect("expected file")
}

/// The output of `sql` over overs.csv (3 s out of order), the same on both
/// runtimes, at 1 to 4 shards and with tiny chunks.
fn over_everywhere(sql: &str) -> String {
    over_everywhere_with(sql, &[])
}

/// [`over_everywhere`] with more command-line arguments.
fn over_everywhere_with(sql: &str, options: &[&str]) -> String {
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
        args.extend_from_slice(options);
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
        "SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY n DESC) AS rn FROM overs",
        &[
            "a Top-N, which needs a bound on the row number",
            "`WHERE rn <= N`",
        ],
    );
    assert_sql_error(
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end \
         ORDER BY x DESC) AS rn FROM TABLE(TUMBLE(TABLE overs, DESCRIPTOR(ts), \
         INTERVAL '10' SECOND))) WHERE rn <= 2",
        &["(Flink's window Top-N) is not supported yet", "column 26"],
    );
    assert_sql_error(
        "SELECT k, RANK() OVER (PARTITION BY k ORDER BY n DESC) AS r FROM overs QUALIFY r <= 3",
        &["ORDER BY the event-time column", "only ROW_NUMBER"],
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

// ---- Top-N: ROW_NUMBER by a value, bounded by `rn <= N` ----

const TOP_PER_KEY: &str = "SELECT k, x, n, ts, rn FROM (SELECT *, ROW_NUMBER() OVER \
                           (PARTITION BY k ORDER BY x DESC) AS rn FROM overs) WHERE rn <= 3";

/// The result a changelog (JSON lines, `op` first) leaves when applied to
/// an empty one, sorted: `+I`/`+U` add a row, `-U`/`-D` take out an equal
/// row, which must be there.
fn folded(changelog: &str) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    for line in changelog.lines() {
        let (op, row) = line
            .strip_prefix("{\"op\":\"")
            .and_then(|rest| rest.split_once("\","))
            .unwrap_or_else(|| panic!("no op first: {line}"));
        let row = format!("{{{row}");
        match op {
            "+I" | "+U" => rows.push(row),
            "-U" | "-D" => {
                let at = rows.iter().position(|r| *r == row);
                let at = at.unwrap_or_else(|| panic!("{op} of a row not in the result: {row}"));
                rows.swap_remove(at);
            }
            other => panic!("unknown op {other}: {line}"),
        }
    }
    rows.sort();
    rows
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort();
    lines
}

#[test]
fn a_top_n_per_key_matches_duckdb_finally_and_folded_from_its_changelog() {
    let expected_rows = expected("top_n_per_key");
    let final_rows = over_everywhere(&format!("{TOP_PER_KEY} EMIT FINAL"));
    assert_eq!(final_rows, expected_rows);
    let changelog = over_everywhere_with(TOP_PER_KEY, &["--changelog"]);
    assert_eq!(folded(&changelog), sorted_lines(&expected_rows));
    assert!(changelog.contains("\"op\":\"-U\""), "{changelog}");
    // Without a changelog each change is the new row of its (k, rn): the
    // last row written for each is the final result.
    let upserts = over_everywhere(TOP_PER_KEY);
    let mut last_of_rank = std::collections::BTreeMap::new();
    for line in upserts.lines() {
        let k = line.split(',').next().expect("k");
        let rn = line.rsplit_once("\"rn\":").expect("rn").1;
        last_of_rank.insert((k.to_string(), rn.to_string()), line.to_string());
    }
    let last: Vec<String> = last_of_rank.into_values().collect();
    assert_eq!(last.join("\n") + "\n", expected_rows);
}

#[test]
fn a_top_n_whose_output_leaves_out_the_rank_inserts_and_deletes_rows() {
    let sql = "SELECT k, x, n FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY x DESC) \
               AS rn FROM overs) WHERE rn <= 2 AND n > 5";
    let expected_rows = expected("top_n_unranked");
    assert_eq!(over_everywhere(&format!("{sql} EMIT FINAL")), expected_rows);
    let changelog = over_everywhere_with(sql, &["--changelog"]);
    assert_eq!(folded(&changelog), sorted_lines(&expected_rows));
    let ops: std::collections::BTreeSet<&str> = changelog.lines().map(|l| &l[7..9]).collect();
    assert_eq!(ops, ["+I", "-D"].into_iter().collect());
}

#[test]
fn a_top_n_without_partition_by_ranks_every_row_by_several_keys() {
    let sql = "SELECT k, n, x, rn FROM (SELECT *, ROW_NUMBER() OVER \
               (ORDER BY n, x DESC NULLS FIRST) AS rn FROM overs) WHERE rn <= 5";
    let expected_rows = expected("top_n_global");
    assert_eq!(over_everywhere(&format!("{sql} EMIT FINAL")), expected_rows);
    let changelog = over_everywhere_with(sql, &["--changelog"]);
    assert_eq!(folded(&changelog), sorted_lines(&expected_rows));
}

/// Flink's window Top-N: each window's groups ranked once the window
/// closes (a second stage on the merger), the same at every shard count.
const WINDOW_TOP_N: &str = "SELECT window_start, window_end, k, c, hi, rn FROM (\
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY hi DESC) AS rn \
    FROM (SELECT window_start, window_end, k, COUNT(*) AS c, MAX(x) AS hi \
          FROM TABLE(TUMBLE(TABLE overs, DESCRIPTOR(ts), INTERVAL '20' SECOND)) \
          GROUP BY window_start, window_end, k)) WHERE rn <= 2";

#[test]
fn a_top_n_per_window_over_a_windowed_grouping_matches_duckdb() {
    assert_eq!(
        over_everywhere(WINDOW_TOP_N),
        expected("window_top_n_tumbling")
    );
    // The same with QUALIFY right over the grouping.
    let qualified = "SELECT window_start, window_end, k, c, hi, ROW_NUMBER() OVER (PARTITION BY \
                     window_start, window_end ORDER BY hi DESC) AS rn FROM (SELECT window_start, \
                     window_end, k, COUNT(*) AS c, MAX(x) AS hi FROM TABLE(TUMBLE(TABLE overs, \
                     DESCRIPTOR(ts), INTERVAL '20' SECOND)) GROUP BY window_start, window_end, k) \
                     QUALIFY rn <= 2";
    assert_eq!(
        over_everywhere(qualified),
        expected("window_top_n_tumbling")
    );
    // Each window's rows are written once: a changelog of inserts.
    let changelog = over_everywhere_with(WINDOW_TOP_N, &["--changelog"]);
    assert_eq!(
        folded(&changelog),
        sorted_lines(&expected("window_top_n_tumbling"))
    );
    assert!(changelog.lines().all(|l| l.starts_with("{\"op\":\"+I\"")));
}

#[test]
fn rank_and_dense_rank_over_a_windowed_grouping_keep_every_tie_within_the_bound() {
    for (function, name) in [("RANK", "window_rank"), ("DENSE_RANK", "window_dense_rank")] {
        let sql = format!(
            "SELECT window_end, k, c, r FROM (SELECT *, {function}() OVER (PARTITION BY \
             window_start, window_end ORDER BY c DESC) AS r FROM (SELECT window_start, \
             window_end, k, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE overs, DESCRIPTOR(ts), \
             INTERVAL '20' SECOND)) GROUP BY window_start, window_end, k)) WHERE r <= 2"
        );
        assert_eq!(over_everywhere(&sql), expected(name), "{function}");
    }
    // Over rows as they come, ties make the kept rows unbounded: refused.
    assert_sql_error(
        "SELECT * FROM (SELECT *, RANK() OVER (PARTITION BY k ORDER BY x DESC) AS r \
         FROM overs) WHERE r <= 2",
        &["RANK or DENSE_RANK over a windowed grouping's rows"],
    );
}

/// The CSV output of the Nexmark query file `query` at `shards` shards,
/// with the source options `sources` (`table.key=value`).
fn nexmark_csv(query: &str, shards: &str, sources: &[&str]) -> String {
    let mut args = vec!["run", "-q", query, "--shards", shards, "--format", "csv"];
    for source in sources {
        args.extend(["--source-option", source]);
    }
    let o = run(&args);
    assert_success(&o);
    stdout(&o)
}

/// Nexmark q5 in full (benches/nexmark/q5_hot.sql) keeps, of each window
/// of q5's counting query (benches/nexmark/q5.sql), the auctions with the
/// most bids, in the counting query's order; at 1 to 3 shards.
#[test]
fn nexmark_q5_in_full_keeps_the_auctions_with_most_bids_of_each_window() {
    let options = |query: &str, shards: &str| {
        nexmark_csv(
            query,
            shards,
            &["bid.events=200000", "bid.events_per_second_time=10000"],
        )
    };
    let counts = options("benches/nexmark/q5.sql", "1");
    let mut windows: Vec<(String, Vec<(String, u64)>)> = Vec::new();
    for line in counts.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let [auction, num, start, end] = fields[..] else {
            panic!("q5 row: {line}");
        };
        let window = format!("{start} {end}");
        let num: u64 = num.parse().expect("a count");
        match windows.last_mut() {
            Some((w, rows)) if *w == window => rows.push((auction.to_string(), num)),
            _ => windows.push((window, vec![(auction.to_string(), num)])),
        }
    }
    assert!(windows.len() > 5, "{} windows", windows.len());
    let mut expected = String::from("auction,num\n");
    for (_, rows) in &windows {
        let most = rows.iter().map(|(_, n)| *n).max().expect("a row");
        for (auction, num) in rows.iter().filter(|(_, n)| *n == most) {
            expected.push_str(&format!("{auction},{num}\n"));
        }
    }
    for shards in ["1", "2", "3"] {
        assert_eq!(
            options("benches/nexmark/q5_hot.sql", shards),
            expected,
            "{shards} shards"
        );
    }
}

#[test]
fn a_top_n_over_hopping_windows_reads_a_with_query_filtered_before_ranking() {
    let sql = "WITH w AS (SELECT window_start, window_end, k, SUM(n) AS s \
               FROM TABLE(HOP(TABLE overs, DESCRIPTOR(ts), INTERVAL '10' SECOND, \
               INTERVAL '30' SECOND)) GROUP BY window_start, window_end, k) \
               SELECT window_end, k, s FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY \
               window_start, window_end ORDER BY s DESC) AS rn FROM w WHERE s > 10) WHERE rn = 1";
    assert_eq!(over_everywhere(sql), expected("window_top_n_hopping"));
}

#[test]
fn a_top_n_over_an_unwindowed_grouping_ranks_its_final_rows() {
    let sql = "SELECT k, s, rn FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY s DESC) AS rn \
               FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k)) WHERE rn <= 3";
    let expected_rows = expected("top_n_of_grouping");
    assert_eq!(over_everywhere(&format!("{sql} EMIT FINAL")), expected_rows);
    // ORDER BY and LIMIT apply to the ranked rows.
    let last_two = over_everywhere(&format!("{sql} EMIT FINAL ORDER BY rn DESC LIMIT 2"));
    let mut reversed: Vec<&str> = expected_rows.lines().rev().take(2).collect();
    reversed.push("");
    assert_eq!(last_two, reversed.join("\n"));
    let limited = over_everywhere(&format!("{sql} EMIT FINAL LIMIT 1"));
    assert_eq!(
        limited,
        format!("{}\n", expected_rows.lines().next().expect("a row"))
    );
}

#[test]
fn a_top_n_over_a_grouping_is_refused_where_it_cannot_run() {
    let grouping = "SELECT window_start, window_end, k, SUM(n) AS s FROM TABLE(TUMBLE(TABLE \
                    overs, DESCRIPTOR(ts), INTERVAL '20' SECOND)) GROUP BY window_start, \
                    window_end, k";
    assert_sql_error(
        &format!(
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY s DESC) AS rn \
             FROM ({grouping})) WHERE rn <= 2"
        ),
        &["PARTITION BY window_start, window_end", "column 26"],
    );
    assert_sql_error(
        &format!(
            "SELECT * FROM (SELECT *, LAG(s) OVER (PARTITION BY k ORDER BY window_end) AS p \
             FROM ({grouping}))"
        ),
        &["only a Top-N"],
    );
    assert_sql_error(
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY s DESC) AS rn \
         FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k)) WHERE rn <= 2",
        &["ranks the grouping's final rows", "EMIT FINAL"],
    );
}

#[test]
fn a_top_n_over_a_grouping_explains_both_stages() {
    let o = run(&["explain", "-e", WINDOW_TOP_N, "--source", OVERS]);
    assert_success(&o);
    let text = stdout(&o);
    for line in [
        "Second stage, on the merger: ranks each window's rows once they are all in",
        "TopN: the first 2 rows of each PARTITION BY [#0 window_start, #1 window_end] \
         ORDER BY #4 hi DESC NULLS LAST",
        "First stage, on the shards:",
        "Aggregate: keys [#0 k], window TUMBLING(size 20s) on ts (#3)",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
}

/// The example of docs/sql.md's "Top-N over a grouping" writes what the
/// docs show.
#[test]
fn the_documented_window_top_n_example_writes_what_the_docs_show() {
    let sql = "SELECT window_start, symbol, volume, rn FROM (\n    SELECT *, ROW_NUMBER() OVER \
               (PARTITION BY window_start, window_end ORDER BY volume DESC) AS rn\n    FROM \
               (SELECT window_start, window_end, symbol, SUM(qty) AS volume\n          FROM \
               TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '10' SECOND))\n          \
               GROUP BY window_start, window_end, symbol))\n  WHERE rn <= 2";
    assert_the_docs_show(sql, &["--format", "csv"]);
}

/// docs/sql.md has `sql`, followed by what it writes over trades.csv with
/// `options`.
fn assert_the_docs_show(sql: &str, options: &[&str]) {
    let docs = std::fs::read_to_string("docs/sql.md").expect("docs/sql.md");
    assert!(docs.contains(sql), "the example's SQL is not in the docs");
    let trades = [
        "run",
        "-q",
        "-e",
        sql,
        "--source",
        "trades=tests/data/trades.csv",
    ];
    let o = run(&[&trades[..], options].concat());
    assert_success(&o);
    let shown = format!("```\n{}```", stdout(&o));
    assert!(docs.contains(&shown), "the docs do not show\n{shown}");
}

#[test]
fn a_top_n_explains_its_bound_and_keys() {
    let o = run(&["explain", "-e", TOP_PER_KEY, "--source", OVERS]);
    assert_success(&o);
    let text = stdout(&o);
    assert!(
        text.contains(
            "TopN: the first 3 rows of each PARTITION BY [#0 k] ORDER BY #1 x DESC NULLS LAST"
        ),
        "{text}"
    );
}

/// The example of docs/sql.md's Top-N section writes what the docs show.
#[test]
fn the_documented_top_n_example_writes_what_the_docs_show() {
    let sql = "SELECT symbol, price, qty, rn FROM (SELECT *, ROW_NUMBER() OVER\n    \
               (PARTITION BY symbol ORDER BY price DESC) AS rn FROM trades) WHERE rn <= 2";
    assert_the_docs_show(sql, &["--changelog", "--format", "csv"]);
}

/// A 20-second tumbling grouping of overs.csv, the first stage of the
/// groupings over a grouping below.
const WINDOW_GROUPS: &str = "SELECT window_start, window_end, k, COUNT(*) AS c, MAX(x) AS hi, \
    SUM(n) AS s FROM TABLE(TUMBLE(TABLE overs, DESCRIPTOR(ts), INTERVAL '20' SECOND)) \
    GROUP BY window_start, window_end, k";

/// A grouping by the inner windows' bounds: each window's groups written
/// once, when the window closes (by default, as a windowed grouping's).
#[test]
fn a_grouping_over_each_windows_groups_matches_duckdb() {
    let sql = format!(
        "SELECT window_start, window_end, COUNT(*) AS keys, SUM(c) AS rows_in, MAX(hi) AS top, \
         MIN(s) AS least, COUNT(hi) AS with_x FROM ({WINDOW_GROUPS}) w WHERE c > 1 \
         GROUP BY window_start, window_end"
    );
    let expected_rows = expected("grouping_of_windows");
    assert_eq!(over_everywhere(&sql), expected_rows);
    assert_eq!(over_everywhere(&format!("{sql} EMIT FINAL")), expected_rows);
    let changelog = over_everywhere_with(&sql, &["--changelog"]);
    assert_eq!(folded(&changelog), sorted_lines(&expected_rows));
    assert!(changelog.lines().all(|l| l.starts_with("{\"op\":\"+I\"")));
}

/// A grouping by a key over windowed groups spans the input: EMIT FINAL
/// writes it at the end; EMIT CHANGES (the default) updates it as windows
/// close, and its changelog folds to the same rows.
#[test]
fn a_grouping_by_key_over_windowed_groups_updates_as_windows_close() {
    let sql = format!(
        "SELECT k, COUNT(*) AS windows, MAX(c) AS busiest, SUM(s) AS total \
         FROM ({WINDOW_GROUPS}) w GROUP BY k"
    );
    let expected_rows = expected("grouping_of_windows_by_key");
    assert_eq!(over_everywhere(&format!("{sql} EMIT FINAL")), expected_rows);
    for changes in [sql.clone(), format!("{sql} EMIT CHANGES")] {
        let changelog = over_everywhere_with(&changes, &["--changelog"]);
        assert_eq!(
            folded(&changelog),
            sorted_lines(&expected_rows),
            "{changes}"
        );
        assert!(changelog.contains("{\"op\":\"-U\""), "{changelog}");
    }
}

#[test]
fn a_grouping_over_an_unwindowed_grouping_matches_duckdb() {
    let sql = "SELECT size, COUNT(*) AS keys, SUM(s) AS total, MIN(hi) AS lowest_top FROM \
               (SELECT k, SUM(n) AS s, MAX(x) AS hi, CASE WHEN SUM(n) > 220 THEN 'big' ELSE \
               'small' END AS size FROM overs GROUP BY k) g GROUP BY size HAVING COUNT(*) > 0 \
               EMIT FINAL";
    let expected_rows = expected("grouping_of_grouping");
    assert_eq!(over_everywhere(sql), expected_rows);
    // ORDER BY and LIMIT apply to the outer grouping's rows.
    let last = over_everywhere(&format!("{sql} ORDER BY size DESC LIMIT 1"));
    assert_eq!(
        last,
        format!("{}\n", expected_rows.lines().last().expect("a row"))
    );
    // Without GROUP BY: one row.
    let global = "SELECT COUNT(*) AS keys, SUM(s) AS total, MAX(s) AS most \
                  FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k) EMIT FINAL";
    assert_eq!(over_everywhere(global), expected("aggregate_of_grouping"));
}

#[test]
fn a_grouping_over_a_grouping_is_refused_where_it_cannot_run() {
    assert_sql_error(
        &format!(
            "SELECT k, COUNT(*) FROM ({WINDOW_GROUPS}) w \
             GROUP BY k, TUMBLE(window_start, INTERVAL '1' MINUTE)"
        ),
        &[
            "cannot window the inner rows again",
            "window_start and window_end",
        ],
    );
    assert_sql_error(
        "SELECT COUNT(*) FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k)",
        &["groups again the grouping's final rows", "EMIT FINAL"],
    );
    assert_sql_error(
        "SELECT COUNT(*) FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k LIMIT 2) EMIT FINAL",
        &["ORDER BY or LIMIT inside the grouping", "outer query"],
    );
    // EMIT FINAL over groups that span an input that never ends.
    let sql = format!("SELECT k, COUNT(*) FROM ({WINDOW_GROUPS}) w GROUP BY k EMIT FINAL");
    let o = run(&["run", "-q", "-e", &sql, "--source", OVERS, "--follow"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("writes its groups when the input ends"),
        "{}",
        stderr(&o)
    );
    // A grouping over a grouping joined with something else: not yet.
    assert_sql_error(
        "SELECT g.k, COUNT(*) FROM (SELECT k, SUM(n) AS s FROM overs GROUP BY k) g \
         JOIN overs o ON g.k = o.k GROUP BY g.k EMIT FINAL",
        &["not supported"],
    );
}

#[test]
fn a_grouping_over_a_grouping_explains_both_stages() {
    let sql = format!("SELECT k, COUNT(*) AS windows FROM ({WINDOW_GROUPS}) w GROUP BY k");
    let o = run(&["explain", "-e", &sql, "--source", OVERS]);
    assert_success(&o);
    let text = stdout(&o);
    for line in [
        "Query (EMIT CHANGES)",
        "Second stage, on the merger: groups the first stage's rows (window_start TIMESTAMP, \
         window_end TIMESTAMP, k VARCHAR, c BIGINT, hi DOUBLE, s BIGINT), writing updates \
         after each chunk",
        "aggregates: #1 agg0 = COUNT(*)",
        "First stage, on the shards:",
        "Aggregate: keys [#0 k], window TUMBLING(size 20s) on ts (#3)",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
}

/// Nexmark q4 (benches/nexmark/q4.sql) averages, per category, the closing
/// prices q4_closing_price.sql writes; its last update per category is
/// that average, at 1 to 3 shards.
#[test]
fn nexmark_q4_averages_the_closing_prices_per_category() {
    let rows = |query: &str, shards: &str| {
        nexmark_csv(
            query,
            shards,
            &["bid.events=200000", "auction.events=200000"],
        )
    };
    let mut prices: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for line in rows("benches/nexmark/q4_closing_price.sql", "2")
        .lines()
        .skip(1)
    {
        let fields: Vec<&str> = line.split(',').collect();
        let [_, category, price] = fields[..] else {
            panic!("closing price row: {line}");
        };
        let price = price.parse().expect("a price");
        prices.entry(category.to_string()).or_default().push(price);
    }
    assert!(prices.len() > 3, "{} categories", prices.len());
    let updates = rows("benches/nexmark/q4.sql", "1");
    let mut last: std::collections::BTreeMap<String, f64> = Default::default();
    for line in updates.lines().skip(1) {
        let (category, average) = line.split_once(',').expect("category,avg_final");
        last.insert(category.to_string(), average.parse().expect("an average"));
    }
    assert_eq!(
        last.keys().collect::<Vec<_>>(),
        prices.keys().collect::<Vec<_>>()
    );
    for (category, finals) in &prices {
        let average = finals.iter().sum::<i64>() as f64 / finals.len() as f64;
        let got = last[category];
        assert!(
            (got - average).abs() <= average.abs() * 1e-12,
            "{category}: {got} against {average}"
        );
    }
    for shards in ["2", "3"] {
        assert_eq!(
            rows("benches/nexmark/q4.sql", shards),
            updates,
            "{shards} shards"
        );
    }
}

/// The example of docs/sql.md's grouping over a grouping writes what the
/// docs show.
#[test]
fn the_documented_grouping_over_a_grouping_writes_what_the_docs_show() {
    let sql = "SELECT window_start, COUNT(*) AS symbols, SUM(volume) AS volume, MAX(volume) AS \
               top_volume\nFROM (SELECT window_start, window_end, symbol, SUM(qty) AS volume\n      \
               FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '10' SECOND))\n      \
               GROUP BY window_start, window_end, symbol)\nGROUP BY window_start, window_end";
    assert_the_docs_show(sql, &["--format", "csv"]);
}

/// The inner grouping may read a UNION ALL (here trades.csv twice: its 3
/// symbols, 16 rows; counted by hand).
#[test]
fn a_grouping_over_a_grouping_of_a_union_counts_both_inputs() {
    let sql = "SELECT COUNT(*) AS symbols, SUM(n) AS rows_in FROM (SELECT symbol, COUNT(*) AS n \
               FROM (SELECT symbol FROM a UNION ALL SELECT symbol FROM b) u GROUP BY symbol) g \
               EMIT FINAL";
    for shards in ["1", "3"] {
        let o = run(&[
            "run",
            "-q",
            "-e",
            sql,
            "--source",
            "a=tests/data/trades.csv",
            "--source",
            "b=tests/data/trades.csv",
            "--shards",
            shards,
        ]);
        assert_success(&o);
        assert_eq!(
            stdout(&o),
            "{\"symbols\":3,\"rows_in\":16}\n",
            "{shards} shards"
        );
    }
}
