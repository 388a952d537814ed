//! Runtime settings: shard count, core placement, batch and chunk sizes, and
//! the limit on the query's state.

use std::time::Duration;

use super::exec::ExecutorKind;
use crate::error::{Error, Result};

/// What an interrupted run does with the windows (and groups) still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnInterrupt {
    /// Drop them: the output is an exact prefix of the uninterrupted output.
    #[default]
    Drop,
    /// Close and write them after that prefix, as they stand (partial).
    Emit,
}

/// How a run is spread over cores and cut into batches and chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Number of shards (executors running a source and an engine each).
    pub shards: usize,
    /// Cores to pin shards to, in order (wrapping round-robin); `None`: all cores.
    pub cores: Option<Vec<usize>>,
    /// Pin each executor to one core (`false`: `--no-pin`).
    pub pin: bool,
    /// Rows per batch sent between shards.
    pub batch_rows: usize,
    /// Capacity, in messages (batches), of every channel.
    pub channel_capacity: usize,
    /// A partly filled batch is sent on after this long (slow input).
    pub flush_interval: Duration,
    /// The longest a row written by the merger waits in the sink's buffer.
    pub output_flush_interval: Duration,
    /// A stream idle this long moves its watermark on with the wall clock.
    pub idle_timeout: Option<Duration>,
    /// What an interrupted run does with its open windows.
    pub on_interrupt: OnInterrupt,
    /// The executor backend.
    pub executor: ExecutorKind,
    /// Bytes per chunk of a file.
    pub chunk_bytes: u64,
    /// Events per chunk of a generator.
    pub chunk_events: u64,
    /// The most bytes the query's state may hold (summed over shards, as
    /// [`crate::engine::PartitionEngine::state_bytes`] estimates it); `None`: no limit.
    pub max_state_bytes: Option<u64>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            shards: 1,
            cores: None,
            pin: true,
            batch_rows: 1024,
            channel_capacity: 64,
            flush_interval: Duration::from_millis(1),
            output_flush_interval: Duration::from_millis(5),
            idle_timeout: None,
            on_interrupt: OnInterrupt::Drop,
            executor: ExecutorKind::Glommio,
            chunk_bytes: 1 << 20,
            chunk_events: 65536,
            max_state_bytes: None,
        }
    }
}

/// The error that ends a run whose state outgrew `--max-state-bytes`.
pub(crate) fn state_limit_error(held: u64, limit: u64, state: Option<&str>) -> Error {
    let advice = match state {
        Some(state) if state.starts_with(crate::plan::JOIN_STATE) => {
            "raise the limit, join fewer rows, or bound the join in time (an interval join: \
             ON .. AND b.ts BETWEEN a.ts AND a.ts + INTERVAL ..)"
        }
        Some(state) if state.starts_with(crate::plan::INTERVAL_JOIN_STATE) => {
            "raise the limit, or narrow the join's interval"
        }
        _ => "raise the limit, add a window (or shorten it), or group by fewer distinct keys",
    };
    Error::Runtime(format!(
        "the query's state ({}) grew to {held} bytes ({}), over --max-state-bytes {limit} ({}): \
         {advice}",
        state.unwrap_or("no state"),
        bytesize::ByteSize(held).display().iec(),
        bytesize::ByteSize(limit).display().iec(),
    ))
}

impl RuntimeConfig {
    /// A default configuration with `shards` shards.
    pub fn with_shards(shards: usize) -> Self {
        RuntimeConfig {
            shards,
            ..RuntimeConfig::default()
        }
    }

    /// Rejects settings the runtime cannot run with.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("shards", self.shards as u64),
            ("batch rows", self.batch_rows as u64),
            ("channel capacity", self.channel_capacity as u64),
            ("chunk bytes", self.chunk_bytes),
            ("chunk events", self.chunk_events),
            ("max state bytes", self.max_state_bytes.unwrap_or(1)),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::Usage(format!("{name} must be at least 1")));
            }
        }
        if matches!(&self.cores, Some(c) if c.is_empty()) {
            return Err(Error::Usage("the core list is empty".into()));
        }
        Ok(())
    }
}

/// Parses a core list such as `0-3,8` into `[0, 1, 2, 3, 8]` (in the order
/// given, duplicates kept out).
pub fn parse_core_list(text: &str) -> Result<Vec<usize>> {
    let mut cores = Vec::new();
    for part in text.split(',').map(str::trim) {
        for core in parse_core_range(part, text)? {
            if !cores.contains(&core) {
                cores.push(core);
            }
        }
    }
    Ok(cores)
}

fn parse_core_range(part: &str, whole: &str) -> Result<std::ops::RangeInclusive<usize>> {
    let bad = |why: &str| Error::Usage(format!("bad core list '{whole}': {why}"));
    if part.is_empty() {
        return Err(bad("empty entry"));
    }
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| bad(&format!("'{}' is not a core number", s.trim())))
    };
    match part.split_once('-') {
        None => {
            let core = number(part)?;
            Ok(core..=core)
        }
        Some((first, last)) => {
            let (first, last) = (number(first)?, number(last)?);
            if first > last {
                return Err(bad(&format!("range {first}-{last} runs backwards")));
            }
            Ok(first..=last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_limit_is_off_by_default_and_must_be_positive() {
        assert_eq!(RuntimeConfig::default().max_state_bytes, None);
        let zero = RuntimeConfig {
            max_state_bytes: Some(0),
            ..RuntimeConfig::default()
        };
        let err = zero.validate().unwrap_err().to_string();
        assert!(err.contains("max state bytes"), "{err}");
        let limited = RuntimeConfig {
            max_state_bytes: Some(1 << 20),
            ..RuntimeConfig::default()
        };
        assert!(limited.validate().is_ok());
    }
}
