//! The engine's contract (implementation in progress).

use crate::data::{Batch, Value};
use crate::plan::QueryPlan;

/// Where an output row goes in the ordered result. Runtimes merge the output
/// of several engines by this order; it is a function of the input alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowOrder {
    /// Stateless and EMIT CHANGES rows: the causing record's position, then
    /// the row's index among the rows that record caused.
    Position { position: u64, seq: u32 },
    /// EMIT FINAL rows: window end, window start, then the GROUP BY key values.
    /// Unwindowed groups use `end = i64::MAX, start = i64::MIN`.
    Window {
        end: i64,
        start: i64,
        key: Vec<Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputRow {
    pub values: Vec<Value>,
    pub order: RowOrder,
}

/// A record dropped because every window it belongs to had closed.
#[derive(Debug, Clone, PartialEq)]
pub struct LateRecord {
    pub position: u64,
    pub values: Vec<Value>,
    /// Its event time, milliseconds.
    pub event_time: i64,
}

/// What a call to the engine produced. The caller drains it.
#[derive(Debug, Default)]
pub struct Output {
    pub rows: Vec<OutputRow>,
    pub late: Vec<LateRecord>,
}

/// Counters of one engine. `records_in == processed + filtered + late`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub records_in: u64,
    /// Aggregated into state or passed through.
    pub processed: u64,
    /// Dropped by WHERE.
    pub filtered: u64,
    /// Dropped because all their windows had closed.
    pub late: u64,
    pub rows_emitted: u64,
}

/// One partition's engine: all of its state, owned.
pub struct PartitionEngine {
    _plan: QueryPlan,
}

impl PartitionEngine {
    pub fn new(plan: &QueryPlan) -> Self {
        PartitionEngine {
            _plan: plan.clone(),
        }
    }

    /// Processes rows routed to this partition (in position order).
    pub fn push(&mut self, _batch: &Batch, _out: &mut Output) {
        todo!("engine push")
    }

    /// Moves event time forward to `watermark` (ms): closes windows whose end
    /// plus the allowed lateness it has reached, and emits them (EMIT FINAL).
    pub fn advance_watermark(&mut self, _watermark: i64, _out: &mut Output) {
        todo!("engine watermark")
    }

    /// End of bounded input: closes every open window and group.
    pub fn finish(&mut self, _out: &mut Output) {
        todo!("engine finish")
    }

    pub fn stats(&self) -> EngineStats {
        EngineStats::default()
    }
}
