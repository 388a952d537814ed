//! Tests of the OVER operator on its own: rows wait for the watermark, late
//! rows are refused, and the state a partition keeps is bounded by what its
//! frames, LAG and LEAD reach (not by the input).

use super::test_plans::*;
use super::*;
use crate::data::{Batch, DataType, Schema, Value};
use crate::plan::{
    AggregateFunction, EmitMode, Frame, OverCall, OverFunction, OverPlan, QueryKind, QueryPlan,
    Shift, TimeSettings,
};

const INT: DataType = DataType::BigInt;
const TS: DataType = DataType::Timestamp;
/// Source rows: (key, event time, value).
const TYPES: [DataType; 3] = [INT, TS, INT];

fn over_plan(calls: Vec<OverCall>) -> QueryPlan {
    let projections = (0..calls.len()).map(|i| col(3 + i, INT)).collect();
    let mut plan = stateless_plan(&TYPES, None, Vec::new());
    plan.kind = QueryKind::Over(OverPlan {
        partition_keys: vec![col(0, INT)],
        time_column: 1,
        calls,
        qualify: None,
        projections,
    });
    plan.output = Schema::new(Vec::new());
    plan.emit = EmitMode::Changes;
    plan.time = TimeSettings::default();
    plan
}

fn sum_over(frame: Frame) -> OverCall {
    OverCall {
        function: OverFunction::Aggregate(agg(AggregateFunction::Sum, Some(col(2, INT)), INT)),
        frame,
        data_type: INT,
    }
}

/// Rows (key, time ms, value) at positions from `first`.
fn rows(first: u64, rows: &[(i64, i64, i64)]) -> Batch {
    let mut batch = Batch::new(3);
    for (i, (key, time, value)) in rows.iter().enumerate() {
        let row = [
            Value::Int(*key),
            Value::Timestamp(*time),
            Value::Int(*value),
        ];
        batch.push_row(&row, first + i as u64);
    }
    batch
}

fn values(out: &Output) -> Vec<i64> {
    out.rows
        .iter()
        .map(|r| match r.values[0] {
            Value::Int(v) => v,
            ref other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn rows_wait_for_the_watermark_then_go_out_in_event_time() {
    let mut engine = PartitionEngine::new(&over_plan(vec![sum_over(Frame::Rows(None))]));
    let mut out = Output::default();
    engine.push(&rows(0, &[(1, 20, 2), (1, 10, 1), (1, 30, 4)]), &mut out);
    assert!(out.rows.is_empty(), "nothing before the watermark moves");
    engine.advance_watermark(21, &mut out);
    assert_eq!(
        values(&out),
        [1, 3],
        "the rows at 10 and 20 ms, in time order"
    );
    engine.push(&rows(3, &[(1, 15, 100)]), &mut out);
    assert_eq!(engine.stats().late, 1, "15 ms is behind the watermark");
    assert_eq!(out.late.len(), 1);
    engine.finish(&mut out);
    assert_eq!(values(&out), [1, 3, 7]);
}

#[test]
fn a_bounded_frame_keeps_a_bounded_state() {
    let lag = OverCall {
        function: OverFunction::Lag(Shift {
            arg: col(2, INT),
            offset: 3,
            default: None,
        }),
        frame: Frame::DEFAULT,
        data_type: INT,
    };
    let plan = over_plan(vec![sum_over(Frame::Rows(Some(2))), lag]);
    let mut engine = PartitionEngine::new(&plan);
    let mut out = Output::default();
    let mut after = Vec::new();
    for round in 0..50i64 {
        let batch: Vec<(i64, i64, i64)> = (0..100)
            .map(|i| (i % 4, round * 1000 + i * 10, i))
            .collect();
        engine.push(&rows(round as u64 * 100, &batch), &mut out);
        engine.advance_watermark(round * 1000 + 1000, &mut out);
        after.push(engine.state_bytes());
        out.rows.clear();
    }
    // 4 partitions keep their last 3 rows each, whatever has gone by.
    assert!(after[0] > 0);
    assert_eq!(after[10], after[49], "{after:?}");
    engine.finish(&mut out);
    assert_eq!(engine.state_bytes(), 0);
}
