//! `INSERT INTO sink SELECT ..` (Flink, Velostream): the output goes where
//! the table declared as `sink` says. Its columns name the output's (they
//! must match the SELECT list in number and type), and its WITH keys are
//! read as `CREATE STREAM .. WITH` keys: `path` is the output file, and
//! `format`, `connector`, `topic`, `key.fields` and `properties.*` (a Kafka
//! sink) mean the same; keys that only make sense for reading (event time,
//! watermarks, startup modes) are left out.

use super::Catalog;
use crate::data::{DataType, Field, Schema};
use crate::error::{Error, Result, SqlLocation};

/// A sink table's WITH keys that carry over to the output as they are.
const CARRIED_KEYS: [&str; 4] = ["format", "connector", "topic", "key.fields"];

/// The output schema named by the sink `name`'s columns, and the output's
/// WITH keys taken from the sink's.
pub(crate) fn insert_target(
    name: &str,
    output: Schema,
    catalog: &Catalog,
    at: SqlLocation,
) -> Result<(Schema, Vec<(String, String)>)> {
    let sink = catalog.get(name).ok_or_else(|| {
        Error::plan(
            format!(
                "INSERT INTO {name}: no table {name} is declared (declare the sink with \
                 CREATE TABLE {name} (..) WITH ('path' = ..) first)"
            ),
            Some(at),
        )
    })?;
    let declared = &sink.schema.fields;
    if declared.len() != output.fields.len() {
        return Err(Error::plan(
            format!(
                "INSERT INTO {name}: the query writes {} columns, {name} has {}",
                output.fields.len(),
                declared.len()
            ),
            Some(at),
        ));
    }
    let mut fields = Vec::with_capacity(declared.len());
    for (i, (written, column)) in output.fields.iter().zip(declared).enumerate() {
        if written.data_type != column.data_type && written.data_type != DataType::Null {
            return Err(Error::plan(
                format!(
                    "INSERT INTO {name}: column {} of the query, {} ({}), does not have the \
                     type of {name}.{} ({}); CAST it",
                    i + 1,
                    written.name,
                    written.data_type,
                    column.name,
                    column.data_type
                ),
                Some(at),
            ));
        }
        fields.push(Field::new(column.name.clone(), written.data_type));
    }
    let properties = sink
        .properties
        .iter()
        .filter_map(|(key, value)| {
            let carried = CARRIED_KEYS.contains(&key.as_str()) || key.starts_with("properties.");
            match key.as_str() {
                "path" => Some(("output".to_string(), value.clone())),
                _ if carried => Some((key.clone(), value.clone())),
                _ => None,
            }
        })
        .collect();
    Ok((Schema::new(fields), properties))
}
