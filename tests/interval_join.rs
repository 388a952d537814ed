//! End-to-end tests of interval joins of two streams: orders and payments
//! (tests/data/interval_join, made by make_inputs.py) joined on the order
//! id with the payment's time bounded by the order's, inner and every outer
//! kind, at the interval's edges (inclusive and exclusive bounds, 1 ms
//! either side), with rows out of order within the declared 20 s. Expected
//! rows were computed with DuckDB by tests/data/interval_join/expected.py
//! and are compared sorted; the output itself must be the same at 1 to 4
//! shards. Also: late rows dead-lettered, the state released as the
//! watermark passes (measured with --max-state-bytes), explain, refusals.
//! Window joins (Flink's: both sides through the same TUMBLE, joined on the
//! key and the window) over the same inputs, by 1-minute windows.

mod common;
use common::{assert_explains, assert_refused, assert_success, run, stderr, stdout};
use std::fmt::Write as _;
use std::path::Path;

const TABLES: &str = "CREATE TABLE orders (id BIGINT, customer VARCHAR, amount BIGINT, \
    ts TIMESTAMP) WITH ('path' = 'tests/data/interval_join/orders.csv', \
    'watermark.max_out_of_orderness' = '20s'); \
    CREATE TABLE payments (pid BIGINT, order_id BIGINT, amount BIGINT, ts TIMESTAMP) \
    WITH ('path' = 'tests/data/interval_join/payments.csv', \
    'watermark.max_out_of_orderness' = '20s');\n";

fn output_of(script: &str, options: &[&str]) -> String {
    let mut args = vec!["run", "-q", "-e", script];
    args.extend_from_slice(options);
    let o = run(&args);
    assert_success(&o);
    stdout(&o)
}

fn sorted(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

/// Checks `sql` against `expected` (sorted) in every configuration, and
/// that with 64-byte chunks (the watermark moving hundreds of times) the
/// output is byte-identical at 1 to 4 shards.
fn assert_matches_duckdb(sql: &str, expected: &str) {
    let script = format!("{TABLES}{sql}");
    let expected = std::fs::read_to_string(format!("tests/data/interval_join/{expected}.jsonl"))
        .expect("expected file");
    let fine = output_of(&script, &["--shards", "1", "--chunk-bytes", "64"]);
    assert_eq!(sorted(&fine), sorted(&expected), "{sql}");
    for shards in ["2", "3", "4"] {
        let got = output_of(&script, &["--shards", shards, "--chunk-bytes", "64"]);
        assert_eq!(got, fine, "{sql} at {shards} shards");
    }
    for options in [
        &["--shards", "2"][..],
        &["--shards", "3", "--chunk-bytes", "500"],
        &[
            "--runtime",
            "shared-lock",
            "--shards",
            "2",
            "--chunk-bytes",
            "200",
        ],
    ] {
        let got = output_of(&script, options);
        assert_eq!(sorted(&got), sorted(&expected), "{sql} with {options:?}");
    }
}

/// What `explain` writes for `sql` over the two tables.
fn explained(sql: &str) -> String {
    let o = run(&["explain", "-e", &format!("{TABLES}{sql}")]);
    assert_success(&o);
    stdout(&o)
}

#[test]
fn interval_joins_of_every_kind_match_duckdb_at_the_edges_of_the_interval() {
    for kind in ["inner", "left", "right", "full"] {
        let sql = format!(
            "SELECT o.id, o.customer, o.amount, p.pid, p.amount AS paid, p.ts AS paid_at \
             FROM orders o {} JOIN payments p \
             ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE",
            kind.to_uppercase()
        );
        assert_matches_duckdb(&sql, kind);
    }
}

#[test]
fn from_a_comma_b_with_strict_bounds_in_where_is_an_inner_interval_join() {
    assert_matches_duckdb(
        "SELECT o.id, p.pid FROM orders o, payments p \
         WHERE o.id = p.order_id AND p.ts > o.ts - INTERVAL '1' MINUTE \
         AND p.ts < o.ts + INTERVAL '30' MINUTE AND p.amount >= 10",
        "comma_strict",
    );
}

#[test]
fn bounds_written_the_other_way_round_and_conditions_on_one_side_in_on() {
    // In a LEFT join, ON's condition on the payment decides what matches:
    // an order whose payments all fail it is written with NULLs.
    assert_matches_duckdb(
        "SELECT o.id, p.pid FROM orders o LEFT JOIN payments p \
         ON o.id = p.order_id AND o.ts >= p.ts - INTERVAL '10' MINUTE AND o.ts <= p.ts \
         AND p.amount > 20",
        "mirrored_left",
    );
}

#[test]
fn where_on_the_inner_side_filters_rows_as_read_and_on_the_outer_side_the_joined_rows() {
    // In a LEFT join, WHERE on the orders may drop orders before the join;
    // on the payments it must see the NULL-padded rows too.
    let sql = "SELECT o.id, p.pid FROM orders o LEFT JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE \
         WHERE o.amount > 100 AND (p.amount IS NULL OR p.amount > 5)";
    assert_matches_duckdb(sql, "left_where");
    let text = explained(sql);
    assert!(
        text.contains("left: orders (")
            && text.contains("Filter (as read, before the join): (#2 amount > 100)"),
        "{text}"
    );
    assert_eq!(text.matches("Filter (as read").count(), 1, "{text}");
}

/// Writes `orders.csv` and `payments.csv` into `dir`; returns the tables.
fn small_tables(dir: &Path, orders: &str, payments: &str) -> String {
    let (o, p) = (dir.join("orders.csv"), dir.join("payments.csv"));
    std::fs::write(&o, orders).expect("write orders");
    std::fs::write(&p, payments).expect("write payments");
    format!(
        "CREATE TABLE orders (id BIGINT, ts TIMESTAMP) WITH ('path' = '{}'); \
         CREATE TABLE payments (order_id BIGINT, paid BIGINT, ts TIMESTAMP) \
         WITH ('path' = '{}');\n",
        o.display(),
        p.display()
    )
}

/// Runs `script` at `shards` with a chunk per line and dead letters in
/// `dead`; the run's output, and its dead letters.
fn run_with_dead_letters(
    script: &str,
    shards: &str,
    dead: &Path,
) -> (std::process::Output, Vec<serde_json::Value>) {
    let dead_path = dead.to_str().expect("utf-8 path");
    let o = run(&[
        "run",
        "-e",
        script,
        "--chunk-bytes",
        "1",
        "--shards",
        shards,
        "--dead-letter",
        dead_path,
    ]);
    assert_success(&o);
    let letters = std::fs::read_to_string(dead).expect("dead letters");
    let letters = letters
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    (o, letters)
}

#[test]
fn late_rows_are_dead_lettered_as_their_own_source_and_the_summary_adds_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    // With a chunk per line, read in turn: order 3 (00:20) is read before
    // payment 3 (00:19:59), order 5 (02:00) before payment 9 (00:00:01),
    // and the payments are then past both: each is late when read.
    let tables = small_tables(
        dir.path(),
        "id,ts\n1,2024-01-01 00:00:00\n2,2024-01-01 00:10:00\n3,2024-01-01 00:20:00\n\
         5,2024-01-01 02:00:00\n",
        "order_id,paid,ts\n1,10,2024-01-01 00:30:00\n2,20,2024-01-01 01:10:00\n\
         5,50,2024-01-01 02:30:00\n3,30,2024-01-01 00:19:59\n9,90,2024-01-01 00:00:01\n",
    );
    let dead = dir.path().join("dead.jsonl");
    let script = format!(
        "{tables}SELECT o.id, p.paid FROM orders o FULL JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR"
    );
    let mut outputs = Vec::new();
    let mut letters = Vec::new();
    for shards in ["1", "2", "3"] {
        let (o, dead_letters) = run_with_dead_letters(&script, shards, &dead);
        letters = dead_letters;
        assert!(
            stderr(&o).contains("9 records read: 7 processed, 0 filtered, 2 late, 0 malformed"),
            "{}",
            stderr(&o)
        );
        outputs.push(stdout(&o));
    }
    assert_eq!(
        sorted(&outputs[0]),
        [
            "{\"id\":1,\"paid\":10}",
            "{\"id\":2,\"paid\":20}",
            "{\"id\":3,\"paid\":null}",
            "{\"id\":5,\"paid\":50}"
        ],
        "payment 3 came too late for order 3, which is written unmatched"
    );
    assert!(outputs.iter().all(|o| *o == outputs[0]), "{outputs:?}");
    assert_eq!(letters.len(), 2);
    for (letter, id) in letters.iter().zip([3, 9]) {
        assert_eq!(letter["source"], "payments");
        assert_eq!(
            letter["record"]["order_id"], id,
            "its own columns: {letter}"
        );
        assert!(letter["record"].get("$side").is_none(), "{letter}");
        let reason = letter["reason"].as_str().expect("reason");
        assert!(
            reason.contains("every row it could have joined"),
            "{reason}"
        );
    }
}

/// One order and one payment per second for `seconds`, each payment 30 s
/// after its order.
fn steady_tables(dir: &Path, seconds: u32) -> String {
    let (mut orders, mut payments) = (String::from("id,ts\n"), String::from("order_id,paid,ts\n"));
    for s in 0..seconds {
        let stamp = |t: u32| {
            format!(
                "2024-01-{:02} {:02}:{:02}:{:02}",
                1 + t / 86_400,
                t / 3600 % 24,
                t / 60 % 60,
                t % 60
            )
        };
        let _ = writeln!(orders, "{s},{}", stamp(s));
        let _ = writeln!(payments, "{s},{},{}", s % 100, stamp(s + 30));
    }
    small_tables(dir, &orders, &payments)
}

#[test]
fn an_interval_join_keeps_only_the_rows_its_interval_needs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tables = steady_tables(dir.path(), 100_000);
    let limit = ["--max-state-bytes", "4MiB", "--chunk-bytes", "65536"];
    let joined = format!(
        "{tables}SELECT o.id, p.paid FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' MINUTE"
    );
    let mut args = vec!["run", "-q", "-e", &joined, "--format", "blackhole"];
    args.extend_from_slice(&limit);
    let o = run(&args);
    assert_success(&o);
    // The same rows joined without a time bound keep both inputs whole.
    let regular =
        format!("{tables}SELECT o.id, p.paid FROM orders o, payments p WHERE o.id = p.order_id");
    let mut args = vec!["run", "-q", "-e", &regular, "--format", "blackhole"];
    args.extend_from_slice(&limit);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("which a regular join keeps until the input ends"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_stream_as_either_side_is_refused_naming_the_join() {
    let script = "CREATE TABLE orders (id BIGINT, ts TIMESTAMP) \
        WITH ('path' = 'tests/data/interval_join/orders.csv'); \
        CREATE TABLE payments (order_id BIGINT, paid BIGINT, ts TIMESTAMP) \
        WITH ('path' = '-', 'format' = 'csv'); \
        SELECT o.id, p.paid FROM orders o JOIN payments p ON o.id = p.order_id \
        AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR";
    let o = common::corestream()
        .args(["run", "-q", "-e", script])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run corestream");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a join of two streams reads files and generators"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn explain_shows_the_interval_and_what_pairs_must_meet() {
    let script = format!(
        "{TABLES}SELECT o.id, p.pid FROM orders o LEFT JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL '5' SECOND AND o.ts + \
         INTERVAL '30' MINUTE"
    );
    assert_explains(
        &script,
        &[
            "LEFT JOIN on #0 id = #5 order_id",
            "an interval join: payments.ts - orders.ts within -5s .. 30m",
            "pairs must meet: (#7 ts BETWEEN (#3 ts - 5000) AND (#3 ts + 1800000))",
            "written when the watermark passes their interval",
        ],
    );
}

#[test]
fn joins_of_two_files_without_a_key_or_a_two_sided_time_bound_are_refused() {
    let refused = |sql: &str, fragment: &str| assert_refused(&format!("{TABLES}{sql}"), fragment);
    refused(
        "SELECT o.id FROM orders o JOIN payments p ON o.id = p.order_id AND p.ts >= o.ts",
        "needs both a lower and an upper bound",
    );
    refused(
        "SELECT o.id FROM orders o JOIN payments p \
         ON p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR",
        "needs an equality on a key",
    );
    refused(
        "SELECT o.id FROM orders o, payments p WHERE o.amount > p.amount",
        "FROM a, b joins two streams on the equalities WHERE puts between their columns",
    );
    refused(
        "SELECT o.id FROM orders o JOIN payments p ON o.customer = p.order_id \
         AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR",
        "cannot join on `o.customer` (VARCHAR) = `p.order_id` (BIGINT)",
    );
}

#[test]
fn ksqldb_within_is_the_interval_join_it_means() {
    // ksqlDB's WITHIN (before, after) bounds the right row's time by the
    // left row's, each side's time being its declared TIMESTAMP column.
    let tables = TABLES.replace(
        "'watermark.max_out_of_orderness' = '20s'",
        "'watermark.max_out_of_orderness' = '20s', 'timestamp' = 'ts'",
    );
    let within = format!(
        "{tables}SELECT o.id, p.pid FROM orders o LEFT JOIN payments p \
         WITHIN (1 MINUTE, 30 MINUTES) ON o.id = p.order_id"
    );
    let expected = std::fs::read_to_string("tests/data/interval_join/within_left.jsonl")
        .expect("expected file");
    for shards in ["1", "3"] {
        let got = output_of(&within, &["--shards", shards, "--chunk-bytes", "100"]);
        assert_eq!(sorted(&got), sorted(&expected), "at {shards} shards");
    }
    // Without a declared event-time column, WITHIN says what to declare.
    let script = format!(
        "{TABLES}SELECT o.id FROM orders o JOIN payments p WITHIN 1 HOUR ON o.id = p.order_id"
    );
    assert_refused(&script, "each must declare its event-time column");
}

/// A grouping by keys without the join key, written as a grouping over a
/// grouping: by the join key on its shard first, then by the other keys on
/// the merger (each window's groups written when it closes); and a window
/// Top-N over the grouping by the join key.
#[test]
fn second_stages_over_a_grouping_of_an_interval_join_match_duckdb() {
    assert_matches_duckdb(
        "SELECT customer, window_start, COUNT(*) AS orders, SUM(paid) AS paid FROM (\
         SELECT o.id, o.customer, window_start, window_end, SUM(p.amount) AS paid \
         FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE \
         GROUP BY o.id, o.customer, TUMBLE(p.ts, INTERVAL '10' MINUTE)) g \
         GROUP BY customer, window_start, window_end",
        "per_customer_window",
    );
    // A window Top-N over the grouping by the join key: ranked on the merger.
    assert_matches_duckdb(
        "SELECT window_start, id, paid, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY \
         window_start, window_end ORDER BY paid DESC) AS rn FROM (SELECT o.id, window_start, \
         window_end, SUM(p.amount) AS paid FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE \
         GROUP BY o.id, TUMBLE(p.ts, INTERVAL '10' MINUTE))) WHERE rn <= 2",
        "top_orders_per_window",
    );
}

#[test]
fn grouping_over_an_interval_join_by_its_key_matches_duckdb() {
    // Windows by either side's time column, inner and outer, HAVING, and
    // an unwindowed grouping of a FULL join by both sides' keys.
    assert_matches_duckdb(
        "SELECT o.id, TUMBLE_START(p.ts, INTERVAL '10' MINUTE) AS w, COUNT(*) AS n, \
         SUM(p.amount) AS paid FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE \
         GROUP BY o.id, TUMBLE(p.ts, INTERVAL '10' MINUTE)",
        "grouped_by_payment_window",
    );
    assert_matches_duckdb(
        "SELECT o.id, TUMBLE_START(o.ts, INTERVAL '5' MINUTE) AS w, COUNT(*) AS n, \
         COUNT(p.pid) AS payments, MAX(p.amount) AS most FROM orders o LEFT JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL '1' MINUTE \
         AND o.ts + INTERVAL '30' MINUTE \
         GROUP BY o.id, TUMBLE(o.ts, INTERVAL '5' MINUTE) HAVING COUNT(*) < 3",
        "grouped_left_by_order_window",
    );
    assert_matches_duckdb(
        "SELECT o.id, p.order_id, COUNT(*) AS n, SUM(p.amount) AS paid \
         FROM orders o FULL JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE \
         GROUP BY o.id, p.order_id EMIT FINAL",
        "grouped_full",
    );
}

#[test]
fn a_top_n_over_a_join_in_a_subquery_by_its_key_matches_duckdb() {
    assert_matches_duckdb(
        "SELECT id, pid, amount FROM (SELECT o.id, p.pid, p.amount, \
         ROW_NUMBER() OVER (PARTITION BY o.id ORDER BY p.amount DESC, p.pid) AS rn \
         FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE) \
         WHERE rn <= 1 EMIT FINAL",
        "top_payment",
    );
}

#[test]
fn over_windows_over_a_join_by_its_key_match_duckdb() {
    // Ordered by the payment's time: each row is released once the join
    // can write no earlier payment of its order.
    assert_matches_duckdb(
        "SELECT o.id, p.pid, COUNT(*) OVER (PARTITION BY o.id ORDER BY p.ts \
         RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n, \
         SUM(p.amount) OVER (PARTITION BY o.id ORDER BY p.ts \
         RANGE BETWEEN INTERVAL '10' MINUTE PRECEDING AND CURRENT ROW) AS recent \
         FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE",
        "over_payments",
    );
}

#[test]
fn a_column_through_a_qualified_star_of_a_join_subquery_is_that_sides() {
    // Both sides have `ts` and `amount`: over `o.*` they are the order's.
    let on = "ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE";
    let through_star = format!(
        "{TABLES}SELECT id, ts, amount, pid FROM (SELECT o.*, p.pid FROM orders o \
         JOIN payments p {on})"
    );
    let direct =
        format!("{TABLES}SELECT o.id, o.ts, o.amount, p.pid FROM orders o JOIN payments p {on}");
    let expected = output_of(&direct, &[]);
    assert!(expected.lines().count() > 500, "{expected}");
    assert_eq!(output_of(&through_star, &[]), expected);
}

#[test]
fn a_grouping_over_a_join_in_a_with_query_is_the_grouping_of_the_join() {
    let on = "ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE";
    let direct = format!(
        "{TABLES}SELECT o.id, SUM(p.amount) AS paid, COUNT(*) AS n FROM orders o \
         JOIN payments p {on} GROUP BY o.id EMIT FINAL"
    );
    let named = format!(
        "{TABLES}WITH j AS (SELECT o.id, p.amount AS paid FROM orders o JOIN payments p {on}) \
         SELECT id, SUM(paid) AS paid, COUNT(*) AS n FROM j GROUP BY id EMIT FINAL"
    );
    let expected = output_of(&direct, &[]);
    assert!(expected.lines().count() > 500, "{expected}");
    for shards in ["1", "3"] {
        assert_eq!(output_of(&named, &["--shards", shards]), expected);
    }
}

#[test]
fn a_changelog_of_a_grouping_over_a_join_is_the_same_at_every_shard_count() {
    // A payment that pairs with two orders of one id changes its group
    // twice: the changes must stay in turn through the merger's sort.
    let script = format!(
        "{TABLES}SELECT o.id, COUNT(*) AS n, SUM(p.amount) AS paid FROM orders o \
         JOIN payments p ON o.id = p.order_id \
         AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE GROUP BY o.id"
    );
    let changes = output_of(&script, &["--changelog", "--chunk-bytes", "64"]);
    for shards in ["2", "3", "4"] {
        let options = ["--changelog", "--chunk-bytes", "64", "--shards", shards];
        assert_eq!(output_of(&script, &options), changes, "at {shards} shards");
    }
    // The last row of each id is its final count and sum.
    let mut last = std::collections::BTreeMap::new();
    for line in changes.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("json");
        if row["op"] == "+I" || row["op"] == "+U" {
            last.insert(
                row["id"].to_string(),
                (row["n"].clone(), row["paid"].clone()),
            );
        }
    }
    let final_rows = output_of(
        &script.replace("GROUP BY o.id", "GROUP BY o.id EMIT FINAL"),
        &[],
    );
    assert_eq!(final_rows.lines().count(), last.len());
    for line in final_rows.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("json");
        let id = row["id"].to_string();
        assert_eq!(last[&id], (row["n"].clone(), row["paid"].clone()), "{id}");
    }
    assert!(
        last.values().any(|(n, _)| n.as_i64() > Some(1)),
        "some id pairs more than once"
    );
}

#[test]
fn windows_over_an_interval_join_close_as_the_watermark_passes() {
    // 100,000 orders, each paid 30 s later: a window per order id and
    // minute. Were the windows held to the end of the input, their groups
    // would outgrow the state limit long before it.
    let dir = tempfile::tempdir().expect("temp dir");
    let tables = steady_tables(dir.path(), 100_000);
    let script = format!(
        "{tables}SELECT o.id, COUNT(*) AS n FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' MINUTE \
         GROUP BY o.id, TUMBLE(p.ts, INTERVAL '1' MINUTE)"
    );
    let o = run(&[
        "run",
        "-e",
        &script,
        "--max-state-bytes",
        "4MiB",
        "--chunk-bytes",
        "65536",
        "--shards",
        "2",
    ]);
    assert_success(&o);
    let rows = stdout(&o);
    assert_eq!(rows.lines().count(), 100_000);
    assert!(
        rows.lines().all(|l| l.ends_with("\"n\":1}")),
        "one payment each"
    );
    // The same grouping with its windows never closing is refused by the limit.
    let unwindowed = script.replace(", TUMBLE(p.ts, INTERVAL '1' MINUTE)", " EMIT FINAL");
    let o = run(&[
        "run",
        "-q",
        "-e",
        &unwindowed,
        "--max-state-bytes",
        "4MiB",
        "--chunk-bytes",
        "65536",
        "--format",
        "blackhole",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn groupings_over_a_join_that_its_key_does_not_place_are_refused() {
    let refused = |sql: &str, fragment: &str| assert_refused(&format!("{TABLES}{sql}"), fragment);
    let join = "FROM orders o JOIN payments p ON o.id = p.order_id \
         AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR";
    let left = join.replace(" JOIN ", " LEFT JOIN ");
    refused(
        &format!("SELECT o.customer, COUNT(*) {join} GROUP BY o.customer"),
        "GROUP BY over a join of two streams must include the join key: add orders.id",
    );
    refused(
        &format!("SELECT o.customer, COUNT(*) {join} GROUP BY o.customer"),
        "group by the join key in a subquery and group its rows again outside it",
    );
    refused(
        &format!("SELECT p.order_id, COUNT(*) {left} GROUP BY p.order_id"),
        "(of a LEFT join, the key of each outer side): add orders.id",
    );
    refused(
        &format!("SELECT COUNT(*) {join}"),
        "must include the join key",
    );
    refused(
        "SELECT o.id, COUNT(*) FROM orders o, payments p WHERE o.id = p.order_id \
             GROUP BY o.id, TUMBLE(o.ts, INTERVAL '1' MINUTE)",
        "a window over a join of two streams needs an interval join",
    );
    refused(
        &format!(
            "SELECT o.id, COUNT(*) {join} GROUP BY o.id, TUMBLE(o.amount, INTERVAL '1' MINUTE)"
        ),
        "a window over an interval join must be over orders.ts or payments.ts",
    );
    refused(
        &format!(
            "SELECT * FROM (SELECT o.customer, p.amount, ROW_NUMBER() OVER \
             (PARTITION BY o.customer ORDER BY p.amount DESC) AS rn {join}) WHERE rn <= 2"
        ),
        "a Top-N's PARTITION BY over a join of two streams must include the join key",
    );
    refused(
        &format!("SELECT o.id, COUNT(*) OVER (PARTITION BY o.customer ORDER BY p.ts) {join}"),
        "OVER's PARTITION BY over a join of two streams must include the join key",
    );
    refused(
        "SELECT o.id, COUNT(*) OVER (PARTITION BY o.id ORDER BY p.ts) \
         FROM orders o, payments p WHERE o.id = p.order_id",
        "an OVER window over a join of two streams needs an interval join",
    );
}

#[test]
fn explain_shows_a_grouping_after_the_join() {
    let script = format!(
        "{TABLES}SELECT o.id, COUNT(*) AS n FROM orders o JOIN payments p \
         ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL '30' MINUTE \
         GROUP BY o.id, TUMBLE(p.ts, INTERVAL '10' MINUTE)"
    );
    assert_explains(
        &script,
        &[
            "Aggregate: keys [#0 id], window TUMBLING(size 10m) on ts (#7)",
            "INNER JOIN on #0 id = #5 order_id",
            "its rows are grouped on the join key's shard, after the join",
        ],
    );
}

/// `table` through TUMBLE of `size` (`INTERVAL '10' SECOND`), as `alias`:
/// a side of a window join written as the table function itself.
fn tumbling(table: &str, alias: &str, size: &str) -> String {
    format!("TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), {size})) {alias}")
}

/// A side of a window join: `table` through a 1-minute TUMBLE, as `alias`.
fn windowed(table: &str, alias: &str) -> String {
    format!(
        "(SELECT * FROM TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) {alias}"
    )
}

/// Flink's window join condition: the key and both window bounds.
const SAME_ORDER_AND_WINDOW: &str = "ON o.id = p.order_id AND o.window_start = p.window_start \
    AND o.window_end = p.window_end";

#[test]
fn window_joins_of_every_kind_match_duckdb() {
    // Payments 1 ms before, at and after their order fall either side of a
    // minute boundary now and then; outer rows come with NULLs.
    for kind in ["inner", "left", "right", "full"] {
        let sql = format!(
            "SELECT o.id, o.amount, p.pid, p.amount AS paid, o.window_start, \
             p.window_start AS paid_window FROM {} {} JOIN {} {SAME_ORDER_AND_WINDOW}",
            windowed("orders", "o"),
            kind.to_uppercase(),
            windowed("payments", "p"),
        );
        assert_matches_duckdb(&sql, &format!("window_{kind}"));
    }
}

#[test]
fn a_window_join_of_table_functions_as_from_a_comma_b_filters_windows_after_the_join() {
    // A condition on a side's own column filters its rows as read; one on
    // its window, which rows get after they are read, the joined rows.
    let sql = "SELECT o.id, p.pid \
         FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) o, \
         TABLE(TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) p \
         WHERE o.id = p.order_id AND o.window_start = p.window_start \
         AND o.window_end = p.window_end \
         AND p.window_end <= TIMESTAMP '2026-03-01 10:00:00' AND p.amount >= 10";
    assert_matches_duckdb(sql, "window_comma");
    let text = explained(sql);
    assert!(
        text.contains("Filter (as read, before the join): (#2 amount >= 10)")
            && text.contains("Filter: (#11 window_end <= "),
        "{text}"
    );
    assert_eq!(text.matches("Filter (as read").count(), 1, "{text}");
}

#[test]
fn grouping_a_window_join_by_its_window_writes_each_window_as_it_closes() {
    // GROUP BY o.window_start, o.window_end is the join's window: each
    // window's groups come when the watermark closes it.
    let sql = format!(
        "SELECT o.id, o.window_start, o.window_end, COUNT(*) AS n, COUNT(p.pid) AS payments, \
         SUM(p.amount) AS paid FROM {} LEFT JOIN {} {SAME_ORDER_AND_WINDOW} \
         GROUP BY o.id, o.window_start, o.window_end",
        windowed("orders", "o"),
        windowed("payments", "p"),
    );
    assert_matches_duckdb(&sql, "window_grouped");
    assert_explains(
        &format!("{TABLES}{sql}"),
        &[
            "Aggregate: keys [#0 id], window TUMBLING(size 1m) on ts (#3)",
            "LEFT JOIN on #0 id = #7 order_id, each row routed by its own side's key",
            "pairs must meet: (#4 window_start = #10 window_start)",
            "rows are kept with only the columns read after the join: (id, ts, window_start) \
             and (pid, order_id, amount, window_start)",
            "a window join: both rows in one TUMBLE window of 1m (by orders.ts and \
             payments.ts); a row is kept on its key's shard until the watermark (less the \
             allowed lateness) closes its window",
            "rows of an outer side that never matched are written when the watermark closes \
             their window",
        ],
    );
}

#[test]
fn grouping_a_window_join_by_its_key_alone_runs_on_the_keys_shard() {
    // Rows are routed by the join key, not by their windows: a grouping by
    // the key across windows is whole on its shard.
    let sql = format!(
        "SELECT o.id, COUNT(*) AS n, SUM(p.amount) AS paid FROM {} JOIN {} \
         {SAME_ORDER_AND_WINDOW} GROUP BY o.id EMIT FINAL",
        windowed("orders", "o"),
        windowed("payments", "p"),
    );
    assert_matches_duckdb(&sql, "window_per_order");
}

#[test]
fn a_window_join_row_is_late_only_once_its_window_has_closed() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A chunk per line, read in turn: order 2 (00:29) and payment 2 (00:22)
    // take the watermark to 00:22, past order 3 (00:12) and payment 3
    // (00:14), whose window [00:10, 00:20) has closed: both late. Payment 2
    // at 00:21 is behind the watermark too, but its window is open: it
    // joins order 2 (an interval join would have refused it).
    let tables = small_tables(
        dir.path(),
        "id,ts\n1,2024-01-01 00:00:05\n2,2024-01-01 00:00:29\n3,2024-01-01 00:00:12\n",
        "order_id,paid,ts\n1,10,2024-01-01 00:00:07\n2,22,2024-01-01 00:00:22\n\
         2,21,2024-01-01 00:00:21\n3,30,2024-01-01 00:00:14\n",
    );
    let script = format!(
        "{tables}SELECT o.id, p.paid, o.window_start FROM {} FULL JOIN {} \
         {SAME_ORDER_AND_WINDOW}",
        tumbling("orders", "o", "INTERVAL '10' SECOND"),
        tumbling("payments", "p", "INTERVAL '10' SECOND")
    );
    let dead = dir.path().join("dead.jsonl");
    for shards in ["1", "2", "3"] {
        let (o, letters) = run_with_dead_letters(&script, shards, &dead);
        assert!(
            stderr(&o).contains("7 records read: 5 processed, 0 filtered, 2 late, 0 malformed"),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            stdout(&o),
            "{\"id\":1,\"paid\":10,\"window_start\":\"2024-01-01T00:00:00.000Z\"}\n\
             {\"id\":2,\"paid\":22,\"window_start\":\"2024-01-01T00:00:20.000Z\"}\n\
             {\"id\":2,\"paid\":21,\"window_start\":\"2024-01-01T00:00:20.000Z\"}\n",
            "at {shards} shards"
        );
        assert_eq!(letters.len(), 2, "{letters:?}");
        assert_eq!(letters[0]["source"], "orders");
        assert_eq!(
            letters[0]["record"],
            serde_json::json!({"id": 3, "ts": "2024-01-01T00:00:12.000Z"})
        );
        assert_eq!(letters[1]["source"], "payments");
        assert_eq!(
            letters[1]["record"],
            serde_json::json!({"order_id": 3, "paid": 30, "ts": "2024-01-01T00:00:14.000Z"}),
            "its own columns as read, without the window's"
        );
    }
}

#[test]
fn a_window_join_keeps_only_the_rows_of_open_windows() {
    // 100,000 orders and payments, each payment 30 s after its order: the
    // rows of a closed minute are dropped, so 4 MiB hold the run, which
    // the same join without windows (see the interval join's test) exceeds.
    let dir = tempfile::tempdir().expect("temp dir");
    let tables = steady_tables(dir.path(), 100_000);
    let script = format!(
        "{tables}SELECT o.id, p.paid FROM {} JOIN {} {SAME_ORDER_AND_WINDOW}",
        tumbling("orders", "o", "INTERVAL '1' MINUTE"),
        tumbling("payments", "p", "INTERVAL '1' MINUTE")
    );
    let o = run(&[
        "run",
        "-e",
        &script,
        "--format",
        "blackhole",
        "--max-state-bytes",
        "4MiB",
        "--chunk-bytes",
        "65536",
    ]);
    assert_success(&o);
    // A payment falls in its order's minute when the order is at :00-:29:
    // 1,666 whole minutes of 30, and 30 of the last 40 seconds.
    assert!(
        stderr(&o).contains("200000 records read: 200000 processed, 0 filtered, 0 late, 0 malformed; 50010 rows emitted"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn window_joins_that_cannot_run_are_refused_with_the_reason() {
    let refused = |sql: &str, fragment: &str| assert_refused(&format!("{TABLES}{sql}"), fragment);
    let (o, p) = (windowed("orders", "o"), windowed("payments", "p"));
    refused(
        &format!(
            "SELECT o.id FROM (SELECT * FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), \
             INTERVAL '1' MINUTE, INTERVAL '2' MINUTE))) o JOIN (SELECT * FROM TABLE(HOP(TABLE \
             payments, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '2' MINUTE))) p \
             {SAME_ORDER_AND_WINDOW}"
        ),
        "a window join over HOP windows is not supported yet: only TUMBLE",
    );
    refused(
        &format!(
            "SELECT o.id FROM {o} JOIN {} {SAME_ORDER_AND_WINDOW}",
            windowed("payments", "p").replace("'1' MINUTE", "'2' MINUTE")
        ),
        "both sides need the same TUMBLE size (60000 ms and 120000 ms here)",
    );
    refused(
        &format!(
            "SELECT o.id FROM {o} JOIN {p} ON o.id = p.order_id \
             AND o.window_start = p.window_start"
        ),
        "must equate the two sides' windows: add AND o.window_end = p.window_end",
    );
    refused(
        &format!("SELECT o.id FROM {o} JOIN payments p ON o.id = p.order_id"),
        "a window join needs the same window table function on both sides",
    );
    refused(
        &format!(
            "SELECT o.id FROM {o} JOIN (SELECT * FROM TABLE(TUMBLE(TABLE payments, \
             DESCRIPTOR(ts), INTERVAL '1' MINUTE)) WHERE amount > 5) p {SAME_ORDER_AND_WINDOW}"
        ),
        "a window join's side must be SELECT * FROM TABLE(TUMBLE(..))",
    );
    refused(
        &format!(
            "SELECT o.id FROM {o} JOIN {p} ON o.window_start = p.window_start \
             AND o.window_end = p.window_end"
        ),
        "needs an equality on a key",
    );
}
