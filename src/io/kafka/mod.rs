//! Kafka topics as a source and a sink (cargo feature `kafka`, on by default;
//! librdkafka is built from source and linked statically).
//!
//! A source is planned once, on the main thread ([`plan_source`]): it checks
//! that the topic exists and fixes each partition's start offset (and, for a
//! bounded read, its end: the latest offset at that moment). It is then read
//! as one stream by one reader thread ([`KafkaSource`]), which assigns itself
//! every partition (no group membership, so no rebalances) and hands batches
//! to shard 0, which routes rows over the mesh by key as for any stream.
//! Offsets are committed only after a bounded run has written all its output
//! ([`commit_source`]). Columns can hold message metadata ([`Layout`]). A sink
//! ([`KafkaSink`]) produces one message per row.
//! Without the feature, every entry point answers with an error saying so.

mod config;
mod layout;

pub use config::{
    client_settings, metadata_property, parse_kafka_url, setting, sink_config, source_config,
    KafkaSinkConfig, KafkaSourceConfig, Metadata, Startup, KAFKA_SOURCE_KEYS, METADATA_NAMES,
};

pub use layout::{Layout, MessageMeta};

#[cfg(feature = "kafka")]
mod client;
#[cfg(feature = "kafka")]
mod sink;
#[cfg(feature = "kafka")]
mod source;

#[cfg(feature = "kafka")]
pub use sink::KafkaSink;
#[cfg(feature = "kafka")]
pub use source::{commit_source, plan_source, KafkaPlan, KafkaSource, PartitionRange};

#[cfg(not(feature = "kafka"))]
mod disabled;
#[cfg(not(feature = "kafka"))]
pub use disabled::{commit_source, plan_source, KafkaPlan, KafkaSink, KafkaSource};
