//! Stand-ins for a build without the `kafka` feature: every Kafka source or
//! sink is refused with an error that says how to get one.

use super::config::{KafkaSinkConfig, KafkaSourceConfig};
use crate::data::Schema;
use crate::error::{Error, Result};
use crate::io::OutputFormat;

fn disabled() -> Error {
    Error::Usage(
        "this corestream was built without Kafka support (cargo feature 'kafka')".to_string(),
    )
}

/// Never made: Kafka sources are refused when planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaPlan {
    pub sharing: crate::io::StreamSharing,
}

impl KafkaPlan {
    pub fn never_ends(&self) -> bool {
        true
    }
}

/// Never made.
pub enum KafkaSource {}

/// Never made.
pub enum KafkaSink {}

pub fn plan_source(_name: &str, _config: &KafkaSourceConfig) -> Result<KafkaPlan> {
    Err(disabled())
}

pub fn commit_source(_name: &str, _config: &KafkaSourceConfig, _plan: &KafkaPlan) -> Result<()> {
    Err(disabled())
}

impl KafkaSource {
    pub fn open(
        _name: &str,
        _schema: &Schema,
        _config: &KafkaSourceConfig,
        _plan: &KafkaPlan,
        _reader: usize,
    ) -> Result<KafkaSource> {
        Err(disabled())
    }
}

impl KafkaSink {
    pub fn open(
        _config: &KafkaSinkConfig,
        _format: OutputFormat,
        _columns: &Schema,
    ) -> Result<Self> {
        Err(disabled())
    }
}

impl crate::io::BatchSource for KafkaSource {
    fn fill(
        &mut self,
        _batch: &mut crate::data::Batch,
        _malformed: &mut Vec<crate::io::Malformed>,
        _max_rows: usize,
    ) -> Result<bool> {
        match *self {}
    }
}

impl crate::io::RowSink for KafkaSink {
    fn write_row(&mut self, _values: &[crate::data::Value]) -> Result<()> {
        match *self {}
    }
    fn buffered_bytes(&self) -> usize {
        match *self {}
    }
    fn flush(&mut self, _give_up: &mut dyn FnMut() -> bool) -> Result<crate::io::Flushed> {
        match *self {}
    }
    fn rows_written(&self) -> u64 {
        match *self {}
    }
}
