//! Messages between shards and the merger, and the bounded channel ends that
//! carry them: a glommio `shared_channel` between executors, a glommio
//! `local_channel` between two tasks of one executor.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use glommio::channels::local_channel::{LocalReceiver, LocalSender};
use glommio::channels::shared_channel::{
    ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use glommio::{GlommioError, ResourceType};

use super::recycle::Reusable;
use crate::data::{Batch, Value};
use crate::engine::{LateRecord, Output, OutputRow, RowOrder};
use crate::io::Malformed;

/// From a source task to a destination engine task.
#[derive(Debug)]
pub(crate) enum ShardMsg {
    /// Rows of the current chunk routed to this destination.
    Rows(Batch),
    /// The end of chunk `chunk`, sent to every destination after its rows.
    ChunkEnd {
        chunk: u64,
        /// The largest event time of the whole chunk (all destinations).
        max_event_time: Option<i64>,
        /// The chunk's malformed records and line count: sent to one
        /// destination only (the chunk's owner shard).
        dead: Option<ChunkDead>,
    },
    /// The source has no more chunks.
    Done,
}

/// What one chunk leaves for the dead-letter file, and its line count.
#[derive(Debug, Default)]
pub(crate) struct ChunkDead {
    pub malformed: Vec<Malformed>,
    pub lines: Option<u64>,
}

/// Output rows of one shard, stored flat (one vector of values for all rows),
/// each with its order and the instant its cause entered the engine. Moved
/// to the merger, which gives it back to the shard once written (see
/// [`super::recycle`]).
#[derive(Debug, Default)]
pub(crate) struct RowBlock {
    values: Vec<Value>,
    /// Per row: where its values end in `values`.
    ends: Vec<usize>,
    orders: Vec<RowOrder>,
    caused_at: Vec<Instant>,
}

impl RowBlock {
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
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

    pub fn row(&self, index: usize) -> &[Value] {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.values[start..self.ends[index]]
    }

    pub fn order(&self, index: usize) -> &RowOrder {
        &self.orders[index]
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

impl Reusable for RowBlock {
    fn clear_for_reuse(&mut self) {
        self.values.clear();
        self.ends.clear();
        self.orders.clear();
        self.caused_at.clear();
    }
}

/// From a shard's engine to the merger.
#[derive(Debug)]
pub(crate) enum MergeMsg {
    /// Rows produced while processing chunk `chunk`.
    Rows { chunk: u64, rows: RowBlock },
    /// Late records produced while processing `chunk`, and the chunk's
    /// malformed records and line count when this shard owns it.
    Dead {
        chunk: u64,
        late: Vec<LateRecord>,
        dead: Option<ChunkDead>,
    },
    /// This shard will send nothing more for chunks up to and including this one.
    Through(u64),
    /// Rows from `finish()`.
    Final(RowBlock),
    /// The shard is done.
    Finished,
}

/// The receiver went away: the run is failing elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Disconnected;

/// The sending end of a bounded channel.
pub(crate) enum Tx<T: Send + 'static> {
    Shared(ConnectedSender<T>),
    Local(LocalSender<T>),
}

impl<T: Send + 'static> Tx<T> {
    /// Sends `item`, waiting while the channel is full; `full_waits` counts
    /// the sends that had to wait.
    pub async fn send(&self, item: T, full_waits: &mut u64) -> Result<(), Disconnected> {
        let item = match self.try_send(item) {
            TrySend::Sent => return Ok(()),
            TrySend::Gone => return Err(Disconnected),
            TrySend::Full(item) => item,
        };
        *full_waits += 1;
        let sent = match self {
            Tx::Shared(tx) => tx.send(item).await.is_ok(),
            Tx::Local(tx) => tx.send(item).await.is_ok(),
        };
        if sent {
            Ok(())
        } else {
            Err(Disconnected)
        }
    }

    fn try_send(&self, item: T) -> TrySend<T> {
        let result = match self {
            Tx::Shared(tx) => tx.try_send(item),
            Tx::Local(tx) => tx.try_send(item),
        };
        match result {
            Ok(()) => TrySend::Sent,
            Err(GlommioError::WouldBlock(ResourceType::Channel(item))) => TrySend::Full(item),
            Err(_) => TrySend::Gone,
        }
    }

    /// Sends without waiting, dropping the item if the channel is full or gone.
    pub fn offer(&self, item: T) {
        let _ = self.try_send(item);
    }
}

enum TrySend<T> {
    Sent,
    Full(T),
    Gone,
}

/// The receiving end of a bounded channel.
pub(crate) enum Rx<T: Send + 'static> {
    Shared(ConnectedReceiver<T>),
    Local(LocalReceiver<T>),
}

impl<T: Send + 'static> Rx<T> {
    /// The next item; `None` once every sender is gone.
    pub async fn recv(&self) -> Option<T> {
        match self {
            Rx::Shared(rx) => rx.recv().await,
            Rx::Local(rx) => rx.recv().await,
        }
    }
}

/// Shared channel ends being connected. Every `connect` waits for its peer,
/// so an executor starts connecting all of its ends (as tasks) before it
/// awaits any: connecting one by one could wait in a cycle between executors.
pub(crate) struct Connecting<T> {
    tasks: Vec<glommio::Task<T>>,
}

impl<T: Send + 'static> Connecting<Tx<T>> {
    pub fn senders(ends: Vec<SharedSender<T>>) -> Self {
        let tasks = ends
            .into_iter()
            .map(|end| glommio::spawn_local(async move { Tx::Shared(end.connect().await) }))
            .collect();
        Connecting { tasks }
    }
}

impl<T: Send + 'static> Connecting<Rx<T>> {
    pub fn receivers(ends: Vec<SharedReceiver<T>>) -> Self {
        let tasks = ends
            .into_iter()
            .map(|end| glommio::spawn_local(async move { Rx::Shared(end.connect().await) }))
            .collect();
        Connecting { tasks }
    }
}

impl<T> Connecting<T> {
    pub async fn connected(self) -> Vec<T> {
        let mut ends = Vec::with_capacity(self.tasks.len());
        for task in self.tasks {
            ends.push(task.await);
        }
        ends
    }
}

/// Lets the other tasks of this executor run once.
pub(crate) fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

pub(crate) struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
