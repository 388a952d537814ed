//! Tests of [`PartitionEngine::state_bytes`]: it grows with what the state
//! holds, not with records that change nothing, and gives back what closed
//! windows, sessions and groups held. (How close it is to the allocator's
//! figures is tested in tests/state_bytes.rs, which counts allocations.)

use super::test_plans::*;
use super::*;
use crate::data::{Batch, DataType, Value};
use crate::plan::{
    AggregateFunction::*, EmitMode, QueryKind, QueryPlan, RankKey, Ranking, TopNPlan, WindowKind,
};

const INT: DataType = DataType::BigInt;
const TEXT: DataType = DataType::Varchar;
const TS: DataType = DataType::Timestamp;
/// Source rows: (key, event time, value).
const TYPES: [DataType; 3] = [TEXT, TS, TEXT];

/// `keys` records with keys `key-0`.. at event time `time`, value `v-<key>`.
fn records(keys: std::ops::Range<usize>, time: i64) -> Batch {
    let mut batch = Batch::new(3);
    for k in keys {
        let row = [
            Value::str(&format!("key-{k:012}")),
            Value::Timestamp(time),
            Value::str(&format!("value-{k:012}")),
        ];
        batch.push_row(&row, k as u64);
    }
    batch
}

fn pushed(engine: &mut PartitionEngine, batch: &Batch) -> usize {
    let mut out = Output::default();
    engine.push(batch, &mut out);
    engine.state_bytes()
}

/// The state after the first of 20 batches of `keys` keys, 10 ms of event
/// time apart (each closing the windows the one before filled), and the
/// most it reached.
fn first_and_peak(engine: &mut PartitionEngine, keys: usize) -> (usize, usize) {
    let first = pushed(engine, &records(0..keys, 0));
    let peak = (1..20)
        .map(|window| pushed(engine, &records(0..keys, window * 10)))
        .fold(first, usize::max);
    (first, peak)
}

fn by_key(window: Option<WindowKind>, emit: EmitMode) -> QueryPlan {
    let aggregates = vec![agg(Count, None, INT), agg(Max, Some(col(2, TEXT)), TEXT)];
    let plan = GroupedPlan::new(&TYPES, vec![col(0, TEXT)], aggregates).emit(emit);
    match window {
        Some(kind) => plan.window(kind, 1).build(),
        None => plan.build(),
    }
}

#[test]
fn a_stateless_query_holds_nothing() {
    let plan = stateless_plan(&TYPES, None, vec![col(0, TEXT)]);
    let mut engine = PartitionEngine::new(&plan);
    assert_eq!(pushed(&mut engine, &records(0..1000, 0)), 0);
}

#[test]
fn groups_cost_their_keys_states_and_table() {
    let mut engine = PartitionEngine::new(&by_key(None, EmitMode::Final));
    assert_eq!(engine.state_bytes(), 0);
    let first = pushed(&mut engine, &records(0..10_000, 0));
    // Each group: its key's string, a MAX string, its key value, a COUNT
    // and a MAX entry in their columns, an id in the table.
    assert!(first > 10_000 * (48 + 48 + 24 + 8 + 24 + 5), "{first}");
    assert!(first < 10_000 * 600, "{first}");
    // The same keys and values again change nothing.
    assert_eq!(pushed(&mut engine, &records(0..10_000, 0)), first);
    let second = pushed(&mut engine, &records(10_000..20_000, 0));
    assert!(second > first * 3 / 2, "{first} then {second}");
}

#[test]
fn closed_windows_give_back_what_they_held() {
    let plan = by_key(Some(WindowKind::Tumbling { size_ms: 10 }), EmitMode::Final);
    let mut engine = PartitionEngine::new(&plan);
    let (one_window, most) = first_and_peak(&mut engine, 2_000);
    assert!(
        most < one_window * 3,
        "{one_window} at first, {most} at most"
    );
    let mut out = Output::default();
    engine.finish(&mut out);
    // Every key and MAX string (48 bytes each) is given back; spare group
    // states and tables stay for reuse.
    let after = engine.state_bytes();
    assert!(
        after + 2_000 * 2 * 48 <= most,
        "{most} at most, {after} after"
    );
}

#[test]
fn emit_changes_windows_and_sliding_windows_also_give_back() {
    for window in [
        WindowKind::Tumbling { size_ms: 10 },
        WindowKind::Sliding {
            size_ms: 20,
            advance_ms: 10,
        },
    ] {
        let mut engine = PartitionEngine::new(&by_key(Some(window), EmitMode::Changes));
        let (first, most) = first_and_peak(&mut engine, 1_000);
        assert!(
            most < first * 4,
            "{window:?}: {first} at first, {most} at most"
        );
    }
}

#[test]
fn sessions_forget_their_keys_when_they_close() {
    let plan = by_key(Some(WindowKind::Session { gap_ms: 5 }), EmitMode::Final);
    let mut engine = PartitionEngine::new(&plan);
    let open = pushed(&mut engine, &records(0..5_000, 0));
    assert!(open > 5_000 * 96, "{open}");
    // A record far later closes every session but its own: each closed
    // key's two copies and MAX string (48 bytes each) are given back.
    let after = pushed(&mut engine, &records(0..1, 1_000));
    assert!(
        after + 4_998 * 3 * 48 <= open,
        "{open} while open, {after} after"
    );
}

#[test]
fn distinct_sets_count_what_they_hold() {
    let mut count_distinct = agg(Count, Some(col(2, TEXT)), INT);
    count_distinct.distinct = true;
    let plan = GroupedPlan::new(&TYPES, Vec::new(), vec![count_distinct]).build();
    let mut engine = PartitionEngine::new(&plan);
    let small = pushed(&mut engine, &records(0..100, 0));
    let large = pushed(&mut engine, &records(100..50_000, 0));
    // One group; every distinct value is a 24-byte entry and its string.
    assert!(large > small + 49_900 * (25 + 48), "{small} then {large}");
}

/// A Top-2 per key by value (descending), over the rows of [`records`].
fn top_two(emit: EmitMode) -> QueryPlan {
    let mut plan = stateless_plan(&TYPES, None, Vec::new());
    plan.kind = QueryKind::TopN(TopNPlan {
        ranking: Ranking::RowNumber,
        partition_keys: vec![col(0, TEXT)],
        order: vec![RankKey {
            expr: col(1, TS),
            descending: true,
            nulls_first: false,
        }],
        limit: 2,
        rank_column: 3,
        qualify: None,
        projections: vec![col(0, TEXT), col(2, TEXT), col(3, INT)],
    });
    plan.emit = emit;
    plan
}

#[test]
fn a_top_n_holds_its_kept_rows_and_no_more() {
    for emit in [EmitMode::Changes, EmitMode::Final] {
        let mut engine = PartitionEngine::new(&top_two(emit));
        let one = pushed(&mut engine, &records(0..100, 0));
        assert!(one > 100 * 60, "{emit:?}: {one} bytes for 100 rows");
        let two = pushed(&mut engine, &records(0..100, 10));
        assert!(two > one, "{emit:?}: the second row per key is kept");
        // Later rows replace kept ones (same sizes) or rank below them.
        for time in [20, 5, 30, 1] {
            let after = pushed(&mut engine, &records(0..100, time));
            assert_eq!(after, two, "{emit:?}: after rows at {time}");
        }
        assert_eq!(engine.open_groups(), 200);
        engine.finish(&mut Output::default());
        assert_eq!(engine.state_bytes(), 0);
    }
}
