//! The source contract: [`BatchSource`] yields typed rows in batches and
//! reports records it cannot read as [`Malformed`].

use super::SourceState;
use crate::data::Batch;
use crate::error::Result;
use std::time::Duration;

/// A record that could not be read as a row of the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    /// The source's name (the table name).
    pub source: String,
    /// 1-based line number in the file or stream, when known. A split that
    /// does not start at the beginning of the file cannot know it (see
    /// `line_in_split`).
    pub line: Option<u64>,
    /// 1-based line number counted from the first line of the split that read
    /// the record (for a whole file or stream, equal to `line`); `None` for
    /// generators. With [`BatchSource::lines_read`] of the splits before it,
    /// the runtime can turn it into a file line number.
    pub line_in_split: Option<u64>,
    /// Position (byte offset / event number), as rows carry it.
    pub position: u64,
    pub reason: String,
    /// The raw text of the record (lossy UTF-8), for the dead-letter file.
    pub raw: String,
    /// Where a message came from (Kafka), when the source has no lines.
    pub origin: Option<RecordOrigin>,
}

/// A Kafka message's place: topic, partition and offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOrigin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Something that yields typed rows in batches.
pub trait BatchSource {
    /// Appends up to `max_rows` rows to `batch`, and malformed records to
    /// `malformed`. Returns `Ok(false)` once the input is exhausted (it may
    /// still have appended rows in that call).
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool>;

    /// For paced sources (a generator with a `rate`): how long after the
    /// start of the run the next record is due. `None` when the source is
    /// not paced or is exhausted. The source never sleeps itself; the runtime
    /// waits until then.
    fn scheduled_offset(&self) -> Option<Duration> {
        None
    }

    /// For paced sources: how many more records are due by `elapsed` since
    /// the start of the run (pass `min(max_rows, due_rows(elapsed))` to
    /// [`BatchSource::fill`]). Unpaced sources answer `usize::MAX`.
    fn due_rows(&self, _elapsed: Duration) -> usize {
        usize::MAX
    }

    /// For line-based sources: the number of lines that start in this split
    /// and have been read so far (after exhaustion: all of them). The first
    /// line of the next split is the first line of this one plus this count.
    fn lines_read(&self) -> Option<u64> {
        None
    }

    /// Ends this reader, giving what it built and the next chunk's reader of
    /// the same source can reuse (its pools, parsers and interners) to
    /// `state`. The default keeps nothing.
    fn save_state(self: Box<Self>, _state: &mut SourceState) {}

    /// For replayable sources (Kafka): how far the records handed out so far
    /// reach, to be committed once their effects are in the output.
    fn position(&self) -> Option<ReadPosition> {
        None
    }

    /// Records that everything before `position` is in the output (a Kafka
    /// source commits it for its consumer group). The default keeps nothing.
    fn commit(&mut self, _position: &ReadPosition) -> Result<()> {
        Ok(())
    }

    /// Whether the broker holds `position` (or later) as committed: what a
    /// reader checks before it ends (asks with a bounded wait).
    fn holds_commit(&self, _position: &ReadPosition) -> bool {
        true
    }

    /// For sources whose partitions each keep their own order (Kafka): the
    /// smallest, over the partitions it reads that are not idle, of the
    /// largest event time read from each. `Some(i64::MAX)` when every one
    /// is idle (it holds nothing back); `None` while one has given nothing
    /// yet (it holds the watermark back), and for other sources.
    fn event_time_frontier(&self) -> Option<i64> {
        None
    }
}

/// How a source read as one live stream per reader (Kafka) is shared among
/// the readers, and what its readers need to keep per-partition time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSharing {
    pub readers: usize,
    /// The source column holding event time, if the query has one.
    pub event_time_column: Option<usize>,
    /// A partition without a record for this long holds no watermark back.
    pub idle_timeout: Option<Duration>,
}

impl Default for StreamSharing {
    fn default() -> Self {
        StreamSharing {
            readers: 1,
            event_time_column: None,
            idle_timeout: None,
        }
    }
}

/// How far a replayable source has read: for each Kafka partition, the
/// offset of the next record (what a consumer group commits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadPosition {
    /// `(partition, next offset)`, one entry per partition.
    pub partitions: Vec<(i32, i64)>,
}

impl ReadPosition {
    /// Takes the later offset of every partition `other` names.
    pub fn advance(&mut self, other: &ReadPosition) {
        for &(partition, next) in &other.partitions {
            self.note(partition, next);
        }
    }

    /// Records that `partition` was read up to (not including) `next`.
    pub fn note(&mut self, partition: i32, next: i64) {
        match self.partitions.iter_mut().find(|(p, _)| *p == partition) {
            Some(entry) => entry.1 = entry.1.max(next),
            None => self.partitions.push((partition, next)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }
}
