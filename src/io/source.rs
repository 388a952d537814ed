//! The source contract (implementation in progress).

use crate::data::Batch;
use crate::error::Result;

/// A record that could not be read as a row of the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    /// The source's name (the table name).
    pub source: String,
    /// 1-based line number in the file or stream, when known.
    pub line: Option<u64>,
    /// Position (byte offset / event number), as rows carry it.
    pub position: u64,
    pub reason: String,
    /// The raw text of the record (lossy UTF-8), for the dead-letter file.
    pub raw: String,
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
}
