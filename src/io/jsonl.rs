//! The JSON-lines reader: [`JsonlSource`] reads one JSON object per line
//! (from a file, a byte range of one, or standard input) into typed rows.
//!
//! Keys are matched to the schema's columns by name (case-insensitive); a
//! missing key or `null` is NULL and keys not in the schema are ignored.
//! Numbers, strings and booleans convert to the column's type (a string in a
//! numeric, boolean or timestamp column is parsed as text, as in CSV; a
//! TIMESTAMP is ISO-8601 text or a number of epoch milliseconds; a VARCHAR
//! takes any value, non-strings as their JSON text). Empty lines are skipped,
//! and a UTF-8 byte-order mark at the start of the input is ignored.
//! A line that is not valid JSON, not an object, or has a value of the wrong
//! type is reported as [`Malformed`], and so is a line longer than the
//! record-length limit (reading resumes on the next line).

use super::convert::{fits_precision, ColumnParser};
use super::csv::open_at_line;
use super::input::{FileReader, SharedFile};
use super::records::{RecordMeta, RecordReader, Step};
use super::split::ByteRange;
use super::{BatchSource, Malformed, SourceState};
use crate::data::{Batch, DataType, Decimal, Schema, Value};
use crate::error::{Error, Result};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::marker::PhantomData;

/// Reads typed rows from JSON lines.
pub struct JsonlSource<R> {
    name: String,
    label: String,
    reader: RecordReader<R>,
    columns: Vec<ColumnParser>,
    first_line: Option<u64>,
    row: Vec<Value>,
    /// A live stream (see [`JsonlSource::live`]).
    live: bool,
}

impl<R: Read> JsonlSource<R> {
    /// Reads all of `input` from its start (byte offset 0).
    pub fn new(name: &str, schema: &Schema, input: R, label: &str) -> Self {
        let reader = RecordReader::new(input, 0, u64::MAX, b',');
        Self::with_reader(name, schema, reader, label, Some(1))
    }

    fn with_reader(
        name: &str,
        schema: &Schema,
        reader: RecordReader<R>,
        label: &str,
        first_line: Option<u64>,
    ) -> Self {
        JsonlSource {
            name: name.to_string(),
            label: label.to_string(),
            reader,
            columns: schema
                .fields
                .iter()
                .map(|f| ColumnParser::new(&f.name, f.data_type))
                .collect(),
            first_line,
            row: Vec::with_capacity(schema.len()),
            live: false,
        }
    }

    /// Takes the column parsers (and so the string interners) that an
    /// earlier chunk's reader of this source left in `state`.
    pub fn reusing(mut self, state: &mut SourceState) -> Self {
        state.reuse_columns(&mut self.columns);
        self
    }

    /// Sets the longest line read (1 MiB by default); a longer one is
    /// malformed.
    pub fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.reader.set_max_record_bytes(bytes);
        self
    }

    /// Makes this a live stream's reader, as [`super::CsvSource::live`].
    pub fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// Converts the current line, which starts at byte `position`, into
    /// `self.row`.
    fn convert_line(&mut self, position: u64) -> std::result::Result<(), String> {
        let line = without_bom(self.reader.field(0), position);
        let parsed: JsonLine<JsonKey> =
            serde_json::from_slice(line).map_err(|e| format!("invalid JSON: {e}"))?;
        let JsonLine::Object(object) = parsed else {
            return Err("not a JSON object".to_string());
        };
        self.row.clear();
        self.row.resize(self.columns.len(), Value::Null);
        for (key, value) in &object {
            let Some(index) = self
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(&key.0))
            else {
                continue;
            };
            self.row[index] = json_cell(&mut self.columns[index], value)?;
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

impl JsonlSource<FileReader> {
    /// Reads the lines of `file` that start in `range`.
    pub fn open_range(
        name: &str,
        schema: &Schema,
        file: &SharedFile,
        range: ByteRange,
    ) -> Result<Self> {
        let (input, start, first_line) = open_at_line(file, range, None)?;
        let reader = RecordReader::new(input, start, range.end, b',');
        Ok(Self::with_reader(
            name,
            schema,
            reader,
            file.label(),
            first_line,
        ))
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// `line` without the UTF-8 byte-order mark that may open the input (the
/// line at byte 0).
pub(crate) fn without_bom(line: &[u8], position: u64) -> &[u8] {
    match line.strip_prefix(UTF8_BOM) {
        Some(rest) if position == 0 => rest,
        _ => line,
    }
}

/// One parsed line: an object's members (keys as `K`) in the order written,
/// or some other JSON value (skipped without being built).
pub(crate) enum JsonLine<K = String> {
    Object(Vec<(K, Json)>),
    NotObject,
}

/// An object key, borrowed from the line unless it holds escapes.
#[derive(serde::Deserialize)]
#[serde(transparent)]
struct JsonKey<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de, K: Deserialize<'de>> Deserialize<'de> for JsonLine<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(JsonLineVisitor(PhantomData))
    }
}

struct JsonLineVisitor<K>(PhantomData<K>);

impl<'de, K: Deserialize<'de>> Visitor<'de> for JsonLineVisitor<K> {
    type Value = JsonLine<K>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(member) = map.next_entry::<K, Json>()? {
            members.push(member);
        }
        Ok(JsonLine::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonLine::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(JsonLine::NotObject)
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(JsonLine::NotObject)
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(JsonLine::NotObject)
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(JsonLine::NotObject)
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(JsonLine::NotObject)
    }

    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(JsonLine::NotObject)
    }
}

/// The value of JSON `value` in a column of `parser`'s type.
pub(crate) fn json_cell(
    parser: &mut ColumnParser,
    value: &Json,
) -> std::result::Result<Value, String> {
    let converted = match (parser.data_type, value) {
        (_, Json::Null) => Some(Value::Null),
        (DataType::Varchar, Json::String(s)) => Some(parser.string(s)),
        (DataType::Varchar, other) => Some(parser.string(&other.to_string())),
        (_, Json::String(s)) => return parser.parse(s.as_bytes()),
        (DataType::Boolean, Json::Bool(b)) => Some(Value::Bool(*b)),
        (DataType::BigInt, Json::Number(n)) => json_integer(n).map(Value::Int),
        (DataType::Timestamp, Json::Number(n)) => json_integer(n).map(Value::Timestamp),
        (DataType::Double, Json::Number(n)) => n.as_f64().map(Value::Double),
        (DataType::Decimal { precision, scale }, Json::Number(n)) => {
            Decimal::parse(&n.to_string(), scale)
                .filter(|d| fits_precision(*d, precision))
                .map(Value::Decimal)
        }
        _ => None,
    };
    converted.ok_or_else(|| {
        format!(
            "column '{}': {value} is not a {}",
            parser.name, parser.data_type
        )
    })
}

/// An integer, or a float with no fractional part that fits.
fn json_integer(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

impl<R: Read> BatchSource for JsonlSource<R> {
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        for taken in 0..max_rows {
            let hold = self.live && taken > 0;
            self.reader.hold_reads(hold);
            let meta = match self.reader.step_line() {
                Ok(Step::Record(meta)) => meta,
                Ok(Step::Skipping) => return Ok(true),
                Ok(Step::End) => return Ok(false),
                Err(e) if hold && e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) => return Err(Error::io(self.label.clone(), e)),
            };
            match meta
                .problem
                .map_or_else(|| self.convert_line(meta.position), |p| Err(p.reason()))
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
    use crate::data::Field;
    use crate::io::split::{split_file, RecordSyntax};
    use std::io::Write;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("symbol", DataType::Varchar),
            Field::new("price", DataType::Double),
            Field::new("qty", DataType::BigInt),
            Field::new("ts", DataType::Timestamp),
            Field::new("ok", DataType::Boolean),
            Field::new(
                "amount",
                DataType::Decimal {
                    precision: 10,
                    scale: 3,
                },
            ),
        ])
    }

    fn read_all(src: &mut dyn BatchSource) -> (Batch, Vec<Malformed>) {
        let mut batch = Batch::new(6);
        let mut bad = Vec::new();
        while src.fill(&mut batch, &mut bad, 3).unwrap() {}
        (batch, bad)
    }

    #[test]
    fn typed_values_missing_keys_and_case() {
        let text = concat!(
            r#"{"SYMBOL":"A","price":1,"qty":2,"ts":"2026-01-01T00:00:10Z","ok":true,"amount":1120.472,"extra":[1]}"#,
            "\n\n",
            r#"{"symbol":7,"price":"2.5","qty":3.0,"ts":1500,"ok":null}"#,
            "\n",
        );
        let mut src = JsonlSource::new("j", &schema(), text.as_bytes(), "mem");
        let (batch, bad) = read_all(&mut src);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            batch.row(0),
            &[
                Value::str("A"),
                Value::Double(1.0),
                Value::Int(2),
                Value::Timestamp(1_767_225_610_000),
                Value::Bool(true),
                Value::Decimal(Decimal::new(1_120_472, 3)),
            ]
        );
        assert_eq!(
            batch.row(1),
            &[
                Value::str("7"),
                Value::Double(2.5),
                Value::Int(3),
                Value::Timestamp(1500),
                Value::Null,
                Value::Null,
            ]
        );
        let second = text.find("\n\n").unwrap() as u64 + 2;
        assert_eq!(batch.positions(), &[0, second]);
    }

    #[test]
    fn escaped_keys_match_their_columns() {
        let text = "{\"sym\\u0062ol\":\"A\",\"q\\ty\":1,\"\\u0071ty\":2}\n";
        let mut src = JsonlSource::new("j", &schema(), text.as_bytes(), "mem");
        let (batch, bad) = read_all(&mut src);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(batch.row(0)[0], Value::str("A"));
        assert_eq!(batch.row(0)[2], Value::Int(2));
    }

    #[test]
    fn malformed_lines_with_line_numbers() {
        let text = "{\"qty\":1}\n{\"qty\":\nnot json\n[1,2]\n{\"qty\":1.5}\n{\"ok\":\"maybe\"}\n{\"qty\":4}\n";
        let mut src = JsonlSource::new("j", &schema(), text.as_bytes(), "mem");
        let (batch, bad) = read_all(&mut src);
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.row(1)[2], Value::Int(4));
        let lines: Vec<_> = bad
            .iter()
            .map(|m| (m.line.unwrap(), m.raw.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (2, "{\"qty\":"),
                (3, "not json"),
                (4, "[1,2]"),
                (5, "{\"qty\":1.5}"),
                (6, "{\"ok\":\"maybe\"}")
            ]
        );
        assert!(
            bad[0].reason.starts_with("invalid JSON: "),
            "{}",
            bad[0].reason
        );
        assert_eq!(bad[2].reason, "not a JSON object");
        assert_eq!(bad[3].reason, "column 'qty': 1.5 is not a BIGINT");
        assert_eq!(bad[4].reason, "column 'ok': 'maybe' is not a BOOLEAN");
        assert_eq!(bad[1].position, 18);
    }

    #[test]
    fn ranges_together_read_the_whole_file() {
        let text = "{\"qty\":1}\n{\"qty\":22}\n\n{\"qty\":333}\n{\"qty\":4}";
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let f = SharedFile::new(file, "mem", text.len() as u64);
        let (whole, _) = read_all(&mut JsonlSource::new("j", &schema(), text.as_bytes(), "m"));
        assert_eq!(whole.len(), 4);
        for chunk in [1, 3, 11, 100] {
            let mut joined = Batch::new(6);
            for range in split_file(&f, chunk, None, RecordSyntax::Lines).unwrap() {
                let mut src = JsonlSource::open_range("j", &schema(), &f, range).unwrap();
                let (part, _) = read_all(&mut src);
                for (row, pos) in part.rows() {
                    joined.push_row(row, pos);
                }
            }
            assert_eq!(joined, whole, "chunk {chunk}");
        }
    }

    /// A producer that has written `lines` and then waits: one more read
    /// would block, which here is an error.
    struct SlowProducer {
        lines: std::collections::VecDeque<&'static [u8]>,
    }

    impl Read for SlowProducer {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let line = self
                .lines
                .pop_front()
                .ok_or_else(|| io::Error::other("read() would block: the producer waits"))?;
            buf[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }

    #[test]
    fn a_live_source_hands_over_what_it_has_without_another_read() {
        let producer = SlowProducer {
            lines: [
                &b"{\"qty\":1}\n"[..],
                &b"{\"qty\":2}\nnot json\n{\"qty\":"[..],
            ]
            .into(),
        };
        let mut src = JsonlSource::new("j", &schema(), producer, "pipe").live();
        let mut batch = Batch::new(6);
        let mut bad = Vec::new();
        assert!(src.fill(&mut batch, &mut bad, 100).unwrap());
        assert_eq!(batch.len(), 1);
        assert!(src.fill(&mut batch, &mut bad, 100).unwrap());
        assert_eq!((batch.len(), bad.len()), (2, 1));
        assert_eq!(batch.row(1)[2], Value::Int(2));
        // Only a partial line is left: finding the next record needs a read.
        let err = src.fill(&mut batch, &mut bad, 100).unwrap_err();
        assert!(err.to_string().contains("would block"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_does_not_cost_the_first_record() {
        let text = "\u{feff}{\"qty\":1}\n{\"qty\":2}\n";
        let (batch, bad) = read_all(&mut JsonlSource::new("j", &schema(), text.as_bytes(), "m"));
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.row(0)[2], Value::Int(1));
    }
}
