//! What the fuzz targets check, in one place: the fuzz crate runs these on
//! generated inputs, and `tests/hostile_input.rs` (which includes this file)
//! runs them on every saved input under `tests/data/fuzz/<target>/` and on
//! proptest's inputs. Only corestream's public API is used.
//!
//! An input's first byte chooses the reading options ([`Options`]); the rest
//! is the text read.

use corestream::data::{DataType, Field, Schema};
use corestream::io::{
    plan_chunks, BatchSource, CsvOptions, CsvSource, JsonlSource, Malformed, SourceState,
    DEFAULT_MAX_RECORD_BYTES,
};
use corestream::plan::TableDef;
use std::io::Write;

/// Reading options taken from a byte: CSV header or not, one of four
/// delimiters, a record-length limit (the default, or a small one so that
/// short inputs reach it), and whether to put a header naming the schema's
/// columns before the text (fuzzed text rarely names them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub header: bool,
    pub delimiter: u8,
    pub max_record_bytes: Option<usize>,
    pub add_header: bool,
}

impl Options {
    pub fn from_byte(byte: u8) -> Options {
        let delimiter = [b',', b';', b'\t', b'|'][usize::from((byte >> 1) & 3)];
        let max_record_bytes = match (byte >> 3) & 7 {
            0 | 1 => None,
            k => Some(1 << (k + 1)),
        };
        let header = byte & 1 == 0;
        Options {
            header,
            delimiter,
            max_record_bytes,
            add_header: header && byte & 0x40 == 0,
        }
    }

    /// The text read: `fuzzed`, after a header line if [`Options::add_header`].
    pub fn text(self, fuzzed: &[u8]) -> Vec<u8> {
        let mut text = Vec::with_capacity(fuzzed.len() + 16);
        if self.add_header {
            let names: Vec<String> = schema().fields.iter().map(|f| f.name.clone()).collect();
            text.extend_from_slice(
                names
                    .join(&char::from(self.delimiter).to_string())
                    .as_bytes(),
            );
            text.push(b'\n');
        }
        text.extend_from_slice(fuzzed);
        text
    }

    fn limit(self) -> usize {
        self.max_record_bytes.unwrap_or(DEFAULT_MAX_RECORD_BYTES)
    }

    fn csv(self) -> CsvOptions {
        CsvOptions {
            delimiter: self.delimiter,
            header: self.header,
        }
    }

    /// The source's WITH properties for a file at `path`.
    fn properties(self, path: &str, format: &str) -> Vec<(String, String)> {
        let mut properties = vec![
            ("path".to_string(), path.to_string()),
            ("format".to_string(), format.to_string()),
            ("header".to_string(), self.header.to_string()),
            (
                "delimiter".to_string(),
                char::from(self.delimiter).to_string(),
            ),
        ];
        if let Some(limit) = self.max_record_bytes {
            properties.push(("max_record_bytes".to_string(), limit.to_string()));
        }
        properties
    }
}

/// One column of every type, so every converter sees the fuzzed text.
pub fn schema() -> Schema {
    Schema::new(vec![
        Field::new("s", DataType::Varchar),
        Field::new("i", DataType::BigInt),
        Field::new("d", DataType::Double),
        Field::new(
            "m",
            DataType::Decimal {
                precision: 10,
                scale: 2,
            },
        ),
        Field::new("b", DataType::Boolean),
        Field::new("t", DataType::Timestamp),
    ])
}

/// Everything a reading produced, comparable between two ways of reading.
#[derive(Debug, Default, PartialEq)]
pub struct Reading {
    /// Rows as text (`NaN` would not compare equal as a value) with positions.
    pub rows: Vec<(u64, String)>,
    /// Malformed records: position, line, reason, raw text.
    pub malformed: Vec<(u64, Option<u64>, String, String)>,
    /// Lines consumed, header included.
    pub lines: u64,
}

impl Reading {
    /// Reads all of `source`, with `line_offset` added to its malformed
    /// records' chunk-relative lines (as the runtime numbers them).
    fn add(&mut self, source: &mut dyn BatchSource, line_offset: Option<u64>) {
        let mut batch = corestream::data::Batch::new(schema().len());
        let mut bad: Vec<Malformed> = Vec::new();
        while source
            .fill(&mut batch, &mut bad, 7)
            .expect("reading from memory or a temp file")
        {}
        self.rows
            .extend(batch.rows().map(|(row, pos)| (pos, format!("{row:?}"))));
        self.malformed.extend(bad.into_iter().map(|m| {
            let line = match line_offset {
                Some(offset) => m.line_in_split.map(|l| l + offset),
                None => m.line,
            };
            (m.position, line, m.reason, m.raw)
        }));
        self.lines += source.lines_read().unwrap_or(0);
    }

    /// Positions rise strictly over rows and malformed records together,
    /// every line was consumed, and no malformed copy exceeds the limit.
    fn check_invariants(&self, text: &[u8], options: Options) {
        let mut positions: Vec<u64> = self.rows.iter().map(|r| r.0).collect();
        positions.extend(self.malformed.iter().map(|m| m.0));
        positions.sort_unstable();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{self:?}");
        assert!(positions.iter().all(|&p| p < text.len() as u64));
        assert_eq!(self.lines, line_count(text), "{self:?}");
        if let Some(limit) = options.max_record_bytes {
            for (_, _, _, raw) in &self.malformed {
                // Lossy UTF-8 turns one invalid byte into a 3-byte U+FFFD.
                assert!(raw.len() <= 3 * limit, "copy of {} bytes", raw.len());
            }
        }
    }
}

/// Lines in `text`: line breaks, plus a last line without one.
pub fn line_count(text: &[u8]) -> u64 {
    let breaks = text.iter().filter(|&&b| b == b'\n').count() as u64;
    breaks + u64::from(text.last().is_some_and(|&b| b != b'\n'))
}

/// Splits a fuzz input into its options and the rest.
fn options_and_rest(data: &[u8]) -> (Options, &[u8]) {
    match data.split_first() {
        Some((&byte, rest)) => (Options::from_byte(byte), rest),
        None => (Options::from_byte(0), data),
    }
}

/// Target `csv`: reading CSV text with a declared schema never panics and
/// keeps the invariants of [`Reading`].
pub fn csv(data: &[u8]) {
    let (options, rest) = options_and_rest(data);
    let text = options.text(rest);
    if let Some(reading) = read_whole(&text, options, "csv") {
        reading.check_invariants(&text, options);
    }
}

/// Target `jsonl`: reading JSON lines never panics and keeps the invariants
/// of [`Reading`].
pub fn jsonl(data: &[u8]) {
    let (options, text) = options_and_rest(data);
    if let Some(reading) = read_whole(text, options, "jsonl") {
        reading.check_invariants(text, options);
    }
}

/// Target `split`: reading a file in chunks of any size gives what reading
/// it whole gives: the same rows at the same positions, the same malformed
/// records with the same line numbers, the same line count. The second byte
/// of `data` picks the chunk sizes.
pub fn split(data: &[u8]) {
    let (options, rest) = options_and_rest(data);
    let (seed, fuzzed) = match rest.split_first() {
        Some((&seed, fuzzed)) => (u64::from(seed), fuzzed),
        None => (0, rest),
    };
    let text = options.text(fuzzed);
    let sizes = [1 + seed % 8, 1 + seed, 1 + text.len() as u64 / 3];
    same_rows_for_chunk_sizes(&text, options, "csv", &sizes);
    same_rows_for_chunk_sizes(fuzzed, options, "jsonl", &sizes);
}

/// Asserts that reading `text` in chunks of each of `chunk_sizes` gives what
/// reading it whole gives.
pub fn same_rows_for_chunk_sizes(text: &[u8], options: Options, format: &str, chunk_sizes: &[u64]) {
    let file = temp_file_with(text);
    let path = file.path().to_str().expect("temp paths are UTF-8");
    let table = TableDef {
        name: "t".to_string(),
        schema: schema(),
        properties: options.properties(path, format),
    };
    let Some(whole) = read_whole(text, options, format) else {
        return; // a header that does not name the columns: a usage error
    };
    for &chunk_bytes in chunk_sizes {
        let chunked = read_chunked(&table, chunk_bytes);
        assert_eq!(
            chunked, whole,
            "{format}, {options:?}, chunks of {chunk_bytes} bytes"
        );
    }
}

/// Reads all of `text` (`format` `csv` or `jsonl`) as one stream, the way a
/// pipe is read; `None` when the CSV header does not name the columns (a
/// usage error).
pub fn read_whole(text: &[u8], options: Options, format: &str) -> Option<Reading> {
    let mut source: Box<dyn BatchSource> = match format {
        "csv" => Box::new(
            CsvSource::new("t", &schema(), text, "whole", options.csv())
                .ok()?
                .with_max_record_bytes(options.limit()),
        ),
        _ => Box::new(
            JsonlSource::new("t", &schema(), text, "whole").with_max_record_bytes(options.limit()),
        ),
    };
    let mut reading = Reading::default();
    reading.add(source.as_mut(), None);
    Some(reading)
}

/// Reads `table`'s file in chunks of about `chunk_bytes`, numbering malformed
/// lines as the runtime does: the header's lines count towards the first
/// chunk, and each chunk starts where the lines of those before it end.
pub fn read_chunked(table: &TableDef, chunk_bytes: u64) -> Reading {
    let plan = plan_chunks(table, chunk_bytes, 1).expect("planning a readable file");
    let mut reading = Reading {
        lines: plan.lines_before_data(),
        ..Reading::default()
    };
    // One state handed from chunk to chunk, as a shard's readers do.
    let mut state = SourceState::new();
    for index in 0..plan.len() {
        let mut source = plan
            .open(table, index, &mut state)
            .expect("opening a chunk");
        reading.add(source.as_mut(), Some(reading.lines));
        source.save_state(&mut state);
    }
    reading
}

fn temp_file_with(text: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    file.write_all(text).expect("writing a temp file");
    file.flush().expect("flushing a temp file");
    file
}

/// Target `sql`: parsing and planning any script never panics (errors are
/// fine), and a plan can be explained.
pub fn sql(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = corestream::plan_script(text) {
        let _ = plan.explain();
    }
}
