//! Source options: the WITH properties of a `CREATE TABLE` / `CREATE SOURCE`
//! (or of `--source name=path`) read into a checked [`SourceConfig`].
//!
//! Keys (compared case-insensitively). A value out of its range is a usage
//! error naming the key, never a panic later.
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `connector` | `file` (a CSV or JSON-lines file, a pipe or device, or standard input), `trades` (the built-in trades generator) or `nexmark` (the Nexmark generator) | `file` |
//! | `path` | the file to read; `-` is standard input | required for `file` |
//! | `format` | `csv`, `jsonl` (also `json`, `ndjson`: one JSON object per line) | from the extension: `.csv`, `.jsonl`, `.ndjson`, `.json`; required for standard input |
//! | `delimiter` | CSV field separator, one ASCII character (`;` for 1BRC-style files, `\t` or `tab` for tabs) | `,` |
//! | `header` | `true`: the first CSV line names the columns, matched by name; `false`: the fields are in the declared column order | `true` |
//! | `max_record_bytes` | files: the longest record (CSV record or JSON line) read, in bytes, 1 to 1073741824; a longer one is malformed and reading resumes on a later line | 1048576 |
//! | `follow` | `true`: after the end of the file, keep reading what is appended (like `tail -F`, see [`super::follow`]) | `false` |
//! | `events` | generators: how many events to generate (for `nexmark`: of all three kinds together), 0 to 2^63-1 | trades 1000000, nexmark 10000000 |
//! | `rate` | generators: events per second of wall-clock time, from 0.001 to 1e12 (`nexmark`: a whole number); `0` = as fast as possible | 0 |
//! | `seed` | generators: seed of the deterministic generator | 42 |
//! | `keys` | `trades`: number of distinct symbols (`SYM0001`, `SYM0002`, ...), 1 to 100000000 | 100 |
//! | `events_per_second_time` | generators: events per second of *event* time (`ts` advances by 1000 / this ms per event), at least 1 | trades 1000, nexmark 10000000 |
//! | `table` | `nexmark`: `person`, `auction` or `bid` | required for `nexmark` |
//!
//! Connector `kafka` (also `type` = `kafka_source`) has keys of its own
//! (`topic`, `properties.*`, `scan.startup.mode`, `scan.bounded.mode`, ...):
//! see [`super::kafka`] and docs/sql.md.

use super::kafka::{
    metadata_property, source_config as kafka_source_config, KafkaSourceConfig, KAFKA_SOURCE_KEYS,
    METADATA_NAMES,
};
use super::nexmark::{NexmarkConfig, NexmarkTable};
use super::records::DEFAULT_MAX_RECORD_BYTES;
use crate::error::{Error, Result};
use crate::plan::TableDef;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Every key a source's WITH clause may use.
pub const SOURCE_KEYS: &[&str] = &[
    "connector",
    "path",
    "format",
    "delimiter",
    "header",
    "max_record_bytes",
    "follow",
    "events",
    "rate",
    "seed",
    "keys",
    "events_per_second_time",
    "table",
    "timestamp",
    "watermark.max_out_of_orderness",
];

const GENERATOR_KEYS: &[&str] = &[
    "events",
    "rate",
    "seed",
    "keys",
    "events_per_second_time",
    "table",
];
const FILE_KEYS: &[&str] = &[
    "path",
    "format",
    "delimiter",
    "header",
    "follow",
    "max_record_bytes",
];

/// The largest `max_record_bytes`: a reader buffers up to twice it.
pub const MAX_RECORD_BYTES: usize = 1 << 30;

/// The most events a generator makes: positions and ids stay within `i64`.
pub const MAX_EVENTS: u64 = i64::MAX as u64;
/// Paced generators: the slowest rate (one event every 1000 s) and the
/// fastest (beyond it, pacing means nothing: use 0).
pub const RATE_RANGE: RangeInclusive<f64> = 0.001..=1e12;
/// The most distinct symbols of the trades generator (each shard holds every
/// name, about 50 bytes each).
pub const MAX_KEYS: u32 = 100_000_000;

/// A checked source configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// The table name (for messages and dead letters).
    pub name: String,
    pub connector: Connector,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Connector {
    File(FileConfig),
    Trades(TradesConfig),
    /// The Nexmark generator: one of its three tables.
    Nexmark(NexmarkTable, NexmarkConfig),
    /// A Kafka topic.
    Kafka(KafkaSourceConfig),
}

/// A file, a pipe or device, or standard input.
#[derive(Debug, Clone, PartialEq)]
pub struct FileConfig {
    pub location: Location,
    pub format: FileFormat,
    pub csv: CsvOptions,
    /// Keep reading what is appended after the end (a regular file only).
    pub follow: bool,
    /// The longest record read; a longer one is malformed.
    pub max_record_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Path(PathBuf),
    Stdin,
}

impl Location {
    /// How messages name it: the path, or `<stdin>`.
    pub fn label(&self) -> String {
        match self {
            Location::Path(p) => p.display().to_string(),
            Location::Stdin => "<stdin>".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    /// Whether the first line is a header naming the columns.
    pub header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            header: true,
        }
    }
}

/// The built-in `trades` generator's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradesConfig {
    /// Number of events (event numbers `0..events`).
    pub events: u64,
    /// Wall-clock pacing in events per second (within [`RATE_RANGE`]);
    /// `None` = unpaced.
    pub rate: Option<f64>,
    pub seed: u64,
    /// Number of distinct symbols.
    pub keys: u32,
    /// Events per second of event time: `ts` of event n is
    /// `2026-01-01T00:00:00Z + n * 1000 / events_per_second_time` ms.
    pub events_per_second_time: u64,
}

impl Default for TradesConfig {
    fn default() -> Self {
        TradesConfig {
            events: 1_000_000,
            rate: None,
            seed: 42,
            keys: 100,
            events_per_second_time: 1000,
        }
    }
}

impl SourceConfig {
    /// Reads and checks `table`'s WITH properties.
    pub fn from_table(table: &TableDef) -> Result<SourceConfig> {
        let props = Properties {
            table: &table.name,
            entries: &table.properties,
        };
        props.reject_unknown()?;
        let connector = match props.get("connector").or_else(|| props.get("type")) {
            Some(c) if is_kafka(c) => Connector::Kafka(kafka_config(&props)?),
            None => Connector::File(file_config(&props)?),
            Some(c) if c.eq_ignore_ascii_case("file") => Connector::File(file_config(&props)?),
            Some(c) if c.eq_ignore_ascii_case("trades") => {
                Connector::Trades(trades_config(&props)?)
            }
            Some(c) if c.eq_ignore_ascii_case("nexmark") => nexmark_connector(&props)?,
            Some(other) => {
                return Err(props.usage(format!(
                    "unknown connector '{other}' (known: file, trades, nexmark, kafka)"
                )))
            }
        };
        if !matches!(connector, Connector::Kafka(_)) {
            props.reject_kafka_keys()?;
        }
        Ok(SourceConfig {
            name: table.name.clone(),
            connector,
        })
    }
}

fn nexmark_connector(props: &Properties) -> Result<Connector> {
    props.reject_keys(FILE_KEYS, "nexmark")?;
    props.reject_keys(&["keys"], "nexmark")?;
    let table = props
        .get("table")
        .ok_or_else(|| {
            props.usage("connector 'nexmark' needs 'table' = person, auction or bid".into())
        })?
        .parse::<NexmarkTable>()?;
    let defaults = NexmarkConfig::default();
    let max_rate = *RATE_RANGE.end() as u64;
    let config = NexmarkConfig {
        events: props.events(defaults.events)?,
        rate: props
            .bounded("events_per_second_time", 1..=u64::MAX)?
            .unwrap_or(defaults.rate),
        seed: props
            .bounded("seed", 0..=u64::MAX)?
            .unwrap_or(defaults.seed),
        pacing_rate: props
            .bounded("rate", 0..=max_rate)?
            .filter(|&rate| rate > 0),
    };
    Ok(Connector::Nexmark(table, config))
}

struct Properties<'a> {
    table: &'a str,
    entries: &'a [(String, String)],
}

impl Properties<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn usage(&self, message: String) -> Error {
        Error::Usage(format!("source '{}': {message}", self.table))
    }

    fn reject_unknown(&self) -> Result<()> {
        for (key, _) in self.entries {
            let kafka = KAFKA_SOURCE_KEYS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(key))
                || key.to_ascii_lowercase().starts_with("properties.");
            if !kafka && !SOURCE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                return Err(self.usage(format!(
                    "unknown property '{key}' (known: {})",
                    SOURCE_KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Rejects the keys of connector `kafka` (for any other connector).
    fn reject_kafka_keys(&self) -> Result<()> {
        self.reject_metadata_columns()?;
        let kafka = self.entries.iter().find(|(key, _)| {
            KAFKA_SOURCE_KEYS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(key))
                || key.to_ascii_lowercase().starts_with("properties.")
        });
        match kafka {
            Some((key, _)) => Err(self.usage(format!(
                "property '{key}' applies to connector 'kafka' only"
            ))),
            None => Ok(()),
        }
    }

    /// Rejects a column declared to hold message metadata (`METADATA FROM
    /// 'name'`, which the SQL front end turns into WITH `metadata.name`).
    fn reject_metadata_columns(&self) -> Result<()> {
        let declared = METADATA_NAMES
            .iter()
            .find_map(|(name, _)| Some((*name, self.get(&metadata_property(name))?)));
        let Some((name, column)) = declared else {
            return Ok(());
        };
        let connector = self
            .get("connector")
            .or_else(|| self.get("type"))
            .unwrap_or("file");
        Err(self.usage(format!(
            "column '{column}' is declared METADATA FROM '{name}' (WITH '{}'), but only \
             connector 'kafka' has message metadata, not '{connector}'",
            metadata_property(name)
        )))
    }

    /// Rejects keys that belong to another connector.
    fn reject_keys(&self, keys: &[&str], connector: &str) -> Result<()> {
        for key in keys {
            if self.get(key).is_some() {
                return Err(self.usage(format!(
                    "property '{key}' does not apply to connector '{connector}'"
                )));
            }
        }
        Ok(())
    }

    /// The number `key` holds (`_` separators allowed), which must lie in
    /// `range`; NaN, infinities and text are refused like any value outside.
    fn bounded<T>(&self, key: &str, range: RangeInclusive<T>) -> Result<Option<T>>
    where
        T: FromStr + PartialOrd + Display,
    {
        let Some(text) = self.get(key) else {
            return Ok(None);
        };
        match text.trim().replace('_', "").parse::<T>() {
            Ok(value) if range.contains(&value) => Ok(Some(value)),
            _ => Err(self.usage(format!(
                "'{key}' must be a number from {} to {}, not '{text}'",
                range.start(),
                range.end()
            ))),
        }
    }

    fn events(&self, default: u64) -> Result<u64> {
        Ok(self.bounded("events", 0..=MAX_EVENTS)?.unwrap_or(default))
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`).
    fn flag(&self, key: &str, default: bool) -> Result<bool> {
        let Some(text) = self.get(key) else {
            return Ok(default);
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(self.usage(format!("'{key}' must be true or false, not '{text}'"))),
        }
    }
}

fn file_config(props: &Properties) -> Result<FileConfig> {
    props.reject_keys(GENERATOR_KEYS, "file")?;
    let path = props
        .get("path")
        .ok_or_else(|| props.usage("needs a 'path' (or connector = 'trades')".to_string()))?;
    let location = match path.trim() {
        "" => return Err(props.usage("'path' is empty".to_string())),
        "-" => Location::Stdin,
        _ => Location::Path(PathBuf::from(path)),
    };
    let format = match props.get("format") {
        Some(f) => parse_format(f).ok_or_else(|| {
            props.usage(format!(
                "unknown format '{f}' (known: csv, jsonl, json, ndjson)"
            ))
        })?,
        None => format_from_extension(&location).ok_or_else(|| {
            props.usage(format!(
                "cannot tell the format of '{path}' from its name: set format = 'csv' or 'jsonl'"
            ))
        })?,
    };
    let csv = CsvOptions {
        delimiter: parse_delimiter(props)?,
        header: props.flag("header", true)?,
    };
    let follow = props.flag("follow", false)?;
    if follow && location == Location::Stdin {
        return Err(props.usage(
            "'follow' applies to a file, not standard input (which is read live anyway)".into(),
        ));
    }
    Ok(FileConfig {
        location,
        format,
        csv,
        follow,
        max_record_bytes: props
            .bounded("max_record_bytes", 1..=MAX_RECORD_BYTES)?
            .unwrap_or(DEFAULT_MAX_RECORD_BYTES),
    })
}

fn is_kafka(connector: &str) -> bool {
    connector.eq_ignore_ascii_case("kafka") || connector.eq_ignore_ascii_case("kafka_source")
}

fn kafka_config(props: &Properties) -> Result<KafkaSourceConfig> {
    props.reject_keys(GENERATOR_KEYS, "kafka")?;
    props.reject_keys(&["path", "follow", "header"], "kafka")?;
    let format = match props.get("format").or_else(|| props.get("value.format")) {
        Some(f) => Some(
            parse_format(f)
                .ok_or_else(|| props.usage(format!("unknown format '{f}' (known: json, csv)")))?,
        ),
        None => None,
    };
    let csv = CsvOptions {
        delimiter: parse_delimiter(props)?,
        header: false,
    };
    let max_record_bytes = props
        .bounded("max_record_bytes", 1..=MAX_RECORD_BYTES)?
        .unwrap_or(DEFAULT_MAX_RECORD_BYTES);
    let usage = |m: String| props.usage(m);
    kafka_source_config(props.entries, format, csv, max_record_bytes, &usage)
}

fn parse_format(text: &str) -> Option<FileFormat> {
    match text.trim().to_ascii_lowercase().as_str() {
        "csv" => Some(FileFormat::Csv),
        "jsonl" | "json" | "ndjson" | "jsonlines" | "json_lines" => Some(FileFormat::Jsonl),
        _ => None,
    }
}

fn format_from_extension(location: &Location) -> Option<FileFormat> {
    let Location::Path(path) = location else {
        return None;
    };
    let ext = Path::new(path).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(FileFormat::Csv),
        "jsonl" | "ndjson" | "json" => Some(FileFormat::Jsonl),
        _ => None,
    }
}

fn parse_delimiter(props: &Properties) -> Result<u8> {
    let Some(text) = props.get("delimiter") else {
        return Ok(b',');
    };
    let byte = match text {
        "\\t" | "tab" | "TAB" => b'\t',
        _ if text.len() == 1 => text.as_bytes()[0],
        _ => {
            return Err(props.usage(format!(
                "'delimiter' must be one ASCII character, not '{text}'"
            )))
        }
    };
    if matches!(byte, b'"' | b'\n' | b'\r') {
        return Err(props.usage(format!("'{text}' cannot be a delimiter")));
    }
    Ok(byte)
}

fn trades_config(props: &Properties) -> Result<TradesConfig> {
    props.reject_keys(FILE_KEYS, "trades")?;
    props.reject_keys(&["table"], "trades")?;
    let defaults = TradesConfig::default();
    Ok(TradesConfig {
        events: props.events(defaults.events)?,
        rate: pacing_rate(props)?,
        seed: props
            .bounded("seed", 0..=u64::MAX)?
            .unwrap_or(defaults.seed),
        keys: props
            .bounded("keys", 1..=MAX_KEYS)?
            .unwrap_or(defaults.keys),
        events_per_second_time: props
            .bounded("events_per_second_time", 1..=u64::MAX)?
            .unwrap_or(defaults.events_per_second_time),
    })
}

/// `rate`: `None` for 0 (unpaced), else a rate within [`RATE_RANGE`].
fn pacing_rate(props: &Properties) -> Result<Option<f64>> {
    let Some(text) = props.get("rate") else {
        return Ok(None);
    };
    match text.trim().replace('_', "").parse::<f64>() {
        Ok(0.0) => Ok(None),
        Ok(rate) if RATE_RANGE.contains(&rate) => Ok(Some(rate)),
        _ => Err(props.usage(format!(
            "'rate' must be 0 (as fast as possible) or from {} to {} events per second, not '{text}'",
            RATE_RANGE.start(),
            RATE_RANGE.end()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Schema;

    fn table(props: &[(&str, &str)]) -> TableDef {
        TableDef {
            name: "t".into(),
            schema: Schema::default(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn file_defaults_from_extension() {
        let c = SourceConfig::from_table(&table(&[("path", "data/trades.CSV")])).unwrap();
        assert_eq!(
            c.connector,
            Connector::File(FileConfig {
                location: Location::Path("data/trades.CSV".into()),
                format: FileFormat::Csv,
                csv: CsvOptions::default(),
                follow: false,
                max_record_bytes: 1 << 20,
            })
        );
        let c = SourceConfig::from_table(&table(&[
            ("path", "-"),
            ("format", "json"),
            ("delimiter", ";"),
            ("header", "false"),
        ]))
        .unwrap();
        let Connector::File(f) = c.connector else {
            panic!("not a file")
        };
        assert_eq!(f.location, Location::Stdin);
        assert_eq!(f.format, FileFormat::Jsonl);
        assert_eq!(
            f.csv,
            CsvOptions {
                delimiter: b';',
                header: false
            }
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |p: &[(&str, &str)]| SourceConfig::from_table(&table(p)).unwrap_err().to_string();
        assert!(err(&[("path", "x.csv"), ("colour", "red")])
            .contains("unknown property 'colour' (known: connector, path, format"));
        assert!(err(&[("path", "x.txt")]).contains("cannot tell the format of 'x.txt'"));
        assert!(err(&[("path", "-")]).contains("set format"));
        assert!(err(&[("path", "x.csv"), ("delimiter", ";;")]).contains("one ASCII character"));
        assert!(err(&[("path", "x.csv"), ("events", "5")]).contains("does not apply"));
        assert!(err(&[]).contains("needs a 'path'"));
        assert!(err(&[("connector", "pulsar")]).contains("unknown connector 'pulsar'"));
        assert!(err(&[("connector", "kafka")]).contains("needs a 'topic'"));
        assert!(err(&[("path", "x.csv"), ("topic", "t")]).contains("applies to connector 'kafka'"));
        assert!(err(&[("path", "x.csv"), ("metadata.offset", "off")]).contains(
            "source 't': column 'off' is declared METADATA FROM 'offset' (WITH 'metadata.offset'), \
             but only connector 'kafka' has message metadata, not 'file'"
        ));
        assert!(err(&[("connector", "trades"), ("metadata.key", "k")])
            .contains("column 'k' is declared METADATA FROM 'key'"));
        assert!(err(&[("connector", "trades"), ("events", "many")])
            .contains("'events' must be a number from 0 to 9223372036854775807, not 'many'"));
        assert!(err(&[("path", "")]).contains("'path' is empty"));
        assert!(err(&[("path", "-"), ("format", "csv"), ("follow", "true")])
            .contains("'follow' applies to a file"));
        assert!(err(&[("path", "x.csv"), ("follow", "sometimes")])
            .contains("'follow' must be true or false, not 'sometimes'"));
        assert!(err(&[("path", "x.csv"), ("delimiter", "é")]).contains("one ASCII character"));
        for bad in ["0", "-1", "1073741825", "1e6", "lots"] {
            assert!(
                err(&[("path", "x.csv"), ("max_record_bytes", bad)]).contains(&format!(
                    "'max_record_bytes' must be a number from 1 to 1073741824, not '{bad}'"
                )),
                "{bad}"
            );
        }
        assert!(err(&[("connector", "trades"), ("max_record_bytes", "9")])
            .contains("property 'max_record_bytes' does not apply to connector 'trades'"));
    }

    /// Every numeric key of both generators, with values out of range: each
    /// is a usage error naming the key and the value.
    #[test]
    fn out_of_range_values_are_usage_errors() {
        let cases: &[(&str, &str, &str)] = &[
            ("trades", "rate", "1e-20"),
            ("trades", "rate", "-1"),
            ("trades", "rate", "NaN"),
            ("trades", "rate", "inf"),
            ("trades", "rate", "1e13"),
            ("trades", "events", "-1"),
            ("trades", "events", "1e6"),
            ("trades", "events", "9223372036854775808"),
            ("trades", "events", "99999999999999999999999"),
            ("trades", "keys", "0"),
            ("trades", "keys", "100000001"),
            ("trades", "keys", "-3"),
            ("trades", "events_per_second_time", "0"),
            ("trades", "events_per_second_time", "1.5"),
            ("trades", "seed", "-1"),
            ("nexmark", "rate", "1e-20"),
            ("nexmark", "rate", "0.5"),
            ("nexmark", "rate", "-1"),
            ("nexmark", "rate", "1000000000001"),
            ("nexmark", "events", "9223372036854775808"),
            ("nexmark", "events", "NaN"),
            ("nexmark", "events_per_second_time", "0"),
            ("nexmark", "seed", "-1"),
        ];
        for (connector, key, value) in cases {
            let mut props = vec![("connector", *connector), (*key, *value)];
            if *connector == "nexmark" {
                props.push(("table", "bid"));
            }
            let err = SourceConfig::from_table(&table(&props)).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.exit_code(), 2, "{connector} {key}={value}: {message}");
            assert!(
                message.contains(&format!("'{key}' must be"))
                    && message.contains(&format!("not '{value}'")),
                "{connector} {key}={value}: {message}"
            );
        }
    }

    #[test]
    fn values_at_the_edges_of_their_range_are_accepted() {
        let c = SourceConfig::from_table(&table(&[
            ("connector", "trades"),
            ("rate", "0.001"),
            ("events", "9223372036854775807"),
            ("keys", "100000000"),
            ("events_per_second_time", "1"),
            ("seed", "18446744073709551615"),
        ]))
        .unwrap();
        let Connector::Trades(trades) = c.connector else {
            panic!("not trades")
        };
        assert_eq!(trades.rate, Some(0.001));
        assert_eq!(trades.events, MAX_EVENTS);
        assert_eq!(trades.keys, MAX_KEYS);
        let c =
            SourceConfig::from_table(&table(&[("connector", "trades"), ("rate", "0")])).unwrap();
        assert_eq!(c.connector, Connector::Trades(TradesConfig::default()));
    }

    #[test]
    fn nexmark_settings() {
        let c = SourceConfig::from_table(&table(&[
            ("connector", "nexmark"),
            ("table", "Bid"),
            ("EVENTS", "1_000"),
            ("events_per_second_time", "1000"),
            ("seed", "7"),
            ("rate", "500"),
        ]))
        .unwrap();
        assert_eq!(
            c.connector,
            Connector::Nexmark(
                NexmarkTable::Bid,
                NexmarkConfig {
                    events: 1000,
                    rate: 1000,
                    seed: 7,
                    pacing_rate: Some(500)
                }
            )
        );
        let c = SourceConfig::from_table(&table(&[
            ("connector", "nexmark"),
            ("table", "person"),
            ("rate", "0"),
        ]))
        .unwrap();
        assert_eq!(
            c.connector,
            Connector::Nexmark(NexmarkTable::Person, NexmarkConfig::default())
        );
        let err = |p: &[(&str, &str)]| SourceConfig::from_table(&table(p)).unwrap_err().to_string();
        assert!(err(&[("connector", "nexmark")]).contains("needs 'table'"));
        assert!(
            err(&[("connector", "nexmark"), ("table", "bid"), ("keys", "3")])
                .contains("'keys' does not apply")
        );
    }

    #[test]
    fn trades_settings() {
        let c = SourceConfig::from_table(&table(&[
            ("connector", "trades"),
            ("events", "1_000"),
            ("rate", "500"),
            ("keys", "10000"),
        ]))
        .unwrap();
        assert_eq!(
            c.connector,
            Connector::Trades(TradesConfig {
                events: 1000,
                rate: Some(500.0),
                seed: 42,
                keys: 10_000,
                events_per_second_time: 1000,
            })
        );
    }
}
