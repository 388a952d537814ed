//! librdkafka clients made from WITH settings, and the checks every client
//! makes first: that a broker answers within [`CONNECT_TIMEOUT`] and that
//! the topic exists (corestream never creates topics).

use super::config::setting;
use crate::error::{Error, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use std::time::Duration;

/// How long a client waits for a broker to answer a metadata or offset
/// request before the run fails (a broker that is down at start).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A librdkafka configuration holding `settings`, then `fixed` (which win).
pub fn client_config(settings: &[(String, String)], fixed: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in settings {
        config.set(key.as_str(), value.as_str());
    }
    for (key, value) in fixed {
        config.set(*key, *value);
    }
    config
}

/// The bootstrap servers named in `settings`, for messages.
pub fn servers(settings: &[(String, String)]) -> &str {
    setting(settings, "bootstrap.servers").unwrap_or("?")
}

/// The group id a consumer gets when the WITH clause names none: librdkafka
/// wants one even for assigned partitions; it never joins or commits.
const NO_GROUP: &str = "corestream-unmanaged";

/// A consumer that never commits by itself and never creates topics.
pub fn consumer(settings: &[(String, String)], what: &str) -> Result<BaseConsumer> {
    consumer_config(settings)
        .create()
        .map_err(|e| Error::Usage(format!("{what}: bad Kafka settings: {e}")))
}

/// A member of the consumer group named in `settings`, subscribed to
/// `topic`, for reader `reader` of this process. With static membership
/// (`group.instance.id`), each reader's id gets `-<reader>` appended, so a
/// restarted process takes its readers' places back without a rebalance.
pub fn group_member(
    settings: &[(String, String)],
    topic: &str,
    reader: usize,
    what: &str,
) -> Result<BaseConsumer> {
    let mut config = consumer_config(settings);
    if let Some(instance) = setting(settings, "group.instance.id") {
        config.set("group.instance.id", format!("{instance}-{reader}"));
    }
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| Error::Usage(format!("{what}: bad Kafka settings: {e}")))?;
    consumer
        .subscribe(&[topic])
        .map_err(|e| Error::Runtime(format!("{what}: cannot join the consumer group: {e}")))?;
    Ok(consumer)
}

fn consumer_config(settings: &[(String, String)]) -> ClientConfig {
    let mut config = client_config(
        settings,
        &[
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("allow.auto.create.topics", "false"),
        ],
    );
    if setting(settings, "group.id").is_none() {
        config.set("group.id", NO_GROUP);
    }
    config
}

/// The partitions of `topic`, or an error saying that no broker answered or
/// that the topic does not exist.
pub fn partitions(
    consumer: &BaseConsumer,
    settings: &[(String, String)],
    topic: &str,
    what: &str,
) -> Result<Vec<i32>> {
    let metadata = consumer
        .fetch_metadata(Some(topic), CONNECT_TIMEOUT)
        .map_err(|e| unreachable_error(settings, what, &e))?;
    let found = metadata.topics().iter().find(|t| t.name() == topic);
    let Some(found) = found.filter(|t| t.error().is_none() && !t.partitions().is_empty()) else {
        return Err(Error::Runtime(format!(
            "{what}: Kafka topic '{topic}' does not exist on {} (create it first: corestream \
             does not create topics)",
            servers(settings)
        )));
    };
    let mut ids: Vec<i32> = found.partitions().iter().map(|p| p.id()).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The error for a broker that did not answer a request.
pub fn unreachable_error(settings: &[(String, String)], what: &str, e: &KafkaError) -> Error {
    let timed_out = matches!(
        e.rdkafka_error_code(),
        Some(RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::AllBrokersDown)
    );
    let within = if timed_out {
        format!(" within {} s", CONNECT_TIMEOUT.as_secs())
    } else {
        String::new()
    };
    Error::Runtime(format!(
        "{what}: no answer from Kafka at {}{within}: {e}",
        servers(settings)
    ))
}
