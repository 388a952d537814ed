//! Data: the values, types, schemas and batches that every layer shares.
//!
//! Rows are positional: a [`Batch`] stores its rows row-major in one flat
//! `Vec<Value>`, so pushing a row of numbers never allocates. Column names are
//! resolved once, at plan time, into positions.

mod batch;
mod columns;
mod decimal;
mod time;
mod value;

pub use batch::Batch;
pub use columns::{Column, ColumnBatch, ColumnData, Strings};
pub use decimal::Decimal;
pub use time::{
    date_of, format_duration, format_timestamp, parse_date, parse_duration, parse_timestamp,
    time_value, unit_millis, write_date, write_timestamp, MILLIS_PER_DAY,
};
pub use value::Value;

use std::fmt;

/// A column's SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    BigInt,
    Double,
    /// Exact decimal stored as a scaled i64: `units / 10^scale`.
    Decimal {
        precision: u8,
        scale: u8,
    },
    Varchar,
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp,
    /// A calendar day: days since 1970-01-01.
    Date,
    /// The type of a bare `NULL` literal; it coerces to any other type.
    Null,
}

impl DataType {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::BigInt | DataType::Double | DataType::Decimal { .. } | DataType::Null
        )
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Boolean => f.write_str("BOOLEAN"),
            DataType::BigInt => f.write_str("BIGINT"),
            DataType::Double => f.write_str("DOUBLE"),
            DataType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            DataType::Varchar => f.write_str("VARCHAR"),
            DataType::Timestamp => f.write_str("TIMESTAMP"),
            DataType::Date => f.write_str("DATE"),
            DataType::Null => f.write_str("NULL"),
        }
    }
}

/// One named, typed column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub data_type: DataType,
}

impl Field {
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        Field {
            name: name.into(),
            data_type,
        }
    }
}

/// An ordered list of columns. Lookups by name are case-insensitive, as in SQL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub fields: Vec<Field>,
}

impl Schema {
    pub fn new(fields: Vec<Field>) -> Self {
        Schema { fields }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Position of the column called `name` (case-insensitive).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {}", field.name, field.data_type)?;
        }
        Ok(())
    }
}
