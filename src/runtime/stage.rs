//! A plan's second stage on the merger (see [`RankStage`]): a sink that
//! ranks the grouping's rows as the merger writes them in order and hands
//! each window's top rows to the real sink once the window's rows are all
//! in. Every row of a window closes in one chunk on every shard, so a
//! window is whole when a row of another window arrives, when a chunk's rows
//! have been written ([`RowSink::end_of_chunk`]) and at the end of the input.
//! It holds the Top-N of the one window it is receiving.

use super::RunIo;
use crate::data::Value;
use crate::engine::{is_true, Output, TiesRanker, TopNOperator};
use crate::error::{Error, Result};
use crate::io::{Flushed, RowFormat, RowSink};
use crate::plan::{EmitMode, QueryPlan, RankStage, Ranking};

/// Makes `io` write `plan`'s second stage, if it has one. A LIMIT moves
/// into the stage (the run would count the grouping's rows), so it cannot
/// stop an input that never ends.
pub(crate) fn staged_output(
    plan: &mut QueryPlan,
    mut io: RunIo,
    never_ends: bool,
) -> Result<RunIo> {
    let Some(stage) = plan.stage.as_deref() else {
        return Ok(io);
    };
    let limit = io.limit.or(plan.limit);
    if limit.is_some() && never_ends {
        return Err(Error::Usage(format!(
            "LIMIT over a Top-N of a grouping counts the ranked rows, and the input of '{}' \
             never ends (a followed file or an unbounded Kafka topic): drop LIMIT, or read a \
             bounded input",
            plan.source.name
        )));
    }
    plan.limit = None;
    io.limit = None;
    io.sink = Box::new(RankStageSink::new(io.sink, stage, limit));
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
        let mut result = Ok(());
        for row in self.out.rows.drain(..) {
            if self.room == Some(0) || result.is_err() {
                continue;
            }
            result = self.inner.write_row(&row.values);
            if let Some(room) = self.room.as_mut() {
                *room -= 1;
            }
        }
        result
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
        let flushed = self.inner.flush(give_up)?;
        let rows = match flushed.complete {
            true => std::mem::take(&mut self.ranked_rows),
            false => 0,
        };
        Ok(Flushed {
            rows,
            complete: flushed.complete,
        })
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
