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
}
