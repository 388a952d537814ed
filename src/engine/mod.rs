//! Engine: the single-partition streaming query engine.
//!
//! Owns [`PartitionEngine`]: plain synchronous, single-threaded operators,
//! expression evaluation, aggregate and window state, and watermark handling.
//! It does no I/O, spawns nothing, takes no lock, and does not know how many
//! partitions exist, so any runtime can drive it.

mod aggregate;
mod cast;
mod changelog;
mod compiled;
mod datetime;
mod eval;
mod exact_sum;
mod footprint;
mod functions;
mod group_table;
mod grouped;
mod lookup;
mod over;
mod partition;
mod pre_aggregate;
mod route;
mod stream_join;
mod top_n;
mod union;
mod window;

#[cfg(test)]
mod test_plans;

pub use aggregate::Aggregates;
pub use cast::{cast_value, conform};
pub use eval::{eval, is_true, like_match, sql_cmp};
pub use functions::date_format;
pub use lookup::{DuplicateKey, JoinScratch, LookupTable, Lookups};
pub use partition::{EngineStats, LateRecord, Output, OutputRow, PartitionEngine, RowOrder};
pub use pre_aggregate::{PartialGroups, PreAggregator};
pub use route::{event_time, time_value, KeyRouter};
pub use top_n::{TiesRanker, TopNOperator};
pub use union::BranchStep;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod group_table_tests;
#[cfg(test)]
mod nesting_tests;
#[cfg(test)]
mod over_tests;
#[cfg(test)]
mod state_bytes_tests;
