//! Live counters of a running query: the merger gathers the shards' progress
//! messages and sends a [`LiveSnapshot`] to whoever watches the run (the
//! progress bar, the metrics endpoint) every `snapshot_interval`. The runtime
//! never waits on the watcher: a snapshot the watcher has not taken yet is
//! replaced by the next one (nothing is shared; snapshots are moved).

use std::time::Duration;

use hdrhistogram::Histogram;

/// One shard's counters so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveShard {
    pub shard: usize,
    /// Records this shard's sources read (malformed included).
    pub records_read: u64,
    /// Records that reached this shard's engine.
    pub records_in: u64,
    /// Time spent reading, parsing, routing and inside engine calls.
    pub busy: Duration,
    /// Sends that found their channel full and had to wait.
    pub channel_full_waits: u64,
    /// This shard's event-time watermark (ms since the epoch), once it has one.
    pub watermark_ms: Option<i64>,
}

/// The whole run's counters so far.
#[derive(Debug, Clone)]
pub struct LiveSnapshot {
    /// Since the run started.
    pub elapsed: Duration,
    pub records_read: u64,
    pub records_processed: u64,
    pub records_filtered: u64,
    pub records_late: u64,
    pub records_malformed: u64,
    /// Rows handed to the operating system by the sink.
    pub rows_emitted: u64,
    /// Input bytes read so far and in all (files; `None` for other inputs).
    pub bytes_read: u64,
    pub bytes_total: Option<u64>,
    /// Generator events in all (`None` for other inputs).
    pub events_total: Option<u64>,
    /// The input has no end (standard input, a followed file, an unbounded generator).
    pub unbounded: bool,
    pub shards: Vec<LiveShard>,
    /// Sink latency so far (microseconds; see `RunReport::latency`).
    pub latency: Histogram<u64>,
}
