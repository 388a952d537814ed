//! IO: sources and sinks.
//!
//! Owns reading records from CSV and JSON-lines files, standard input and the
//! built-in generators, cutting inputs into splits (byte ranges aligned to record
//! starts, id ranges), inferring a schema from a file, writing output rows
//! (JSON lines, CSV, blackhole) and the dead-letter file. It knows nothing of
//! shards: a split is just a range.
//!
//! Entry points: [`SourceConfig::from_table`] checks a source's WITH
//! properties (documented in [`properties`]); [`infer_table`] builds a table
//! from a file when there is no DDL; [`plan_chunks`] and [`open_source`] give
//! one [`BatchSource`] per split; [`open_sink`] and [`DeadLetterWriter`] write.

mod convert;
mod csv;
mod dead_letter;
mod generator;
mod infer;
mod jsonl;
pub mod nexmark;
mod open;
pub mod properties;
mod records;
mod sink;
mod source;
mod split;

pub use csv::CsvSource;
pub use dead_letter::DeadLetterWriter;
pub use generator::{trades_schema, TradesGenerator, TRADES_BASE_TIME_MS};
pub use infer::{infer_schema, infer_table, SAMPLE_ROWS};
pub use jsonl::JsonlSource;
pub use open::{lines_before_data, open_source, pacing_rate, plan_chunks, ChunkPlan, SplitSpec};
pub use properties::{
    Connector, CsvOptions, FileConfig, FileFormat, Location, SourceConfig, TradesConfig,
    SOURCE_KEYS,
};
pub use records::DEFAULT_MAX_RECORD_BYTES;
pub use sink::{
    is_broken_pipe, open_sink, BlackholeSink, CsvSink, JsonlSink, OutputFormat, RowSink,
    STDOUT_LABEL,
};
pub use source::{BatchSource, Malformed};
pub use split::{read_csv_header, split_file, ByteRange, CsvHeader, RecordSyntax};
