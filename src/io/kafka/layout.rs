//! Which declared columns of a Kafka source come from the message value and
//! which from its metadata (WITH `metadata.timestamp` / `partition` /
//! `offset` / `key` / `headers` = 'column', which a column's `METADATA FROM
//! 'timestamp'` also becomes), and the rows put together from both.
//! The value is parsed against the other columns only, so a CSV value holds
//! just the value columns, in their declared order.

use super::config::Metadata;
use crate::data::{DataType, Field, Schema, Value};
use crate::error::{Error, Result};

/// Where one declared column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Column `index` of the parsed value.
    Value(usize),
    /// The message's metadata, as this type.
    Meta(Metadata, DataType),
}

/// What a message carries besides its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub partition: i32,
    pub offset: i64,
    /// Epoch milliseconds, when the message has a timestamp.
    pub timestamp: Option<i64>,
    /// The key as text (lossy UTF-8), when asked for and present.
    pub key: Option<String>,
    /// The headers as a JSON object, when asked for.
    pub headers: Option<String>,
}

/// The declared columns of a source split into value and metadata columns.
#[derive(Debug, Clone)]
pub struct Layout {
    slots: Vec<Slot>,
    value_schema: Schema,
}

impl Layout {
    /// Checks that every metadata column is declared, once, with a type
    /// that fits (`timestamp`: TIMESTAMP or BIGINT; `partition`, `offset`:
    /// BIGINT; `key`: VARCHAR).
    pub fn new(source: &str, schema: &Schema, metadata: &[(String, Metadata)]) -> Result<Layout> {
        let mut slots = Vec::with_capacity(schema.len());
        let mut value_fields = Vec::new();
        for field in &schema.fields {
            let meta = metadata
                .iter()
                .filter(|(column, _)| column.eq_ignore_ascii_case(&field.name))
                .map(|(_, kind)| *kind)
                .collect::<Vec<_>>();
            match meta.as_slice() {
                [] => {
                    slots.push(Slot::Value(value_fields.len()));
                    value_fields.push(field.clone());
                }
                [kind] => slots.push(Slot::Meta(*kind, checked_type(source, field, *kind)?)),
                _ => {
                    return Err(usage(
                        source,
                        format!("column '{}' is named by two metadata keys", field.name),
                    ))
                }
            }
        }
        for (column, _) in metadata {
            if !schema
                .fields
                .iter()
                .any(|f| f.name.eq_ignore_ascii_case(column))
            {
                return Err(usage(
                    source,
                    format!("metadata column '{column}' is not declared"),
                ));
            }
        }
        Ok(Layout {
            slots,
            value_schema: Schema::new(value_fields),
        })
    }

    /// The columns the message value holds.
    pub fn value_schema(&self) -> &Schema {
        &self.value_schema
    }

    /// True when no column comes from metadata (rows are the parsed values).
    pub fn is_plain(&self) -> bool {
        self.slots.iter().all(|s| matches!(s, Slot::Value(_)))
    }

    /// True when a column holds the message key.
    pub fn wants_key(&self) -> bool {
        self.wants(Metadata::Key)
    }

    /// True when a column holds the message headers.
    pub fn wants_headers(&self) -> bool {
        self.wants(Metadata::Headers)
    }

    fn wants(&self, metadata: Metadata) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(s, Slot::Meta(kind, _) if *kind == metadata))
    }

    /// The declared row of a message: `parsed` value columns and `meta`.
    pub fn row(&self, parsed: &[Value], meta: &MessageMeta, out: &mut Vec<Value>) {
        out.clear();
        out.extend(self.slots.iter().map(|slot| match *slot {
            Slot::Value(index) => parsed[index].clone(),
            Slot::Meta(kind, data_type) => meta_value(kind, data_type, meta),
        }));
    }
}

fn meta_value(kind: Metadata, data_type: DataType, meta: &MessageMeta) -> Value {
    match kind {
        Metadata::Partition => Value::Int(i64::from(meta.partition)),
        Metadata::Offset => Value::Int(meta.offset),
        Metadata::Timestamp => match (meta.timestamp, data_type) {
            (Some(ms), DataType::Timestamp) => Value::Timestamp(ms),
            (Some(ms), _) => Value::Int(ms),
            (None, _) => Value::Null,
        },
        Metadata::Key => meta.key.as_deref().map_or(Value::Null, Value::str),
        Metadata::Headers => meta.headers.as_deref().map_or(Value::Null, Value::str),
    }
}

fn checked_type(source: &str, field: &Field, kind: Metadata) -> Result<DataType> {
    let fits = match kind {
        Metadata::Timestamp => matches!(field.data_type, DataType::Timestamp | DataType::BigInt),
        Metadata::Partition | Metadata::Offset => field.data_type == DataType::BigInt,
        Metadata::Key | Metadata::Headers => field.data_type == DataType::Varchar,
    };
    if fits {
        return Ok(field.data_type);
    }
    Err(usage(
        source,
        format!(
            "metadata column '{}' ({kind:?}) cannot be {:?} (timestamp: TIMESTAMP or BIGINT; \
             partition, offset: BIGINT; key, headers: VARCHAR)",
            field.name, field.data_type
        ),
    ))
}

fn usage(source: &str, message: String) -> Error {
    Error::Usage(format!("source '{source}': {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("symbol", DataType::Varchar),
            Field::new("p", DataType::BigInt),
            Field::new("qty", DataType::BigInt),
            Field::new("ts", DataType::Timestamp),
        ])
    }

    #[test]
    fn metadata_columns_are_filled_around_the_value_columns() {
        let meta = [
            ("P".to_string(), Metadata::Partition),
            ("ts".to_string(), Metadata::Timestamp),
        ];
        let layout = Layout::new("t", &schema(), &meta).unwrap();
        assert!(!layout.is_plain() && !layout.wants_key());
        let names: Vec<_> = layout.value_schema().names().collect();
        assert_eq!(names, vec!["symbol", "qty"]);
        let message = MessageMeta {
            partition: 3,
            offset: 9,
            timestamp: Some(1500),
            key: None,
            headers: None,
        };
        let mut row = Vec::new();
        layout.row(&[Value::str("A"), Value::Int(7)], &message, &mut row);
        assert_eq!(
            row,
            vec![
                Value::str("A"),
                Value::Int(3),
                Value::Int(7),
                Value::Timestamp(1500)
            ]
        );
    }

    #[test]
    fn wrong_types_and_unknown_columns_are_refused() {
        let key_in_bigint = [("qty".to_string(), Metadata::Key)];
        let err = Layout::new("t", &schema(), &key_in_bigint).unwrap_err();
        assert!(err.to_string().contains("metadata column 'qty'"), "{err}");
        let unknown = [("nope".to_string(), Metadata::Offset)];
        let err = Layout::new("t", &schema(), &unknown).unwrap_err();
        assert!(err.to_string().contains("'nope' is not declared"), "{err}");
        assert!(Layout::new("t", &schema(), &[]).unwrap().is_plain());
    }
}
