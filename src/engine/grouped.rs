//! The grouped operator: GROUP BY keys, aggregates, windows, watermark,
//! HAVING and the SELECT list over the group row, for both emit modes, and
//! the running count of the bytes its state holds. EMIT CHANGES compares a
//! group's output row before and after each record (see [`super::changelog`]).

use super::aggregate::{Aggregates, GroupState};
use super::changelog::{Changelog, RecordRows};
use super::eval::{eval, is_true};
use super::footprint::Footprint;
use super::partition::{Output, OutputRow, RowOrder};
use super::route::time_value;
use super::window::{
    group_table_bytes, AlignedWindows, Clock, GroupKey, GroupMap, Session, SessionWindows,
};
use crate::data::Value;
use crate::plan::{AggregatePlan, EmitMode, ExprKind, ScalarExpr, TimeSettings, WindowKind};

/// What became of one record given to [`Grouped::push_row`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    /// Every window it belongs to had closed; its event time.
    Late(i64),
    /// No event time (NULL or not a time), or no window contains it.
    Dropped,
}

/// Everything but the group store: aggregates and the output side.
#[derive(Clone)]
struct Context {
    aggs: Aggregates,
    having: Option<ScalarExpr>,
    projections: Vec<ScalarExpr>,
    emit: EmitMode,
    changelog: Changelog,
    windowed: bool,
    /// Scratch for the group row `[keys.., aggs.., window_start, window_end]`.
    group_row: Vec<Value>,
    /// States of closed groups, reset, for new groups.
    spare_states: Vec<GroupState>,
    /// Scratch for the groups of a closing window.
    closing: Vec<(GroupKey, GroupState)>,
    /// Scratch for the rows of the sessions a record joins, before it does.
    joined: Vec<Option<Vec<Value>>>,
    /// Bytes held by the groups, their tables and windows, and spare states.
    footprint: Footprint,
}

/// At most this many closed group states are kept for reuse.
const MAX_SPARE_STATES: usize = 1 << 16;

/// The key of a record whose single GROUP BY column is missing.
static NULL_KEY: [Value; 1] = [Value::Null];

impl Context {
    /// The output row of a group, or `None` when HAVING rejects it, in
    /// memory reused from `out`.
    fn output_row(
        &mut self,
        key: &[Value],
        state: &GroupState,
        window: Option<(i64, i64)>,
        out: &mut Output,
    ) -> Option<Vec<Value>> {
        self.group_row.clear();
        self.group_row.extend_from_slice(key);
        self.aggs.results_into(state, &mut self.group_row);
        if let (true, Some((start, end))) = (self.windowed, window) {
            self.group_row.push(Value::Timestamp(start));
            self.group_row.push(Value::Timestamp(end));
        }
        if let Some(having) = &self.having {
            if !is_true(having, &self.group_row) {
                return None;
            }
        }
        let mut values = out.new_values(self.projections.len() + 1);
        self.changelog.start_row(&mut values);
        values.extend(self.projections.iter().map(|p| eval(p, &self.group_row)));
        Some(values)
    }

    /// Adds `row` to the group `key` of `map` (creating it; the key is cloned
    /// only then) and, with EMIT CHANGES, emits how its output row changed.
    #[inline]
    fn update_group(
        &mut self,
        map: &mut GroupMap,
        key: &[Value],
        row: &[Value],
        window: Option<(i64, i64)>,
        rows: &mut RecordRows,
    ) {
        let changes = self.emit == EmitMode::Changes;
        if let Some(state) = map.get_mut(key) {
            let before = match changes {
                true => self.output_row(key, state, window, rows.out),
                false => None,
            };
            self.footprint.change(self.aggs.update(state, row));
            if changes {
                let after = self.output_row(key, state, window, rows.out);
                self.changelog.emit(before, after, rows);
            }
            return;
        }
        let mut state = self.take_state();
        self.footprint.change(self.aggs.update(&mut state, row));
        if changes {
            let after = self.output_row(key, &state, window, rows.out);
            self.changelog.emit(None, after, rows);
        }
        let key = GroupKey::new(key);
        let table_before = group_table_bytes(map.capacity());
        self.footprint.grow(key.heap_bytes());
        map.insert(key, state);
        self.footprint
            .resize(table_before, group_table_bytes(map.capacity()));
    }

    /// Adds `row` at `t` to the sessions of `key` and, with EMIT CHANGES,
    /// emits how the output changed: the rows of the sessions it merged
    /// into the first are deleted, then the first's row is updated.
    fn join_session(
        &mut self,
        sessions: &mut SessionWindows,
        key: &[Value],
        t: i64,
        row: &[Value],
        rows: &mut RecordRows,
    ) {
        if self.emit != EmitMode::Changes {
            sessions.add(key, t, &self.aggs, row, &mut self.footprint);
            return;
        }
        let mut joined = std::mem::take(&mut self.joined);
        for session in sessions.overlapping(key, t) {
            let window = Some((session.start, session.end));
            joined.push(self.output_row(key, &session.state, window, rows.out));
        }
        let session = sessions.add(key, t, &self.aggs, row, &mut self.footprint);
        let window = Some((session.start, session.end));
        let after = self.output_row(key, &session.state, window, rows.out);
        let mut joined_rows = joined.drain(..);
        let first = joined_rows.next().flatten();
        for merged in joined_rows {
            self.changelog.emit(merged, None, rows);
        }
        self.changelog.emit(first, after, rows);
        self.joined = joined;
    }

    /// A fresh group state, reusing one from a closed group when possible.
    fn take_state(&mut self) -> GroupState {
        self.spare_states.pop().unwrap_or_else(|| {
            let state = self.aggs.new_state();
            self.footprint.grow(self.aggs.state_bytes(&state));
            state
        })
    }

    /// Takes back the state of a closed group for reuse.
    fn recycle(&mut self, mut state: GroupState) {
        if self.spare_states.len() < MAX_SPARE_STATES {
            self.footprint.change(self.aggs.reset(&mut state));
            self.spare_states.push(state);
        } else {
            self.footprint.shrink(self.aggs.state_bytes(&state));
        }
    }

    /// Drops a closed group without output: its key goes, its state is reused.
    fn discard(&mut self, key: GroupKey, state: GroupState) {
        self.footprint.shrink(key.heap_bytes());
        self.recycle(state);
    }

    /// EMIT FINAL rows of the groups of one closing window, sorted by key.
    fn final_rows(
        &mut self,
        groups: impl Iterator<Item = (GroupKey, GroupState)>,
        start: i64,
        end: i64,
        out: &mut Output,
    ) {
        let mut closing = std::mem::take(&mut self.closing);
        closing.extend(groups);
        // Keys are unique within a window, so an unstable sort is deterministic.
        closing.sort_unstable_by(|a, b| a.0.as_slice().cmp(b.0.as_slice()));
        out.rows.reserve(closing.len());
        for (key, state) in closing.drain(..) {
            // The key moves into the output row's order.
            self.footprint.shrink(key.heap_bytes());
            let window = Some((start, end));
            if let Some(values) = self.output_row(key.as_slice(), &state, window, out) {
                out.rows.push(OutputRow {
                    values,
                    order: RowOrder::Window {
                        end,
                        start,
                        key: key.into_vec(),
                    },
                });
            }
            self.recycle(state);
        }
        self.closing = closing;
    }
}

#[derive(Clone)]
enum Store {
    Unwindowed(GroupMap),
    Aligned(AlignedWindows),
    Sessions(SessionWindows),
}

/// GROUP BY with aggregates, optionally windowed.
#[derive(Clone)]
pub struct Grouped {
    keys: Vec<ScalarExpr>,
    /// Set when the key is one column: it is then borrowed from the row.
    single_key_column: Option<usize>,
    time_column: usize,
    clock: Clock,
    store: Store,
    ctx: Context,
    /// Scratch for the evaluated key of the current record.
    key: Vec<Value>,
    /// Scratch for closed sessions before they are sorted.
    closed: Vec<OutputRow>,
    /// Emits the one group of a GROUP-BY-less EMIT FINAL aggregate at the
    /// end of the input even when no row reached it (`COUNT(*)` = 0), as
    /// SQL does. Only the partition that owns the empty key (0) does.
    owns_empty_group: bool,
}

impl Grouped {
    /// The operator of `plan`, emitting as `emit` says, with a row kind
    /// first in every row when `changelog` is set.
    pub fn new(plan: &AggregatePlan, emit: EmitMode, changelog: bool, time: TimeSettings) -> Self {
        let lateness = time.allowed_lateness_ms;
        let store = match plan.window.map(|w| w.kind) {
            None => Store::Unwindowed(GroupMap::default()),
            Some(WindowKind::Tumbling { size_ms }) => {
                Store::Aligned(AlignedWindows::new(size_ms, size_ms, lateness))
            }
            Some(WindowKind::Sliding {
                size_ms,
                advance_ms,
            }) => Store::Aligned(AlignedWindows::new(size_ms, advance_ms, lateness)),
            Some(WindowKind::Session { gap_ms }) => {
                Store::Sessions(SessionWindows::new(gap_ms, lateness))
            }
        };
        Grouped {
            keys: plan.group_keys.clone(),
            time_column: plan.window.map_or(0, |w| w.time_column),
            clock: if time.aligned_only {
                Clock::new(time.max_out_of_orderness_ms).aligned_only()
            } else {
                Clock::new(time.max_out_of_orderness_ms)
            },
            store,
            ctx: Context {
                aggs: Aggregates::new(&plan.aggregates),
                having: plan.having.clone(),
                projections: plan.projections.clone(),
                emit,
                changelog: Changelog::new(changelog),
                windowed: plan.window.is_some(),
                group_row: Vec::with_capacity(plan.group_row_width()),
                spare_states: Vec::new(),
                closing: Vec::new(),
                joined: Vec::new(),
                footprint: Footprint::default(),
            },
            single_key_column: match plan.group_keys.as_slice() {
                [ScalarExpr {
                    kind: ExprKind::Column(i),
                    ..
                }] => Some(*i),
                _ => None,
            },
            key: Vec::with_capacity(plan.group_keys.len()),
            closed: Vec::new(),
            owns_empty_group: true,
        }
    }

    /// Tells this operator whether it is the partition that owns the empty
    /// key (see [`Grouped::finish`]).
    pub fn set_owns_empty_group(&mut self, owns: bool) {
        self.owns_empty_group = owns;
    }

    pub fn watermark(&self) -> i64 {
        self.clock.watermark()
    }

    /// The bytes this operator's state holds (see [`super::footprint`]).
    pub fn state_bytes(&self) -> usize {
        self.ctx.footprint.bytes()
    }

    /// Aggregates one source row (already past WHERE) at `position`.
    pub fn push_row(&mut self, row: &[Value], position: u64, out: &mut Output) -> Outcome {
        let key: &[Value] = match self.single_key_column {
            Some(i) => row.get(i).map_or(&NULL_KEY[..], std::slice::from_ref),
            None => {
                self.key.clear();
                self.key.extend(self.keys.iter().map(|k| eval(k, row)));
                &self.key
            }
        };
        let watermark = self.clock.watermark();
        let event_time = match &self.store {
            Store::Unwindowed(_) => None,
            _ => match row.get(self.time_column).and_then(time_value) {
                Some(t) => Some(t),
                None => return Outcome::Dropped,
            },
        };
        let rows = &mut RecordRows::new(out, position);
        match (&mut self.store, event_time) {
            (Store::Unwindowed(map), _) => {
                self.ctx.update_group(map, key, row, None, rows);
                return Outcome::Processed;
            }
            (Store::Aligned(windows), Some(t)) => {
                let (first, last) = windows.start_range(t);
                if first > last {
                    return Outcome::Dropped;
                }
                let mut open = false;
                let mut start = first;
                while start <= last {
                    if windows.closes_at(start) > watermark {
                        open = true;
                        let end = start.saturating_add(windows.size());
                        let map = windows.window_mut(start, &mut self.ctx.footprint);
                        self.ctx
                            .update_group(map, key, row, Some((start, end)), rows);
                    }
                    match start.checked_add(windows.advance()) {
                        Some(next) => start = next,
                        None => break,
                    }
                }
                if !open {
                    return Outcome::Late(t);
                }
            }
            (Store::Sessions(sessions), Some(t)) => {
                if sessions.closes_at(t.saturating_add(sessions.gap())) <= watermark {
                    return Outcome::Late(t);
                }
                self.ctx.join_session(sessions, key, t, row, rows);
            }
            (_, None) => return Outcome::Dropped,
        }
        if let Some(t) = event_time {
            self.clock.observe(t);
            self.close_ready(out);
        }
        Outcome::Processed
    }

    /// Moves the watermark forward and closes what it reaches.
    pub fn advance_watermark(&mut self, watermark: i64, out: &mut Output) {
        self.clock.advance(watermark);
        self.close_ready(out);
    }

    /// Closes every window; EMIT FINAL emits them and unwindowed groups. An
    /// aggregate without GROUP BY or window emits its one row even over
    /// empty input (on the partition that owns the empty key).
    pub fn finish(&mut self, out: &mut Output) {
        self.advance_watermark(i64::MAX, out);
        if let Store::Unwindowed(map) = &mut self.store {
            if self.ctx.emit == EmitMode::Final {
                let empty_global = self.keys.is_empty() && map.is_empty() && self.owns_empty_group;
                if empty_global {
                    let state = self.ctx.take_state();
                    map.insert(GroupKey::new(&[]), state);
                }
                self.ctx.final_rows(map.drain(), i64::MIN, i64::MAX, out);
            } else {
                map.drain()
                    .for_each(|(key, state)| self.ctx.discard(key, state));
            }
        }
    }

    /// Groups not yet closed: one per open window and key (per key when unwindowed).
    pub fn open_groups(&self) -> usize {
        match &self.store {
            Store::Unwindowed(map) => map.len(),
            Store::Aligned(windows) => windows.open_groups(),
            Store::Sessions(sessions) => sessions.open_sessions(),
        }
    }

    fn next_close(&self) -> i64 {
        match &self.store {
            Store::Unwindowed(_) => i64::MAX,
            Store::Aligned(w) => w.next_close(),
            Store::Sessions(s) => s.next_close(),
        }
    }

    /// Closes windows the watermark has reached: O(1) when none has.
    #[inline]
    fn close_ready(&mut self, out: &mut Output) {
        let watermark = self.clock.watermark();
        if watermark < self.next_close() {
            return;
        }
        let emit_final = self.ctx.emit == EmitMode::Final;
        match &mut self.store {
            Store::Unwindowed(_) => {}
            Store::Aligned(windows) => {
                while let Some((start, mut map)) =
                    windows.pop_closed(watermark, &mut self.ctx.footprint)
                {
                    if emit_final {
                        let end = start.saturating_add(windows.size());
                        self.ctx.final_rows(map.drain(), start, end, out);
                    } else {
                        map.drain()
                            .for_each(|(key, state)| self.ctx.discard(key, state));
                    }
                    windows.recycle(map, &mut self.ctx.footprint);
                }
            }
            Store::Sessions(sessions) => {
                let ctx = &mut self.ctx;
                let closed = &mut self.closed;
                let forgotten = sessions.pop_closed(watermark, |key, session: Session| {
                    let window = Some((session.start, session.end));
                    if emit_final {
                        if let Some(values) = ctx.output_row(key, &session.state, window, out) {
                            closed.push(OutputRow {
                                values,
                                order: RowOrder::Window {
                                    end: session.end,
                                    start: session.start,
                                    key: key.to_vec(),
                                },
                            });
                        }
                    }
                    ctx.recycle(session.state);
                });
                self.ctx.footprint.shrink(forgotten);
                self.closed.sort_by(|a, b| a.order.cmp(&b.order));
                out.rows.append(&mut self.closed);
            }
        }
    }
}
