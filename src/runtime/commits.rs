//! What per-shard stream readers (Kafka) may commit, kept by the merger.
//!
//! At-least-once: a reader's position is committed only once the output
//! holds everything the records before it caused. Every chunk of a per-shard
//! stream ends with how far its reader had read ([`ChunkRead`]); once the
//! merger has written that chunk *and* a chunk whose watermark closed every
//! window those records fell in (see [`Settling`]), and the sink has handed
//! it all over (a Kafka sink: acknowledged), the position goes back to the
//! reader thread, which commits it for the consumer group. Positions are
//! cumulative, so a reader commits only the latest it has been sent.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::channel::{ChunkRead, CommitOut};
use super::exec::sleep;
use crate::io::ReadPosition;
use crate::plan::Settling;

/// How often positions go back to the readers at most: each release waits
/// for a Kafka sink's acknowledgements, and each commit is a round trip.
const RELEASE_INTERVAL: Duration = Duration::from_millis(200);
/// The longest the end of a run waits for the readers' last commits.
const READERS_PATIENCE: Duration = Duration::from_secs(20);

/// Positions read, written and released, per shard.
pub(crate) struct CommitBook {
    settling: Settling,
    /// The links to each shard's reader thread.
    links: Vec<CommitOut>,
    /// Per shard, oldest first: positions whose chunk is written, waiting
    /// for the watermark at which their records settle (`None`: never).
    written: Vec<VecDeque<(ReadPosition, Option<i64>)>>,
    /// Per shard: the latest settled position not yet released.
    settled: Vec<Option<ReadPosition>>,
    /// The watermark of the latest chunk written.
    watermark: Option<i64>,
    last_release: Instant,
}

impl CommitBook {
    pub fn new(settling: Settling, links: Vec<CommitOut>) -> Self {
        let shards = links.len();
        CommitBook {
            settling,
            links,
            written: (0..shards).map(|_| VecDeque::new()).collect(),
            settled: vec![None; shards],
            watermark: None,
            last_release: Instant::now(),
        }
    }

    /// Chunk `chunk` was written: its reader's position (when it read
    /// anything), and the watermark the engines had reached at its end.
    pub fn written(&mut self, chunk: u64, read: Option<ChunkRead>, watermark: Option<i64>) {
        let shards = self.links.len().max(1) as u64;
        let shard = (chunk % shards) as usize;
        if let Some(read) = read {
            let settles_at = self.settling.settled_at(read.max_event_time);
            self.written[shard].push_back((read.position, settles_at));
        }
        self.watermark = self.watermark.max(watermark);
        let watermark = self.watermark.unwrap_or(i64::MIN);
        for (queue, settled) in self.written.iter_mut().zip(&mut self.settled) {
            while let Some((_, Some(at))) = queue.front() {
                if *at > watermark {
                    break;
                }
                if let Some((position, _)) = queue.pop_front() {
                    settled
                        .get_or_insert_with(ReadPosition::default)
                        .advance(&position);
                }
            }
        }
    }

    /// The input ended and every window closed: all that was read settled.
    pub fn settle_all(&mut self) {
        for (queue, settled) in self.written.iter_mut().zip(&mut self.settled) {
            for (position, _) in queue.drain(..) {
                settled
                    .get_or_insert_with(ReadPosition::default)
                    .advance(&position);
            }
        }
    }

    /// Whether positions are waiting to go back and it is time (or `now`).
    pub fn release_due(&self, now: bool) -> bool {
        self.settled.iter().any(Option::is_some)
            && (now || self.last_release.elapsed() >= RELEASE_INTERVAL)
    }

    /// Sends every settled position to its reader (the sink has handed over
    /// and settled everything written). A full link drops it: the next one
    /// covers it.
    pub fn release(&mut self) {
        for (link, settled) in self.links.iter().zip(&mut self.settled) {
            if let Some(position) = settled.take() {
                link.positions.offer(position);
            }
        }
        self.last_release = Instant::now();
    }

    /// At the end of the run (everything written handed over): sends what
    /// settled last, tells the readers there is nothing more, and waits
    /// until each has made its last commit.
    pub async fn close(self) {
        let mut done = Vec::with_capacity(self.links.len());
        for (link, settled) in self.links.into_iter().zip(self.settled) {
            if let Some(position) = settled {
                // A reader that is gone has nothing to commit with.
                let _ = link.positions.send_anyway(position).await;
            }
            drop(link.positions);
            done.push(link.done);
        }
        // A reader's last commit and close are bounded (10 s and 5 s); this
        // bounds the wait for them too, should one still hang.
        let deadline = Instant::now() + READERS_PATIENCE;
        for mut reader in done {
            let ended = async { while reader.recv_anyway().await.is_some() {} };
            let late = sleep(deadline.saturating_duration_since(Instant::now()));
            futures_lite::future::or(ended, late).await;
        }
    }
}
