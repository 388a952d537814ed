//! IO: sources and sinks.
//!
//! Owns reading records from CSV and JSON-lines files, pipes, standard input,
//! followed files and the built-in generators, cutting inputs into splits
//! (byte ranges aligned to record starts, id ranges), inferring a schema from a
//! file, writing output rows (JSON lines, CSV, blackhole) and the dead-letter
//! file, and reading and writing Kafka topics ([`kafka`]). It knows nothing of
//! shards: a split is just a range.
//!
//! Entry points: [`SourceConfig::from_table`] checks a source's WITH
//! properties (documented in [`properties`]) and [`check_table`] its declared
//! columns; [`infer_table`] builds a table from a file when there is no DDL;
//! [`plan_chunks`] opens a table's input once and [`ChunkPlan::open`] gives one
//! [`BatchSource`] per chunk ([`open_source`]: one for the whole input), with
//! a shard's [`SourceState`] carried from each chunk's reader to the next;
//! [`open_sink`] and [`DeadLetterWriter`] write.

mod bind;
mod convert;
mod csv;
mod dead_letter;
pub mod follow;
mod generator;
mod infer;
mod input;
mod jsonl;
pub mod kafka;
pub mod nexmark;
mod open;
pub mod properties;
mod records;
mod sink;
mod source;
mod split;
mod state;
mod table;

pub use csv::CsvSource;
pub use dead_letter::{DeadLetterWriter, Missed};
pub use generator::{trades_schema, TradesGenerator, TRADES_BASE_TIME_MS};
pub use infer::{infer_schema, infer_table, SAMPLE_ROWS};
pub use input::{FileReader, SharedFile, StreamInput};
pub use jsonl::JsonlSource;
pub use open::{
    check_table, commit_chunks, open_source, pacing_rate, plan_chunks, ChunkPlan, SplitSpec,
};
pub use properties::{
    Connector, CsvOptions, FileConfig, FileFormat, Location, SourceConfig, TradesConfig,
    SOURCE_KEYS,
};
pub use records::DEFAULT_MAX_RECORD_BYTES;
pub use sink::{
    is_broken_pipe, open_sink, BlackholeSink, CsvRows, DebeziumJson, Flushed, FormattedSink,
    JsonLines, OutputFile, OutputFormat, RowFormat, RowSink, SINK_BUFFER_BYTES, STDOUT_LABEL,
};
pub use source::{BatchSource, Malformed, ReadPosition, RecordOrigin, StreamSharing};
pub use split::{read_csv_header, split_file, ByteRange, CsvHeader, RecordSyntax};
pub use state::SourceState;
pub use table::{line_at, place, read_table};
