//! Engine: the single-partition streaming query engine.
//!
//! Owns [`PartitionEngine`]: plain synchronous, single-threaded operators,
//! expression evaluation, aggregate and window state, and watermark handling.
//! It does no I/O, spawns nothing, takes no lock, and does not know how many
//! partitions exist, so any runtime can drive it.

mod partition;

pub use partition::{EngineStats, LateRecord, Output, OutputRow, PartitionEngine, RowOrder};
