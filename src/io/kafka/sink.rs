//! The Kafka sink: one message per output row, its value the row as a JSON
//! object or a CSV record (no header, no line terminator), its key the
//! `key.fields` columns in the same format. Keyed messages are partitioned
//! with murmur2 (`partitioner` = `murmur2_random`), as Kafka's Java client
//! does, so other clients agree on where a key lives.
//!
//! Rows are formatted as they come and handed to librdkafka on
//! [`RowSink::flush`]; [`RowSink::finish`] waits until every message is
//! acknowledged. A message librdkafka gives up on (delivery error) fails the
//! run with the broker's reason: nothing is dropped silently. Delivery
//! reports come back through a channel, so the sink holds no lock.

use super::client::{client_config, partitions, servers};
use super::config::KafkaSinkConfig;
use crate::data::{Schema, Value};
use crate::error::{Error, Result};
use crate::io::{CsvRows, DebeziumJson, Flushed, JsonLines, OutputFormat, RowFormat, RowSink};
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

/// How long [`RowSink::finish`] waits for every message to be acknowledged.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a flush waits for room in librdkafka's queue before it asks
/// `give_up` again.
const QUEUE_WAIT: Duration = Duration::from_millis(10);

/// Sends failed deliveries to the sink.
struct Reports(Sender<String>);

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            // The sink is gone only after the run ended.
            let _ = self.0.send(error.to_string());
        }
    }
}

/// One formatted row: its key (if keyed) and value.
type Formatted = (Option<Vec<u8>>, Vec<u8>);

/// Writes rows to a Kafka topic.
pub struct KafkaSink {
    producer: BaseProducer<Reports>,
    topic: String,
    servers: String,
    value: Box<dyn RowFormat + Send>,
    key: Option<(Vec<usize>, Box<dyn RowFormat + Send>)>,
    pending: Vec<Formatted>,
    pending_bytes: usize,
    key_values: Vec<Value>,
    failures: Receiver<String>,
    sent: u64,
}

impl KafkaSink {
    /// Connects, checks that the topic exists, and resolves `key.fields`
    /// among `columns`.
    pub fn open(config: &KafkaSinkConfig, format: OutputFormat, columns: &Schema) -> Result<Self> {
        let what = "Kafka output";
        let checker: BaseConsumer =
            client_config(&config.client, &[("allow.auto.create.topics", "false")])
                .create()
                .map_err(|e| Error::Usage(format!("{what}: bad Kafka settings: {e}")))?;
        partitions(&checker, &config.client, &config.topic, what)?;
        let (sender, failures) = channel();
        let producer = client_config(&config.client, &producer_defaults(config))
            .create_with_context(Reports(sender))
            .map_err(|e| Error::Usage(format!("{what}: bad Kafka settings: {e}")))?;
        // A changelog's key is the key columns as plain JSON (the row kind
        // belongs to the value).
        let key_format = match format {
            OutputFormat::DebeziumJson => OutputFormat::Jsonl,
            other => other,
        };
        let key = key_columns(&config.key_fields, columns)?
            .map(|(indexes, schema)| (indexes, row_format(key_format, &schema)));
        Ok(KafkaSink {
            producer,
            topic: config.topic.clone(),
            servers: servers(&config.client).to_string(),
            value: row_format(format, columns),
            key,
            pending: Vec::new(),
            pending_bytes: 0,
            key_values: Vec::new(),
            failures,
            sent: 0,
        })
    }

    /// Ends the run on the first failed delivery reported so far.
    fn check_deliveries(&self) -> Result<()> {
        match self.failures.try_recv() {
            Ok(reason) => Err(self.failed(&reason)),
            Err(_) => Ok(()),
        }
    }

    fn failed(&self, reason: &str) -> Error {
        Error::Runtime(format!(
            "Kafka output: delivery to topic '{}' on {} failed: {reason}",
            self.topic, self.servers
        ))
    }

    /// Hands one row to librdkafka; `false` while its queue is full.
    fn send(&self, (key, value): &Formatted) -> Result<bool> {
        let mut record = BaseRecord::<[u8], [u8]>::to(&self.topic).payload(value.as_slice());
        if let Some(key) = key {
            record = record.key(key.as_slice());
        }
        match self.producer.send(record) {
            Ok(()) => Ok(true),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => Ok(false),
            Err((e, _)) => Err(self.failed(&e.to_string())),
        }
    }
}

/// Settings the sink adds unless the WITH clause sets them: Kafka's Java
/// partitioner, and every message acknowledged by all in-sync replicas.
fn producer_defaults(config: &KafkaSinkConfig) -> Vec<(&'static str, &'static str)> {
    [("partitioner", "murmur2_random"), ("acks", "all")]
        .into_iter()
        .filter(|(key, _)| super::config::setting(&config.client, key).is_none())
        .collect()
}

fn row_format(format: OutputFormat, columns: &Schema) -> Box<dyn RowFormat + Send> {
    match format {
        OutputFormat::Csv => Box::new(CsvRows::new(columns)),
        OutputFormat::DebeziumJson => Box::new(DebeziumJson::new(columns)),
        _ => Box::new(JsonLines::new(columns)),
    }
}

/// The positions and schema of the `key.fields` columns (`None`: no key).
fn key_columns(fields: &[String], columns: &Schema) -> Result<Option<(Vec<usize>, Schema)>> {
    if fields.is_empty() {
        return Ok(None);
    }
    let mut indexes = Vec::with_capacity(fields.len());
    for field in fields {
        let index = columns
            .fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(field))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "Kafka output: 'key.fields' names '{field}', which is not an output column \
                     (columns: {})",
                    columns.names().collect::<Vec<_>>().join(", ")
                ))
            })?;
        indexes.push(index);
    }
    let schema = Schema::new(indexes.iter().map(|&i| columns.fields[i].clone()).collect());
    Ok(Some((indexes, schema)))
}

/// Formats `values` as one message body: the row without its line end.
fn message(format: &mut dyn RowFormat, values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    format.format(values, &mut out);
    while matches!(out.last(), Some(b'\n' | b'\r')) {
        out.pop();
    }
    out
}

impl RowSink for KafkaSink {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        let key = match &mut self.key {
            Some((indexes, format)) => {
                self.key_values.clear();
                self.key_values
                    .extend(indexes.iter().map(|&i| values[i].clone()));
                Some(message(format.as_mut(), &self.key_values))
            }
            None => None,
        };
        let value = message(self.value.as_mut(), values);
        self.pending_bytes += value.len() + key.as_ref().map_or(0, Vec::len);
        self.pending.push((key, value));
        Ok(())
    }

    fn buffered_bytes(&self) -> usize {
        self.pending_bytes
    }

    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
        let mut handed = 0;
        while handed < self.pending.len() {
            if self.send(&self.pending[handed])? {
                handed += 1;
                continue;
            }
            self.producer.poll(QUEUE_WAIT);
            self.check_deliveries()?;
            if give_up() {
                break;
            }
        }
        let bytes: usize = self.pending[..handed]
            .iter()
            .map(|(k, v)| v.len() + k.as_ref().map_or(0, Vec::len))
            .sum();
        self.pending.drain(..handed);
        self.pending_bytes -= bytes;
        self.sent += handed as u64;
        self.producer.poll(Duration::ZERO);
        self.check_deliveries()?;
        Ok(Flushed {
            rows: handed as u64,
            complete: self.pending.is_empty(),
        })
    }

    fn rows_written(&self) -> u64 {
        self.sent
    }

    /// Waits for the acknowledgement of every message handed over (rows a
    /// flush gave up on after an interrupt stay unsent).
    fn finish(&mut self) -> Result<()> {
        self.settle()
    }

    /// Waits for the acknowledgement of every message handed over.
    fn settle(&mut self) -> Result<()> {
        let flushed = self.producer.flush(DELIVERY_TIMEOUT);
        self.check_deliveries()?;
        flushed.map_err(|e| {
            self.failed(&format!(
                "{} messages were not acknowledged within {} s ({e})",
                self.producer.in_flight_count(),
                DELIVERY_TIMEOUT.as_secs()
            ))
        })
    }
}
