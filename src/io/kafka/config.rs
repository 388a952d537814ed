//! Kafka settings read from WITH properties and `kafka://` addresses, with no
//! librdkafka in sight (so they are checked the same with or without the
//! `kafka` feature).
//!
//! Flink's key names are the main spelling (`topic`,
//! `properties.bootstrap.servers`, `properties.group.id`, `format`,
//! `scan.startup.mode`, `scan.bounded.mode`); Velostream's (`type` =
//! `kafka_source`, `bootstrap.servers`, `group.id`, `value.format`) are
//! accepted for the same things. Every `properties.*` key goes to librdkafka
//! as it is, without the prefix.

use crate::error::{Error, Result};
use crate::io::properties::{CsvOptions, FileFormat};

/// Kafka-only keys of a source's WITH clause (`properties.*` keys come on top).
pub const KAFKA_SOURCE_KEYS: &[&str] = &[
    "topic",
    "scan.startup.mode",
    "scan.startup.timestamp-millis",
    "scan.bounded.mode",
    "scan.bounded.timestamp-millis",
    "type",
    "bootstrap.servers",
    "group.id",
    "value.format",
    "metadata.timestamp",
    "metadata.partition",
    "metadata.offset",
    "metadata.key",
    "metadata.headers",
];

/// A message's metadata that a column can hold (WITH `metadata.KIND` =
/// 'column').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// The message timestamp (TIMESTAMP, or BIGINT epoch ms).
    Timestamp,
    /// The partition (BIGINT).
    Partition,
    /// The offset (BIGINT).
    Offset,
    /// The message key as text (VARCHAR; NULL without a key).
    Key,
    /// The message headers as a JSON object of texts (VARCHAR; `{}` without
    /// headers; a header without a value is `null`; a repeated name keeps
    /// its last value).
    Headers,
}

/// The metadata a column can hold, by name: the column is named by WITH
/// `metadata.NAME` = 'column' (see [`metadata_property`]) or declared
/// `column TYPE METADATA FROM 'NAME'` (which the SQL front end turns into
/// that WITH key).
pub const METADATA_NAMES: [(&str, Metadata); 5] = [
    ("timestamp", Metadata::Timestamp),
    ("partition", Metadata::Partition),
    ("offset", Metadata::Offset),
    ("key", Metadata::Key),
    ("headers", Metadata::Headers),
];

/// The WITH key that names the column holding metadata `name`.
pub fn metadata_property(name: &str) -> String {
    format!("metadata.{name}")
}

/// Where a bounded source stops reading each partition (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The latest offset when the run started.
    LatestOffset,
    /// The group's committed offset when the run started.
    GroupOffsets,
    /// The first offset whose message timestamp is at or after this (ms).
    Timestamp(i64),
}

/// Where a source starts reading each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Startup {
    /// The group's committed offsets; a partition without one starts where
    /// `auto.offset.reset` says (librdkafka's default: the latest offset).
    GroupOffsets,
    Earliest,
    Latest,
    /// The first offset whose message timestamp is at or after this (ms).
    Timestamp(i64),
}

/// A checked Kafka source.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSourceConfig {
    pub topic: String,
    pub format: FileFormat,
    pub csv: CsvOptions,
    pub max_record_bytes: usize,
    /// librdkafka settings (`bootstrap.servers`, `group.id`, ...).
    pub client: Vec<(String, String)>,
    pub startup: Startup,
    /// `scan.bounded.mode` given (not `unbounded`): the run ends where
    /// [`KafkaSourceConfig::bound`] says.
    pub bounded: bool,
    /// Where a bounded read ends.
    pub bound: Bound,
    /// Columns filled from the message's metadata, not from its value.
    pub metadata: Vec<(String, Metadata)>,
}

impl KafkaSourceConfig {
    /// The librdkafka setting `key`, if given.
    pub fn client_setting(&self, key: &str) -> Option<&str> {
        setting(&self.client, key)
    }

    /// Whether the readers join the consumer group (`subscribe`): an
    /// unbounded read from the group's offsets. The group then spreads the
    /// partitions over every reader of every process in it, and each reader
    /// commits what the output holds as the run goes. Any other read assigns
    /// the planned partitions to the readers itself.
    pub fn joins_group(&self) -> bool {
        self.startup == Startup::GroupOffsets && !self.bounded
    }
}

/// A checked Kafka sink.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSinkConfig {
    pub topic: String,
    /// librdkafka settings (`bootstrap.servers`, ...).
    pub client: Vec<(String, String)>,
    /// Columns whose values make the message key (none: no key).
    pub key_fields: Vec<String>,
}

/// The last value of `key` (case-insensitive) in `entries`.
pub fn setting<'a>(entries: &'a [(String, String)], key: &str) -> Option<&'a str> {
    entries
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Splits `kafka://host:port[,host:port]/topic` into the bootstrap servers
/// and the topic; `None` when `text` is not a `kafka://` address.
pub fn parse_kafka_url(text: &str) -> Option<Result<(String, String)>> {
    let rest = text.strip_prefix("kafka://")?;
    Some(match rest.split_once('/') {
        Some((servers, topic)) if !servers.is_empty() && !topic.is_empty() => {
            Ok((servers.to_string(), topic.to_string()))
        }
        _ => Err(Error::Usage(format!(
            "'{text}' is not of the form kafka://HOST:PORT/TOPIC"
        ))),
    })
}

/// The librdkafka settings among `entries`: every `properties.*` key without
/// its prefix, then Velostream's `bootstrap.servers` and `group.id`.
pub fn client_settings(entries: &[(String, String)]) -> Vec<(String, String)> {
    let mut client: Vec<(String, String)> = entries
        .iter()
        .filter_map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let key = lower.strip_prefix("properties.")?;
            Some((key.to_string(), v.clone()))
        })
        .collect();
    for key in ["bootstrap.servers", "group.id"] {
        if setting(&client, key).is_none() {
            if let Some(value) = setting(entries, key) {
                client.push((key.to_string(), value.to_string()));
            }
        }
    }
    client
}

/// Reads a Kafka source's settings; `usage` makes an error naming the source.
pub fn source_config(
    entries: &[(String, String)],
    format: Option<FileFormat>,
    csv: CsvOptions,
    max_record_bytes: usize,
    usage: &dyn Fn(String) -> Error,
) -> Result<KafkaSourceConfig> {
    let topic = setting(entries, "topic")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| usage("connector 'kafka' needs a 'topic'".into()))?;
    let client = client_settings(entries);
    if setting(&client, "bootstrap.servers").is_none() {
        return Err(usage(
            "connector 'kafka' needs 'properties.bootstrap.servers' (host:port, ...)".into(),
        ));
    }
    let format = format
        .ok_or_else(|| usage("connector 'kafka' needs a 'format': 'json' or 'csv'".into()))?;
    let startup = startup_mode(entries, usage)?;
    let bound = bounded_mode(entries, usage)?;
    if bound == Some(Bound::GroupOffsets) && setting(&client, "group.id").is_none() {
        return Err(usage(
            "'scan.bounded.mode' = 'group-offsets' needs 'properties.group.id'".into(),
        ));
    }
    if startup == Startup::GroupOffsets && setting(&client, "group.id").is_none() {
        return Err(usage(
            "'scan.startup.mode' = 'group-offsets' (the default) needs 'properties.group.id'"
                .into(),
        ));
    }
    Ok(KafkaSourceConfig {
        topic: topic.trim().to_string(),
        format,
        csv: CsvOptions {
            header: false,
            ..csv
        },
        max_record_bytes,
        client,
        startup,
        bounded: bound.is_some(),
        bound: bound.unwrap_or(Bound::LatestOffset),
        metadata: METADATA_NAMES
            .iter()
            .filter_map(|(name, kind)| {
                let column = setting(entries, &metadata_property(name))?;
                Some((column.trim().to_string(), *kind))
            })
            .collect(),
    })
}

fn startup_mode(entries: &[(String, String)], usage: &dyn Fn(String) -> Error) -> Result<Startup> {
    let mode = setting(entries, "scan.startup.mode").map(|m| m.trim().to_ascii_lowercase());
    let timestamp = setting(entries, "scan.startup.timestamp-millis");
    match (mode.as_deref(), timestamp) {
        (None | Some("group-offsets"), None) => Ok(Startup::GroupOffsets),
        (Some("earliest-offset"), None) => Ok(Startup::Earliest),
        (Some("latest-offset"), None) => Ok(Startup::Latest),
        (Some("timestamp"), Some(ms)) => ms.trim().parse::<i64>().map(Startup::Timestamp).map_err(
            |_| usage(format!("'scan.startup.timestamp-millis' must be epoch milliseconds, not '{ms}'")),
        ),
        (Some("timestamp"), None) => Err(usage(
            "'scan.startup.mode' = 'timestamp' needs 'scan.startup.timestamp-millis'".into(),
        )),
        (_, Some(_)) => Err(usage(
            "'scan.startup.timestamp-millis' needs 'scan.startup.mode' = 'timestamp'".into(),
        )),
        (Some(other), None) => Err(usage(format!(
            "unknown 'scan.startup.mode' '{other}' (known: group-offsets, earliest-offset, latest-offset, timestamp)"
        ))),
    }
}

fn bounded_mode(
    entries: &[(String, String)],
    usage: &dyn Fn(String) -> Error,
) -> Result<Option<Bound>> {
    let mode = setting(entries, "scan.bounded.mode").map(|m| m.trim().to_ascii_lowercase());
    let timestamp = setting(entries, "scan.bounded.timestamp-millis");
    match (mode.as_deref(), timestamp) {
        (None | Some("unbounded"), None) => Ok(None),
        (Some("latest-offset"), None) => Ok(Some(Bound::LatestOffset)),
        (Some("group-offsets"), None) => Ok(Some(Bound::GroupOffsets)),
        (Some("timestamp"), Some(ms)) => ms
            .trim()
            .parse::<i64>()
            .map(|ms| Some(Bound::Timestamp(ms)))
            .map_err(|_| {
                usage(format!(
                    "'scan.bounded.timestamp-millis' must be epoch milliseconds, not '{ms}'"
                ))
            }),
        (Some("timestamp"), None) => Err(usage(
            "'scan.bounded.mode' = 'timestamp' needs 'scan.bounded.timestamp-millis'".into(),
        )),
        (_, Some(_)) => Err(usage(
            "'scan.bounded.timestamp-millis' needs 'scan.bounded.mode' = 'timestamp'".into(),
        )),
        (Some(other), None) => Err(usage(format!(
            "unsupported 'scan.bounded.mode' '{other}' (supported: latest-offset, group-offsets, \
             timestamp, unbounded)"
        ))),
    }
}

/// Reads a Kafka sink's settings from a CREATE STREAM's WITH properties (or
/// a `kafka://` output address, passed as `url`).
pub fn sink_config(entries: &[(String, String)], url: Option<&str>) -> Result<KafkaSinkConfig> {
    let usage = |m: String| Error::Usage(format!("Kafka output: {m}"));
    let mut client = client_settings(entries);
    let mut topic = setting(entries, "topic").map(str::to_string);
    if let Some(url) = url.and_then(parse_kafka_url) {
        let (servers, url_topic) = url?;
        client.retain(|(k, _)| k != "bootstrap.servers");
        client.push(("bootstrap.servers".into(), servers));
        topic = Some(url_topic);
    }
    let topic = topic
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| usage("needs a 'topic'".into()))?;
    if setting(&client, "bootstrap.servers").is_none() {
        return Err(usage(
            "needs 'properties.bootstrap.servers' (host:port, ...)".into(),
        ));
    }
    let key_fields = setting(entries, "key.fields")
        .map(|f| {
            f.split([',', ';'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(KafkaSinkConfig {
        topic: topic.trim().to_string(),
        client,
        key_fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn source(pairs: &[(&str, &str)]) -> Result<KafkaSourceConfig> {
        let usage = |m: String| Error::Usage(m);
        source_config(
            &entries(pairs),
            Some(FileFormat::Jsonl),
            CsvOptions::default(),
            1024,
            &usage,
        )
    }

    #[test]
    fn flink_keys_pass_properties_through() {
        let config = source(&[
            ("topic", "bids"),
            ("properties.bootstrap.servers", "h:9092"),
            ("properties.group.id", "q5"),
            ("properties.fetch.min.bytes", "10"),
            ("scan.bounded.mode", "latest-offset"),
        ])
        .unwrap();
        assert_eq!(config.topic, "bids");
        assert_eq!(config.startup, Startup::GroupOffsets);
        assert!(config.bounded);
        assert_eq!(config.bound, Bound::LatestOffset);
        assert_eq!(config.client_setting("fetch.min.bytes"), Some("10"));
        assert_eq!(config.client_setting("group.id"), Some("q5"));
        assert!(!config.csv.header);
    }

    #[test]
    fn velostream_keys_mean_the_same() {
        let config = source(&[
            ("topic", "bids"),
            ("bootstrap.servers", "h:9092"),
            ("group.id", "g"),
            ("scan.startup.mode", "timestamp"),
            ("scan.startup.timestamp-millis", "1700000000000"),
        ])
        .unwrap();
        assert_eq!(config.client_setting("bootstrap.servers"), Some("h:9092"));
        assert_eq!(config.startup, Startup::Timestamp(1_700_000_000_000));
    }

    #[test]
    fn missing_and_wrong_settings_are_named() {
        let no_group = source(&[("topic", "t"), ("properties.bootstrap.servers", "h:1")]);
        assert!(no_group
            .unwrap_err()
            .to_string()
            .contains("properties.group.id"));
        let no_servers = source(&[("topic", "t"), ("scan.startup.mode", "earliest-offset")]);
        assert!(no_servers
            .unwrap_err()
            .to_string()
            .contains("bootstrap.servers"));
        let bad_mode = source(&[
            ("topic", "t"),
            ("properties.bootstrap.servers", "h:1"),
            ("scan.startup.mode", "sometime"),
        ]);
        assert!(bad_mode.unwrap_err().to_string().contains("'sometime'"));
    }

    #[test]
    fn bounded_modes_end_at_the_latest_offset_the_group_or_a_time() {
        let bounded = |extra: &[(&str, &str)]| {
            let mut entries = vec![
                ("topic", "t"),
                ("properties.bootstrap.servers", "h:1"),
                ("scan.startup.mode", "earliest-offset"),
            ];
            entries.extend_from_slice(extra);
            source(&entries)
        };
        let timed = bounded(&[
            ("scan.bounded.mode", "timestamp"),
            ("scan.bounded.timestamp-millis", "1767225600000"),
        ])
        .unwrap();
        assert_eq!(timed.bound, Bound::Timestamp(1_767_225_600_000));
        assert!(timed.bounded);
        let unbounded = bounded(&[("scan.bounded.mode", "unbounded")]).unwrap();
        assert!(!unbounded.bounded);
        let needs_group = bounded(&[("scan.bounded.mode", "group-offsets")]);
        assert!(needs_group.unwrap_err().to_string().contains("group.id"));
        let needs_time = bounded(&[("scan.bounded.mode", "timestamp")]);
        assert!(needs_time
            .unwrap_err()
            .to_string()
            .contains("timestamp-millis"));
        let bad_time = bounded(&[
            ("scan.bounded.mode", "timestamp"),
            ("scan.bounded.timestamp-millis", "noon"),
        ]);
        assert!(bad_time.unwrap_err().to_string().contains("'noon'"));
        let group = bounded(&[
            ("scan.bounded.mode", "group-offsets"),
            ("properties.group.id", "g"),
        ])
        .unwrap();
        assert_eq!(group.bound, Bound::GroupOffsets);
    }

    #[test]
    fn kafka_urls() {
        let (servers, topic) = parse_kafka_url("kafka://a:1,b:2/out").unwrap().unwrap();
        assert_eq!((servers.as_str(), topic.as_str()), ("a:1,b:2", "out"));
        assert!(parse_kafka_url("kafka://a:1").unwrap().is_err());
        assert!(parse_kafka_url("out.jsonl").is_none());
        let sink = sink_config(&entries(&[("key.fields", "a, b")]), Some("kafka://h:1/t")).unwrap();
        assert_eq!(sink.key_fields, vec!["a", "b"]);
        assert_eq!(setting(&sink.client, "bootstrap.servers"), Some("h:1"));
    }
}
