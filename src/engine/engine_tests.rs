//! End-to-end tests of [`PartitionEngine`] over hand-built plans: stateless
//! queries, windows, watermarks, lateness, emit modes, HAVING and counters.

use super::test_plans::*;
use super::*;
use crate::data::{Batch, DataType, Value};
use crate::plan::{AggregateFunction::*, BinaryOp, EmitMode, QueryPlan, WindowKind};

const INT: DataType = DataType::BigInt;
const TEXT: DataType = DataType::Varchar;
const TS: DataType = DataType::Timestamp;
/// Source rows: (key, event time, value).
const TYPES: [DataType; 3] = [TEXT, TS, INT];

fn batch(rows: &[(&str, i64, i64)], first_position: u64) -> Batch {
    let mut b = Batch::new(3);
    for (i, (key, t, v)) in rows.iter().enumerate() {
        let row = [Value::str(key), Value::Timestamp(*t), Value::Int(*v)];
        b.push_row(&row, first_position + i as u64);
    }
    b
}

fn count_and_sum() -> Vec<crate::plan::AggregateCall> {
    vec![agg(Count, None, INT), agg(Sum, Some(col(2, INT)), INT)]
}

fn keyed(window: WindowKind) -> GroupedPlan {
    GroupedPlan::new(&TYPES, vec![col(0, TEXT)], count_and_sum()).window(window, 1)
}

/// `[key, count, sum, start, end]`.
fn group(key: &str, count: i64, sum: i64, start: i64, end: i64) -> Vec<Value> {
    vec![
        Value::str(key),
        Value::Int(count),
        Value::Int(sum),
        Value::Timestamp(start),
        Value::Timestamp(end),
    ]
}

fn values(rows: &[OutputRow]) -> Vec<Vec<Value>> {
    rows.iter().map(|r| r.values.clone()).collect()
}

fn run_one_by_one(plan: &QueryPlan, rows: &[(&str, i64, i64)]) -> (PartitionEngine, Output) {
    let mut engine = PartitionEngine::new(plan);
    let mut out = Output::default();
    for (i, row) in rows.iter().enumerate() {
        engine.push(&batch(&[*row], i as u64), &mut out);
    }
    (engine, out)
}

fn assert_invariant(stats: EngineStats) {
    assert_eq!(
        stats.records_in,
        stats.processed + stats.filtered + stats.late,
        "{stats:?}"
    );
}

#[test]
fn stateless_filters_and_projects_in_position_order() {
    let gt1 = bin(
        BinaryOp::Gt,
        col(2, INT),
        lit(Value::Int(1)),
        DataType::Boolean,
    );
    let doubled = bin(BinaryOp::Multiply, col(2, INT), lit(Value::Int(2)), INT);
    let plan = stateless_plan(&TYPES, Some(gt1), vec![col(0, TEXT), doubled]);
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    engine.push(
        &batch(&[("a", 0, 1), ("b", 0, 2), ("c", 0, 3)], 100),
        &mut out,
    );
    engine.finish(&mut out);
    assert_eq!(
        values(&out.rows),
        vec![
            vec![Value::str("b"), Value::Int(4)],
            vec![Value::str("c"), Value::Int(6)]
        ]
    );
    assert_eq!(
        out.rows[0].order,
        RowOrder::Position {
            position: 101,
            seq: 0
        }
    );
    assert_eq!(
        out.rows[1].order,
        RowOrder::Position {
            position: 102,
            seq: 0
        }
    );
    let stats = engine.stats();
    assert_eq!(
        (
            stats.records_in,
            stats.processed,
            stats.filtered,
            stats.rows_emitted
        ),
        (3, 2, 1, 2)
    );
    assert_invariant(stats);
}

#[test]
fn tumbling_final_closes_by_watermark_in_end_start_key_order() {
    let plan = keyed(WindowKind::Tumbling { size_ms: 10_000 }).build();
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    engine.push(
        &batch(&[("b", 1_000, 1), ("a", 2_000, 2), ("a", 9_000, 3)], 0),
        &mut out,
    );
    assert!(out.rows.is_empty());
    // Watermark 12s closes [0s, 10s).
    engine.push(&batch(&[("b", 12_000, 4)], 3), &mut out);
    assert_eq!(
        values(&out.rows),
        vec![group("a", 2, 5, 0, 10_000), group("b", 1, 1, 0, 10_000)]
    );
    assert_eq!(
        out.rows[0].order,
        RowOrder::Window {
            end: 10_000,
            start: 0,
            key: vec![Value::str("a")]
        }
    );
    // Late: its only window closed.
    engine.push(&batch(&[("a", 5_000, 5)], 4), &mut out);
    assert_eq!(out.late.len(), 1);
    assert_eq!(out.late[0].position, 4);
    assert_eq!(out.late[0].event_time, 5_000);
    assert_eq!(out.late[0].values[2], Value::Int(5));
    engine.push(&batch(&[("c", 25_000, 6)], 5), &mut out);
    assert_eq!(out.rows.len(), 3);
    assert_eq!(out.rows[2].values, group("b", 1, 4, 10_000, 20_000));
    engine.finish(&mut out);
    assert_eq!(out.rows.len(), 4);
    assert_eq!(out.rows[3].values, group("c", 1, 6, 20_000, 30_000));
    let stats = engine.stats();
    assert_eq!((stats.processed, stats.late, stats.rows_emitted), (5, 1, 4));
    assert_invariant(stats);
}

#[test]
fn windows_closed_together_are_ordered_by_end_then_key() {
    let plan = GroupedPlan::new(&TYPES, vec![col(2, INT)], vec![agg(Count, None, INT)])
        .window(WindowKind::Tumbling { size_ms: 10 }, 1)
        .time(100, 0)
        .build();
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    let rows = [
        ("x", 15, 3),
        ("x", 5, 10),
        ("x", 1, -2),
        ("x", 12, -2),
        ("x", 7, 3),
    ];
    engine.push(&batch(&rows, 0), &mut out);
    assert!(out.rows.is_empty());
    engine.advance_watermark(20, &mut out);
    let keys: Vec<(i64, Value)> = out
        .rows
        .iter()
        .map(|r| match &r.order {
            RowOrder::Window { end, key, .. } => (*end, key[0].clone()),
            other => panic!("unexpected order {other:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            (10, Value::Int(-2)),
            (10, Value::Int(3)),
            (10, Value::Int(10)),
            (20, Value::Int(-2)),
            (20, Value::Int(3)),
        ]
    );
}

#[test]
fn sliding_windows_hold_a_record_in_each_window_it_falls_in() {
    let window = WindowKind::Sliding {
        size_ms: 10_000,
        advance_ms: 5_000,
    };
    let plan = GroupedPlan::new(&TYPES, vec![], vec![agg(Count, None, INT)])
        .window(window, 1)
        .emit(EmitMode::Changes)
        .build();
    let (mut engine, mut out) = run_one_by_one(&plan, &[("a", 7_000, 0), ("a", 12_000, 0)]);
    let row = |n, s, e| vec![Value::Int(n), Value::Timestamp(s), Value::Timestamp(e)];
    assert_eq!(
        values(&out.rows),
        vec![
            row(1, 0, 10_000),
            row(1, 5_000, 15_000),
            row(2, 5_000, 15_000),
            row(1, 10_000, 20_000)
        ]
    );
    let orders: Vec<RowOrder> = out.rows.iter().map(|r| r.order.clone()).collect();
    assert_eq!(
        orders,
        vec![
            RowOrder::Position {
                position: 0,
                seq: 0
            },
            RowOrder::Position {
                position: 0,
                seq: 1
            },
            RowOrder::Position {
                position: 1,
                seq: 0
            },
            RowOrder::Position {
                position: 1,
                seq: 1
            },
        ]
    );
    // EMIT CHANGES: closing windows emits nothing more.
    engine.finish(&mut out);
    assert_eq!(out.rows.len(), 4);

    let final_plan = GroupedPlan::new(&TYPES, vec![], vec![agg(Count, None, INT)])
        .window(window, 1)
        .build();
    let (mut engine, mut out) = run_one_by_one(&final_plan, &[("a", 7_000, 0), ("a", 12_000, 0)]);
    assert_eq!(values(&out.rows), vec![row(1, 0, 10_000)]);
    engine.finish(&mut out);
    assert_eq!(
        values(&out.rows),
        vec![
            row(1, 0, 10_000),
            row(2, 5_000, 15_000),
            row(1, 10_000, 20_000)
        ]
    );
}

#[test]
fn session_windows_merge_when_a_record_bridges_two() {
    let plan = keyed(WindowKind::Session { gap_ms: 10_000 })
        .time(10_000, 0)
        .build();
    let rows = [
        ("k", 0, 1),
        ("j", 1_000, 10),
        ("k", 15_000, 2),
        ("k", 8_000, 3),
    ];
    let (mut engine, mut out) = run_one_by_one(&plan, &rows);
    assert!(out.rows.is_empty());
    engine.finish(&mut out);
    assert_eq!(
        values(&out.rows),
        vec![
            group("j", 1, 10, 1_000, 11_000),
            group("k", 3, 6, 0, 25_000)
        ]
    );
    assert_invariant(engine.stats());
}

#[test]
fn session_windows_emit_changes_and_close_by_watermark() {
    let plan = keyed(WindowKind::Session { gap_ms: 10_000 })
        .time(10_000, 0)
        .emit(EmitMode::Changes)
        .build();
    let rows = [("k", 0, 1), ("k", 15_000, 2), ("k", 8_000, 3)];
    let (_, out) = run_one_by_one(&plan, &rows);
    assert_eq!(
        values(&out.rows),
        vec![
            group("k", 1, 1, 0, 10_000),
            group("k", 1, 2, 15_000, 25_000),
            group("k", 3, 6, 0, 25_000)
        ]
    );

    let final_plan = keyed(WindowKind::Session { gap_ms: 10_000 }).build();
    let (mut engine, mut out) = run_one_by_one(&final_plan, &[("k", 0, 1), ("k", 5_000, 2)]);
    engine.advance_watermark(14_999, &mut out);
    assert!(out.rows.is_empty());
    engine.advance_watermark(15_000, &mut out);
    assert_eq!(values(&out.rows), vec![group("k", 2, 3, 0, 15_000)]);
    // A record whose own session [1s, 11s) is already closed is late.
    engine.push(&batch(&[("k", 1_000, 9)], 9), &mut out);
    assert_eq!(out.late.len(), 1);
    assert_eq!(engine.stats().late, 1);
}

#[test]
fn out_of_orderness_and_allowed_lateness() {
    let plan = keyed(WindowKind::Tumbling { size_ms: 10_000 })
        .time(2_000, 3_000)
        .build();
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    // Watermark 9s: [0s, 10s) closes at 13s.
    engine.push(&batch(&[("a", 11_000, 1), ("a", 1_000, 2)], 0), &mut out);
    assert_eq!(engine.watermark(), 9_000);
    assert!(out.rows.is_empty() && out.late.is_empty());
    // Watermark 14s closes [0s, 10s).
    engine.push(&batch(&[("a", 16_000, 4)], 2), &mut out);
    assert_eq!(values(&out.rows), vec![group("a", 1, 2, 0, 10_000)]);
    engine.push(&batch(&[("a", 2_000, 8), ("a", 12_500, 16)], 3), &mut out);
    assert_eq!(out.late.len(), 1);
    assert_eq!((out.late[0].position, out.late[0].event_time), (3, 2_000));
    engine.advance_watermark(22_999, &mut out);
    assert_eq!(out.rows.len(), 1);
    engine.advance_watermark(23_000, &mut out);
    assert_eq!(out.rows[1].values, group("a", 3, 21, 10_000, 20_000));
    let stats = engine.stats();
    assert_eq!(
        (
            stats.records_in,
            stats.processed,
            stats.late,
            stats.rows_emitted
        ),
        (5, 4, 1, 2)
    );
    assert_invariant(stats);
}

#[test]
fn emit_changes_unwindowed_with_having() {
    let mut builder = GroupedPlan::new(&TYPES, vec![col(0, TEXT)], count_and_sum());
    builder.emit = EmitMode::Changes;
    builder.having = Some(bin(
        BinaryOp::GtEq,
        col(1, INT),
        lit(Value::Int(2)),
        DataType::Boolean,
    ));
    let plan = builder.build();
    let rows = [
        ("a", 0, 1),
        ("b", 0, 2),
        ("a", 0, 3),
        ("a", 0, 4),
        ("b", 0, 5),
    ];
    let (mut engine, mut out) = run_one_by_one(&plan, &rows);
    let row = |k: &str, c, s| vec![Value::str(k), Value::Int(c), Value::Int(s)];
    assert_eq!(
        values(&out.rows),
        vec![row("a", 2, 4), row("a", 3, 8), row("b", 2, 7)]
    );
    assert_eq!(
        out.rows[2].order,
        RowOrder::Position {
            position: 4,
            seq: 0
        }
    );
    engine.finish(&mut out);
    assert_eq!(out.rows.len(), 3);
    assert_eq!(engine.stats().rows_emitted, 3);
}

#[test]
fn unwindowed_final_emits_at_finish_with_projections_and_having() {
    let mut builder = GroupedPlan::new(&TYPES, vec![col(0, TEXT)], count_and_sum());
    builder.having = Some(bin(
        BinaryOp::Gt,
        col(1, INT),
        lit(Value::Int(1)),
        DataType::Boolean,
    ));
    builder.projections = Some(vec![
        col(0, TEXT),
        bin(BinaryOp::Multiply, col(2, INT), lit(Value::Int(10)), INT),
    ]);
    let plan = builder.build();
    let rows = [
        ("z", 0, 1),
        ("b", 0, 2),
        ("z", 0, 3),
        ("a", 0, 4),
        ("b", 0, 5),
    ];
    let (mut engine, mut out) = run_one_by_one(&plan, &rows);
    assert!(out.rows.is_empty());
    engine.finish(&mut out);
    assert_eq!(
        values(&out.rows),
        vec![
            vec![Value::str("b"), Value::Int(70)],
            vec![Value::str("z"), Value::Int(40)]
        ]
    );
    assert_eq!(
        out.rows[0].order,
        RowOrder::Window {
            end: i64::MAX,
            start: i64::MIN,
            key: vec![Value::str("b")]
        }
    );
}

#[test]
fn global_aggregate_has_an_empty_key() {
    let plan = GroupedPlan::new(&TYPES, vec![], count_and_sum()).build();
    let (mut engine, mut out) = run_one_by_one(&plan, &[("a", 0, 1), ("b", 0, 2)]);
    engine.finish(&mut out);
    assert_eq!(values(&out.rows), vec![vec![Value::Int(2), Value::Int(3)]]);
    assert_eq!(
        out.rows[0].order,
        RowOrder::Window {
            end: i64::MAX,
            start: i64::MIN,
            key: vec![]
        }
    );
}

#[test]
fn counters_add_up_with_where_null_times_and_late_records() {
    let mut builder = keyed(WindowKind::Tumbling { size_ms: 10 });
    builder.filter = Some(bin(
        BinaryOp::NotEq,
        col(0, TEXT),
        lit(Value::str("skip")),
        DataType::Boolean,
    ));
    let plan = builder.build();
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    let mut b = batch(&[("a", 1, 1), ("skip", 2, 1), ("a", 30, 1), ("a", 3, 1)], 0);
    b.push_row(&[Value::str("a"), Value::Null, Value::Int(1)], 4);
    engine.push(&b, &mut out);
    engine.finish(&mut out);
    let stats = engine.stats();
    assert_eq!(
        (
            stats.records_in,
            stats.processed,
            stats.filtered,
            stats.late
        ),
        (5, 2, 2, 1)
    );
    assert_eq!(stats.rows_emitted, 2);
    assert_eq!(stats.rows_emitted as usize, out.rows.len());
    assert_invariant(stats);
}

#[test]
fn bigint_time_column_and_aggregate_filter() {
    let types = [TEXT, INT, INT];
    let mut filtered_count = agg(Count, None, INT);
    filtered_count.filter = Some(bin(
        BinaryOp::Gt,
        col(2, INT),
        lit(Value::Int(1)),
        DataType::Boolean,
    ));
    let plan = GroupedPlan::new(&types, vec![], vec![agg(Count, None, INT), filtered_count])
        .window(WindowKind::Tumbling { size_ms: 100 }, 1)
        .build();
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    let mut b = Batch::new(3);
    for (i, (t, v)) in [(5, 1), (50, 2), (150, 3)].iter().enumerate() {
        b.push_row(&[Value::str("x"), Value::Int(*t), Value::Int(*v)], i as u64);
    }
    engine.push(&b, &mut out);
    engine.finish(&mut out);
    assert_eq!(
        values(&out.rows),
        vec![
            vec![
                Value::Int(2),
                Value::Int(1),
                Value::Timestamp(0),
                Value::Timestamp(100)
            ],
            vec![
                Value::Int(1),
                Value::Int(1),
                Value::Timestamp(100),
                Value::Timestamp(200)
            ]
        ]
    );
}

#[test]
fn extreme_event_times_neither_panic_nor_hang() {
    let kinds = [
        WindowKind::Tumbling { size_ms: 10 },
        WindowKind::Sliding {
            size_ms: 10,
            advance_ms: 3,
        },
        WindowKind::Session { gap_ms: 10 },
    ];
    for kind in kinds {
        for emit in [EmitMode::Final, EmitMode::Changes] {
            let plan = keyed(kind).time(i64::MAX, i64::MAX).emit(emit).build();
            let rows = [("a", i64::MAX, 1), ("a", i64::MIN, 2), ("a", 0, 3)];
            let (mut engine, mut out) = run_one_by_one(&plan, &rows);
            engine.advance_watermark(i64::MAX, &mut out);
            engine.finish(&mut out);
            assert_invariant(engine.stats());
            assert_eq!(engine.stats().rows_emitted as usize, out.rows.len());
        }
    }
}

#[test]
fn multi_column_keys_and_changes_mode_windows_close_silently() {
    let keys = vec![
        col(0, TEXT),
        bin(BinaryOp::Modulo, col(2, INT), lit(Value::Int(2)), INT),
    ];
    let plan = GroupedPlan::new(&TYPES, keys, vec![agg(Count, None, INT)])
        .window(WindowKind::Tumbling { size_ms: 10 }, 1)
        .emit(EmitMode::Changes)
        .build();
    let rows = [("a", 1, 1), ("a", 2, 3), ("a", 3, 2), ("a", 25, 5)];
    let (mut engine, mut out) = run_one_by_one(&plan, &rows);
    engine.finish(&mut out);
    let row = |k: &str, m, n, s| {
        vec![
            Value::str(k),
            Value::Int(m),
            Value::Int(n),
            Value::Timestamp(s),
            Value::Timestamp(s + 10),
        ]
    };
    assert_eq!(
        values(&out.rows),
        vec![
            row("a", 1, 1, 0),
            row("a", 1, 2, 0),
            row("a", 0, 1, 0),
            row("a", 1, 1, 20)
        ]
    );
}

#[test]
fn an_external_watermark_makes_earlier_records_late() {
    let plan = keyed(WindowKind::Tumbling { size_ms: 10 }).build();
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    engine.advance_watermark(100, &mut out);
    engine.push(&batch(&[("a", 95, 1), ("a", 100, 2)], 0), &mut out);
    assert_eq!(out.late.len(), 1);
    assert_eq!(out.late[0].event_time, 95);
    engine.finish(&mut out);
    assert_eq!(values(&out.rows), vec![group("a", 1, 2, 100, 110)]);
}

/// Final rows taken `piece` at a time: the pieces, and the engine's count.
fn finish_in_pieces(
    plan: &QueryPlan,
    rows: &[(&str, i64, i64)],
    piece: usize,
) -> Vec<Vec<OutputRow>> {
    let (mut engine, mut out) = run_one_by_one(plan, rows);
    out.rows.clear();
    let before = engine.stats().rows_emitted;
    let mut pieces = Vec::new();
    loop {
        let more = engine.finish_piece(&mut out, piece);
        pieces.push(std::mem::take(&mut out.rows));
        if !more {
            break;
        }
        assert!(engine.open_groups() > 0, "groups not written are open");
    }
    assert!(
        !engine.finish_piece(&mut out, piece),
        "nothing after the last piece"
    );
    assert!(out.rows.is_empty());
    let written: usize = pieces.iter().map(Vec::len).sum();
    assert_eq!(engine.stats().rows_emitted - before, written as u64);
    assert_eq!(engine.open_groups(), 0);
    pieces
}

#[test]
fn final_rows_in_pieces_equal_the_rows_all_at_once() {
    let rows: Vec<(String, i64, i64)> = (0..200)
        .map(|i| (format!("k{:03}", (i * 37) % 61), (i * 7) % 45, i))
        .collect();
    let rows: Vec<(&str, i64, i64)> = rows.iter().map(|(k, t, v)| (k.as_str(), *t, *v)).collect();
    let mut having = GroupedPlan::new(&TYPES, vec![col(0, TEXT)], count_and_sum());
    having.having = Some(bin(
        BinaryOp::Gt,
        col(1, INT),
        lit(Value::Int(3)),
        DataType::Boolean,
    ));
    let plans = [
        (
            "unwindowed",
            GroupedPlan::new(&TYPES, vec![col(0, TEXT)], count_and_sum()).build(),
        ),
        ("HAVING", having.build()),
        (
            "tumbling",
            keyed(WindowKind::Tumbling { size_ms: 10 })
                .time(100, 0)
                .build(),
        ),
        (
            "no GROUP BY",
            GroupedPlan::new(&TYPES, vec![], count_and_sum()).build(),
        ),
    ];
    for (name, plan) in &plans {
        let whole = finish_in_pieces(plan, &rows, usize::MAX);
        assert_eq!(whole.len(), 1, "{name}");
        assert!(!whole[0].is_empty(), "{name}");
        for piece in [1, 2, 7, 1000] {
            let pieces = finish_in_pieces(plan, &rows, piece);
            assert!(
                pieces.iter().all(|p| p.len() <= piece),
                "{name}, pieces of {piece}"
            );
            let joined: Vec<OutputRow> = pieces.concat();
            assert_eq!(joined, whole[0], "{name}, pieces of {piece}");
            assert!(joined.is_sorted_by(|a, b| a.order <= b.order), "{name}");
        }
    }
}
