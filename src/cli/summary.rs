//! The run summary: printed on standard error and written by `--stats-json`.

use serde::Serialize;
use std::fmt::Write;

/// Per-shard counters, as the summary shows them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ShardSummary {
    pub shard: usize,
    /// The core the shard was pinned to, if pinned.
    pub core: Option<usize>,
    pub records_read: u64,
    pub records_in: u64,
    pub rows_out: u64,
    pub batches: u64,
    pub channel_full_waits: u64,
    pub busy_seconds: f64,
}

/// End-to-end latency percentiles in microseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub count: u64,
}

/// What a run did. `records_read` equals processed + filtered + late + malformed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunSummary {
    pub records_read: u64,
    pub records_processed: u64,
    pub records_filtered: u64,
    pub records_late: u64,
    pub records_malformed: u64,
    pub rows_emitted: u64,
    pub elapsed_seconds: f64,
    pub records_per_second: f64,
    pub runtime: String,
    pub shards: Vec<ShardSummary>,
    pub latency_us: LatencySummary,
    /// True when the run was stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
}

impl RunSummary {
    /// The human-readable summary for standard error.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "corestream: {} records read: {} processed, {} filtered, {} late, {} malformed; {} rows emitted",
            self.records_read,
            self.records_processed,
            self.records_filtered,
            self.records_late,
            self.records_malformed,
            self.rows_emitted
        );
        let _ = writeln!(
            s,
            "corestream: {:.3} s, {:.0} records/s, {} shard(s), runtime {}{}",
            self.elapsed_seconds,
            self.records_per_second,
            self.shards.len().max(1),
            self.runtime,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
        let l = &self.latency_us;
        if l.count > 0 {
            let _ = writeln!(
                s,
                "corestream: latency us: p50 {} p90 {} p99 {} p99.9 {} max {}",
                l.p50, l.p90, l.p99, l.p999, l.max
            );
        }
        if self.shards.len() > 1 {
            for shard in &self.shards {
                let _ = writeln!(
                    s,
                    "corestream:   shard {} core {}: read {} in {} out {} batches {} full-waits {} busy {:.3} s",
                    shard.shard,
                    shard.core.map_or("-".to_string(), |c| c.to_string()),
                    shard.records_read,
                    shard.records_in,
                    shard.rows_out,
                    shard.batches,
                    shard.channel_full_waits,
                    shard.busy_seconds
                );
            }
        }
        s
    }
}
