//! IO: sources and sinks.
//!
//! Owns reading records from CSV and JSON-lines files, standard input and the
//! built-in generators, cutting inputs into splits (byte ranges aligned to line
//! starts, id ranges), inferring a schema from a file, writing output rows
//! (JSON lines, CSV, blackhole) and the dead-letter file. It knows nothing of
//! shards: a split is just a range.

pub mod nexmark;
mod source;

pub use source::{BatchSource, Malformed};

use crate::error::Result;
use crate::plan::TableDef;

/// Placeholder until io lands: infers a table's schema from its file.
pub fn infer_table(_name: &str, _properties: &[(String, String)]) -> Result<TableDef> {
    todo!("schema inference")
}
