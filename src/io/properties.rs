//! Source options: the WITH properties of a `CREATE TABLE` / `CREATE SOURCE`
//! (or of `--source name=path`) read into a checked [`SourceConfig`].
//!
//! Keys (compared case-insensitively):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `connector` | `file` (a CSV or JSON-lines file, or standard input), `trades` (the built-in trades generator) or `nexmark` (the Nexmark generator) | `file` |
//! | `path` | the file to read; `-` is standard input | required for `file` |
//! | `format` | `csv`, `jsonl` (also `json`, `ndjson`: one JSON object per line) | from the extension: `.csv`, `.jsonl`, `.ndjson`, `.json`; required for standard input |
//! | `delimiter` | CSV field separator, one character (`;` for 1BRC-style files, `\t` or `tab` for tabs) | `,` |
//! | `header` | `true`: the first CSV line names the columns, matched by name; `false`: the fields are in the declared column order | `true` |
//! | `max_record_bytes` | files: the longest record (CSV record or JSON line) read, in bytes, 1 to 1073741824; a longer one is malformed and reading resumes on a later line | 1048576 |
//! | `events` | generators: how many events to generate (for `nexmark`: of all three kinds together) | trades 1000000, nexmark 10000000 |
//! | `rate` | generators: events per second of wall-clock time; `0` = as fast as possible | 0 |
//! | `seed` | generators: seed of the deterministic generator | 42 |
//! | `keys` | `trades`: number of distinct symbols (`SYM0001`, `SYM0002`, ...) | 100 |
//! | `events_per_second_time` | generators: events per second of *event* time (`ts` advances by 1000 / this ms per event) | trades 1000, nexmark 10000000 |
//! | `table` | `nexmark`: `person`, `auction` or `bid` | required for `nexmark` |

use super::nexmark::{NexmarkConfig, NexmarkTable};
use super::records::DEFAULT_MAX_RECORD_BYTES;
use crate::error::{Error, Result};
use crate::plan::TableDef;
use std::path::{Path, PathBuf};

/// Every key a source's WITH clause may use.
pub const SOURCE_KEYS: &[&str] = &[
    "connector",
    "path",
    "format",
    "delimiter",
    "header",
    "max_record_bytes",
    "events",
    "rate",
    "seed",
    "keys",
    "events_per_second_time",
    "table",
];

const GENERATOR_KEYS: &[&str] = &[
    "events",
    "rate",
    "seed",
    "keys",
    "events_per_second_time",
    "table",
];
const FILE_KEYS: &[&str] = &["path", "format", "delimiter", "header", "max_record_bytes"];

/// The largest `max_record_bytes` accepted: a reader buffers up to twice it.
const MAX_RECORD_BYTES_LIMIT: usize = 1 << 30;

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
}

/// A file or standard input.
#[derive(Debug, Clone, PartialEq)]
pub struct FileConfig {
    pub location: Location,
    pub format: FileFormat,
    pub csv: CsvOptions,
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
    /// Wall-clock pacing in events per second; `None` = unpaced.
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
        let connector = match props.get("connector") {
            None => Connector::File(file_config(&props)?),
            Some(c) if c.eq_ignore_ascii_case("file") => Connector::File(file_config(&props)?),
            Some(c) if c.eq_ignore_ascii_case("trades") => {
                Connector::Trades(trades_config(&props)?)
            }
            Some(c) if c.eq_ignore_ascii_case("nexmark") => nexmark_connector(&props)?,
            Some(other) => {
                return Err(props.usage(format!(
                    "unknown connector '{other}' (known: file, trades, nexmark)"
                )))
            }
        };
        Ok(SourceConfig {
            name: table.name.clone(),
            connector,
        })
    }
}

fn nexmark_connector(props: &Properties) -> Result<Connector> {
    props.reject_keys(FILE_KEYS, "nexmark")?;
    if props.get("keys").is_some() {
        return Err(props.usage("property 'keys' does not apply to connector 'nexmark'".into()));
    }
    let table = props
        .get("table")
        .ok_or_else(|| {
            props.usage("connector 'nexmark' needs 'table' = person, auction or bid".into())
        })?
        .parse::<NexmarkTable>()?;
    Ok(Connector::Nexmark(
        table,
        NexmarkConfig::from_properties(props.entries)?,
    ))
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
            if !SOURCE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                return Err(self.usage(format!(
                    "unknown property '{key}' (known: {})",
                    SOURCE_KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Rejects keys that belong to the other connector.
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

    fn number<T: std::str::FromStr>(&self, key: &str, what: &str) -> Result<Option<T>> {
        self.get(key)
            .map(|v| {
                v.trim()
                    .replace('_', "")
                    .parse::<T>()
                    .map_err(|_| self.usage(format!("'{key}' must be {what}, not '{v}'")))
            })
            .transpose()
    }
}

fn file_config(props: &Properties) -> Result<FileConfig> {
    props.reject_keys(GENERATOR_KEYS, "file")?;
    let path = props
        .get("path")
        .ok_or_else(|| props.usage("needs a 'path' (or connector = 'trades')".to_string()))?;
    let location = if path.trim() == "-" {
        Location::Stdin
    } else {
        Location::Path(PathBuf::from(path))
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
        header: parse_header(props)?,
    };
    Ok(FileConfig {
        location,
        format,
        csv,
        max_record_bytes: parse_max_record_bytes(props)?,
    })
}

fn parse_max_record_bytes(props: &Properties) -> Result<usize> {
    let bytes: usize = props
        .number("max_record_bytes", "a number of bytes")?
        .unwrap_or(DEFAULT_MAX_RECORD_BYTES);
    if !(1..=MAX_RECORD_BYTES_LIMIT).contains(&bytes) {
        return Err(props.usage(format!(
            "'max_record_bytes' must be from 1 to {MAX_RECORD_BYTES_LIMIT}, not {bytes}"
        )));
    }
    Ok(bytes)
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
                "'delimiter' must be a single character, not '{text}'"
            )))
        }
    };
    if matches!(byte, b'"' | b'\n' | b'\r') {
        return Err(props.usage(format!("'{text}' cannot be a delimiter")));
    }
    Ok(byte)
}

fn parse_header(props: &Properties) -> Result<bool> {
    match props.get("header") {
        None => Ok(true),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(props.usage(format!("'header' must be true or false, not '{v}'"))),
        },
    }
}

fn trades_config(props: &Properties) -> Result<TradesConfig> {
    props.reject_keys(FILE_KEYS, "trades")?;
    props.reject_keys(&["table"], "trades")?;
    let defaults = TradesConfig::default();
    let rate: f64 = props
        .number("rate", "a number of events per second")?
        .unwrap_or(0.0);
    if !rate.is_finite() || rate < 0.0 {
        return Err(props.usage(format!("'rate' must be 0 or more, not {rate}")));
    }
    let keys: u32 = props
        .number("keys", "a positive integer")?
        .unwrap_or(defaults.keys);
    let event_rate: u64 = props
        .number("events_per_second_time", "a positive integer")?
        .unwrap_or(defaults.events_per_second_time);
    if keys == 0 || event_rate == 0 {
        return Err(
            props.usage("'keys' and 'events_per_second_time' must be at least 1".to_string())
        );
    }
    Ok(TradesConfig {
        events: props
            .number("events", "a non-negative integer")?
            .unwrap_or(defaults.events),
        rate: (rate > 0.0).then_some(rate),
        seed: props
            .number("seed", "a non-negative integer")?
            .unwrap_or(defaults.seed),
        keys,
        events_per_second_time: event_rate,
    })
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
        assert!(err(&[("path", "x.csv"), ("delimiter", ";;")]).contains("single character"));
        assert!(err(&[("path", "x.csv"), ("events", "5")]).contains("does not apply"));
        assert!(err(&[]).contains("needs a 'path'"));
        assert!(err(&[("connector", "kafka")]).contains("unknown connector 'kafka'"));
        assert!(err(&[("connector", "trades"), ("events", "many")])
            .contains("'events' must be a non-negative integer, not 'many'"));
        assert!(err(&[("path", "x.csv"), ("max_record_bytes", "0")])
            .contains("'max_record_bytes' must be from 1 to 1073741824, not 0"));
        assert!(
            err(&[("path", "x.csv"), ("max_record_bytes", "2147483648")])
                .contains("not 2147483648")
        );
        assert!(err(&[("path", "x.csv"), ("max_record_bytes", "-1")])
            .contains("'max_record_bytes' must be a number of bytes, not '-1'"));
        assert!(err(&[("connector", "trades"), ("max_record_bytes", "9")])
            .contains("property 'max_record_bytes' does not apply to connector 'trades'"));
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
