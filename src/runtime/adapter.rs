//! The one place where the runtime touches `engine` and `io`.
//!
//! Everything the runtime needs from the layers beside it goes through the
//! traits here, so the shard machinery can be tested with a fake processor and
//! fake inputs, and so the integrator fixes names in this file only when the
//! engine and io land: [`EngineBackend`] (the real engine and key router),
//! [`TableInput`] (io's splits and sources), [`RowSink`] and [`DeadLetters`].

use std::sync::Arc;
use std::time::Duration;

use crate::data::{Batch, Schema, Value};
use crate::engine::{
    BranchStep, EngineStats, JoinScratch, KeyRouter, LateRecord, LookupTable, Lookups, Output,
    PartialGroups, PartitionEngine, PreAggregator,
};
use crate::error::{Error, Result};
use crate::io::{
    self, BatchSource, ChunkPlan, Malformed, ReadPosition, SourceState, StreamSharing,
};
use crate::plan::{QueryPlan, TableDef};

use super::inputs::ChunkInputs;
use super::RuntimeConfig;

/// One partition's synchronous query processor: what a shard drives.
pub trait PartitionProcessor {
    /// Processes rows routed to this partition, in position order.
    fn push(&mut self, batch: &Batch, out: &mut Output);
    /// Moves event time forward to `watermark` (ms).
    fn advance_watermark(&mut self, watermark: i64, out: &mut Output);
    /// End of input: closes every open window and group, and returns once
    /// this call wrote about `rows` rows (final rows come in pieces, each
    /// piece's in order and after the piece before). True while rows
    /// remain: call again.
    fn finish_piece(&mut self, out: &mut Output, rows: usize) -> bool;
    fn stats(&self) -> EngineStats;
    /// Folds groups another shard pre-aggregated (made by the backend's
    /// [`Backend::pre_aggregator`], which only a grouping engine has).
    fn merge_partial(&mut self, partial: &PartialGroups) {
        let _ = partial;
    }
    /// Windows (per key) and groups still open: what `finish` would close.
    fn open_groups(&self) -> u64 {
        0
    }
    /// An estimate of the bytes this processor's state holds (cheap to read).
    fn state_bytes(&self) -> usize {
        0
    }
}

impl PartitionProcessor for PartitionEngine {
    fn push(&mut self, batch: &Batch, out: &mut Output) {
        PartitionEngine::push(self, batch, out)
    }
    fn advance_watermark(&mut self, watermark: i64, out: &mut Output) {
        PartitionEngine::advance_watermark(self, watermark, out)
    }
    fn finish_piece(&mut self, out: &mut Output, rows: usize) -> bool {
        PartitionEngine::finish_piece(self, out, rows)
    }
    fn stats(&self) -> EngineStats {
        PartitionEngine::stats(self)
    }
    fn merge_partial(&mut self, partial: &PartialGroups) {
        PartitionEngine::merge_partial(self, partial)
    }
    fn open_groups(&self) -> u64 {
        PartitionEngine::open_groups(self)
    }
    fn state_bytes(&self) -> usize {
        PartitionEngine::state_bytes(self)
    }
}

/// Decides which partition a source row belongs to.
pub trait RowRouter {
    fn partition_of(&mut self, row: &[Value], partitions: usize) -> usize;
}

/// What the runtime needs of a query engine: a processor per shard, a router
/// per source, and the event time of a source row. Cloned into every shard.
pub trait Backend: Clone + Send + 'static {
    type Processor: PartitionProcessor;
    type Router: RowRouter;
    fn processor(&self, plan: &QueryPlan) -> Self::Processor;
    /// The processor of shard `partition` (by default, [`Self::processor`]).
    fn processor_for(&self, plan: &QueryPlan, partition: usize) -> Self::Processor {
        let _ = partition;
        self.processor(plan)
    }
    fn router(&self, plan: &QueryPlan) -> Self::Router;
    /// The event time (ms) of a source row, when the plan has one.
    fn event_time(&self, plan: &QueryPlan, row: &[Value]) -> Option<i64>;
    /// What aggregates a source shard's own rows before they are sent, when
    /// the plan allows it (see `engine::PreAggregator`); `None` by default.
    fn pre_aggregator(&self, plan: &QueryPlan, shards: usize) -> Option<PreAggregator> {
        let _ = (plan, shards);
        None
    }
}

/// The real engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineBackend;

/// Routes by the plan's GROUP BY key values (ahash, fixed seeds).
pub struct EngineRouter(KeyRouter);

impl RowRouter for EngineRouter {
    fn partition_of(&mut self, row: &[Value], partitions: usize) -> usize {
        self.0.partition_of(row, partitions)
    }
}

impl Backend for EngineBackend {
    type Processor = PartitionEngine;
    type Router = EngineRouter;
    fn processor(&self, plan: &QueryPlan) -> PartitionEngine {
        PartitionEngine::new(plan)
    }
    fn processor_for(&self, plan: &QueryPlan, partition: usize) -> PartitionEngine {
        PartitionEngine::for_partition(plan, partition)
    }
    fn router(&self, plan: &QueryPlan) -> EngineRouter {
        EngineRouter(KeyRouter::new(plan))
    }
    fn event_time(&self, plan: &QueryPlan, row: &[Value]) -> Option<i64> {
        crate::engine::event_time(plan, row)
    }
    fn pre_aggregator(&self, plan: &QueryPlan, shards: usize) -> Option<PreAggregator> {
        PreAggregator::for_plan(plan, shards)
    }
}

/// How a source's malformed-record line numbers relate to the whole input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineNumbering {
    /// Already counted from the start of the input (a whole file, stdin).
    Absolute,
    /// Counted from the start of the chunk: the merger adds the lines of all
    /// earlier chunks (which the readers report with [`ChunkReader::lines_read`]).
    ChunkRelative,
    /// Not known (reported as `None`).
    Unknown,
}

/// Reads the rows of one chunk.
pub trait ChunkReader {
    /// As [`BatchSource::fill`]: `Ok(false)` once the chunk is exhausted.
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool>;
    /// For paced generators: when (since the run started) the next row is due.
    fn next_due(&self) -> Option<Duration> {
        None
    }
    /// Lines consumed so far (to number malformed lines of later chunks).
    fn lines_read(&self) -> Option<u64> {
        None
    }
    /// As [`BatchSource::position`]: how far a replayable source has read.
    fn position(&self) -> Option<ReadPosition> {
        None
    }
    /// As [`BatchSource::commit`]: everything before `position` is written.
    fn commit(&mut self, position: &ReadPosition) -> Result<()> {
        let _ = position;
        Ok(())
    }
    /// As [`BatchSource::event_time_frontier`].
    fn event_time_frontier(&self) -> Option<i64> {
        None
    }
    /// As [`BatchSource::holds_commit`].
    fn holds_commit(&self, position: &ReadPosition) -> bool {
        let _ = position;
        true
    }
    /// Records read since the last call that a UNION ALL branch's WHERE
    /// dropped before they were handed out (counted as read and filtered).
    fn take_filtered(&mut self) -> u64 {
        0
    }
}

/// How the input is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// A fixed, ordered list of this many chunks; chunk c is read by shard c % N.
    Chunks(usize),
    /// One stream (standard input, a pipe, a followed file) read by shard 0,
    /// cut into a chunk at whatever each read returns.
    Stream,
    /// One live stream per shard (a Kafka topic's partitions, shared among
    /// the shards): shard s opens stream s and cuts it into a chunk every
    /// few milliseconds; chunk c comes from shard c % N, as for `Chunks`.
    Streams,
}

/// An input the runtime can read in chunks. Cloned into every shard; readers
/// are opened on the shard's own thread, and what a reader builds that the
/// next one can use (see [`SourceState`]) lives in the shard's clone.
pub trait Input: Clone + Send + 'static {
    /// Sent to a reader thread for a stream.
    type Reader: ChunkReader + Send;
    fn layout(&self) -> InputLayout;
    /// Opens chunk `index` (for a stream: index 0, the whole stream).
    fn open(&mut self, index: usize) -> Result<Self::Reader>;
    /// Ends a reader whose chunk has been read, keeping what the next
    /// chunk's reader can reuse.
    fn close(&mut self, reader: Self::Reader) {
        drop(reader);
    }
    fn line_numbering(&self) -> LineNumbering;
    /// The source's name, for the dead-letter file.
    fn name(&self) -> &str;
    /// Which input each chunk comes from, when it reads several (a UNION ALL).
    fn chunk_inputs(&self) -> ChunkInputs {
        ChunkInputs::single()
    }
    /// The name of each input, in the order of [`Input::chunk_inputs`].
    fn input_names(&self) -> Vec<String> {
        vec![self.name().to_string()]
    }
    /// Input bytes in chunk `index` (files; 0 otherwise).
    fn chunk_bytes(&self, _index: usize) -> u64 {
        0
    }
    /// Input bytes in all (files), for progress.
    fn total_bytes(&self) -> Option<u64> {
        None
    }
    /// Events in all (generators), for progress.
    fn total_events(&self) -> Option<u64> {
        None
    }
    /// True for an input that has no end: a followed file, an unbounded
    /// Kafka topic. (Standard input and pipes end when their writer closes.)
    fn never_ends(&self) -> bool {
        false
    }
}

/// What a query reads through io: its source table, or each branch's
/// source of a UNION ALL, with the order their chunks are read in.
#[derive(Debug, Clone)]
pub struct TableInput {
    sources: Vec<SourceInput>,
    chunk_inputs: ChunkInputs,
    /// The query's name for what it reads (the union's, for a UNION ALL).
    name: String,
}

/// One source table read through io: its chunks, planned once.
#[derive(Debug, Clone)]
struct SourceInput {
    table: TableDef,
    chunks: ChunkPlan,
    /// Header lines before the first record (line numbers are per chunk).
    lines_before_data: u64,
    stream: bool,
    /// This shard's reader state, handed from chunk to chunk (a clone, for
    /// another shard, starts empty).
    state: SourceState,
    /// The tables the query joins, when it joins any.
    lookups: Option<ShardLookups>,
    /// The width of the row the tables are joined to (a union's row, for a
    /// UNION ALL branch).
    joined_width: usize,
    /// The join step the last chunk's reader used, kept for the next one
    /// (its caches stay warm from chunk to chunk).
    spare_join: SpareJoin,
    /// A UNION ALL branch: its WHERE and projection into the union's row.
    branch: Option<BranchStep>,
}

/// A shard's [`JoinStep`] between chunks; a clone (for another shard)
/// starts without one.
#[derive(Debug, Default)]
struct SpareJoin(Option<JoinStep>);

impl Clone for SpareJoin {
    fn clone(&self) -> Self {
        SpareJoin(None)
    }
}

/// The joined tables, read once. Cloning (an input for another shard)
/// copies them with strings of their own, so a shard's rows share no
/// reference counts with another shard's table; the readers of one shard
/// share its copy.
#[derive(Debug)]
struct ShardLookups(Arc<Lookups>);

impl ShardLookups {
    fn step(&self, source_width: usize) -> JoinStep {
        JoinStep {
            lookups: Arc::clone(&self.0),
            scratch: self.0.scratch(),
            read: Batch::new(source_width),
        }
    }
}

impl Clone for ShardLookups {
    fn clone(&self) -> Self {
        ShardLookups(Arc::new(self.0.deep_copy()))
    }
}

/// Reads every table `plan` joins and indexes it by its join key. Fails,
/// naming the file and line, on a malformed row or a repeated key.
fn load_lookups(plan: &QueryPlan) -> Result<Option<ShardLookups>> {
    if plan.lookups.is_empty() {
        return Ok(None);
    }
    let mut tables = Vec::with_capacity(plan.lookups.len());
    for join in &plan.lookups {
        let rows = io::read_table(&join.table).map_err(|e| match e {
            Error::Io { path, source } => Error::io(
                format!("the joined table {}: {path}", join.table.name),
                source,
            ),
            other => other,
        })?;
        let table = LookupTable::build(&rows, &join.table_keys).map_err(|repeat| {
            let line = |position| io::place(&join.table, io::line_at(&join.table, position));
            let key: Vec<String> = repeat.key.iter().map(Value::to_string).collect();
            Error::Runtime(format!(
                "the joined table {} repeats the join key ({}) at {} (first at {}): \
                 a joined table holds each key once",
                join.table.name,
                key.join(", "),
                line(repeat.second),
                line(repeat.first)
            ))
        })?;
        tables.push(table);
    }
    Ok(Some(ShardLookups(Arc::new(Lookups::new(plan, tables)))))
}

impl TableInput {
    /// Plans the input of `plan` for a run under `config` (its chunk sizes;
    /// a per-shard stream is shared among its shards). Fails, before any
    /// output, if a file is missing, or if a UNION ALL would read a stream.
    pub fn plan(plan: &QueryPlan, config: &RuntimeConfig) -> Result<TableInput> {
        let lookups = load_lookups(plan)?;
        let Some(union) = &plan.union else {
            let source = SourceInput::plan(&plan.source, plan, config, lookups)?;
            return Ok(TableInput {
                sources: vec![source],
                chunk_inputs: ChunkInputs::single(),
                name: plan.source.name.clone(),
            });
        };
        let mut sources = Vec::with_capacity(union.branches.len());
        let mut counts = Vec::with_capacity(union.branches.len());
        for branch in &union.branches {
            let mut source = SourceInput::plan(&branch.source, plan, config, lookups.clone())?;
            match source.layout() {
                InputLayout::Chunks(count) => counts.push(count),
                InputLayout::Stream | InputLayout::Streams => {
                    let what = match plan.join {
                        Some(_) => "a join of two streams",
                        None => "UNION ALL",
                    };
                    return Err(Error::Usage(format!(
                        "{what} reads files and generators, and source '{}' is a stream \
                         (standard input, a pipe, a followed file or Kafka): read it in a \
                         query of its own",
                        branch.source.name
                    )));
                }
            }
            source.branch = Some(BranchStep::new(branch));
            sources.push(source);
        }
        Ok(TableInput {
            sources,
            chunk_inputs: ChunkInputs::interleave(&counts),
            name: plan.source.name.clone(),
        })
    }

    /// After the run wrote all its output: commits what was read (a bounded
    /// Kafka source's offsets; nothing for files and generators).
    pub fn commit_read(&self) -> Result<()> {
        self.sources
            .iter()
            .try_for_each(|s| io::commit_chunks(&s.table, &s.chunks))
    }

    /// What [`TableInput::commit_read`] needs, without the joined tables
    /// (a clone would copy them once more).
    pub fn for_commit(&self) -> TableInput {
        TableInput {
            sources: self.sources.iter().map(SourceInput::for_commit).collect(),
            chunk_inputs: self.chunk_inputs.clone(),
            name: self.name.clone(),
        }
    }

    fn union(&self) -> bool {
        self.sources.len() > 1
    }
}

impl SourceInput {
    fn plan(
        table: &TableDef,
        plan: &QueryPlan,
        config: &RuntimeConfig,
        lookups: Option<ShardLookups>,
    ) -> Result<SourceInput> {
        let mut chunks = io::plan_chunks(table, config.chunk_bytes, config.chunk_events)?;
        chunks.share_streams(StreamSharing {
            readers: config.shards,
            event_time_column: plan.event_time_column(),
            idle_timeout: config.idle_timeout,
        });
        let stream = chunks.is_stream();
        Ok(SourceInput {
            table: table.clone(),
            lines_before_data: chunks.lines_before_data(),
            chunks,
            stream,
            state: SourceState::new(),
            lookups,
            joined_width: plan.source.schema.len(),
            spare_join: SpareJoin::default(),
            branch: None,
        })
    }

    fn for_commit(&self) -> SourceInput {
        SourceInput {
            table: self.table.clone(),
            chunks: self.chunks.clone(),
            lines_before_data: self.lines_before_data,
            stream: self.stream,
            state: SourceState::new(),
            lookups: None,
            joined_width: self.joined_width,
            spare_join: SpareJoin::default(),
            branch: None,
        }
    }

    fn layout(&self) -> InputLayout {
        if self.stream {
            InputLayout::Stream
        } else if self.chunks.stream_readers().is_some() {
            InputLayout::Streams
        } else {
            InputLayout::Chunks(self.chunks.len())
        }
    }

    fn open(&mut self, input: usize, index: usize) -> Result<ChunkSource> {
        Ok(ChunkSource {
            source: self.chunks.open(&self.table, index, &mut self.state)?,
            input,
            // The header's lines count towards the first chunk.
            line_offset: if index == 0 {
                self.lines_before_data
            } else {
                0
            },
            absolute: self.stream || self.chunks.stream_readers().is_some(),
            join: match self.spare_join.0.take() {
                Some(step) => Some(step),
                None => self.lookups.as_ref().map(|l| l.step(self.joined_width)),
            },
            branch: self.branch.clone().map(|step| BranchRead {
                step,
                read: Batch::new(self.table.schema.len()),
                filtered: 0,
            }),
        })
    }

    fn close(&mut self, reader: ChunkSource) {
        reader.source.save_state(&mut self.state);
        self.spare_join = SpareJoin(reader.join);
    }
}

impl Input for TableInput {
    type Reader = ChunkSource;
    fn never_ends(&self) -> bool {
        self.sources.iter().any(|s| s.chunks.never_ends())
    }
    fn layout(&self) -> InputLayout {
        match self.sources.as_slice() {
            [one] => one.layout(),
            // A union's sources are all chunked (see `TableInput::plan`).
            many => InputLayout::Chunks(many.iter().map(|s| s.chunks.len()).sum()),
        }
    }
    fn open(&mut self, index: usize) -> Result<ChunkSource> {
        let (input, own) = self.chunk_inputs.of(index as u64);
        self.sources[input].open(input, own)
    }
    fn close(&mut self, reader: ChunkSource) {
        let input = reader.input;
        self.sources[input].close(reader);
    }
    fn line_numbering(&self) -> LineNumbering {
        let source = &self.sources[0];
        if !self.union() && (source.stream || source.chunks.stream_readers().is_some()) {
            LineNumbering::Absolute
        } else {
            LineNumbering::ChunkRelative
        }
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn chunk_inputs(&self) -> ChunkInputs {
        self.chunk_inputs.clone()
    }
    fn input_names(&self) -> Vec<String> {
        match self.union() {
            true => self.sources.iter().map(|s| s.table.name.clone()).collect(),
            false => vec![self.name.clone()],
        }
    }
    fn chunk_bytes(&self, index: usize) -> u64 {
        let (input, own) = self.chunk_inputs.of(index as u64);
        self.sources[input].chunks.chunk_bytes(own)
    }
    fn total_bytes(&self) -> Option<u64> {
        self.sources.iter().map(|s| s.chunks.total_bytes()).sum()
    }
    fn total_events(&self) -> Option<u64> {
        self.sources.iter().map(|s| s.chunks.total_events()).sum()
    }
}

/// One chunk's io source, with malformed-record lines made chunk-relative
/// (counting the header in the first chunk) so the merger can number them,
/// and its rows joined with the query's tables where it joins any.
pub struct ChunkSource {
    source: Box<dyn BatchSource + Send>,
    /// Which of the query's inputs it reads.
    input: usize,
    line_offset: u64,
    /// Standard input: io's line numbers are already absolute.
    absolute: bool,
    join: Option<JoinStep>,
    branch: Option<BranchRead>,
}

/// A UNION ALL branch's step, with the rows as read before it.
#[derive(Debug)]
struct BranchRead {
    step: BranchStep,
    read: Batch,
    /// Rows its WHERE dropped since [`ChunkReader::take_filtered`].
    filtered: u64,
}

/// The lookup joins a chunk's rows go through as they are read.
#[derive(Debug)]
struct JoinStep {
    lookups: Arc<Lookups>,
    scratch: JoinScratch,
    /// The rows as read, before they are joined.
    read: Batch,
}

impl ChunkReader for ChunkSource {
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        let first_new = malformed.len();
        let more = match (&mut self.join, &mut self.branch) {
            (None, Some(branch)) => {
                branch.read.clear();
                let more = self.source.fill(&mut branch.read, malformed, max_rows)?;
                branch.filtered += branch.step.convert(&mut branch.read, batch);
                more
            }
            (Some(join), Some(branch)) => {
                branch.read.clear();
                join.read.clear();
                let more = self.source.fill(&mut branch.read, malformed, max_rows)?;
                branch.filtered += branch.step.convert(&mut branch.read, &mut join.read);
                join.lookups
                    .join_into(&mut join.read, batch, &mut join.scratch);
                more
            }
            (None, None) => self.source.fill(batch, malformed, max_rows)?,
            (Some(join), None) => {
                join.read.clear();
                let more = self.source.fill(&mut join.read, malformed, max_rows)?;
                join.lookups
                    .join_into(&mut join.read, batch, &mut join.scratch);
                more
            }
        };
        if !self.absolute {
            for record in &mut malformed[first_new..] {
                record.line = record.line_in_split.map(|l| l + self.line_offset);
            }
        }
        Ok(more)
    }
    fn next_due(&self) -> Option<Duration> {
        self.source.scheduled_offset()
    }
    fn lines_read(&self) -> Option<u64> {
        self.source.lines_read().map(|l| l + self.line_offset)
    }
    fn position(&self) -> Option<ReadPosition> {
        self.source.position()
    }
    fn commit(&mut self, position: &ReadPosition) -> Result<()> {
        self.source.commit(position)
    }
    fn event_time_frontier(&self) -> Option<i64> {
        self.source.event_time_frontier()
    }
    fn holds_commit(&self, position: &ReadPosition) -> bool {
        self.source.holds_commit(position)
    }
    fn take_filtered(&mut self) -> u64 {
        self.branch
            .as_mut()
            .map_or(0, |b| std::mem::take(&mut b.filtered))
    }
}

/// Where output rows go (io's sinks). Only the merger writes to it.
pub use crate::io::RowSink;

/// Where malformed and late records go. Only the merger writes to it.
// INTEGRATOR: implement for `io::DeadLetterWriter`.
pub trait DeadLetters {
    fn malformed(&mut self, record: &Malformed) -> Result<()>;
    fn late(&mut self, source: &str, record: &LateRecord) -> Result<()>;
    /// Hands what is buffered to the operating system.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> Result<()>;
}

/// The dead-letter file: io's writer plus the schemas naming late records' columns.
pub struct DeadLetterFile {
    writer: io::DeadLetterWriter,
    columns: Schema,
    /// A join of two streams: each side's columns and where they start in
    /// its rows, by the side column's position.
    sides: Option<(usize, [(Schema, usize); 2])>,
}

impl DeadLetterFile {
    pub fn new(writer: io::DeadLetterWriter, columns: Schema) -> Self {
        DeadLetterFile {
            writer,
            columns,
            sides: None,
        }
    }

    /// The dead letters of a join of two streams: a late row is written as
    /// its own side's record (the columns of its source as read, which
    /// begin its side's columns in the joined row; a window join's sides
    /// go on with their windows' bounds).
    pub fn of_join(
        writer: io::DeadLetterWriter,
        [left, right]: [Schema; 2],
        join: &crate::plan::StreamJoin,
    ) -> Self {
        let side_column = join.side_column();
        let right_starts = join.left_width;
        DeadLetterFile {
            writer,
            columns: left.clone(),
            sides: Some((side_column, [(left, 0), (right, right_starts)])),
        }
    }
}

/// The columns and values of `record` as read (a join's late row: its own
/// side's), and what it came too late for.
fn record_columns<'r>(
    columns: &'r Schema,
    sides: Option<&'r (usize, [(Schema, usize); 2])>,
    record: &'r LateRecord,
) -> (&'r Schema, &'r [Value], io::Missed) {
    let Some((side_column, sides)) = sides else {
        // A row joined with tables begins with the record as read.
        let read = columns.len().min(record.values.len());
        return (columns, &record.values[..read], io::Missed::Windows);
    };
    let right = matches!(record.values.get(*side_column), Some(Value::Bool(true)));
    let (columns, start) = &sides[usize::from(right)];
    let end = (start + columns.len()).min(record.values.len());
    let own = &record.values[(*start).min(end)..end];
    (columns, own, io::Missed::JoinedRows)
}

impl DeadLetters for DeadLetterFile {
    fn malformed(&mut self, record: &Malformed) -> Result<()> {
        self.writer.write_malformed(record)
    }
    fn late(&mut self, source: &str, record: &LateRecord) -> Result<()> {
        let (columns, values, missed) = record_columns(&self.columns, self.sides.as_ref(), record);
        self.writer.write_late(
            source,
            record.position,
            (record.event_time, missed),
            columns,
            values,
        )
    }
    fn flush(&mut self) -> Result<()> {
        self.writer.finish()
    }
    fn finish(&mut self) -> Result<()> {
        self.writer.finish()
    }
}
