//! The CSV reader: [`CsvSource`] turns CSV records (from a file, a byte range
//! of one, or standard input) into typed rows of the declared schema.
//!
//! Header columns are matched to the schema by name (see [`super::bind`]:
//! case-insensitive, extra columns ignored, a repeated name by occurrence);
//! without a header the fields are in schema order.
//! Empty fields are NULL. A record with the wrong number of fields, a value
//! that does not parse as its column's type, or invalid UTF-8 in a VARCHAR is
//! reported as [`Malformed`] and reading goes on; so is a record longer than
//! the record-length limit or whose quoted field never closes (the reader
//! then resumes on a later line, see the `records` module).

use super::bind::header_fields;
use super::convert::ColumnParser;
use super::input::{FileReader, SharedFile};
use super::properties::CsvOptions;
use super::records::{RecordMeta, RecordReader, Step};
use super::split::{header_of, next_line_start, read_csv_header, ByteRange, CsvHeader};
use super::{BatchSource, Malformed, SourceState};
use crate::data::{Batch, Schema, Value};
use crate::error::{Error, Result};
use std::io::{self, Read};

/// Reads typed rows from CSV text.
pub struct CsvSource<R> {
    name: String,
    /// The input as messages name it (a path or `<stdin>`).
    label: String,
    reader: RecordReader<R>,
    columns: Vec<ColumnParser>,
    /// For each schema column, the index of its field in a record.
    field_of: Vec<usize>,
    expected_fields: usize,
    /// File line number of the reader's first line, when known.
    first_line: Option<u64>,
    row: Vec<Value>,
    /// A live stream: `fill` returns rather than wait for more input once it
    /// holds a row (see [`CsvSource::live`]).
    live: bool,
}

impl<R: Read> CsvSource<R> {
    /// Reads all of `input` from its start (byte offset 0); with
    /// `options.header`, its first line is the header.
    pub fn new(
        name: &str,
        schema: &Schema,
        input: R,
        label: &str,
        options: CsvOptions,
    ) -> Result<Self> {
        let mut reader = RecordReader::new(input, 0, u64::MAX, options.delimiter);
        let header = if options.header {
            Some(header_of(&mut reader).map_err(|e| Error::io(label, e))?)
        } else {
            None
        };
        Self::with_reader(name, schema, reader, label, header.as_ref(), Some(1))
    }

    fn with_reader(
        name: &str,
        schema: &Schema,
        reader: RecordReader<R>,
        label: &str,
        header: Option<&CsvHeader>,
        first_line: Option<u64>,
    ) -> Result<Self> {
        let (field_of, expected_fields) = map_columns(name, schema, header, label)?;
        Ok(CsvSource {
            name: name.to_string(),
            label: label.to_string(),
            reader,
            columns: schema
                .fields
                .iter()
                .map(|f| ColumnParser::new(&f.name, f.data_type))
                .collect(),
            field_of,
            expected_fields,
            first_line,
            row: Vec::with_capacity(schema.len()),
            live: false,
        })
    }

    /// Takes the column parsers (and so the string interners) that an
    /// earlier chunk's reader of this source left in `state`.
    pub fn reusing(mut self, state: &mut SourceState) -> Self {
        state.reuse_columns(&mut self.columns);
        self
    }

    /// Sets the longest record read after the header (1 MiB by default); a
    /// longer one is malformed.
    pub fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.reader.set_max_record_bytes(bytes);
        self
    }

    /// Makes this a live stream's reader: [`BatchSource::fill`] returns
    /// `Ok(true)` as soon as it holds a row or malformed record and the next
    /// record would need another `read()`, so a slow producer's line is
    /// processed at once and `fill` never blocks while it holds rows.
    pub fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// Converts the reader's current record into `self.row`.
    fn convert_record(&mut self) -> std::result::Result<(), String> {
        let found = self.reader.field_count();
        if found != self.expected_fields {
            return Err(format!(
                "expected {} fields, found {found}",
                self.expected_fields
            ));
        }
        self.row.clear();
        for (parser, &field) in self.columns.iter_mut().zip(&self.field_of) {
            parser.parse_with(self.reader.field(field), |value| self.row.push(value))?;
        }
        Ok(())
    }

    fn malformed(&self, meta: RecordMeta, reason: String) -> Malformed {
        Malformed {
            source: self.name.clone(),
            line: self.first_line.map(|first| first + meta.line - 1),
            line_in_split: Some(meta.line),
            position: meta.position,
            reason,
            raw: String::from_utf8_lossy(self.reader.raw()).into_owned(),
            origin: None,
        }
    }
}

impl CsvSource<FileReader> {
    /// Reads the lines of `file` that start in `range`. With
    /// `options.header`, `header` is the file's header (read here when
    /// `None`), and a range starting inside the header starts after it.
    pub fn open_range(
        name: &str,
        schema: &Schema,
        file: &SharedFile,
        range: ByteRange,
        options: CsvOptions,
        header: Option<&CsvHeader>,
    ) -> Result<Self> {
        let read_header;
        let header = match (options.header, header) {
            (false, _) => None,
            (true, Some(h)) => Some(h),
            (true, None) => {
                read_header = read_csv_header(file, options.delimiter)?;
                Some(&read_header)
            }
        };
        let (input, start, first_line) = open_at_line(file, range, header)?;
        let reader = RecordReader::new(input, start, range.end, options.delimiter);
        Self::with_reader(name, schema, reader, file.label(), header, first_line)
    }
}

/// A reader of `file` from the first line start of `range` (past the header,
/// if any); returns it, that offset and its line number when known.
pub(crate) fn open_at_line(
    file: &SharedFile,
    range: ByteRange,
    header: Option<&CsvHeader>,
) -> Result<(FileReader, u64, Option<u64>)> {
    let len = file.len();
    let (mut start, mut first_line) = (range.start, range.first_line);
    if let Some(h) = header {
        if start <= h.data_start {
            (start, first_line) = (h.data_start, Some(h.lines + 1));
        }
    }
    let aligned =
        next_line_start(file, start.min(len), len).map_err(|e| Error::io(file.label(), e))?;
    if aligned != start {
        (start, first_line) = (aligned, None);
    }
    Ok((file.reader_at(start), start, first_line))
}

/// For each schema column, its field index; and the number of fields a
/// record must have.
pub(crate) fn map_columns(
    name: &str,
    schema: &Schema,
    header: Option<&CsvHeader>,
    label: &str,
) -> Result<(Vec<usize>, usize)> {
    let Some(header) = header else {
        return Ok(((0..schema.len()).collect(), schema.len()));
    };
    if header.names.is_empty() {
        // An empty file: no rows will come, so there is nothing to map.
        return Ok((vec![0; schema.len()], 0));
    }
    let field_of = header_fields(name, schema, &header.names, label)?;
    Ok((field_of, header.names.len()))
}

impl<R: Read> BatchSource for CsvSource<R> {
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        for taken in 0..max_rows {
            let hold = self.live && taken > 0;
            self.reader.hold_reads(hold);
            let meta = match self.reader.step_record() {
                Ok(Step::Record(meta)) => meta,
                Ok(Step::Skipping) => return Ok(true),
                Ok(Step::End) => return Ok(false),
                Err(e) if hold && e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) => return Err(Error::io(self.label.clone(), e)),
            };
            match meta
                .problem
                .map_or_else(|| self.convert_record(), |p| Err(p.reason()))
            {
                Ok(()) => batch.push_row_from(&mut self.row, meta.position),
                Err(reason) => {
                    self.row.clear();
                    malformed.push(self.malformed(meta, reason));
                }
            }
        }
        Ok(true)
    }

    fn lines_read(&self) -> Option<u64> {
        Some(self.reader.lines_read())
    }

    /// Hands the column parsers, with their interners, to the next chunk's
    /// reader.
    fn save_state(self: Box<Self>, state: &mut SourceState) {
        state.columns = Some(self.columns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataType, Decimal, Field};
    use crate::io::split::{split_file, RecordSyntax};
    use std::io::Write;

    fn schema(cols: &[(&str, DataType)]) -> Schema {
        Schema::new(cols.iter().map(|(n, t)| Field::new(*n, *t)).collect())
    }

    fn trades_schema() -> Schema {
        schema(&[
            ("symbol", DataType::Varchar),
            ("price", DataType::Double),
            ("qty", DataType::BigInt),
            ("ts", DataType::Timestamp),
        ])
    }

    fn read_all(src: &mut dyn BatchSource, width: usize) -> (Batch, Vec<Malformed>) {
        let mut batch = Batch::new(width);
        let mut bad = Vec::new();
        while src.fill(&mut batch, &mut bad, 2).unwrap() {}
        (batch, bad)
    }

    fn read_text(text: &[u8], schema: &Schema, options: CsvOptions) -> (Batch, Vec<Malformed>) {
        let mut src = CsvSource::new("t", schema, text, "mem", options).unwrap();
        read_all(&mut src, schema.len())
    }

    #[test]
    fn every_type_nulls_and_quotes() {
        let s = schema(&[
            ("b", DataType::Boolean),
            ("i", DataType::BigInt),
            ("d", DataType::Double),
            (
                "m",
                DataType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
            ("s", DataType::Varchar),
            ("t", DataType::Timestamp),
        ]);
        let text = b"b,i,d,m,s,t\n\
            true,-5,2.5,12.345,\"a, \"\"quoted\"\"\nvalue\",2026-01-01T00:00:10Z\n\
            ,,,,,\n\
            f,7,1e3,-0.1,plain,1500\n";
        let (batch, bad) = read_text(text, &s, CsvOptions::default());
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(batch.len(), 3);
        assert_eq!(
            batch.row(0),
            &[
                Value::Bool(true),
                Value::Int(-5),
                Value::Double(2.5),
                Value::Decimal(Decimal::new(1235, 2)),
                Value::str("a, \"quoted\"\nvalue"),
                Value::Timestamp(1_767_225_610_000),
            ]
        );
        assert!(batch.row(1).iter().all(Value::is_null));
        assert_eq!(
            batch.row(2),
            &[
                Value::Bool(false),
                Value::Int(7),
                Value::Double(1000.0),
                Value::Decimal(Decimal::new(-10, 2)),
                Value::str("plain"),
                Value::Timestamp(1500),
            ]
        );
        // Byte offsets of line starts: header is 12 bytes; row 1 spans two lines.
        let row2 = text.windows(6).position(|w| w == b",,,,,\n").unwrap() as u64;
        assert_eq!(batch.positions(), &[12, row2, row2 + 6]);
    }

    #[test]
    fn malformed_rows_are_reported_and_neighbours_survive() {
        let text = b"symbol,price,qty,ts\n\
            A,1.5,10,1000\n\
            B,abc,10,1000\n\
            C,2.5,10\n\
            \xffD,3.5,30,3000\n\
            E,4.5,40,4000\n";
        let (batch, bad) = read_text(text, &trades_schema(), CsvOptions::default());
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.row(0)[0], Value::str("A"));
        assert_eq!(batch.row(1)[0], Value::str("E"));
        assert_eq!(batch.positions(), &[20, 72]);
        let summary: Vec<_> = bad
            .iter()
            .map(|m| (m.line, m.position, m.reason.as_str(), m.raw.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    Some(3),
                    34,
                    "column 'price': 'abc' is not a DOUBLE",
                    "B,abc,10,1000"
                ),
                (Some(4), 48, "expected 4 fields, found 3", "C,2.5,10"),
                (
                    Some(5),
                    57,
                    "column 'symbol': invalid UTF-8",
                    "\u{fffd}D,3.5,30,3000"
                ),
            ]
        );
        assert_eq!(bad[0].source, "t");
        assert_eq!(bad[0].line_in_split, Some(3));
    }

    #[test]
    fn header_maps_reordered_columns_and_ignores_extras() {
        let text = b"TS,extra,Qty,price,SYMBOL\n5,x,2,9.5,AAA\n";
        let (batch, bad) = read_text(text, &trades_schema(), CsvOptions::default());
        assert!(bad.is_empty());
        assert_eq!(
            batch.row(0),
            &[
                Value::str("AAA"),
                Value::Double(9.5),
                Value::Int(2),
                Value::Timestamp(5)
            ]
        );
    }

    #[test]
    fn missing_header_column_is_a_usage_error() {
        let s = schema(&[("symbol", DataType::Varchar), ("qty", DataType::BigInt)]);
        let err = CsvSource::new(
            "t",
            &s,
            &b"symbol,price\n"[..],
            "x.csv",
            CsvOptions::default(),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "source 't': column 'qty' is not in the header of x.csv (it has: symbol, price)"
        );
    }

    #[test]
    fn no_header_and_semicolons() {
        let s = schema(&[("station", DataType::Varchar), ("t", DataType::Double)]);
        let options = CsvOptions {
            delimiter: b';',
            header: false,
        };
        let (batch, bad) = read_text(b"Hamburg;12.0\nBulawayo;8.9", &s, options);
        assert!(bad.is_empty());
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.row(1), &[Value::str("Bulawayo"), Value::Double(8.9)]);
        assert_eq!(batch.positions(), &[0, 13]);
    }

    fn csv_syntax(options: CsvOptions) -> RecordSyntax {
        RecordSyntax::Csv {
            delimiter: options.delimiter,
            max_record_bytes: 1 << 20,
        }
    }

    fn shared_file(text: &[u8]) -> SharedFile {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text).unwrap();
        SharedFile::new(f, "mem", text.len() as u64)
    }

    fn whole_and_split(text: &[u8], options: CsvOptions, chunk: u64) -> (Batch, Batch) {
        let f = shared_file(text);
        let s = trades_schema();
        let (whole, _) = read_text(text, &s, options);
        let header = options
            .header
            .then(|| read_csv_header(&f, options.delimiter).unwrap());
        let mut joined = Batch::new(s.len());
        for range in split_file(&f, chunk, header.as_ref(), csv_syntax(options)).unwrap() {
            let mut src =
                CsvSource::open_range("t", &s, &f, range, options, header.as_ref()).unwrap();
            let (part, _) = read_all(&mut src, s.len());
            for (row, pos) in part.rows() {
                joined.push_row(row, pos);
            }
        }
        (whole, joined)
    }

    #[test]
    fn ranges_together_read_the_whole_file_in_order() {
        let with_header = b"symbol,price,qty,ts\nA,1.5,1,10\nBB,2.5,2,20\n\nC,3.5,3,30\nD,4.5,4,40";
        let no_header = b"A,1.5,1,10\r\nBB,2.5,2,20\r\nC,3.5,3,30\r\n";
        for chunk in [1, 2, 5, 7, 13, 1000] {
            let (whole, joined) = whole_and_split(with_header, CsvOptions::default(), chunk);
            assert_eq!(whole.len(), 4);
            assert_eq!(whole, joined, "chunk {chunk}");
            let options = CsvOptions {
                header: false,
                ..CsvOptions::default()
            };
            let (whole, joined) = whole_and_split(no_header, options, chunk);
            assert_eq!(whole.len(), 3);
            assert_eq!(whole, joined, "chunk {chunk}");
        }
    }

    #[test]
    fn range_lines_are_relative_and_counted() {
        let text = b"symbol,price,qty,ts\nA,1,1,1\nB,x,2,2\nC,3,3,3\nD,y,4,4\n";
        let f = shared_file(text);
        let s = trades_schema();
        let options = CsvOptions::default();
        let header = read_csv_header(&f, b',').unwrap();
        let ranges = split_file(&f, 16, Some(&header), csv_syntax(options)).unwrap();
        assert_eq!(ranges.len(), 2);
        let mut first = CsvSource::open_range("t", &s, &f, ranges[0], options, None).unwrap();
        let (_, bad0) = read_all(&mut first, 4);
        assert_eq!(first.lines_read(), Some(2));
        assert_eq!((bad0[0].line, bad0[0].line_in_split), (Some(3), Some(2)));
        let mut second =
            CsvSource::open_range("t", &s, &f, ranges[1], options, Some(&header)).unwrap();
        let (_, bad1) = read_all(&mut second, 4);
        assert_eq!((bad1[0].line, bad1[0].line_in_split), (None, Some(2)));
        assert_eq!(bad1[0].position, 44);
    }
}
