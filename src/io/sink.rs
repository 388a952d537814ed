//! Sinks: where output rows go. JSON lines (one object per row, keys in
//! SELECT order), CSV with a header line, a changelog in Debezium's JSON
//! envelope, or a blackhole that only counts.
//!
//! A sink formats rows into a buffer that remembers where each row ends, and
//! hands whole rows to the operating system only when told to
//! ([`RowSink::flush`]): the merger decides when (large writes under load,
//! every row at once on a slow stream) and measures latency at that moment.
//!
//! [`OutputFile`] is where the bytes go, a file path or standard output
//! (`None` or `-`), written so that the output always ends at a whole row:
//! - a regular file: large writes; after a failed write (disk full, file too
//!   large, I/O error) the file is truncated back to the last whole row;
//! - a pipe or socket: pieces of whole rows of at most `PIPE_BUF` bytes (which
//!   the kernel writes atomically), each after `poll` says there is room, so
//!   a blocked reader never blocks the writer for longer than it allows
//!   (`give_up`), and the reader never sees half a row; a longer row goes
//!   out in pieces of `PIPE_BUF` bytes the same way, so it may be left cut
//!   when the writer gives up part-way through it (the next flush goes on
//!   where it stopped);
//! - anything else (a terminal, /dev/null): large writes.
//!
//! Write errors are [`Error::Io`] naming the path (`<stdout>`) and the OS
//! error; a closed pipe is `BrokenPipe` ([`is_broken_pipe`]).

use crate::data::{write_date, write_timestamp, Schema, Value};
use crate::error::{Error, Result};
use crate::plan::RowKind;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::str::FromStr;
use std::time::Duration;

/// How much formatted output a sink buffers before the merger writes it out.
pub const SINK_BUFFER_BYTES: usize = 64 * 1024;
/// How messages name standard output.
pub const STDOUT_LABEL: &str = "<stdout>";
/// Bytes the kernel writes to a pipe atomically (POSIX `PIPE_BUF` on Linux).
const PIPE_ATOMIC_BYTES: usize = 4096;
/// How long one `poll` for room in a pipe waits before `give_up` is asked again.
const POLL_SLICE: Duration = Duration::from_millis(2);

/// Receives output rows in order and writes them out when flushed.
pub trait RowSink {
    /// Formats `values` into the buffer (no I/O).
    fn write_row(&mut self, values: &[Value]) -> Result<()>;
    /// A formatter producing this sink's bytes, for the shards to format
    /// rows where they are made (`None`: rows come as values).
    fn formatter(&self) -> Option<Box<dyn RowFormat + Send>> {
        None
    }
    /// Appends one row already formatted by [`RowSink::formatter`]'s kind.
    fn write_formatted(&mut self, _row: &[u8]) -> Result<()> {
        Err(Error::Runtime(
            "internal error: this sink takes rows as values".into(),
        ))
    }
    /// True when the sink only counts rows: they need not be made at all.
    fn discards_rows(&self) -> bool {
        false
    }
    /// Counts one row that was never made (see [`RowSink::discards_rows`]).
    fn write_discarded(&mut self) -> Result<()> {
        Err(Error::Runtime(
            "internal error: this sink writes the rows it gets".into(),
        ))
    }
    /// Bytes formatted but not yet handed to the operating system.
    fn buffered_bytes(&self) -> usize;
    /// Hands the buffered rows to the operating system, in whole rows. While
    /// the output cannot take more (a full pipe), `give_up` is asked every
    /// few milliseconds; when it says so, the rows not yet written stay
    /// buffered and the result says how many went out.
    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<Flushed>;
    /// Waits until everything flushed is durable where the sink can tell
    /// (a Kafka sink: acknowledged by the brokers). Called before a source
    /// commits what the output holds. Most sinks have nothing to wait for.
    fn settle(&mut self) -> Result<()> {
        Ok(())
    }
    /// Rows handed to the operating system so far.
    fn rows_written(&self) -> u64;
    /// The rows given so far hold every row of the windows they belong to:
    /// called after each chunk's rows (a window closes in one chunk on
    /// every shard) and after the rows written at the end of the input. A
    /// sink that ranks each window's rows (a second stage) writes them now.
    fn end_of_chunk(&mut self) -> Result<()> {
        Ok(())
    }
    /// Every row of a run that completed has been given: a sink that holds
    /// rows back (ORDER BY's) writes them now. Not called for a run that
    /// was interrupted or stopped early.
    fn input_complete(&mut self) -> Result<()> {
        Ok(())
    }
    /// After the last flush of a run that did not fail: waits until what
    /// was handed over is stored (a Kafka producer's acknowledgements).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What one [`RowSink::flush`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    /// Rows handed to the operating system by this flush.
    pub rows: u64,
    /// False when it gave up with rows still buffered.
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Csv,
    /// A changelog as Debezium's `{"before":..,"after":..,"op":..}`.
    DebeziumJson,
    Blackhole,
}

impl OutputFormat {
    /// True for a format that writes a changelog (and needs one).
    pub fn writes_changelog(self) -> bool {
        self == OutputFormat::DebeziumJson
    }
}

impl FromStr for OutputFormat {
    type Err = Error;

    /// `jsonl` (also `json`, `ndjson`), `csv`, `debezium-json`, `blackhole`
    /// (also `none`).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "json" | "ndjson" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            "debezium-json" => Ok(OutputFormat::DebeziumJson),
            "blackhole" | "none" => Ok(OutputFormat::Blackhole),
            _ => Err(Error::Usage(format!(
                "unknown output format '{s}' (known: jsonl, csv, debezium-json, blackhole)"
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
    Ok(match format {
        OutputFormat::Blackhole => Box::new(BlackholeSink::default()),
        OutputFormat::Jsonl => Box::new(FormattedSink::new(
            OutputFile::open(path)?,
            JsonLines::new(columns),
        )),
        OutputFormat::Csv => Box::new(FormattedSink::new(
            OutputFile::open(path)?,
            CsvRows::new(columns),
        )),
        OutputFormat::DebeziumJson => Box::new(FormattedSink::new(
            OutputFile::open(path)?,
            DebeziumJson::new(columns),
        )),
    })
}

/// Turns rows into bytes of one output format.
pub trait RowFormat {
    /// Bytes before the first row (a CSV header), if any.
    fn header(&mut self, out: &mut Vec<u8>);
    /// Appends one row, line terminator included.
    fn format(&mut self, values: &[Value], out: &mut Vec<u8>);
    /// A formatter of the same kind, for another core.
    fn boxed_clone(&self) -> Box<dyn RowFormat + Send>;
}

/// One JSON object per line.
#[derive(Clone)]
pub struct JsonLines {
    keys: Vec<Vec<u8>>,
    scratch: String,
}

impl JsonLines {
    pub fn new(columns: &Schema) -> Self {
        JsonLines {
            keys: json_keys(columns),
            scratch: String::new(),
        }
    }
}

impl RowFormat for JsonLines {
    fn header(&mut self, _out: &mut Vec<u8>) {}

    fn format(&mut self, values: &[Value], out: &mut Vec<u8>) {
        write_json_object(out, &self.keys, values, &mut self.scratch);
        out.push(b'\n');
    }

    fn boxed_clone(&self) -> Box<dyn RowFormat + Send> {
        Box::new(self.clone())
    }
}

/// A changelog (rows whose first column is the row kind, see
/// [`RowKind`]) in Debezium's envelope, as Flink's `debezium-json` writes
/// it: an insert or the new row of an update is a create
/// (`{"before":null,"after":{..},"op":"c"}`), the old row of an update or a
/// delete is a delete (`{"before":{..},"after":null,"op":"d"}`).
#[derive(Clone)]
pub struct DebeziumJson {
    /// The keys of the columns after the row kind.
    keys: Vec<Vec<u8>>,
    scratch: String,
}

impl DebeziumJson {
    /// For rows with `columns`, the row kind first.
    pub fn new(columns: &Schema) -> Self {
        let mut keys = json_keys(columns);
        if !keys.is_empty() {
            keys.remove(0);
        }
        DebeziumJson {
            keys,
            scratch: String::new(),
        }
    }

    fn object_or_null(&mut self, row: Option<&[Value]>, out: &mut Vec<u8>) {
        match row {
            Some(values) => write_json_object(out, &self.keys, values, &mut self.scratch),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl RowFormat for DebeziumJson {
    fn header(&mut self, _out: &mut Vec<u8>) {}

    fn format(&mut self, values: &[Value], out: &mut Vec<u8>) {
        let (kind, row) = values.split_first().unwrap_or((&Value::Null, &[]));
        let retracts = kind
            .as_str()
            .and_then(RowKind::parse)
            .is_some_and(RowKind::retracts);
        let (before, after, op) = match retracts {
            true => (Some(row), None, "d"),
            false => (None, Some(row), "c"),
        };
        out.extend_from_slice(b"{\"before\":");
        self.object_or_null(before, out);
        out.extend_from_slice(b",\"after\":");
        self.object_or_null(after, out);
        out.extend_from_slice(b",\"op\":\"");
        out.extend_from_slice(op.as_bytes());
        out.extend_from_slice(b"\"}\n");
    }

    fn boxed_clone(&self) -> Box<dyn RowFormat + Send> {
        Box::new(self.clone())
    }
}

/// CSV with a header line; NULL is an empty field. Quoting by `csv_core`
/// (as the csv crate writes it).
#[derive(Clone)]
pub struct CsvRows {
    names: Vec<String>,
    writer: csv_core::Writer,
    scratch: String,
}

impl CsvRows {
    pub fn new(columns: &Schema) -> Self {
        CsvRows {
            names: columns.names().map(str::to_string).collect(),
            writer: csv_core::Writer::new(),
            scratch: String::new(),
        }
    }

    /// Appends field `index` of a record (with the delimiter before it).
    fn field(&mut self, index: usize, mut input: &[u8], out: &mut Vec<u8>) {
        if index > 0 {
            self.put(out, 2, |w, o| w.delimiter(o));
        }
        loop {
            // Quoting at most doubles every byte and adds two quotes.
            let start = out.len();
            out.resize(start + 2 * input.len() + 2, 0);
            let (result, read, written) = self.writer.field(input, &mut out[start..]);
            out.truncate(start + written);
            input = &input[read..];
            if result == csv_core::WriteResult::InputEmpty {
                return;
            }
        }
    }

    fn end_record(&mut self, out: &mut Vec<u8>) {
        self.put(out, 4, |w, o| w.terminator(o));
    }

    /// Runs one csv_core call that needs at most `room` bytes of output.
    fn put(
        &mut self,
        out: &mut Vec<u8>,
        room: usize,
        call: impl FnOnce(&mut csv_core::Writer, &mut [u8]) -> (csv_core::WriteResult, usize),
    ) {
        let start = out.len();
        out.resize(start + room, 0);
        let (_, written) = call(&mut self.writer, &mut out[start..]);
        out.truncate(start + written);
    }
}

impl RowFormat for CsvRows {
    fn header(&mut self, out: &mut Vec<u8>) {
        let names = std::mem::take(&mut self.names);
        for (index, name) in names.iter().enumerate() {
            self.field(index, name.as_bytes(), out);
        }
        self.end_record(out);
        self.names = names;
    }

    fn format(&mut self, values: &[Value], out: &mut Vec<u8>) {
        let mut text = std::mem::take(&mut self.scratch);
        for (index, value) in values.iter().enumerate() {
            text.clear();
            let _ = write!(text, "{value}");
            self.field(index, text.as_bytes(), out);
        }
        self.scratch = text;
        self.end_record(out);
    }

    fn boxed_clone(&self) -> Box<dyn RowFormat + Send> {
        Box::new(self.clone())
    }
}

/// Formatted rows waiting to be written: their bytes and where each row ends.
#[derive(Debug, Default)]
pub(crate) struct RowBuffer {
    bytes: Vec<u8>,
    /// End offset in `bytes` of each buffered row (the header counts as one,
    /// without being a row of output).
    ends: Vec<usize>,
    /// Entries of `ends` that are not rows (the header).
    non_rows: usize,
}

impl RowBuffer {
    /// Ends the row formatted into `bytes` since the last one.
    pub(crate) fn end_row(&mut self) {
        self.ends.push(self.bytes.len());
    }

    /// Bytes waiting to be written.
    pub(crate) fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Drops the first `rows` rows (written) and `bytes` bytes.
    fn consume(&mut self, rows: usize) {
        let bytes = rows.checked_sub(1).map_or(0, |last| self.ends[last]);
        self.bytes.drain(..bytes);
        self.ends.drain(..rows);
        for end in &mut self.ends {
            *end -= bytes;
        }
    }
}

/// A sink that formats rows with `F` and writes them to an [`OutputFile`].
pub struct FormattedSink<F: RowFormat> {
    format: F,
    buffer: RowBuffer,
    out: OutputFile,
    rows: u64,
}

impl<F: RowFormat> FormattedSink<F> {
    pub fn new(out: OutputFile, mut format: F) -> Self {
        let mut buffer = RowBuffer::default();
        format.header(&mut buffer.bytes);
        if !buffer.bytes.is_empty() {
            buffer.ends.push(buffer.bytes.len());
            buffer.non_rows = 1;
        }
        FormattedSink {
            format,
            buffer,
            out,
            rows: 0,
        }
    }
}

impl<F: RowFormat> RowSink for FormattedSink<F> {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        self.format.format(values, &mut self.buffer.bytes);
        self.buffer.end_row();
        Ok(())
    }

    fn formatter(&self) -> Option<Box<dyn RowFormat + Send>> {
        Some(self.format.boxed_clone())
    }

    fn write_formatted(&mut self, row: &[u8]) -> Result<()> {
        self.buffer.bytes.extend_from_slice(row);
        self.buffer.ends.push(self.buffer.bytes.len());
        Ok(())
    }

    fn buffered_bytes(&self) -> usize {
        self.buffer.bytes.len()
    }

    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
        let pending = self.buffer.ends.len();
        let (units, written) = self.out.drain(&mut self.buffer, give_up);
        let header = self.buffer.non_rows.min(units);
        self.buffer.non_rows -= header;
        let rows = (units - header) as u64;
        self.rows += rows;
        written.map(|()| Flushed {
            rows,
            complete: units == pending,
        })
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }
}

/// A write that failed after `units` whole rows went out.
struct WriteFailed {
    units: usize,
    error: Error,
}

/// What kind of file the output is, which decides how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputKind {
    /// A regular file, whose rows start at byte `base`.
    Regular { base: u64 },
    /// A pipe or socket: written in atomic pieces after `poll`.
    Pipe,
    /// A terminal, /dev/null, another device.
    Other,
}

/// Where a sink's bytes go: a file or standard output, written in whole rows.
pub struct OutputFile {
    file: File,
    label: String,
    kind: OutputKind,
    /// Bytes of whole rows written so far.
    written: u64,
    /// Bytes of the first buffered row already written (a pipe's row longer
    /// than `PIPE_ATOMIC_BYTES`, when a flush gave up part-way through it).
    partial: usize,
}

impl OutputFile {
    /// Creates (truncates) the file at `path`; `None` or `-` is standard output.
    pub fn open(path: Option<&str>) -> Result<OutputFile> {
        let (file, label) = match path {
            None | Some("-") => {
                let fd = io::stdout().as_fd().try_clone_to_owned();
                let fd = fd.map_err(|e| Error::io(STDOUT_LABEL, e))?;
                (File::from(fd), STDOUT_LABEL.to_string())
            }
            Some(p) => (File::create(p).map_err(|e| Error::io(p, e))?, p.to_string()),
        };
        Self::from_file(file, &label)
    }

    /// Writes to an opened `file`, naming it `label` in errors.
    pub fn from_file(mut file: File, label: &str) -> Result<OutputFile> {
        let io_error = |e| Error::io(label, e);
        let file_type = file.metadata().map_err(io_error)?.file_type();
        let kind = if file_type.is_file() {
            let appending = rustix::fs::fcntl_getfl(&file)
                .map_err(|e| io_error(e.into()))?
                .contains(rustix::fs::OFlags::APPEND);
            let base = if appending {
                file.metadata().map_err(io_error)?.len()
            } else {
                file.stream_position().map_err(io_error)?
            };
            OutputKind::Regular { base }
        } else if file_type.is_fifo() || file_type.is_socket() {
            OutputKind::Pipe
        } else {
            OutputKind::Other
        };
        Ok(OutputFile {
            file,
            label: label.to_string(),
            kind,
            written: 0,
            partial: 0,
        })
    }

    /// Writes the rows of `buffer` and drops those that went out from it:
    /// how many entries of it went out in full, and the error that stopped
    /// the rest, if one did (the output then ends at a whole row).
    pub(crate) fn drain(
        &mut self,
        buffer: &mut RowBuffer,
        give_up: &mut dyn FnMut() -> bool,
    ) -> (usize, Result<()>) {
        let (units, result) = match self.write_rows(buffer, give_up) {
            Ok(units) => (units, Ok(())),
            Err(failed) => (failed.units, Err(failed.error)),
        };
        buffer.consume(units);
        (units, result)
    }

    /// Writes the rows of `buffer`; the number of its entries written in full.
    fn write_rows(
        &mut self,
        buffer: &RowBuffer,
        give_up: &mut dyn FnMut() -> bool,
    ) -> std::result::Result<usize, WriteFailed> {
        if buffer.ends.is_empty() {
            return Ok(0);
        }
        match self.kind {
            OutputKind::Pipe => self.write_pieces(buffer, give_up),
            OutputKind::Regular { base } => {
                let result = self.write_all_rows(buffer);
                if result.is_err() {
                    // Leave only whole rows; the error already says what failed.
                    let _ = self.file.set_len(base + self.written);
                }
                result
            }
            OutputKind::Other => self.write_all_rows(buffer),
        }
    }

    /// One large write of everything, counting the whole rows that went out.
    fn write_all_rows(&mut self, buffer: &RowBuffer) -> std::result::Result<usize, WriteFailed> {
        let mut done = 0;
        while done < buffer.bytes.len() {
            match self.file.write(&buffer.bytes[done..]) {
                Ok(0) => {
                    let error = io::Error::from(io::ErrorKind::WriteZero);
                    return Err(self.failed(buffer, done, error));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failed(buffer, done, e)),
            }
        }
        self.written += done as u64;
        Ok(buffer.ends.len())
    }

    /// The failure of a write that got `done` bytes of `buffer` out.
    fn failed(&mut self, buffer: &RowBuffer, done: usize, error: io::Error) -> WriteFailed {
        let units = buffer.ends.partition_point(|end| *end <= done);
        let whole = units.checked_sub(1).map_or(0, |last| buffer.ends[last]);
        self.written += whole as u64;
        WriteFailed {
            units,
            error: Error::io(self.label.clone(), error),
        }
    }

    /// Pieces of whole rows of at most `PIPE_ATOMIC_BYTES` (a longer row in
    /// pieces of that size), each once `poll` says the pipe has room.
    fn write_pieces(
        &mut self,
        buffer: &RowBuffer,
        give_up: &mut dyn FnMut() -> bool,
    ) -> std::result::Result<usize, WriteFailed> {
        let mut units = 0;
        let mut start = std::mem::take(&mut self.partial);
        while units < buffer.ends.len() {
            let end = piece_end(&buffer.ends[units..], start);
            match self.wait_for_room(give_up) {
                Ok(true) => {}
                Ok(false) => {
                    let row_start = units.checked_sub(1).map_or(0, |last| buffer.ends[last]);
                    self.partial = start - row_start;
                    return Ok(units);
                }
                Err(e) => return Err(self.failed(buffer, start, e)),
            }
            if let Err(e) = self.file.write_all(&buffer.bytes[start..end]) {
                return Err(self.failed(buffer, start, e));
            }
            self.written += (end - start) as u64;
            start = end;
            units += buffer.ends[units..].partition_point(|row_end| *row_end <= end);
        }
        Ok(units)
    }

    /// Waits until the pipe can take a piece; `false` when `give_up` said so first.
    fn wait_for_room(&self, give_up: &mut dyn FnMut() -> bool) -> io::Result<bool> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let slice = Timespec {
            tv_sec: 0,
            tv_nsec: POLL_SLICE.as_nanos() as _,
        };
        loop {
            let mut fds = [PollFd::new(&self.file, PollFlags::OUT)];
            match poll(&mut fds, Some(&slice)) {
                Ok(0) => {}
                // Ready, or an error condition the write will report.
                Ok(_) => return Ok(true),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            if give_up() {
                return Ok(false);
            }
        }
    }
}

/// Where the piece of a pipe's output that starts at `start` ends: after the
/// last of the rows ending at `ends` that fit into `PIPE_ATOMIC_BYTES` with
/// it, or, when the first does not, `PIPE_ATOMIC_BYTES` into that row.
fn piece_end(ends: &[usize], start: usize) -> usize {
    let fitting = ends.partition_point(|end| end - start <= PIPE_ATOMIC_BYTES);
    match fitting.checked_sub(1) {
        Some(last) => ends[last],
        None => start + PIPE_ATOMIC_BYTES,
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
        Value::Date(d) => {
            write_date(*d, scratch);
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

/// Discards rows, counting them (for benchmarks).
#[derive(Debug, Default)]
pub struct BlackholeSink {
    rows: u64,
    buffered: u64,
}

impl RowSink for BlackholeSink {
    fn write_row(&mut self, _values: &[Value]) -> Result<()> {
        self.buffered += 1;
        Ok(())
    }

    fn discards_rows(&self) -> bool {
        true
    }

    fn write_discarded(&mut self) -> Result<()> {
        self.buffered += 1;
        Ok(())
    }

    fn buffered_bytes(&self) -> usize {
        0
    }

    fn flush(&mut self, _give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
        let rows = std::mem::take(&mut self.buffered);
        self.rows += rows;
        Ok(Flushed {
            rows,
            complete: true,
        })
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

    fn formatted(format: &mut dyn RowFormat) -> String {
        let mut out = Vec::new();
        format.header(&mut out);
        for row in rows() {
            format.format(&row, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_exact_text() {
        assert_eq!(
            formatted(&mut JsonLines::new(&columns())),
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
        assert_eq!(
            formatted(&mut CsvRows::new(&columns())),
            "sym,n,avg,total,at,ok,none,\"q\"\"uote\"\n\
             \"A\"\"B\n,c\",-3,2.0,1120.472,2026-01-01T00:00:10.000Z,true,,0.1\n\
             é,0,NaN,-0.05,1970-01-01T00:00:00.000Z,false,,inf\n"
        );
    }

    #[test]
    fn csv_matches_the_csv_crate_on_awkward_fields() {
        let columns = Schema::new(vec![Field::new("x", DataType::Varchar)]);
        let fields = ["", " lead", "a\r\nb", "\"", "#", "plain"];
        let mut ours = Vec::new();
        let mut format = CsvRows::new(&columns);
        for field in fields {
            format.format(&[Value::str(field)], &mut ours);
        }
        let mut theirs = csv::Writer::from_writer(Vec::new());
        for field in fields {
            theirs.write_record([field]).unwrap();
        }
        assert_eq!(ours, theirs.into_inner().unwrap());
    }

    #[test]
    fn formats_blackhole_and_errors() {
        assert_eq!("JSON".parse::<OutputFormat>().unwrap(), OutputFormat::Jsonl);
        assert_eq!("csv".parse::<OutputFormat>().unwrap(), OutputFormat::Csv);
        assert!("xml".parse::<OutputFormat>().is_err());
        let mut sink = open_sink(None, OutputFormat::Blackhole, &columns()).unwrap();
        sink.write_row(&rows()[0]).unwrap();
        assert_eq!(sink.rows_written(), 0);
        sink.flush(&mut || false).unwrap();
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

    fn pipe_sink() -> (FormattedSink<JsonLines>, io::PipeReader) {
        let (reader, writer) = io::pipe().unwrap();
        let out = OutputFile::from_file(File::from(std::os::fd::OwnedFd::from(writer)), "pipe");
        (
            FormattedSink::new(out.unwrap(), JsonLines::new(&columns())),
            reader,
        )
    }

    #[test]
    fn a_closed_pipe_is_a_broken_pipe_error_naming_the_output() {
        let (mut sink, reader) = pipe_sink();
        drop(reader);
        sink.write_row(&rows()[0]).unwrap();
        let err = sink.flush(&mut || false).unwrap_err();
        assert!(is_broken_pipe(&err), "{err}");
        assert!(err.to_string().starts_with("pipe: "), "{err}");
        assert_eq!(sink.rows_written(), 0);
    }

    #[test]
    fn a_full_pipe_gives_up_when_told_and_leaves_whole_rows() {
        let (mut sink, mut reader) = pipe_sink();
        // Far more than a pipe holds (64 KiB by default).
        let rows_in = 20_000;
        for _ in 0..rows_in {
            sink.write_row(&rows()[0]).unwrap();
        }
        let mut asked = 0;
        let flushed = sink
            .flush(&mut || {
                asked += 1;
                true
            })
            .unwrap();
        assert_eq!(asked, 1);
        assert!(!flushed.complete);
        assert!(flushed.rows > 0 && flushed.rows < rows_in);
        assert_eq!(sink.rows_written(), flushed.rows);
        drop(sink);
        let mut text = String::new();
        io::Read::read_to_string(&mut reader, &mut text).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count() as u64, flushed.rows);
    }

    /// Rows longer than a pipe holds: a flush into a full pipe still gives
    /// way when told (it used to block in the write of the long row), and
    /// the next flush goes on where it stopped, so the reader gets every row
    /// once, whole.
    #[test]
    fn a_full_pipe_gives_up_within_a_long_row_and_resumes_there() {
        let (mut sink, mut reader) = pipe_sink();
        let mut long = rows()[0].clone();
        long[0] = Value::str("x".repeat(100_000).as_str());
        let rows_in = 5;
        for _ in 0..rows_in {
            sink.write_row(&long).unwrap();
        }
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let flushed = sink.flush(&mut || true);
            let _ = done_tx.send((sink, flushed));
        });
        let (mut sink, flushed) = done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the flush gives up instead of blocking");
        let flushed = flushed.unwrap();
        assert!(!flushed.complete);
        let drained = std::thread::spawn(move || {
            let mut text = String::new();
            io::Read::read_to_string(&mut reader, &mut text).map(|_| text)
        });
        assert!(sink.flush(&mut || false).unwrap().complete);
        assert_eq!(sink.rows_written(), rows_in);
        drop(sink);
        let text = drained.join().unwrap().unwrap();
        let mut expected = Vec::new();
        JsonLines::new(&columns()).format(&long, &mut expected);
        let expected = String::from_utf8(expected)
            .unwrap()
            .repeat(rows_in as usize);
        assert!(text == expected, "{} bytes, not the rows", text.len());
    }

    #[test]
    fn rows_written_to_a_file_are_counted_once_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let path = path.to_str().unwrap();
        let mut sink = open_sink(Some(path), OutputFormat::Csv, &columns()).unwrap();
        sink.write_row(&rows()[0]).unwrap();
        assert!(sink.buffered_bytes() > 0);
        assert_eq!(std::fs::read(path).unwrap().len(), 0);
        let flushed = sink.flush(&mut || false).unwrap();
        assert_eq!((flushed.rows, flushed.complete), (1, true));
        assert_eq!(sink.buffered_bytes(), 0);
        assert_eq!(std::fs::read_to_string(path).unwrap().lines().count(), 3);
    }
}
