//! A shard's source side: reads its chunks in order, parses them, and (for
//! grouped plans) routes every row by key into per-destination batches,
//! ending each chunk with a `ChunkEnd` marker to every destination.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use super::adapter::{Backend, ChunkReader, Input, InputLayout, RowRouter};
use super::channel::{yield_now, ChunkDead, ShardMsg, Tx};
use super::metrics::ShardStats;
use super::recycle::Pool;
use super::{Failure, RuntimeConfig};
use crate::data::Batch;
use crate::io::Malformed;
use crate::plan::QueryPlan;

/// A source's stop conditions: a request from the merger (LIMIT reached) and
/// the caller's stop check (signals).
pub(crate) struct StopSignal {
    requested: Rc<Cell<bool>>,
    check: Option<Box<dyn FnMut() -> bool + Send>>,
}

impl StopSignal {
    pub fn new(check: Option<Box<dyn FnMut() -> bool + Send>>) -> Self {
        StopSignal {
            requested: Rc::new(Cell::new(false)),
            check,
        }
    }

    /// The flag the merger's stop request sets.
    pub fn flag(&self) -> Rc<Cell<bool>> {
        self.requested.clone()
    }

    pub fn should_stop(&mut self) -> bool {
        if !self.requested.get() && self.check.as_mut().is_some_and(|check| check()) {
            self.requested.set(true);
        }
        self.requested.get()
    }

    pub fn stopped(&self) -> bool {
        self.requested.get()
    }
}

/// The chunks shard `shard` of `shards` reads, in order.
pub(crate) fn chunks_of(layout: InputLayout, shard: usize, shards: usize) -> Vec<u64> {
    match layout {
        InputLayout::Chunks(count) => (shard..count).step_by(shards).map(|c| c as u64).collect(),
        InputLayout::Stream => Vec::new(),
    }
}

/// Reads rows from one chunk reader, pacing generators and timing the work.
pub(crate) struct Reading<'a, R> {
    pub reader: R,
    pub started: Instant,
    pub stats: &'a mut ShardStats,
}

impl<R: ChunkReader> Reading<'_, R> {
    /// Fills `batch` (cleared first) with up to `max_rows` rows; malformed
    /// records are appended to `malformed`. `Ok(false)` at the chunk's end.
    pub async fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool, Failure> {
        if let Some(due) = self.reader.next_due() {
            let wait = (self.started + due).saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                glommio::timer::sleep(wait).await;
            }
        }
        batch.clear();
        let bad_before = malformed.len();
        let began = Instant::now();
        let more = self.reader.fill(batch, malformed, max_rows)?;
        self.stats.busy += began.elapsed();
        let bad = (malformed.len() - bad_before) as u64;
        self.stats.records_in += batch.len() as u64 + bad;
        self.stats.records_malformed += bad;
        Ok(more)
    }
}

/// The source task of a shard in a shuffled (grouped) plan.
pub(crate) struct ShuffleSource<B: Backend, I: Input> {
    pub shard: usize,
    pub plan: QueryPlan,
    pub backend: B,
    pub input: I,
    pub config: RuntimeConfig,
    pub stop: StopSignal,
    pub started: Instant,
    pub outboxes: Vec<Tx<ShardMsg>>,
    /// Batches the destinations are done with, emptied on this core.
    pub batch_pool: Pool<Batch>,
}

/// Per-destination batches being filled, and when they were last flushed.
struct Outbound {
    batches: Vec<Batch>,
    last_flush: Instant,
}

impl<B: Backend, I: Input> ShuffleSource<B, I> {
    pub async fn run(mut self) -> (ShardStats, Result<(), Failure>) {
        let mut stats = ShardStats::new(self.shard);
        let result = self.read_all(&mut stats).await;
        for outbox in &self.outboxes {
            // A destination that is gone has failed; its error is reported there.
            let _ = outbox
                .send(ShardMsg::Done, &mut stats.channel_full_waits)
                .await;
        }
        stats.stopped = self.stop.stopped();
        (stats, result)
    }

    async fn read_all(&mut self, stats: &mut ShardStats) -> Result<(), Failure> {
        let layout = self.input.layout();
        match layout {
            InputLayout::Chunks(_) => {
                for chunk in chunks_of(layout, self.shard, self.outboxes.len()) {
                    if self.stop.should_stop() {
                        break;
                    }
                    self.read_chunk(chunk, stats).await?;
                }
            }
            InputLayout::Stream if self.shard == 0 => self.read_stream(stats).await?,
            InputLayout::Stream => {}
        }
        Ok(())
    }

    fn outbound(&self) -> Outbound {
        let width = self.plan.source.schema.len();
        let rows = self.config.batch_rows;
        Outbound {
            batches: (0..self.outboxes.len())
                .map(|_| Batch::with_capacity(width, rows))
                .collect(),
            last_flush: Instant::now(),
        }
    }

    async fn read_chunk(&mut self, chunk: u64, stats: &mut ShardStats) -> Result<(), Failure> {
        let reader = self.input.open(chunk as usize)?;
        let mut reading = Reading {
            reader,
            started: self.started,
            stats,
        };
        let mut router = self.backend.router(&self.plan);
        let mut outbound = self.outbound();
        let mut batch = Batch::with_capacity(self.plan.source.schema.len(), self.config.batch_rows);
        let mut malformed = Vec::new();
        let mut max_event_time = None;
        loop {
            let more = reading
                .fill(&mut batch, &mut malformed, self.config.batch_rows)
                .await?;
            let began = Instant::now();
            let event_time = self.route(&batch, &mut router, &mut outbound);
            max_event_time = max_event_time.max(event_time);
            reading.stats.busy += began.elapsed();
            self.flush_full(&mut outbound, reading.stats).await?;
            if outbound.last_flush.elapsed() >= self.config.flush_interval {
                self.flush_all(&mut outbound, reading.stats).await?;
            }
            if !more || self.stop.should_stop() {
                break;
            }
            yield_now().await;
        }
        let lines = reading.reader.lines_read();
        let dead = ChunkDead { malformed, lines };
        self.end_chunk(chunk, max_event_time, dead, &mut outbound, reading.stats)
            .await
    }

    /// Standard input: one stream, cut into a chunk at every flush.
    async fn read_stream(&mut self, stats: &mut ShardStats) -> Result<(), Failure> {
        let reader = self.input.open(0)?;
        let mut reading = Reading {
            reader,
            started: self.started,
            stats,
        };
        let mut router = self.backend.router(&self.plan);
        let mut outbound = self.outbound();
        let mut batch = Batch::with_capacity(self.plan.source.schema.len(), self.config.batch_rows);
        let mut malformed = Vec::new();
        let mut max_event_time = None;
        let mut rows_in_chunk = 0;
        let mut chunk = 0u64;
        loop {
            let more = reading
                .fill(&mut batch, &mut malformed, self.config.batch_rows)
                .await?;
            let began = Instant::now();
            max_event_time = max_event_time.max(self.route(&batch, &mut router, &mut outbound));
            rows_in_chunk += batch.len();
            reading.stats.busy += began.elapsed();
            let stop = !more || self.stop.should_stop();
            let due = outbound.last_flush.elapsed() >= self.config.flush_interval;
            let full = rows_in_chunk.max(malformed.len()) >= self.config.batch_rows;
            if stop || due || full {
                let dead = ChunkDead {
                    malformed: std::mem::take(&mut malformed),
                    lines: None,
                };
                self.end_chunk(chunk, max_event_time, dead, &mut outbound, reading.stats)
                    .await?;
                chunk += 1;
                rows_in_chunk = 0;
                // The watermark carries over: markers are running maxima anyway.
            }
            if stop {
                return Ok(());
            }
            yield_now().await;
        }
    }

    /// Appends each row of `batch` to its destination's batch; returns the
    /// largest event time among them.
    fn route(&self, batch: &Batch, router: &mut B::Router, out: &mut Outbound) -> Option<i64> {
        let destinations = out.batches.len();
        let mut max_event_time = None;
        for (row, position) in batch.rows() {
            let destination = router.partition_of(row, destinations) % destinations;
            out.batches[destination].push_row(row, position);
            max_event_time = max_event_time.max(self.backend.event_time(&self.plan, row));
        }
        max_event_time
    }

    async fn flush_full(&self, out: &mut Outbound, stats: &mut ShardStats) -> Result<(), Failure> {
        for destination in 0..out.batches.len() {
            if out.batches[destination].len() >= self.config.batch_rows {
                self.send_batch(destination, out, stats).await?;
            }
        }
        Ok(())
    }

    async fn flush_all(&self, out: &mut Outbound, stats: &mut ShardStats) -> Result<(), Failure> {
        for destination in 0..out.batches.len() {
            if !out.batches[destination].is_empty() {
                self.send_batch(destination, out, stats).await?;
            }
        }
        out.last_flush = Instant::now();
        Ok(())
    }

    async fn send_batch(
        &self,
        destination: usize,
        out: &mut Outbound,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let width = self.plan.source.schema.len();
        let rows = self.config.batch_rows;
        let spare = self
            .batch_pool
            .take_or(|| Batch::with_capacity(width, rows));
        let batch = std::mem::replace(&mut out.batches[destination], spare);
        self.outboxes[destination]
            .send(ShardMsg::Rows(batch), &mut stats.channel_full_waits)
            .await?;
        stats.batches_sent += 1;
        Ok(())
    }

    /// Flushes the chunk's rows, then tells every destination the chunk ended.
    /// The chunk's dead letters go to this shard's own engine only.
    async fn end_chunk(
        &self,
        chunk: u64,
        max_event_time: Option<i64>,
        dead: ChunkDead,
        out: &mut Outbound,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        self.flush_all(out, stats).await?;
        let mut dead = Some(dead);
        for (destination, outbox) in self.outboxes.iter().enumerate() {
            let marker = ShardMsg::ChunkEnd {
                chunk,
                max_event_time,
                dead: if destination == self.shard {
                    dead.take()
                } else {
                    None
                },
            };
            outbox.send(marker, &mut stats.channel_full_waits).await?;
        }
        Ok(())
    }
}
