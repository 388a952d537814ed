//! Sinks: where output rows go. JSON lines (one object per row, keys in
//! SELECT order), CSV with a header line, or a blackhole that only counts.
//! Output is buffered; a file path or standard output (`None` or `-`).
//!
//! Write errors are [`Error::Io`] naming the path (`<stdout>`). When standard
//! output is a closed pipe (`corestream ... | head`), the error's kind is
//! `BrokenPipe`: check it with [`is_broken_pipe`] and end quietly.

use crate::data::{write_timestamp, Schema, Value};
use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::str::FromStr;

const BUFFER: usize = 64 * 1024;
/// How messages name standard output.
pub const STDOUT_LABEL: &str = "<stdout>";

/// Receives output rows in order.
pub trait RowSink {
    fn write_row(&mut self, values: &[Value]) -> Result<()>;
    /// Pushes buffered rows out (for live output: call after each batch).
    fn flush(&mut self) -> Result<()>;
    /// Flushes; call once at the end.
    fn finish(&mut self) -> Result<()>;
    fn rows_written(&self) -> u64;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Csv,
    Blackhole,
}

impl FromStr for OutputFormat {
    type Err = Error;

    /// `jsonl` (also `json`, `ndjson`), `csv`, `blackhole` (also `none`).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "json" | "ndjson" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            "blackhole" | "none" => Ok(OutputFormat::Blackhole),
            _ => Err(Error::Usage(format!(
                "unknown output format '{s}' (known: jsonl, csv, blackhole)"
            ))),
        }
    }
}

/// True when `err` is a write to a closed pipe (the reader went away).
pub fn is_broken_pipe(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

/// Opens a sink writing `format` to `path` (`None` or `-`: standard output)
/// for rows with `columns`.
pub fn open_sink(
    path: Option<&str>,
    format: OutputFormat,
    columns: &Schema,
) -> Result<Box<dyn RowSink + Send>> {
    if format == OutputFormat::Blackhole {
        return Ok(Box::new(BlackholeSink::default()));
    }
    let (out, label) = open_output(path)?;
    Ok(match format {
        OutputFormat::Jsonl => Box::new(JsonlSink::new(out, &label, columns)),
        OutputFormat::Csv => Box::new(CsvSink::new(out, &label, columns)?),
        OutputFormat::Blackhole => Box::new(BlackholeSink::default()),
    })
}

/// A writer for `path` (`None` or `-`: standard output) and its label.
pub(crate) fn open_output(path: Option<&str>) -> Result<(Box<dyn Write + Send>, String)> {
    match path {
        None | Some("-") => Ok((Box::new(io::stdout()), STDOUT_LABEL.to_string())),
        Some(p) => {
            let file = File::create(p).map_err(|e| Error::io(p, e))?;
            Ok((Box::new(file), p.to_string()))
        }
    }
}

/// Appends `value` as JSON: numbers as numbers (DECIMAL with its exact
/// digits, non-finite DOUBLE as `null`), TIMESTAMP as an ISO-8601 string.
pub(crate) fn write_json_value(out: &mut Vec<u8>, value: &Value, scratch: &mut String) {
    scratch.clear();
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Double(d) if !d.is_finite() => out.extend_from_slice(b"null"),
        Value::Int(_) | Value::Double(_) | Value::Decimal(_) => {
            let _ = write!(scratch, "{value}");
            out.extend_from_slice(scratch.as_bytes());
        }
        Value::Str(s) => write_json_string(out, s),
        Value::Timestamp(t) => {
            write_timestamp(*t, scratch);
            write_json_string(out, scratch);
        }
    }
}

pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// `"name":` for each column, escaped once.
pub(crate) fn json_keys(columns: &Schema) -> Vec<Vec<u8>> {
    columns
        .names()
        .map(|name| {
            let mut key = Vec::new();
            write_json_string(&mut key, name);
            key.push(b':');
            key
        })
        .collect()
}

/// Appends `{"a":1,"b":"x"}` for `values` under `keys`.
pub(crate) fn write_json_object(
    out: &mut Vec<u8>,
    keys: &[Vec<u8>],
    values: &[Value],
    scratch: &mut String,
) {
    out.push(b'{');
    for (i, (key, value)) in keys.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        write_json_value(out, value, scratch);
    }
    out.push(b'}');
}

/// One JSON object per row.
pub struct JsonlSink<W: Write> {
    out: BufWriter<W>,
    label: String,
    keys: Vec<Vec<u8>>,
    line: Vec<u8>,
    scratch: String,
    rows: u64,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, label: &str, columns: &Schema) -> Self {
        JsonlSink {
            out: BufWriter::with_capacity(BUFFER, out),
            label: label.to_string(),
            keys: json_keys(columns),
            line: Vec::with_capacity(256),
            scratch: String::new(),
            rows: 0,
        }
    }
}

impl<W: Write> RowSink for JsonlSink<W> {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        self.line.clear();
        write_json_object(&mut self.line, &self.keys, values, &mut self.scratch);
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .map_err(|e| Error::io(self.label.clone(), e))?;
        self.rows += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| Error::io(self.label.clone(), e))
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }
}

/// CSV with a header line; NULL is an empty field.
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
    label: String,
    record: csv::ByteRecord,
    scratch: String,
    rows: u64,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W, label: &str, columns: &Schema) -> Result<Self> {
        let mut sink = CsvSink {
            writer: csv::WriterBuilder::new()
                .buffer_capacity(BUFFER)
                .from_writer(out),
            label: label.to_string(),
            record: csv::ByteRecord::new(),
            scratch: String::new(),
            rows: 0,
        };
        let names: Vec<&str> = columns.names().collect();
        sink.writer
            .write_record(&names)
            .map_err(|e| csv_error(&sink.label, e))?;
        Ok(sink)
    }
}

fn csv_error(label: &str, err: csv::Error) -> Error {
    match err.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(label, e),
        other => Error::Runtime(format!("{label}: {other:?}")),
    }
}

impl<W: Write> RowSink for CsvSink<W> {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        self.record.clear();
        for value in values {
            self.scratch.clear();
            let _ = write!(self.scratch, "{value}");
            self.record.push_field(self.scratch.as_bytes());
        }
        self.writer
            .write_byte_record(&self.record)
            .map_err(|e| csv_error(&self.label, e))?;
        self.rows += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.writer
            .flush()
            .map_err(|e| Error::io(self.label.clone(), e))
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }
}

/// Discards rows, counting them (for benchmarks).
#[derive(Debug, Default)]
pub struct BlackholeSink {
    rows: u64,
}

impl RowSink for BlackholeSink {
    fn write_row(&mut self, _values: &[Value]) -> Result<()> {
        self.rows += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataType, Decimal, Field};

    fn columns() -> Schema {
        Schema::new(
            ["sym", "n", "avg", "total", "at", "ok", "none", "q\"uote"]
                .iter()
                .map(|n| Field::new(*n, DataType::Varchar))
                .collect(),
        )
    }

    fn rows() -> Vec<Vec<Value>> {
        vec![
            vec![
                Value::str("A\"B\n,c"),
                Value::Int(-3),
                Value::Double(2.0),
                Value::Decimal(Decimal::new(1_120_472, 3)),
                Value::Timestamp(1_767_225_610_000),
                Value::Bool(true),
                Value::Null,
                Value::Double(0.1),
            ],
            vec![
                Value::str("é"),
                Value::Int(0),
                Value::Double(f64::NAN),
                Value::Decimal(Decimal::new(-5, 2)),
                Value::Timestamp(0),
                Value::Bool(false),
                Value::Null,
                Value::Double(f64::INFINITY),
            ],
        ]
    }

    fn write_all<S: RowSink>(sink: &mut S) {
        for row in rows() {
            sink.write_row(&row).unwrap();
        }
        sink.finish().unwrap();
        assert_eq!(sink.rows_written(), 2);
    }

    #[test]
    fn json_lines_exact_text() {
        let mut out = Vec::new();
        let mut sink = JsonlSink::new(&mut out, "mem", &columns());
        write_all(&mut sink);
        drop(sink);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"sym":"A\"B\n,c","n":-3,"avg":2.0,"total":1120.472,"at":"2026-01-01T00:00:10.000Z","ok":true,"none":null,"q\"uote":0.1}"#,
                "\n",
                r#"{"sym":"é","n":0,"avg":null,"total":-0.05,"at":"1970-01-01T00:00:00.000Z","ok":false,"none":null,"q\"uote":null}"#,
                "\n"
            )
        );
    }

    #[test]
    fn csv_exact_text() {
        let mut out = Vec::new();
        let mut sink = CsvSink::new(&mut out, "mem", &columns()).unwrap();
        write_all(&mut sink);
        drop(sink);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "sym,n,avg,total,at,ok,none,\"q\"\"uote\"\n\
             \"A\"\"B\n,c\",-3,2.0,1120.472,2026-01-01T00:00:10.000Z,true,,0.1\n\
             é,0,NaN,-0.05,1970-01-01T00:00:00.000Z,false,,inf\n"
        );
    }

    #[test]
    fn formats_blackhole_and_errors() {
        assert_eq!("JSON".parse::<OutputFormat>().unwrap(), OutputFormat::Jsonl);
        assert_eq!("csv".parse::<OutputFormat>().unwrap(), OutputFormat::Csv);
        assert!("xml".parse::<OutputFormat>().is_err());
        let mut sink = open_sink(None, OutputFormat::Blackhole, &columns()).unwrap();
        sink.write_row(&rows()[0]).unwrap();
        assert_eq!(sink.rows_written(), 1);
        let err = open_sink(
            Some("/nonexistent/out.jsonl"),
            OutputFormat::Jsonl,
            &columns(),
        )
        .err()
        .unwrap();
        assert!(
            err.to_string().starts_with("/nonexistent/out.jsonl: "),
            "{err}"
        );
        let pipe = Error::io(STDOUT_LABEL, io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&pipe));
        assert!(!is_broken_pipe(&err));
    }

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn broken_pipe_is_recognisable() {
        let mut sink = JsonlSink::new(ClosedPipe, STDOUT_LABEL, &columns());
        sink.write_row(&rows()[0]).unwrap();
        let err = sink.finish().unwrap_err();
        assert!(is_broken_pipe(&err));
        assert!(err.to_string().starts_with("<stdout>: "));
    }
}
