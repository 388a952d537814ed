//! Property: for any small input without late records, the output is the
//! same byte for byte at 1, 2, 3 and 4 shards, on both executor backends,
//! whatever the chunk size (random CSV inputs with malformed lines); with
//! late records, so are the dead letters and counts, at any one chunk size
//! (the watermark moves at chunk ends).

mod common;

use common::{corestream, stderr};
use proptest::prelude::*;
use std::io::Write;

/// One input line: a trade (symbol index, quantity, milliseconds since the
/// previous trade), or a malformed line.
#[derive(Debug, Clone)]
enum Line {
    Trade(u8, u16, i32),
    Malformed,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        12 => (0u8..6, 0u16..200, 0i32..1500).prop_map(|(s, q, dt)| Line::Trade(s, q, dt)),
        1 => Just(Line::Malformed),
    ]
}

/// A trade whose time may go back up to 2.5 s: a record late by the
/// watermark of the chunks before its own.
fn line_out_of_order() -> impl Strategy<Value = Line> {
    (
        0u8..4,
        0u16..200,
        prop_oneof![15 => 0i32..100, 1 => -2500i32..0],
    )
        .prop_map(|(s, q, dt)| Line::Trade(s, q, dt))
}

fn write_csv(lines: &[Line]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .expect("temp file");
    let mut ts: i64 = 1_767_225_600_000;
    writeln!(file, "symbol,price,qty,ts").expect("write");
    for line in lines {
        match line {
            Line::Trade(symbol, qty, dt) => {
                ts += i64::from(*dt);
                // Most prices are not exact in binary: sums of them round.
                let price = f64::from(*qty) * 0.1 + 0.3;
                writeln!(file, "S{symbol},{price},{qty},{ts}").expect("write");
            }
            Line::Malformed => writeln!(file, "S0,not-a-price,1,{ts}").expect("write"),
        }
    }
    file.flush().expect("flush");
    file
}

/// The schema is declared, so that an input with no trades (empty, or only
/// malformed lines) reads as the same types as any other.
const DDL: &str = "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
     WITH ('format' = 'csv');";

/// The last two pre-aggregate at 2 shards and more (each shard folds its
/// chunk's rows per key and sends the states); chunks whose keys barely
/// repeat send rows instead, so small chunks mix both.
const QUERIES: [&str; 5] = [
    "SELECT symbol, qty FROM trades WHERE qty > 50",
    "SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS q FROM trades \
     GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '2' SECOND) EMIT FINAL",
    "SELECT symbol, COUNT(*) AS n, MAX(price) AS high FROM trades GROUP BY symbol EMIT CHANGES",
    "SELECT symbol, COUNT(*) AS n, SUM(qty) AS q, AVG(price) AS p, MIN(price) AS low, \
     MAX(ts) AS last FROM trades WHERE qty > 20 GROUP BY symbol HAVING COUNT(*) > 1 EMIT FINAL",
    "SELECT COUNT(*) AS n, SUM(price) AS s, MIN(symbol) AS first FROM trades EMIT FINAL",
];

/// A run of `sql` over `file` at `shards` shards of `backend`, in chunks of
/// `chunk` bytes.
fn command(
    sql: &str,
    file: &std::path::Path,
    shards: usize,
    backend: &str,
    chunk: u64,
) -> std::process::Command {
    let mut command = corestream();
    command
        .args(["run", "-e", &format!("{DDL} {sql}"), "--source"])
        .arg(format!("trades={}", file.display()))
        .args(["--shards", &shards.to_string(), "--runtime", backend])
        .args(["--chunk-bytes", &chunk.to_string(), "--batch-rows", "7"]);
    command
}

fn output(sql: &str, file: &std::path::Path, shards: usize, backend: &str, chunk: u64) -> Vec<u8> {
    let o = command(sql, file, shards, backend, chunk)
        .arg("-q")
        .output()
        .expect("run corestream");
    assert!(o.status.success(), "{}", stderr(&o));
    o.stdout
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn output_is_the_same_at_every_shard_count(
        lines in prop::collection::vec(line(), 0..120),
        chunk in 1u64..400,
    ) {
        let file = write_csv(&lines);
        for sql in QUERIES {
            let one = output(sql, file.path(), 1, "glommio", 1 << 20);
            for (shards, backend) in [(2, "glommio"), (3, "threads"), (4, "glommio"), (4, "threads")] {
                let many = output(sql, file.path(), shards, backend, chunk);
                prop_assert!(one == many, "{sql}: {shards} {backend} shards, {chunk}-byte chunks differ");
            }
        }
    }
}

/// Windowed groupings over out-of-order input; the last two are
/// pre-aggregated at 2 shards and more (few groups per row), and fall back
/// to rows for a chunk that reaches behind the watermark.
const LATE_QUERIES: [&str; 4] = [
    "SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS q FROM trades \
     GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' SECOND) EMIT FINAL",
    "SELECT symbol, window_start, COUNT(*) AS n FROM trades \
     GROUP BY symbol, TUMBLE(ts, INTERVAL '1' SECOND) EMIT CHANGES",
    "SELECT window_start, COUNT(*) AS n, SUM(price) AS s, MAX(qty) AS q FROM trades \
     GROUP BY TUMBLE(ts, INTERVAL '2' SECOND)",
    "SELECT window_start, window_end, COUNT(*) AS n, MIN(price) AS low FROM trades \
     GROUP BY HOP(ts, INTERVAL '500' MILLISECOND, INTERVAL '2' SECOND)",
];

/// The output, the dead-letter file and the summary's counts of a run.
fn output_with_late(
    sql: &str,
    file: &std::path::Path,
    shards: usize,
    backend: &str,
    chunk: u64,
) -> (Vec<u8>, String, String) {
    let dead = tempfile::NamedTempFile::new().expect("temp file");
    let o = command(sql, file, shards, backend, chunk)
        .arg("--dead-letter")
        .arg(dead.path())
        .output()
        .expect("run corestream");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let counts = err.lines().next().unwrap_or_default().to_string();
    let dead = std::fs::read_to_string(dead.path()).expect("dead letters");
    (o.stdout, dead, counts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    /// The watermark moves at chunk ends only, so which records are late
    /// (and so the output) does not depend on which shard saw what.
    #[test]
    fn late_records_are_the_same_at_every_shard_count(
        lines in prop::collection::vec(line_out_of_order(), 0..200),
        chunk in 100u64..2000,
    ) {
        let file = write_csv(&lines);
        for sql in LATE_QUERIES {
            let one = output_with_late(sql, file.path(), 1, "glommio", chunk);
            for (shards, backend) in [(2, "glommio"), (3, "threads"), (4, "glommio")] {
                let many = output_with_late(sql, file.path(), shards, backend, chunk);
                prop_assert!(one == many, "{sql}: {shards} {backend} shards, {chunk}-byte chunks differ:\n{one:?}\n{many:?}");
            }
        }
    }
}
