//! The merger: the only writer of the sink and the dead-letter file. It
//! buffers each shard's output per chunk, and once every shard is through
//! with chunk c it writes that chunk's rows sorted by `RowOrder` (stable),
//! then the next chunk; once every shard's input ended, the rows that
//! closing everything makes, merged across shards as their blocks come in
//! (see [`super::finals`]). The output is thereby the same for any shard count, and a run that
//! stops early has written an exact prefix of it: only complete chunks are
//! ever written.
//!
//! Output is live: the merger hands what it wrote to the operating system
//! whenever it is about to wait for more, when a sink buffer's worth has
//! gathered, and at the latest `flush_interval` after a row was written.
//! Latency is measured per row from the read of the record that caused it to
//! that hand-over. It applies LIMIT (stopping the run), sends live snapshots,
//! and gives written row blocks back to the shard that made them (see
//! [`super::recycle`]).

use hdrhistogram::Histogram;
use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::sync::mpsc::SyncSender;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::adapter::{DeadLetters, LineNumbering, RowSink};
use super::channel::{BlockRow, ChunkDead, CommitOut, MergeMsg, RowBlock, Rx, TaskProgress, Tx};
use super::commits::CommitBook;
use super::config::state_limit_error;
use super::exec::sleep;
use super::finals::Finals;
use super::inputs::ChunkInputs;
use super::live::{LiveShard, LiveSnapshot};
use super::metrics::{new_latency_histogram, ShardStats};
use super::source::PROGRESS_INTERVAL;
use super::stop::{Stop, StopBroadcast, StopReason};
use super::{Failure, OnInterrupt};
use crate::engine::{LateRecord, RowOrder};
use crate::error::Result;
use crate::io::SINK_BUFFER_BYTES;
use crate::plan::Settling;

/// What the merger writes to, and how.
pub(crate) struct MergerIo {
    pub sink: Box<dyn RowSink + Send>,
    pub dead_letters: Option<Box<dyn DeadLetters + Send>>,
    pub limit: Option<u64>,
    pub line_numbering: LineNumbering,
    pub source_name: String,
    /// Which input each chunk comes from (a UNION ALL reads several), and
    /// each input's name: line numbers and late records are per input.
    pub chunk_inputs: ChunkInputs,
    pub input_names: Vec<String>,
    /// Where live snapshots go, if anyone watches.
    pub live: Option<SyncSender<LiveSnapshot>>,
    pub totals: InputTotals,
    /// The longest a written row waits in the sink's buffer.
    pub flush_interval: Duration,
    pub on_interrupt: OnInterrupt,
    pub started: Instant,
    /// `--max-state-bytes`, checked against the sum of the shards' reports.
    pub state_limit: Option<u64>,
    pub state_description: Option<String>,
    /// When the output holds what a record caused (for commits).
    pub settles: Settling,
}

/// How much input there is in all, for live snapshots.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InputTotals {
    pub bytes: Option<u64>,
    pub events: Option<u64>,
    pub unbounded: bool,
}

/// What the merger reports when it ends.
#[derive(Debug)]
pub(crate) struct MergerResult {
    pub rows_written: u64,
    pub limit_reached: bool,
    pub latency: Histogram<u64>,
    /// Why the run stopped early, as the merger heard it.
    pub stopped: Option<StopReason>,
    /// Windows (per key) still open when the run was interrupted.
    pub open_at_stop: u64,
    /// Rows of those windows written (`--on-interrupt emit`).
    pub rows_after_interrupt: u64,
}

/// A block of rows and the shard it came from (and goes back to).
type ShardBlock = (usize, RowBlock);

/// One chunk's output, gathered from every shard.
#[derive(Default)]
struct ChunkOut {
    blocks: Vec<ShardBlock>,
    late: Vec<LateRecord>,
    dead: Option<ChunkDead>,
    /// The lowest watermark the engines reported at the chunk's end.
    watermark: Option<Option<i64>>,
}

/// Rows in the sink's buffer, as runs of rows caused at one instant (one
/// engine call), oldest first: their latency is taken when they go out.
#[derive(Default)]
struct Unflushed {
    runs: VecDeque<(Instant, u64)>,
    /// When the oldest of them was written into the buffer.
    since: Option<Instant>,
}

impl Unflushed {
    fn add(&mut self, caused_at: Instant) {
        match self.runs.back_mut() {
            Some((at, rows)) if *at == caused_at => *rows += 1,
            _ => self.runs.push_back((caused_at, 1)),
        }
        self.since.get_or_insert_with(Instant::now);
    }

    /// The oldest `rows` went out at `now`.
    fn flushed(&mut self, mut rows: u64, now: Instant, histogram: &mut Histogram<u64>) {
        while rows > 0 {
            let Some((caused_at, run)) = self.runs.front_mut() else {
                break;
            };
            let taken = rows.min(*run);
            let micros = now.saturating_duration_since(*caused_at).as_micros();
            let micros = u64::try_from(micros)
                .unwrap_or(u64::MAX)
                .min(histogram.high());
            // Recording can only fail beyond the histogram's range, clamped above.
            let _ = histogram.record_n(micros, taken);
            *run -= taken;
            rows -= taken;
            if *run == 0 {
                self.runs.pop_front();
            }
        }
        if self.runs.is_empty() {
            self.since = None;
        } else if rows == 0 {
            self.since = Some(now);
        }
    }
}

/// Writes rows and dead letters in order, and hands them to the OS.
struct Writer {
    io: MergerIo,
    broadcast: StopBroadcast,
    /// Per shard: where its written blocks go back to.
    returns: Vec<Tx<RowBlock>>,
    /// Scratch: (block, row) in output order, when blocks interleave.
    order: Vec<(u32, u32)>,
    /// Rows given to the sink (written or buffered).
    rows_accepted: u64,
    limit_reached: bool,
    latency: Histogram<u64>,
    unflushed: Unflushed,
    /// Per input: how many of its lines came before its next chunk.
    lines: Vec<InputLines>,
}

/// The lines of an input's chunks written so far.
#[derive(Debug, Clone, Copy)]
struct InputLines {
    /// Lines of the input's chunks before `next_chunk`, while known.
    base: Option<u64>,
    /// The input's own number of the chunk that comes next.
    next_chunk: usize,
}

impl Writer {
    /// Writes the rows of `blocks` sorted by their order (stable: ties keep
    /// arrival order), then gives the blocks back.
    fn write_rows(&mut self, blocks: &mut Vec<ShardBlock>) -> Result<()> {
        let result = self.write_sorted(blocks);
        for (shard, block) in blocks.drain(..) {
            self.give_back(shard, block);
        }
        result
    }

    /// Gives a written block back to the shard that made it.
    fn give_back(&mut self, shard: usize, block: RowBlock) {
        if let Some(back) = self.returns.get(shard) {
            back.offer(block);
        }
    }

    fn write_sorted(&mut self, blocks: &[ShardBlock]) -> Result<()> {
        if in_order(blocks) {
            // Each shard's rows of a chunk arrive sorted; one producer's need no sort.
            for (_, block) in blocks {
                for index in 0..block.len() {
                    self.write_row(block, index)?;
                }
            }
        } else {
            let mut order = std::mem::take(&mut self.order);
            order.clear();
            for (b, (_, block)) in blocks.iter().enumerate() {
                order.extend((0..block.len()).map(|r| (b as u32, r as u32)));
            }
            let order_of = |&(b, r): &(u32, u32)| blocks[b as usize].1.order(r as usize);
            order.sort_by(|x, y| order_of(x).cmp(order_of(y)));
            for &(b, r) in &order {
                self.write_row(&blocks[b as usize].1, r as usize)?;
            }
            self.order = order;
        }
        Ok(())
    }

    #[inline]
    fn write_row(&mut self, block: &RowBlock, index: usize) -> Result<()> {
        if self.limit_reached || self.at_limit() {
            return Ok(());
        }
        match block.row(index) {
            BlockRow::Formatted(bytes) => self.io.sink.write_formatted(bytes)?,
            BlockRow::Values(values) => self.io.sink.write_row(values)?,
            BlockRow::Discarded => self.io.sink.write_discarded()?,
        }
        self.rows_accepted += 1;
        self.unflushed.add(block.caused_at(index));
        self.at_limit();
        Ok(())
    }

    /// True once LIMIT rows were written (at once for `LIMIT 0`); the
    /// first time, tells every shard to stop.
    fn at_limit(&mut self) -> bool {
        let reached = self
            .io
            .limit
            .is_some_and(|limit| self.rows_accepted >= limit);
        if reached && !self.limit_reached {
            self.limit_reached = true;
            self.broadcast.stop(StopReason::Limit);
        }
        reached
    }

    /// True when the sink holds a large write's worth, or a row older than
    /// the flush interval.
    fn flush_due(&self) -> bool {
        self.io.sink.buffered_bytes() >= SINK_BUFFER_BYTES
            || self
                .unflushed
                .since
                .is_some_and(|since| since.elapsed() >= self.io.flush_interval)
    }

    /// Hands what the sink buffered to the OS (giving up on a blocked
    /// output when `give_up` says so) and takes the rows' latency.
    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<()> {
        if self.unflushed.runs.is_empty() && self.io.sink.buffered_bytes() == 0 {
            return Ok(());
        }
        let flushed = self.io.sink.flush(give_up)?;
        self.unflushed
            .flushed(flushed.rows, Instant::now(), &mut self.latency);
        if let Some(dead_letters) = self.io.dead_letters.as_mut() {
            dead_letters.flush()?;
        }
        Ok(())
    }

    fn write_chunk(&mut self, chunk: u64, mut out: ChunkOut) -> Result<()> {
        self.write_rows(&mut out.blocks)?;
        self.io.sink.end_of_chunk()?;
        self.write_malformed(chunk, out.dead)?;
        let (input, _) = self.io.chunk_inputs.of(chunk);
        self.write_late(out.late, Some(input))
    }

    fn write_malformed(&mut self, chunk: u64, dead: Option<ChunkDead>) -> Result<()> {
        let Some(dead) = dead else { return Ok(()) };
        let (input, own_chunk) = self.io.chunk_inputs.of(chunk);
        let lines = &mut self.lines[input];
        let base = match self.io.line_numbering {
            LineNumbering::ChunkRelative if own_chunk == lines.next_chunk => lines.base,
            _ => None,
        };
        *lines = InputLines {
            base: base.zip(dead.lines).map(|(b, l)| b + l),
            next_chunk: own_chunk + 1,
        };
        let Some(dead_letters) = self.io.dead_letters.as_mut() else {
            return Ok(());
        };
        for mut record in dead.malformed {
            record.line = match self.io.line_numbering {
                LineNumbering::Absolute => record.line,
                LineNumbering::ChunkRelative => base.zip(record.line).map(|(b, l)| b + l),
                LineNumbering::Unknown => None,
            };
            dead_letters.malformed(&record)?;
        }
        Ok(())
    }

    /// Writes late records of `input` (`None`: of the query's source as a whole).
    fn write_late(&mut self, mut late: Vec<LateRecord>, input: Option<usize>) -> Result<()> {
        let Some(dead_letters) = self.io.dead_letters.as_mut() else {
            return Ok(());
        };
        late.sort_by_key(|record| record.position);
        for record in &late {
            let source = input
                .and_then(|i| self.io.input_names.get(i))
                .unwrap_or(&self.io.source_name);
            dead_letters.late(source, record)?;
        }
        Ok(())
    }
}

/// The merger's state: per-chunk buffers and how far each shard is through.
pub(crate) struct Merge {
    pending: BTreeMap<u64, ChunkOut>,
    through: Vec<Option<u64>>,
    finished: Vec<bool>,
    /// The shards' rows from closing everything at the end.
    finals: Finals,
    /// Latest counters per shard task: `[shard][task]`.
    progress: Vec<[Option<TaskProgress>; 2]>,
    open_at_stop: u64,
    stopped: Option<StopReason>,
    writer: Writer,
    /// Per-shard streams: what their readers may commit.
    commits: Option<CommitBook>,
}

impl Merge {
    pub fn new(
        shards: usize,
        io: MergerIo,
        broadcast: StopBroadcast,
        returns: Vec<Tx<RowBlock>>,
    ) -> Self {
        let line_base = (io.line_numbering == LineNumbering::ChunkRelative).then_some(0);
        let inputs = io.chunk_inputs.inputs();
        Merge {
            pending: BTreeMap::new(),
            through: vec![None; shards],
            finished: vec![false; shards],
            finals: Finals::new(shards),
            progress: vec![[None, None]; shards],
            open_at_stop: 0,
            stopped: None,
            writer: Writer {
                io,
                broadcast,
                returns,
                order: Vec::new(),
                rows_accepted: 0,
                limit_reached: false,
                latency: new_latency_histogram(),
                unflushed: Unflushed::default(),
                lines: vec![
                    InputLines {
                        base: line_base,
                        next_chunk: 0,
                    };
                    inputs
                ],
            },
            commits: None,
        }
    }

    /// Sends per-shard stream readers (one link each) what they may commit.
    pub fn committing_to(mut self, links: Vec<CommitOut>) -> Self {
        if !links.is_empty() {
            self.commits = Some(CommitBook::new(self.writer.io.settles, links));
        }
        self
    }

    fn all_finished(&self) -> bool {
        self.finished.iter().all(|f| *f)
    }

    /// Takes one message from `shard` and writes whatever became complete
    /// (a write blocked on a full output gives way when `give_up` says so).
    pub fn accept(
        &mut self,
        shard: usize,
        msg: MergeMsg,
        give_up: &mut dyn FnMut() -> bool,
    ) -> Result<()> {
        match msg {
            MergeMsg::Rows { chunk, rows } => {
                self.chunk(chunk).blocks.push((shard, rows));
            }
            MergeMsg::ChunkEnd {
                chunk,
                rows,
                mut late,
                dead,
                through,
                watermark,
            } => {
                let out = self.chunk(chunk);
                out.watermark = Some(out.watermark.map_or(watermark, |w| w.min(watermark)));
                out.blocks.extend(rows.map(|rows| (shard, rows)));
                out.late.append(&mut late);
                if dead.is_some() {
                    out.dead = dead;
                }
                self.through[shard] = self.through[shard].max(Some(through));
            }
            MergeMsg::Through(chunk) => {
                self.through[shard] = self.through[shard].max(Some(chunk));
            }
            MergeMsg::Final {
                rows,
                late,
                ended,
                last,
            } => {
                if let Some(empty) = self.finals.add(shard, rows, late, last) {
                    self.writer.give_back(shard, empty);
                }
                self.finished[shard] |= ended;
                self.write_complete_chunks(give_up)?;
                if self.all_finished() {
                    return self.write_final_rows(give_up);
                }
                return Ok(());
            }
            MergeMsg::OpenAtStop(open) => self.open_at_stop += open,
            MergeMsg::Progress(progress) => {
                let task = usize::from(progress.task).min(1);
                self.progress[shard][task] = Some(progress);
                self.check_state_limit()?;
            }
        }
        self.write_complete_chunks(give_up)
    }

    /// Ends the run once the shards' states together outgrow the limit.
    fn check_state_limit(&self) -> Result<()> {
        let Some(limit) = self.writer.io.state_limit else {
            return Ok(());
        };
        let held: u64 = self
            .progress
            .iter()
            .flatten()
            .flatten()
            .map(|task| task.state_bytes)
            .sum();
        if held > limit {
            let state = self.writer.io.state_description.as_deref();
            return Err(state_limit_error(held, limit, state));
        }
        Ok(())
    }

    fn chunk(&mut self, chunk: u64) -> &mut ChunkOut {
        self.pending.entry(chunk).or_default()
    }

    /// Every chunk up to this one is complete. A shard that stopped early
    /// (not finished) keeps bounding it: its partial chunk is never written.
    fn complete_through(&self) -> Option<u64> {
        let mut through = u64::MAX;
        for shard in 0..self.finished.len() {
            if !self.finished[shard] {
                through = through.min(self.through[shard]?);
            }
        }
        Some(through)
    }

    fn write_complete_chunks(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<()> {
        let Some(through) = self.complete_through() else {
            return Ok(());
        };
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > through {
                break;
            }
            let (chunk, mut out) = entry.remove_entry();
            let read = out.dead.as_mut().and_then(|dead| dead.read.take());
            let watermark = out.watermark.flatten();
            self.writer.write_chunk(chunk, out)?;
            if let Some(commits) = self.commits.as_mut() {
                commits.written(chunk, read, watermark);
            }
            if self.writer.flush_due() {
                self.flush(give_up)?;
            }
        }
        Ok(())
    }

    /// Hands what was written to the output; then, now and then, lets the
    /// readers commit what settled (once the sink settled it all too).
    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<()> {
        self.writer.flush(give_up)?;
        self.release_commits(false)
    }

    fn release_commits(&mut self, now: bool) -> Result<()> {
        let Some(commits) = self.commits.as_mut() else {
            return Ok(());
        };
        let sink = &mut self.writer.io.sink;
        if commits.release_due(now) && sink.buffered_bytes() == 0 {
            sink.settle()?;
            commits.release();
        }
        Ok(())
    }

    /// The counters of the run so far.
    fn snapshot(&self) -> LiveSnapshot {
        let mut snapshot = LiveSnapshot {
            elapsed: self.writer.io.started.elapsed(),
            records_read: 0,
            records_processed: 0,
            records_filtered: 0,
            records_late: 0,
            records_malformed: 0,
            rows_emitted: self.writer.io.sink.rows_written(),
            bytes_read: 0,
            bytes_total: self.writer.io.totals.bytes,
            events_total: self.writer.io.totals.events,
            unbounded: self.writer.io.totals.unbounded,
            shards: Vec::with_capacity(self.progress.len()),
            latency: self.writer.latency.clone(),
        };
        for (shard, tasks) in self.progress.iter().enumerate() {
            let mut stats = ShardStats::new(shard);
            let mut watermark_ms = None;
            for task in tasks.iter().flatten() {
                stats.absorb(&task.stats);
                watermark_ms = watermark_ms.max(task.watermark_ms);
                snapshot.bytes_read += task.bytes_read;
            }
            snapshot.records_read += stats.records_in;
            snapshot.records_malformed += stats.records_malformed;
            snapshot.records_processed += stats.engine.processed;
            snapshot.records_filtered += stats.engine.filtered + stats.filtered_on_read;
            snapshot.records_late += stats.engine.late;
            snapshot.shards.push(LiveShard {
                shard,
                records_read: stats.records_in,
                records_in: stats.engine.records_in,
                busy: stats.busy,
                channel_full_waits: stats.channel_full_waits,
                watermark_ms,
            });
        }
        snapshot
    }

    fn send_snapshot(&self) {
        if let Some(live) = &self.writer.io.live {
            // A watcher that is behind misses this one; the next replaces it.
            let _ = live.try_send(self.snapshot());
        }
    }

    /// The last snapshot, which the watcher must see (it always drains).
    fn send_final_snapshot(&mut self) {
        if let Some(live) = self.writer.io.live.take() {
            let _ = live.send(self.snapshot());
        }
    }

    /// After every shard ended: what is left to write, then the final flush.
    /// The commit book comes back for [`CommitBook::close`].
    fn finish(
        mut self,
        give_up: &mut dyn FnMut() -> bool,
    ) -> Result<(MergerResult, Option<CommitBook>)> {
        let interrupted = matches!(self.stopped, Some(StopReason::Interrupted(_)));
        let mut rows_after_interrupt = 0;
        if self.all_finished() {
            self.write_complete_chunks(give_up)?;
            self.write_finals(give_up)?;
            if self.stopped.is_none() {
                self.writer.io.sink.input_complete()?;
            }
            if let Some(commits) = self.commits.as_mut() {
                commits.settle_all();
            }
        } else if interrupted && self.writer.io.on_interrupt == OnInterrupt::Emit {
            let before = self.writer.rows_accepted;
            self.write_finals(give_up)?;
            rows_after_interrupt = self.writer.rows_accepted - before;
        }
        self.writer.flush(give_up)?;
        self.writer.io.sink.finish()?;
        if self.writer.io.sink.buffered_bytes() == 0 {
            self.release_commits(true)?;
        }
        if let Some(dead_letters) = self.writer.io.dead_letters.as_mut() {
            dead_letters.finish()?;
        }
        self.send_final_snapshot();
        let commits = self.commits.take();
        let result = MergerResult {
            rows_written: self.writer.io.sink.rows_written(),
            limit_reached: self.writer.limit_reached,
            latency: self.writer.latency,
            stopped: self.stopped,
            open_at_stop: self.open_at_stop,
            rows_after_interrupt,
        };
        Ok((result, commits))
    }

    /// The final rows left, after every shard's last block came (or, after
    /// a stop, will not come: then those certain to come before what did
    /// not), and their late records.
    fn write_finals(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<()> {
        self.write_final_rows(give_up)?;
        self.writer.io.sink.end_of_chunk()?;
        let late = self.finals.take_late();
        self.writer.write_late(late, None)
    }

    /// Writes the final rows whose place in the merged order is certain,
    /// giving spent blocks back.
    fn write_final_rows(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<()> {
        while let Some(shard) = self.finals.next_shard() {
            if let Some((block, index)) = self.finals.head_of(shard) {
                self.writer.write_row(block, index)?;
            }
            if let Some(spent) = self.finals.advance(shard) {
                self.writer.give_back(shard, spent);
                if self.writer.flush_due() {
                    self.flush(give_up)?;
                }
            }
        }
        Ok(())
    }
}

/// A `give_up` for writes to a blocked output: true once the run was
/// interrupted or failed (not when LIMIT was reached: those rows still go out).
fn interrupted(stop: &mut Stop) -> impl FnMut() -> bool + '_ {
    || matches!(stop.check(), Some(r) if r != StopReason::Limit)
}

/// True when the rows of `blocks`, in turn, are already in order.
fn in_order(blocks: &[ShardBlock]) -> bool {
    let mut last: Option<&RowOrder> = None;
    for (_, block) in blocks {
        if !block.is_sorted() {
            return false;
        }
        if let (Some(last), Some(first)) = (last, block.first_order()) {
            if last > first {
                return false;
            }
        }
        last = block.last_order().or(last);
    }
    true
}

/// What the merger's wait ended with. A value on the stack for one step of
/// the loop, never stored in bulk, so its size (that of a message) is no waste.
#[allow(clippy::large_enum_variant)]
enum Event {
    /// A message from a shard, or `None` once that shard's channel closed.
    Message(usize, Option<MergeMsg>),
    /// Time to send a snapshot or flush.
    Tick,
}

/// The merger's loop over its inboxes, one per shard.
pub(crate) struct MergerLoop {
    pub merge: Merge,
    pub inboxes: Vec<Rx<MergeMsg>>,
    pub stop: Stop,
    /// Stateless plans: shards do not depend on each other, so the merger
    /// reads only from the shard that holds the output back, which bounds
    /// what it buffers. Shuffled plans: every shard needs every source, so it
    /// reads from all (waiting on one could deadlock), and shards stay in
    /// step because engines take chunks in global order.
    pub read_slowest_only: bool,
    /// How long to look for messages before parking (zero when the merger
    /// is a task of a shard's executor, whose other tasks must run).
    pub poll_before_park: Duration,
}

impl MergerLoop {
    pub async fn run(mut self) -> std::result::Result<MergerResult, Failure> {
        match self.merge_all().await {
            Ok(()) => {
                let mut give_up = interrupted(&mut self.stop);
                let (result, commits) = self.merge.finish(&mut give_up)?;
                if let Some(commits) = commits {
                    commits.close().await;
                }
                Ok(result)
            }
            Err(e) => {
                // The shards stop at once; the error is the run's result.
                self.merge.writer.broadcast.stop(StopReason::Failed);
                Err(Failure::Error(e))
            }
        }
    }

    async fn merge_all(&mut self) -> Result<()> {
        let mut open = vec![true; self.inboxes.len()];
        let mut next_snapshot = Instant::now() + PROGRESS_INTERVAL;
        while open.iter().any(|o| *o) {
            let eligible = self.eligible(&open);
            if let Some((shard, msg)) = self.try_next(&eligible) {
                self.accept(shard, msg)?;
            } else {
                // About to wait: everything written goes out now.
                self.merge.flush(&mut interrupted(&mut self.stop))?;
                if let Some((shard, msg)) = self.poll_briefly(&eligible) {
                    self.accept(shard, msg)?;
                    continue;
                }
                match self.wait(&eligible, next_snapshot).await {
                    Event::Message(shard, Some(msg)) => self.accept(shard, msg)?,
                    Event::Message(shard, None) => open[shard] = false,
                    Event::Tick => {}
                }
            }
            if Instant::now() >= next_snapshot {
                self.merge.send_snapshot();
                next_snapshot = Instant::now() + PROGRESS_INTERVAL;
            }
        }
        Ok(())
    }

    /// Takes a message; a write it makes that waits on a full output gives
    /// way to an interrupt or a failure.
    fn accept(&mut self, shard: usize, msg: MergeMsg) -> Result<()> {
        self.merge
            .accept(shard, msg, &mut interrupted(&mut self.stop))
    }

    /// The inboxes to read from now: all open ones, or (reading the slowest
    /// only, and not stopping) the open shard that holds the output back;
    /// less those with enough final rows waiting to be written.
    fn eligible(&self, open: &[bool]) -> Vec<bool> {
        let merge = &self.merge;
        let slowest = (self.read_slowest_only && merge.stopped.is_none())
            .then(|| {
                (0..open.len())
                    .filter(|s| open[*s] && !merge.finished[*s])
                    .min_by_key(|s| merge.through[*s].map_or(0, |c| c as u128 + 1))
            })
            .flatten();
        let eligible: Vec<bool> = (0..open.len())
            .map(|shard| open[shard] && slowest.is_none_or(|s| s == shard))
            .collect();
        // A shard with enough final rows waiting is read again once they are
        // written; unless every shard does (they wait on something else).
        let waiting = |shard: usize| merge.stopped.is_none() && merge.finals.holds_enough(shard);
        if (0..open.len()).any(|shard| eligible[shard] && !waiting(shard)) {
            return (0..open.len())
                .map(|shard| eligible[shard] && !waiting(shard))
                .collect();
        }
        eligible
    }

    /// With a core of its own, the merger looks for the next message for up
    /// to `poll_before_park` before it parks: a message that comes meanwhile
    /// is taken at once instead of after a wake-up from another core (tens of
    /// microseconds on a virtual machine).
    fn poll_briefly(&mut self, eligible: &[bool]) -> Option<(usize, MergeMsg)> {
        let until = Instant::now() + self.poll_before_park;
        while Instant::now() < until {
            if let Some(next) = self.try_next(eligible) {
                return Some(next);
            }
            std::hint::spin_loop();
        }
        None
    }

    fn try_next(&mut self, eligible: &[bool]) -> Option<(usize, MergeMsg)> {
        (0..self.inboxes.len())
            .filter(|s| eligible[*s])
            .find_map(|s| self.inboxes[s].try_recv().map(|msg| (s, msg)))
    }

    /// Waits for a message from an eligible inbox, the stop (once), or the
    /// next snapshot.
    async fn wait(&mut self, eligible: &[bool], next_snapshot: Instant) -> Event {
        let inboxes = &mut self.inboxes;
        let message = poll_fn(|cx| {
            for (shard, inbox) in inboxes.iter_mut().enumerate() {
                if eligible[shard] {
                    if let Poll::Ready(msg) = inbox.poll_recv(cx) {
                        return Poll::Ready(Event::Message(shard, msg));
                    }
                }
            }
            Poll::Pending
        });
        let tick = async {
            sleep(next_snapshot.saturating_duration_since(Instant::now())).await;
            Event::Tick
        };
        let event = futures_lite::future::or(message, tick);
        if self.merge.stopped.is_some() {
            return event.await;
        }
        match self.stop.until(event).await {
            Ok(event) => event,
            Err(reason) => {
                self.merge.stopped = Some(reason);
                Event::Tick
            }
        }
    }
}
