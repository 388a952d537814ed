//! The grouped operator against a plain reference kept here: random rows
//! with NULLs, NaN, huge integers and strings, grouped by one key with the
//! common aggregates (batched in one loop per call) and the rest (DISTINCT,
//! FILTER: row by row), fed in batches of 1, 7 and 1024 rows. Every result
//! must equal what the reference computes row by row in input order. With
//! tumbling and sliding windows over out-of-order times, batches of 1, 7
//! and 1024 rows must give what the engine's row-at-a-time path gives: the
//! same rows in the same order, the same late records, the same counters.

use super::exact_sum::correctly_rounded_sum;
use super::test_plans::*;
use super::*;
use crate::data::{Batch, DataType, Value};
use crate::plan::{AggregateCall, AggregateFunction::*, BinaryOp, EmitMode, QueryPlan, WindowKind};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const INT: DataType = DataType::BigInt;
const DBL: DataType = DataType::Double;
const TEXT: DataType = DataType::Varchar;
/// Source rows: (key, a BIGINT, b DOUBLE, s VARCHAR).
const TYPES: [DataType; 4] = [TEXT, INT, DBL, TEXT];

type Row = (Option<u8>, Option<i64>, Option<f64>, Option<u8>);

fn value_row(&(key, a, b, s): &Row) -> [Value; 4] {
    let text = |t: Option<u8>, prefix: &str| {
        t.map_or(Value::Null, |i| Value::str(&format!("{prefix}{i}")))
    };
    [
        text(key, "k"),
        a.map_or(Value::Null, Value::Int),
        b.map_or(Value::Null, Value::Double),
        text(s, "s"),
    ]
}

fn calls() -> Vec<AggregateCall> {
    let mut distinct = agg(Count, Some(col(1, INT)), INT);
    distinct.distinct = true;
    let mut filtered = agg(Sum, Some(col(1, INT)), INT);
    let positive = bin(
        BinaryOp::Gt,
        col(2, DBL),
        lit(Value::Double(0.0)),
        DataType::Boolean,
    );
    filtered.filter = Some(positive);
    vec![
        agg(Count, None, INT),
        agg(Count, Some(col(1, INT)), INT),
        agg(Sum, Some(col(1, INT)), INT),
        agg(Avg, Some(col(1, INT)), DBL),
        agg(Sum, Some(col(2, DBL)), DBL),
        agg(Avg, Some(col(2, DBL)), DBL),
        agg(Min, Some(col(2, DBL)), DBL),
        agg(Max, Some(col(3, TEXT)), TEXT),
        distinct,
        filtered,
    ]
}

/// What each call gives for one group's rows, computed plainly.
fn reference(rows: &[&Row]) -> Vec<Value> {
    let ints: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    let doubles: Vec<f64> = rows.iter().filter_map(|r| r.2).collect();
    let int_sum = |xs: &[i64]| match xs.is_empty() {
        true => Value::Null,
        false => i64::try_from(xs.iter().map(|&x| x as i128).sum::<i128>())
            .map_or(Value::Null, Value::Int),
    };
    let average = |sum: f64, n: usize| match n {
        0 => Value::Null,
        n => Value::Double(sum / n as f64),
    };
    // SUM over DOUBLE is exact, rounded once (NaN if any input is NaN).
    let double_sum = match doubles.iter().any(|x| x.is_nan()) {
        true => f64::NAN,
        false => correctly_rounded_sum(&doubles),
    };
    // NaN is greater than every number.
    let min = doubles
        .iter()
        .copied()
        .reduce(|m, x| if x < m || m.is_nan() { x } else { m });
    let max_text = rows
        .iter()
        .filter_map(|r| r.3)
        .map(|i| format!("s{i}"))
        .max();
    let filtered: Vec<i64> = rows
        .iter()
        // NaN is greater than every number, so it passes `b > 0`.
        .filter(|r| r.2.is_some_and(|b| b.is_nan() || b > 0.0))
        .filter_map(|r| r.1)
        .collect();
    vec![
        Value::Int(rows.len() as i64),
        Value::Int(ints.len() as i64),
        int_sum(&ints),
        average(
            ints.iter().map(|&x| x as i128).sum::<i128>() as f64,
            ints.len(),
        ),
        match doubles.is_empty() {
            true => Value::Null,
            false => Value::Double(double_sum),
        },
        average(double_sum, doubles.len()),
        min.map_or(Value::Null, Value::Double),
        max_text.map_or(Value::Null, |s| Value::str(&s)),
        Value::Int(ints.iter().collect::<BTreeSet<_>>().len() as i64),
        int_sum(&filtered),
    ]
}

fn expected(rows: &[Row]) -> Vec<Vec<Value>> {
    let mut groups: BTreeMap<Value, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        groups
            .entry(value_row(row)[0].clone())
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|(key, rows)| std::iter::once(key).chain(reference(&rows)).collect())
        .collect()
}

fn engine_output(rows: &[Row], batch_size: usize) -> Vec<Vec<Value>> {
    let plan = GroupedPlan::new(&TYPES, vec![col(0, TEXT)], calls()).build();
    let (rows, _, _) = run(&plan, rows, batch_size);
    rows.into_iter().map(|r| r.values).collect()
}

/// Output rows, late records (position, event time) and counters of
/// `plan` over `rows` fed in batches of `batch_size`.
fn run(
    plan: &QueryPlan,
    rows: &[Row],
    batch_size: usize,
) -> (Vec<OutputRow>, Vec<(u64, i64)>, EngineStats) {
    run_with(plan, rows, batch_size, PartitionEngine::push)
}

type Push = fn(&mut PartitionEngine, &Batch, &mut Output);

fn run_with(
    plan: &QueryPlan,
    rows: &[Row],
    batch_size: usize,
    push: Push,
) -> (Vec<OutputRow>, Vec<(u64, i64)>, EngineStats) {
    let mut engine = PartitionEngine::new(plan);
    let mut out = Output::default();
    for (n, chunk) in rows.chunks(batch_size).enumerate() {
        let mut batch = Batch::new(TYPES.len());
        for (i, row) in chunk.iter().enumerate() {
            batch.push_row(&value_row(row), (n * batch_size + i) as u64);
        }
        push(&mut engine, &batch, &mut out);
    }
    engine.finish(&mut out);
    let late = out
        .late
        .iter()
        .map(|l| (l.position, l.event_time))
        .collect();
    (out.rows, late, engine.stats())
}

/// Windows over column `a` (BIGINT epoch ms), 5 ms out of order, 3 ms late.
fn windowed(kind: WindowKind) -> QueryPlan {
    GroupedPlan::new(&TYPES, vec![col(0, TEXT)], calls())
        .window(kind, 1)
        .time(5, 3)
        .build()
}

fn row() -> impl Strategy<Value = Row> {
    let big = prop_oneof![
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        2 => -1000i64..1000,
        8 => 0i64..40,
    ];
    let double = prop_oneof![Just(f64::NAN), Just(-0.0), -100.0f64..100.0];
    (
        proptest::option::weighted(0.9, 0u8..6),
        proptest::option::weighted(0.8, big),
        proptest::option::weighted(0.8, double),
        proptest::option::weighted(0.8, 0u8..20),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn batched_groups_equal_the_reference_at_every_batch_size(
        rows in proptest::collection::vec(row(), 0..300)
    ) {
        let want = expected(&rows);
        for batch_size in [1, 7, 1024] {
            let got = engine_output(&rows, batch_size);
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                // Value's equality holds NaN equal to NaN and -0.0 to 0.0;
                // the bits must match too.
                let bits = |v: &Vec<Value>| format!("{v:?}");
                prop_assert_eq!(bits(g), bits(w), "batch size {}", batch_size);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn windowed_batches_close_and_reject_as_rows_one_by_one(
        rows in proptest::collection::vec(row(), 0..300)
    ) {
        let kinds = [
            WindowKind::Tumbling { size_ms: 10 },
            WindowKind::Sliding { size_ms: 20, advance_ms: 10 },
        ];
        for kind in kinds {
            let plan = windowed(kind);
            let (one, late, stats) = run_with(&plan, &rows, 1024, PartitionEngine::push_row_by_row);
            for batch_size in [1, 7, 1024] {
                let (rows_out, late_out, stats_out) = run(&plan, &rows, batch_size);
                prop_assert_eq!(format!("{:?}", &rows_out), format!("{:?}", &one));
                prop_assert_eq!(&late_out, &late);
                prop_assert_eq!(stats_out, stats);
            }
        }
    }
}

/// Every call of [`calls`] whose state merges exactly (all but DISTINCT).
fn mergeable_plan() -> QueryPlan {
    let calls = calls().into_iter().filter(|c| !c.distinct).collect();
    GroupedPlan::new(&TYPES, vec![col(0, TEXT)], calls).build()
}

fn batch_of(rows: &[Row], first_position: usize) -> Batch {
    let mut batch = Batch::new(TYPES.len());
    for (i, row) in rows.iter().enumerate() {
        batch.push_row(&value_row(row), (first_position + i) as u64);
    }
    batch
}

/// What shards that pre-aggregate write: each chunk of `chunk_rows` rows is
/// pre-aggregated and its partial groups merged by their owners, in chunk
/// order, or (once pre-aggregating stops being worthwhile) routed as rows.
/// The owners' final rows in key order, and the counters of all of them.
fn pre_aggregated(rows: &[Row], chunk_rows: usize, partitions: usize) -> (Vec<String>, u64) {
    let plan = mergeable_plan();
    let mut pre = PreAggregator::for_plan(&plan, partitions).expect("calls merge exactly");
    let mut owners: Vec<PartitionEngine> = (0..partitions)
        .map(|p| PartitionEngine::for_partition(&plan, p))
        .collect();
    let mut router = KeyRouter::new(&plan);
    let mut out = Output::default();
    for (n, chunk) in rows.chunks(chunk_rows).enumerate() {
        let batch = batch_of(chunk, n * chunk_rows);
        if pre.worthwhile() {
            pre.push(&batch);
            for (owner, partial) in pre.take_partials().into_iter().enumerate() {
                if let Some(partial) = partial {
                    owners[owner].merge_partial(&partial);
                }
            }
            continue;
        }
        let mut routed: Vec<Batch> = (0..partitions).map(|_| Batch::new(TYPES.len())).collect();
        for (row, position) in batch.rows() {
            routed[router.partition_of(row, partitions)].push_row(row, position);
        }
        for (owner, batch) in owners.iter_mut().zip(&routed) {
            owner.push(batch, &mut out);
        }
    }
    for owner in &mut owners {
        owner.finish(&mut out);
    }
    out.rows.sort_by(|a, b| a.order.cmp(&b.order));
    let processed = owners.iter().map(|o| o.stats().processed).sum::<u64>() + pre.stats().processed;
    let rows = out.rows.iter().map(|r| format!("{:?}", r.values)).collect();
    (rows, processed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pre_aggregated_chunks_merged_by_their_owners_equal_one_pass(
        rows in proptest::collection::vec(row(), 0..300),
        chunk_rows in 1usize..80,
        partitions in 2usize..5,
    ) {
        let (one_pass, _, stats) = run(&mergeable_plan(), &rows, 1024);
        let one_pass: Vec<String> = one_pass.iter().map(|r| format!("{:?}", r.values)).collect();
        let (merged, processed) = pre_aggregated(&rows, chunk_rows, partitions);
        prop_assert_eq!(merged, one_pass);
        prop_assert_eq!(processed, stats.processed);
    }
}

/// A windowed EMIT FINAL grouping of every call that merges exactly, its
/// watermark moved only at chunk ends, as the runtime moves it.
fn mergeable_windowed(kind: WindowKind) -> QueryPlan {
    let calls = calls().into_iter().filter(|c| !c.distinct).collect();
    let mut plan = GroupedPlan::new(&TYPES, vec![col(0, TEXT)], calls)
        .window(kind, 1)
        .time(5, 3)
        .emit(EmitMode::Final)
        .build();
    plan.time.aligned_only = true;
    plan
}

/// What the final rows, late records and counters of a windowed run are.
type Written = (Vec<String>, Vec<(u64, i64)>, EngineStats);

/// What `partitions` shards write for `plan` over `rows` read in chunks of
/// `chunk_rows`, as the runtime runs them: each chunk pre-aggregated (when
/// `pre_aggregate`) unless it might hold a record late by the watermark it
/// began with, then routed as rows; the watermark moved at every chunk's
/// end to the largest event time so far less the out-of-orderness.
fn chunked(
    plan: &QueryPlan,
    rows: &[Row],
    chunk_rows: usize,
    partitions: usize,
    pre_aggregate: bool,
) -> Written {
    let mut pre = pre_aggregate.then(|| PreAggregator::for_plan(plan, partitions).expect("merges"));
    let mut owners: Vec<PartitionEngine> = (0..partitions)
        .map(|p| PartitionEngine::for_partition(plan, p))
        .collect();
    let mut router = KeyRouter::new(plan);
    let mut out = Output::default();
    let (mut latest, mut watermark) = (None, None);
    for (n, chunk) in rows.chunks(chunk_rows).enumerate() {
        let batch = batch_of(chunk, n * chunk_rows);
        let mut partials = None;
        if let Some(pre) = pre.as_mut().filter(|pre| pre.worthwhile()) {
            latest = latest.max(pre.push(&batch));
            match pre.late_at(watermark) {
                true => pre.abandon_for_rows(),
                false => partials = Some(pre.take_partials()),
            }
        } else {
            latest = latest.max(batch.rows().filter_map(|(r, _)| event_time(plan, r)).max());
        }
        match partials {
            Some(partials) => {
                for (owner, partial) in partials.into_iter().enumerate() {
                    if let Some(partial) = partial {
                        owners[owner].merge_partial(&partial);
                    }
                }
            }
            None => {
                let mut routed: Vec<Batch> =
                    (0..partitions).map(|_| Batch::new(TYPES.len())).collect();
                for (row, position) in batch.rows() {
                    routed[router.partition_of(row, partitions)].push_row(row, position);
                }
                for (owner, batch) in owners.iter_mut().zip(&routed) {
                    owner.push(batch, &mut out);
                }
            }
        }
        watermark = latest.map(|t: i64| t.saturating_sub(plan.time.max_out_of_orderness_ms));
        for owner in owners.iter_mut() {
            owner.advance_watermark(watermark.unwrap_or(i64::MIN), &mut out);
        }
    }
    for owner in &mut owners {
        owner.finish(&mut out);
    }
    out.rows.sort_by(|a, b| a.order.cmp(&b.order));
    let written = out.rows.iter().map(|r| format!("{:?}", r.values)).collect();
    let mut late: Vec<(u64, i64)> = out
        .late
        .iter()
        .map(|l| (l.position, l.event_time))
        .collect();
    late.sort_unstable();
    let mut stats = pre
        .as_ref()
        .map_or_else(EngineStats::default, PreAggregator::stats);
    for owner in &owners {
        let s = owner.stats();
        stats.records_in += s.records_in;
        stats.processed += s.processed;
        stats.filtered += s.filtered;
        stats.late += s.late;
        stats.rows_emitted += s.rows_emitted;
    }
    (written, late, stats)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Windowed pre-aggregation writes what one shard routing every row
    /// writes: the same rows, the same late records, the same counters,
    /// with out-of-order and far-off event times (late chunks fall back to
    /// rows), NULL times, and sliding windows with gaps.
    #[test]
    fn windowed_pre_aggregation_equals_one_shard_of_rows(
        rows in proptest::collection::vec(row(), 0..300),
        chunk_rows in 1usize..60,
        partitions in 2usize..5,
    ) {
        let kinds = [
            WindowKind::Tumbling { size_ms: 10 },
            WindowKind::Sliding { size_ms: 20, advance_ms: 10 },
            WindowKind::Sliding { size_ms: 5, advance_ms: 10 },
            WindowKind::Cumulating { size_ms: 20, step_ms: 5 },
        ];
        for kind in kinds {
            let plan = mergeable_windowed(kind);
            let one = chunked(&plan, &rows, chunk_rows, 1, false);
            let pre_aggregated = chunked(&plan, &rows, chunk_rows, partitions, true);
            prop_assert_eq!(&pre_aggregated.0, &one.0);
            prop_assert_eq!(&pre_aggregated.1, &one.1);
            prop_assert_eq!(pre_aggregated.2, one.2);
            prop_assert_eq!(one.2.records_in, rows.len() as u64);
        }
    }
}
