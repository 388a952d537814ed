//! Velostream's per-object WITH keys on a query:
//! `'<source>.type' = 'file_source' | 'kafka_source'` with `'<source>.path'`,
//! `'<source>.format'`, `'<source>.topic'`, .. declare a source read by name,
//! as `--source` and `--source-option` would; `'<sink>.type' = 'file_sink' |
//! 'kafka_sink'`, where the sink is the stream's own name, says where its rows
//! go, as the stream's `output` (or Kafka) keys would.

use crate::error::{Error, Result};
use crate::sql::StreamingQuery;

/// A source the query's WITH keys name, with corestream's properties.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSource {
    pub name: String,
    /// `--source` location: a path, or `kafka://SERVERS/TOPIC`.
    pub location: String,
    /// Other keys, as `--source-option NAME.KEY=VALUE` would give them.
    pub options: Vec<(String, String)>,
}

const SOURCE_TYPES: [&str; 2] = ["file_source", "kafka_source"];
const SINK_TYPES: [&str; 2] = ["file_sink", "kafka_sink"];

/// Takes the per-object keys out of `query`'s WITH properties: returns the
/// sources they declare and writes the sink's keys as the stream's.
pub fn take_object_keys(query: &mut StreamingQuery) -> Result<Vec<NamedSource>> {
    let objects = declared_objects(&query.properties)?;
    let mut sources = Vec::new();
    for (name, kind) in objects {
        let keys = take_keys_of(&mut query.properties, &name);
        if SINK_TYPES.contains(&kind.as_str()) {
            let sink = sink_properties(&name, &kind, keys, query.stream_name.as_deref())?;
            query.properties.extend(sink);
        } else {
            sources.push(named_source(&name, &kind, keys)?);
        }
    }
    Ok(sources)
}

/// Every `<name>.type` key whose value is a Velostream object type.
fn declared_objects(properties: &[(String, String)]) -> Result<Vec<(String, String)>> {
    let mut objects = Vec::new();
    for (key, value) in properties {
        let Some(name) = key.strip_suffix(".type") else {
            continue;
        };
        let kind = value.to_ascii_lowercase();
        if !SOURCE_TYPES.contains(&kind.as_str()) && !SINK_TYPES.contains(&kind.as_str()) {
            return Err(Error::Usage(format!(
                "WITH '{key}' = '{value}': the known types are {} and {}",
                SOURCE_TYPES.join(", "),
                SINK_TYPES.join(", ")
            )));
        }
        objects.push((name.to_string(), kind));
    }
    Ok(objects)
}

/// Removes the keys `<name>.<key>` (but `.type`) from `properties`; returns
/// them as `(key, value)`.
fn take_keys_of(properties: &mut Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    let prefix = format!("{name}.");
    let mut taken = Vec::new();
    properties.retain(|(key, value)| match key.strip_prefix(&prefix) {
        Some(rest) => {
            if rest != "type" {
                taken.push((rest.to_string(), value.clone()));
            }
            false
        }
        None => true,
    });
    taken
}

fn named_source(name: &str, kind: &str, keys: Vec<(String, String)>) -> Result<NamedSource> {
    let mut path = None;
    let mut topic = None;
    let mut servers = None;
    let mut options = Vec::new();
    for (key, value) in keys {
        match key.as_str() {
            "path" => path = Some(value),
            "topic" | "topic.name" => topic = Some(value),
            "bootstrap.servers" => servers = Some(value),
            "format" => options.push((key, value)),
            other => {
                return Err(unknown_key(
                    name,
                    other,
                    "path, format, topic, bootstrap.servers",
                ))
            }
        }
    }
    let location = match kind {
        "file_source" => path.ok_or_else(|| missing(name, kind, "path"))?,
        _ => {
            let topic = topic.ok_or_else(|| missing(name, kind, "topic"))?;
            let servers = servers.ok_or_else(|| missing(name, kind, "bootstrap.servers"))?;
            format!("kafka://{servers}/{topic}")
        }
    };
    Ok(NamedSource {
        name: name.to_string(),
        location,
        options,
    })
}

/// The stream's WITH keys for the sink `name` of type `kind`.
fn sink_properties(
    name: &str,
    kind: &str,
    keys: Vec<(String, String)>,
    stream: Option<&str>,
) -> Result<Vec<(String, String)>> {
    if !stream.is_some_and(|s| s.eq_ignore_ascii_case(name)) {
        return Err(Error::Usage(format!(
            "WITH '{name}.type' = '{kind}': a sink must be the stream itself \
             (CREATE STREAM {name} AS SELECT ..)"
        )));
    }
    let file = kind == "file_sink";
    let mut properties = Vec::new();
    if !file {
        properties.push(("connector".to_string(), "kafka".to_string()));
    }
    for (key, value) in keys {
        let mapped = match (key.as_str(), file) {
            ("path", true) => "output",
            ("format", true) => "output.format",
            ("format", false) => "format",
            ("topic" | "topic.name", false) => "topic",
            ("bootstrap.servers", false) => "properties.bootstrap.servers",
            (other, true) => return Err(unknown_key(name, other, "path, format")),
            (other, false) => {
                return Err(unknown_key(name, other, "topic, format, bootstrap.servers"))
            }
        };
        properties.push((mapped.to_string(), value));
    }
    Ok(properties)
}

fn unknown_key(name: &str, key: &str, known: &str) -> Error {
    let hint = match key {
        "config_file" => " (Velostream's YAML config files are not read: write their keys here)",
        _ => "",
    };
    Error::Usage(format!(
        "unknown WITH key '{name}.{key}'{hint} (known: {known})"
    ))
}

fn missing(name: &str, kind: &str, key: &str) -> Error {
    Error::Usage(format!(
        "WITH '{name}.type' = '{kind}' needs '{name}.{key}'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{parse_sql, Statement};

    fn query(sql: &str) -> StreamingQuery {
        match parse_sql(sql).expect("parses").remove(0) {
            Statement::Query(q) => q,
            other => panic!("not a query: {other:?}"),
        }
    }

    type Properties = Vec<(String, String)>;

    /// The sources `sql`'s WITH keys declare, and the stream's keys left.
    fn taken(sql: &str) -> Result<(Vec<NamedSource>, Properties)> {
        let mut q = query(sql);
        let sources = take_object_keys(&mut q)?;
        Ok((sources, q.properties))
    }

    fn pairs(list: &[(&str, &str)]) -> Properties {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn file_source_and_sink_become_a_source_and_the_output() {
        let (sources, properties) = taken(
            "CREATE STREAM hello AS SELECT * FROM input_data EMIT CHANGES WITH (
               'input_data.type' = 'file_source', 'input_data.path' = 'in.csv',
               'input_data.format' = 'csv', 'hello.type' = 'file_sink',
               'hello.path' = 'out.csv', 'hello.format' = 'csv', 'allowed_lateness' = '1s')",
        )
        .expect("maps");
        assert_eq!(
            sources,
            vec![NamedSource {
                name: "input_data".into(),
                location: "in.csv".into(),
                options: pairs(&[("format", "csv")]),
            }]
        );
        assert_eq!(
            properties,
            pairs(&[
                ("allowed_lateness", "1s"),
                ("output", "out.csv"),
                ("output.format", "csv")
            ])
        );
    }

    #[test]
    fn kafka_source_and_sink_name_topics_and_servers() {
        let (sources, properties) = taken(
            "CREATE STREAM out AS SELECT * FROM md WITH ('md.type' = 'kafka_source',
               'md.topic.name' = 'ticks', 'md.bootstrap.servers' = 'h:9092', 'md.format' = 'json',
               'out.type' = 'kafka_sink', 'out.topic' = 'alerts', 'out.bootstrap.servers' = 'h:9092')",
        )
        .expect("maps");
        assert_eq!(sources[0].location, "kafka://h:9092/ticks");
        assert_eq!(sources[0].options, pairs(&[("format", "json")]));
        assert_eq!(
            properties,
            pairs(&[
                ("connector", "kafka"),
                ("topic", "alerts"),
                ("properties.bootstrap.servers", "h:9092")
            ])
        );
    }

    #[test]
    fn errors_name_the_key() {
        let error = |sql: &str| taken(sql).expect_err("refused").to_string();
        let cases = [
            (
                "CREATE STREAM s AS SELECT * FROM t WITH ('t.type' = 'pulsar_source')",
                "WITH 't.type' = 'pulsar_source': the known types are",
            ),
            (
                "CREATE STREAM s AS SELECT * FROM t WITH ('t.type' = 'file_source')",
                "WITH 't.type' = 'file_source' needs 't.path'",
            ),
            (
                "CREATE STREAM s AS SELECT * FROM t WITH ('t.type' = 'kafka_source', \
                 't.config_file' = 'a.yaml')",
                "unknown WITH key 't.config_file' (Velostream's YAML config files are not read",
            ),
            (
                "CREATE STREAM s AS SELECT * FROM t WITH ('other.type' = 'file_sink', \
                 'other.path' = 'o.csv')",
                "a sink must be the stream itself",
            ),
        ];
        for (sql, fragment) in cases {
            let message = error(sql);
            assert!(message.contains(fragment), "{sql}: {message}");
        }
    }
}
