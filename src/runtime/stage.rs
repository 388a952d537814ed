//! A plan's second stage on the merger (see [`SecondStage`]): a sink that
//! takes the grouping's rows as the merger writes them in order and hands
//! what the stage makes of them to the real sink.
//! - A Top-N ([`RankStage`]) ranks each window's rows once they are all in.
//!   Every row of a window closes in one chunk on every shard, so a window
//!   is whole when a row of another window arrives, when a chunk's rows
//!   have been written ([`RowSink::end_of_chunk`]) and at the end of the
//!   input. It holds the Top-N of the one window it is receiving.
//! - A grouping over a grouping ([`GroupStage`]) runs the outer grouping's
//!   engine over the rows: its updates are written after each chunk (EMIT
//!   CHANGES); its final rows when a window closes, if the outer GROUP BY
//!   has the window's bounds (its groups are then dropped), else at the end
//!   of the input (EMIT FINAL).

use super::RunIo;
use crate::data::{Batch, Value};
use crate::engine::{is_true, Output, PartitionEngine, TiesRanker, TopNOperator};
use crate::error::{Error, Result};
use crate::io::{Flushed, RowFormat, RowSink};
use crate::plan::{EmitMode, GroupStage, QueryPlan, RankStage, Ranking, SecondStage};

/// Makes `io` write `plan`'s second stage, if it has one. A LIMIT moves
/// into the stage (the run would count the grouping's rows), so it cannot
/// stop an input that never ends.
pub(crate) fn staged_output(
    plan: &mut QueryPlan,
    mut io: RunIo,
    never_ends: bool,
) -> Result<RunIo> {
    let Some(stage) = plan.stage.as_ref() else {
        return Ok(io);
    };
    let limit = io.limit.or(plan.limit);
    let never_ends_error = |what: &str| {
        Error::Usage(format!(
            "{what}, and the input of '{}' never ends (a followed file or an unbounded Kafka \
             topic): {}",
            plan.source.name,
            match limit {
                Some(_) => "drop LIMIT, or read a bounded input",
                None =>
                    "write EMIT CHANGES (updates as the inner rows come), group by the inner \
                     grouping's window_start and window_end, or read a bounded input",
            }
        ))
    };
    if limit.is_some() && never_ends {
        return Err(never_ends_error(
            "LIMIT over a second stage (a Top-N or a grouping over a grouping) counts its rows",
        ));
    }
    let sink = match stage {
        SecondStage::Rank(rank) => {
            Box::new(RankStageSink::new(io.sink, rank, limit)) as Box<dyn RowSink + Send>
        }
        SecondStage::Group(group) => {
            if group.writes_at_end() && never_ends {
                return Err(never_ends_error(
                    "a grouping over a grouping with EMIT FINAL writes its groups when the \
                     input ends",
                ));
            }
            Box::new(GroupStageSink::new(io.sink, group, limit))
        }
    };
    plan.limit = None;
    io.limit = None;
    io.sink = sink;
    Ok(io)
}

/// What numbers the rows: ROW_NUMBER keeps N rows per partition as they
/// come; RANK and DENSE_RANK sort the window's rows once all are in.
enum Ranker {
    RowNumber(TopNOperator),
    Ties(TiesRanker),
}

impl Ranker {
    fn new(stage: &RankStage) -> Self {
        match stage.top_n.ranking {
            Ranking::RowNumber => Ranker::RowNumber(TopNOperator::new(
                &stage.top_n,
                EmitMode::Final,
                stage.changelog,
            )),
            Ranking::Rank | Ranking::DenseRank => {
                Ranker::Ties(TiesRanker::new(&stage.top_n, stage.changelog))
            }
        }
    }

    fn push_row(&mut self, row: &[Value], position: u64, out: &mut Output) {
        match self {
            Ranker::RowNumber(top_n) => {
                top_n.push_row(row, position, out);
            }
            Ranker::Ties(ranker) => ranker.push_row(row),
        }
    }

    /// The ranked rows, by partition key, then rank.
    fn finish(&mut self, out: &mut Output) {
        match self {
            Ranker::RowNumber(top_n) => top_n.finish(out),
            Ranker::Ties(ranker) => ranker.finish(out),
        }
    }
}

struct RankStageSink {
    inner: Box<dyn RowSink + Send>,
    stage: RankStage,
    ranker: Ranker,
    /// The window bounds of the rows being ranked.
    window: Option<[Value; 2]>,
    out: Output,
    /// Rows taken in, in arrival order (ties rank in it).
    arrived: u64,
    /// Rows taken in whose window is still open, and rows whose ranked
    /// rows went to the real sink but were not yet reported flushed: the
    /// merger takes latency from the rows it gave, in the order it gave them.
    open_rows: u64,
    ranked_rows: u64,
    /// Ranked rows the real sink may still take (LIMIT).
    room: Option<u64>,
}

impl RankStageSink {
    fn new(inner: Box<dyn RowSink + Send>, stage: &RankStage, limit: Option<u64>) -> Self {
        RankStageSink {
            inner,
            ranker: Ranker::new(stage),
            stage: stage.clone(),
            window: None,
            out: Output::default(),
            arrived: 0,
            open_rows: 0,
            ranked_rows: 0,
            room: limit,
        }
    }

    /// True when `values` belongs to another window than the rows before
    /// (an unwindowed grouping's rows are one group until the end).
    fn starts_a_window(&self, values: &[Value]) -> bool {
        let Some(columns) = self.stage.window_columns else {
            return false;
        };
        match &self.window {
            None => true,
            Some(open) => columns
                .iter()
                .zip(open)
                .any(|(column, bound)| values.get(*column) != Some(bound)),
        }
    }

    /// Ranks the rows taken in and writes the ranked rows.
    fn close_window(&mut self) -> Result<()> {
        self.window = None;
        self.ranker.finish(&mut self.out);
        self.ranked_rows += std::mem::take(&mut self.open_rows);
        write_rows(self.inner.as_mut(), &mut self.out, &mut self.room)
    }
}

impl RowSink for RankStageSink {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        if self.starts_a_window(values) {
            self.close_window()?;
            self.window = self
                .stage
                .window_columns
                .map(|columns| columns.map(|c| values.get(c).cloned().unwrap_or(Value::Null)));
        }
        self.open_rows += 1;
        if self
            .stage
            .filter
            .as_ref()
            .is_none_or(|f| is_true(f, values))
        {
            self.ranker.push_row(values, self.arrived, &mut self.out);
            self.arrived += 1;
        }
        Ok(())
    }

    fn formatter(&self) -> Option<Box<dyn RowFormat + Send>> {
        None
    }

    fn end_of_chunk(&mut self) -> Result<()> {
        self.close_window()?;
        self.inner.end_of_chunk()
    }

    fn buffered_bytes(&self) -> usize {
        self.inner.buffered_bytes()
    }

    /// Reports as flushed the rows given whose ranked rows all went out.
    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
        flush_settled(self.inner.as_mut(), &mut self.ranked_rows, give_up)
    }

    fn settle(&mut self) -> Result<()> {
        self.inner.settle()
    }

    fn rows_written(&self) -> u64 {
        self.inner.rows_written()
    }

    fn input_complete(&mut self) -> Result<()> {
        self.close_window()?;
        self.inner.input_complete()
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

/// Flushes a stage's `inner` sink; once everything went out, reports as
/// flushed the `settled` rows the stage was given whose output is written
/// (and counts them off), else none.
fn flush_settled(
    inner: &mut dyn RowSink,
    settled: &mut u64,
    give_up: &mut dyn FnMut() -> bool,
) -> Result<Flushed> {
    let flushed = inner.flush(give_up)?;
    let rows = match flushed.complete {
        true => std::mem::take(settled),
        false => 0,
    };
    Ok(Flushed {
        rows,
        complete: flushed.complete,
    })
}

/// Rows to the real sink, at most `room` of them (LIMIT); the vectors go
/// back to `out` for reuse.
fn write_rows(inner: &mut dyn RowSink, out: &mut Output, room: &mut Option<u64>) -> Result<()> {
    let mut result = Ok(());
    let mut rows = std::mem::take(&mut out.rows);
    for row in rows.drain(..) {
        if *room != Some(0) && result.is_ok() {
            result = inner.write_row(&row.values);
            if let Some(room) = room.as_mut() {
                *room -= 1;
            }
        }
        out.recycle_values(row.values);
    }
    out.rows = rows;
    result
}

struct GroupStageSink {
    inner: Box<dyn RowSink + Send>,
    stage: GroupStage,
    engine: PartitionEngine,
    /// Rows taken in since the engine was last given rows.
    pending: Batch,
    /// The window bounds of the rows being grouped.
    window: Option<[Value; 2]>,
    out: Output,
    /// Rows taken in, in arrival order (EMIT CHANGES rows come in it).
    arrived: u64,
    /// Rows taken in whose groups' rows did not go to the real sink yet,
    /// and rows whose groups' rows went there but were not yet reported
    /// flushed (as [`RankStageSink`] counts them).
    open_rows: u64,
    written_rows: u64,
    /// Rows the real sink may still take (LIMIT).
    room: Option<u64>,
}

impl GroupStage {
    /// True when the stage writes its groups only when the input ends.
    fn writes_at_end(&self) -> bool {
        self.window_columns.is_none() && self.plan.emit == EmitMode::Final
    }
}

impl GroupStageSink {
    fn new(inner: Box<dyn RowSink + Send>, stage: &GroupStage, limit: Option<u64>) -> Self {
        GroupStageSink {
            inner,
            engine: PartitionEngine::for_partition(&stage.plan, 0),
            pending: Batch::new(stage.input.len()),
            stage: stage.clone(),
            window: None,
            out: Output::default(),
            arrived: 0,
            open_rows: 0,
            written_rows: 0,
            room: limit,
        }
    }

    /// True when `values` belongs to another window than the rows before.
    fn starts_a_window(&self, values: &[Value]) -> bool {
        let Some(columns) = self.stage.window_columns else {
            return false;
        };
        match &self.window {
            None => true,
            Some(open) => columns
                .iter()
                .zip(open)
                .any(|(column, bound)| values.get(*column) != Some(bound)),
        }
    }

    /// Hands the pending rows to the engine and writes the rows it makes
    /// (EMIT CHANGES updates); with `closing`, also its final rows, and
    /// starts a new engine for the next window.
    fn push_pending(&mut self, closing: bool) -> Result<()> {
        if !self.pending.is_empty() {
            self.engine.push(&self.pending, &mut self.out);
            self.pending.clear();
        }
        if closing {
            // An unwindowed grouping's final rows come sorted by key.
            self.engine.finish(&mut self.out);
            self.engine = PartitionEngine::for_partition(&self.stage.plan, 0);
            self.window = None;
        }
        self.out.late.clear();
        if closing || self.stage.plan.emit == EmitMode::Changes {
            self.written_rows += std::mem::take(&mut self.open_rows);
        }
        write_rows(self.inner.as_mut(), &mut self.out, &mut self.room)
    }

    /// True when a chunk's end closes the groups: those of a window.
    fn chunk_closes_groups(&self) -> bool {
        self.stage.window_columns.is_some()
    }
}

impl RowSink for GroupStageSink {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        if self.starts_a_window(values) {
            if self.window.is_some() {
                self.push_pending(true)?;
            }
            self.window = self
                .stage
                .window_columns
                .map(|columns| columns.map(|c| values.get(c).cloned().unwrap_or(Value::Null)));
        }
        self.open_rows += 1;
        self.pending.push_row(values, self.arrived);
        self.arrived += 1;
        Ok(())
    }

    fn formatter(&self) -> Option<Box<dyn RowFormat + Send>> {
        None
    }

    fn end_of_chunk(&mut self) -> Result<()> {
        let closing = self.chunk_closes_groups() && self.window.is_some();
        self.push_pending(closing)?;
        self.inner.end_of_chunk()
    }

    fn buffered_bytes(&self) -> usize {
        self.inner.buffered_bytes()
    }

    /// Reports as flushed the rows given whose groups' rows all went out.
    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
        flush_settled(self.inner.as_mut(), &mut self.written_rows, give_up)
    }

    fn settle(&mut self) -> Result<()> {
        self.inner.settle()
    }

    fn rows_written(&self) -> u64 {
        self.inner.rows_written()
    }

    fn input_complete(&mut self) -> Result<()> {
        let closing = self.stage.window_columns.is_none() || self.window.is_some();
        self.push_pending(closing)?;
        self.inner.input_complete()
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}
