//! A shard's source side: reads its chunks in order (pacing generators),
//! parses them, and (for grouped plans) routes every row by key into
//! per-destination batches, ending each chunk with a `ChunkEnd` marker to
//! every destination. A stream (standard input, a pipe, a followed file) is
//! read on a reader thread of its own ([`StreamFeed`]) so that a blocking
//! read never holds up a shard, and every piece it delivers is a chunk.
//!
//! A stop abandons the chunk being read: no `ChunkEnd` goes out for it, so
//! the merger never writes output of a partly read chunk.

use std::mem::replace;
use std::time::{Duration, Instant};

use super::adapter::{Backend, ChunkReader, Input, InputLayout, RowRouter};
use super::channel::{
    bounded, ChunkDead, ChunkRead, CommitIn, MergeMsg, Rx, ShardMsg, TaskProgress, Tx,
};
use super::exec::{sleep, sleep_until_precisely, yield_now};
use super::metrics::ShardStats;
use super::recycle::Pool;
use super::stop::Stop;
use super::{Failure, RuntimeConfig};
use crate::data::Batch;
use crate::engine::PreAggregator;
use crate::error::{Error, Result};
use crate::io::{Malformed, ReadPosition};
use crate::plan::QueryPlan;

/// How often a task reports its counters to the merger (for live snapshots).
pub(crate) const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);
/// While a stream stays idle past its idle timeout, how often the watermark
/// moves on with the wall clock.
const IDLE_TICK: Duration = Duration::from_millis(100);
/// How long one chunk of a per-shard stream lasts. Destinations take the
/// shards' chunks in turn, so a row waits at most about this long for the
/// other shards' chunks before it is processed and written.
pub(crate) const STREAM_SLICE: Duration = Duration::from_millis(10);

/// The chunks shard `shard` of `shards` reads, in order (computed as they
/// are taken: a paced generator may have millions).
pub(crate) fn chunks_of(
    layout: InputLayout,
    shard: usize,
    shards: usize,
) -> impl Iterator<Item = u64> {
    let count = match layout {
        InputLayout::Chunks(count) => count,
        InputLayout::Stream | InputLayout::Streams => 0,
    };
    (shard..count).step_by(shards.max(1)).map(|c| c as u64)
}

/// Sends a task's counters to the merger now and then, never waiting.
pub(crate) struct ProgressReporter {
    tx: Tx<MergeMsg>,
    task: u8,
    last: Instant,
}

impl ProgressReporter {
    /// `task`: 0 for a shard's source side, 1 for its engine side.
    pub fn new(tx: Tx<MergeMsg>, task: u8) -> Self {
        ProgressReporter {
            tx,
            task,
            last: Instant::now(),
        }
    }

    /// True when the last report is older than [`PROGRESS_INTERVAL`].
    pub fn due(&self) -> bool {
        self.last.elapsed() >= PROGRESS_INTERVAL
    }

    /// Reports a source's counters when one is [`ProgressReporter::due`].
    pub fn tick(&mut self, stats: &ShardStats, bytes_read: u64) {
        if self.due() {
            self.report(stats, None, bytes_read, 0);
        }
    }

    pub fn report(
        &mut self,
        stats: &ShardStats,
        watermark_ms: Option<i64>,
        bytes_read: u64,
        state_bytes: u64,
    ) {
        self.last = Instant::now();
        self.tx.offer(MergeMsg::Progress(TaskProgress {
            task: self.task,
            stats: stats.clone(),
            watermark_ms,
            bytes_read,
            state_bytes,
        }));
    }
}

/// What one [`Reading::fill`] gave.
pub(crate) struct Filled {
    /// False once the chunk is exhausted.
    pub more: bool,
    /// When the rows were read (for a paced generator: when they were due).
    pub read_at: Instant,
}

/// Reads rows from one chunk reader, pacing generators and timing the work.
pub(crate) struct Reading<R> {
    pub reader: R,
    pub started: Instant,
}

impl<R: ChunkReader> Reading<R> {
    /// Fills `batch` (cleared first) with up to `max_rows` rows; malformed
    /// records are appended to `malformed`. A paced generator's rows are
    /// waited for (unless a stop comes first).
    pub async fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
        stop: &mut Stop,
        stats: &mut ShardStats,
    ) -> std::result::Result<Filled, Failure> {
        let due = self.reader.next_due().map(|offset| self.started + offset);
        if let Some(due) = due.filter(|due| *due > Instant::now()) {
            stop.until(sleep_until_precisely(due))
                .await
                .map_err(Failure::Stopped)?;
        }
        batch.clear();
        let bad_before = malformed.len();
        let began = Instant::now();
        let more = self.reader.fill(batch, malformed, max_rows)?;
        stats.busy += began.elapsed();
        let bad = (malformed.len() - bad_before) as u64;
        let filtered = self.reader.take_filtered();
        stats.records_in += batch.len() as u64 + bad + filtered;
        stats.records_malformed += bad;
        stats.filtered_on_read += filtered;
        Ok(Filled {
            more,
            read_at: due.unwrap_or(began),
        })
    }
}

/// What a stream's reader thread delivers: the rows one read gave.
pub(crate) struct StreamPiece {
    pub batch: Batch,
    pub malformed: Vec<Malformed>,
    pub read_at: Instant,
    /// A replayable source's position after this piece.
    pub position: Option<ReadPosition>,
    /// The reader's event-time frontier after this piece (per-shard streams).
    pub frontier: Option<i64>,
}

/// The next thing a stream has for its shard.
pub(crate) enum Fed {
    Piece(StreamPiece),
    /// No record for this long (past the idle timeout).
    Idle(Duration),
    /// The stream ended.
    End,
}

/// A stream read on a thread of its own: blocking reads (an idle terminal,
/// a pipe, a followed file) happen there, and the shard waits on a channel,
/// where a stop or the idle timeout can interrupt the wait.
pub(crate) struct StreamFeed {
    rx: Rx<Result<StreamPiece>>,
    idle_timeout: Option<Duration>,
    last_record: Instant,
}

impl StreamFeed {
    /// Starts the reader thread of stream `index` of `input` (0 for the one
    /// stream; the shard for per-shard streams). With `commits`, the thread
    /// commits the positions the merger sends it, and ends only once the
    /// merger is done.
    pub fn start<I: Input>(
        input: &I,
        index: usize,
        config: &RuntimeConfig,
        width: usize,
        commits: Option<CommitIn>,
    ) -> Result<StreamFeed> {
        let (tx, rx) = bounded(4);
        let input = input.clone();
        let rows = config.batch_rows;
        std::thread::Builder::new()
            .name("corestream-reader".into())
            .spawn(move || {
                let mut committer = commits.map(|link| Committer::new(link, width));
                read_stream_into(input, index, rows, width, tx, committer.as_mut());
                if let Some(committer) = committer {
                    committer.finish();
                }
            })
            .map_err(|e| Error::Runtime(format!("cannot start the stream reader: {e}")))?;
        Ok(StreamFeed {
            rx,
            idle_timeout: config.idle_timeout,
            last_record: Instant::now(),
        })
    }

    /// The next piece or the end, unless `deadline` comes first (`None`);
    /// a stop ends the wait.
    pub async fn next_before(
        &mut self,
        stop: &mut Stop,
        deadline: Instant,
    ) -> std::result::Result<Option<Fed>, Failure> {
        let received = async { Some(self.rx.recv_anyway().await) };
        let timeout = async {
            sleep(deadline.saturating_duration_since(Instant::now())).await;
            None
        };
        let next = stop
            .until(futures_lite::future::or(received, timeout))
            .await
            .map_err(Failure::Stopped)?;
        Ok(match next {
            None => None,
            Some(Some(Ok(piece))) => {
                if !piece.batch.is_empty() || !piece.malformed.is_empty() {
                    self.last_record = piece.read_at;
                }
                Some(Fed::Piece(piece))
            }
            Some(Some(Err(e))) => return Err(Failure::Error(e)),
            Some(None) => Some(Fed::End),
        })
    }

    /// How long the stream has had no record, once that is past the idle
    /// timeout (`None` before, or without one).
    pub fn idle_for(&self) -> Option<Duration> {
        let quiet = self.last_record.elapsed();
        self.idle_timeout
            .filter(|timeout| quiet >= *timeout)
            .map(|_| quiet)
    }

    /// The next piece, an idle report, or the end; a stop ends the wait.
    pub async fn next(&mut self, stop: &mut Stop) -> std::result::Result<Fed, Failure> {
        let idle_wait = self.idle_timeout.map(|timeout| {
            let since = self.last_record.elapsed();
            timeout.checked_sub(since).unwrap_or(IDLE_TICK.min(timeout))
        });
        let received = async { Some(self.rx.recv_anyway().await) };
        let idle = async {
            match idle_wait {
                Some(wait) => sleep(wait).await,
                None => std::future::pending().await,
            }
            None
        };
        let next = stop
            .until(futures_lite::future::or(received, idle))
            .await
            .map_err(Failure::Stopped)?;
        match next {
            Some(Some(Ok(piece))) => {
                if !piece.batch.is_empty() || !piece.malformed.is_empty() {
                    self.last_record = piece.read_at;
                }
                Ok(Fed::Piece(piece))
            }
            Some(Some(Err(e))) => Err(Failure::Error(e)),
            Some(None) => Ok(Fed::End),
            None => Ok(Fed::Idle(self.last_record.elapsed())),
        }
    }
}

/// The reader thread: fills batches from the stream until it ends, fails, or
/// the shard stops listening. A read that blocks here blocks no shard.
/// Between reads it commits what the merger says the output holds.
fn read_stream_into<I: Input>(
    mut input: I,
    index: usize,
    rows: usize,
    width: usize,
    tx: Tx<Result<StreamPiece>>,
    mut committer: Option<&mut Committer<I::Reader>>,
) {
    let mut reader = match input.open(index) {
        Ok(reader) => reader,
        Err(e) => {
            tx.send_blocking(Err(e));
            return;
        }
    };
    let mut frontier = None;
    loop {
        let mut batch = Batch::with_capacity(width, rows);
        let mut malformed = Vec::new();
        let more = match reader.fill(&mut batch, &mut malformed, rows) {
            Ok(more) => more,
            Err(e) => {
                tx.send_blocking(Err(e));
                if let Some(committer) = committer {
                    // Closed by the committer, which bounds the wait.
                    committer.reader = Some(reader);
                }
                return;
            }
        };
        let piece = StreamPiece {
            batch,
            malformed,
            read_at: Instant::now(),
            position: reader.position(),
            frontier: reader.event_time_frontier(),
        };
        // A frontier that moved is news even without records (a partition
        // went idle, or the group gave this reader none).
        let news = !piece.batch.is_empty()
            || !piece.malformed.is_empty()
            || replace(&mut frontier, piece.frontier) != piece.frontier;
        if (news && !tx.send_blocking(Ok(piece))) || !more || tx.is_closed() {
            if let Some(committer) = committer {
                committer.reader = Some(reader);
            }
            return;
        }
        if let Some(committer) = committer.as_deref_mut() {
            committer.commit_waiting(&mut reader);
        }
    }
}

/// A reader thread's commits: the positions the merger sends (each one
/// covers all before it, so only the latest is committed). A commit that
/// fails (a rebalance in progress) is tried again with the next, or after
/// [`COMMIT_RETRY`]; the last one for up to [`LAST_COMMIT_PATIENCE`].
struct Committer<R> {
    link: CommitIn,
    /// The latest position received and not committed yet.
    pending: Option<ReadPosition>,
    /// The latest position received.
    latest: Option<ReadPosition>,
    last_try: Option<Instant>,
    /// The reader, kept after reading ended for the last commit.
    reader: Option<R>,
    /// Columns of the reader's rows.
    width: usize,
}

/// How long a reader waits for its consumer to close (leave the group)
/// before the run goes on without it: closing waits without end for a
/// broker that is gone.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

/// Drops `reader` on a thread of its own, waiting up to `patience` for it.
fn close_within<R: Send + 'static>(reader: R, patience: Duration) {
    let (closed_tx, closed) = std::sync::mpsc::channel();
    let closing = std::thread::Builder::new()
        .name("corestream-close".into())
        .spawn(move || {
            drop(reader);
            let _ = closed_tx.send(());
        });
    if closing.is_ok() {
        let _ = closed.recv_timeout(patience);
    }
}

/// How long after a failed commit the reader tries again.
const COMMIT_RETRY: Duration = Duration::from_millis(250);
/// How long the last commit of a run is tried before the run gives up on it
/// (a restart then reads those records again: at-least-once).
const LAST_COMMIT_PATIENCE: Duration = Duration::from_secs(10);

impl<R: super::adapter::ChunkReader + Send + 'static> Committer<R> {
    fn new(link: CommitIn, width: usize) -> Self {
        Committer {
            link,
            pending: None,
            latest: None,
            last_try: None,
            reader: None,
            width,
        }
    }

    /// Takes the positions waiting; commits the latest unless a failed try
    /// was too recent.
    fn commit_waiting(&mut self, reader: &mut R) {
        while let Some(position) = self.link.positions.try_recv() {
            self.latest = Some(position.clone());
            self.pending = Some(position);
        }
        let recent = self.last_try.is_some_and(|at| at.elapsed() < COMMIT_RETRY);
        if self.pending.is_some() && !recent {
            let _ = self.try_commit(reader);
        }
    }

    fn try_commit(&mut self, reader: &mut R) -> Result<()> {
        let Some(position) = self.pending.take() else {
            return Ok(());
        };
        self.last_try = Some(Instant::now());
        reader
            .commit(&position)
            .inspect_err(|_| self.pending = Some(position))
    }

    /// After reading ended: takes what the merger still sends until it is
    /// done, commits the latest, then says so. The output holds the rows of
    /// a commit that fails for good; a restart reads them again (warned).
    fn finish(mut self) {
        while let Some(position) = self.link.positions.recv_blocking() {
            self.latest = Some(position);
        }
        let reader = self.reader.take();
        if let (Some(mut reader), Some(last)) = (reader, self.latest.clone()) {
            self.commit_last(&mut reader, &last);
            close_within(reader, CLOSE_PATIENCE);
        }
        drop(self.link.done);
    }

    /// Commits `last` until the broker holds it, for up to
    /// [`LAST_COMMIT_PATIENCE`]; warns when it never does.
    fn commit_last(&mut self, reader: &mut R, last: &ReadPosition) {
        let deadline = Instant::now() + LAST_COMMIT_PATIENCE;
        loop {
            self.pending = Some(last.clone());
            let tried = self.try_commit(reader);
            // Reading serves the commit's answer and any rebalance that holds
            // it up; what it reads is not committed, so it is read again.
            let mut batch = Batch::with_capacity(self.width, 1);
            let _ = reader.fill(&mut batch, &mut Vec::new(), 1);
            if tried.is_ok() && reader.holds_commit(last) {
                return;
            }
            if Instant::now() >= deadline {
                let why = tried.err().map_or(String::new(), |e| format!(": {e}"));
                eprintln!(
                    "corestream: warning: the last offsets read were not committed within {} s \
                     (a restart reads those records again){why}",
                    LAST_COMMIT_PATIENCE.as_secs()
                );
                return;
            }
            std::thread::sleep(COMMIT_RETRY);
        }
    }
}

/// The source task of a shard in a shuffled (grouped) plan.
pub(crate) struct ShuffleSource<B: Backend, I: Input> {
    pub shard: usize,
    pub plan: QueryPlan,
    pub backend: B,
    pub input: I,
    pub config: RuntimeConfig,
    pub stop: Stop,
    pub started: Instant,
    pub outboxes: Vec<Tx<ShardMsg>>,
    /// Batches the destinations are done with, emptied on this core.
    pub batch_pool: Pool<Batch>,
    pub progress: ProgressReporter,
    /// Per-shard streams: the link over which the merger says what this
    /// shard's reader may commit.
    pub commits: Option<CommitIn>,
    /// Aggregates this shard's rows of a chunk before they are sent (files
    /// and generators, when the plan allows it): see `engine::PreAggregator`.
    pub pre: Option<PreAggregator>,
    /// A windowed pre-aggregation: the watermark this shard's engine set at
    /// each chunk's end, which decides whether a chunk's states may be sent.
    pub watermarks: Option<AlignedWatermarks>,
}

/// What a shard's engine task tells its source task (on the same core): the
/// watermark it set at the end of each chunk, in chunk order.
pub(crate) struct AlignedWatermarks {
    from_engine: Rx<(u64, Option<i64>)>,
    /// The last chunk the engine ended, and the watermark it then had.
    through: Option<u64>,
    watermark: Option<i64>,
}

impl AlignedWatermarks {
    /// A link for `shards` shards: the engine's end and this one. The
    /// engine sends one message per chunk and runs at most `shards` chunks
    /// ahead of its source (it cannot end the source's next chunk before
    /// the source sent it), and the source takes every message at each of
    /// its chunks' ends: a channel of twice that never fills.
    pub fn link(shards: usize) -> (Tx<(u64, Option<i64>)>, AlignedWatermarks) {
        let (tx, from_engine) = bounded(2 * shards + 8);
        let watermarks = AlignedWatermarks {
            from_engine,
            through: None,
            watermark: None,
        };
        (tx, watermarks)
    }

    /// The watermark the engine set at the end of chunk `chunk`, waiting
    /// for it if the engine is not that far yet.
    async fn after(
        &mut self,
        chunk: u64,
        stop: &mut Stop,
    ) -> std::result::Result<Option<i64>, Failure> {
        while self.through.is_none_or(|through| through < chunk) {
            match self.from_engine.recv(stop).await {
                Ok(Some(aligned)) => self.take(aligned),
                Ok(None) => return Err(Failure::PeerGone),
                Err(reason) => return Err(Failure::Stopped(reason)),
            }
        }
        Ok(self.watermark)
    }

    /// Takes what has come without waiting (so the channel never fills).
    fn take_waiting(&mut self) {
        while let Some(aligned) = self.from_engine.try_recv() {
            self.take(aligned);
        }
    }

    fn take(&mut self, (chunk, watermark): (u64, Option<i64>)) {
        self.through = Some(chunk);
        self.watermark = self.watermark.max(watermark);
    }
}

/// Per-destination batches being filled, when their first row was read, and
/// when they were last flushed.
struct Outbound {
    batches: Vec<Batch>,
    read_at: Vec<Option<Instant>>,
    last_flush: Instant,
}

impl Outbound {
    /// Rows routed but not sent yet.
    fn rows(&self) -> u64 {
        self.batches.iter().map(|b| b.len() as u64).sum()
    }
}

impl<B: Backend, I: Input> ShuffleSource<B, I> {
    pub async fn run(mut self) -> (ShardStats, std::result::Result<(), Failure>) {
        let mut stats = ShardStats::new(self.shard);
        let mut result = self.read_all(&mut stats).await;
        if result.is_ok() {
            for outbox in &self.outboxes {
                let sent = outbox
                    .send(
                        ShardMsg::Done,
                        &mut self.stop,
                        &mut stats.channel_full_waits,
                    )
                    .await;
                if let Err(failure) = sent {
                    result = Err(failure);
                    break;
                }
            }
        }
        stats.stopped = self.stop.is_stopped();
        if let Some(pre) = &self.pre {
            stats.engine = pre.stats();
        }
        self.progress.report(&stats, None, stats.bytes_read, 0);
        (stats, result)
    }

    async fn read_all(&mut self, stats: &mut ShardStats) -> std::result::Result<(), Failure> {
        let layout = self.input.layout();
        match layout {
            InputLayout::Chunks(_) => {
                for chunk in chunks_of(layout, self.shard, self.outboxes.len()) {
                    if let Some(reason) = self.stop.check() {
                        return Err(Failure::Stopped(reason));
                    }
                    self.read_chunk(chunk, stats).await?;
                    stats.bytes_read += self.input.chunk_bytes(chunk as usize);
                }
                Ok(())
            }
            InputLayout::Stream if self.shard == 0 => self.read_stream(stats).await,
            InputLayout::Stream => Ok(()),
            InputLayout::Streams => {
                let mut outbound = self.outbound();
                let result = self.route_own_stream(&mut outbound, stats).await;
                if result.is_err() {
                    stats.records_discarded += outbound.rows();
                }
                result
            }
        }
    }

    fn outbound(&self) -> Outbound {
        let width = self.plan.row_width();
        let rows = self.config.batch_rows;
        let destinations = self.outboxes.len();
        Outbound {
            batches: (0..destinations)
                .map(|_| Batch::with_capacity(width, rows))
                .collect(),
            read_at: vec![None; destinations],
            last_flush: Instant::now(),
        }
    }

    /// Reads chunk `chunk`; rows routed but not sent when a stop ends it
    /// count as discarded.
    async fn read_chunk(
        &mut self,
        chunk: u64,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        let mut outbound = self.outbound();
        let result = self.route_chunk(chunk, &mut outbound, stats).await;
        if result.is_err() {
            stats.records_discarded += outbound.rows();
            stats.records_discarded += self.pre.as_mut().map_or(0, PreAggregator::abandon);
        }
        result
    }

    async fn route_chunk(
        &mut self,
        chunk: u64,
        outbound: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        let mut reading = Reading {
            reader: self.input.open(chunk as usize)?,
            started: self.started,
        };
        let mut router = self.backend.router(&self.plan);
        let mut batch = Batch::with_capacity(self.plan.row_width(), self.config.batch_rows);
        let mut malformed = Vec::new();
        let mut max_event_time = None;
        // Decided for the whole chunk: the owner folds a chunk's rows and
        // partial states in the order they come.
        let pre_aggregating = self.pre.as_ref().is_some_and(PreAggregator::worthwhile);
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
            let began = Instant::now();
            let event_time = match self.pre.as_mut().filter(|_| pre_aggregating) {
                Some(pre) => pre.push(&batch),
                None => self.route(&mut batch, filled.read_at, &mut router, outbound),
            };
            max_event_time = max_event_time.max(event_time);
            stats.busy += began.elapsed();
            self.flush_full(outbound, stats).await?;
            if outbound.last_flush.elapsed() >= self.config.flush_interval {
                self.flush_all(outbound, stats).await?;
            }
            self.progress.tick(stats, stats.bytes_read);
            if !filled.more {
                let lines = reading.reader.lines_read();
                self.input.close(reading.reader);
                let dead = ChunkDead {
                    malformed,
                    lines,
                    read: None,
                };
                if let Some(watermarks) = self.watermarks.as_mut() {
                    watermarks.take_waiting();
                }
                if pre_aggregating {
                    let read = (chunk, filled.read_at);
                    self.send_pre_aggregated(read, &mut router, outbound, stats)
                        .await?;
                }
                return self
                    .end_chunk(chunk, max_event_time, dead, filled.read_at, outbound, stats)
                    .await;
            }
            if let Some(reason) = self.stop.check() {
                return Err(Failure::Stopped(reason));
            }
            yield_now().await;
        }
    }

    /// A stream: every piece its reader thread delivers is a chunk; while it
    /// is idle past the idle timeout, the watermark moves on with the clock.
    async fn read_stream(&mut self, stats: &mut ShardStats) -> std::result::Result<(), Failure> {
        let mut outbound = self.outbound();
        let result = self.route_stream(&mut outbound, stats).await;
        if result.is_err() {
            stats.records_discarded += outbound.rows();
        }
        result
    }

    async fn route_stream(
        &mut self,
        outbound: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        let width = self.plan.row_width();
        let mut feed = StreamFeed::start(&self.input, 0, &self.config, width, None)?;
        let mut router = self.backend.router(&self.plan);
        let mut max_event_time = None;
        let mut chunk = 0u64;
        loop {
            let (chunk_max, dead, read_at) = match feed.next(&mut self.stop).await? {
                Fed::End => return Ok(()),
                Fed::Piece(mut piece) => {
                    count_piece(&piece, stats);
                    let began = Instant::now();
                    let routed = self.route(&mut piece.batch, piece.read_at, &mut router, outbound);
                    max_event_time = max_event_time.max(routed);
                    stats.busy += began.elapsed();
                    let dead = ChunkDead {
                        malformed: piece.malformed,
                        ..ChunkDead::default()
                    };
                    (max_event_time, dead, piece.read_at)
                }
                Fed::Idle(quiet) => {
                    let Some(max) = max_event_time else { continue };
                    let advanced = max.saturating_add(quiet.as_millis() as i64);
                    (Some(advanced), ChunkDead::default(), Instant::now())
                }
            };
            self.end_chunk(chunk, chunk_max, dead, read_at, outbound, stats)
                .await?;
            chunk += 1;
            self.progress.tick(stats, 0);
        }
    }

    /// This shard's own stream (per-shard streams): cut into a chunk every
    /// [`STREAM_SLICE`], numbered `slice * N + shard`, each ending with the
    /// shard's event-time frontier and how far its reader had read.
    async fn route_own_stream(
        &mut self,
        outbound: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        let width = self.plan.row_width();
        let commits = self.commits.take();
        let mut feed = StreamFeed::start(&self.input, self.shard, &self.config, width, commits)?;
        let mut router = self.backend.router(&self.plan);
        let mut frontier = ShardFrontier::default();
        let shards = self.outboxes.len() as u64;
        for slice in 0u64.. {
            let chunk = slice * shards + self.shard as u64;
            let deadline = Instant::now() + STREAM_SLICE;
            let mut slice_read = SliceRead::default();
            let ended = loop {
                match feed.next_before(&mut self.stop, deadline).await? {
                    None => break false,
                    Some(Fed::End) => break true,
                    Some(Fed::Idle(_)) => {}
                    Some(Fed::Piece(mut piece)) => {
                        count_piece(&piece, stats);
                        let began = Instant::now();
                        let routed =
                            self.route(&mut piece.batch, piece.read_at, &mut router, outbound);
                        stats.busy += began.elapsed();
                        slice_read.take(piece, routed);
                        self.flush_full(outbound, stats).await?;
                        if outbound.last_flush.elapsed() >= self.config.flush_interval {
                            self.flush_all(outbound, stats).await?;
                        }
                    }
                }
            };
            let reported = frontier.after(&slice_read, &feed);
            let read_at = slice_read.read_at.unwrap_or_else(Instant::now);
            let dead = slice_read.into_dead();
            self.end_chunk(chunk, reported, dead, read_at, outbound, stats)
                .await?;
            self.progress.tick(stats, 0);
            if ended {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Appends each row of `batch` to its destination's batch; returns the
    /// largest event time among them.
    fn route(
        &self,
        batch: &mut Batch,
        read_at: Instant,
        router: &mut B::Router,
        out: &mut Outbound,
    ) -> Option<i64> {
        let destinations = out.batches.len();
        if destinations == 1 {
            return self.hand_over(batch, read_at, out);
        }
        let mut max_event_time = None;
        for (row, position) in batch.rows() {
            let destination = router.partition_of(row, destinations) % destinations;
            out.batches[destination].push_row(row, position);
            out.read_at[destination].get_or_insert(read_at);
            max_event_time = max_event_time.max(self.backend.event_time(&self.plan, row));
        }
        max_event_time
    }

    /// With one destination: the rows need no routing, so the batch is
    /// handed over whole (swapped with the empty outbound one) or appended.
    /// Returns the largest event time among them, as routing does.
    fn hand_over(&self, batch: &mut Batch, read_at: Instant, out: &mut Outbound) -> Option<i64> {
        let event_times = batch
            .rows()
            .map(|(row, _)| self.backend.event_time(&self.plan, row));
        let max_event_time = event_times.max().flatten();
        if batch.is_empty() {
            return max_event_time;
        }
        out.read_at[0].get_or_insert(read_at);
        let pending = &mut out.batches[0];
        match pending.is_empty() {
            true => std::mem::swap(pending, batch),
            false => pending.append(batch),
        }
        max_event_time
    }

    /// Sends chunk `chunk`'s pre-aggregated groups to their owners. A
    /// windowed grouping's owners decide which records are late by the
    /// watermark the chunk began with, which only the chunks before it
    /// decide: this waits for it from this shard's engine (which is through
    /// with the chunk before this one about when this shard is through
    /// reading this one). If a record of the chunk might be late by it, the
    /// chunk's states are dropped and its rows routed instead, so that the
    /// owners dead-letter the late ones exactly as without pre-aggregation.
    async fn send_pre_aggregated(
        &mut self,
        (chunk, read_at): (u64, Instant),
        router: &mut B::Router,
        outbound: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        let timed_rows = self
            .pre
            .as_ref()
            .is_some_and(PreAggregator::holds_event_times);
        if let (true, Some(watermarks), Some(before)) =
            (timed_rows, self.watermarks.as_mut(), chunk.checked_sub(1))
        {
            let watermark = watermarks.after(before, &mut self.stop).await?;
            if self.pre.as_mut().is_some_and(|pre| pre.late_at(watermark)) {
                self.reroute_chunk((chunk, read_at), router, outbound)?;
                return self.flush_full(outbound, stats).await;
            }
        }
        self.send_partials(stats).await
    }

    /// Reads chunk `chunk` again and routes all its rows, in place of its
    /// states (which are forgotten, with what the first read's WHERE
    /// counted). What the first read counted (records, malformed lines,
    /// bytes) is not counted again, and the rows' latency counts from when
    /// the first read ended (`read_at`). Nothing here waits, so a stop
    /// finds either the states or every row in `out` (counted as discarded).
    fn reroute_chunk(
        &mut self,
        (chunk, read_at): (u64, Instant),
        router: &mut B::Router,
        out: &mut Outbound,
    ) -> std::result::Result<(), Failure> {
        let (width, rows) = (self.plan.row_width(), self.config.batch_rows);
        let mut batch = self
            .batch_pool
            .take_or(|| Batch::with_capacity(width, rows));
        let mut malformed_again = Vec::new();
        let mut reader = self.input.open(chunk as usize)?;
        loop {
            batch.clear();
            let read = reader.fill(&mut batch, &mut malformed_again, rows);
            let more = match read {
                Ok(more) => more,
                Err(error) => {
                    // Nothing routed was sent: the states stand for the rows.
                    out.batches.iter_mut().for_each(Batch::clear);
                    return Err(error.into());
                }
            };
            self.route(&mut batch, read_at, router, out);
            if !more {
                break;
            }
        }
        self.input.close(reader);
        self.batch_pool.put(batch);
        if let Some(pre) = self.pre.as_mut() {
            pre.abandon_for_rows();
        }
        Ok(())
    }

    /// Sends the chunk's pre-aggregated groups to their owners; the records
    /// of those not sent (a stop) count as discarded.
    async fn send_partials(&mut self, stats: &mut ShardStats) -> std::result::Result<(), Failure> {
        let Some(pre) = self.pre.as_mut() else {
            return Ok(());
        };
        let began = Instant::now();
        let partials = pre.take_partials();
        stats.busy += began.elapsed();
        let mut result = Ok(());
        for (destination, partial) in partials.into_iter().enumerate() {
            let Some(groups) = partial else { continue };
            if result.is_err() {
                stats.records_discarded += groups.records();
                continue;
            }
            let records = groups.records();
            let msg = ShardMsg::Partial(Box::new(groups));
            let sent = self.outboxes[destination]
                .send(msg, &mut self.stop, &mut stats.channel_full_waits)
                .await;
            match sent {
                Ok(()) => stats.batches_sent += 1,
                Err(failure) => {
                    stats.records_discarded += records;
                    result = Err(failure);
                }
            }
        }
        result
    }

    async fn flush_full(
        &mut self,
        out: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        for destination in 0..out.batches.len() {
            if out.batches[destination].len() >= self.config.batch_rows {
                self.send_batch(destination, out, stats).await?;
            }
        }
        Ok(())
    }

    async fn flush_all(
        &mut self,
        out: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        for destination in 0..out.batches.len() {
            if !out.batches[destination].is_empty() {
                self.send_batch(destination, out, stats).await?;
            }
        }
        out.last_flush = Instant::now();
        Ok(())
    }

    async fn send_batch(
        &mut self,
        destination: usize,
        out: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        let width = self.plan.row_width();
        let rows = self.config.batch_rows;
        let spare = self
            .batch_pool
            .take_or(|| Batch::with_capacity(width, rows));
        let batch = std::mem::replace(&mut out.batches[destination], spare);
        let read_at = out.read_at[destination].take().unwrap_or_else(Instant::now);
        let rows = batch.len() as u64;
        let msg = ShardMsg::Rows { batch, read_at };
        let sent = self.outboxes[destination]
            .send(msg, &mut self.stop, &mut stats.channel_full_waits)
            .await;
        match sent {
            Ok(()) => stats.batches_sent += 1,
            Err(_) => stats.records_discarded += rows,
        }
        sent
    }

    /// Flushes the chunk's rows, then tells every destination the chunk ended.
    /// The chunk's dead letters go to this shard's own engine only.
    async fn end_chunk(
        &mut self,
        chunk: u64,
        max_event_time: Option<i64>,
        dead: ChunkDead,
        read_at: Instant,
        out: &mut Outbound,
        stats: &mut ShardStats,
    ) -> std::result::Result<(), Failure> {
        self.flush_all(out, stats).await?;
        let mut dead = Some(dead);
        for destination in 0..self.outboxes.len() {
            let marker = ShardMsg::ChunkEnd {
                chunk,
                max_event_time,
                dead: if destination == self.shard {
                    dead.take()
                } else {
                    None
                },
                read_at,
            };
            self.outboxes[destination]
                .send(marker, &mut self.stop, &mut stats.channel_full_waits)
                .await?;
        }
        Ok(())
    }
}

/// What a shard reports of its own stream's event time at each chunk end
/// (per-shard streams): its reader's frontier (the slowest partition that is
/// not idle), `None` while that holds the watermark back, and `i64::MAX`
/// when it holds nothing back. Once the whole stream idles past the idle
/// timeout, the frontier moves on with the clock from the largest event
/// time read (nothing read: it holds nothing back).
#[derive(Default)]
pub(crate) struct ShardFrontier {
    max_seen: Option<i64>,
    reader: Option<i64>,
}

impl ShardFrontier {
    pub fn after(&mut self, slice: &SliceRead, feed: &StreamFeed) -> Option<i64> {
        self.max_seen = self.max_seen.max(slice.max_event_time);
        if slice.read_at.is_some() {
            self.reader = slice.frontier;
        }
        match feed.idle_for() {
            Some(quiet) => Some(
                self.max_seen
                    .map_or(i64::MAX, |max| max.saturating_add(quiet.as_millis() as i64)),
            ),
            None => self.reader,
        }
    }
}

/// What one slice of a per-shard stream read: its dead letters, the latest
/// position and read time, and the largest event time among its rows.
#[derive(Default)]
pub(crate) struct SliceRead {
    malformed: Vec<Malformed>,
    position: Option<ReadPosition>,
    pub read_at: Option<Instant>,
    pub max_event_time: Option<i64>,
    /// The reader's frontier after the latest piece.
    pub frontier: Option<i64>,
}

impl SliceRead {
    /// Takes a piece whose rows had `max_event_time` as their largest.
    pub fn take(&mut self, mut piece: StreamPiece, max_event_time: Option<i64>) {
        self.malformed.append(&mut piece.malformed);
        self.position = piece.position.or(self.position.take());
        self.read_at = Some(piece.read_at);
        self.max_event_time = self.max_event_time.max(max_event_time);
        self.frontier = piece.frontier;
    }

    /// The chunk's dead letters, and how far its reader had read.
    pub fn into_dead(self) -> ChunkDead {
        ChunkDead {
            malformed: self.malformed,
            lines: None,
            read: self.position.map(|position| ChunkRead {
                position,
                max_event_time: self.max_event_time,
            }),
        }
    }
}

/// Counts a stream piece's records (read on the reader thread) as this shard's.
pub(crate) fn count_piece(piece: &StreamPiece, stats: &mut ShardStats) {
    let bad = piece.malformed.len() as u64;
    stats.records_in += piece.batch.len() as u64 + bad;
    stats.records_malformed += bad;
}
