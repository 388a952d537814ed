//! Messages between shards and the merger, and the bounded channel ends that
//! carry them: tokio's bounded mpsc channels used single-producer, which work
//! between any two executors of either backend (glommio or plain threads) and
//! between two tasks of one executor alike. Every wait races the task's
//! [`Stop`].

use std::time::Instant;

use tokio::sync::mpsc;

use super::metrics::ShardStats;
use super::recycle::Reusable;
use super::stop::{Stop, StopReason};
use super::Failure;
use crate::data::{Batch, Value};
use crate::engine::{LateRecord, Output, OutputRow, PartialGroups, RowOrder};
use crate::io::{Malformed, ReadPosition, RowFormat};

/// From a source task to a destination engine task.
#[derive(Debug)]
pub(crate) enum ShardMsg {
    /// Rows of the current chunk routed to this destination, read at `read_at`.
    Rows { batch: Batch, read_at: Instant },
    /// The current chunk's groups owned by this destination, pre-aggregated
    /// by the source (see `engine::PreAggregator`), sent instead of their rows.
    Partial(Box<PartialGroups>),
    /// The end of chunk `chunk`, sent to every destination after its rows.
    ChunkEnd {
        chunk: u64,
        /// The largest event time of the whole chunk (all destinations).
        max_event_time: Option<i64>,
        /// The chunk's malformed records and line count: sent to one
        /// destination only (the chunk's owner shard).
        dead: Option<ChunkDead>,
        /// When the chunk's last record was read (what its watermark's rows
        /// are measured from).
        read_at: Instant,
    },
    /// The source has no more chunks: its input ended.
    Done,
}

/// What one chunk leaves for the dead-letter file, its line count, and (a
/// replayable source) how far its reader had read by its end.
#[derive(Debug, Default)]
pub(crate) struct ChunkDead {
    pub malformed: Vec<Malformed>,
    pub lines: Option<u64>,
    pub read: Option<ChunkRead>,
}

/// The merger's end of the link to a per-shard stream's reader thread: the
/// positions it may commit, and the reader's word that it is done (the
/// channel closes once the reader has made its last commit).
pub(crate) struct CommitOut {
    pub positions: Tx<ReadPosition>,
    pub done: Rx<()>,
}

/// The reader thread's end of that link.
pub(crate) struct CommitIn {
    pub positions: Rx<ReadPosition>,
    pub done: Tx<()>,
}

/// A link between the merger and one reader thread.
pub(crate) fn commit_link() -> (CommitOut, CommitIn) {
    let (positions_tx, positions_rx) = bounded(64);
    let (done_tx, done_rx) = bounded(1);
    (
        CommitOut {
            positions: positions_tx,
            done: done_rx,
        },
        CommitIn {
            positions: positions_rx,
            done: done_tx,
        },
    )
}

/// How far a per-shard stream's reader had read by the end of a chunk, and
/// the largest event time among the chunk's rows: once the output holds
/// every window those rows fell in, the position can be committed.
#[derive(Debug)]
pub(crate) struct ChunkRead {
    pub position: ReadPosition,
    pub max_event_time: Option<i64>,
}

/// Output rows of one shard, each with its order and the instant its cause
/// was read: formatted into the sink's bytes by the shard (one byte buffer
/// for all rows), stored flat as values (one vector of values for all rows)
/// for a sink that takes values, or only counted for a sink that discards
/// them (no content, no order). Moved to the merger, which gives it back to
/// the shard once written (see [`super::recycle`]).
#[derive(Debug, Default)]
pub(crate) struct RowBlock {
    values: Vec<Value>,
    bytes: Vec<u8>,
    /// Per row: where it ends in `bytes` (formatted) or `values`.
    ends: Vec<usize>,
    formatted: bool,
    discarded: bool,
    orders: Vec<RowOrder>,
    caused_at: Vec<Instant>,
}

impl RowBlock {
    pub fn len(&self) -> usize {
        self.caused_at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.caused_at.is_empty()
    }

    /// Counts a row whose sink discards it; its vector goes back to `out`.
    pub fn push_discarded(&mut self, row: OutputRow, caused_at: Instant, out: &mut Output) {
        out.recycle_values(row.values);
        self.discarded = true;
        self.caused_at.push(caused_at);
    }

    /// Appends `row`, moving its values; its emptied vector goes back to
    /// `out` for the engine's next rows.
    pub fn push(&mut self, row: OutputRow, caused_at: Instant, out: &mut Output) {
        let OutputRow { mut values, order } = row;
        self.values.append(&mut values);
        out.recycle_values(values);
        self.ends.push(self.values.len());
        self.orders.push(order);
        self.caused_at.push(caused_at);
    }

    /// Appends `row` formatted by `format`; its emptied vector goes back to
    /// `out` for the engine's next rows.
    pub fn push_formatted(
        &mut self,
        row: OutputRow,
        caused_at: Instant,
        format: &mut dyn RowFormat,
        out: &mut Output,
    ) {
        let OutputRow { values, order } = row;
        format.format(&values, &mut self.bytes);
        out.recycle_values(values);
        self.formatted = true;
        self.ends.push(self.bytes.len());
        self.orders.push(order);
        self.caused_at.push(caused_at);
    }

    /// Row `index`: its formatted bytes, its values, or nothing (discarded).
    pub fn row(&self, index: usize) -> BlockRow<'_> {
        if self.discarded {
            return BlockRow::Discarded;
        }
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        if self.formatted {
            BlockRow::Formatted(&self.bytes[start..self.ends[index]])
        } else {
            BlockRow::Values(&self.values[start..self.ends[index]])
        }
    }

    pub fn order(&self, index: usize) -> &RowOrder {
        &self.orders[index]
    }

    /// Row `index`'s order; `None` for a discarded row (none is kept).
    pub fn order_of(&self, index: usize) -> Option<&RowOrder> {
        self.orders.get(index)
    }

    pub fn caused_at(&self, index: usize) -> Instant {
        self.caused_at[index]
    }

    pub fn is_sorted(&self) -> bool {
        self.orders.is_sorted()
    }

    pub fn first_order(&self) -> Option<&RowOrder> {
        self.orders.first()
    }

    pub fn last_order(&self) -> Option<&RowOrder> {
        self.orders.last()
    }
}

/// One row of a [`RowBlock`].
pub(crate) enum BlockRow<'a> {
    Formatted(&'a [u8]),
    Values(&'a [Value]),
    Discarded,
}

impl Reusable for RowBlock {
    fn clear_for_reuse(&mut self) {
        self.values.clear();
        self.bytes.clear();
        self.formatted = false;
        self.discarded = false;
        self.ends.clear();
        self.orders.clear();
        self.caused_at.clear();
    }
}

/// From a shard's engine to the merger.
#[derive(Debug)]
pub(crate) enum MergeMsg {
    /// Rows produced while processing chunk `chunk` (a full block; the rest
    /// comes with the chunk's end).
    Rows { chunk: u64, rows: RowBlock },
    /// The end of `chunk` from this shard, in one message (one wake-up of
    /// the merger per chunk): its last rows, its late records, the chunk's
    /// malformed records and line count when this shard owns it, and the
    /// promise that nothing more comes for chunks up to `through`.
    ChunkEnd {
        chunk: u64,
        rows: Option<RowBlock>,
        late: Vec<LateRecord>,
        dead: Option<ChunkDead>,
        through: u64,
        /// The engine's watermark after the chunk (shuffled plans).
        watermark: Option<i64>,
    },
    /// This shard will send nothing for chunks up to and including this one.
    Through(u64),
    /// A block of the rows that closing everything at the end made, sorted
    /// and after the shard's block before, and late records; `ended` when
    /// the shard's input ended (after an interrupt it did not), `last` on
    /// the shard's last block.
    Final {
        rows: RowBlock,
        late: Vec<LateRecord>,
        ended: bool,
        last: bool,
    },
    /// Windows (per key) and groups still open when the run was interrupted.
    OpenAtStop(u64),
    /// A task's counters so far (for live snapshots).
    Progress(TaskProgress),
}

/// A shard task's counters so far: `task` tells the source task (0) from the
/// engine task (1) of one shard.
#[derive(Debug, Clone)]
pub(crate) struct TaskProgress {
    pub task: u8,
    pub stats: ShardStats,
    pub watermark_ms: Option<i64>,
    pub bytes_read: u64,
    /// The bytes the engine's state holds (engine tasks).
    pub state_bytes: u64,
}

/// The sending end of a bounded channel.
pub(crate) struct Tx<T>(mpsc::Sender<T>);

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        Tx(self.0.clone())
    }
}

/// The receiving end of a bounded channel.
pub(crate) struct Rx<T>(mpsc::Receiver<T>);

/// A bounded channel of `capacity` messages.
pub(crate) fn bounded<T>(capacity: usize) -> (Tx<T>, Rx<T>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Tx(tx), Rx(rx))
}

impl<T> Tx<T> {
    /// Sends `item`, waiting while the channel is full unless a stop comes
    /// first; `full_waits` counts the sends that had to wait.
    pub async fn send(
        &self,
        item: T,
        stop: &mut Stop,
        full_waits: &mut u64,
    ) -> Result<(), Failure> {
        let item = match self.0.try_send(item) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(Failure::PeerGone),
            Err(mpsc::error::TrySendError::Full(item)) => item,
        };
        *full_waits += 1;
        // `reserve` is cancel-safe: a stop leaves the item with us.
        match stop.until(self.0.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(item);
                Ok(())
            }
            Ok(Err(_closed)) => Err(Failure::PeerGone),
            Err(reason) => Err(Failure::Stopped(reason)),
        }
    }

    /// Sends `item` whether or not the run is stopping (the last messages of
    /// a task that is winding down), waiting while the channel is full.
    pub async fn send_anyway(&self, item: T) -> Result<(), Failure> {
        self.0.send(item).await.map_err(|_| Failure::PeerGone)
    }

    /// Sends without waiting, dropping the item if the channel is full or gone.
    pub fn offer(&self, item: T) {
        let _ = self.0.try_send(item);
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Sends from a thread outside any executor, blocking while the channel
    /// is full; `false` once the receiver is gone.
    pub fn send_blocking(&self, item: T) -> bool {
        self.0.blocking_send(item).is_ok()
    }
}

impl<T> Rx<T> {
    /// The next item (`None` once every sender is gone), unless a stop comes first.
    pub async fn recv(&mut self, stop: &mut Stop) -> Result<Option<T>, StopReason> {
        stop.until(self.0.recv()).await
    }

    /// The next item, waiting whatever happens (`None` once every sender is gone).
    pub async fn recv_anyway(&mut self) -> Option<T> {
        self.0.recv().await
    }

    /// The next item, blocking a thread outside any executor (`None` once
    /// every sender is gone).
    pub fn recv_blocking(&mut self) -> Option<T> {
        self.0.blocking_recv()
    }

    /// The next item if one is waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        self.0.try_recv().ok()
    }

    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}
