//! The Kafka source: [`plan_source`] fixes every partition's offsets on the
//! main thread; [`KafkaSource`] reads them on the stream's reader thread (a
//! poll there may wait up to [`POLL_WAIT`], which blocks no shard), turns
//! each message's value into a row (JSON or CSV, one record per message),
//! and dead-letters a message it cannot read with its topic, partition and
//! offset. Every message read becomes exactly one row or one dead letter.

use super::client::{
    consumer, group_member, partitions, servers, unreachable_error, CONNECT_TIMEOUT,
};
use super::config::{Bound, KafkaSourceConfig, Startup};
use super::layout::{Layout, MessageMeta};
use crate::data::{time_value, Batch, Schema, Value};
use crate::error::{Error, Result};
use crate::io::properties::FileFormat;
use crate::io::{
    BatchSource, CsvSource, JsonlSource, Malformed, ReadPosition, RecordOrigin, StreamSharing,
};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The longest one poll waits for a message on the reader thread.
pub const POLL_WAIT: Duration = Duration::from_millis(100);
/// How long a reader waits for the broker to say what is committed.
const COMMIT_CHECK_WAIT: Duration = Duration::from_secs(1);
/// How long errors that librdkafka retries (a broker gone) may go on,
/// without a message in between, before the run fails with the last one.
pub const ERROR_PATIENCE: Duration = Duration::from_secs(30);

/// Where one partition is read from and, for a bounded read, up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRange {
    pub partition: i32,
    pub start: i64,
    /// Exclusive; `None` when unbounded.
    pub end: Option<i64>,
}

/// A Kafka source's partitions with their offsets, fixed when planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaPlan {
    pub topic: String,
    pub partitions: Vec<PartitionRange>,
    /// How the readers (one per shard) share the partitions.
    pub sharing: StreamSharing,
}

impl KafkaPlan {
    /// True when some partition is read without an end (no bounded mode).
    pub fn never_ends(&self) -> bool {
        self.partitions.iter().any(|p| p.end.is_none())
    }
}

/// Checks that the topic exists and fixes every partition's start (from the
/// startup mode) and end (the latest offset now, when bounded).
pub fn plan_source(name: &str, config: &KafkaSourceConfig) -> Result<KafkaPlan> {
    let what = format!("source '{name}'");
    let consumer = consumer(&config.client, &what)?;
    let ids = partitions(&consumer, &config.client, &config.topic, &what)?;
    let mut ranges = Vec::with_capacity(ids.len());
    let starts = start_offsets(&consumer, config, &ids, &what)?;
    let ends = match config.bounded {
        true => end_offsets(&consumer, config, &ids, &what)?,
        false => vec![None; ids.len()],
    };
    for ((partition, start), end) in ids.into_iter().zip(starts).zip(ends) {
        let (low, high) = consumer
            .fetch_watermarks(&config.topic, partition, CONNECT_TIMEOUT)
            .map_err(|e| unreachable_error(&config.client, &what, &e))?;
        let start = match start {
            Offset::Offset(n) => n.clamp(low, high),
            Offset::Beginning => low,
            _ => high,
        };
        let end = config.bounded.then(|| match end {
            Some(Offset::Offset(n)) => n.clamp(start, high),
            _ => high,
        });
        ranges.push(PartitionRange {
            partition,
            start,
            end,
        });
    }
    Ok(KafkaPlan {
        topic: config.topic.clone(),
        partitions: ranges,
        sharing: StreamSharing::default(),
    })
}

/// Each partition's end as the bounded mode gives it (`None`: the latest
/// offset; resolved against the watermarks by the caller).
fn end_offsets(
    consumer: &BaseConsumer,
    config: &KafkaSourceConfig,
    ids: &[i32],
    what: &str,
) -> Result<Vec<Option<Offset>>> {
    let resolved = match config.bound {
        Bound::LatestOffset => return Ok(vec![None; ids.len()]),
        Bound::GroupOffsets => consumer.committed_offsets(
            partition_list(config, ids, Offset::Invalid, what)?,
            CONNECT_TIMEOUT,
        ),
        Bound::Timestamp(ms) => consumer.offsets_for_times(
            partition_list(config, ids, Offset::Offset(ms), what)?,
            CONNECT_TIMEOUT,
        ),
    }
    .map_err(|e| unreachable_error(&config.client, what, &e))?;
    Ok(ids
        .iter()
        .map(|id| match offset_of(&resolved, &config.topic, *id) {
            Some(n) => Some(Offset::Offset(n)),
            // A group without a commit for the partition reads none of it.
            None if config.bound == Bound::GroupOffsets => Some(Offset::Offset(0)),
            None => None,
        })
        .collect())
}

/// `ids` of the topic, each at `offset`.
fn partition_list(
    config: &KafkaSourceConfig,
    ids: &[i32],
    offset: Offset,
    what: &str,
) -> Result<TopicPartitionList> {
    let mut tpl = TopicPartitionList::new();
    for id in ids {
        tpl.add_partition_offset(&config.topic, *id, offset)
            .map_err(|e| Error::Runtime(format!("{what}: {e}")))?;
    }
    Ok(tpl)
}

/// Each partition's start as the startup mode gives it (resolved against
/// the watermarks by the caller).
fn start_offsets(
    consumer: &BaseConsumer,
    config: &KafkaSourceConfig,
    ids: &[i32],
    what: &str,
) -> Result<Vec<Offset>> {
    let list = |offset: Offset| partition_list(config, ids, offset, what);
    let resolved = match config.startup {
        Startup::Earliest => return Ok(vec![Offset::Beginning; ids.len()]),
        Startup::Latest => return Ok(vec![Offset::End; ids.len()]),
        Startup::GroupOffsets => {
            consumer.committed_offsets(list(Offset::Invalid)?, CONNECT_TIMEOUT)
        }
        Startup::Timestamp(ms) => {
            consumer.offsets_for_times(list(Offset::Offset(ms))?, CONNECT_TIMEOUT)
        }
    }
    .map_err(|e| unreachable_error(&config.client, what, &e))?;
    let reset = no_committed_offset(config);
    Ok(ids
        .iter()
        .map(|id| match offset_of(&resolved, &config.topic, *id) {
            Some(n) => Offset::Offset(n),
            None if config.startup == Startup::GroupOffsets => reset,
            None => Offset::End,
        })
        .collect())
}

/// The offset a broker's answer gives partition `id`, if it gives one.
fn offset_of(resolved: &TopicPartitionList, topic: &str, id: i32) -> Option<i64> {
    match resolved.find_partition(topic, id).map(|p| p.offset()) {
        Some(Offset::Offset(n)) => Some(n),
        _ => None,
    }
}

/// Where a group without a committed offset starts: `auto.offset.reset`
/// (librdkafka's default, `latest`).
fn no_committed_offset(config: &KafkaSourceConfig) -> Offset {
    match config
        .client_setting("auto.offset.reset")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("earliest" | "smallest" | "beginning") => Offset::Beginning,
        _ => Offset::End,
    }
}

/// After a bounded run wrote all its output: commits every partition's end
/// offset for the group (at-least-once: nothing is committed before), giving
/// up after [`COMMIT_PATIENCE`]. A source without `group.id`, or an
/// unbounded one, commits nothing.
pub fn commit_source(name: &str, config: &KafkaSourceConfig, plan: &KafkaPlan) -> Result<()> {
    if config.client_setting("group.id").is_none() || !config.bounded {
        return Ok(());
    }
    let what = format!("source '{name}'");
    let mut tpl = TopicPartitionList::new();
    for range in &plan.partitions {
        let end = range.end.unwrap_or(range.start);
        tpl.add_partition_offset(&plan.topic, range.partition, Offset::Offset(end))
            .map_err(|e| Error::Runtime(format!("{what}: {e}")))?;
    }
    let consumer = consumer(&config.client, &what)?;
    commit_within(consumer, tpl, COMMIT_PATIENCE).map_err(|reason| {
        let reason = reason.unwrap_or_else(|| {
            format!(
                "no answer from Kafka at {} within {} s",
                servers(&config.client),
                COMMIT_PATIENCE.as_secs()
            )
        });
        Error::Runtime(format!(
            "{what}: the output was written, but committing the offsets of Kafka topic '{}' \
             failed (a restart reads those records again): {reason}",
            plan.topic
        ))
    })
}

/// How long the end-of-run commit waits for the broker's answer.
/// librdkafka's synchronous commit sets no deadline of its own: while no
/// group coordinator answers it holds the commit for `session.timeout.ms`
/// (45 s by default, up to an hour), and closing the consumer waits for it.
const COMMIT_PATIENCE: Duration = CONNECT_TIMEOUT;

/// Commits `offsets` on a thread of its own and waits up to `patience` for
/// the answer. Errs with the reason, or with `None` when no answer came in
/// time (the thread is then left to its wait, and to the consumer's close).
fn commit_within(
    consumer: BaseConsumer,
    offsets: TopicPartitionList,
    patience: Duration,
) -> std::result::Result<(), Option<String>> {
    let (answer_tx, answer) = mpsc::channel();
    std::thread::Builder::new()
        .name("corestream-commit".into())
        .spawn(move || {
            let _ = answer_tx.send(consumer.commit(&offsets, CommitMode::Sync));
            drop(consumer);
        })
        .map_err(|e| Some(format!("cannot start a thread to commit: {e}")))?;
    match answer.recv_timeout(patience) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Some(e.to_string())),
        Err(RecvTimeoutError::Timeout) => Err(None),
        Err(RecvTimeoutError::Disconnected) => Err(Some("the commit ended unanswered".into())),
    }
}

/// A consumer with its assigned partitions, and the bounded ones with their
/// ends.
type Assigned = (BaseConsumer, Vec<i32>, Vec<(i32, i64)>);

/// A message's headers as a JSON object of texts (lossy UTF-8; a header
/// without a value is `null`; a repeated name keeps its last value).
fn headers_json(message: &BorrowedMessage<'_>) -> String {
    let mut object = serde_json::Map::new();
    if let Some(headers) = message.headers() {
        for header in headers.iter() {
            let value = header.value.map_or(serde_json::Value::Null, |v| {
                serde_json::Value::String(String::from_utf8_lossy(v).into_owned())
            });
            object.insert(header.key.to_string(), value);
        }
    }
    serde_json::Value::Object(object).to_string()
}

/// Assigns `consumer` the partitions of `ranges` that have something to
/// read.
fn assign<'a>(
    consumer: BaseConsumer,
    topic: &str,
    ranges: impl Iterator<Item = &'a PartitionRange>,
    what: &str,
) -> Result<Assigned> {
    let mut tpl = TopicPartitionList::new();
    let mut assigned = Vec::new();
    let mut open = Vec::new();
    for range in ranges {
        if range.end.is_some_and(|end| range.start >= end) {
            continue;
        }
        assigned.push(range.partition);
        tpl.add_partition_offset(topic, range.partition, Offset::Offset(range.start))
            .map_err(|e| Error::Runtime(format!("{what}: {e}")))?;
        if let Some(end) = range.end {
            open.push((range.partition, end));
        }
    }
    consumer
        .assign(&tpl)
        .map_err(|e| Error::Runtime(format!("{what}: cannot assign partitions: {e}")))?;
    Ok((consumer, assigned, open))
}

/// Per partition read: the largest event time among its rows and when its
/// latest message came. A reader's frontier is the smallest of those
/// largest times over the partitions that are not idle, so that a partition
/// behind the others holds the watermark back (Kafka's per-partition
/// watermarks) until it idles past the idle timeout.
struct PartitionClocks {
    event_time_column: Option<usize>,
    idle_timeout: Option<Duration>,
    clocks: Vec<PartitionClock>,
}

struct PartitionClock {
    partition: i32,
    max_event_time: Option<i64>,
    /// The latest message, or when the partition came to this reader.
    heard_at: Instant,
}

impl PartitionClocks {
    fn new(sharing: &StreamSharing, assigned: &[i32]) -> Self {
        let mut clocks = PartitionClocks {
            event_time_column: sharing.event_time_column,
            idle_timeout: sharing.idle_timeout,
            clocks: Vec::new(),
        };
        clocks.assigned(assigned);
        clocks
    }

    /// The partitions this reader holds now: new ones start holding the
    /// watermark back; ones it gave up are forgotten.
    fn assigned(&mut self, partitions: &[i32]) {
        self.clocks.retain(|c| partitions.contains(&c.partition));
        for &partition in partitions {
            if !self.clocks.iter().any(|c| c.partition == partition) {
                self.clocks.push(PartitionClock {
                    partition,
                    max_event_time: None,
                    heard_at: Instant::now(),
                });
            }
        }
    }

    /// A bounded partition read to its end holds nothing back.
    fn ended(&mut self, partition: i32) {
        self.clocks.retain(|c| c.partition != partition);
    }

    fn clock(&mut self, partition: i32) -> &mut PartitionClock {
        let at = match self.clocks.iter().position(|c| c.partition == partition) {
            Some(at) => at,
            None => {
                self.clocks.push(PartitionClock {
                    partition,
                    max_event_time: None,
                    heard_at: Instant::now(),
                });
                self.clocks.len() - 1
            }
        };
        &mut self.clocks[at]
    }

    /// A message came from `partition`.
    fn heard(&mut self, partition: i32, at: Instant) {
        self.clock(partition).heard_at = at;
    }

    /// A row from `partition`.
    fn saw(&mut self, partition: i32, row: &[Value]) {
        let Some(column) = self.event_time_column else {
            return;
        };
        let event_time = row.get(column).and_then(time_value);
        let clock = self.clock(partition);
        clock.max_event_time = clock.max_event_time.max(event_time);
    }

    fn frontier(&self) -> Option<i64> {
        self.event_time_column?;
        let idle = |c: &PartitionClock| {
            self.idle_timeout
                .is_some_and(|timeout| c.heard_at.elapsed() >= timeout)
        };
        let mut frontier = i64::MAX;
        for clock in self.clocks.iter().filter(|c| !idle(c)) {
            frontier = frontier.min(clock.max_event_time?);
        }
        Some(frontier)
    }
}

/// One message waiting to be parsed: where it came from.
struct Pending {
    meta: MessageMeta,
    /// Where its line starts in the parse buffer.
    start: usize,
}

/// Reads a topic's partitions into rows: the planned ones it was dealt, or
/// the ones the consumer group gives it.
pub struct KafkaSource {
    consumer: BaseConsumer,
    messages: Messages,
    /// Commits go to the group (unbounded reads with a `group.id`; a bounded
    /// read commits its end offsets once the run is over instead).
    commits: bool,
    /// Dealt no partition (more shards than partitions): nothing to read.
    nothing_assigned: bool,
}

/// What the reader has read but not parsed yet, and how far it has come.
struct Messages {
    name: String,
    label: String,
    topic: String,
    /// Which columns the value holds and which come from metadata.
    layout: Layout,
    /// A declared row being put together.
    row: Vec<Value>,
    config: KafkaSourceConfig,
    /// Bounded: partitions still short of their end, with that end.
    open: Vec<(i32, i64)>,
    buffer: Vec<u8>,
    pending: Vec<Pending>,
    /// Messages read so far (rows carry this as their position).
    sequence: u64,
    /// Each partition read from, with the offset after its latest message.
    read: ReadPosition,
    /// The event time kept per partition read.
    clocks: PartitionClocks,
    /// The first and the latest of a run of errors librdkafka retries.
    trouble: Option<(Instant, Instant)>,
}

impl KafkaSource {
    /// Reader `reader` of the plan's readers (one per shard). A reader that
    /// joins the group ([`KafkaSourceConfig::joins_group`]) reads what the
    /// group assigns it; any other reader is dealt the planned partitions
    /// `reader, reader + readers, ...` that have something to read.
    pub fn open(
        name: &str,
        schema: &Schema,
        config: &KafkaSourceConfig,
        plan: &KafkaPlan,
        reader: usize,
    ) -> Result<KafkaSource> {
        let what = format!("source '{name}'");
        let layout = Layout::new(name, schema, &config.metadata)?;
        let (consumer, assigned, open) = if config.joins_group() {
            let member = group_member(&config.client, &plan.topic, reader, &what)?;
            (member, None, Vec::new())
        } else {
            let dealt = plan.partitions.iter().skip(reader);
            let dealt = dealt.step_by(plan.sharing.readers.max(1));
            let (consumer, assigned, open) =
                assign(consumer(&config.client, &what)?, &plan.topic, dealt, &what)?;
            (consumer, Some(assigned), open)
        };
        Ok(KafkaSource {
            commits: !config.bounded && config.client_setting("group.id").is_some(),
            nothing_assigned: assigned.as_ref().is_some_and(Vec::is_empty),
            consumer,
            messages: Messages {
                name: name.to_string(),
                label: format!("Kafka topic '{}'", plan.topic),
                topic: plan.topic.clone(),
                layout,
                row: Vec::with_capacity(schema.len()),
                config: config.clone(),
                open,
                buffer: Vec::new(),
                pending: Vec::new(),
                sequence: 0,
                read: ReadPosition::default(),
                clocks: PartitionClocks::new(&plan.sharing, assigned.as_deref().unwrap_or(&[])),
                trouble: None,
            },
        })
    }

    fn finished(&self) -> bool {
        (self.messages.config.bounded || self.nothing_assigned) && self.messages.open.is_empty()
    }

    /// Polls up to `max` messages (waiting for the first only).
    fn poll(&mut self, max: usize, malformed: &mut Vec<Malformed>) -> Result<usize> {
        for taken in 0..max {
            let wait = if taken == 0 {
                POLL_WAIT
            } else {
                Duration::ZERO
            };
            match self.consumer.poll(wait) {
                None => return Ok(taken),
                Some(Ok(message)) => self.messages.take(&message, malformed),
                Some(Err(KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) => self.messages.trouble(e)?,
            }
            if self.finished() {
                return Ok(taken + 1);
            }
        }
        Ok(max)
    }

    /// A group member: the partitions the group gives it now (rebalances
    /// happen inside a poll).
    fn follow_assignment(&mut self) {
        if let Ok(assignment) = self.consumer.assignment() {
            let partitions: Vec<i32> = assignment
                .elements()
                .iter()
                .map(|e| e.partition())
                .collect();
            self.messages.clocks.assigned(&partitions);
        }
    }

    /// Bounded: partitions whose next offset reached the end (past
    /// transaction markers, which are never delivered) are done.
    fn close_reached_partitions(&mut self) -> Result<()> {
        if self.messages.open.is_empty() {
            return Ok(());
        }
        let positions = self
            .consumer
            .position()
            .map_err(|e| Error::Runtime(format!("source '{}': {e}", self.messages.name)))?;
        let topic = &self.messages.topic;
        self.messages.open.retain(|(partition, end)| {
            let at = positions
                .find_partition(topic, *partition)
                .map(|p| p.offset());
            !matches!(at, Some(Offset::Offset(n)) if n >= *end)
        });
        Ok(())
    }
}

impl Messages {
    /// Takes one message: into the parse buffer, or straight to the dead
    /// letters when it has no value or (CSV) more than one line. Messages
    /// past a bounded partition's end are not read.
    fn take(&mut self, message: &BorrowedMessage<'_>, malformed: &mut Vec<Malformed>) {
        self.trouble = None;
        let (partition, offset) = (message.partition(), message.offset());
        if self.config.bounded {
            let Some(at) = self.open.iter().position(|(p, _)| *p == partition) else {
                return;
            };
            let end = self.open[at].1;
            if offset >= end {
                self.open.swap_remove(at);
                self.clocks.ended(partition);
                return;
            }
            if offset + 1 >= end {
                self.open.swap_remove(at);
                self.clocks.ended(partition);
            }
        }
        self.read.note(partition, offset + 1);
        self.clocks.heard(partition, Instant::now());
        let payload = message.payload().unwrap_or_default();
        match self.refusal(payload) {
            Some(reason) => {
                let raw = String::from_utf8_lossy(payload).into_owned();
                malformed.push(self.dead(partition, offset, reason, raw));
                self.sequence += 1;
            }
            None => {
                let meta = MessageMeta {
                    partition,
                    offset,
                    timestamp: message.timestamp().to_millis(),
                    key: message
                        .key()
                        .filter(|_| self.layout.wants_key())
                        .map(|k| String::from_utf8_lossy(k).into_owned()),
                    headers: self.layout.wants_headers().then(|| headers_json(message)),
                };
                self.buffer_line(meta, payload);
            }
        }
    }

    /// Why a message cannot be parsed as one record, if it cannot.
    fn refusal(&self, payload: &[u8]) -> Option<String> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Some("empty message: no value".to_string());
        }
        if payload.len() > self.config.max_record_bytes {
            return Some(format!(
                "message of {} bytes is longer than max_record_bytes ({})",
                payload.len(),
                self.config.max_record_bytes
            ));
        }
        let multiline = payload.iter().any(|b| matches!(b, b'\n' | b'\r'));
        (self.config.format == FileFormat::Csv && multiline)
            .then(|| "a CSV message must hold one record on one line".to_string())
    }

    /// Appends `payload` as one line (JSON line breaks are whitespace).
    fn buffer_line(&mut self, meta: MessageMeta, payload: &[u8]) {
        self.pending.push(Pending {
            meta,
            start: self.buffer.len(),
        });
        self.buffer.extend(payload.iter().map(|&b| match b {
            b'\n' | b'\r' => b' ',
            other => other,
        }));
        self.buffer.push(b'\n');
    }

    fn dead(&self, partition: i32, offset: i64, reason: String, raw: String) -> Malformed {
        Malformed {
            source: self.name.clone(),
            line: None,
            line_in_split: None,
            position: self.sequence,
            reason,
            raw,
            origin: Some(RecordOrigin {
                topic: self.topic.clone(),
                partition,
                offset,
            }),
        }
    }

    /// An error from the consumer: fatal ones end the run; ones librdkafka
    /// retries do once they have gone on for [`ERROR_PATIENCE`].
    fn trouble(&mut self, error: KafkaError) -> Result<()> {
        let now = Instant::now();
        let first = match self.trouble {
            Some((first, last)) if now - last < ERROR_PATIENCE => first,
            _ => now,
        };
        self.trouble = Some((first, now));
        let fatal = matches!(error, KafkaError::MessageConsumptionFatal(_));
        if fatal || now - first >= ERROR_PATIENCE {
            return Err(Error::Runtime(format!(
                "source '{}': reading Kafka topic '{}' from {} failed: {error}",
                self.name,
                self.topic,
                super::client::servers(&self.config.client)
            )));
        }
        Ok(())
    }

    /// Parses the buffered lines into `batch` (in message order), and the
    /// ones that are not records of the schema into `malformed`.
    fn parse(&mut self, batch: &mut Batch, malformed: &mut Vec<Malformed>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let width = self.layout.value_schema().len();
        let mut rows = Batch::with_capacity(width, self.pending.len());
        let mut bad = Vec::new();
        self.parse_buffer(&mut rows, &mut bad)?;
        let plain = self.layout.is_plain();
        for (row, at) in rows.rows() {
            let index = self.index_of(at);
            let position = self.sequence + index as u64;
            let partition = self.pending[index].meta.partition;
            if plain {
                batch.push_row(row, position);
                self.clocks.saw(partition, row);
            } else {
                self.layout
                    .row(row, &self.pending[index].meta, &mut self.row);
                batch.push_row(&self.row, position);
                self.clocks.saw(partition, &self.row);
            }
        }
        for record in bad {
            let index = self.index_of(record.position);
            let message = &self.pending[index].meta;
            let mut dead = self.dead(message.partition, message.offset, record.reason, record.raw);
            dead.position = self.sequence + index as u64;
            malformed.push(dead);
        }
        self.sequence += self.pending.len() as u64;
        self.pending.clear();
        self.buffer.clear();
        Ok(())
    }

    fn parse_buffer(&self, rows: &mut Batch, bad: &mut Vec<Malformed>) -> Result<()> {
        let input = self.buffer.as_slice();
        let schema = self.layout.value_schema();
        let (name, label) = (self.name.as_str(), self.label.as_str());
        let limit = self.config.max_record_bytes.saturating_add(1);
        let mut source: Box<dyn BatchSource + '_> = match self.config.format {
            FileFormat::Jsonl => {
                Box::new(JsonlSource::new(name, schema, input, label).with_max_record_bytes(limit))
            }
            FileFormat::Csv => Box::new(
                CsvSource::new(name, schema, input, label, self.config.csv)?
                    .with_max_record_bytes(limit),
            ),
        };
        while source.fill(rows, bad, usize::MAX)? {}
        Ok(())
    }

    /// The pending message whose line starts at byte `at` of the buffer.
    fn index_of(&self, at: u64) -> usize {
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        match self.pending.binary_search_by_key(&at, |p| p.start) {
            Ok(index) => index,
            Err(index) => index.saturating_sub(1),
        }
    }
}

impl BatchSource for KafkaSource {
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        if self.finished() {
            return Ok(false);
        }
        let taken = self.poll(max_rows.max(1), malformed)?;
        if self.messages.config.joins_group() {
            self.follow_assignment();
        }
        self.messages.parse(batch, malformed)?;
        if taken == 0 && self.messages.config.bounded {
            self.close_reached_partitions()?;
        }
        Ok(!self.finished())
    }

    fn position(&self) -> Option<ReadPosition> {
        self.commits.then(|| self.messages.read.clone())
    }

    fn event_time_frontier(&self) -> Option<i64> {
        self.messages.clocks.frontier()
    }

    fn holds_commit(&self, position: &ReadPosition) -> bool {
        let topic = &self.messages.topic;
        let mut tpl = TopicPartitionList::new();
        for &(partition, _) in &position.partitions {
            tpl.add_partition(topic, partition);
        }
        let Ok(held) = self.consumer.committed_offsets(tpl, COMMIT_CHECK_WAIT) else {
            return false;
        };
        position
            .partitions
            .iter()
            .all(|&(partition, next)| offset_of(&held, topic, partition).is_some_and(|n| n >= next))
    }

    /// Commits `position` for the group without waiting for the broker's
    /// answer: a synchronous commit waits without end for a coordinator
    /// that is gone. A commit that fails is only a commit missed (a restart
    /// reads those records again); the next one covers it, and closing the
    /// consumer waits for the last.
    fn commit(&mut self, position: &ReadPosition) -> Result<()> {
        let topic = &self.messages.topic;
        let mut tpl = TopicPartitionList::new();
        for &(partition, next) in &position.partitions {
            tpl.add_partition_offset(topic, partition, Offset::Offset(next))
                .map_err(|e| Error::Runtime(format!("{e}")))?;
        }
        self.consumer.commit(&tpl, CommitMode::Async).map_err(|e| {
            Error::Runtime(format!(
                "source '{}': committing offsets of Kafka topic '{topic}' failed (a restart \
                 reads those records again): {e}",
                self.messages.name
            ))
        })
    }
}
