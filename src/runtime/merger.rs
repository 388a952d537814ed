//! The merger: the only writer of the sink and the dead-letter file. It
//! buffers each shard's output per chunk, and once every shard is through
//! with chunk c it writes that chunk's rows sorted by `RowOrder` (stable),
//! then the next chunk; after all shards finish, the rows of `finish()`,
//! sorted. The output is thereby the same for any shard count. It applies
//! LIMIT (asking the sources to stop) and measures output latency. Written
//! row blocks go back to the shard that made them (see [`super::recycle`]).

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Instant;

use super::adapter::{DeadLetters, LineNumbering, RowSink};
use super::channel::{ChunkDead, MergeMsg, RowBlock, Rx, Tx};
use super::metrics::new_latency_histogram;
use super::Failure;
use crate::engine::{LateRecord, RowOrder};
use crate::error::Result;

/// What the merger writes to, and how.
pub(crate) struct MergerIo {
    pub sink: Box<dyn RowSink + Send>,
    pub dead_letters: Option<Box<dyn DeadLetters + Send>>,
    pub limit: Option<u64>,
    pub line_numbering: LineNumbering,
    pub source_name: String,
}

/// What the merger reports when it ends.
#[derive(Debug)]
pub(crate) struct MergerResult {
    pub rows_written: u64,
    pub limit_reached: bool,
    pub latency: Histogram<u64>,
}

/// A block of rows and the shard it came from (and goes back to).
type ShardBlock = (usize, RowBlock);

/// One chunk's output, gathered from every shard.
#[derive(Default)]
struct ChunkOut {
    blocks: Vec<ShardBlock>,
    late: Vec<LateRecord>,
    dead: Option<ChunkDead>,
}

/// Consecutive rows caused at the same instant (one engine call) share one
/// clock reading and one histogram update.
#[derive(Default)]
struct LatencyRun {
    caused_at: Option<Instant>,
    rows: u64,
}

impl LatencyRun {
    fn add(&mut self, caused_at: Instant, histogram: &mut Histogram<u64>) {
        if self.caused_at != Some(caused_at) {
            self.flush(histogram);
            self.caused_at = Some(caused_at);
        }
        self.rows += 1;
    }

    fn flush(&mut self, histogram: &mut Histogram<u64>) {
        if let Some(caused_at) = self.caused_at.take() {
            let micros = u64::try_from(caused_at.elapsed().as_micros()).unwrap_or(u64::MAX);
            // Recording can only fail beyond the histogram's range; clamp instead.
            let micros = micros.min(histogram.high());
            let _ = histogram.record_n(micros, std::mem::take(&mut self.rows));
        }
    }
}

/// Writes rows and dead letters in order.
struct Writer {
    io: MergerIo,
    stops: Vec<Tx<()>>,
    /// Per shard: where its written blocks go back to.
    returns: Vec<Tx<RowBlock>>,
    /// Scratch: (block, row) in output order, when blocks interleave.
    order: Vec<(u32, u32)>,
    rows_written: u64,
    limit_reached: bool,
    latency: Histogram<u64>,
    /// Lines of all chunks before `next_line_chunk`, while known.
    line_base: Option<u64>,
    next_line_chunk: u64,
}

impl Writer {
    /// Writes the rows of `blocks` sorted by their order (stable: ties keep
    /// arrival order), then gives the blocks back.
    fn write_rows(&mut self, blocks: &mut Vec<ShardBlock>) -> Result<()> {
        let result = self.write_sorted(blocks);
        for (shard, block) in blocks.drain(..) {
            if let Some(back) = self.returns.get(shard) {
                back.offer(block);
            }
        }
        result
    }

    fn write_sorted(&mut self, blocks: &[ShardBlock]) -> Result<()> {
        let mut latency = LatencyRun::default();
        if in_order(blocks) {
            // Each shard's rows of a chunk arrive sorted; one producer's need no sort.
            for (_, block) in blocks {
                for index in 0..block.len() {
                    self.write_row(block, index, &mut latency)?;
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
                self.write_row(&blocks[b as usize].1, r as usize, &mut latency)?;
            }
            self.order = order;
        }
        latency.flush(&mut self.latency);
        Ok(())
    }

    #[inline]
    fn write_row(
        &mut self,
        block: &RowBlock,
        index: usize,
        latency: &mut LatencyRun,
    ) -> Result<()> {
        if self.limit_reached {
            return Ok(());
        }
        self.io.sink.write_row(block.row(index))?;
        self.rows_written += 1;
        latency.add(block.caused_at(index), &mut self.latency);
        if self
            .io
            .limit
            .is_some_and(|limit| self.rows_written >= limit)
        {
            self.reach_limit();
        }
        Ok(())
    }

    fn reach_limit(&mut self) {
        self.limit_reached = true;
        for stop in &self.stops {
            stop.offer(());
        }
    }

    fn write_chunk(&mut self, chunk: u64, mut out: ChunkOut) -> Result<()> {
        self.write_rows(&mut out.blocks)?;
        self.write_malformed(chunk, out.dead)?;
        self.write_late(out.late)
    }

    fn write_malformed(&mut self, chunk: u64, dead: Option<ChunkDead>) -> Result<()> {
        let Some(dead) = dead else { return Ok(()) };
        let base = match self.io.line_numbering {
            LineNumbering::ChunkRelative if chunk == self.next_line_chunk => self.line_base,
            _ => None,
        };
        self.next_line_chunk = chunk + 1;
        self.line_base = base.zip(dead.lines).map(|(b, l)| b + l);
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

    fn write_late(&mut self, mut late: Vec<LateRecord>) -> Result<()> {
        let Some(dead_letters) = self.io.dead_letters.as_mut() else {
            return Ok(());
        };
        late.sort_by_key(|record| record.position);
        for record in &late {
            dead_letters.late(&self.io.source_name, record)?;
        }
        Ok(())
    }
}

/// The merger's state: per-chunk buffers and how far each shard is through.
pub(crate) struct Merge {
    pending: BTreeMap<u64, ChunkOut>,
    through: Vec<Option<u64>>,
    finished: Vec<bool>,
    finals: Vec<ShardBlock>,
    final_late: Vec<LateRecord>,
    writer: Writer,
}

impl Merge {
    pub fn new(
        shards: usize,
        io: MergerIo,
        stops: Vec<Tx<()>>,
        returns: Vec<Tx<RowBlock>>,
    ) -> Self {
        let line_base = (io.line_numbering == LineNumbering::ChunkRelative).then_some(0);
        Merge {
            pending: BTreeMap::new(),
            through: vec![None; shards],
            finished: vec![false; shards],
            finals: Vec::new(),
            final_late: Vec::new(),
            writer: Writer {
                io,
                stops,
                returns,
                order: Vec::new(),
                rows_written: 0,
                limit_reached: false,
                latency: new_latency_histogram(),
                line_base,
                next_line_chunk: 0,
            },
        }
    }

    pub fn all_finished(&self) -> bool {
        self.finished.iter().all(|f| *f)
    }

    /// The shard whose progress holds the output back the most.
    pub fn slowest_shard(&self) -> Option<usize> {
        (0..self.finished.len())
            .filter(|s| !self.finished[*s])
            .min_by_key(|s| self.through[*s].map_or(0, |c| c as u128 + 1))
    }

    /// Takes one message from `shard` and writes whatever became complete.
    pub fn accept(&mut self, shard: usize, msg: MergeMsg) -> Result<()> {
        match msg {
            MergeMsg::Rows { chunk, rows } => {
                self.chunk(chunk).blocks.push((shard, rows));
            }
            MergeMsg::Dead { chunk, late, dead } if chunk == u64::MAX => {
                debug_assert!(dead.is_none());
                self.final_late.extend(late);
            }
            MergeMsg::Dead {
                chunk,
                mut late,
                dead,
            } => {
                let out = self.chunk(chunk);
                out.late.append(&mut late);
                if dead.is_some() {
                    out.dead = dead;
                }
            }
            MergeMsg::Through(chunk) => {
                self.through[shard] = self.through[shard].max(Some(chunk));
            }
            MergeMsg::Final(rows) => self.finals.push((shard, rows)),
            MergeMsg::Finished => self.finished[shard] = true,
        }
        self.write_complete_chunks()
    }

    fn chunk(&mut self, chunk: u64) -> &mut ChunkOut {
        self.pending.entry(chunk).or_default()
    }

    /// Every chunk up to this one is complete.
    fn complete_through(&self) -> Option<u64> {
        let mut through = u64::MAX;
        for shard in 0..self.finished.len() {
            if !self.finished[shard] {
                through = through.min(self.through[shard]?);
            }
        }
        Some(through)
    }

    fn write_complete_chunks(&mut self) -> Result<()> {
        let Some(through) = self.complete_through() else {
            return Ok(());
        };
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > through {
                break;
            }
            let (chunk, out) = entry.remove_entry();
            self.writer.write_chunk(chunk, out)?;
        }
        Ok(())
    }

    /// After every shard finished: the rows of `finish()`, then close the sinks.
    pub fn finish(mut self) -> Result<MergerResult> {
        self.write_complete_chunks()?;
        let mut finals = std::mem::take(&mut self.finals);
        self.writer.write_rows(&mut finals)?;
        let late = std::mem::take(&mut self.final_late);
        self.writer.write_late(late)?;
        self.writer.io.sink.finish()?;
        if let Some(dead_letters) = self.writer.io.dead_letters.as_mut() {
            dead_letters.finish()?;
        }
        Ok(MergerResult {
            rows_written: self.writer.rows_written,
            limit_reached: self.writer.limit_reached,
            latency: self.writer.latency,
        })
    }
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

/// Stateless plans: shards do not depend on each other, so reading from the
/// shard that holds the output back cannot deadlock, and nothing is buffered
/// beyond the chunk being completed.
pub(crate) async fn merge_in_order(
    mut merge: Merge,
    inboxes: Vec<Rx<MergeMsg>>,
) -> Result<MergerResult, Failure> {
    while let Some(shard) = merge.slowest_shard() {
        let msg = inboxes[shard].recv().await.ok_or(Failure::PeerGone)?;
        merge.accept(shard, msg)?;
    }
    Ok(merge.finish()?)
}

/// Shuffled plans: every shard needs every source, so the merger must never
/// wait on one shard while another is blocked on a full channel to it. One
/// task per inbound channel forwards into a local queue; the merger takes
/// from it in arrival order.
pub(crate) async fn merge_concurrently(
    mut merge: Merge,
    inboxes: Vec<Rx<MergeMsg>>,
) -> Result<MergerResult, Failure> {
    let (queue_tx, queue_rx) = glommio::channels::local_channel::new_unbounded();
    let queue_tx = std::rc::Rc::new(queue_tx);
    let forwarders: Vec<_> = inboxes
        .into_iter()
        .enumerate()
        .map(|(shard, inbox)| {
            let queue_tx = queue_tx.clone();
            glommio::spawn_local(async move {
                loop {
                    let msg = inbox.recv().await;
                    let last = matches!(msg, None | Some(MergeMsg::Finished));
                    if queue_tx.send((shard, msg)).await.is_err() || last {
                        break;
                    }
                }
            })
        })
        .collect();
    drop(queue_tx);
    let mut result = Ok(());
    while !merge.all_finished() {
        match queue_rx.recv().await {
            Some((shard, Some(msg))) => {
                if let Err(e) = merge.accept(shard, msg) {
                    result = Err(Failure::Error(e));
                    break;
                }
            }
            Some((_, None)) | None => {
                result = Err(Failure::PeerGone);
                break;
            }
        }
    }
    if let Err(failure) = result {
        // Cancelling the forwarders drops the inbound channels, which stops the shards.
        drop(forwarders);
        return Err(failure);
    }
    for forwarder in forwarders {
        forwarder.await;
    }
    Ok(merge.finish()?)
}
