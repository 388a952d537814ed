//! A shard's engine side. In a shuffled plan the engine task processes chunks
//! in global order (chunk c from the source shard that owns it, up to its
//! `ChunkEnd`), aligning the watermark at every chunk end; in a stateless plan
//! one task reads the shard's own chunks and runs them through its engine.
//! Both send their output, tagged with the chunk, to the merger.

use std::time::Instant;

use super::adapter::{Backend, ChunkReader, Input, InputLayout, PartitionProcessor};
use super::channel::{yield_now, ChunkDead, MergeMsg, RowBlock, Rx, ShardMsg, Tx};
use super::metrics::ShardStats;
use super::recycle::Pool;
use super::source::{chunks_of, Reading, StopSignal};
use super::{Failure, RuntimeConfig};
use crate::data::Batch;
use crate::engine::{LateRecord, Output};
use crate::error::Error;
use crate::plan::QueryPlan;

/// Output bound for the merger: rows gathered per chunk and sent in blocks
/// (taken from `pool`, where the merger's spent blocks come back).
pub(crate) struct ToMerger {
    tx: Tx<MergeMsg>,
    rows: RowBlock,
    pool: Pool<RowBlock>,
    late: Vec<LateRecord>,
    chunk: u64,
    batch_rows: usize,
}

impl ToMerger {
    pub fn new(tx: Tx<MergeMsg>, batch_rows: usize, pool: Pool<RowBlock>) -> Self {
        ToMerger {
            tx,
            rows: RowBlock::default(),
            pool,
            late: Vec::new(),
            chunk: 0,
            batch_rows,
        }
    }

    fn take_rows(&mut self) -> RowBlock {
        let spare = self.pool.take_or(RowBlock::default);
        std::mem::replace(&mut self.rows, spare)
    }

    /// Takes what the engine produced while processing `chunk`.
    pub async fn take(
        &mut self,
        chunk: u64,
        out: &mut Output,
        caused_at: Instant,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        if chunk != self.chunk {
            self.flush_rows(stats).await?;
            self.chunk = chunk;
        }
        stats.rows_out += out.rows.len() as u64;
        let mut rows = std::mem::take(&mut out.rows);
        for row in rows.drain(..) {
            self.rows.push(row, caused_at, out);
        }
        out.rows = rows;
        self.late.append(&mut out.late);
        if self.rows.len() >= self.batch_rows {
            self.flush_rows(stats).await?;
        }
        Ok(())
    }

    async fn flush_rows(&mut self, stats: &mut ShardStats) -> Result<(), Failure> {
        if !self.rows.is_empty() {
            let rows = self.take_rows();
            let msg = MergeMsg::Rows {
                chunk: self.chunk,
                rows,
            };
            self.tx.send(msg, &mut stats.channel_full_waits).await?;
        }
        Ok(())
    }

    /// Ends `chunk`: its rows, its late records and (from the owner) its dead
    /// letters, then the promise that nothing more comes for chunks `<= through`.
    pub async fn end_chunk(
        &mut self,
        chunk: u64,
        dead: Option<ChunkDead>,
        through: u64,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        self.chunk = chunk;
        self.flush_rows(stats).await?;
        if dead.is_some() || !self.late.is_empty() {
            let late = std::mem::take(&mut self.late);
            let msg = MergeMsg::Dead { chunk, late, dead };
            self.tx.send(msg, &mut stats.channel_full_waits).await?;
        }
        let waits = &mut stats.channel_full_waits;
        self.tx.send(MergeMsg::Through(through), waits).await?;
        Ok(())
    }

    pub async fn send(&mut self, msg: MergeMsg, stats: &mut ShardStats) -> Result<(), Failure> {
        Ok(self.tx.send(msg, &mut stats.channel_full_waits).await?)
    }

    /// The rows of `finish()`, then `Finished`.
    pub async fn finish(
        &mut self,
        out: &mut Output,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        stats.rows_out += out.rows.len() as u64;
        let now = Instant::now();
        let mut rows = self.take_rows();
        let mut finished = std::mem::take(&mut out.rows);
        for row in finished.drain(..) {
            rows.push(row, now, out);
        }
        self.late.append(&mut out.late);
        if !self.late.is_empty() {
            let late = std::mem::take(&mut self.late);
            let msg = MergeMsg::Dead {
                chunk: u64::MAX,
                late,
                dead: None,
            };
            self.tx.send(msg, &mut stats.channel_full_waits).await?;
        }
        let waits = &mut stats.channel_full_waits;
        self.tx.send(MergeMsg::Final(rows), waits).await?;
        self.tx.send(MergeMsg::Finished, waits).await?;
        Ok(())
    }
}

/// Runs one engine call, timing it.
fn timed<T>(stats: &mut ShardStats, call: impl FnOnce() -> T) -> (T, Instant) {
    let began = Instant::now();
    let result = call();
    stats.busy += began.elapsed();
    (result, began)
}

/// The engine task of a shard in a shuffled plan.
pub(crate) struct Destination<P: PartitionProcessor> {
    pub shard: usize,
    pub processor: P,
    pub layout: InputLayout,
    pub out_of_orderness_ms: i64,
    pub has_event_time: bool,
    /// Indexed by source shard.
    pub inboxes: Vec<Rx<ShardMsg>>,
    /// Indexed by source shard: where processed batches go back to.
    pub batches_back: Vec<Tx<Batch>>,
    pub merger: ToMerger,
}

impl<P: PartitionProcessor> Destination<P> {
    pub async fn run(mut self) -> (ShardStats, Result<(), Failure>) {
        let mut stats = ShardStats::new(self.shard);
        let result = self.process_all(&mut stats).await;
        stats.engine = self.processor.stats();
        (stats, result)
    }

    fn owner(&self, chunk: u64) -> usize {
        match self.layout {
            InputLayout::Chunks(_) => (chunk % self.inboxes.len() as u64) as usize,
            InputLayout::Stream => 0,
        }
    }

    async fn process_all(&mut self, stats: &mut ShardStats) -> Result<(), Failure> {
        let sources = self.inboxes.len();
        let mut done = vec![false; sources];
        let mut out = Output::default();
        let mut max_event_time: Option<i64> = None;
        let mut chunk = 0u64;
        while done.iter().any(|d| !d) {
            let owner = self.owner(chunk);
            if self.layout == InputLayout::Stream && done[0] {
                // Only shard 0 reads a stream; the others send nothing but Done.
                self.drain_done(&mut done).await?;
                break;
            }
            if !done[owner] {
                let ended = self
                    .process_chunk(chunk, owner, &mut out, &mut max_event_time, stats)
                    .await?;
                done[owner] = !ended;
            }
            chunk += 1;
            yield_now().await;
        }
        timed(stats, || self.processor.finish(&mut out));
        self.merger.finish(&mut out, stats).await
    }

    async fn drain_done(&mut self, done: &mut [bool]) -> Result<(), Failure> {
        for (source, done) in done.iter_mut().enumerate() {
            while !*done {
                match self.inboxes[source].recv().await {
                    Some(ShardMsg::Done) => *done = true,
                    Some(_) => {
                        return Err(protocol_error(
                            source,
                            "sent rows for a stream it does not read",
                        ))
                    }
                    None => return Err(Failure::PeerGone),
                }
            }
        }
        Ok(())
    }

    /// Processes chunk `chunk` from `owner`; `Ok(false)` when the owner turned
    /// out to be done (the chunk does not exist: the source stopped).
    async fn process_chunk(
        &mut self,
        chunk: u64,
        owner: usize,
        out: &mut Output,
        max_event_time: &mut Option<i64>,
        stats: &mut ShardStats,
    ) -> Result<bool, Failure> {
        loop {
            let msg = self.inboxes[owner].recv().await.ok_or(Failure::PeerGone)?;
            match msg {
                ShardMsg::Rows(batch) => {
                    stats.batches_received += 1;
                    self.push(chunk, &batch, out, stats).await?;
                    self.batches_back[owner].offer(batch);
                }
                ShardMsg::ChunkEnd {
                    chunk: ended,
                    max_event_time: chunk_max,
                    dead,
                } => {
                    if ended != chunk {
                        let what = format!("ended chunk {ended} while chunk {chunk} was due");
                        return Err(protocol_error(owner, &what));
                    }
                    *max_event_time = (*max_event_time).max(chunk_max);
                    self.align_watermark(chunk, *max_event_time, out, stats)
                        .await?;
                    self.merger.end_chunk(chunk, dead, chunk, stats).await?;
                    return Ok(true);
                }
                ShardMsg::Done => {
                    // Tell the merger this shard is through with the skipped chunk too.
                    self.merger.end_chunk(chunk, None, chunk, stats).await?;
                    return Ok(false);
                }
            }
        }
    }

    async fn push(
        &mut self,
        chunk: u64,
        batch: &Batch,
        out: &mut Output,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let (_, began) = timed(stats, || self.processor.push(batch, out));
        self.merger.take(chunk, out, began, stats).await
    }

    async fn align_watermark(
        &mut self,
        chunk: u64,
        max_event_time: Option<i64>,
        out: &mut Output,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let Some(max) = max_event_time.filter(|_| self.has_event_time) else {
            return Ok(());
        };
        let watermark = max.saturating_sub(self.out_of_orderness_ms);
        let (_, began) = timed(stats, || self.processor.advance_watermark(watermark, out));
        self.merger.take(chunk, out, began, stats).await
    }
}

fn protocol_error(source: usize, what: &str) -> Failure {
    Failure::Error(Error::Runtime(format!(
        "internal error: source shard {source} {what}"
    )))
}

/// The single task of a shard in a stateless plan: reads its own chunks and
/// filters/projects them, no shuffle.
pub(crate) struct StatelessShard<B: Backend, I: Input> {
    pub shard: usize,
    pub shards: usize,
    pub plan: QueryPlan,
    pub backend: B,
    pub input: I,
    pub config: RuntimeConfig,
    pub stop: StopSignal,
    pub started: Instant,
    pub merger: ToMerger,
}

impl<B: Backend, I: Input> StatelessShard<B, I> {
    pub async fn run(mut self) -> (ShardStats, Result<(), Failure>) {
        let mut stats = ShardStats::new(self.shard);
        let mut processor = self.backend.processor(&self.plan);
        let mut result = self.read_all(&mut processor, &mut stats).await;
        if result.is_ok() {
            let mut out = Output::default();
            timed(&mut stats, || processor.finish(&mut out));
            result = self.merger.finish(&mut out, &mut stats).await;
        }
        stats.engine = processor.stats();
        stats.stopped = self.stop.stopped();
        (stats, result)
    }

    async fn read_all(
        &mut self,
        processor: &mut B::Processor,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let layout = self.input.layout();
        match layout {
            InputLayout::Chunks(_) => {
                let stride = self.shards as u64;
                if self.shard > 0 {
                    // Nothing from this shard for the chunks before its first.
                    let before = MergeMsg::Through(self.shard as u64 - 1);
                    self.merger.send(before, stats).await?;
                }
                for chunk in chunks_of(layout, self.shard, self.shards) {
                    if self.stop.should_stop() {
                        break;
                    }
                    let reader = self.input.open(chunk as usize)?;
                    let through = chunk + stride - 1;
                    self.run_chunk(chunk, through, reader, processor, stats, false)
                        .await?;
                }
            }
            InputLayout::Stream if self.shard == 0 => {
                let reader = self.input.open(0)?;
                self.run_chunk(0, 0, reader, processor, stats, true).await?;
            }
            InputLayout::Stream => {}
        }
        Ok(())
    }

    /// Reads one chunk (or, for a stream, the whole stream as one chunk per
    /// batch) through the engine.
    async fn run_chunk(
        &mut self,
        first_chunk: u64,
        through: u64,
        reader: I::Reader,
        processor: &mut B::Processor,
        stats: &mut ShardStats,
        stream: bool,
    ) -> Result<(), Failure> {
        let mut reading = Reading {
            reader,
            started: self.started,
            stats,
        };
        let width = self.plan.source.schema.len();
        let mut batch = Batch::with_capacity(width, self.config.batch_rows);
        let mut malformed = Vec::new();
        let mut out = Output::default();
        let mut chunk = first_chunk;
        loop {
            let more = reading
                .fill(&mut batch, &mut malformed, self.config.batch_rows)
                .await?;
            let (_, began) = timed(reading.stats, || processor.push(&batch, &mut out));
            self.merger
                .take(chunk, &mut out, began, reading.stats)
                .await?;
            let stop = !more || self.stop.should_stop();
            if stream {
                let dead = ChunkDead {
                    malformed: std::mem::take(&mut malformed),
                    lines: None,
                };
                self.merger
                    .end_chunk(chunk, Some(dead), chunk, reading.stats)
                    .await?;
                chunk += 1;
            }
            if stop {
                break;
            }
            yield_now().await;
        }
        if !stream {
            let lines = reading.reader.lines_read();
            let dead = ChunkDead { malformed, lines };
            self.merger
                .end_chunk(chunk, Some(dead), through, reading.stats)
                .await?;
        }
        Ok(())
    }
}
