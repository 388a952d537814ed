//! A shard's engine side. In a shuffled plan the engine task processes chunks
//! in global order (chunk c from the source shard that owns it, up to its
//! `ChunkEnd`), aligning the watermark at every chunk end; in a stateless plan
//! one task reads the shard's own chunks and runs them through its engine.
//! Both send their output, tagged with the chunk, to the merger.
//!
//! When the run is interrupted, an engine task stops where it is and winds
//! down as `--on-interrupt` says: it reports how many windows were still open
//! and, with `emit`, closes and sends them (they are partial).

use std::time::{Duration, Instant};

use super::adapter::{Backend, ChunkReader, Input, InputLayout, PartitionProcessor};
use super::channel::{ChunkDead, CommitIn, MergeMsg, RowBlock, Rx, ShardMsg, Tx};
use super::config::state_limit_error;
use super::exec::{sleep, yield_now};
use super::inputs::EventTimes;
use super::metrics::ShardStats;
use super::recycle::{Pool, Reusable};
use super::source::{
    chunks_of, count_piece, Fed, ProgressReporter, Reading, SliceRead, StreamFeed, STREAM_SLICE,
};
use super::stop::{Stop, StopReason};
use super::{Failure, OnInterrupt, RuntimeConfig};
use crate::data::Batch;
use crate::engine::{LateRecord, Output, OutputRow};
use crate::error::Error;
use crate::io::RowFormat;
use crate::plan::QueryPlan;

/// How long an engine task whose input closed waits to hear why (the stop
/// that closed it reaches every task at once, give or take scheduling).
const STOP_GRACE: Duration = Duration::from_secs(1);

/// What a shard does with its output rows, as the sink wants them.
pub(crate) enum ShardOutput {
    /// Formats them into the sink's bytes.
    Format(Box<dyn RowFormat + Send>),
    /// Sends their values (a sink that formats for itself).
    Values,
    /// Only counts them (a sink that discards rows).
    Count,
}

impl ShardOutput {
    /// The shape `sink` takes its rows in.
    pub fn for_sink(sink: &dyn crate::io::RowSink) -> ShardOutput {
        if sink.discards_rows() {
            return ShardOutput::Count;
        }
        sink.formatter()
            .map_or(ShardOutput::Values, ShardOutput::Format)
    }

    /// The same shape, for another shard.
    pub fn for_another_shard(&self) -> ShardOutput {
        match self {
            ShardOutput::Format(format) => ShardOutput::Format(format.boxed_clone()),
            ShardOutput::Values => ShardOutput::Values,
            ShardOutput::Count => ShardOutput::Count,
        }
    }
}

/// Output bound for the merger: rows gathered per chunk and sent in blocks
/// (taken from `pool`, where the merger's spent blocks come back).
pub(crate) struct ToMerger {
    tx: Tx<MergeMsg>,
    /// What becomes of rows here, on the shard that made them.
    output: ShardOutput,
    rows: RowBlock,
    pool: Pool<RowBlock>,
    late: Vec<LateRecord>,
    chunk: u64,
    batch_rows: usize,
}

impl ToMerger {
    pub fn new(
        tx: Tx<MergeMsg>,
        output: ShardOutput,
        batch_rows: usize,
        pool: Pool<RowBlock>,
    ) -> Self {
        ToMerger {
            tx,
            output,
            rows: RowBlock::default(),
            pool,
            late: Vec::new(),
            chunk: 0,
            batch_rows,
        }
    }

    /// Moves `rows` into `block` as `output` says.
    fn append(
        block: &mut RowBlock,
        output: &mut ShardOutput,
        rows: &mut Vec<OutputRow>,
        caused_at: Instant,
        out: &mut Output,
    ) {
        match output {
            ShardOutput::Format(format) => {
                for row in rows.drain(..) {
                    block.push_formatted(row, caused_at, format.as_mut(), out);
                }
            }
            ShardOutput::Values => {
                for row in rows.drain(..) {
                    block.push(row, caused_at, out);
                }
            }
            ShardOutput::Count => {
                for row in rows.drain(..) {
                    block.push_discarded(row, caused_at, out);
                }
            }
        }
    }

    fn take_rows(&mut self) -> RowBlock {
        let spare = self.pool.take_or(RowBlock::default);
        std::mem::replace(&mut self.rows, spare)
    }

    /// Takes what the engine produced while processing `chunk`, caused by
    /// records read at `caused_at`.
    pub async fn take(
        &mut self,
        chunk: u64,
        out: &mut Output,
        caused_at: Instant,
        stop: &mut Stop,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        if chunk != self.chunk {
            self.flush_rows(stop, stats).await?;
            self.chunk = chunk;
        }
        stats.rows_out += out.rows.len() as u64;
        let mut rows = std::mem::take(&mut out.rows);
        Self::append(&mut self.rows, &mut self.output, &mut rows, caused_at, out);
        out.rows = rows;
        self.late.append(&mut out.late);
        if self.rows.len() >= self.batch_rows {
            self.flush_rows(stop, stats).await?;
        }
        Ok(())
    }

    async fn flush_rows(&mut self, stop: &mut Stop, stats: &mut ShardStats) -> Result<(), Failure> {
        if !self.rows.is_empty() {
            let rows = self.take_rows();
            let msg = MergeMsg::Rows {
                chunk: self.chunk,
                rows,
            };
            self.tx
                .send(msg, stop, &mut stats.channel_full_waits)
                .await?;
        }
        Ok(())
    }

    /// Ends `chunk`: its rows, its late records and (from the owner) its dead
    /// letters, then the promise that nothing more comes for chunks `<= through`
    /// (and the watermark the engine reached, if it has one).
    pub async fn end_chunk(
        &mut self,
        chunk: u64,
        dead: Option<ChunkDead>,
        (through, watermark): (u64, Option<i64>),
        stop: &mut Stop,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        if chunk != self.chunk {
            self.flush_rows(stop, stats).await?;
            self.chunk = chunk;
        }
        let rows = (!self.rows.is_empty()).then(|| self.take_rows());
        let msg = MergeMsg::ChunkEnd {
            chunk,
            rows,
            late: std::mem::take(&mut self.late),
            dead,
            through,
            watermark,
        };
        self.tx.send(msg, stop, &mut stats.channel_full_waits).await
    }

    pub async fn send(
        &mut self,
        msg: MergeMsg,
        stop: &mut Stop,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        self.tx.send(msg, stop, &mut stats.channel_full_waits).await
    }

    /// Closes what `processor` holds at the end of the input and sends its
    /// final rows, a block of `batch_rows` at a time (each sorted, and after
    /// the block before), with their late records; `ended` when the input
    /// ended. Sent even while the run is stopping (the merger waits for
    /// them), unless `stop` is given: then a stop ends them between blocks
    /// (the merger writes only rows certain to come before the rest).
    /// The merger writes a block as soon as every shard's next is in, so
    /// millions of final rows never wait in memory at once.
    pub async fn finish<P: PartitionProcessor>(
        &mut self,
        processor: &mut P,
        ended: bool,
        mut stop: Option<&mut Stop>,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        // Rows of a chunk not ended (only after a stop): never written.
        self.rows.clear_for_reuse();
        let mut out = Output::default();
        loop {
            let (more, _) = timed(stats, || processor.finish_piece(&mut out, self.batch_rows));
            stats.rows_out += out.rows.len() as u64;
            if !out.rows.is_sorted_by(|a, b| a.order <= b.order) {
                out.rows.sort_by(|a, b| a.order.cmp(&b.order));
            }
            let mut rows = self.take_rows();
            let mut finished = std::mem::take(&mut out.rows);
            Self::append(
                &mut rows,
                &mut self.output,
                &mut finished,
                Instant::now(),
                &mut out,
            );
            out.rows = finished;
            self.late.append(&mut out.late);
            let late = std::mem::take(&mut self.late);
            let last = !more;
            let msg = MergeMsg::Final {
                rows,
                late,
                ended,
                last,
            };
            self.tx.send_anyway(msg).await?;
            if last {
                return Ok(());
            }
            if let Some(reason) = stop.as_deref_mut().and_then(Stop::check) {
                stats.stopped = true;
                let open = processor.open_groups();
                self.tx.send_anyway(MergeMsg::OpenAtStop(open)).await?;
                return Err(Failure::Stopped(reason));
            }
        }
    }

    /// A clone of the channel to the merger, for progress reports.
    pub fn reporter(&self, task: u8) -> ProgressReporter {
        ProgressReporter::new(self.tx.clone(), task)
    }
}

/// Runs one engine call, timing it.
fn timed<T>(stats: &mut ShardStats, call: impl FnOnce() -> T) -> (T, Instant) {
    let began = Instant::now();
    let result = call();
    stats.busy += began.elapsed();
    (result, began)
}

/// After the loop of an engine task ended with `failure`: why the run
/// stops. A closed input with no stop heard yet waits briefly for the stop
/// that closed it; hearing none means a peer failed.
async fn stop_reason(failure: Failure, stop: &mut Stop) -> Result<StopReason, Failure> {
    match failure {
        Failure::Stopped(reason) => Ok(reason),
        Failure::PeerGone => match stop.until(sleep(STOP_GRACE)).await {
            Err(reason) => Ok(reason),
            Ok(()) => Err(Failure::PeerGone),
        },
        Failure::Error(e) => Err(Failure::Error(e)),
    }
}

/// Winds an engine down after `reason`: on an interrupt it reports the open
/// windows and, with `emit`, closes and sends them.
async fn wind_down<P: PartitionProcessor>(
    reason: StopReason,
    processor: &mut P,
    on_interrupt: OnInterrupt,
    merger: &mut ToMerger,
    stats: &mut ShardStats,
) -> Result<(), Failure> {
    stats.stopped = true;
    if !matches!(reason, StopReason::Interrupted(_)) {
        return Err(Failure::Stopped(reason));
    }
    let open = processor.open_groups();
    merger.tx.send_anyway(MergeMsg::OpenAtStop(open)).await?;
    if on_interrupt == OnInterrupt::Emit {
        merger.finish(processor, false, None, stats).await?;
    }
    Err(Failure::Stopped(reason))
}

/// The engine task of a shard in a shuffled plan.
pub(crate) struct Destination<P: PartitionProcessor> {
    pub shard: usize,
    pub processor: P,
    pub layout: InputLayout,
    pub out_of_orderness_ms: i64,
    pub has_event_time: bool,
    pub on_interrupt: OnInterrupt,
    /// Indexed by source shard.
    pub inboxes: Vec<Rx<ShardMsg>>,
    /// Indexed by source shard: where processed batches go back to.
    pub batches_back: Vec<Tx<Batch>>,
    pub merger: ToMerger,
    pub progress: ProgressReporter,
    pub stop: Stop,
    /// The running maximum event time over all chunk ends so far (per-shard
    /// streams: of the smallest frontier among the shards still reading).
    pub max_event_time: Option<i64>,
    /// Chunked inputs: the event time the watermark follows, per input (a
    /// UNION ALL reads several).
    pub event_times: EventTimes,
    /// Per-shard streams: each source shard's event-time frontier (the
    /// largest event time it read, or later when it idled); `None` before it
    /// read anything and after it ended.
    pub frontiers: Vec<Option<i64>>,
    /// `--max-state-bytes`, and what the state is, for the message.
    pub state_limit: Option<u64>,
    pub state_description: Option<String>,
    /// A windowed pre-aggregation: where this shard's source task learns the
    /// watermark set at each chunk's end (see `AlignedWatermarks`).
    pub watermarks_to_source: Option<Tx<(u64, Option<i64>)>>,
}

impl<P: PartitionProcessor> Destination<P> {
    pub async fn run(mut self) -> (ShardStats, Result<(), Failure>) {
        let mut stats = ShardStats::new(self.shard);
        let result = match self.process_all(&mut stats).await {
            Ok(()) => {
                // Dropping open windows on an interrupt drops the rest of
                // the final rows too; emitting them writes them all.
                let drop = self.on_interrupt == OnInterrupt::Drop;
                let stop = drop.then_some(&mut self.stop);
                self.merger
                    .finish(&mut self.processor, true, stop, &mut stats)
                    .await
            }
            Err(failure) => match stop_reason(failure, &mut self.stop).await {
                Ok(reason) => {
                    stats.records_discarded += self.drain_inboxes().await;
                    let merger = &mut self.merger;
                    wind_down(
                        reason,
                        &mut self.processor,
                        self.on_interrupt,
                        merger,
                        &mut stats,
                    )
                    .await
                }
                Err(failure) => Err(failure),
            },
        };
        stats.engine = self.processor.stats();
        self.report(&stats);
        (stats, result)
    }

    /// After a stop: takes what the sources still send until they end (they
    /// end at once on a stop); the rows that will never be processed.
    async fn drain_inboxes(&mut self) -> u64 {
        let mut rows = 0;
        for inbox in &mut self.inboxes {
            while let Some(msg) = inbox.recv_anyway().await {
                match msg {
                    ShardMsg::Rows { batch, .. } => rows += batch.len() as u64,
                    ShardMsg::Partial(groups) => rows += groups.records(),
                    ShardMsg::ChunkEnd { .. } | ShardMsg::Done => {}
                }
            }
        }
        rows
    }

    fn report(&mut self, stats: &ShardStats) {
        let mut stats = stats.clone();
        stats.engine = self.processor.stats();
        let watermark = self.watermark();
        let state = self.processor.state_bytes() as u64;
        self.progress.report(&stats, watermark, 0, state);
    }

    /// Ends the run once this shard's state alone outgrows the limit (the
    /// merger checks the sum over shards from their progress reports).
    fn check_state_limit(&self) -> Result<(), Failure> {
        let Some(limit) = self.state_limit else {
            return Ok(());
        };
        let held = self.processor.state_bytes() as u64;
        if held > limit {
            let state = self.state_description.as_deref();
            return Err(Failure::Error(state_limit_error(held, limit, state)));
        }
        Ok(())
    }

    fn watermark(&self) -> Option<i64> {
        self.max_event_time
            .filter(|_| self.has_event_time)
            .map(|max| max.saturating_sub(self.out_of_orderness_ms))
    }

    fn owner(&self, chunk: u64) -> usize {
        match self.layout {
            InputLayout::Chunks(_) | InputLayout::Streams => {
                (chunk % self.inboxes.len() as u64) as usize
            }
            InputLayout::Stream => 0,
        }
    }

    /// Takes a chunk end's event time: the chunk's largest (files, one
    /// stream), or the owner's frontier (per-shard streams, where the
    /// watermark follows the slowest shard, as Kafka's per-partition
    /// watermarks do: a frontier of `None` holds it back, `i64::MAX` does not).
    fn note_event_time(&mut self, chunk: u64, owner: usize, event_time: Option<i64>) {
        if self.layout != InputLayout::Streams {
            self.max_event_time = self.event_times.note(chunk, event_time);
            return;
        }
        self.frontiers[owner] = event_time;
        let mut slowest = None;
        for frontier in &self.frontiers {
            match frontier {
                None => return,
                Some(i64::MAX) => {}
                Some(t) => slowest = Some(slowest.map_or(*t, |s: i64| s.min(*t))),
            }
        }
        self.max_event_time = self.max_event_time.max(slowest);
    }

    async fn process_all(&mut self, stats: &mut ShardStats) -> Result<(), Failure> {
        let sources = self.inboxes.len();
        let mut done = vec![false; sources];
        let mut out = Output::default();
        let mut chunk = 0u64;
        while done.iter().any(|d| !d) {
            let owner = self.owner(chunk);
            if self.layout == InputLayout::Stream && done[0] {
                // Only shard 0 reads a stream; the others send nothing but Done.
                return self.drain_done(&mut done).await;
            }
            if !done[owner] {
                let ended = self.process_chunk(chunk, owner, &mut out, stats).await?;
                done[owner] = !ended;
                if done[owner] {
                    // An ended stream holds no watermark back.
                    self.frontiers[owner] = Some(i64::MAX);
                }
            }
            chunk += 1;
            if self.progress.due() {
                self.report(stats);
            }
            yield_now().await;
        }
        Ok(())
    }

    async fn drain_done(&mut self, done: &mut [bool]) -> Result<(), Failure> {
        for (source, done) in done.iter_mut().enumerate() {
            while !*done {
                match self.inboxes[source].recv(&mut self.stop).await {
                    Ok(Some(ShardMsg::Done)) => *done = true,
                    Ok(Some(_)) => {
                        return Err(protocol_error(
                            source,
                            "sent rows for a stream it does not read",
                        ))
                    }
                    Ok(None) => return Err(Failure::PeerGone),
                    Err(reason) => return Err(Failure::Stopped(reason)),
                }
            }
        }
        Ok(())
    }

    /// Processes chunk `chunk` from `owner`; `Ok(false)` when the owner turned
    /// out to be done (the chunk does not exist: its input ended).
    async fn process_chunk(
        &mut self,
        chunk: u64,
        owner: usize,
        out: &mut Output,
        stats: &mut ShardStats,
    ) -> Result<bool, Failure> {
        loop {
            let msg = match self.inboxes[owner].recv(&mut self.stop).await {
                Ok(Some(msg)) => msg,
                Ok(None) => return Err(Failure::PeerGone),
                Err(reason) => return Err(Failure::Stopped(reason)),
            };
            match msg {
                ShardMsg::Rows { batch, read_at } => {
                    stats.batches_received += 1;
                    self.push(chunk, &batch, read_at, out, stats).await?;
                    self.batches_back[owner].offer(batch);
                }
                ShardMsg::Partial(groups) => {
                    stats.batches_received += 1;
                    timed(stats, || self.processor.merge_partial(&groups));
                    self.check_state_limit()?;
                }
                ShardMsg::ChunkEnd {
                    chunk: ended,
                    max_event_time,
                    dead,
                    read_at,
                } => {
                    if ended != chunk {
                        let what = format!("ended chunk {ended} while chunk {chunk} was due");
                        return Err(protocol_error(owner, &what));
                    }
                    self.note_event_time(chunk, owner, max_event_time);
                    self.align_watermark(chunk, read_at, out, stats).await?;
                    let watermark = self.watermark();
                    self.tell_source(chunk, watermark);
                    self.merger
                        .end_chunk(chunk, dead, (chunk, watermark), &mut self.stop, stats)
                        .await?;
                    return Ok(true);
                }
                ShardMsg::Done => {
                    // The owner's input ended before this chunk: no such
                    // chunk, and nothing of it will come from this shard.
                    let watermark = self.watermark();
                    self.tell_source(chunk, watermark);
                    self.merger
                        .end_chunk(chunk, None, (chunk, watermark), &mut self.stop, stats)
                        .await?;
                    return Ok(false);
                }
            }
        }
    }

    /// Tells this shard's source the watermark set at chunk `chunk`'s end.
    fn tell_source(&self, chunk: u64, watermark: Option<i64>) {
        if let Some(source) = &self.watermarks_to_source {
            // Never full (see `AlignedWatermarks::link`); gone once the
            // source has read everything.
            source.offer((chunk, watermark));
        }
    }

    async fn push(
        &mut self,
        chunk: u64,
        batch: &Batch,
        read_at: Instant,
        out: &mut Output,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        timed(stats, || self.processor.push(batch, out));
        self.check_state_limit()?;
        self.merger
            .take(chunk, out, read_at, &mut self.stop, stats)
            .await
    }

    async fn align_watermark(
        &mut self,
        chunk: u64,
        read_at: Instant,
        out: &mut Output,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let Some(watermark) = self.watermark() else {
            return Ok(());
        };
        timed(stats, || self.processor.advance_watermark(watermark, out));
        self.merger
            .take(chunk, out, read_at, &mut self.stop, stats)
            .await
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
    pub stop: Stop,
    pub started: Instant,
    pub merger: ToMerger,
    pub progress: ProgressReporter,
    /// Per-shard streams: the link over which the merger says what this
    /// shard's reader may commit.
    pub commits: Option<CommitIn>,
}

impl<B: Backend, I: Input> StatelessShard<B, I> {
    pub async fn run(mut self) -> (ShardStats, Result<(), Failure>) {
        let mut stats = ShardStats::new(self.shard);
        let mut processor = self.backend.processor(&self.plan);
        let mut result = self.read_all(&mut processor, &mut stats).await;
        if result.is_ok() {
            result = self
                .merger
                .finish(&mut processor, true, None, &mut stats)
                .await;
        }
        stats.engine = processor.stats();
        stats.stopped = self.stop.is_stopped();
        self.progress.report(&stats, None, stats.bytes_read, 0);
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
                if self.shard > 0 {
                    // Nothing from this shard for the chunks before its first.
                    let before = MergeMsg::Through(self.shard as u64 - 1);
                    self.merger.send(before, &mut self.stop, stats).await?;
                }
                for chunk in chunks_of(layout, self.shard, self.shards) {
                    if let Some(reason) = self.stop.check() {
                        return Err(Failure::Stopped(reason));
                    }
                    self.run_chunk(chunk, processor, stats).await?;
                    stats.bytes_read += self.input.chunk_bytes(chunk as usize);
                }
                Ok(())
            }
            InputLayout::Stream if self.shard == 0 => self.run_stream(processor, stats).await,
            InputLayout::Stream => Ok(()),
            InputLayout::Streams => self.run_own_stream(processor, stats).await,
        }
    }

    /// Reads chunk `chunk` through the engine.
    async fn run_chunk(
        &mut self,
        chunk: u64,
        processor: &mut B::Processor,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let mut reading = Reading {
            reader: self.input.open(chunk as usize)?,
            started: self.started,
        };
        let width = self.plan.row_width();
        let mut batch = Batch::with_capacity(width, self.config.batch_rows);
        let mut malformed = Vec::new();
        let mut out = Output::default();
        loop {
            let filled = reading
                .fill(
                    &mut batch,
                    &mut malformed,
                    self.config.batch_rows,
                    &mut self.stop,
                    stats,
                )
                .await?;
            timed(stats, || processor.push(&batch, &mut out));
            self.merger
                .take(chunk, &mut out, filled.read_at, &mut self.stop, stats)
                .await?;
            self.progress.tick(stats, stats.bytes_read);
            if !filled.more {
                break;
            }
            if let Some(reason) = self.stop.check() {
                return Err(Failure::Stopped(reason));
            }
            yield_now().await;
        }
        let lines = reading.reader.lines_read();
        self.input.close(reading.reader);
        let dead = ChunkDead {
            malformed,
            lines,
            read: None,
        };
        let through = chunk + self.shards as u64 - 1;
        self.merger
            .end_chunk(chunk, Some(dead), (through, None), &mut self.stop, stats)
            .await
    }

    /// A stream: every piece its reader thread delivers is a chunk.
    async fn run_stream(
        &mut self,
        processor: &mut B::Processor,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        let width = self.plan.row_width();
        let mut feed = StreamFeed::start(&self.input, 0, &self.config, width, None)?;
        let mut out = Output::default();
        let mut chunk = 0u64;
        loop {
            let piece = match feed.next(&mut self.stop).await? {
                Fed::End => return Ok(()),
                Fed::Idle(_) => continue,
                Fed::Piece(piece) => piece,
            };
            count_piece(&piece, stats);
            timed(stats, || processor.push(&piece.batch, &mut out));
            self.merger
                .take(chunk, &mut out, piece.read_at, &mut self.stop, stats)
                .await?;
            let dead = ChunkDead {
                malformed: piece.malformed,
                ..ChunkDead::default()
            };
            self.merger
                .end_chunk(chunk, Some(dead), (chunk, None), &mut self.stop, stats)
                .await?;
            chunk += 1;
            self.progress.tick(stats, 0);
        }
    }

    /// This shard's own stream (per-shard streams): cut into a chunk every
    /// [`STREAM_SLICE`], numbered `slice * N + shard`.
    async fn run_own_stream(
        &mut self,
        processor: &mut B::Processor,
        stats: &mut ShardStats,
    ) -> Result<(), Failure> {
        if self.shard > 0 {
            // Nothing from this shard for the chunks before its first.
            let before = MergeMsg::Through(self.shard as u64 - 1);
            self.merger.send(before, &mut self.stop, stats).await?;
        }
        let width = self.plan.row_width();
        let commits = self.commits.take();
        let mut feed = StreamFeed::start(&self.input, self.shard, &self.config, width, commits)?;
        let mut out = Output::default();
        let shards = self.shards as u64;
        for slice in 0u64.. {
            let chunk = slice * shards + self.shard as u64;
            let deadline = Instant::now() + STREAM_SLICE;
            let mut slice_read = SliceRead::default();
            let ended = loop {
                let piece = match feed.next_before(&mut self.stop, deadline).await? {
                    None => break false,
                    Some(Fed::End) => break true,
                    Some(Fed::Idle(_)) => continue,
                    Some(Fed::Piece(piece)) => piece,
                };
                count_piece(&piece, stats);
                timed(stats, || processor.push(&piece.batch, &mut out));
                self.merger
                    .take(chunk, &mut out, piece.read_at, &mut self.stop, stats)
                    .await?;
                slice_read.take(piece, None);
            };
            let through = (chunk + shards - 1, None);
            let dead = Some(slice_read.into_dead());
            self.merger
                .end_chunk(chunk, dead, through, &mut self.stop, stats)
                .await?;
            self.progress.tick(stats, 0);
            if ended {
                return Ok(());
            }
        }
        Ok(())
    }
}
