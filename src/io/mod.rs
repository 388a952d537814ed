//! IO: sources and sinks.
//!
//! Owns reading records from CSV and JSON-lines files, standard input and the
//! built-in generators, cutting inputs into splits (byte ranges aligned to line
//! starts, id ranges), inferring a schema from a file, writing output rows
//! (JSON lines, CSV, blackhole) and the dead-letter file. It knows nothing of
//! shards: a split is just a range.

mod convert;
mod csv;
mod properties;
mod records;
mod source;
mod split;

pub use csv::CsvSource;
pub use properties::{
    Connector, CsvOptions, FileConfig, FileFormat, Location, SourceConfig, TradesConfig,
    SOURCE_KEYS,
};
pub use source::{BatchSource, Malformed};
pub use split::{read_csv_header, split_file, ByteRange, CsvHeader};
