//! Schema inference for `--source name=path` without DDL: the column names
//! and the narrowest types that fit a sample of the first rows.
//!
//! - CSV: names from the header (`c1, c2, ...` when `header = false`); each
//!   column is the first of BOOLEAN (`true`/`false`), BIGINT, DOUBLE,
//!   TIMESTAMP (ISO-8601 text) that every non-empty sampled value parses as,
//!   else VARCHAR (also when all sampled values are empty).
//! - JSON lines: keys of the sampled objects in first-seen order; integers
//!   are BIGINT, any float makes a column DOUBLE, booleans BOOLEAN, strings
//!   TIMESTAMP when all parse as ISO-8601 text and VARCHAR otherwise; mixed
//!   kinds, nested values and all-null columns are VARCHAR. Lines that are not
//!   JSON objects are skipped (they are reported when the data is read).
//! - The `trades` generator has a fixed schema.
//! - Standard input, pipes and devices cannot be sampled without consuming
//!   them: their schema must be declared with CREATE TABLE.
//!
//! The sample is the first [`SAMPLE_ROWS`] records.

use super::convert::{parse_f64, parse_i64, parse_iso_fast};
use super::generator::trades_schema;
use super::jsonl::{without_bom, JsonLine};
use super::properties::{Connector, FileFormat, Location, SourceConfig};
use super::records::RecordReader;
use crate::data::{parse_timestamp, DataType, Field, Schema};
use crate::error::{Error, Result};
use crate::plan::TableDef;
use serde_json::Value as Json;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// How many records inference looks at.
pub const SAMPLE_ROWS: usize = 1000;

/// A table named `name` over the file at `path` (`properties` may add
/// `format`, `delimiter`, `header`, ... or `connector = 'trades'`, which needs
/// no path), with its schema inferred from the data.
pub fn infer_table(name: &str, path: &str, properties: &[(String, String)]) -> Result<TableDef> {
    let mut properties: Vec<(String, String)> = properties
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let is_generator = properties
        .iter()
        .any(|(k, v)| k == "connector" && !v.eq_ignore_ascii_case("file"));
    if !is_generator && !properties.iter().any(|(k, _)| k == "path") {
        properties.push(("path".to_string(), path.to_string()));
    }
    let mut table = TableDef {
        name: name.to_string(),
        schema: Schema::default(),
        properties,
    };
    table.schema = infer_schema(&table)?;
    Ok(table)
}

/// The schema of `table`'s data, from its properties and a sample.
pub fn infer_schema(table: &TableDef) -> Result<Schema> {
    let config = SourceConfig::from_table(table)?;
    let file = match config.connector {
        Connector::Trades(_) => return Ok(trades_schema()),
        Connector::Nexmark(kind, _) => return Ok(kind.schema()),
        Connector::File(file) => file,
        Connector::Kafka(_) => {
            return Err(Error::Usage(format!(
                "source '{}': declare the columns of a Kafka topic with CREATE TABLE",
                table.name
            )))
        }
    };
    let path = match &file.location {
        Location::Stdin => {
            return Err(Error::Usage(format!(
                "source '{}': declare the schema of standard input with CREATE TABLE",
                table.name
            )))
        }
        Location::Path(p) => p.as_path(),
    };
    // Looked at before opening: opening a FIFO would wait for its writer.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "source '{}': {} is not a regular file, so its schema cannot be inferred \
             (a pipe or device can be read only once): declare it with CREATE TABLE",
            table.name,
            path_label(path)
        )));
    }
    let input = File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    let schema = match file.format {
        FileFormat::Csv => infer_csv(input, file.csv.delimiter, file.csv.header),
        FileFormat::Jsonl => infer_jsonl(input),
    }
    .map_err(|e| Error::io(path.display().to_string(), e))?;
    if schema.is_empty() {
        return Err(Error::Usage(format!(
            "source '{}': cannot infer a schema from {}: no columns found (is it empty?)",
            table.name,
            path_label(path)
        )));
    }
    Ok(schema)
}

fn path_label(path: &Path) -> String {
    path.display().to_string()
}

/// Which types a column's sampled values still all fit.
#[derive(Debug, Clone, Copy)]
struct Candidates {
    boolean: bool,
    bigint: bool,
    double: bool,
    /// A finite number was seen: `NaN`, `inf` and `-inf` make a column
    /// DOUBLE (as in DuckDB) only beside one, so that a column of words
    /// such as "nan" stays VARCHAR.
    finite: bool,
    timestamp: bool,
    seen: bool,
}

impl Candidates {
    const ALL: Candidates = Candidates {
        boolean: true,
        bigint: true,
        double: true,
        finite: false,
        timestamp: true,
        seen: false,
    };

    fn observe(&mut self, text: &[u8]) {
        let text = text.trim_ascii();
        if text.is_empty() {
            return;
        }
        self.seen = true;
        // Inference is stricter than reading: 1/0/t/f are numbers or text.
        self.boolean &= text.eq_ignore_ascii_case(b"true") || text.eq_ignore_ascii_case(b"false");
        self.bigint &= parse_i64(text).is_some();
        let number = parse_f64(text);
        self.double &= number.is_some();
        self.finite |= number.is_some_and(f64::is_finite);
        self.timestamp &= is_iso_timestamp(text);
    }

    fn data_type(self) -> DataType {
        match self {
            Candidates { seen: false, .. } => DataType::Varchar,
            Candidates { boolean: true, .. } => DataType::Boolean,
            Candidates { bigint: true, .. } => DataType::BigInt,
            Candidates {
                double: true,
                finite: true,
                ..
            } => DataType::Double,
            Candidates {
                timestamp: true, ..
            } => DataType::Timestamp,
            _ => DataType::Varchar,
        }
    }
}

/// ISO-8601 text (not a bare number, which would be BIGINT).
fn is_iso_timestamp(text: &[u8]) -> bool {
    parse_iso_fast(text).is_some()
        || std::str::from_utf8(text).is_ok_and(|s| s.contains('-') && parse_timestamp(s).is_some())
}

fn infer_csv(input: impl Read, delimiter: u8, header: bool) -> std::io::Result<Schema> {
    let mut reader = RecordReader::new(input, 0, u64::MAX, delimiter);
    let mut names: Vec<String> = Vec::new();
    if header {
        names = super::split::header_of(&mut reader)?.names;
    }
    let mut columns = vec![Candidates::ALL; names.len()];
    for _ in 0..SAMPLE_ROWS {
        if reader.next_record()?.is_none() {
            break;
        }
        let fields = reader.field_count();
        if !header && fields > names.len() {
            names.extend((names.len() + 1..=fields).map(|i| format!("c{i}")));
            columns.resize(fields, Candidates::ALL);
        }
        for (i, column) in columns.iter_mut().enumerate().take(fields) {
            column.observe(reader.field(i));
        }
    }
    Ok(Schema::new(
        names
            .into_iter()
            .zip(columns)
            .map(|(name, c)| Field::new(name, c.data_type()))
            .collect(),
    ))
}

/// The kinds of JSON values a key has held.
#[derive(Debug, Clone, Copy, Default)]
struct JsonKinds {
    integer: bool,
    float: bool,
    boolean: bool,
    timestamp_string: bool,
    other_string: bool,
    nested: bool,
}

impl JsonKinds {
    fn observe(&mut self, value: &Json) {
        match value {
            Json::Null => {}
            Json::Bool(_) => self.boolean = true,
            Json::Number(n) if n.is_f64() => self.float = true,
            Json::Number(_) => self.integer = true,
            Json::String(s) if is_iso_timestamp(s.as_bytes()) => self.timestamp_string = true,
            Json::String(_) => self.other_string = true,
            Json::Array(_) | Json::Object(_) => self.nested = true,
        }
    }

    fn data_type(self) -> DataType {
        let numeric = self.integer || self.float;
        let kinds = [
            numeric,
            self.boolean,
            self.timestamp_string || self.other_string,
            self.nested,
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return DataType::Varchar;
        }
        if self.float {
            DataType::Double
        } else if self.integer {
            DataType::BigInt
        } else if self.boolean {
            DataType::Boolean
        } else if self.timestamp_string && !self.other_string {
            DataType::Timestamp
        } else {
            DataType::Varchar
        }
    }
}

fn infer_jsonl(input: impl Read) -> std::io::Result<Schema> {
    let mut reader = RecordReader::new(input, 0, u64::MAX, b',');
    let mut keys: Vec<(String, JsonKinds)> = Vec::new();
    for _ in 0..SAMPLE_ROWS {
        let Some(meta) = reader.next_line()? else {
            break;
        };
        let line = without_bom(reader.field(0), meta.position);
        let Ok(JsonLine::Object(object)) = serde_json::from_slice::<JsonLine>(line) else {
            continue;
        };
        for (key, value) in &object {
            let index = match keys.iter().position(|(k, _)| k.eq_ignore_ascii_case(key)) {
                Some(i) => i,
                None => {
                    keys.push((key.clone(), JsonKinds::default()));
                    keys.len() - 1
                }
            };
            keys[index].1.observe(value);
        }
    }
    Ok(Schema::new(
        keys.into_iter()
            .map(|(name, kinds)| Field::new(name, kinds.data_type()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(suffix: &str, text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn types(schema: &Schema) -> String {
        schema.to_string()
    }

    #[test]
    fn csv_columns_get_the_narrowest_type() {
        let f = file(
            ".csv",
            "flag,n,x,when,name,empty,mixed\n\
             true,1,1,2026-01-01T00:00:00Z,a,,1\n\
             FALSE,-2,2.5,2026-01-01 00:00:01,b,,x\n\
             ,,,,,,\n",
        );
        let t = infer_table("t", f.path().to_str().unwrap(), &[]).unwrap();
        assert_eq!(
            types(&t.schema),
            "flag BOOLEAN, n BIGINT, x DOUBLE, when TIMESTAMP, name VARCHAR, empty VARCHAR, mixed VARCHAR"
        );
        assert_eq!(t.name, "t");
        assert_eq!(t.properties[0].0, "path");
    }

    #[test]
    fn nan_and_infinities_beside_numbers_are_double_and_alone_are_text() {
        let f = file(".csv", "x,y,name\n1.5,NaN,nan\ninf,-inf,Inf\n-2,nan,NaN\n");
        let t = infer_table("t", f.path().to_str().unwrap(), &[]).unwrap();
        assert_eq!(types(&t.schema), "x DOUBLE, y VARCHAR, name VARCHAR");
    }

    #[test]
    fn csv_without_header_and_with_semicolons() {
        let f = file(".txt", "Hamburg;12.0\nOslo;-3.5\n");
        let props = vec![
            ("format".to_string(), "csv".to_string()),
            ("delimiter".to_string(), ";".to_string()),
            ("header".to_string(), "false".to_string()),
        ];
        let t = infer_table("w", f.path().to_str().unwrap(), &props).unwrap();
        assert_eq!(types(&t.schema), "c1 VARCHAR, c2 DOUBLE");
    }

    #[test]
    fn json_keys_in_first_seen_order() {
        let f = file(
            ".jsonl",
            "{\"sym\":\"A\",\"qty\":1,\"px\":1,\"at\":\"2026-01-01T00:00:00Z\"}\n\
             not json\n\
             {\"px\":2.5,\"ok\":true,\"qty\":null,\"tags\":[1],\"at\":\"2026-01-02\",\"mix\":1}\n\
             {\"mix\":\"one\"}\n",
        );
        let t = infer_table("j", f.path().to_str().unwrap(), &[]).unwrap();
        assert_eq!(
            types(&t.schema),
            "sym VARCHAR, qty BIGINT, px DOUBLE, at TIMESTAMP, ok BOOLEAN, tags VARCHAR, mix VARCHAR"
        );
    }

    #[test]
    fn generators_stdin_and_missing_files() {
        let props = vec![("connector".to_string(), "trades".to_string())];
        let t = infer_table("t", "", &props).unwrap();
        assert_eq!(
            types(&t.schema),
            "symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP"
        );
        let stdin = vec![("format".to_string(), "csv".to_string())];
        let err = infer_table("s", "-", &stdin).unwrap_err().to_string();
        assert!(
            err.contains("declare the schema of standard input"),
            "{err}"
        );
        let err = infer_table("m", "/nonexistent/m.csv", &[]).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(
            err.to_string()
                .starts_with("/nonexistent/m.csv: No such file"),
            "{err}"
        );
        let empty = file(".csv", "");
        let err = infer_table("e", empty.path().to_str().unwrap(), &[]).unwrap_err();
        assert!(err.to_string().contains("no columns found"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_first_json_line() {
        let f = file(".jsonl", "\u{feff}{\"only\":1}\n");
        let t = infer_table("j", f.path().to_str().unwrap(), &[]).unwrap();
        assert_eq!(types(&t.schema), "only BIGINT");
    }

    #[test]
    fn repeated_header_names_are_kept_in_order() {
        let f = file(".csv", "symbol,qty,QTY,qty\nA,1,x,3\n");
        let t = infer_table("t", f.path().to_str().unwrap(), &[]).unwrap();
        assert_eq!(
            types(&t.schema),
            "symbol VARCHAR, qty BIGINT, QTY VARCHAR, qty BIGINT"
        );
    }

    #[test]
    fn pipes_are_not_sampled() {
        let err = infer_table("n", "/dev/null", &[("format".into(), "csv".into())]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("/dev/null is not a regular file"),
            "{err}"
        );
    }
}
