//! Opening sources: [`plan_chunks`] cuts a table's input into ordered chunks
//! (byte ranges of a file, event ranges of a generator) and [`open_source`] opens
//! a reader for one split.

use super::csv::CsvSource;
use super::generator::TradesGenerator;
use super::jsonl::JsonlSource;
use super::nexmark::NexmarkSource;
use super::properties::{Connector, FileConfig, FileFormat, Location, SourceConfig};
use super::split::{read_csv_header, split_file, ByteRange, RecordSyntax};
use super::BatchSource;
use crate::error::{Error, Result};
use crate::plan::TableDef;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The part of a source one reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitSpec {
    /// All of it (the only split of standard input).
    Whole,
    /// The lines of a file that start in this range.
    FileRange(ByteRange),
    /// Generator events `first, first + stride, ...` below `last`.
    /// [`plan_splits`] interleaves (split k of n: `first = k, stride = n`) so
    /// that every split's event time advances at the same pace.
    Events { first: u64, last: u64, stride: u64 },
}

/// A reader of the records of `split` of `table`.
pub fn open_source(table: &TableDef, split: &SplitSpec) -> Result<Box<dyn BatchSource + Send>> {
    let config = SourceConfig::from_table(table)?;
    match (&config.connector, split) {
        (Connector::Trades(trades), SplitSpec::Whole) => Ok(Box::new(
            TradesGenerator::with_schema(&table.name, &table.schema, trades, 0, trades.events, 1)?,
        )),
        (
            Connector::Trades(trades),
            SplitSpec::Events {
                first,
                last,
                stride,
            },
        ) => Ok(Box::new(TradesGenerator::with_schema(
            &table.name,
            &table.schema,
            trades,
            *first,
            *last,
            *stride,
        )?)),
        (Connector::Nexmark(kind, config), SplitSpec::Whole) => Ok(Box::new(NexmarkSource::new(
            *kind,
            config,
            0..config.events,
        ))),
        (
            Connector::Nexmark(kind, config),
            SplitSpec::Events {
                first,
                last,
                stride: 1,
            },
        ) => Ok(Box::new(NexmarkSource::new(*kind, config, *first..*last))),
        (Connector::File(file), SplitSpec::Whole) => open_whole(table, file),
        (Connector::File(file), SplitSpec::FileRange(range)) => open_range(table, file, *range),
        _ => Err(Error::Runtime(format!(
            "source '{}': split {split:?} does not fit its connector",
            table.name
        ))),
    }
}

fn check_schema(table: &TableDef) -> Result<()> {
    if table.schema.is_empty() {
        return Err(Error::Usage(format!(
            "source '{}' has no columns: declare them with CREATE TABLE or let them be inferred",
            table.name
        )));
    }
    Ok(())
}

fn open_whole(table: &TableDef, file: &FileConfig) -> Result<Box<dyn BatchSource + Send>> {
    check_schema(table)?;
    let label = file.location.label();
    match &file.location {
        Location::Stdin => open_stream(table, file, std::io::stdin(), &label),
        Location::Path(path) => {
            let input = File::open(path).map_err(|e| Error::io(label.clone(), e))?;
            open_stream(table, file, input, &label)
        }
    }
}

/// A reader of all of `input` in `file`'s format.
fn open_stream(
    table: &TableDef,
    file: &FileConfig,
    input: impl Read + Send + 'static,
    label: &str,
) -> Result<Box<dyn BatchSource + Send>> {
    let (name, schema) = (table.name.as_str(), &table.schema);
    Ok(match file.format {
        FileFormat::Csv => Box::new(
            CsvSource::new(name, schema, input, label, file.csv)?
                .with_max_record_bytes(file.max_record_bytes),
        ),
        FileFormat::Jsonl => Box::new(
            JsonlSource::new(name, schema, input, label)
                .with_max_record_bytes(file.max_record_bytes),
        ),
    })
}

fn open_range(
    table: &TableDef,
    file: &FileConfig,
    range: ByteRange,
) -> Result<Box<dyn BatchSource + Send>> {
    check_schema(table)?;
    let Location::Path(path) = &file.location else {
        return Err(Error::Runtime(format!(
            "source '{}': standard input cannot be read by byte range",
            table.name
        )));
    };
    let (name, schema) = (table.name.as_str(), &table.schema);
    Ok(match file.format {
        FileFormat::Csv => Box::new(
            CsvSource::open_range(name, schema, path, range, file.csv, None)?
                .with_max_record_bytes(file.max_record_bytes),
        ),
        FileFormat::Jsonl => Box::new(
            JsonlSource::open_range(name, schema, path, range)?
                .with_max_record_bytes(file.max_record_bytes),
        ),
    })
}

/// A table's input cut into an ordered list of chunks. Concatenating the
/// chunks in order gives the whole input.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkPlan {
    /// Byte ranges of a file, aligned to record starts, after its CSV header.
    File(Vec<SplitSpec>),
    /// Contiguous event ranges of a generator, computed on demand (a paced
    /// generator may have millions of tiny chunks).
    Events { events: u64, per_chunk: u64 },
    /// Standard input: one stream.
    Stream,
}

impl ChunkPlan {
    pub fn len(&self) -> usize {
        match self {
            ChunkPlan::File(chunks) => chunks.len(),
            ChunkPlan::Events { events, per_chunk } => {
                usize::try_from(events.div_ceil(*per_chunk)).unwrap_or(usize::MAX)
            }
            ChunkPlan::Stream => 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The split that chunk `index` reads (`Whole` for the stream).
    pub fn chunk(&self, index: usize) -> SplitSpec {
        match self {
            ChunkPlan::File(chunks) => chunks.get(index).copied().unwrap_or(SplitSpec::Whole),
            ChunkPlan::Events { events, per_chunk } => {
                let first = (index as u64).saturating_mul(*per_chunk).min(*events);
                SplitSpec::Events {
                    first,
                    last: first.saturating_add(*per_chunk).min(*events),
                    stride: 1,
                }
            }
            ChunkPlan::Stream => SplitSpec::Whole,
        }
    }
}

/// Cuts a table's input into chunks: byte ranges of about `chunk_bytes`
/// aligned to record starts for a file (after its CSV header), contiguous event
/// ranges of `chunk_events` for a generator, one stream for standard input.
pub fn plan_chunks(table: &TableDef, chunk_bytes: u64, chunk_events: u64) -> Result<ChunkPlan> {
    let config = SourceConfig::from_table(table)?;
    let per_chunk = chunk_events.max(1);
    match &config.connector {
        Connector::Trades(trades) => Ok(ChunkPlan::Events {
            events: trades.events,
            per_chunk,
        }),
        Connector::Nexmark(_, nexmark) => Ok(ChunkPlan::Events {
            events: nexmark.events,
            per_chunk,
        }),
        Connector::File(file) => match &file.location {
            Location::Stdin => Ok(ChunkPlan::Stream),
            Location::Path(path) => Ok(ChunkPlan::File(file_chunks(path, file, chunk_bytes)?)),
        },
    }
}

fn file_chunks(path: &Path, file: &FileConfig, chunk_bytes: u64) -> Result<Vec<SplitSpec>> {
    let header = match file.format {
        FileFormat::Csv if file.csv.header => Some(read_csv_header(path, file.csv.delimiter)?),
        _ => None,
    };
    let syntax = match file.format {
        FileFormat::Csv => RecordSyntax::Csv {
            delimiter: file.csv.delimiter,
            max_record_bytes: file.max_record_bytes,
        },
        FileFormat::Jsonl => RecordSyntax::Lines,
    };
    Ok(
        split_file(path, chunk_bytes.max(1), header.as_ref(), syntax)?
            .into_iter()
            .map(SplitSpec::FileRange)
            .collect(),
    )
}

/// Wall-clock events per second of a paced generator (`rate`), if paced.
pub fn pacing_rate(table: &TableDef) -> Result<Option<f64>> {
    Ok(match SourceConfig::from_table(table)?.connector {
        Connector::Trades(trades) => trades.rate,
        Connector::Nexmark(_, config) => config.pacing_rate.map(|r| r as f64),
        Connector::File(_) => None,
    })
}

/// Lines before the first record of a file source (its CSV header), so that
/// line numbers counted per chunk can be made absolute. 0 for other sources.
pub fn lines_before_data(table: &TableDef) -> Result<u64> {
    let config = SourceConfig::from_table(table)?;
    match &config.connector {
        Connector::File(FileConfig {
            location: Location::Path(path),
            format: FileFormat::Csv,
            csv,
            ..
        }) if csv.header => Ok(read_csv_header(path, csv.delimiter)?.lines),
        _ => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Batch, DataType, Field, Schema};
    use std::io::Write;

    fn table(schema: Schema, props: &[(&str, &str)]) -> TableDef {
        TableDef {
            name: "t".into(),
            schema,
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn read(table: &TableDef, split: &SplitSpec) -> Batch {
        let mut src = open_source(table, split).unwrap();
        let mut batch = Batch::new(table.schema.len());
        while src.fill(&mut batch, &mut Vec::new(), 100).unwrap() {}
        batch
    }

    #[test]
    fn file_splits_read_what_the_whole_file_holds() {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(b"b,a\n1,x\n2,y\n3,z\n4,w\n5,v\n").unwrap();
        let schema = Schema::new(vec![
            Field::new("a", DataType::Varchar),
            Field::new("b", DataType::BigInt),
        ]);
        let t = table(schema, &[("path", f.path().to_str().unwrap())]);
        let whole = read(&t, &SplitSpec::Whole);
        assert_eq!(whole.len(), 5);
        // 20 data bytes after a 4-byte header, lines every 4 bytes; chunks of
        // about 6 bytes are cut at the next line start: [4,12), [12,20), [20,24).
        let plan = plan_chunks(&t, 6, 1).unwrap();
        assert_eq!(plan.len(), 3);
        let splits: Vec<SplitSpec> = (0..plan.len()).map(|i| plan.chunk(i)).collect();
        assert_eq!(lines_before_data(&t).unwrap(), 1);
        let mut joined = Batch::new(2);
        for split in &splits {
            for (row, pos) in read(&t, split).rows() {
                joined.push_row(row, pos);
            }
        }
        assert_eq!(joined, whole);
        assert!(open_source(
            &t,
            &SplitSpec::Events {
                first: 0,
                last: 1,
                stride: 1
            }
        )
        .is_err());
    }

    #[test]
    fn generator_chunks_are_contiguous_and_cover_every_event() {
        let t = table(
            Schema::default(),
            &[("connector", "trades"), ("events", "10")],
        );
        let plan = plan_chunks(&t, 1, 4).unwrap();
        let chunks: Vec<SplitSpec> = (0..plan.len()).map(|i| plan.chunk(i)).collect();
        assert_eq!(
            chunks,
            vec![
                SplitSpec::Events {
                    first: 0,
                    last: 4,
                    stride: 1
                },
                SplitSpec::Events {
                    first: 4,
                    last: 8,
                    stride: 1
                },
                SplitSpec::Events {
                    first: 8,
                    last: 10,
                    stride: 1
                },
            ]
        );
        let positions: Vec<u64> = chunks
            .iter()
            .flat_map(|s| {
                let mut src = open_source(&t, s).unwrap();
                let mut batch = Batch::new(4);
                while src.fill(&mut batch, &mut Vec::new(), 100).unwrap() {}
                batch.positions().to_vec()
            })
            .collect();
        assert_eq!(positions, (0..10).collect::<Vec<u64>>());
    }
}
