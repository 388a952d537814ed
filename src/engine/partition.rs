//! The engine's contract and its driver: [`PartitionEngine`] applies WHERE,
//! then either projects row by row or hands rows to the grouped operator, and
//! keeps the counters. A join of two streams comes first: its joined rows
//! are what WHERE and the operator see.

use super::changelog::Changelog;
use super::eval::{eval, is_true};
use super::grouped::{Grouped, Outcome};
use super::over::OverOperator;
use super::pre_aggregate::PartialGroups;
use super::stream_join::{Joined, StreamJoinOperator};
use super::top_n::TopNOperator;
use crate::data::{Batch, Value};
use crate::plan::{QueryKind, QueryPlan, ScalarExpr, TimeSettings};

/// Where an output row goes in the ordered result. Runtimes merge the output
/// of several engines by this order; it is a function of the input alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowOrder {
    /// Stateless and EMIT CHANGES rows: the causing record's position, then
    /// the row's index among the rows that record caused.
    Position { position: u64, seq: u32 },
    /// OVER rows: the row's event time, then its position.
    EventTime { time: i64, position: u64 },
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
    /// Emptied row vectors given back by the caller, reused for new rows.
    spare_values: Vec<Vec<Value>>,
}

/// At most this many emptied row vectors are kept for reuse.
const MAX_SPARE_VALUES: usize = 1 << 14;

impl Output {
    /// Gives back a drained row's vector, so a later row reuses its memory
    /// instead of allocating (and the caller need not free it).
    pub fn recycle_values(&mut self, mut values: Vec<Value>) {
        if self.spare_values.len() < MAX_SPARE_VALUES && values.capacity() > 0 {
            values.clear();
            self.spare_values.push(values);
        }
    }

    /// An empty vector for a new row's values.
    pub(crate) fn new_values(&mut self, width: usize) -> Vec<Value> {
        self.spare_values
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(width))
    }
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
#[derive(Clone)]
pub struct PartitionEngine {
    /// A join of two streams, before WHERE: its pairs are the rows WHERE
    /// and the operator see.
    join: Option<Box<StreamJoinOperator>>,
    /// A grouping over an interval join windowed by a side's time column,
    /// or an OVER ordered by it: that side (its windows close, its rows are
    /// released, as the join's rows of that side settle).
    window_side: Option<usize>,
    filter: Option<ScalarExpr>,
    operator: Operator,
    stats: EngineStats,
    /// Scratch: rows of a batch the grouped operator did not take.
    rejected: Vec<(usize, Outcome)>,
    /// Set once the end of the input began closing everything.
    finishing: bool,
}

/// The rows of `batch` that pass `filter`, and their positions; counts
/// them in `stats`, and the others as filtered.
fn rows_past_where<'b>(
    filter: Option<&ScalarExpr>,
    stats: &mut EngineStats,
    batch: &'b Batch,
) -> (Vec<&'b [Value]>, Vec<u64>) {
    stats.records_in += batch.len() as u64;
    let passed = batch
        .rows()
        .filter(|(row, _)| filter.is_none_or(|filter| is_true(filter, row)));
    let (rows, positions): (Vec<&[Value]>, Vec<u64>) = passed.unzip();
    stats.filtered += (batch.len() - rows.len()) as u64;
    (rows, positions)
}

/// Counts a record the grouped operator did not take: in no window
/// (filtered), or late (kept for the dead-letter output).
fn count_rejected(
    stats: &mut EngineStats,
    outcome: Outcome,
    row: &[Value],
    position: u64,
    out: &mut Output,
) {
    match outcome {
        Outcome::Processed => stats.processed += 1,
        Outcome::Dropped => stats.filtered += 1,
        Outcome::Late(event_time) => {
            stats.late += 1;
            out.late.push(LateRecord {
                position,
                values: row.to_vec(),
                event_time,
            });
        }
    }
}

/// Where a joined row goes: at the position of the row that completed the
/// pair, or of the row that never matched (after the pairs of a row at the
/// same position; a left row before a right one).
fn joined_order(position: u64, how: Joined) -> RowOrder {
    let seq = match how {
        Joined::Pair => 0,
        Joined::Unmatched { side } => 1 + side as u32,
    };
    RowOrder::Position { position, seq }
}

/// Writes a joined `row` through WHERE and the operator after the join:
/// the SELECT list, or a grouping, Top-N or OVER (which the planner allows
/// only by the join key, so its groups are whole on this shard).
fn write_joined(
    filter: Option<&ScalarExpr>,
    operator: &mut Operator,
    row: &[Value],
    (position, how): (u64, Joined),
    out: &mut Output,
) {
    if filter.is_some_and(|filter| !is_true(filter, row)) {
        return;
    }
    match operator {
        Operator::Stateless {
            projections,
            changelog,
        } => project(
            projections,
            changelog,
            row,
            joined_order(position, how),
            out,
        ),
        Operator::Grouped(grouped) => {
            // A row the join writes is never behind the watermark the
            // grouping (or OVER) is given (see
            // `PartitionEngine::advance_watermark`); one without an event
            // time is in no window, as WHERE would drop it.
            let outcome = grouped.push_row(row, position, out);
            debug_assert!(
                !matches!(outcome, Outcome::Late(_)),
                "a joined row came late"
            );
        }
        Operator::TopN(top) => {
            top.push_row(row, position, out);
        }
        Operator::Over(over) => {
            let outcome = over.push_row(row, position);
            debug_assert!(
                !matches!(outcome, Outcome::Late(_)),
                "a joined row came late"
            );
        }
    }
}

/// Numbers the rows one record caused in `rows` in the order they were
/// made: a record that completes several pairs writes each pair's rows
/// with a numbering of its own, and the merger's sort must keep them in turn.
fn number_record_rows(rows: &mut [OutputRow]) {
    for (seq, row) in rows.iter_mut().enumerate() {
        if let RowOrder::Position { seq: at, .. } = &mut row.order {
            *at = seq as u32;
        }
    }
}

/// Writes the SELECT list of a stateless query over `row`.
fn project(
    projections: &[ScalarExpr],
    changelog: &Changelog,
    row: &[Value],
    order: RowOrder,
    out: &mut Output,
) {
    let mut values = out.new_values(projections.len() + 1);
    changelog.start_row(&mut values);
    values.extend(projections.iter().map(|p| eval(p, row)));
    out.rows.push(OutputRow { values, order });
}

/// The time settings of `plan`'s grouping. After a join of two streams it
/// is given the join's own watermark (see
/// [`PartitionEngine::advance_watermark`]), which already allows for
/// lateness: the join drops late records before they pair.
fn grouping_time(plan: &QueryPlan) -> TimeSettings {
    match plan.join {
        Some(_) => TimeSettings {
            allowed_lateness_ms: 0,
            aligned_only: true,
            ..plan.time
        },
        None => plan.time,
    }
}

#[derive(Clone)]
enum Operator {
    Stateless {
        projections: Vec<ScalarExpr>,
        /// Every row is an insert (`+I`) in a changelog.
        changelog: Changelog,
    },
    Grouped(Box<Grouped>),
    Over(Box<OverOperator>),
    TopN(Box<TopNOperator>),
}

impl PartitionEngine {
    pub fn new(plan: &QueryPlan) -> Self {
        let operator = match &plan.kind {
            QueryKind::Stateless { projections } => Operator::Stateless {
                projections: projections.clone(),
                changelog: Changelog::new(plan.changelog),
            },
            QueryKind::Aggregate(a) => Operator::Grouped(Box::new(Grouped::new(
                a,
                plan.emit,
                plan.changelog,
                grouping_time(plan),
            ))),
            QueryKind::Over(over) => {
                Operator::Over(Box::new(OverOperator::new(over, plan.changelog)))
            }
            QueryKind::TopN(top) => {
                Operator::TopN(Box::new(TopNOperator::new(top, plan.emit, plan.changelog)))
            }
        };
        let window_side = plan.join.as_ref().and_then(|join| {
            let interval = join.interval?;
            let time_column = match &plan.kind {
                QueryKind::Aggregate(grouping) => grouping.window?.time_column,
                QueryKind::Over(over) => over.time_column,
                QueryKind::Stateless { .. } | QueryKind::TopN(_) => return None,
            };
            let time_columns = interval.time_columns_over_joined_row(join.left_width);
            time_columns.iter().position(|&c| c == time_column)
        });
        PartitionEngine {
            window_side,
            join: plan.join.as_ref().map(|join| {
                let lateness_ms = plan.time.allowed_lateness_ms;
                Box::new(StreamJoinOperator::new(join, lateness_ms))
            }),
            filter: plan.filter.clone(),
            operator,
            stats: EngineStats::default(),
            rejected: Vec::new(),
            finishing: false,
        }
    }

    /// The engine of partition `partition` of `partitions`: as [`Self::new`],
    /// except that only partition 0, where every row of a query without
    /// GROUP BY goes, emits such a query's row over empty input.
    pub fn for_partition(plan: &QueryPlan, partition: usize) -> Self {
        let mut engine = Self::new(plan);
        if let Operator::Grouped(grouped) = &mut engine.operator {
            grouped.set_owns_empty_group(partition == 0);
        }
        engine
    }

    /// The grouping operator, when the plan groups.
    pub(super) fn grouping_mut(&mut self) -> Option<&mut Grouped> {
        match &mut self.operator {
            Operator::Grouped(grouped) => Some(grouped),
            _ => None,
        }
    }

    /// Folds another shard's pre-aggregated groups (see
    /// [`super::PreAggregator`]) into this partition's, in chunk order with
    /// the rows it is sent; their records count as processed here.
    pub fn merge_partial(&mut self, partial: &PartialGroups) {
        if let Operator::Grouped(grouped) = &mut self.operator {
            for (window_end, table) in &partial.tables {
                grouped.merge_groups(*window_end, table);
            }
            self.stats.records_in += partial.records();
            self.stats.processed += partial.records();
        }
    }

    /// Processes rows routed to this partition (in position order).
    ///
    /// A windowed query drops a record whose event time is NULL (or not a
    /// time), or that no window contains (sliding windows with gaps); such
    /// records count as `filtered`.
    pub fn push(&mut self, batch: &Batch, out: &mut Output) {
        if self.join.is_some() {
            return self.push_to_join(batch, out);
        }
        if let Operator::Grouped(grouped) = &mut self.operator {
            if grouped.takes_batches() {
                let emitted_before = out.rows.len();
                let (rows, positions) =
                    rows_past_where(self.filter.as_ref(), &mut self.stats, batch);
                grouped.push_rows(&rows, &mut self.rejected, out);
                self.stats.processed += (rows.len() - self.rejected.len()) as u64;
                for (index, outcome) in self.rejected.drain(..) {
                    let (row, position) = (rows[index], positions[index]);
                    count_rejected(&mut self.stats, outcome, row, position, out);
                }
                self.stats.rows_emitted += (out.rows.len() - emitted_before) as u64;
                return;
            }
        }
        self.push_row_by_row(batch, out);
    }

    /// Processes rows one at a time (what [`PartitionEngine::push`] does
    /// for plans whose operator does not take whole batches).
    pub(crate) fn push_row_by_row(&mut self, batch: &Batch, out: &mut Output) {
        let emitted_before = out.rows.len();
        for (row, position) in batch.rows() {
            self.push_row(row, position, out);
        }
        self.stats.rows_emitted += (out.rows.len() - emitted_before) as u64;
    }

    /// Joins each row with the other side's, then filters and projects the
    /// pairs (a join of two streams has a stateless operator). Every record
    /// the join takes is processed, but an interval join's late ones; WHERE
    /// drops pairs, not records.
    fn push_to_join(&mut self, batch: &Batch, out: &mut Output) {
        let emitted_before = out.rows.len();
        let Self {
            join: Some(join),
            filter,
            operator,
            stats,
            ..
        } = self
        else {
            return;
        };
        for (row, position) in batch.rows() {
            stats.records_in += 1;
            let written_before = out.rows.len();
            let outcome = join.push(row, position, |joined, how| {
                write_joined(filter.as_ref(), operator, joined, (position, how), out);
            });
            number_record_rows(&mut out.rows[written_before..]);
            count_rejected(stats, outcome, row, position, out);
        }
        stats.rows_emitted += (out.rows.len() - emitted_before) as u64;
    }

    #[inline]
    fn push_row(&mut self, row: &[Value], position: u64, out: &mut Output) {
        self.stats.records_in += 1;
        if let Some(filter) = &self.filter {
            if !is_true(filter, row) {
                self.stats.filtered += 1;
                return;
            }
        }
        match &mut self.operator {
            Operator::Stateless {
                projections,
                changelog,
            } => {
                let order = RowOrder::Position { position, seq: 0 };
                project(projections, changelog, row, order, out);
                self.stats.processed += 1;
            }
            Operator::Grouped(grouped) => match grouped.push_row(row, position, out) {
                Outcome::Processed => self.stats.processed += 1,
                outcome => count_rejected(&mut self.stats, outcome, row, position, out),
            },
            Operator::Over(over) => match over.push_row(row, position) {
                Outcome::Processed => self.stats.processed += 1,
                outcome => count_rejected(&mut self.stats, outcome, row, position, out),
            },
            Operator::TopN(top) => match top.push_row(row, position, out) {
                Outcome::Processed => self.stats.processed += 1,
                outcome => count_rejected(&mut self.stats, outcome, row, position, out),
            },
        }
    }

    /// Moves event time forward to `watermark` (ms): closes windows whose end
    /// plus the allowed lateness it has reached, and emits them (EMIT FINAL).
    ///
    /// After a join, the grouping's windows close by the oldest time the
    /// join may still write on the window's side (the join's rows come
    /// later than their own times: a pair when its second row arrives, an
    /// unmatched row when the watermark passes its interval), so no joined
    /// row is ever late for the grouping.
    pub fn advance_watermark(&mut self, mut watermark: i64, out: &mut Output) {
        let before = out.rows.len();
        if let Some(join) = self.join.as_mut() {
            let (filter, operator) = (self.filter.as_ref(), &mut self.operator);
            join.advance_watermark(watermark, |joined, position, how| {
                write_joined(filter, operator, joined, (position, how), out);
            });
            watermark = match self.window_side {
                Some(side) => join.oldest_written(side),
                None => i64::MIN,
            };
        }
        match &mut self.operator {
            Operator::Grouped(grouped) => grouped.advance_watermark(watermark, out),
            Operator::Over(over) => over.advance_watermark(watermark, out),
            Operator::Stateless { .. } | Operator::TopN(_) => {}
        }
        self.stats.rows_emitted += (out.rows.len() - before) as u64;
    }

    /// End of bounded input: closes every open window and group, writing
    /// every final row at once.
    pub fn finish(&mut self, out: &mut Output) {
        while self.finish_piece(out, usize::MAX) {}
    }

    /// End of bounded input, a piece at a time: closes every open window
    /// and group, and returns once this call wrote about `rows` rows (a
    /// grouping's final rows are cut into pieces; the rest comes in the
    /// first). True while rows remain: call again.
    pub fn finish_piece(&mut self, out: &mut Output, rows: usize) -> bool {
        let before = out.rows.len();
        let first = !std::mem::replace(&mut self.finishing, true);
        if let (true, Some(join)) = (first, self.join.as_mut()) {
            let (filter, operator) = (self.filter.as_ref(), &mut self.operator);
            join.finish(|joined, position, how| {
                write_joined(filter, operator, joined, (position, how), out);
            });
        }
        let more = match &mut self.operator {
            Operator::Grouped(grouped) => grouped.finish_piece(out, rows),
            Operator::Over(over) if first => {
                over.finish(out);
                false
            }
            Operator::TopN(top) if first => {
                top.finish(out);
                false
            }
            Operator::Over(_) | Operator::TopN(_) | Operator::Stateless { .. } => false,
        };
        self.stats.rows_emitted += (out.rows.len() - before) as u64;
        more
    }

    /// This engine's watermark (ms; `i64::MIN` before any event time).
    pub fn watermark(&self) -> i64 {
        if let Some(join) = &self.join {
            return join.watermark();
        }
        match &self.operator {
            Operator::Grouped(grouped) => grouped.watermark(),
            Operator::Over(over) => over.watermark(),
            Operator::Stateless { .. } | Operator::TopN(_) => i64::MIN,
        }
    }

    /// Windows (per key) and groups still open: what `finish` would close.
    pub fn open_groups(&self) -> u64 {
        let kept = self.join.as_ref().map_or(0, |join| join.kept_rows());
        let open = match &self.operator {
            Operator::Grouped(grouped) => grouped.open_groups(),
            Operator::Over(over) => over.open_rows(),
            Operator::TopN(top) => top.kept_rows(),
            Operator::Stateless { .. } => 0,
        };
        (kept + open) as u64
    }

    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Sets the counters back to `stats` (taken earlier): what was counted
    /// since is undone, because its records go elsewhere after all.
    pub(super) fn restore_stats(&mut self, stats: EngineStats) {
        self.stats = stats;
    }

    /// An estimate of the bytes this engine's state holds: groups and their
    /// keys, aggregate states with the strings and DISTINCT sets they keep,
    /// open windows and sessions, and the tables that index them. Kept up to
    /// date as the state changes, so it costs nothing to read after every
    /// push; a stateless query holds none.
    pub fn state_bytes(&self) -> usize {
        let kept = self.join.as_ref().map_or(0, |join| join.state_bytes());
        kept + match &self.operator {
            Operator::Grouped(grouped) => grouped.state_bytes(),
            Operator::Over(over) => over.state_bytes(),
            Operator::TopN(top) => top.state_bytes(),
            Operator::Stateless { .. } => 0,
        }
    }
}
