//! Opening sources: [`plan_splits`] cuts a table's input into splits (byte
//! ranges of a file, event numbers of a generator) and [`open_source`] opens
//! a reader for one split.

use super::csv::CsvSource;
use super::generator::TradesGenerator;
use super::jsonl::JsonlSource;
use super::properties::{Connector, FileConfig, FileFormat, Location, SourceConfig};
use super::split::{read_csv_header, split_file, ByteRange};
use super::BatchSource;
use crate::error::{Error, Result};
use crate::plan::TableDef;
use std::fs::File;
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
    let (name, schema) = (table.name.as_str(), &table.schema);
    let label = file.location.label();
    match &file.location {
        Location::Stdin => {
            let input = std::io::stdin();
            Ok(match file.format {
                FileFormat::Csv => Box::new(CsvSource::new(name, schema, input, &label, file.csv)?),
                FileFormat::Jsonl => Box::new(JsonlSource::new(name, schema, input, &label)),
            })
        }
        Location::Path(path) => {
            let input = File::open(path).map_err(|e| Error::io(label.clone(), e))?;
            Ok(match file.format {
                FileFormat::Csv => Box::new(CsvSource::new(name, schema, input, &label, file.csv)?),
                FileFormat::Jsonl => Box::new(JsonlSource::new(name, schema, input, &label)),
            })
        }
    }
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
        FileFormat::Csv => Box::new(CsvSource::open_range(
            name, schema, path, range, file.csv, None,
        )?),
        FileFormat::Jsonl => Box::new(JsonlSource::open_range(name, schema, path, range)?),
    })
}

/// Cuts `table`'s input into at most `n` (at least 1) splits of about equal
/// size, in input order: byte ranges for files, interleaved event numbers for
/// generators. Standard input is one [`SplitSpec::Whole`]. A file smaller than
/// `n` lines gives fewer splits.
pub fn plan_splits(table: &TableDef, n: usize) -> Result<Vec<SplitSpec>> {
    let n = n.max(1) as u64;
    let config = SourceConfig::from_table(table)?;
    match &config.connector {
        Connector::Trades(trades) => {
            let splits = n.min(trades.events.max(1));
            Ok((0..splits)
                .map(|k| SplitSpec::Events {
                    first: k,
                    last: trades.events,
                    stride: splits,
                })
                .collect())
        }
        Connector::File(file) => match &file.location {
            Location::Stdin => Ok(vec![SplitSpec::Whole]),
            Location::Path(path) => plan_file_splits(path, file, n),
        },
    }
}

fn plan_file_splits(path: &Path, file: &FileConfig, n: u64) -> Result<Vec<SplitSpec>> {
    let header = match file.format {
        FileFormat::Csv if file.csv.header => Some(read_csv_header(path, file.csv.delimiter)?),
        _ => None,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path.display().to_string(), e))?
        .len();
    let data = len - header.as_ref().map_or(0, |h| h.data_start.min(len));
    let chunk = data.div_ceil(n).max(1);
    Ok(split_file(path, chunk, header.as_ref())?
        .into_iter()
        .map(SplitSpec::FileRange)
        .collect())
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
        let splits = plan_splits(&t, 3).unwrap();
        assert_eq!(splits.len(), 3);
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
    fn generator_splits_interleave() {
        let t = table(
            Schema::default(),
            &[("connector", "trades"), ("events", "10")],
        );
        let splits = plan_splits(&t, 4).unwrap();
        assert_eq!(
            splits[1],
            SplitSpec::Events {
                first: 1,
                last: 10,
                stride: 4
            }
        );
        let counts: Vec<usize> = splits
            .iter()
            .map(|s| {
                let mut src = open_source(&t, s).unwrap();
                let mut batch = Batch::new(4);
                while src.fill(&mut batch, &mut Vec::new(), 100).unwrap() {}
                batch.len()
            })
            .collect();
        assert_eq!(counts, vec![3, 3, 2, 2]);
    }
}
