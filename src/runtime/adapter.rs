//! The one place where the runtime touches `engine` and `io`.
//!
//! Everything the runtime needs from the layers beside it goes through the
//! traits here, so the shard machinery can be tested with a fake processor and
//! fake inputs, and so the integrator fixes names in this file only when the
//! engine and io land: [`EngineBackend`] (the real engine and key router),
//! [`TableInput`] (io's splits and sources), [`RowSink`] and [`DeadLetters`].

use std::time::Duration;

use crate::data::{Batch, Value};
use crate::engine::{EngineStats, LateRecord, Output, PartitionEngine};
use crate::error::Result;
use crate::io::{BatchSource, Malformed};
use crate::plan::{QueryPlan, TableDef};

/// One partition's synchronous query processor: what a shard drives.
pub trait PartitionProcessor {
    /// Processes rows routed to this partition, in position order.
    fn push(&mut self, batch: &Batch, out: &mut Output);
    /// Moves event time forward to `watermark` (ms).
    fn advance_watermark(&mut self, watermark: i64, out: &mut Output);
    /// End of input: closes every open window and group.
    fn finish(&mut self, out: &mut Output);
    fn stats(&self) -> EngineStats;
}

impl PartitionProcessor for PartitionEngine {
    fn push(&mut self, batch: &Batch, out: &mut Output) {
        PartitionEngine::push(self, batch, out)
    }
    fn advance_watermark(&mut self, watermark: i64, out: &mut Output) {
        PartitionEngine::advance_watermark(self, watermark, out)
    }
    fn finish(&mut self, out: &mut Output) {
        PartitionEngine::finish(self, out)
    }
    fn stats(&self) -> EngineStats {
        PartitionEngine::stats(self)
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
    fn router(&self, plan: &QueryPlan) -> Self::Router;
    /// The event time (ms) of a source row, when the plan has one.
    fn event_time(&self, plan: &QueryPlan, row: &[Value]) -> Option<i64>;
}

/// The real engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineBackend;

/// Routes by the plan's GROUP BY key. Until `engine::KeyRouter` lands this
/// hashes the whole row with fixed seeds.
// INTEGRATOR: replace the body with `engine::KeyRouter::new(plan)` and
// `KeyRouter::partition_of(row, partitions)`.
pub struct EngineRouter {
    hasher: ahash::RandomState,
}

impl RowRouter for EngineRouter {
    fn partition_of(&mut self, row: &[Value], partitions: usize) -> usize {
        (self.hasher.hash_one(row) % partitions.max(1) as u64) as usize
    }
}

impl Backend for EngineBackend {
    type Processor = PartitionEngine;
    type Router = EngineRouter;
    fn processor(&self, plan: &QueryPlan) -> PartitionEngine {
        PartitionEngine::new(plan)
    }
    fn router(&self, _plan: &QueryPlan) -> EngineRouter {
        EngineRouter {
            hasher: ahash::RandomState::with_seeds(1, 2, 3, 4),
        }
    }
    fn event_time(&self, plan: &QueryPlan, row: &[Value]) -> Option<i64> {
        // INTEGRATOR: `crate::engine::event_time(plan, row)`.
        plan.event_time_column()
            .and_then(|c| row.get(c))
            .and_then(Value::as_i64)
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
}

impl ChunkReader for Box<dyn BatchSource + Send> {
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        self.as_mut().fill(batch, malformed, max_rows)
    }
    // INTEGRATOR: forward `next_due` to the generator's `scheduled_offset()`
    // and `lines_read` to io's line count when io exposes them.
}

/// How the input is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// A fixed, ordered list of this many chunks; chunk c is read by shard c % N.
    Chunks(usize),
    /// One unbounded stream (standard input) read by shard 0, cut at every flush.
    Stream,
}

/// An input the runtime can read in chunks. Cloned into every shard; readers
/// are opened on the shard's own thread.
pub trait Input: Clone + Send + 'static {
    type Reader: ChunkReader;
    fn layout(&self) -> InputLayout;
    /// Opens chunk `index` (for a stream: index 0, the whole stream).
    fn open(&self, index: usize) -> Result<Self::Reader>;
    fn line_numbering(&self) -> LineNumbering;
    /// The source's name, for the dead-letter file.
    fn name(&self) -> &str;
}

/// A table read through io: its splits, planned once.
#[derive(Debug, Clone)]
pub struct TableInput {
    table: TableDef,
    chunks: usize,
    stream: bool,
}

impl TableInput {
    /// Plans the chunks of `table` (`chunk_bytes` per file chunk, `chunk_events`
    /// per generator chunk).
    // INTEGRATOR: call `io::plan_splits(table, chunk_bytes, chunk_events)` and
    // keep the `Vec<SplitSpec>`; a `Whole` stdin split means `stream = true`.
    pub fn plan(table: &TableDef, _chunk_bytes: u64, _chunk_events: u64) -> Result<TableInput> {
        let stream = table
            .property("path")
            .is_none_or(|p| p == "-" || p.eq_ignore_ascii_case("stdin"));
        Ok(TableInput {
            table: table.clone(),
            chunks: 1,
            stream,
        })
    }
}

impl Input for TableInput {
    type Reader = Box<dyn BatchSource + Send>;
    fn layout(&self) -> InputLayout {
        if self.stream {
            InputLayout::Stream
        } else {
            InputLayout::Chunks(self.chunks)
        }
    }
    fn open(&self, index: usize) -> Result<Self::Reader> {
        // INTEGRATOR: `io::open_source(&self.table, self.splits[index].clone())`.
        Err(crate::error::Error::Runtime(format!(
            "{}: chunk {index}: io sources are not wired into the runtime yet",
            self.table.name
        )))
    }
    fn line_numbering(&self) -> LineNumbering {
        // INTEGRATOR: ChunkRelative for FileRange splits if io numbers lines per chunk.
        LineNumbering::Unknown
    }
    fn name(&self) -> &str {
        &self.table.name
    }
}

/// Where output rows go. Only the merger writes to it.
// INTEGRATOR: replace with `pub use crate::io::RowSink;` (adjust signatures).
pub trait RowSink {
    fn write_row(&mut self, row: &[Value]) -> Result<()>;
    fn finish(&mut self) -> Result<()>;
}

/// Where malformed and late records go. Only the merger writes to it.
// INTEGRATOR: implement for `io::DeadLetterWriter`.
pub trait DeadLetters {
    fn malformed(&mut self, record: &Malformed) -> Result<()>;
    fn late(&mut self, source: &str, record: &LateRecord) -> Result<()>;
    fn finish(&mut self) -> Result<()>;
}
