//! The grouped operator: GROUP BY keys, aggregates, windows, watermark,
//! HAVING and the SELECT list over the group row, for both emit modes, and
//! the running count of the bytes its state holds. EMIT CHANGES compares a
//! group's output row before and after each record (see [`super::changelog`]).

use super::aggregate::{Aggregates, GroupState};
use super::changelog::{Changelog, RecordRows};
use super::eval::{eval, is_true};
use super::footprint::Footprint;
use super::group_table::GroupTable;
use super::partition::{Output, OutputRow, RowOrder};
use super::route::time_value;
use super::window::{AlignedWindows, Clock, Session, SessionWindows};
use crate::data::Value;
use crate::plan::{AggregatePlan, EmitMode, ScalarExpr, TimeSettings, WindowKind};

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
    /// Scratch for the rows of the sessions a record joins, before it does.
    joined: Vec<Option<Vec<Value>>>,
    /// Bytes held by the groups, their tables and windows, and spare states.
    footprint: Footprint,
}

/// Where a group's aggregate states are: a session's own state, or a
/// group's entries in a [`GroupTable`].
#[derive(Clone, Copy)]
enum States<'a> {
    Session(&'a GroupState),
    Table(&'a GroupTable, usize),
}

/// The key of a record whose single GROUP BY column is missing.
static NULL_KEY: [Value; 1] = [Value::Null];

impl Context {
    /// The output row of a group, or `None` when HAVING rejects it, in
    /// memory reused from `out`.
    fn output_row(
        &mut self,
        key: &[Value],
        states: States<'_>,
        window: Option<(i64, i64)>,
        out: &mut Output,
    ) -> Option<Vec<Value>> {
        self.group_row.clear();
        self.group_row.extend_from_slice(key);
        match states {
            States::Session(state) => self.aggs.results_into(state, &mut self.group_row),
            States::Table(table, id) => table.results_into(id, &self.aggs, &mut self.group_row),
        }
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

    /// Adds `row` to the group `key` of `table` (creating it; the key is
    /// copied only then) and, with EMIT CHANGES, emits how its output row
    /// changed.
    #[inline]
    fn update_group(
        &mut self,
        table: &mut GroupTable,
        key: &[Value],
        row: &[Value],
        window: Option<(i64, i64)>,
        rows: &mut RecordRows,
    ) {
        let (id, new, grown) = table.find_or_insert(key, &self.aggs);
        self.footprint.change(grown);
        if self.emit != EmitMode::Changes {
            self.footprint.change(table.update(id, row, &self.aggs));
            return;
        }
        let before = match new {
            true => None,
            false => self.output_row(key, States::Table(table, id), window, rows.out),
        };
        self.footprint.change(table.update(id, row, &self.aggs));
        let after = self.output_row(key, States::Table(table, id), window, rows.out);
        self.changelog.emit(before, after, rows);
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
            joined.push(self.output_row(key, States::Session(&session.state), window, rows.out));
        }
        let session = sessions.add(key, t, &self.aggs, row, &mut self.footprint);
        let window = Some((session.start, session.end));
        let after = self.output_row(key, States::Session(&session.state), window, rows.out);
        let mut joined_rows = joined.drain(..);
        let first = joined_rows.next().flatten();
        for merged in joined_rows {
            self.changelog.emit(merged, None, rows);
        }
        self.changelog.emit(first, after, rows);
        self.joined = joined;
    }

    /// Adds a batch's rows to their windows' groups, window by window.
    fn update_windows(&mut self, windows: &mut AlignedWindows, pending: RowsByWindow<'_>) {
        for (end, ids, rows) in pending.windows {
            let table = windows.window_mut(end, &mut self.footprint);
            let grown = table.update_rows(&ids, &rows, &self.aggs);
            self.footprint.change(grown);
        }
    }

    /// Drops a closed session's state.
    fn drop_state(&mut self, state: GroupState) {
        self.footprint.shrink(self.aggs.state_bytes(&state));
    }

    /// Empties a closed window's table (its capacity is kept for reuse).
    fn clear(&mut self, table: &mut GroupTable) {
        self.footprint.shrink(table.clear());
    }

    /// EMIT FINAL rows of the groups of one closing window, sorted by key;
    /// empties the table.
    fn final_rows(&mut self, table: &mut GroupTable, start: i64, end: i64, out: &mut Output) {
        let ids = table.ids_by_key();
        out.rows.reserve(ids.len());
        for (index, &id) in ids.iter().enumerate() {
            touch_ahead(table, &ids, index);
            self.final_row(table, id, (start, end), out);
        }
        self.clear(table);
    }

    /// The EMIT FINAL row of group `id` of the window `(start, end)`, unless
    /// HAVING rejects it.
    fn final_row(&mut self, table: &GroupTable, id: usize, window: (i64, i64), out: &mut Output) {
        let key = table.key(id);
        if let Some(values) = self.output_row(key, States::Table(table, id), Some(window), out) {
            let (start, end) = window;
            out.rows.push(OutputRow {
                values,
                order: RowOrder::Window {
                    end,
                    start,
                    key: key.to_vec(),
                },
            });
        }
    }
}

/// Before the group `ids[index]` of `table` is written, and every
/// [`TOUCH_AHEAD`] groups: reads the next ones ahead ([`GroupTable::touch`]).
#[inline]
fn touch_ahead(table: &GroupTable, ids: &[usize], index: usize) {
    if index.is_multiple_of(TOUCH_AHEAD) {
        let ahead = ids.len().min(index + TOUCH_AHEAD);
        table.touch(&ids[index..ahead]);
    }
}

/// The GROUP BY key of `row`: borrowed when it is one column
/// (`single_key_column`), else evaluated into `scratch`.
#[inline]
fn group_key<'a>(
    single_key_column: Option<usize>,
    keys: &[ScalarExpr],
    scratch: &'a mut Vec<Value>,
    row: &'a [Value],
) -> &'a [Value] {
    match single_key_column {
        Some(i) => row.get(i).map_or(&NULL_KEY[..], std::slice::from_ref),
        None => {
            scratch.clear();
            scratch.extend(keys.iter().map(|k| eval(k, row)));
            scratch
        }
    }
}

/// A batch's rows not yet added to their windows' groups: per window
/// (known by its end), the rows' group ids and the rows, in row order.
#[derive(Default)]
struct RowsByWindow<'r> {
    windows: Vec<WindowRows<'r>>,
}

/// A window's end, and its rows' group ids and rows.
type WindowRows<'r> = (i64, Vec<usize>, Vec<&'r [Value]>);

impl<'r> RowsByWindow<'r> {
    fn add(&mut self, end: i64, id: usize, row: &'r [Value]) {
        // Few windows are open at once, and a row's usually come last.
        let at = match self.windows.iter().rposition(|w| w.0 == end) {
            Some(at) => at,
            None => {
                self.windows.push((end, Vec::new(), Vec::new()));
                self.windows.len() - 1
            }
        };
        let (_, ids, rows) = &mut self.windows[at];
        ids.push(id);
        rows.push(row);
    }
}

#[derive(Clone)]
enum Store {
    Unwindowed(GroupTable),
    Aligned(AlignedWindows),
    Sessions(SessionWindows),
}

/// Final rows are written in key order; the groups of the next this many
/// are read ahead at once (see [`GroupTable::touch`]).
const TOUCH_AHEAD: usize = 64;

/// How far [`Grouped::finish_piece`] is through the end of the input.
#[derive(Clone)]
enum Finishing {
    NotStarted,
    /// Writing the EMIT FINAL rows of one table, a piece at a time.
    Writing(FinalTable),
    Done,
}

/// A table whose EMIT FINAL rows are being written at the end of the
/// input: the unwindowed groups (taken from the store and put back empty)
/// or a closed window's (given back to the store for reuse).
#[derive(Clone)]
struct FinalTable {
    table: GroupTable,
    /// The window's start and end (`i64::MIN, i64::MAX` when unwindowed).
    bounds: (i64, i64),
    /// Group ids in key order, and how many of them were written.
    ids: Vec<usize>,
    next: usize,
}

impl FinalTable {
    fn new(table: GroupTable, bounds: (i64, i64)) -> Self {
        FinalTable {
            ids: table.ids_by_key(),
            table,
            bounds,
            next: 0,
        }
    }
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
    /// Scratch for the group ids of a batch's rows.
    ids: Vec<usize>,
    /// Emits the one group of a GROUP-BY-less EMIT FINAL aggregate at the
    /// end of the input even when no row reached it (`COUNT(*)` = 0), as
    /// SQL does. Only the partition that owns the empty key (0) does.
    owns_empty_group: bool,
    finishing: Finishing,
}

impl Grouped {
    /// The operator of `plan`, emitting as `emit` says, with a row kind
    /// first in every row when `changelog` is set.
    pub fn new(plan: &AggregatePlan, emit: EmitMode, changelog: bool, time: TimeSettings) -> Self {
        let lateness = time.allowed_lateness_ms;
        let aggs = Aggregates::new(&plan.aggregates);
        let table = GroupTable::new(plan.group_keys.len(), &aggs);
        let store = match plan.window.map(|w| w.kind) {
            None => Store::Unwindowed(table),
            Some(WindowKind::Tumbling { size_ms }) => {
                Store::Aligned(AlignedWindows::new(size_ms, size_ms, lateness, table))
            }
            Some(WindowKind::Sliding {
                size_ms,
                advance_ms,
            }) => {
                let windows_per_record = (size_ms / advance_ms.max(1)).max(1) as usize;
                let table = table.shared_by(windows_per_record);
                Store::Aligned(AlignedWindows::new(size_ms, advance_ms, lateness, table))
            }
            Some(WindowKind::Cumulating { size_ms, step_ms }) => {
                let windows_per_record = (size_ms / step_ms.max(1)).max(1) as usize;
                let table = table.shared_by(windows_per_record);
                Store::Aligned(AlignedWindows::cumulating(
                    size_ms, step_ms, lateness, table,
                ))
            }
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
                aggs,
                having: plan.having.clone(),
                projections: plan.projections.clone(),
                emit,
                changelog: Changelog::new(changelog),
                windowed: plan.window.is_some(),
                group_row: Vec::with_capacity(plan.group_row_width()),
                joined: Vec::new(),
                footprint: Footprint::default(),
            },
            single_key_column: ScalarExpr::single_column(&plan.group_keys),
            key: Vec::with_capacity(plan.group_keys.len()),
            closed: Vec::new(),
            ids: Vec::new(),
            owns_empty_group: true,
            finishing: Finishing::NotStarted,
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

    /// Whether [`Grouped::push_rows`] takes whole batches: EMIT FINAL
    /// without sessions, where no record emits a row of its own.
    pub fn takes_batches(&self) -> bool {
        let stores = matches!(self.store, Store::Unwindowed(_) | Store::Aligned(_));
        stores && self.ctx.emit == EmitMode::Final
    }

    /// Aggregates rows already past WHERE, when [`Grouped::takes_batches`]:
    /// finds every row's groups first (and which rows are late or in no
    /// window, given to `rejected` with their index), then adds the rows to
    /// one aggregate at a time, then closes the windows the watermark has
    /// passed. A row is late by the watermark of the rows before it, as row
    /// by row; a window that closes mid-batch takes no later row of it (the
    /// row is late), so closing at the end emits what row by row would.
    pub fn push_rows(
        &mut self,
        rows: &[&[Value]],
        rejected: &mut Vec<(usize, Outcome)>,
        out: &mut Output,
    ) {
        let aggs = &self.ctx.aggs;
        let windows = match &mut self.store {
            Store::Unwindowed(table) => {
                self.ids.clear();
                for row in rows {
                    let key = group_key(self.single_key_column, &self.keys, &mut self.key, row);
                    let (id, _, grown) = table.find_or_insert(key, aggs);
                    self.ctx.footprint.change(grown);
                    self.ids.push(id);
                }
                let grown = table.update_rows(&self.ids, rows, aggs);
                self.ctx.footprint.change(grown);
                return;
            }
            Store::Aligned(windows) => windows,
            Store::Sessions(_) => return,
        };
        // Freed after the batch: with sliding windows it holds several
        // entries per row.
        let mut pending = RowsByWindow::default();
        for (index, row) in rows.iter().enumerate() {
            let Some(t) = row.get(self.time_column).and_then(time_value) else {
                rejected.push((index, Outcome::Dropped));
                continue;
            };
            let Some(ends) = windows.open_ends(t, self.clock.watermark()) else {
                rejected.push((index, Outcome::Dropped));
                continue;
            };
            let key = group_key(self.single_key_column, &self.keys, &mut self.key, row);
            let mut open = false;
            for end in ends {
                open = true;
                let table = windows.window_mut(end, &mut self.ctx.footprint);
                let (id, _, grown) = table.find_or_insert(key, &self.ctx.aggs);
                self.ctx.footprint.change(grown);
                pending.add(end, id, row);
            }
            if !open {
                rejected.push((index, Outcome::Late(t)));
                continue;
            }
            self.clock.observe(t);
        }
        self.ctx.update_windows(windows, pending);
        self.close_ready(out);
    }

    pub fn aggregates(&self) -> &Aggregates {
        &self.ctx.aggs
    }

    /// The groups held (pre-aggregation), each table with the end of its
    /// window (`None`: unwindowed); sessions are never handed on this way.
    pub fn groups_by_window(&self) -> Vec<(Option<i64>, &GroupTable)> {
        match &self.store {
            Store::Unwindowed(table) => vec![(None, table)],
            Store::Aligned(windows) => windows.tables().map(|(end, t)| (Some(end), t)).collect(),
            Store::Sessions(_) => Vec::new(),
        }
    }

    /// Forgets every group (after they were handed on) without writing
    /// them, keeping tables' capacity for reuse.
    pub fn clear_groups(&mut self) {
        match &mut self.store {
            Store::Unwindowed(table) => self.ctx.clear(table),
            Store::Aligned(windows) => {
                let footprint = &mut self.ctx.footprint;
                while let Some((_, mut table)) = windows.pop_closed(i64::MAX, footprint) {
                    footprint.shrink(table.clear());
                    windows.recycle(table, footprint);
                }
            }
            Store::Sessions(_) => {}
        }
    }

    /// Folds groups pre-aggregated elsewhere (from later inputs than every
    /// group here) into the groups of the window ending at `window_end`
    /// (`None`: unwindowed). A window the watermark has closed takes none
    /// of them, as it takes no row.
    pub fn merge_groups(&mut self, window_end: Option<i64>, partial: &GroupTable) {
        let watermark = self.clock.watermark();
        let footprint = &mut self.ctx.footprint;
        let table = match (&mut self.store, window_end) {
            (Store::Unwindowed(table), None) => table,
            (Store::Aligned(windows), Some(end)) if windows.closes_at(end) > watermark => {
                windows.window_mut(end, footprint)
            }
            _ => return,
        };
        for theirs in 0..partial.len() {
            footprint.change(table.merge_group(partial, theirs, &self.ctx.aggs));
        }
    }

    /// Whether some record at `t` or later might be late at `watermark`:
    /// the last window that could hold `t` has closed by then (later
    /// records fall in windows that close no earlier). False unwindowed.
    pub fn may_be_late_from(&self, t: i64, watermark: i64) -> bool {
        match &self.store {
            Store::Aligned(windows) => windows.closes_at(windows.last_end(t)) <= watermark,
            Store::Unwindowed(_) | Store::Sessions(_) => false,
        }
    }

    /// Aggregates one source row (already past WHERE) at `position`.
    pub fn push_row(&mut self, row: &[Value], position: u64, out: &mut Output) -> Outcome {
        let key = group_key(self.single_key_column, &self.keys, &mut self.key, row);
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
                let Some(ends) = windows.open_ends(t, watermark) else {
                    return Outcome::Dropped;
                };
                let mut open = false;
                for end in ends {
                    open = true;
                    let start = windows.start_of(end);
                    let table = windows.window_mut(end, &mut self.ctx.footprint);
                    self.ctx
                        .update_group(table, key, row, Some((start, end)), rows);
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

    /// End of bounded input, a piece at a time: closes every window and,
    /// with EMIT FINAL, writes the rows of windows and unwindowed groups in
    /// order, returning once this call wrote `rows` rows, so that millions
    /// of groups are never millions of output rows at once. True while rows
    /// remain: call again. An aggregate without GROUP BY or window emits its
    /// one row even over empty input (on the partition that owns the empty key).
    pub fn finish_piece(&mut self, out: &mut Output, rows: usize) -> bool {
        let before = out.rows.len();
        if matches!(self.finishing, Finishing::NotStarted) {
            self.start_finishing(out);
        }
        while let Finishing::Writing(writing) = &mut self.finishing {
            while let Some(&id) = writing.ids.get(writing.next) {
                if out.rows.len() - before >= rows {
                    return true;
                }
                touch_ahead(&writing.table, &writing.ids, writing.next);
                writing.next += 1;
                self.ctx.final_row(&writing.table, id, writing.bounds, out);
            }
            if let Finishing::Writing(written) =
                std::mem::replace(&mut self.finishing, Finishing::Done)
            {
                self.end_final_table(written);
            }
        }
        false
    }

    /// Moves the watermark to the end of time; what it closes is written
    /// now (sessions), dropped (EMIT CHANGES) or left to `finish_piece`.
    fn start_finishing(&mut self, out: &mut Output) {
        self.clock.advance(i64::MAX);
        self.finishing = Finishing::Done;
        let emit_final = self.ctx.emit == EmitMode::Final;
        match &mut self.store {
            Store::Unwindowed(table) if emit_final => {
                if self.keys.is_empty() && table.is_empty() && self.owns_empty_group {
                    let (_, _, grown) = table.find_or_insert(&[], &self.ctx.aggs);
                    self.ctx.footprint.change(grown);
                }
                let emptied = GroupTable::new(self.keys.len(), &self.ctx.aggs);
                let groups = std::mem::replace(table, emptied);
                let bounds = (i64::MIN, i64::MAX);
                self.finishing = Finishing::Writing(FinalTable::new(groups, bounds));
            }
            Store::Unwindowed(table) => self.ctx.clear(table),
            Store::Aligned(_) if emit_final => self.finishing = self.next_closed_window(),
            Store::Aligned(_) | Store::Sessions(_) => self.close_ready(out),
        }
    }

    /// The next window the watermark closed, to write at the end of the input.
    fn next_closed_window(&mut self) -> Finishing {
        let Store::Aligned(windows) = &mut self.store else {
            return Finishing::Done;
        };
        let watermark = self.clock.watermark();
        match windows.pop_closed(watermark, &mut self.ctx.footprint) {
            Some((end, table)) => {
                Finishing::Writing(FinalTable::new(table, (windows.start_of(end), end)))
            }
            None => Finishing::Done,
        }
    }

    /// A table whose rows were all written: emptied and given back to the
    /// store; then the next closed window, if any.
    fn end_final_table(&mut self, written: FinalTable) {
        let mut table = written.table;
        self.ctx.clear(&mut table);
        match &mut self.store {
            Store::Unwindowed(stored) => *stored = table,
            Store::Aligned(windows) => windows.recycle(table, &mut self.ctx.footprint),
            Store::Sessions(_) => {}
        }
        self.finishing = self.next_closed_window();
    }

    /// Groups not yet closed: one per open window and key (per key when
    /// unwindowed), and those closing at the end whose rows are not written.
    pub fn open_groups(&self) -> usize {
        let unwritten = match &self.finishing {
            Finishing::Writing(writing) => writing.ids.len() - writing.next,
            Finishing::NotStarted | Finishing::Done => 0,
        };
        unwritten
            + match &self.store {
                Store::Unwindowed(table) => table.len(),
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
                while let Some((end, mut table)) =
                    windows.pop_closed(watermark, &mut self.ctx.footprint)
                {
                    if emit_final {
                        let start = windows.start_of(end);
                        self.ctx.final_rows(&mut table, start, end, out);
                    } else {
                        self.ctx.clear(&mut table);
                    }
                    windows.recycle(table, &mut self.ctx.footprint);
                }
            }
            Store::Sessions(sessions) => {
                let ctx = &mut self.ctx;
                let closed = &mut self.closed;
                let forgotten = sessions.pop_closed(watermark, |key, session: Session| {
                    let window = Some((session.start, session.end));
                    if emit_final {
                        let states = States::Session(&session.state);
                        if let Some(values) = ctx.output_row(key, states, window, out) {
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
                    ctx.drop_state(session.state);
                });
                self.ctx.footprint.shrink(forgotten);
                self.closed.sort_by(|a, b| a.order.cmp(&b.order));
                out.rows.append(&mut self.closed);
            }
        }
    }
}
