//! Opening sources: [`plan_chunks`] opens a table's input once and cuts it
//! into ordered chunks (byte ranges of a regular file, event ranges of a
//! generator, or one stream), and [`ChunkPlan::open`] gives the reader of one
//! chunk. Every reader of a file shares the descriptor the plan opened, and
//! the readers of one shard hand a [`SourceState`] from chunk to chunk.

use super::csv::{map_columns, CsvSource};
use super::follow::Follow;
use super::generator::TradesGenerator;
use super::input::{open_path, Opened, SharedFile, StreamInput};
use super::jsonl::JsonlSource;
use super::kafka::{commit_source, plan_source, KafkaPlan, KafkaSource, Layout};
use super::nexmark::NexmarkSource;
use super::properties::{Connector, FileConfig, FileFormat, Location, SourceConfig};
use super::split::{read_csv_header, split_file, ByteRange, CsvHeader, RecordSyntax};
use super::{BatchSource, SourceState, StreamSharing};
use crate::error::{Error, Result};
use crate::plan::TableDef;
use std::fs::File;
use std::io::Read;

/// The part of a source one reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitSpec {
    /// All of it (the only split of a stream).
    Whole,
    /// The lines of a file that start in this range.
    FileRange(ByteRange),
    /// Generator events `first, first + stride, ...` below `last`.
    Events { first: u64, last: u64, stride: u64 },
}

/// A table's input cut into an ordered list of chunks. Concatenating the
/// chunks in order gives the whole input. Cloning shares an opened input.
#[derive(Debug, Clone)]
pub enum ChunkPlan {
    /// Byte ranges of a regular file, aligned to record starts, after its
    /// CSV header.
    File {
        file: SharedFile,
        header: Option<CsvHeader>,
        ranges: Vec<ByteRange>,
    },
    /// Contiguous event ranges of a generator, computed on demand (a paced
    /// generator may have millions of tiny chunks).
    Events { events: u64, per_chunk: u64 },
    /// One stream, read live: standard input, a pipe or device, or a
    /// followed file.
    Stream(StreamInput),
    /// A Kafka topic's partitions, read live by one reader per shard (see
    /// [`ChunkPlan::readers`]).
    Kafka(KafkaPlan),
}

impl ChunkPlan {
    pub fn len(&self) -> usize {
        match self {
            ChunkPlan::File { ranges, .. } => ranges.len(),
            ChunkPlan::Events { events, per_chunk } => {
                usize::try_from(events.div_ceil(*per_chunk)).unwrap_or(usize::MAX)
            }
            ChunkPlan::Stream(_) | ChunkPlan::Kafka(_) => 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the input has no end: a followed file, a Kafka topic read
    /// without a bounded mode.
    pub fn never_ends(&self) -> bool {
        match self {
            ChunkPlan::Stream(stream) => matches!(stream, StreamInput::Follow { .. }),
            ChunkPlan::Kafka(plan) => plan.never_ends(),
            ChunkPlan::File { .. } | ChunkPlan::Events { .. } => false,
        }
    }

    /// Whether the input is one stream, read by one reader.
    pub fn is_stream(&self) -> bool {
        matches!(self, ChunkPlan::Stream(_))
    }

    /// For an input read as one live stream per reader (a Kafka topic's
    /// partitions, dealt to the readers or shared among them by the consumer
    /// group): how many readers there are. Reader r is opened as chunk r.
    pub fn stream_readers(&self) -> Option<usize> {
        match self {
            ChunkPlan::Kafka(plan) => Some(plan.sharing.readers),
            _ => None,
        }
    }

    /// Shares a per-reader input as `sharing` says (one reader per shard).
    pub fn share_streams(&mut self, sharing: StreamSharing) {
        if let ChunkPlan::Kafka(plan) = self {
            plan.sharing = StreamSharing {
                readers: sharing.readers.max(1),
                ..sharing
            };
        }
    }

    /// Lines before the first record of a file (its CSV header), so that
    /// line numbers counted per chunk can be made absolute. 0 for others.
    pub fn lines_before_data(&self) -> u64 {
        match self {
            ChunkPlan::File {
                header: Some(header),
                ..
            } => header.lines,
            _ => 0,
        }
    }

    /// The split that chunk `index` reads (`Whole` for the stream).
    pub fn chunk(&self, index: usize) -> SplitSpec {
        match self {
            ChunkPlan::File { ranges, .. } => ranges
                .get(index)
                .copied()
                .map_or(SplitSpec::Whole, SplitSpec::FileRange),
            ChunkPlan::Events { events, per_chunk } => {
                let first = (index as u64).saturating_mul(*per_chunk).min(*events);
                SplitSpec::Events {
                    first,
                    last: first.saturating_add(*per_chunk).min(*events),
                    stride: 1,
                }
            }
            ChunkPlan::Stream(_) | ChunkPlan::Kafka(_) => SplitSpec::Whole,
        }
    }

    /// Bytes of the file in chunk `index` (0 for generators and streams).
    pub fn chunk_bytes(&self, index: usize) -> u64 {
        match self.chunk(index) {
            SplitSpec::FileRange(range) => range.end - range.start,
            _ => 0,
        }
    }

    /// Bytes of the file in all its chunks (files only).
    pub fn total_bytes(&self) -> Option<u64> {
        match self {
            ChunkPlan::File { ranges, .. } => Some(ranges.iter().map(|r| r.end - r.start).sum()),
            _ => None,
        }
    }

    /// Events in all (generators only).
    pub fn total_events(&self) -> Option<u64> {
        match self {
            ChunkPlan::Events { events, .. } => Some(*events),
            _ => None,
        }
    }

    /// A reader of chunk `index` of `table` (which this plan was made for),
    /// reusing what the shard's earlier readers left in `state` (give it back
    /// with [`BatchSource::save_state`] when the chunk is read). A stream has
    /// one chunk, and is opened once.
    pub fn open(
        &self,
        table: &TableDef,
        index: usize,
        state: &mut SourceState,
    ) -> Result<Box<dyn BatchSource + Send>> {
        let config = SourceConfig::from_table(table)?;
        let (name, schema) = (table.name.as_str(), &table.schema);
        match (&config.connector, self, self.chunk(index)) {
            (
                Connector::Trades(trades),
                _,
                SplitSpec::Events {
                    first,
                    last,
                    stride,
                },
            ) => Ok(Box::new(TradesGenerator::with_schema(
                name, schema, trades, first, last, stride,
            )?)),
            (Connector::Nexmark(kind, nexmark), _, SplitSpec::Events { first, last, .. }) => {
                Ok(Box::new(NexmarkSource::with_schema(
                    name,
                    schema,
                    *kind,
                    nexmark,
                    first..last,
                    state,
                )?))
            }
            (
                Connector::File(file),
                ChunkPlan::File {
                    file: shared,
                    header,
                    ..
                },
                SplitSpec::FileRange(range),
            ) => Ok(match file.format {
                FileFormat::Csv => Box::new(
                    CsvSource::open_range(name, schema, shared, range, file.csv, header.as_ref())?
                        .with_max_record_bytes(file.max_record_bytes)
                        .reusing(state),
                ),
                FileFormat::Jsonl => Box::new(
                    JsonlSource::open_range(name, schema, shared, range)?
                        .with_max_record_bytes(file.max_record_bytes)
                        .reusing(state),
                ),
            }),
            (Connector::File(file), ChunkPlan::Stream(stream), SplitSpec::Whole) => {
                open_stream(table, file, stream)
            }
            (Connector::Kafka(kafka), ChunkPlan::Kafka(plan), SplitSpec::Whole) => Ok(Box::new(
                KafkaSource::open(name, schema, kafka, plan, index)?,
            )),
            (_, _, split) => Err(Error::Runtime(format!(
                "source '{}': split {split:?} does not fit its connector",
                table.name
            ))),
        }
    }
}

/// A reader of all of `table`'s input, as one chunk.
pub fn open_source(table: &TableDef) -> Result<Box<dyn BatchSource + Send>> {
    plan_chunks(table, u64::MAX, u64::MAX)?.open(table, 0, &mut SourceState::new())
}

/// Checks what can be checked of `table` before its input is opened: its WITH
/// properties, and the columns declared over a generator (bound by name, with
/// their types).
pub fn check_table(table: &TableDef) -> Result<()> {
    let config = SourceConfig::from_table(table)?;
    let (name, schema) = (table.name.as_str(), &table.schema);
    match &config.connector {
        Connector::Trades(trades) => {
            TradesGenerator::with_schema(name, schema, trades, 0, 0, 1).map(drop)
        }
        Connector::Nexmark(kind, nexmark) => {
            let state = &mut SourceState::new();
            NexmarkSource::with_schema(name, schema, *kind, nexmark, 0..0, state).map(drop)
        }
        Connector::File(_) => Ok(()),
        Connector::Kafka(kafka) => {
            check_schema(table)?;
            Layout::new(name, schema, &kafka.metadata).map(drop)
        }
    }
}

/// After a run wrote all its output: tells the input what was consumed (a
/// bounded Kafka source commits its end offsets). Nothing for others.
pub fn commit_chunks(table: &TableDef, plan: &ChunkPlan) -> Result<()> {
    match (SourceConfig::from_table(table)?.connector, plan) {
        (Connector::Kafka(kafka), ChunkPlan::Kafka(planned)) => {
            commit_source(&table.name, &kafka, planned)
        }
        _ => Ok(()),
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

/// A reader of a stream: live, so that every record is passed on as soon as
/// it has been read.
fn open_stream(
    table: &TableDef,
    file: &FileConfig,
    stream: &StreamInput,
) -> Result<Box<dyn BatchSource + Send>> {
    match stream {
        StreamInput::Stdin => stream_source(table, file, std::io::stdin(), "<stdin>"),
        StreamInput::Pipe { file: pipe, label } => {
            stream_source(table, file, duplicate(pipe, label)?, label)
        }
        StreamInput::Follow {
            file: followed,
            path,
        } => {
            let label = path.display().to_string();
            let skip_headers = file.format == FileFormat::Csv && file.csv.header;
            let input = Follow::new(path, duplicate(followed, &label)?, skip_headers)
                .map_err(|e| Error::io(label.clone(), e))?;
            stream_source(table, file, input, &label)
        }
    }
}

/// A descriptor of its own for the one reader of an opened stream.
fn duplicate(file: &File, label: &str) -> Result<File> {
    file.try_clone().map_err(|e| Error::io(label, e))
}

fn stream_source<R: Read + Send + 'static>(
    table: &TableDef,
    file: &FileConfig,
    input: R,
    label: &str,
) -> Result<Box<dyn BatchSource + Send>> {
    let (name, schema) = (table.name.as_str(), &table.schema);
    Ok(match file.format {
        FileFormat::Csv => Box::new(
            CsvSource::new(name, schema, input, label, file.csv)?
                .with_max_record_bytes(file.max_record_bytes)
                .live(),
        ),
        FileFormat::Jsonl => Box::new(
            JsonlSource::new(name, schema, input, label)
                .with_max_record_bytes(file.max_record_bytes)
                .live(),
        ),
    })
}

/// Opens a table's input once and cuts it into chunks: byte ranges of about
/// `chunk_bytes` aligned to record starts for a regular file (after its CSV
/// header, whose names are bound to the columns here), contiguous event
/// ranges of `chunk_events` for a generator, one stream for anything else.
pub fn plan_chunks(table: &TableDef, chunk_bytes: u64, chunk_events: u64) -> Result<ChunkPlan> {
    let config = SourceConfig::from_table(table)?;
    let per_chunk = chunk_events.max(1);
    match &config.connector {
        Connector::Trades(trades) => Ok(ChunkPlan::Events {
            events: trades.events,
            per_chunk,
        }),
        Connector::Nexmark(_, nexmark) => Ok(ChunkPlan::Events {
            events: nexmark.events,
            per_chunk,
        }),
        Connector::Kafka(kafka) => {
            check_schema(table)?;
            Ok(ChunkPlan::Kafka(plan_source(&table.name, kafka)?))
        }
        Connector::File(file) => {
            check_schema(table)?;
            match &file.location {
                Location::Stdin => Ok(ChunkPlan::Stream(StreamInput::Stdin)),
                Location::Path(path) => match open_path(&table.name, path, file.follow)? {
                    Opened::Stream(stream) => Ok(ChunkPlan::Stream(stream)),
                    Opened::File(shared) => plan_file(table, file, shared, chunk_bytes),
                },
            }
        }
    }
}

fn plan_file(
    table: &TableDef,
    file: &FileConfig,
    shared: SharedFile,
    chunk_bytes: u64,
) -> Result<ChunkPlan> {
    let header = match file.format {
        FileFormat::Csv if file.csv.header => Some(read_csv_header(&shared, file.csv.delimiter)?),
        _ => None,
    };
    if let Some(header) = &header {
        map_columns(&table.name, &table.schema, Some(header), shared.label())?;
    }
    let syntax = match file.format {
        FileFormat::Csv => RecordSyntax::Csv {
            delimiter: file.csv.delimiter,
            max_record_bytes: file.max_record_bytes,
        },
        FileFormat::Jsonl => RecordSyntax::Lines,
    };
    let ranges = split_file(&shared, chunk_bytes.max(1), header.as_ref(), syntax)?;
    Ok(ChunkPlan::File {
        file: shared,
        header,
        ranges,
    })
}

/// Wall-clock events per second of a paced generator (`rate`), if paced.
pub fn pacing_rate(table: &TableDef) -> Result<Option<f64>> {
    Ok(match SourceConfig::from_table(table)?.connector {
        Connector::Trades(trades) => trades.rate,
        Connector::Nexmark(_, config) => config.pacing_rate.map(|r| r as f64),
        Connector::File(_) | Connector::Kafka(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Batch, DataType, Field, Schema, Value};
    use crate::io::nexmark::NexmarkTable;
    use crate::io::Malformed;
    use std::io::Write;
    use std::path::Path;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Plenty for what takes milliseconds; a source that blocks fails the test.
    const PATIENCE: Duration = Duration::from_secs(10);

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

    fn ab_schema() -> Schema {
        Schema::new(vec![
            Field::new("a", DataType::Varchar),
            Field::new("b", DataType::BigInt),
        ])
    }

    fn read_all(mut src: Box<dyn BatchSource + Send>, width: usize) -> Result<Batch> {
        fill_all(src.as_mut(), width)
    }

    fn fill_all(src: &mut (dyn BatchSource + Send), width: usize) -> Result<Batch> {
        let mut batch = Batch::new(width);
        while src.fill(&mut batch, &mut Vec::new(), 100)? {}
        Ok(batch)
    }

    /// Every chunk of `plan`, read in order into one batch by readers that
    /// hand one state from chunk to chunk, as a shard's readers do.
    fn read_chunks(plan: &ChunkPlan, table: &TableDef) -> Result<Batch> {
        let width = table.schema.len();
        let mut joined = Batch::new(width);
        let mut state = SourceState::new();
        for index in 0..plan.len() {
            let mut reader = plan.open(table, index, &mut state)?;
            let part = fill_all(reader.as_mut(), width)?;
            reader.save_state(&mut state);
            for (row, pos) in part.rows() {
                joined.push_row(row, pos);
            }
        }
        Ok(joined)
    }

    fn csv_file(text: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text).unwrap();
        f
    }

    fn path_of(f: &tempfile::NamedTempFile) -> &str {
        f.path().to_str().unwrap()
    }

    #[test]
    fn file_chunks_read_what_the_whole_file_holds() {
        let f = csv_file(b"b,a\n1,x\n2,y\n3,z\n4,w\n5,v\n");
        let t = table(ab_schema(), &[("path", path_of(&f))]);
        let whole = read_all(open_source(&t).unwrap(), 2).unwrap();
        assert_eq!(whole.len(), 5);
        // 20 data bytes after a 4-byte header, lines every 4 bytes; chunks of
        // about 6 bytes are cut at the next line start: [4,12), [12,20), [20,24).
        let plan = plan_chunks(&t, 6, 1).unwrap();
        assert_eq!(plan.len(), 3);
        assert!(!plan.is_stream());
        assert_eq!(plan.lines_before_data(), 1);
        assert_eq!(read_chunks(&plan, &t).unwrap(), whole);
        let generator = plan_chunks(&table(Schema::default(), &[("connector", "trades")]), 1, 1);
        assert!(generator
            .unwrap()
            .open(&t, 0, &mut SourceState::new())
            .is_err());
    }

    #[test]
    fn generator_and_jsonl_chunks_sharing_a_state_read_the_whole_input() {
        let bid = NexmarkTable::Bid.schema();
        let nexmark = table(
            bid.clone(),
            &[
                ("connector", "nexmark"),
                ("table", "bid"),
                ("events", "900"),
            ],
        );
        let whole = read_all(open_source(&nexmark).unwrap(), bid.len()).unwrap();
        let plan = plan_chunks(&nexmark, 1, 97).unwrap();
        assert_eq!(plan.len(), 10);
        assert_eq!(read_chunks(&plan, &nexmark).unwrap(), whole);
        let f = csv_file(b"{\"a\":\"x\",\"b\":1}\n{\"a\":\"y\"}\n{\"b\":3,\"a\":\"x\"}\n");
        let jsonl = table(ab_schema(), &[("path", path_of(&f)), ("format", "jsonl")]);
        let whole = read_all(open_source(&jsonl).unwrap(), 2).unwrap();
        assert_eq!(whole.len(), 3);
        let plan = plan_chunks(&jsonl, 5, 1).unwrap();
        assert_eq!(plan.len(), 3);
        assert_eq!(read_chunks(&plan, &jsonl).unwrap(), whole);
    }

    #[test]
    fn a_file_deleted_after_planning_is_still_read_whole() {
        let f = csv_file(b"a,b\nx,1\ny,2\nz,3\n");
        let t = table(ab_schema(), &[("path", path_of(&f))]);
        let plan = plan_chunks(&t, 4, 1).unwrap();
        assert_eq!(plan.len(), 3);
        drop(f);
        let rows = read_chunks(&plan, &t).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.row(2), &[Value::str("z"), Value::Int(3)]);
    }

    #[test]
    fn a_file_that_shrinks_while_read_is_a_runtime_error_naming_the_sizes() {
        let f = csv_file(b"a,b\nx,1\ny,2\nz,3\n");
        let t = table(ab_schema(), &[("path", path_of(&f))]);
        let plan = plan_chunks(&t, 4, 1).unwrap();
        f.as_file().set_len(10).unwrap();
        let err = read_chunks(&plan, &t).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert_eq!(
            err.to_string(),
            format!(
                "{}: the file shrank while being read, from 16 bytes to 10 bytes",
                path_of(&f)
            )
        );
    }

    #[test]
    fn a_header_that_lacks_a_declared_column_fails_when_planned() {
        let f = csv_file(b"a,c\nx,1\n");
        let t = table(ab_schema(), &[("path", path_of(&f))]);
        let err = plan_chunks(&t, 100, 1).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let expected = format!(
            "source 't': column 'b' is not in the header of {} (it has: a, c)",
            path_of(&f)
        );
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn repeated_header_names_read_their_own_fields() {
        let f = csv_file(b"symbol,qty,QTY,qty\nA,1,2,3\nB,4,5,6\n");
        let schema = Schema::new(vec![
            Field::new("symbol", DataType::Varchar),
            Field::new("qty", DataType::BigInt),
            Field::new("QTY", DataType::BigInt),
            Field::new("qty", DataType::BigInt),
        ]);
        let t = table(schema, &[("path", path_of(&f))]);
        let plan = plan_chunks(&t, 1, 1).unwrap();
        let rows = read_chunks(&plan, &t).unwrap();
        assert_eq!(
            rows.row(1),
            &[Value::str("B"), Value::Int(4), Value::Int(5), Value::Int(6)]
        );
    }

    #[test]
    fn a_generator_declared_with_reordered_columns_binds_them_by_name() {
        let bid = |columns: &[(&str, DataType)]| {
            let schema = Schema::new(columns.iter().map(|(n, t)| Field::new(*n, *t)).collect());
            table(
                schema,
                &[
                    ("connector", "nexmark"),
                    ("table", "bid"),
                    ("events", "100"),
                ],
            )
        };
        let canonical = bid(&[("auction", DataType::BigInt), ("price", DataType::BigInt)]);
        let reordered = bid(&[("price", DataType::BigInt), ("auction", DataType::BigInt)]);
        check_table(&reordered).unwrap();
        let read = |t: &TableDef| read_all(open_source(t).unwrap(), 2).unwrap();
        let (straight, swapped) = (read(&canonical), read(&reordered));
        assert!(!straight.is_empty());
        for ((a, _), (b, _)) in straight.rows().zip(swapped.rows()) {
            assert_eq!(a, [b[1].clone(), b[0].clone()]);
        }
        let wrong = bid(&[("price", DataType::Double)]);
        let err = check_table(&wrong).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            "source 't': column 'price' of the nexmark bid generator is BIGINT, not DOUBLE"
        );
    }

    #[test]
    fn generator_chunks_are_contiguous_and_cover_every_event() {
        let t = table(
            crate::io::trades_schema(),
            &[("connector", "trades"), ("events", "10")],
        );
        let plan = plan_chunks(&t, 1, 4).unwrap();
        let chunks: Vec<SplitSpec> = (0..plan.len()).map(|i| plan.chunk(i)).collect();
        assert_eq!(
            chunks,
            vec![
                SplitSpec::Events {
                    first: 0,
                    last: 4,
                    stride: 1
                },
                SplitSpec::Events {
                    first: 4,
                    last: 8,
                    stride: 1
                },
                SplitSpec::Events {
                    first: 8,
                    last: 10,
                    stride: 1
                },
            ]
        );
        let positions = read_chunks(&plan, &t).unwrap().positions().to_vec();
        assert_eq!(positions, (0..10).collect::<Vec<u64>>());
    }

    fn make_fifo(path: &Path) {
        let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: `name` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    }

    /// What one `fill` call gave: rows, malformed records, and whether more may come.
    type Filled = (Batch, Vec<Malformed>, bool);

    /// Fills from `src` on another thread: each call's rows and result come
    /// back through the channel; a message on `go` asks for the next call.
    fn fill_on_a_thread(
        mut src: Box<dyn BatchSource + Send>,
        width: usize,
    ) -> (mpsc::Sender<()>, mpsc::Receiver<Filled>) {
        let (go, calls) = mpsc::channel::<()>();
        let (sender, results) = mpsc::channel();
        std::thread::spawn(move || {
            while calls.recv().is_ok() {
                let mut batch = Batch::new(width);
                let mut bad = Vec::new();
                let more = src.fill(&mut batch, &mut bad, 1000).unwrap();
                if sender.send((batch, bad, more)).is_err() {
                    return;
                }
            }
        });
        (go, results)
    }

    #[test]
    fn a_fifo_is_read_live_as_a_stream() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("in.csv");
        make_fifo(&fifo);
        let (line, lines) = mpsc::channel::<&'static str>();
        let writer_path = fifo.clone();
        std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new()
                .write(true)
                .open(writer_path)
                .unwrap();
            for text in lines {
                w.write_all(text.as_bytes()).unwrap();
                w.flush().unwrap();
            }
        });
        line.send("a,b\nx,1\n").unwrap();
        let t = table(ab_schema(), &[("path", fifo.to_str().unwrap())]);
        let plan = plan_chunks(&t, 1, 1).unwrap();
        assert!(plan.is_stream());
        assert_eq!(plan.len(), 1);
        let (go, results) = fill_on_a_thread(plan.open(&t, 0, &mut SourceState::new()).unwrap(), 2);
        // The writer waits: fill must hand over the row it has, not wait.
        go.send(()).unwrap();
        let (batch, _, more) = results.recv_timeout(PATIENCE).expect("fill returned");
        assert_eq!((batch.len(), more), (1, true));
        assert_eq!(batch.row(0), &[Value::str("x"), Value::Int(1)]);
        line.send("y,oops\nz,3\n").unwrap();
        drop(line);
        let mut rows = Vec::new();
        let mut malformed = 0;
        loop {
            go.send(()).unwrap();
            let (batch, bad, more) = results.recv_timeout(PATIENCE).expect("fill returned");
            rows.extend(batch.rows().map(|(row, _)| row.to_vec()));
            malformed += bad.len();
            if !more {
                break;
            }
        }
        assert_eq!(rows, vec![vec![Value::str("z"), Value::Int(3)]]);
        assert_eq!(malformed, 1);
    }

    #[test]
    fn a_character_device_is_a_stream() {
        let t = table(ab_schema(), &[("path", "/dev/null"), ("format", "jsonl")]);
        let plan = plan_chunks(&t, 1, 1).unwrap();
        assert!(plan.is_stream());
        assert_eq!(
            read_all(plan.open(&t, 0, &mut SourceState::new()).unwrap(), 2)
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn a_followed_file_delivers_appended_and_rotated_rows_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(&path, "a,b\nx,1\n").unwrap();
        let t = table(
            ab_schema(),
            &[("path", path.to_str().unwrap()), ("follow", "true")],
        );
        let plan = plan_chunks(&t, 1, 1).unwrap();
        assert!(plan.is_stream());
        let (go, results) = fill_on_a_thread(plan.open(&t, 0, &mut SourceState::new()).unwrap(), 2);
        let mut rows = Vec::new();
        let mut read_until = |count: usize| {
            while rows.len() < count {
                go.send(()).unwrap();
                let (batch, bad, more) = results.recv_timeout(PATIENCE).expect("fill returned");
                assert!(bad.is_empty() && more, "{bad:?}");
                rows.extend(batch.rows().map(|(row, _)| row[1].clone()));
            }
            rows.clone()
        };
        assert_eq!(read_until(1), vec![Value::Int(1)]);
        let append = |file: &Path, text: &str| {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(file)
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        append(&path, "y,2\n");
        assert_eq!(read_until(2), vec![Value::Int(1), Value::Int(2)]);
        let rotated = dir.path().join("log.csv.1");
        std::fs::rename(&path, &rotated).unwrap();
        append(&rotated, "z,3\n");
        append(&path, "a,b\nw,4\n");
        let all: Vec<Value> = (1..=4).map(Value::Int).collect();
        assert_eq!(read_until(4), all);
    }
}
