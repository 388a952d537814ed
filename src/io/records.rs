//! Buffered record reading: cuts a byte stream into CSV records (RFC 4180
//! quoting, quoted newlines) or plain lines, keeping each record's exact byte
//! offset, its line number and its raw text. This module is the one place
//! that decides where a record ends: the readers and the splitter that cuts
//! files into chunks ([`RecordReader::advance_to`]) both use it.
//!
//! The common case, a line without quotes, is found and split in one
//! `memchr3` pass with no copying; only records containing `"` go through a
//! byte-by-byte state machine that unescapes into a scratch buffer. Empty
//! lines are skipped (but counted).
//!
//! # Where a record ends
//!
//! A record starts at a line start. A `"` opens a quoted field only at the
//! start of a field; inside one, `""` is a literal quote and a line break is
//! part of the field; the field closes at a lone `"` (what follows up to the
//! next delimiter is kept literally). The record ends at the first line break
//! outside a quoted field, or at the end of the input. In line mode (JSON
//! lines) every line break ends a record.
//!
//! Two rules keep one bad quote from costing more than one record, and
//! memory bounded:
//!
//! - **Length limit**: a record of more than `max_record_bytes` bytes (the
//!   `\n` ending it excluded; default [`DEFAULT_MAX_RECORD_BYTES`]) is malformed
//!   ([`Problem::TooLong`]). At most `max_record_bytes + 1` bytes of it are
//!   ever buffered, and only a truncated copy of its text is kept.
//! - **Unclosed quote**: a quoted field still open at the end of the input
//!   is malformed ([`Problem::UnclosedQuote`]).
//!
//! After such a record, reading resumes at the first line start after the
//! quote that opened the still-open quoted field, if there is one, or else
//! after the first `max_record_bytes` bytes of the record (at the next line
//! break found there, quotes ignored). So a stray `"` costs the lines from
//! the record's start to the end of the stray quote's line, never the rest of
//! the file, and what follows is read normally. Every byte is scanned a
//! bounded number of times: past the quote that opened the still-open field,
//! the scanned lines hold only doubled quotes (any other quote would close
//! that field or open a later one), so each of them, read afresh, is one
//! short record.

use memchr::{memchr, memchr3_iter, memchr_iter, memrchr};
use std::io::{self, Read};

const INITIAL_BUFFER: usize = 256 * 1024;

/// The longest record read by default, in bytes (its ending `\n` excluded).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

/// The most bytes of an over-long record's text kept for the dead letter.
const TRUNCATED_COPY_BYTES: usize = 4096;

/// Where a record starts and spans, and whether it is readable at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordMeta {
    /// Absolute byte offset of the record's first byte.
    pub position: u64,
    /// 1-based line number of the record's first line, counted from the
    /// reader's start.
    pub line: u64,
    /// Why the record cannot be read; [`RecordReader::raw`] is then a copy
    /// of its text, and a CSV record has no fields (a line has the copy).
    pub problem: Option<Problem>,
}

/// Why a record is malformed before its fields are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Longer than `limit` bytes; `open_quote` is the absolute offset of the
    /// quote that opened a field still open at the limit.
    TooLong {
        limit: usize,
        open_quote: Option<u64>,
    },
    /// The quoted field opened at this absolute offset is still open at the
    /// end of the input.
    UnclosedQuote { at: u64 },
}

impl Problem {
    /// The reason a dead letter gives.
    pub fn reason(&self) -> String {
        match self {
            Problem::TooLong {
                limit,
                open_quote: None,
            } => format!("record longer than {limit} bytes (truncated copy)"),
            Problem::TooLong {
                limit,
                open_quote: Some(at),
            } => format!(
                "record longer than {limit} bytes (truncated copy); \
                 the quoted field opened at byte {at} is not closed"
            ),
            Problem::UnclosedQuote { at } => {
                format!(
                    "the quoted field opened at byte {at} is not closed at the end of the input"
                )
            }
        }
    }
}

/// What one step of reading found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A record (possibly one with a [`Problem`]).
    Record(RecordMeta),
    /// Part of an over-long record's rest was discarded and more remains: a
    /// step's work stays bounded even on an endless line.
    Skipping,
    /// The end of the input, or of the range.
    End,
}

/// Reads records from `inner`, whose first byte sits at absolute offset
/// `base_offset`, stopping at the first record that starts at or after
/// `limit`.
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
    max_record: usize,
    /// Discarding the rest of a malformed record up to the next line break.
    skipping: bool,
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
    /// A malformed record; reading resumes after the first line break at or
    /// after `resume_from` (an index into the unconsumed bytes).
    Broken {
        problem: Problem,
        resume_from: usize,
    },
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
            max_record: DEFAULT_MAX_RECORD_BYTES,
            skipping: false,
            record_start: 0,
            record_len: 0,
            spans: Vec::with_capacity(16),
            in_scratch: false,
            scratch: Vec::new(),
            reads_held: false,
        }
    }

    /// Sets the longest readable record (see the module doc).
    pub fn set_max_record_bytes(&mut self, bytes: usize) {
        self.max_record = bytes;
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

    /// As [`Self::next_record`], but returns [`Step::Skipping`] instead of
    /// discarding an over-long record's rest in one go.
    pub fn step_record(&mut self) -> io::Result<Step> {
        self.step(true)
    }

    /// As [`Self::next_line`], one bounded step at a time.
    pub fn step_line(&mut self) -> io::Result<Step> {
        self.step(false)
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

    /// The current record's raw bytes, line terminator excluded. For a record
    /// with a [`Problem`]: its text up to where reading resumes, at most
    /// [`TRUNCATED_COPY_BYTES`] of it when it is too long.
    pub fn raw(&self) -> &[u8] {
        &self.buf[self.record_start..self.record_start + self.record_len]
    }

    /// Consumes whole CSV records until the next one starts at or after
    /// `at_least` (or the input ends), and returns that record's offset: a
    /// reader started there reads exactly the records this one would.
    /// Lines before the next `"` are passed over with `memchr` (each of their
    /// starts is a record start); the record holding the quote is read as
    /// [`Self::next_record`] reads it. The range limit is not looked at.
    pub fn advance_to(&mut self, at_least: u64) -> io::Result<u64> {
        while self.offset < at_least || self.skipping {
            let jump = if self.skipping || self.pos == self.len {
                0
            } else {
                self.quote_free_lines(at_least)
            };
            if jump > 0 {
                self.consume_lines(jump);
            } else if self.progress(true)? == Some(Step::End) {
                break;
            }
        }
        Ok(self.offset)
    }

    /// How many buffered bytes can be passed over at once: up to the first
    /// line start at or after `at_least` if no quote comes before it, else up
    /// to the last line start before the first quote.
    fn quote_free_lines(&self, at_least: u64) -> usize {
        let data = &self.buf[self.pos..self.len];
        let quote = memchr(b'"', data).unwrap_or(data.len());
        let wanted = usize::try_from(at_least - self.offset).unwrap_or(usize::MAX);
        if wanted <= quote {
            if let Some(i) = memchr(b'\n', &data[wanted - 1..quote]) {
                return wanted + i;
            }
        }
        memrchr(b'\n', &data[..quote]).map_or(0, |i| i + 1)
    }

    /// Consumes `bytes` that end at a line start, counting their lines.
    fn consume_lines(&mut self, bytes: usize) {
        let passed = &self.buf[self.pos..self.pos + bytes];
        self.lines += memchr_iter(b'\n', passed).count() as u64;
        self.consume(bytes);
    }

    fn next_with(&mut self, csv: bool) -> io::Result<Option<RecordMeta>> {
        loop {
            match self.step(csv)? {
                Step::Record(meta) => return Ok(Some(meta)),
                Step::Skipping => {}
                Step::End => return Ok(None),
            }
        }
    }

    fn step(&mut self, csv: bool) -> io::Result<Step> {
        loop {
            if let Some(step) = self.progress(csv)? {
                return Ok(step);
            }
        }
    }

    /// One unit of progress: a record or the end, or `None` after reading
    /// more input or consuming a blank line; [`Step::Skipping`] after
    /// discarding part of a malformed record's rest.
    fn progress(&mut self, csv: bool) -> io::Result<Option<Step>> {
        if self.skipping {
            let done = self.skip_rest_of_line()?;
            return Ok((!done).then_some(Step::Skipping));
        }
        if self.offset >= self.limit || (self.pos == self.len && self.eof) {
            return Ok(Some(Step::End));
        }
        let scan = if self.pos == self.len {
            Scan::Incomplete
        } else if csv {
            self.scan_csv()
        } else {
            self.scan_line()
        };
        Ok(match scan {
            Scan::Incomplete => {
                self.fill_more()?;
                None
            }
            Scan::Blank { consumed } => {
                self.lines += 1;
                self.consume(consumed);
                None
            }
            Scan::Complete {
                len,
                consumed,
                newlines,
            } => Some(Step::Record(self.take_record(len, consumed, newlines))),
            Scan::Broken {
                problem,
                resume_from,
            } => Some(Step::Record(self.take_broken(problem, resume_from, csv))),
        })
    }

    fn take_record(&mut self, len: usize, consumed: usize, newlines: u64) -> RecordMeta {
        self.lines += 1;
        let meta = RecordMeta {
            position: self.offset,
            line: self.lines,
            problem: None,
        };
        self.lines += newlines;
        self.record_start = self.pos;
        self.record_len = len;
        self.consume(consumed);
        meta
    }

    /// Takes a malformed record: keeps a copy of its text, consumes it up to
    /// the first line break at or after `resume_from`, and if that is not
    /// buffered, discards the rest in later steps.
    fn take_broken(&mut self, problem: Problem, resume_from: usize, csv: bool) -> RecordMeta {
        self.lines += 1;
        let meta = RecordMeta {
            position: self.offset,
            line: self.lines,
            problem: Some(problem),
        };
        let data = &self.buf[self.pos..self.len];
        let line_end = memchr(b'\n', &data[resume_from..]).map(|i| resume_from + i);
        let kept = line_end.unwrap_or(data.len());
        self.lines += memchr_iter(b'\n', &data[..kept]).count() as u64;
        let copy_limit = match problem {
            Problem::TooLong { .. } => TRUNCATED_COPY_BYTES.min(self.max_record),
            Problem::UnclosedQuote { .. } => kept,
        };
        self.record_start = self.pos;
        self.record_len = strip_cr(data, 0, kept).min(copy_limit);
        self.in_scratch = false;
        self.spans.clear();
        if !csv {
            self.spans.push((0, self.record_len));
        }
        match line_end {
            Some(end) => self.consume(end + 1),
            None => {
                self.consume(kept);
                self.skipping = !self.eof;
            }
        }
        meta
    }

    /// Discards input through the next line break. Returns `false` when the
    /// buffered input ran out first (more has then been read).
    fn skip_rest_of_line(&mut self) -> io::Result<bool> {
        let data = &self.buf[self.pos..self.len];
        if let Some(i) = memchr(b'\n', data) {
            self.consume(i + 1);
            self.skipping = false;
            return Ok(true);
        }
        self.consume(data.len());
        if self.eof {
            self.skipping = false;
            return Ok(true);
        }
        self.fill_more()?;
        Ok(false)
    }

    fn consume(&mut self, bytes: usize) {
        self.pos += bytes;
        self.offset += bytes as u64;
    }

    /// Moves the unconsumed bytes to the front, grows the buffer when they
    /// fill it, and reads more. Sets `eof` when the input is exhausted. The
    /// scans never ask for more than `max_record + 1` unconsumed bytes, so
    /// the buffer stays below twice that (or [`INITIAL_BUFFER`]).
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

    /// How many of `available` unconsumed bytes a scan looks at: enough to
    /// see a record of the longest allowed length end.
    fn window(&self, available: usize) -> usize {
        available.min(self.max_record.saturating_add(1))
    }

    /// An over-long record; `open_quote` is the index of the quote that
    /// opened a field still open at the limit.
    fn too_long(&self, open_quote: Option<usize>) -> Scan {
        Scan::Broken {
            problem: Problem::TooLong {
                limit: self.max_record,
                open_quote: open_quote.map(|i| self.offset + i as u64),
            },
            resume_from: open_quote.unwrap_or(self.max_record),
        }
    }

    fn scan_line(&mut self) -> Scan {
        let window = self.window(self.len - self.pos);
        let data = &self.buf[self.pos..self.len];
        let (end, consumed) = match memchr(b'\n', &data[..window]) {
            Some(i) => (i, i + 1),
            None if window > self.max_record => return self.too_long(None),
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
        let window = self.window(self.len - self.pos);
        let data = &self.buf[self.pos..self.len];
        self.spans.clear();
        self.in_scratch = false;
        let mut field_start = 0;
        for i in memchr3_iter(self.delimiter, b'"', b'\n', &data[..window]) {
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
        if window > self.max_record {
            return self.too_long(None);
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
        let window = self.window(self.len - self.pos);
        let data = &self.buf[self.pos..self.len];
        let delimiter = self.delimiter;
        self.spans.clear();
        self.scratch.clear();
        self.in_scratch = true;
        let mut state = State::FieldStart;
        let mut field_start = 0;
        let mut newlines = 0;
        let mut record_end = None;
        let mut opening_quote = 0;
        for (i, &b) in data[..window].iter().enumerate() {
            if b == b'\n' && state != State::Quoted {
                record_end = Some(i);
                break;
            }
            state = match (state, b) {
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => {
                    newlines += u64::from(b == b'\n');
                    self.scratch.push(b);
                    State::Quoted
                }
                (State::FieldStart, b'"') => {
                    opening_quote = i;
                    State::Quoted
                }
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
        let open = matches!(state, State::Quoted | State::QuoteInQuoted);
        let (raw_end, consumed) = match record_end {
            Some(i) => (i, i + 1),
            None if window > self.max_record => {
                return self.too_long(open.then_some(opening_quote))
            }
            None if !self.eof => return Scan::Incomplete,
            None if state == State::Quoted => {
                return Scan::Broken {
                    problem: Problem::UnclosedQuote {
                        at: self.offset + opening_quote as u64,
                    },
                    resume_from: opening_quote,
                }
            }
            None => (data.len(), data.len()),
        };
        // A '\r' before the line break ends the line, not the field.
        let mut last_end = self.scratch.len();
        let len = strip_cr(data, 0, raw_end);
        if len < raw_end && last_end > field_start {
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

    /// Gives its bytes at most `step` at a time, as a pipe may.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.text.len());
            out[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    /// Reads every record of `text` (CSV with `,`, or lines) under `limit`.
    fn read_limited(text: &[u8], limit: usize, csv: bool) -> (Vec<Model>, u64) {
        read_trickled(text, usize::MAX, limit, csv)
    }

    /// As [`read_limited`], with the input read `step` bytes at a time.
    fn read_trickled(text: &[u8], step: usize, limit: usize, csv: bool) -> (Vec<Model>, u64) {
        let mut r = RecordReader::new(Trickle { text, step }, 0, u64::MAX, b',');
        r.set_max_record_bytes(limit);
        let mut out = Vec::new();
        while let Some(meta) = r.next_with(csv).unwrap() {
            let fields = (0..r.field_count()).map(|i| r.field(i).to_vec());
            out.push(Model {
                position: meta.position,
                line: meta.line,
                problem: meta.problem,
                fields: if meta.problem.is_some() {
                    Vec::new()
                } else {
                    fields.collect()
                },
                raw: r.raw().to_vec(),
            });
        }
        (out, r.lines_read())
    }

    #[test]
    fn an_over_long_line_is_malformed_and_reading_resumes_on_the_next() {
        let long = "x".repeat(5000);
        let text = format!("a,b\n{long},{long}\r\nc,d\n");
        for csv in [true, false] {
            let (got, lines) = read_limited(text.as_bytes(), 100, csv);
            assert_eq!(got.len(), 3, "csv {csv}");
            assert_eq!(got[1].position, 4);
            assert_eq!(got[1].line, 2);
            assert_eq!(
                got[1].problem,
                Some(Problem::TooLong {
                    limit: 100,
                    open_quote: None
                })
            );
            assert_eq!(got[1].raw, long.as_bytes()[..100].to_vec());
            assert_eq!((got[2].line, got[2].raw.as_slice()), (3, &b"c,d"[..]));
            assert_eq!(lines, 3);
        }
        // A record of exactly the limit is fine, its '\r' counted.
        let (got, _) = read_limited(b"abc\r\nabcde\n", 4, true);
        assert_eq!(got[0].problem, None);
        assert!(got[1].problem.is_some());
        assert_eq!(
            got[1].problem.unwrap().reason(),
            "record longer than 4 bytes (truncated copy)"
        );
    }

    #[test]
    fn a_stray_quote_costs_its_own_line_only() {
        // Closed at the end of the input: every line after the quote's is read.
        let text = b"1,\"oops\n2,b\n3,c\n";
        let (got, lines) = read_limited(text, 1 << 20, true);
        let summary: Vec<_> = got
            .iter()
            .map(|m| (m.line, m.problem.is_some(), m.raw.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, true, b"1,\"oops".to_vec()),
                (2, false, b"2,b".to_vec()),
                (3, false, b"3,c".to_vec())
            ]
        );
        assert_eq!(got[0].problem, Some(Problem::UnclosedQuote { at: 2 }));
        assert_eq!(lines, 3);
        // Longer than the limit: the same, and the quote is named.
        let mut text = b"h\n1,\"oops\n".to_vec();
        for i in 0..100 {
            text.extend_from_slice(format!("{i},v\n").as_bytes());
        }
        let (got, lines) = read_limited(&text, 64, true);
        assert_eq!(got.len(), 102);
        assert_eq!(
            got[1].problem,
            Some(Problem::TooLong {
                limit: 64,
                open_quote: Some(4)
            })
        );
        assert_eq!(got[1].raw, b"1,\"oops".to_vec());
        assert!(got[2..].iter().all(|m| m.problem.is_none()));
        assert_eq!((got[2].line, got[101].line, lines), (3, 102, 102));
    }

    #[test]
    fn an_endless_line_keeps_memory_bounded_and_steps_short() {
        let input = io::repeat(b'x').take(64 << 20);
        let mut r = RecordReader::new(input, 0, u64::MAX, b',');
        let Step::Record(meta) = r.step_record().unwrap() else {
            panic!("no record")
        };
        assert!(meta.problem.is_some());
        assert_eq!(r.raw().len(), TRUNCATED_COPY_BYTES);
        let mut skipping_steps = 0;
        while r.step_record().unwrap() == Step::Skipping {
            skipping_steps += 1;
            assert!(r.buf.len() <= 4 * DEFAULT_MAX_RECORD_BYTES);
        }
        assert!(skipping_steps > 10, "{skipping_steps}");
        assert_eq!((r.offset(), r.lines_read()), (64 << 20, 1));
    }

    #[test]
    fn lines_that_keep_reopening_a_quote_take_linear_time() {
        // Each line closes the quote left open by the one before and opens a
        // new one, whichever state it starts in; then a stray quote before
        // plain lines.
        let mut text = "a\",\",\n".repeat(1 << 20);
        text.push_str("x,\"\n");
        text.push_str(&"y,z\n".repeat(1 << 18));
        let started = std::time::Instant::now();
        let (got, lines) = read_limited(text.as_bytes(), 1 << 16, true);
        // Quadratic rescanning would take hours; linear takes a second or so.
        assert!(started.elapsed().as_secs() < 60);
        assert_eq!(lines, (1 << 20) + 1 + (1 << 18));
        let plain = got.iter().filter(|m| m.raw == b"y,z").count();
        assert_eq!(plain, 1 << 18);
    }

    /// A record as the documented rules give it.
    #[derive(Debug, Clone, PartialEq)]
    struct Model {
        position: u64,
        line: u64,
        problem: Option<Problem>,
        fields: Vec<Vec<u8>>,
        raw: Vec<u8>,
    }

    /// The module doc's rules applied naively, byte by byte over the whole
    /// text (CSV, delimiter `,`): every record with its line, and the lines.
    fn model(text: &[u8], limit: usize) -> (Vec<Model>, u64, Vec<u64>) {
        let (mut records, mut lines, mut starts) = (Vec::new(), 0, Vec::new());
        let mut p = 0;
        while p < text.len() {
            starts.push(p as u64);
            let rest = &text[p..];
            if rest.starts_with(b"\n") || rest.starts_with(b"\r\n") || rest == b"\r" {
                lines += 1;
                p += rest
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(rest.len(), |i| i + 1);
                continue;
            }
            let (record, consumed, newlines) = model_record(rest, p as u64, limit);
            lines += 1;
            records.push(Model {
                position: p as u64,
                line: lines,
                ..record
            });
            lines += newlines;
            p += consumed;
        }
        starts.push(text.len() as u64);
        (records, lines, starts)
    }

    /// One record at the start of `text` (at `base` in the input), its
    /// consumed length and the lines it holds beyond its first.
    fn model_record(text: &[u8], base: u64, limit: usize) -> (Model, usize, u64) {
        let (mut quoted, mut after_quote, mut at_field_start) = (false, false, true);
        let (mut fields, mut field) = (Vec::new(), Vec::new());
        let (mut opening, mut open_at_limit, mut newlines) = (None, None, 0);
        let mut end = text.len();
        for (i, &b) in text.iter().enumerate() {
            if i == limit + 1 {
                open_at_limit = Some(opening.filter(|_| quoted || after_quote));
            }
            if b == b'\n' && !quoted {
                end = i;
                break;
            }
            let was_after_quote = std::mem::take(&mut after_quote);
            match b {
                b'"' if quoted => (quoted, after_quote) = (false, true),
                b'"' if was_after_quote => {
                    quoted = true;
                    field.push(b);
                }
                b'"' if at_field_start => (quoted, opening) = (true, Some(i)),
                b',' if !quoted => fields.push(std::mem::take(&mut field)),
                _ => {
                    newlines += u64::from(b == b'\n');
                    field.push(b);
                }
            }
            at_field_start = b == b',' && !quoted;
        }
        let problem = if end > limit {
            let open_quote =
                open_at_limit.unwrap_or_else(|| opening.filter(|_| quoted || after_quote));
            Some((
                Problem::TooLong {
                    limit,
                    open_quote: open_quote.map(|q| base + q as u64),
                },
                open_quote.unwrap_or(limit),
            ))
        } else if end == text.len() && quoted {
            opening.map(|q| {
                (
                    Problem::UnclosedQuote {
                        at: base + q as u64,
                    },
                    q,
                )
            })
        } else {
            None
        };
        let raw_end = if text[..end].ends_with(b"\r") {
            end - 1
        } else {
            end
        };
        if let Some((problem, from)) = problem {
            let kept = text[from..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| from + i);
            let newlines = text[..kept].iter().filter(|&&b| b == b'\n').count() as u64;
            let mut copy = if text[..kept].ends_with(b"\r") {
                kept - 1
            } else {
                kept
            };
            if let Problem::TooLong { .. } = problem {
                copy = copy.min(limit).min(TRUNCATED_COPY_BYTES);
            }
            let record = Model {
                position: 0,
                line: 0,
                problem: Some(problem),
                fields: Vec::new(),
                raw: text[..copy].to_vec(),
            };
            return (record, (kept + 1).min(text.len()), newlines);
        }
        if raw_end < end {
            field.pop();
        }
        fields.push(field);
        let record = Model {
            position: 0,
            line: 0,
            problem: None,
            fields,
            raw: text[..raw_end].to_vec(),
        };
        (record, (end + 1).min(text.len()), newlines)
    }

    fn csv_text() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        let byte = proptest::sample::select(vec![b'a', b'b', b',', b'"', b'\n', b'\r']);
        proptest::collection::vec(byte, 0..60)
    }

    proptest::proptest! {
        #[test]
        fn the_reader_follows_the_documented_rules(
            text in csv_text(),
            limit in 1usize..24,
            step in 1usize..8,
        ) {
            let (records, lines, _) = model(&text, limit);
            proptest::prop_assert_eq!(read_trickled(&text, step, limit, true), (records, lines));
        }

        #[test]
        fn advance_to_stops_at_the_first_record_start_past_the_cut(
            text in csv_text(),
            limit in 1usize..24,
            step in 1usize..8,
        ) {
            let (_, _, starts) = model(&text, limit);
            for at_least in 1..=text.len() as u64 {
                let mut r = RecordReader::new(Trickle { text: &text, step }, 0, u64::MAX, b',');
                r.set_max_record_bytes(limit);
                let expected = starts.iter().find(|&&s| s >= at_least).copied();
                proptest::prop_assert_eq!(Some(r.advance_to(at_least).unwrap()), expected);
            }
        }
    }
}
