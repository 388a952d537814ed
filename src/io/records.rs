//! Buffered record reading: cuts a byte stream into CSV records (RFC 4180
//! quoting, quoted newlines) or plain lines, keeping each record's exact byte
//! offset, its line number and its raw text.
//!
//! The common case, a line without quotes, is found and split in one
//! `memchr3` pass with no copying; only records containing `"` go through a
//! byte-by-byte state machine that unescapes into a scratch buffer. Empty
//! lines are skipped (but counted).

use memchr::{memchr, memchr3_iter};
use std::io::{self, Read};

const INITIAL_BUFFER: usize = 256 * 1024;

/// Where a record starts and spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordMeta {
    /// Absolute byte offset of the record's first byte.
    pub position: u64,
    /// 1-based line number of the record's first line, counted from the
    /// reader's start.
    pub line: u64,
}

/// Reads records from `inner`, whose first byte sits at absolute offset
/// `base_offset`, stopping at the first line that starts at or after `limit`.
pub(crate) struct RecordReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Consumed up to here.
    pos: usize,
    /// Valid bytes end here.
    len: usize,
    eof: bool,
    /// Absolute offset of `buf[pos]`.
    offset: u64,
    limit: u64,
    /// Line starts consumed so far.
    lines: u64,
    delimiter: u8,
    // The current record: its start in `buf`, raw length (terminator
    // excluded) and fields as spans into `buf[record_start..]` or `scratch`.
    record_start: usize,
    record_len: usize,
    spans: Vec<(usize, usize)>,
    in_scratch: bool,
    scratch: Vec<u8>,
    /// While set, needing more input is an [`io::ErrorKind::WouldBlock`]
    /// error instead of a `read()` (see [`RecordReader::hold_reads`]).
    reads_held: bool,
}

/// Result of trying to cut one record out of the buffered bytes.
enum Scan {
    /// A record of `len` raw bytes, `consumed` bytes with its terminator,
    /// holding `newlines` quoted line breaks.
    Complete {
        len: usize,
        consumed: usize,
        newlines: u64,
    },
    /// An empty line of `consumed` bytes.
    Blank { consumed: usize },
    /// The buffered bytes end before the record does.
    Incomplete,
}

impl<R: Read> RecordReader<R> {
    pub fn new(inner: R, base_offset: u64, limit: u64, delimiter: u8) -> Self {
        RecordReader {
            inner,
            buf: vec![0; INITIAL_BUFFER],
            pos: 0,
            len: 0,
            eof: false,
            offset: base_offset,
            limit,
            lines: 0,
            delimiter,
            record_start: 0,
            record_len: 0,
            spans: Vec::with_capacity(16),
            in_scratch: false,
            scratch: Vec::new(),
            reads_held: false,
        }
    }

    /// While `held`, a record that is not wholly buffered is not read: the
    /// reader fails with [`io::ErrorKind::WouldBlock`] and keeps its state, so
    /// a live source holding rows never blocks in `read()`.
    pub fn hold_reads(&mut self, held: bool) {
        self.reads_held = held;
    }

    /// Absolute offset of the first byte not yet consumed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Line starts consumed so far (blank lines and quoted line breaks
    /// included).
    pub fn lines_read(&self) -> u64 {
        self.lines
    }

    /// The next CSV record, or `None` at the end of input or of the range.
    pub fn next_record(&mut self) -> io::Result<Option<RecordMeta>> {
        self.next_with(true)
    }

    /// The next non-empty line (no quote handling), as a one-field record.
    pub fn next_line(&mut self) -> io::Result<Option<RecordMeta>> {
        self.next_with(false)
    }

    pub fn field_count(&self) -> usize {
        self.spans.len()
    }

    /// Field `index` of the current record (unescaped).
    pub fn field(&self, index: usize) -> &[u8] {
        let (start, end) = self.spans[index];
        if self.in_scratch {
            &self.scratch[start..end]
        } else {
            &self.buf[self.record_start + start..self.record_start + end]
        }
    }

    /// The current record's raw bytes, line terminator excluded.
    pub fn raw(&self) -> &[u8] {
        &self.buf[self.record_start..self.record_start + self.record_len]
    }

    fn next_with(&mut self, csv: bool) -> io::Result<Option<RecordMeta>> {
        loop {
            if self.offset >= self.limit {
                return Ok(None);
            }
            if self.pos == self.len {
                if self.eof {
                    return Ok(None);
                }
                self.fill_more()?;
                continue;
            }
            let scan = if csv {
                self.scan_csv()
            } else {
                self.scan_line()
            };
            match scan {
                Scan::Incomplete => self.fill_more()?,
                Scan::Blank { consumed } => {
                    self.lines += 1;
                    self.consume(consumed);
                }
                Scan::Complete {
                    len,
                    consumed,
                    newlines,
                } => {
                    self.lines += 1;
                    let meta = RecordMeta {
                        position: self.offset,
                        line: self.lines,
                    };
                    self.lines += newlines;
                    self.record_start = self.pos;
                    self.record_len = len;
                    self.consume(consumed);
                    return Ok(Some(meta));
                }
            }
        }
    }

    fn consume(&mut self, bytes: usize) {
        self.pos += bytes;
        self.offset += bytes as u64;
    }

    /// Moves the unconsumed bytes to the front, grows the buffer when they
    /// fill it, and reads more. Sets `eof` when the input is exhausted.
    fn fill_more(&mut self) -> io::Result<()> {
        if self.reads_held {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            let doubled = self.buf.len() * 2;
            self.buf.resize(doubled, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn scan_line(&mut self) -> Scan {
        let data = &self.buf[self.pos..self.len];
        let (end, consumed) = match memchr(b'\n', data) {
            Some(i) => (i, i + 1),
            None if self.eof => (data.len(), data.len()),
            None => return Scan::Incomplete,
        };
        let len = strip_cr(data, 0, end);
        self.spans.clear();
        self.spans.push((0, len));
        self.in_scratch = false;
        if len == 0 {
            Scan::Blank { consumed }
        } else {
            Scan::Complete {
                len,
                consumed,
                newlines: 0,
            }
        }
    }

    /// Fast path: one pass over delimiters and newlines; falls back to
    /// [`Self::scan_quoted`] at the first quote.
    fn scan_csv(&mut self) -> Scan {
        let data = &self.buf[self.pos..self.len];
        self.spans.clear();
        self.in_scratch = false;
        let mut field_start = 0;
        for i in memchr3_iter(self.delimiter, b'"', b'\n', data) {
            match data[i] {
                b'\n' => {
                    let end = strip_cr(data, field_start, i);
                    if self.spans.is_empty() && end == 0 {
                        return Scan::Blank { consumed: i + 1 };
                    }
                    self.spans.push((field_start, end));
                    return Scan::Complete {
                        len: end,
                        consumed: i + 1,
                        newlines: 0,
                    };
                }
                b'"' => return self.scan_quoted(),
                _ => {
                    self.spans.push((field_start, i));
                    field_start = i + 1;
                }
            }
        }
        if !self.eof {
            return Scan::Incomplete;
        }
        let end = strip_cr(data, field_start, data.len());
        if self.spans.is_empty() && end == 0 {
            return Scan::Blank {
                consumed: data.len(),
            };
        }
        self.spans.push((field_start, end));
        Scan::Complete {
            len: end,
            consumed: data.len(),
            newlines: 0,
        }
    }

    /// Slow path for records with quotes: unescapes every field into
    /// `scratch`. A quote opens a quoted field only at the start of a field;
    /// `""` inside one is a literal quote; anything after the closing quote
    /// is kept literally (as the csv crate does).
    fn scan_quoted(&mut self) -> Scan {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            FieldStart,
            Unquoted,
            Quoted,
            QuoteInQuoted,
        }
        let data = &self.buf[self.pos..self.len];
        let delimiter = self.delimiter;
        self.spans.clear();
        self.scratch.clear();
        self.in_scratch = true;
        let mut state = State::FieldStart;
        let mut field_start = 0;
        let mut newlines = 0;
        let mut record_end = None;
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' && state != State::Quoted {
                record_end = Some(i);
                break;
            }
            state = match (state, b) {
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => {
                    if b == b'\n' && i + 1 < data.len() {
                        newlines += 1;
                    }
                    self.scratch.push(b);
                    State::Quoted
                }
                (State::FieldStart, b'"') => State::Quoted,
                (State::QuoteInQuoted, b'"') => {
                    self.scratch.push(b'"');
                    State::Quoted
                }
                (_, b) if b == delimiter => {
                    self.spans.push((field_start, self.scratch.len()));
                    field_start = self.scratch.len();
                    State::FieldStart
                }
                (_, b) => {
                    self.scratch.push(b);
                    State::Unquoted
                }
            };
        }
        let (raw_end, consumed) = match record_end {
            Some(i) => (i, i + 1),
            None if self.eof => (data.len(), data.len()),
            None => return Scan::Incomplete,
        };
        // A '\r' before the line break ends the line, not the field.
        let mut last_end = self.scratch.len();
        let len = strip_cr(data, 0, raw_end);
        if len < raw_end && state != State::Quoted && last_end > field_start {
            last_end -= 1;
        }
        self.spans.push((field_start, last_end));
        Scan::Complete {
            len,
            consumed,
            newlines,
        }
    }
}

/// `end`, moved back over one `'\r'` that directly precedes it (not before `start`).
fn strip_cr(data: &[u8], start: usize, end: usize) -> usize {
    if end > start && data[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, delimiter: u8) -> Vec<(u64, u64, Vec<String>, String)> {
        let mut r = RecordReader::new(text.as_bytes(), 0, u64::MAX, delimiter);
        let mut out = Vec::new();
        while let Some(meta) = r.next_record().unwrap() {
            let fields = (0..r.field_count())
                .map(|i| String::from_utf8_lossy(r.field(i)).into_owned())
                .collect();
            let raw = String::from_utf8_lossy(r.raw()).into_owned();
            out.push((meta.position, meta.line, fields, raw));
        }
        out
    }

    #[test]
    fn plain_records_with_positions_lines_and_blank_lines() {
        let got = records("a,b\n1,2\n\n3,4\r\n5,\n", b',');
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], (0, 1, vec!["a".into(), "b".into()], "a,b".into()));
        assert_eq!(got[1].0, 4);
        assert_eq!(got[2], (9, 4, vec!["3".into(), "4".into()], "3,4".into()));
        assert_eq!(got[3], (14, 5, vec!["5".into(), "".into()], "5,".into()));
    }

    #[test]
    fn quoted_fields_newlines_and_escapes() {
        let text = "1,\"x, \"\"y\"\"\nz\",2\r\n\"\",after\n3,\"q\"tail";
        let got = records(text, b',');
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].2, vec!["1", "x, \"y\"\nz", "2"]);
        assert_eq!(got[0].1, 1);
        assert_eq!(got[1].2, vec!["", "after"]);
        assert_eq!(got[1].1, 3);
        assert_eq!(got[1].0, text.find("\"\",after").unwrap() as u64);
        assert_eq!(got[2].2, vec!["3", "qtail"]);
        assert_eq!(got[2].3, "3,\"q\"tail");
    }

    #[test]
    fn last_line_without_newline_and_small_buffer_growth() {
        let long = "x".repeat(INITIAL_BUFFER * 2 + 7);
        let text = format!("{long};1\n2;3");
        let got = records(&text, b';');
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].2[0].len(), long.len());
        assert_eq!(got[1].2, vec!["2", "3"]);
        assert_eq!(got[1].0, long.len() as u64 + 3);
    }

    #[test]
    fn limit_stops_at_first_line_starting_past_it() {
        let text = "aa\nbb\n\ncc\n";
        let mut r = RecordReader::new(text.as_bytes(), 100, 106, b',');
        assert_eq!(r.next_record().unwrap().unwrap().position, 100);
        assert_eq!(r.next_record().unwrap().unwrap().position, 103);
        assert_eq!(r.next_record().unwrap(), None);
        assert_eq!(r.lines_read(), 2);
    }

    #[test]
    fn lines_mode_ignores_quotes() {
        let mut r = RecordReader::new("{\"a\":\"x,y\"}\n\n{}\r\n".as_bytes(), 0, u64::MAX, b',');
        let m = r.next_line().unwrap().unwrap();
        assert_eq!((m.position, m.line), (0, 1));
        assert_eq!(r.field(0), b"{\"a\":\"x,y\"}");
        let m = r.next_line().unwrap().unwrap();
        assert_eq!((m.position, m.line), (13, 3));
        assert_eq!(r.field(0), b"{}");
        assert!(r.next_line().unwrap().is_none());
        assert_eq!(r.lines_read(), 3);
    }
}
