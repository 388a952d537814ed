//! Run metrics: per-shard counters (returned by each shard when it ends and
//! merged afterwards), the run totals, and the output latency histogram with
//! its HdrHistogram percentile-distribution (`.hgrm`) text.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::engine::EngineStats;

/// Counters of one shard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardStats {
    pub shard: usize,
    /// Records read and parsed from this shard's chunks (malformed included).
    pub records_in: u64,
    pub records_malformed: u64,
    /// Records read but never processed because the run was interrupted
    /// (in flight between shards, or in a batch not yet sent).
    pub records_discarded: u64,
    /// Records a UNION ALL branch's WHERE dropped as they were read (before
    /// the engine saw them): filtered, as the engine's WHERE counts.
    pub filtered_on_read: u64,
    /// Counters of this shard's engine.
    pub engine: EngineStats,
    /// Rows this shard's engine sent to the merger.
    pub rows_out: u64,
    pub batches_sent: u64,
    pub batches_received: u64,
    /// Sends that found their channel full and had to wait.
    pub channel_full_waits: u64,
    /// Input bytes of the chunks this shard finished reading (files).
    pub bytes_read: u64,
    /// Time spent reading, parsing and routing, and inside engine calls.
    pub busy: Duration,
    /// The shard's source stopped before the end of its input.
    pub stopped: bool,
    /// Shared-lock baseline only: write-backs refused because another worker
    /// wrote first (the batch was processed again on a fresh copy).
    pub lock_retries: u64,
}

impl ShardStats {
    pub(crate) fn new(shard: usize) -> Self {
        ShardStats {
            shard,
            ..ShardStats::default()
        }
    }

    /// Adds the counters of another task of the same shard.
    pub(crate) fn absorb(&mut self, other: &ShardStats) {
        self.records_in += other.records_in;
        self.records_malformed += other.records_malformed;
        self.records_discarded += other.records_discarded;
        self.filtered_on_read += other.filtered_on_read;
        self.engine.records_in += other.engine.records_in;
        self.engine.processed += other.engine.processed;
        self.engine.filtered += other.engine.filtered;
        self.engine.late += other.engine.late;
        self.engine.rows_emitted += other.engine.rows_emitted;
        self.rows_out += other.rows_out;
        self.batches_sent += other.batches_sent;
        self.batches_received += other.batches_received;
        self.channel_full_waits += other.channel_full_waits;
        self.bytes_read += other.bytes_read;
        self.busy += other.busy;
        self.stopped |= other.stopped;
        self.lock_retries += other.lock_retries;
    }
}

/// The result of a run: totals, per-shard counters and output latency.
#[derive(Clone)]
pub struct RunReport {
    pub shards: Vec<ShardStats>,
    pub records_read: u64,
    pub records_malformed: u64,
    /// Read but not processed: in flight when the run was interrupted.
    pub records_discarded: u64,
    pub records_processed: u64,
    pub records_filtered: u64,
    pub records_late: u64,
    /// Rows written to the sink (after LIMIT).
    pub rows_emitted: u64,
    pub elapsed_seconds: f64,
    pub records_per_second: f64,
    /// True when the run ended early: a stop request, or LIMIT reached.
    pub stopped_early: bool,
    /// The signal (SIGINT, SIGTERM) that interrupted the run, if one did.
    pub interrupted_by: Option<i32>,
    /// Windows (per key) and groups still open when the run was interrupted.
    pub open_windows_at_interrupt: u64,
    /// Rows of those windows written after the prefix (`--on-interrupt emit`).
    pub rows_after_interrupt: u64,
    /// Microseconds from the read of the record that caused a row to the
    /// moment the row was handed to the operating system.
    pub latency: Histogram<u64>,
}

/// Everything but the histogram's buckets (its percentiles instead).
impl std::fmt::Debug for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunReport")
            .field("records_read", &self.records_read)
            .field("records_processed", &self.records_processed)
            .field("records_filtered", &self.records_filtered)
            .field("records_late", &self.records_late)
            .field("records_malformed", &self.records_malformed)
            .field("records_discarded", &self.records_discarded)
            .field("rows_emitted", &self.rows_emitted)
            .field("stopped_early", &self.stopped_early)
            .field("interrupted_by", &self.interrupted_by)
            .field("open_windows_at_interrupt", &self.open_windows_at_interrupt)
            .field(
                "latency_p50_p99_us",
                &(self.latency_p50_us(), self.latency_p99_us()),
            )
            .field("shards", &self.shards)
            .finish()
    }
}

impl RunReport {
    pub(crate) fn new(
        shards: Vec<ShardStats>,
        rows_emitted: u64,
        elapsed: Duration,
        stopped_early: bool,
        latency: Histogram<u64>,
    ) -> Self {
        let sum = |f: fn(&ShardStats) -> u64| shards.iter().map(f).sum::<u64>();
        let records_read = sum(|s| s.records_in);
        let elapsed_seconds = elapsed.as_secs_f64();
        RunReport {
            records_read,
            records_malformed: sum(|s| s.records_malformed),
            records_discarded: sum(|s| s.records_discarded),
            records_processed: sum(|s| s.engine.processed),
            records_filtered: sum(|s| s.engine.filtered + s.filtered_on_read),
            records_late: sum(|s| s.engine.late),
            rows_emitted,
            elapsed_seconds,
            records_per_second: if elapsed_seconds > 0.0 {
                records_read as f64 / elapsed_seconds
            } else {
                0.0
            },
            stopped_early,
            interrupted_by: None,
            open_windows_at_interrupt: 0,
            rows_after_interrupt: 0,
            latency,
            shards,
        }
    }

    /// `records_read == processed + filtered + late + malformed + discarded`.
    pub fn accounts_for_every_record(&self) -> bool {
        self.records_read
            == self.records_processed
                + self.records_filtered
                + self.records_late
                + self.records_malformed
                + self.records_discarded
    }

    pub fn latency_p50_us(&self) -> u64 {
        self.latency.value_at_quantile(0.5)
    }
    pub fn latency_p90_us(&self) -> u64 {
        self.latency.value_at_quantile(0.9)
    }
    pub fn latency_p99_us(&self) -> u64 {
        self.latency.value_at_quantile(0.99)
    }
    pub fn latency_p999_us(&self) -> u64 {
        self.latency.value_at_quantile(0.999)
    }
    pub fn latency_max_us(&self) -> u64 {
        self.latency.max()
    }

    /// The latency distribution as HdrHistogram percentile text (`.hgrm`),
    /// values in milliseconds.
    pub fn latency_hgrm(&self) -> String {
        percentile_distribution(&self.latency, 1000.0)
    }
}

/// A latency histogram in microseconds (1 µs to 1 hour, 3 significant digits).
pub(crate) fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

/// Writes `histogram` the way HdrHistogram's `outputPercentileDistribution`
/// does (5 percentile ticks per half distance), dividing values by `scale`
/// (1000.0 turns microseconds into milliseconds).
pub fn percentile_distribution(histogram: &Histogram<u64>, scale: f64) -> String {
    let mut text = String::new();
    let _ = write!(
        text,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !histogram.is_empty() {
        for step in histogram.iter_quantiles(5) {
            total += step.count_since_last_iteration();
            let value = step.value_iterated_to() as f64 / scale;
            let quantile = step.quantile_iterated_to();
            if quantile < 1.0 {
                let _ = writeln!(
                    text,
                    "{value:>12.3} {quantile:>2.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - quantile)
                );
            } else {
                let _ = writeln!(text, "{value:>12.3} {quantile:>2.12} {total:>10}");
            }
        }
    }
    let (mean, stdev, max) = if histogram.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            histogram.mean() / scale,
            histogram.stdev() / scale,
            histogram.max() as f64 / scale,
        )
    };
    let _ = writeln!(
        text,
        "#[Mean    = {mean:>12.3}, StdDeviation   = {stdev:>12.3}]"
    );
    let _ = writeln!(
        text,
        "#[Max     = {max:>12.3}, Total count    = {:>12}]",
        histogram.len()
    );
    let _ = writeln!(
        text,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        histogram.buckets(),
        sub_bucket_count(histogram.sigfig())
    );
    text
}

/// HdrHistogram's sub-bucket count for a precision: the power of two at or
/// above `2 * 10^sigfig`.
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}
