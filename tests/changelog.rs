//! The changelog (`--changelog`, issue 9): applying it gives the EMIT FINAL
//! result at every prefix of the input, in the engine (random inputs with
//! late records, groupings and Top-Ns) and through the binary at 1 and 3
//! shards; and the shapes of its JSON, CSV and debezium-json output.

mod common;

use common::{assert_success, corestream, stderr, stdout};
use corestream::data::{Batch, DataType, Field, Schema, Value};
use corestream::engine::{Output, PartitionEngine};
use corestream::plan::{plan_query, Catalog, PlanSettings, QueryPlan, RowKind, TableDef};
use corestream::sql::{parse_sql, Statement};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A grouped query over `t (k VARCHAR, v BIGINT, ts TIMESTAMP)`, by key.
#[derive(Debug, Clone)]
struct Query {
    /// 0: none, 1: tumbling, 2: sliding, 3: session.
    window: usize,
    /// Select `window_start, window_end` (when windowed).
    window_columns: bool,
    /// 0: key, count and sum; 1: key and max (often unchanged); 2: the sum
    /// alone (no key: applying must go by whole rows).
    select: usize,
    /// 0: none; the others stop holding and hold again as groups change.
    having: usize,
}

impl Query {
    fn sql(&self, emit: &str) -> String {
        let window = [
            "",
            " WINDOW TUMBLING(ts, 10ms)",
            " WINDOW SLIDING(ts, 10ms, 5ms)",
        ];
        let window = window
            .get(self.window)
            .copied()
            .unwrap_or(" WINDOW SESSION(ts, 4ms)");
        let window_columns = match self.window > 0 && self.window_columns {
            true => "window_start, window_end, ",
            false => "",
        };
        let select = [
            "k, COUNT(*) AS n, SUM(v) AS s",
            "k, MAX(v) AS m",
            "SUM(v) AS s",
        ];
        let having = [
            "",
            " HAVING SUM(v) > 3",
            " HAVING COUNT(*) < 3",
            " HAVING MAX(v) - MIN(v) < 4",
        ];
        format!(
            "SELECT {window_columns}{} FROM t GROUP BY k{window}{} EMIT {emit}",
            select[self.select], having[self.having]
        )
    }
}

fn query() -> impl Strategy<Value = Query> {
    (0usize..4, any::<bool>(), 0usize..3, 0usize..4).prop_map(
        |(window, window_columns, select, having)| Query {
            window,
            window_columns,
            select,
            having,
        },
    )
}

/// A record: key index (3: NULL), value (`None`: NULL), event time (ms).
type Record = (u8, Option<i8>, i64);

fn record(times: std::ops::Range<i64>) -> impl Strategy<Value = Record> {
    (0u8..4, prop::option::weighted(0.9, -4i8..8), times)
}

fn key_text(k: u8) -> Option<String> {
    (k < 3).then(|| format!("{}", (b'a' + k) as char))
}

/// A whole-row multiset: each row (as text) and how many times it is there.
type Rows = BTreeMap<String, i64>;

/// Applies changelog rows (`kind`, the row without it) to an empty result:
/// `+I`/`+U` add the row, `-U`/`-D` take out a row equal to it, which must
/// be there.
fn apply(changes: impl IntoIterator<Item = (RowKind, String)>) -> Result<Rows, String> {
    let mut result = Rows::new();
    for (kind, row) in changes {
        let count = result.entry(row.clone()).or_default();
        if kind.retracts() {
            if *count == 0 {
                return Err(format!("{} of a row not in the result: {row}", kind.text()));
            }
            *count -= 1;
        } else {
            *count += 1;
        }
    }
    result.retain(|_, n| *n > 0);
    Ok(result)
}

fn multiset(rows: impl IntoIterator<Item = String>) -> Rows {
    let mut result = Rows::new();
    for row in rows {
        *result.entry(row).or_default() += 1;
    }
    result
}

// ---- In the engine: every prefix, late records, one partition ----

fn plan(sql: &str, changelog: bool, out_of_orderness: i64, lateness: i64) -> QueryPlan {
    let mut catalog = Catalog::default();
    catalog.add(TableDef {
        name: "t".into(),
        schema: Schema::new(vec![
            Field::new("k", DataType::Varchar),
            Field::new("v", DataType::BigInt),
            Field::new("ts", DataType::Timestamp),
        ]),
        properties: Vec::new(),
    });
    let query = match parse_sql(sql).expect("parses").remove(0) {
        Statement::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    };
    let settings = PlanSettings {
        max_out_of_orderness_ms: Some(out_of_orderness),
        allowed_lateness_ms: Some(lateness),
        changelog,
    };
    plan_query(&query, &catalog, &settings).expect("plans")
}

fn row_values((k, v, ts): &Record) -> [Value; 3] {
    [
        key_text(*k).map_or(Value::Null, |k| Value::str(&k)),
        v.map_or(Value::Null, |v| Value::Int(v.into())),
        Value::Timestamp(*ts),
    ]
}

fn row_text(values: &[Value]) -> String {
    format!("{values:?}")
}

/// The rows each record caused, record by record (a fresh engine per call).
fn rows_per_record(plan: &QueryPlan, records: &[Record]) -> Vec<Vec<Vec<Value>>> {
    let mut engine = PartitionEngine::new(plan);
    let mut out = Output::default();
    let mut caused = Vec::new();
    for (position, record) in records.iter().enumerate() {
        let mut batch = Batch::with_capacity(3, 1);
        batch.push_row(&row_values(record), position as u64);
        engine.push(&batch, &mut out);
        caused.push(out.rows.drain(..).map(|r| r.values).collect());
    }
    caused
}

fn emit_final(plan: &QueryPlan, records: &[Record]) -> Rows {
    let mut engine = PartitionEngine::new(plan);
    let mut out = Output::default();
    let mut batch = Batch::with_capacity(3, records.len());
    for (position, record) in records.iter().enumerate() {
        batch.push_row(&row_values(record), position as u64);
    }
    engine.push(&batch, &mut out);
    engine.finish(&mut out);
    multiset(out.rows.iter().map(|r| row_text(&r.values)))
}

/// What applying the changelog rows the first `prefix` records caused
/// (`changes`, per record) gives.
fn applied_after(changes: &[Vec<Vec<Value>>], prefix: usize) -> Result<Rows, TestCaseError> {
    let rows = changes[..prefix].iter().flatten();
    apply(rows.map(|row| (kind_of(row), row_text(&row[1..])))).map_err(TestCaseError::fail)
}

fn kind_of(row: &[Value]) -> RowKind {
    let kind = row.first().and_then(Value::as_str).and_then(RowKind::parse);
    kind.unwrap_or_else(|| panic!("no row kind first in {row:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// For every prefix of the input, applying the changelog rows its
    /// records caused gives the EMIT FINAL result of that prefix; without
    /// the changelog, EMIT CHANGES emits exactly its new rows (`+I`, `+U`);
    /// and no update leaves its row as it was.
    #[test]
    fn applying_the_changelog_gives_emit_final_at_every_prefix(
        query in query(),
        records in prop::collection::vec(record(0..60), 0..40),
        out_of_orderness in prop::sample::select(vec![0i64, 5, 30]),
        lateness in prop::sample::select(vec![0i64, 5]),
    ) {
        let changes = plan(&query.sql("CHANGES"), true, out_of_orderness, lateness);
        let plain = plan(&query.sql("CHANGES"), false, out_of_orderness, lateness);
        let finals = plan(&query.sql("FINAL"), false, out_of_orderness, lateness);
        let changelog = rows_per_record(&changes, &records);
        let new_rows = rows_per_record(&plain, &records);
        for (caused, plain_rows) in changelog.iter().zip(&new_rows) {
            let added: Vec<&[Value]> = caused
                .iter()
                .filter(|row| !kind_of(row).retracts())
                .map(|row| &row[1..])
                .collect();
            let plain_rows: Vec<&[Value]> = plain_rows.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(added, plain_rows);
            for pair in caused.windows(2) {
                let update = (kind_of(&pair[0]), kind_of(&pair[1]));
                if update == (RowKind::UpdateBefore, RowKind::UpdateAfter) {
                    prop_assert_ne!(&pair[0][1..], &pair[1][1..]);
                }
            }
        }
        for prefix in 0..=records.len() {
            let applied = applied_after(&changelog, prefix)?;
            prop_assert_eq!(
                &applied,
                &emit_final(&finals, &records[..prefix]),
                "{} after {} records",
                query.sql("CHANGES"),
                prefix
            );
        }
    }
}

// ---- Top-N in the engine: every prefix, against a reference ----

/// A Top-N over `t`: ROW_NUMBER by `v` (and maybe `ts`), bounded by `limit`.
#[derive(Debug, Clone)]
struct TopN {
    partitioned: bool,
    /// 0: v DESC; 1: v; 2: v NULLS FIRST; 3: v DESC, ts DESC.
    order: usize,
    limit: usize,
    /// Select the row number (every rank after an entering row changes).
    ranked: bool,
    /// A condition on `v` after ranking.
    positive_only: bool,
}

impl TopN {
    fn sql(&self, emit: &str) -> String {
        let partition = if self.partitioned {
            "PARTITION BY k "
        } else {
            ""
        };
        let order = ["v DESC", "v", "v NULLS FIRST", "v DESC, ts DESC"][self.order];
        let select = if self.ranked { "k, v, ts, rn" } else { "k, v" };
        let residual = if self.positive_only { " AND v > 0" } else { "" };
        format!(
            "SELECT {select} FROM (SELECT *, ROW_NUMBER() OVER ({partition}ORDER BY {order}) \
             AS rn FROM t) WHERE rn <= {}{residual} EMIT {emit}",
            self.limit
        )
    }

    /// The rows the query's result holds after `records`, computed plainly:
    /// each partition's records sorted (stably, so ties keep input order),
    /// the first `limit`, those the condition admits, projected.
    fn reference(&self, records: &[Record]) -> Rows {
        let mut partitions: BTreeMap<Option<u8>, Vec<&Record>> = BTreeMap::new();
        for record in records {
            let key = self.partitioned.then_some(record.0.min(3));
            partitions.entry(key).or_default().push(record);
        }
        let v_key = |r: &&Record, nulls_first: bool| match (r.1, nulls_first) {
            (None, true) => (0, 0),
            (None, false) => (2, 0),
            (Some(v), _) => (1, i32::from(v)),
        };
        let mut rows = Vec::new();
        for (_, mut members) in partitions {
            match self.order {
                0 => members.sort_by_key(|r| std::cmp::Reverse(v_key(r, true))),
                1 => members.sort_by_key(|r| v_key(r, false)),
                2 => members.sort_by_key(|r| v_key(r, true)),
                _ => members.sort_by_key(|r| std::cmp::Reverse((v_key(r, true), r.2))),
            }
            for (rank, record) in members.into_iter().take(self.limit).enumerate() {
                if self.positive_only && record.1.is_none_or(|v| v <= 0) {
                    continue;
                }
                let [k, v, ts] = row_values(record);
                let row = match self.ranked {
                    true => vec![k, v, ts, Value::Int(rank as i64 + 1)],
                    false => vec![k, v],
                };
                rows.push(row_text(&row));
            }
        }
        multiset(rows)
    }
}

fn top_n() -> impl Strategy<Value = TopN> {
    (
        any::<bool>(),
        0usize..4,
        1usize..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(partitioned, order, limit, ranked, positive_only)| TopN {
            partitioned,
            order,
            limit,
            ranked,
            positive_only,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// For every prefix of the input, applying a Top-N's changelog gives
    /// its EMIT FINAL result, and both are what sorting each partition
    /// gives; an output without the row number changes by `+I` and `-D`.
    #[test]
    fn applying_a_top_n_changelog_gives_the_top_rows_at_every_prefix(
        query in top_n(),
        records in prop::collection::vec(record(0..20), 0..40),
    ) {
        let changes = plan(&query.sql("CHANGES"), true, 0, 0);
        let finals = plan(&query.sql("FINAL"), false, 0, 0);
        let changelog = rows_per_record(&changes, &records);
        for row in changelog.iter().flatten() {
            let kind = kind_of(row);
            let unranked_kinds = [RowKind::Insert, RowKind::Delete];
            prop_assert!(query.ranked || unranked_kinds.contains(&kind), "{:?}", row);
        }
        for prefix in 0..=records.len() {
            let applied = applied_after(&changelog, prefix)?;
            let reference = query.reference(&records[..prefix]);
            prop_assert_eq!(&applied, &reference, "{} after {} records", query.sql("CHANGES"), prefix);
            prop_assert_eq!(&emit_final(&finals, &records[..prefix]), &reference);
        }
    }
}

// ---- Through the binary: 1 and 3 shards ----

const DDL: &str = "CREATE TABLE t (k VARCHAR, v BIGINT, ts TIMESTAMP) WITH ('format' = 'csv');";

/// Event times at most this far out of order, and the watermark delay that
/// lets them in, so no record is late at any shard count.
const JITTER_MS: i64 = 8;

/// `records` as CSV, each event time `ts` moved back by up to `JITTER_MS`
/// from a clock that only moves forward by the record's `ts` (0..6 ms).
fn write_csv(records: &[Record], jitters: &[i64], path: &Path) {
    let mut file = std::fs::File::create(path).expect("create");
    writeln!(file, "k,v,ts").expect("write");
    let mut clock = 1_000;
    for ((k, v, step), jitter) in records.iter().zip(jitters.iter().cycle()) {
        clock += step;
        let k = key_text(*k).unwrap_or_default();
        let v = v.map(|v| v.to_string()).unwrap_or_default();
        writeln!(file, "{k},{v},{}", clock - jitter).expect("write");
    }
}

fn run_query(sql: &str, input: &Path, shards: usize, extra: &[&str]) -> String {
    let o = corestream()
        .args(["run", "-q", "-e", &format!("{DDL} {sql}"), "--source"])
        .arg(format!("t={}", input.display()))
        .args(["--shards", &shards.to_string(), "--chunk-bytes", "40"])
        .args(["--max-out-of-orderness", &format!("{JITTER_MS}ms")])
        .args(extra)
        .output()
        .expect("run corestream");
    assert!(o.status.success(), "{sql}: {}", stderr(&o));
    stdout(&o)
}

/// A JSON line without its `op`, and the row kind that was there.
fn json_change(line: &str) -> (RowKind, String) {
    let mut row: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let op = row.remove("op");
    let kind = op
        .as_ref()
        .and_then(|op| op.as_str())
        .and_then(RowKind::parse);
    let kind = kind.unwrap_or_else(|| panic!("no row kind in {line}"));
    (kind, serde_json::Value::Object(row).to_string())
}

fn json_row(line: &str) -> String {
    let row: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    row.to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    /// At a few prefixes of a random input (the whole of it included), the
    /// changelog is the same at 1 and 3 shards, and applying it gives the
    /// EMIT FINAL result.
    #[test]
    fn at_1_and_3_shards_applying_the_changelog_gives_emit_final(
        query in query(),
        records in prop::collection::vec(record(0..6), 1..40),
        jitters in prop::collection::vec(0..=JITTER_MS, 1..8),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 2),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut prefixes: Vec<usize> = cuts.iter().map(|c| c.index(records.len())).collect();
        prefixes.push(records.len());
        for prefix in prefixes {
            let input = dir.path().join(format!("t{prefix}.csv"));
            write_csv(&records[..prefix], &jitters, &input);
            let changes = query.sql("CHANGES");
            let one = run_query(&changes, &input, 1, &["--changelog"]);
            let three = run_query(&changes, &input, 3, &["--changelog"]);
            prop_assert_eq!(&one, &three, "{} differs at 3 shards", changes);
            let applied = apply(one.lines().map(json_change)).map_err(TestCaseError::fail)?;
            let finals = run_query(&query.sql("FINAL"), &input, 1, &[]);
            prop_assert_eq!(
                applied,
                multiset(finals.lines().map(json_row)),
                "{} after {} records",
                changes,
                prefix
            );
        }
    }
}

// ---- The shapes of the output ----

/// Four trades: `a` counts 1, 2, then b, then a HAVING-dropping value.
fn shapes_input(dir: &Path) -> String {
    let path = dir.join("t.csv");
    std::fs::write(&path, "k,v,ts\na,1,1\na,1,2\nb,5,3\na,-4,4\n").expect("write");
    format!("t={}", path.display())
}

const SUMS: &str = "SELECT k, SUM(v) AS s FROM t GROUP BY k HAVING SUM(v) > 0";

fn run_shape(sql: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = shapes_input(dir.path());
    let o = corestream()
        .args([
            "run",
            "-q",
            "-e",
            &format!("{DDL} {sql}"),
            "--source",
            &source,
        ])
        .args(args)
        .output()
        .expect("run corestream");
    assert_success(&o);
    stdout(&o)
}

#[test]
fn json_changelog_has_an_op_first() {
    assert_eq!(
        run_shape(SUMS, &["--changelog"]),
        concat!(
            "{\"op\":\"+I\",\"k\":\"a\",\"s\":1}\n",
            "{\"op\":\"-U\",\"k\":\"a\",\"s\":1}\n",
            "{\"op\":\"+U\",\"k\":\"a\",\"s\":2}\n",
            "{\"op\":\"+I\",\"k\":\"b\",\"s\":5}\n",
            "{\"op\":\"-D\",\"k\":\"a\",\"s\":2}\n",
        )
    );
}

#[test]
fn csv_changelog_has_an_op_column_first() {
    assert_eq!(
        run_shape(SUMS, &["--changelog", "--format", "csv"]),
        "op,k,s\n+I,a,1\n-U,a,1\n+U,a,2\n+I,b,5\n-D,a,2\n"
    );
}

#[test]
fn debezium_json_is_a_changelog_in_before_after_envelopes() {
    let stream = format!("CREATE STREAM out WITH ('output.format' = 'debezium-json') AS {SUMS}");
    let by_key = run_shape(&stream, &[]);
    let by_flag = run_shape(SUMS, &["--format", "debezium-json"]);
    assert_eq!(by_key, by_flag);
    assert_eq!(
        by_flag,
        concat!(
            "{\"before\":null,\"after\":{\"k\":\"a\",\"s\":1},\"op\":\"c\"}\n",
            "{\"before\":{\"k\":\"a\",\"s\":1},\"after\":null,\"op\":\"d\"}\n",
            "{\"before\":null,\"after\":{\"k\":\"a\",\"s\":2},\"op\":\"c\"}\n",
            "{\"before\":null,\"after\":{\"k\":\"b\",\"s\":5},\"op\":\"c\"}\n",
            "{\"before\":{\"k\":\"a\",\"s\":2},\"after\":null,\"op\":\"d\"}\n",
        )
    );
}

#[test]
fn the_with_key_asks_for_the_changelog_and_emit_final_rows_are_inserts() {
    let stream = "CREATE STREAM out WITH ('changelog.mode' = 'retract') AS";
    let sql = format!(
        "{stream} SELECT k, window_start, COUNT(*) AS n FROM t GROUP BY k \
         WINDOW TUMBLING(ts, 2ms) EMIT FINAL"
    );
    assert_eq!(
        run_shape(&sql, &["--format", "csv"]),
        "op,k,window_start,n\n\
         +I,a,1970-01-01T00:00:00.000Z,1\n\
         +I,a,1970-01-01T00:00:00.002Z,1\n\
         +I,b,1970-01-01T00:00:00.002Z,1\n\
         +I,a,1970-01-01T00:00:00.004Z,1\n"
    );
}

#[test]
fn rows_of_a_query_without_group_by_are_inserts() {
    assert_eq!(
        run_shape(
            "SELECT k, v FROM t WHERE v > 0",
            &["--changelog", "--format", "csv"]
        ),
        "op,k,v\n+I,a,1\n+I,a,1\n+I,b,5\n"
    );
}

#[test]
fn emit_changes_skips_rows_that_did_not_change() {
    let sql = "SELECT k, MAX(v) AS m FROM t GROUP BY k EMIT CHANGES";
    assert_eq!(
        run_shape(sql, &[]),
        "{\"k\":\"a\",\"m\":1}\n{\"k\":\"b\",\"m\":5}\n"
    );
}

#[test]
fn changelog_mistakes_are_usage_errors_naming_the_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = shapes_input(dir.path());
    let cases: [(&str, &[&str], &str); 2] = [
        (
            "CREATE STREAM out WITH ('changelog.mode' = 'upsert') AS SELECT k FROM t",
            &[],
            "'changelog.mode': unknown changelog mode 'upsert'",
        ),
        (
            "SELECT k AS op, COUNT(*) FROM t GROUP BY k",
            &[],
            "output column `op`",
        ),
    ];
    for (sql, args, message) in cases {
        let o = corestream()
            .args(["run", "-q", "--changelog", "-e", &format!("{DDL} {sql}")])
            .args(["--source", &source])
            .args(args)
            .output()
            .expect("run corestream");
        assert_eq!(o.status.code(), Some(2), "{sql}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{sql}: {}", stderr(&o));
    }
}

/// The example of docs/sql.md's Changelog section, and what it shows.
#[test]
fn the_documented_example_writes_what_the_docs_show() {
    let docs = std::fs::read_to_string("docs/sql.md").expect("docs/sql.md");
    let sql = "SELECT symbol, COUNT(*) AS n, SUM(qty) AS volume FROM trades\n  \
               GROUP BY symbol HAVING SUM(qty) < 40";
    assert!(docs.contains(sql), "the example's SQL is not in the docs");
    for (format, rows) in [("csv", 11), ("debezium-json", 4)] {
        let o = corestream()
            .args([
                "run",
                "-q",
                "-e",
                sql,
                "--source",
                "trades=tests/data/trades.csv",
            ])
            .args(["--changelog", "--format", format])
            .output()
            .expect("run corestream");
        assert_success(&o);
        let shown: String = stdout(&o).split_inclusive('\n').take(rows).collect();
        assert!(docs.contains(&shown), "the docs do not show\n{shown}");
    }
}

#[test]
fn explain_shows_the_changelog_and_its_op_column() {
    let o = corestream()
        .args([
            "explain",
            "--changelog",
            "-e",
            "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol",
        ])
        .args(["--source", "trades=tests/data/trades.csv"])
        .output()
        .expect("run corestream");
    assert_success(&o);
    let text = stdout(&o);
    assert!(text.contains("EMIT CHANGES as a changelog"), "{text}");
    assert!(
        text.contains("Output: op VARCHAR, symbol VARCHAR, n BIGINT"),
        "{text}"
    );
}
