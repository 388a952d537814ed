//! The OVER operator: window functions over each partition's rows in event
//! time.
//!
//! A row waits in `pending` until the watermark passes its event time; then
//! the rows released together are processed in (event time, position)
//! order, each with the rows of its partition before it. Rows of one
//! partition with the same event time are *peers*: released together, they
//! share a RANGE frame and a rank. The watermark moves only when the runtime
//! aligns it (never with the records one shard happens to see), so which
//! rows are released when, and which are late, is the same at every shard
//! count. A row LEAD looks past waits for its partition's next rows, or for
//! the end of the input.
//!
//! State: the pending rows (the out-of-orderness's worth), and per
//! partition the last rows the frames, LAG and LEAD reach back to, running
//! aggregates for UNBOUNDED frames, and counters for the row numbers.

use std::collections::{BTreeMap, VecDeque};

use super::aggregate::{Aggregates, GroupState};
use super::changelog::Changelog;
use super::eval::{eval, is_true};
use super::footprint::{self, value_heap, Footprint};
use super::grouped::Outcome;
use super::partition::{Output, OutputRow, RowOrder};
use super::route::time_value;
use crate::data::Value;
use crate::plan::{Frame, OverCall, OverFunction, OverPlan, ScalarExpr, Shift};
use ahash::AHashMap;

/// Rows of one partition and one event time, with their positions.
type Peers = Vec<(u64, Vec<Value>)>;

/// A pending row's place: event time, position, arrival.
type PendingKey = (i64, u64, u64);

/// One row of a partition's history.
#[derive(Clone)]
struct Kept {
    time: i64,
    position: u64,
    row: Vec<Value>,
}

/// A row whose LEAD values wait for its partition's next rows.
#[derive(Clone)]
struct Waiting {
    /// Its index in the partition (0 for the first row).
    index: u64,
    position: u64,
    /// The source row, then one value per call (LEAD's still NULL).
    over_row: Vec<Value>,
}

/// What one partition keeps.
#[derive(Clone, Default)]
struct Partition {
    /// The last rows, oldest first; `history[0]` has index `first_index`.
    history: VecDeque<Kept>,
    first_index: u64,
    /// Rows processed so far (the next row's index).
    rows: u64,
    /// Distinct event times processed so far.
    times: u64,
    /// Per call: the running state of an aggregate over an UNBOUNDED frame.
    running: Vec<Option<GroupState>>,
    /// Per call: FIRST_VALUE over an UNBOUNDED frame (the first row's value).
    firsts: Vec<Option<Value>>,
    waiting: VecDeque<Waiting>,
}

impl Partition {
    fn kept(&self, index: u64) -> Option<&Kept> {
        let offset = index.checked_sub(self.first_index)?;
        self.history.get(usize::try_from(offset).ok()?)
    }

    /// The kept rows from index `from` (clamped to the oldest kept) through `to`.
    fn span(&self, from: u64, to: u64) -> impl Iterator<Item = &Kept> {
        let start = from.saturating_sub(self.first_index) as usize;
        let end = (to + 1).saturating_sub(self.first_index) as usize;
        self.history
            .range(start.min(self.history.len())..end.min(self.history.len()))
    }
}

#[derive(Clone)]
pub struct OverOperator {
    keys: Vec<ScalarExpr>,
    time_column: usize,
    calls: Vec<OverCall>,
    /// Per call: the aggregate, for aggregate calls.
    aggregates: Vec<Option<Aggregates>>,
    /// Per call: a state to recompute a bounded frame in.
    scratch: Vec<Option<GroupState>>,
    qualify: Option<ScalarExpr>,
    projections: Vec<ScalarExpr>,
    changelog: Changelog,
    watermark: i64,
    /// Rows by (event time, position, arrival): rows a join writes may
    /// share a position (the record that completed several pairs).
    pending: BTreeMap<PendingKey, Vec<Value>>,
    /// Rows taken so far: the next row's arrival number.
    taken: u64,
    /// Every partition seen, by id; `partition_ids` maps keys to ids.
    partitions: Vec<Partition>,
    partition_ids: AHashMap<Vec<Value>, usize>,
    /// Set when the partition key is one column: looked up in place.
    single_key_column: Option<usize>,
    /// Whether any call reads rows of the history (else none is kept).
    keeps_history: bool,
    /// How many rows before the current one any call reads (ROWS, LAG).
    rows_back: u64,
    /// How far back in time any RANGE frame reads.
    span_back: Option<i64>,
    /// The largest LEAD offset (0: no LEAD).
    rows_ahead: u64,
    footprint: Footprint,
}

/// Bytes a kept row takes: its vector and the strings it holds.
fn row_bytes(row: &[Value]) -> usize {
    footprint::vec::<Value>(row.len()) + row.iter().map(value_heap).sum::<usize>()
}

impl OverOperator {
    pub fn new(plan: &OverPlan, changelog: bool) -> Self {
        let aggregates: Vec<Option<Aggregates>> = plan
            .calls
            .iter()
            .map(|call| match &call.function {
                OverFunction::Aggregate(a) => Some(Aggregates::new(std::slice::from_ref(a))),
                _ => None,
            })
            .collect();
        let scratch = aggregates
            .iter()
            .map(|a| a.as_ref().map(Aggregates::new_state))
            .collect();
        let rows_back = plan.calls.iter().map(rows_back).max().unwrap_or(0);
        let span_back = plan
            .calls
            .iter()
            .filter_map(|c| match c.frame {
                Frame::Range(Some(ms)) if reads_frame(c) => Some(ms),
                _ => None,
            })
            .max();
        let rows_ahead = plan
            .calls
            .iter()
            .map(|c| match &c.function {
                OverFunction::Lead(s) => s.offset as u64,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        OverOperator {
            keys: plan.partition_keys.clone(),
            time_column: plan.time_column,
            calls: plan.calls.clone(),
            aggregates,
            scratch,
            qualify: plan.qualify.clone(),
            projections: plan.projections.clone(),
            changelog: Changelog::new(changelog),
            watermark: i64::MIN,
            pending: BTreeMap::new(),
            taken: 0,
            partitions: Vec::new(),
            partition_ids: AHashMap::new(),
            single_key_column: ScalarExpr::single_column(&plan.partition_keys),
            keeps_history: plan.calls.iter().any(reads_history),
            rows_back,
            span_back,
            rows_ahead,
            footprint: Footprint::default(),
        }
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    pub fn state_bytes(&self) -> usize {
        self.footprint.bytes()
    }

    /// Rows taken but not yet written: pending, or waiting for LEAD.
    pub fn open_rows(&self) -> usize {
        let waiting: usize = self.partitions.iter().map(|p| p.waiting.len()).sum();
        self.pending.len() + waiting
    }

    /// Takes a source row (already past WHERE) at `position`: it waits for
    /// the watermark. Late when the watermark has passed its event time.
    pub fn push_row(&mut self, row: &[Value], position: u64) -> Outcome {
        let Some(time) = row.get(self.time_column).and_then(time_value) else {
            return Outcome::Dropped;
        };
        if time < self.watermark {
            return Outcome::Late(time);
        }
        self.footprint.grow(row_bytes(row) + PENDING_ENTRY_BYTES);
        self.pending
            .insert((time, position, self.taken), row.to_vec());
        self.taken += 1;
        Outcome::Processed
    }

    /// Moves the watermark to `watermark` and processes the rows it passes.
    pub fn advance_watermark(&mut self, watermark: i64, out: &mut Output) {
        if watermark <= self.watermark {
            return;
        }
        self.watermark = watermark;
        let later = self.pending.split_off(&(watermark, 0, 0));
        let released = std::mem::replace(&mut self.pending, later);
        let before = out.rows.len();
        self.process(released, out);
        in_output_order(&mut out.rows[before..]);
    }

    /// End of input: processes every row, and gives LEAD without a next
    /// row its default.
    pub fn finish(&mut self, out: &mut Output) {
        self.watermark = i64::MAX;
        let released = std::mem::take(&mut self.pending);
        let before = out.rows.len();
        self.process(released, out);
        // Rows LEAD found no next row for go out last, in input order.
        let mut partitions = std::mem::take(&mut self.partitions);
        self.partition_ids.clear();
        for partition in &mut partitions {
            while let Some(waiting) = partition.waiting.pop_front() {
                let order = (i64::MAX, waiting.position);
                self.emit_waiting(partition, waiting, order, out);
            }
        }
        in_output_order(&mut out.rows[before..]);
        self.footprint = Footprint::default();
    }

    /// Processes released rows, in (event time, position) order, one event
    /// time at a time so that peers are processed together.
    fn process(&mut self, released: BTreeMap<PendingKey, Vec<Value>>, out: &mut Output) {
        let mut rows = released.into_iter().peekable();
        // The partitions of one event time's rows, in order of first row.
        let mut peers: Vec<(usize, Peers)> = Vec::new();
        let mut group_of: AHashMap<usize, usize> = AHashMap::new();
        while let Some(((time, position, _), row)) = rows.next() {
            self.footprint.shrink(row_bytes(&row) + PENDING_ENTRY_BYTES);
            let id = self.partition_id(&row);
            match group_of.get(&id) {
                Some(&g) => peers[g].1.push((position, row)),
                None => {
                    group_of.insert(id, peers.len());
                    peers.push((id, vec![(position, row)]));
                }
            }
            let time_ends = rows.peek().is_none_or(|((next, _, _), _)| *next != time);
            if time_ends {
                group_of.clear();
                for (id, rows) in peers.drain(..) {
                    self.process_peers(id, time, rows, out);
                }
            }
        }
    }

    /// The id of `row`'s partition, made when it is the first of its key.
    fn partition_id(&mut self, row: &[Value]) -> usize {
        let found = match self.single_key_column.and_then(|c| row.get(c)) {
            Some(value) => self.partition_ids.get(std::slice::from_ref(value)),
            None => {
                let key: Vec<Value> = self.keys.iter().map(|k| eval(k, row)).collect();
                match self.partition_ids.get(&key) {
                    Some(id) => Some(id),
                    None => return self.new_partition(key),
                }
            }
        };
        match found {
            Some(&id) => id,
            None => {
                let key = self.keys.iter().map(|k| eval(k, row)).collect();
                self.new_partition(key)
            }
        }
    }

    /// Processes one partition's rows of one event time.
    fn process_peers(&mut self, id: usize, time: i64, peers: Peers, out: &mut Output) {
        let mut partition = std::mem::take(&mut self.partitions[id]);
        let first = partition.rows;
        let rank = first + 1;
        let dense_rank = partition.times + 1;
        self.start_peers(&mut partition, &peers, time);
        for (offset, (position, row)) in peers.iter().enumerate() {
            let index = first + offset as u64;
            let mut over_row = out.new_values(row.len() + self.calls.len());
            over_row.extend_from_slice(row);
            for c in 0..self.calls.len() {
                let value =
                    self.call_value(c, &mut partition, index, row, time, (rank, dense_rank));
                over_row.push(value);
            }
            match self.rows_ahead {
                0 => self.emit(over_row, (time, *position), out),
                _ => partition.waiting.push_back(Waiting {
                    index,
                    position: *position,
                    over_row,
                }),
            }
        }
        self.release_waiting(&mut partition, out);
        self.trim(&mut partition, time);
        self.partitions[id] = partition;
    }

    /// A new partition for `key`; its id.
    fn new_partition(&mut self, key: Vec<Value>) -> usize {
        self.footprint.grow(row_bytes(&key) + PARTITION_ENTRY_BYTES);
        let partition = self.empty_partition();
        let id = self.partitions.len();
        self.partitions.push(partition);
        self.partition_ids.insert(key, id);
        id
    }

    fn empty_partition(&self) -> Partition {
        Partition {
            running: self
                .aggregates
                .iter()
                .zip(&self.calls)
                .map(|(a, call)| match call.frame {
                    Frame::Rows(None) | Frame::Range(None) => a.as_ref().map(Aggregates::new_state),
                    _ => None,
                })
                .collect(),
            firsts: vec![None; self.calls.len()],
            ..Partition::default()
        }
    }

    /// Adds a peer group to the partition: its rows to the history, to
    /// every RANGE UNBOUNDED aggregate (peers share the result), and the
    /// first row to FIRST_VALUE over UNBOUNDED frames.
    fn start_peers(&mut self, partition: &mut Partition, peers: &[(u64, Vec<Value>)], time: i64) {
        for (c, call) in self.calls.iter().enumerate() {
            match (&call.function, call.frame) {
                (OverFunction::Aggregate(_), Frame::Range(None)) => {
                    if let (Some(agg), Some(state)) =
                        (&self.aggregates[c], &mut partition.running[c])
                    {
                        for (_, row) in peers {
                            let grown = agg.update(state, row);
                            self.footprint.change(grown);
                        }
                    }
                }
                (OverFunction::FirstValue(x), Frame::Rows(None) | Frame::Range(None))
                    if partition.firsts[c].is_none() =>
                {
                    if let Some((_, row)) = peers.first() {
                        let value = eval(x, row);
                        self.footprint.grow(value_heap(&value));
                        partition.firsts[c] = Some(value);
                    }
                }
                _ => {}
            }
        }
        for (position, row) in peers.iter().filter(|_| self.keeps_history) {
            self.footprint.grow(row_bytes(row) + KEPT_ENTRY_BYTES);
            partition.history.push_back(Kept {
                time,
                position: *position,
                row: row.clone(),
            });
        }
        partition.rows += peers.len() as u64;
        partition.times += 1;
    }

    /// Call `c`'s value for the row at `index` of the partition.
    fn call_value(
        &mut self,
        c: usize,
        partition: &mut Partition,
        index: u64,
        row: &[Value],
        time: i64,
        (rank, dense_rank): (u64, u64),
    ) -> Value {
        if matches!(self.calls[c].function, OverFunction::Aggregate(_)) {
            return self.aggregate_value(c, partition, index, row, time);
        }
        self.plain_value(c, partition, index, row, time, (rank, dense_rank))
    }

    /// The value of a call that is not an aggregate.
    fn plain_value(
        &self,
        c: usize,
        partition: &Partition,
        index: u64,
        row: &[Value],
        time: i64,
        (rank, dense_rank): (u64, u64),
    ) -> Value {
        let call = &self.calls[c];
        let last_peer = partition.rows - 1;
        match &call.function {
            OverFunction::RowNumber => Value::Int(index as i64 + 1),
            OverFunction::Rank => Value::Int(rank as i64),
            OverFunction::DenseRank => Value::Int(dense_rank as i64),
            OverFunction::Lag(shift) => match index.checked_sub(shift.offset as u64) {
                Some(before) => match partition.kept(before) {
                    Some(kept) => eval(&shift.arg, &kept.row),
                    None => shifted_default(shift, row),
                },
                None => shifted_default(shift, row),
            },
            // LEAD(x, 0) is the row's own x; others are filled in when the
            // following rows come.
            OverFunction::Lead(shift) if shift.offset == 0 => eval(&shift.arg, row),
            OverFunction::Lead(_) => Value::Null,
            OverFunction::FirstValue(x) => match call.frame {
                Frame::Rows(None) | Frame::Range(None) => {
                    partition.firsts[c].clone().unwrap_or(Value::Null)
                }
                Frame::Rows(Some(n)) => {
                    let first = index.saturating_sub(n as u64);
                    partition
                        .kept(first)
                        .map_or(Value::Null, |k| eval(x, &k.row))
                }
                Frame::Range(Some(span)) => {
                    let from = time.saturating_sub(span);
                    let first = partition.history.iter().find(|k| k.time >= from);
                    first.map_or(Value::Null, |k| eval(x, &k.row))
                }
            },
            OverFunction::LastValue(x) => match call.frame {
                Frame::Rows(_) => eval(x, row),
                Frame::Range(_) => partition
                    .kept(last_peer)
                    .map_or(Value::Null, |k| eval(x, &k.row)),
            },
            OverFunction::Aggregate(_) => Value::Null,
        }
    }

    fn aggregate_value(
        &mut self,
        c: usize,
        partition: &mut Partition,
        index: u64,
        row: &[Value],
        time: i64,
    ) -> Value {
        let Some(agg) = &self.aggregates[c] else {
            return Value::Null;
        };
        let mut result = Vec::with_capacity(1);
        match self.calls[c].frame {
            Frame::Rows(None) => {
                if let Some(state) = &mut partition.running[c] {
                    let grown = agg.update(state, row);
                    self.footprint.change(grown);
                    agg.results_into(state, &mut result);
                }
            }
            Frame::Range(None) => {
                if let Some(state) = &partition.running[c] {
                    agg.results_into(state, &mut result);
                }
            }
            Frame::Rows(Some(n)) => {
                if let Some(state) = &mut self.scratch[c] {
                    agg.reset(state);
                    let from = index.saturating_sub(n as u64);
                    for kept in partition.span(from, index) {
                        agg.update(state, &kept.row);
                    }
                    agg.results_into(state, &mut result);
                }
            }
            Frame::Range(Some(span)) => {
                if let Some(state) = &mut self.scratch[c] {
                    agg.reset(state);
                    let from = time.saturating_sub(span);
                    for kept in partition.history.iter().filter(|k| k.time >= from) {
                        agg.update(state, &kept.row);
                    }
                    agg.results_into(state, &mut result);
                }
            }
        }
        result.pop().unwrap_or(Value::Null)
    }

    /// Emits the waiting rows whose LEAD rows have all come. Each goes out
    /// in the place of the row that completed it (its partition's row
    /// `rows_ahead` later), so the output order is the same however the
    /// input is cut into chunks or shards.
    fn release_waiting(&mut self, partition: &mut Partition, out: &mut Output) {
        while let Some(waiting) = partition.waiting.front() {
            let completer = partition.kept(waiting.index + self.rows_ahead);
            let Some(order) = completer.map(|k| (k.time, k.position)) else {
                break;
            };
            if let Some(waiting) = partition.waiting.pop_front() {
                self.emit_waiting(partition, waiting, order, out);
            }
        }
    }

    /// Fills a waiting row's LEAD values (the default past the partition's
    /// last row) and emits it at `order`.
    fn emit_waiting(
        &mut self,
        partition: &Partition,
        mut waiting: Waiting,
        order: (i64, u64),
        out: &mut Output,
    ) {
        let width = waiting.over_row.len() - self.calls.len();
        for (c, call) in self.calls.iter().enumerate() {
            if let OverFunction::Lead(shift) = &call.function {
                let after = waiting.index + shift.offset as u64;
                let value = match partition.kept(after) {
                    Some(kept) => eval(&shift.arg, &kept.row),
                    None => shifted_default(shift, &waiting.over_row[..width]),
                };
                waiting.over_row[width + c] = value;
            }
        }
        self.emit(waiting.over_row, order, out);
    }

    /// Writes an over row that QUALIFY admits as an output row, at
    /// `(time, position)` in the output order.
    fn emit(&mut self, over_row: Vec<Value>, (time, position): (i64, u64), out: &mut Output) {
        if self.qualify.as_ref().is_none_or(|q| is_true(q, &over_row)) {
            let mut values = out.new_values(self.projections.len() + 1);
            self.changelog.start_row(&mut values);
            values.extend(self.projections.iter().map(|p| eval(p, &over_row)));
            out.rows.push(OutputRow {
                values,
                order: RowOrder::EventTime { time, position },
            });
        }
        out.recycle_values(over_row);
    }

    /// Forgets the rows no later row's frame, LAG or LEAD reaches.
    fn trim(&mut self, partition: &mut Partition, time: i64) {
        let mut keep_from = partition.rows.saturating_sub(self.rows_back);
        if let Some(waiting) = partition.waiting.front() {
            keep_from = keep_from.min(waiting.index);
        }
        if let Some(span) = self.span_back {
            // Later rows have later times, so they reach back no further.
            let from = time.saturating_sub(span);
            let reached = partition.history.iter().position(|k| k.time >= from);
            let reached = reached.map_or(partition.rows, |i| partition.first_index + i as u64);
            keep_from = keep_from.min(reached);
        }
        while partition.first_index < keep_from {
            let Some(kept) = partition.history.pop_front() else {
                break;
            };
            self.footprint
                .shrink(row_bytes(&kept.row) + KEPT_ENTRY_BYTES);
            partition.first_index += 1;
        }
    }
}

/// Bytes a pending row's entry in the ordered map takes besides the row.
const PENDING_ENTRY_BYTES: usize = 48;
/// Bytes a kept row takes in a history besides the row.
const KEPT_ENTRY_BYTES: usize = std::mem::size_of::<Kept>();
/// Bytes a partition takes in the map besides its key's values.
const PARTITION_ENTRY_BYTES: usize = std::mem::size_of::<Partition>() + 32;

/// How many rows before the current one `call` reads.
fn rows_back(call: &OverCall) -> u64 {
    match (&call.function, call.frame) {
        (OverFunction::Lag(shift), _) => shift.offset as u64,
        (_, Frame::Rows(Some(n))) if reads_frame(call) => n as u64,
        _ => 0,
    }
}

/// Whether `call` reads rows kept in the history: a bounded frame's, the
/// last peer's (LAST_VALUE over RANGE), LAG's and LEAD's. A running value
/// over an UNBOUNDED frame and the row numbers need none.
fn reads_history(call: &OverCall) -> bool {
    match (&call.function, call.frame) {
        (OverFunction::Lag(_) | OverFunction::Lead(_), _) => true,
        (OverFunction::LastValue(_), Frame::Range(_)) => true,
        (OverFunction::LastValue(_), Frame::Rows(_)) => false,
        (_, Frame::Rows(Some(_)) | Frame::Range(Some(_))) => reads_frame(call),
        _ => false,
    }
}

/// Whether `call`'s value depends on the rows of its frame (ranking and
/// LAG/LEAD ignore frames, as in SQL).
fn reads_frame(call: &OverCall) -> bool {
    matches!(
        call.function,
        OverFunction::Aggregate(_) | OverFunction::FirstValue(_) | OverFunction::LastValue(_)
    )
}

/// Sorts the rows one call made by their order: a runtime that writes rows
/// as engines emit them (the shared-lock baseline) then writes what the
/// merger would.
fn in_output_order(rows: &mut [OutputRow]) {
    if !rows.is_sorted_by(|a, b| a.order <= b.order) {
        rows.sort_by(|a, b| a.order.cmp(&b.order));
    }
}

/// LAG / LEAD's value when no row is in reach: the default, else NULL.
fn shifted_default(shift: &Shift, row: &[Value]) -> Value {
    match &shift.default {
        Some(default) => eval(default, row),
        None => Value::Null,
    }
}
