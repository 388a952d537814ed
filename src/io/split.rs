//! Splits: cutting a file into byte ranges whose boundaries are record
//! starts, so that several readers can parse one file in parallel, and
//! reading a CSV header once so that every range reader knows the column
//! mapping.
//!
//! A range `[start, end)` is read as exactly the records that *start* inside
//! it (a reader finishes the record it is in when it reaches `end`).
//! Positions stay absolute byte offsets in the file.
//!
//! Cutting never changes what is read: every boundary is a place where the
//! reader of the whole file starts a record (or a blank line), so a reader
//! started there reads the same records, and the lines each range reports
//! add up to the file's lines.
//!
//! - JSON lines ([`RecordSyntax::Lines`]): a JSON string cannot hold a raw
//!   line break, so every line start is a record start, and a cut moves to
//!   the next one.
//! - CSV ([`RecordSyntax::Csv`]): a quoted field may hold line breaks, and
//!   whether a given line break is inside quotes depends on every quote
//!   before it, so no local rule can tell. The splitter therefore runs the
//!   reader's own record scanner (`RecordReader::advance_to`) over the file
//!   once, from the start of the data, and cuts at the first record start at
//!   or after each cut point. Runs of lines without a `"` are passed over with
//!   `memchr` (each of their line starts is a record start), so a file with
//!   no quote at all is scanned at memory speed; only records holding a quote
//!   go through the state machine.

use super::input::SharedFile;
use super::records::{RecordMeta, RecordReader};
use crate::error::{Error, Result};
use memchr::memchr;
use std::io::{self, Read};

/// A byte range of a file: the records that start in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
    /// 1-based line number of the line at `start`, when known (only for the
    /// first range of a file: finding it for others would mean reading the
    /// whole file before splitting).
    pub first_line: Option<u64>,
}

/// A CSV file's header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    /// Column names as written (a UTF-8 byte-order mark and surrounding
    /// spaces removed). Empty when the file is empty.
    pub names: Vec<String>,
    /// Byte offset where the data after the header starts.
    pub data_start: u64,
    /// Lines the header spans (blank lines before it included).
    pub lines: u64,
}

/// Reads the header line of the CSV `file`.
pub fn read_csv_header(file: &SharedFile, delimiter: u8) -> Result<CsvHeader> {
    let mut reader = RecordReader::new(file.reader_at(0), 0, u64::MAX, delimiter);
    header_of(&mut reader).map_err(|e| Error::io(file.label(), e))
}

/// Consumes the first record of `reader` as a header (read under the
/// default record-length limit).
pub(crate) fn header_of<R: Read>(reader: &mut RecordReader<R>) -> io::Result<CsvHeader> {
    let names = match reader.next_record()? {
        None => Vec::new(),
        Some(RecordMeta {
            problem: Some(problem),
            ..
        }) => {
            let message = format!("the header cannot be read: {}", problem.reason());
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        }
        Some(_) => (0..reader.field_count())
            .map(|i| clean_header_name(reader.field(i), i == 0))
            .collect(),
    };
    Ok(CsvHeader {
        names,
        data_start: reader.offset(),
        lines: reader.lines_read(),
    })
}

fn clean_header_name(bytes: &[u8], first: bool) -> String {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) if first => rest,
        _ => bytes,
    };
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// How a file's records are delimited, for cutting it into ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSyntax {
    /// One record per line (JSON lines).
    Lines,
    /// CSV records, as [`crate::io::CsvSource`] reads them with this
    /// delimiter and record-length limit.
    Csv {
        delimiter: u8,
        max_record_bytes: usize,
    },
}

/// Cuts `file` into ranges of about `chunk_bytes` (at least 1), each
/// starting at a record start of `syntax`. With `header`, the first range
/// starts after it. Always returns at least one range (possibly empty).
pub fn split_file(
    file: &SharedFile,
    chunk_bytes: u64,
    header: Option<&CsvHeader>,
    syntax: RecordSyntax,
) -> Result<Vec<ByteRange>> {
    let io_err = |e| Error::io(file.label(), e);
    let len = file.len();
    let (data_start, first_line) = match header {
        Some(h) => (h.data_start.min(len), h.lines + 1),
        None => (0, 1),
    };
    let bounds = match syntax {
        RecordSyntax::Lines => cut_ranges(data_start, len, chunk_bytes, |at| {
            next_line_start(file, at, len)
        }),
        RecordSyntax::Csv {
            delimiter,
            max_record_bytes,
        } => {
            let input = file.reader_at(data_start);
            let mut records = RecordReader::new(input, data_start, u64::MAX, delimiter);
            records.set_max_record_bytes(max_record_bytes);
            cut_ranges(data_start, len, chunk_bytes, |at| records.advance_to(at))
        }
    }
    .map_err(io_err)?;
    Ok(bounds
        .into_iter()
        .enumerate()
        .map(|(i, (start, end))| ByteRange {
            start,
            end,
            first_line: (i == 0).then_some(first_line),
        })
        .collect())
}

/// `[start, end)` pairs covering `[data_start, len)`, each ending at the
/// first boundary (`boundary_at(cut)`: the first one at or after `cut`) past
/// about `chunk_bytes`; at least one, possibly empty.
fn cut_ranges(
    data_start: u64,
    len: u64,
    chunk_bytes: u64,
    mut boundary_at: impl FnMut(u64) -> io::Result<u64>,
) -> io::Result<Vec<(u64, u64)>> {
    let chunk = chunk_bytes.max(1);
    let mut ranges = Vec::new();
    let mut start = data_start;
    while start < len {
        let cut = start.saturating_add(chunk);
        let end = if cut >= len {
            len
        } else {
            // No boundary past `start` means the file ends before `len` (it shrank).
            Some(boundary_at(cut)?)
                .filter(|&boundary| boundary > start)
                .map_or(len, |boundary| boundary.min(len))
        };
        ranges.push((start, end));
        start = end;
    }
    if ranges.is_empty() {
        ranges.push((data_start, len));
    }
    Ok(ranges)
}

/// The first line start at or after `offset` (`offset` itself when the byte
/// before it is `'\n'`), or `len` when no line starts there.
pub(crate) fn next_line_start(file: &SharedFile, offset: u64, len: u64) -> io::Result<u64> {
    if offset == 0 {
        return Ok(0);
    }
    let mut at = offset - 1;
    let mut block = vec![0u8; 64 * 1024];
    while at < len {
        let n = file.read_at(&mut block, at)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr(b'\n', &block[..n]) {
            return Ok(at + i as u64 + 1);
        }
        at += n as u64;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const CSV: RecordSyntax = RecordSyntax::Csv {
        delimiter: b',',
        max_record_bytes: 1 << 20,
    };

    fn file_with(text: &[u8]) -> SharedFile {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text).unwrap();
        SharedFile::new(f, "mem", text.len() as u64)
    }

    #[test]
    fn header_is_read_once_with_its_end() {
        let f = file_with(b"\xEF\xBB\xBFsymbol; price\nA;1\n");
        let h = read_csv_header(&f, b';').unwrap();
        assert_eq!(h.names, vec!["symbol", "price"]);
        assert_eq!(h.data_start, 17);
        assert_eq!(h.lines, 1);
    }

    #[test]
    fn ranges_are_line_aligned_and_cover_the_data() {
        let text = b"h\naaa\nbb\nc\n";
        let f = file_with(text);
        let h = read_csv_header(&f, b',').unwrap();
        let ranges = split_file(&f, 3, Some(&h), CSV).unwrap();
        let bounds: Vec<_> = ranges.iter().map(|r| (r.start, r.end)).collect();
        // 2+3 = 5 is inside "aaa\n" -> 6; 6+3 = 9 is a line start; 9+3 >= 11.
        assert_eq!(bounds, vec![(2, 6), (6, 9), (9, 11)]);
        assert_eq!(ranges[0].first_line, Some(2));
        assert_eq!(ranges[1].first_line, None);
    }

    #[test]
    fn empty_and_header_only_files_give_one_empty_range() {
        let f = file_with(b"a,b\n");
        let h = read_csv_header(&f, b',').unwrap();
        let ranges = split_file(&f, 10, Some(&h), CSV).unwrap();
        assert_eq!(ranges.len(), 1);
        assert_eq!((ranges[0].start, ranges[0].end), (4, 4));
        let e = file_with(b"");
        assert!(read_csv_header(&e, b',').unwrap().names.is_empty());
    }

    #[test]
    fn an_unreadable_header_is_an_error_naming_the_file() {
        let f = file_with(b"a,\"b\n1,2\n");
        let err = read_csv_header(&f, b',').unwrap_err().to_string();
        assert_eq!(
            err,
            "mem: the header cannot be read: \
             the quoted field opened at byte 2 is not closed at the end of the input"
        );
    }

    #[test]
    fn csv_ranges_start_at_record_starts_not_at_quoted_line_breaks() {
        let text = b"h\n\"a\nb\nc\",1\n\"d\",2\n";
        let f = file_with(text);
        let h = read_csv_header(&f, b',').unwrap();
        let bounds = |syntax| -> Vec<(u64, u64)> {
            let ranges = split_file(&f, 1, Some(&h), syntax).unwrap();
            ranges.iter().map(|r| (r.start, r.end)).collect()
        };
        assert_eq!(bounds(CSV), vec![(2, 12), (12, 18)]);
        assert_eq!(
            bounds(RecordSyntax::Lines),
            vec![(2, 5), (5, 7), (7, 12), (12, 18)]
        );
    }
}
