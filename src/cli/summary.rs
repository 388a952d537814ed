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

/// What a run did. `records_read` equals processed + filtered + late +
/// malformed + discarded (the last only after an interrupt).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunSummary {
    pub records_read: u64,
    pub records_processed: u64,
    pub records_filtered: u64,
    pub records_late: u64,
    pub records_malformed: u64,
    /// Read but not processed: in flight between shards when the run was interrupted.
    pub records_discarded: u64,
    pub rows_emitted: u64,
    pub elapsed_seconds: f64,
    pub records_per_second: f64,
    pub runtime: String,
    pub shards: Vec<ShardSummary>,
    pub latency_us: LatencySummary,
    /// True when the run was stopped by Ctrl-C or SIGTERM: the output is then
    /// an exact prefix of the uninterrupted run's output (plus, with
    /// `--on-interrupt emit`, the open windows as they stood).
    pub interrupted: bool,
    /// The signal that interrupted the run (`SIGINT`, `SIGTERM`).
    pub signal: Option<String>,
    /// Windows (per key) and groups still open at the interrupt.
    pub open_windows_at_interrupt: u64,
    /// True when those were emitted (partial), false when dropped.
    pub open_windows_emitted: bool,
    /// Rows written for them.
    pub rows_after_interrupt: u64,
}

impl RunSummary {
    /// The human-readable summary for standard error.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "corestream: {} records read: {} processed, {} filtered, {} late, {} malformed{}; {} rows emitted",
            self.records_read,
            self.records_processed,
            self.records_filtered,
            self.records_late,
            self.records_malformed,
            if self.records_discarded > 0 {
                format!(", {} discarded at the interrupt", self.records_discarded)
            } else {
                String::new()
            },
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
        if self.interrupted {
            let _ = writeln!(
                s,
                "corestream: interrupted by {}: output is an exact prefix; {} open window(s) {}",
                self.signal.as_deref().unwrap_or("a signal"),
                self.open_windows_at_interrupt,
                if self.open_windows_emitted {
                    format!("emitted as they stood ({} rows)", self.rows_after_interrupt)
                } else {
                    "dropped".to_string()
                }
            );
        }
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
