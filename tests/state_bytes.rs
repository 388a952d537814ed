//! How close `PartitionEngine::state_bytes` comes to what the allocator
//! really hands out for a query's state. A counting global allocator
//! measures the bytes an engine keeps after its input and output are gone;
//! the estimate must neither miss much of it (a limit would be passed
//! unnoticed) nor overstate it much.

use corestream::data::{Batch, DataType, Field, Schema, Value};
use corestream::engine::{Output, PartitionEngine};
use corestream::plan::{plan_query, Catalog, PlanSettings, QueryPlan, TableDef};
use corestream::sql::{parse_sql, Statement};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The bytes live allocations take from the allocator: what was asked for,
/// plus glibc's 8-byte header, rounded to its 16-byte granules (at least 32).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

fn charged(size: usize) -> isize {
    ((size + 8).next_multiple_of(16).max(32)) as isize
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(charged(layout.size()), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(charged(layout.size()), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            charged(new_size) - charged(layout.size()),
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn plan(sql: &str) -> QueryPlan {
    let fields = vec![
        Field::new("key", DataType::Varchar),
        Field::new("ts", DataType::Timestamp),
        Field::new("n", DataType::BigInt),
        Field::new("s", DataType::Varchar),
    ];
    let mut catalog = Catalog::default();
    catalog.add(TableDef {
        name: "t".into(),
        schema: Schema::new(fields),
        properties: Vec::new(),
    });
    let query = match parse_sql(sql).expect("parses").remove(0) {
        Statement::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    };
    plan_query(&query, &catalog, &PlanSettings::default()).expect("plans")
}

/// Record `i`: key `k<i % keys>`, time `i` ms, `n = i`, text `s<i>`.
fn batch(records: std::ops::Range<u64>, keys: u64) -> Batch {
    let mut batch = Batch::with_capacity(4, (records.end - records.start) as usize);
    for i in records {
        let row = [
            Value::str(&format!("k{:09}", i % keys)),
            Value::Timestamp(i as i64),
            Value::Int(i as i64),
            Value::str(&format!("s{i:011}")),
        ];
        batch.push_row(&row, i);
    }
    batch
}

/// Runs `records` through a new engine for `sql` in batches; returns the
/// estimate and the bytes still allocated once input and output are dropped.
fn estimate_and_actual(sql: &str, records: u64, keys: u64) -> (usize, usize) {
    let plan = plan(sql);
    let before = LIVE.load(Ordering::Relaxed);
    let mut engine = PartitionEngine::new(&plan);
    let after_new = LIVE.load(Ordering::Relaxed);
    let mut out = Output::default();
    for start in (0..records).step_by(4096) {
        let batch = batch(start..(start + 4096).min(records), keys);
        engine.push(&batch, &mut out);
        out.rows.clear();
        out.late.clear();
    }
    drop(out);
    let actual = LIVE.load(Ordering::Relaxed) - after_new;
    assert!(after_new >= before);
    (engine.state_bytes(), actual.max(0) as usize)
}

/// One test, so that no other test allocates while one measures.
#[test]
fn the_estimate_is_within_a_third_of_what_is_allocated() {
    let scenarios = [
        (
            "SELECT key, COUNT(*) AS c, SUM(n) AS total FROM t GROUP BY key",
            300_000,
            300_000,
        ),
        (
            "SELECT key, MIN(s) AS first, MAX(s) AS last FROM t GROUP BY key",
            200_000,
            50_000,
        ),
        (
            "SELECT key, COUNT(DISTINCT s) AS d FROM t GROUP BY key",
            200_000,
            100,
        ),
        (
            "SELECT key, COUNT(*) AS c FROM t GROUP BY key \
             WINDOW SLIDING(ts, INTERVAL '100' SECOND, INTERVAL '10' SECOND)",
            60_000,
            20_000,
        ),
        (
            "SELECT key, COUNT(*) AS c FROM t GROUP BY key WINDOW SESSION(ts, INTERVAL '1' HOUR)",
            200_000,
            100_000,
        ),
        (
            "SELECT key, FIRST_VALUE(s) AS f, LAST_VALUE(s) AS l, ARG_MAX(s, n) AS a \
             FROM t GROUP BY key",
            200_000,
            50_000,
        ),
        (
            "SELECT key, COLLECT_LIST(s) AS l FROM t GROUP BY key EMIT FINAL",
            200_000,
            1_000,
        ),
        (
            "SELECT key, APPROX_COUNT_DISTINCT(s) AS d FROM t GROUP BY key",
            200_000,
            1_000,
        ),
        (
            "SELECT key, APPROX_COUNT_DISTINCT(s) AS d FROM t GROUP BY key",
            200_000,
            10_000,
        ),
        (
            "SELECT key, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY n) AS m FROM t GROUP BY key EMIT FINAL",
            200_000,
            1_000,
        ),
    ];
    for (sql, records, keys) in scenarios {
        let (estimate, actual) = estimate_and_actual(sql, records, keys);
        let ratio = estimate as f64 / actual as f64;
        println!("{sql}: estimate {estimate}, allocated {actual} ({ratio:.2})");
        assert!(
            (0.85..=1.3).contains(&ratio),
            "{sql}: estimate {estimate} bytes, allocated {actual} bytes ({ratio:.2})"
        );
    }
}
