//! Columnar batches: the unit records move in between readers, shards and
//! engines. A [`ColumnBatch`] holds one typed [`Column`] per source column
//! (plain vectors: `i64`, `f64`, scaled-`i64` decimals, strings as one byte
//! buffer with offsets), a NULL mask where a column has NULLs, and each row's
//! *position* (where it stands in the input; what EMIT CHANGES and stateless
//! output are ordered by). It may also carry each row's key hash, computed
//! once by the router and reused by the shard that owns the key.
//!
//! Why not Arrow's `RecordBatch`: batches here are filled in place by the
//! readers, moved to another core, and given back to the core that filled
//! them to be cleared and refilled (see `runtime::recycle`), which needs
//! buffers that can be cleared and reused, not the immutable, reference-counted
//! buffers of Arrow arrays; DECIMAL is a scaled `i64` (Arrow's smallest is
//! 128 bits). The layout is Arrow's (a values vector, an offsets vector and
//! one byte buffer for strings), so conversion at the edges is a copy.
//!
//! Rows exist only where something asks for one ([`ColumnBatch::row_values`]);
//! the engine works a column at a time.

use super::{DataType, Decimal, Value};

/// A column's values. A NULL slot holds a default value (0, empty string).
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Double(Vec<f64>),
    /// Units of `10^-scale`.
    Decimal(Vec<i64>, u8),
    Str(Strings),
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp(Vec<i64>),
    /// Days since 1970-01-01.
    Date(Vec<i32>),
    /// A column of the type NULL: this many NULLs.
    Null(usize),
}

/// Strings stored end to end: string `i` is `bytes[offsets[i]..offsets[i + 1]]`.
/// Every string is valid UTF-8 (checked when it is pushed).
#[derive(Debug, Clone, PartialEq)]
pub struct Strings {
    offsets: Vec<u32>,
    bytes: Vec<u8>,
}

impl Default for Strings {
    fn default() -> Self {
        Strings {
            offsets: vec![0],
            bytes: Vec::new(),
        }
    }
}

impl Strings {
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, index: usize) -> &str {
        let bytes = &self.bytes[self.offsets[index] as usize..self.offsets[index + 1] as usize];
        // Only valid UTF-8 is ever pushed (`push` takes a `&str`).
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The raw bytes of string `index` (valid UTF-8).
    pub fn bytes(&self, index: usize) -> &[u8] {
        &self.bytes[self.offsets[index] as usize..self.offsets[index + 1] as usize]
    }

    pub fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        self.close();
    }

    /// Ends the string whose bytes were appended with [`Strings::bytes_mut`].
    fn close(&mut self) {
        let end = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        self.offsets.push(end);
    }

    fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        let end = self.offsets[len] as usize;
        self.bytes.truncate(end);
    }

    fn clear(&mut self) {
        self.offsets.truncate(1);
        self.bytes.clear();
    }

    /// Every string, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// One typed column and which of its rows are NULL.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    data: ColumnData,
    /// Empty while no row is NULL; else one entry per row, `true` = NULL.
    nulls: Vec<bool>,
}

impl Column {
    /// An empty column of type `data_type`.
    pub fn new(data_type: DataType, capacity: usize) -> Column {
        let data = match data_type {
            DataType::Boolean => ColumnData::Bool(Vec::with_capacity(capacity)),
            DataType::BigInt => ColumnData::Int(Vec::with_capacity(capacity)),
            DataType::Double => ColumnData::Double(Vec::with_capacity(capacity)),
            DataType::Decimal { scale, .. } => {
                ColumnData::Decimal(Vec::with_capacity(capacity), scale)
            }
            DataType::Varchar => ColumnData::Str(Strings {
                offsets: Vec::with_capacity(capacity + 1).tap_push(0),
                bytes: Vec::new(),
            }),
            DataType::Timestamp => ColumnData::Timestamp(Vec::with_capacity(capacity)),
            DataType::Date => ColumnData::Date(Vec::with_capacity(capacity)),
            DataType::Null => ColumnData::Null(0),
        };
        Column {
            data,
            nulls: Vec::new(),
        }
    }

    pub fn data(&self) -> &ColumnData {
        &self.data
    }

    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Bool(v) => v.len(),
            ColumnData::Int(v) | ColumnData::Timestamp(v) | ColumnData::Decimal(v, _) => v.len(),
            ColumnData::Double(v) => v.len(),
            ColumnData::Date(v) => v.len(),
            ColumnData::Str(s) => s.len(),
            ColumnData::Null(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when row `row` is NULL.
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        matches!(self.data, ColumnData::Null(_)) || self.nulls.get(row).copied().unwrap_or(false)
    }

    /// True when no row is NULL.
    pub fn has_no_nulls(&self) -> bool {
        !matches!(self.data, ColumnData::Null(n) if n > 0) && !self.nulls.contains(&true)
    }

    /// The NULL mask: empty while no row is NULL, else `true` per NULL row.
    pub fn nulls(&self) -> &[bool] {
        &self.nulls
    }

    /// Appends a NULL.
    pub fn push_null(&mut self) {
        if self.nulls.is_empty() {
            self.nulls = vec![false; self.len()];
        }
        self.nulls.push(true);
        match &mut self.data {
            ColumnData::Bool(v) => v.push(false),
            ColumnData::Int(v) | ColumnData::Timestamp(v) | ColumnData::Decimal(v, _) => v.push(0),
            ColumnData::Double(v) => v.push(0.0),
            ColumnData::Date(v) => v.push(0),
            ColumnData::Str(s) => s.close(),
            ColumnData::Null(n) => *n += 1,
        }
    }

    pub fn push_bool(&mut self, value: bool) {
        match &mut self.data {
            ColumnData::Bool(v) => {
                v.push(value);
                self.mark_valid();
            }
            _ => self.push_value(&Value::Bool(value)),
        }
    }

    pub fn push_int(&mut self, value: i64) {
        match &mut self.data {
            ColumnData::Int(v) => {
                v.push(value);
                self.mark_valid();
            }
            _ => self.push_value(&Value::Int(value)),
        }
    }

    pub fn push_double(&mut self, value: f64) {
        match &mut self.data {
            ColumnData::Double(v) => {
                v.push(value);
                self.mark_valid();
            }
            _ => self.push_value(&Value::Double(value)),
        }
    }

    pub fn push_timestamp(&mut self, millis: i64) {
        match &mut self.data {
            ColumnData::Timestamp(v) => {
                v.push(millis);
                self.mark_valid();
            }
            _ => self.push_value(&Value::Timestamp(millis)),
        }
    }

    /// Appends a DECIMAL (rescaled to the column's scale; NULL if it does not fit).
    pub fn push_decimal(&mut self, value: Decimal) {
        match &mut self.data {
            ColumnData::Decimal(v, scale) => match value.rescale(*scale) {
                Some(d) => {
                    v.push(d.units);
                    self.mark_valid();
                }
                None => self.push_null(),
            },
            _ => self.push_value(&Value::Decimal(value)),
        }
    }

    pub fn push_str(&mut self, value: &str) {
        match &mut self.data {
            ColumnData::Str(s) => {
                s.push(value);
                self.mark_valid();
            }
            _ => self.push_value(&Value::str(value)),
        }
    }

    /// Records that the value just pushed is not NULL (after the push, so the
    /// mask, when there is one, stays one entry per row).
    #[inline]
    fn mark_valid(&mut self) {
        if !self.nulls.is_empty() {
            self.nulls.push(false);
        }
    }

    /// Appends `value`, converted to the column's type the way a row cell
    /// is stored (numbers widen; a value of another kind is NULL).
    pub fn push_value(&mut self, value: &Value) {
        if value.is_null() || !push_value(&mut self.data, value) {
            return self.push_null();
        }
        self.mark_valid();
    }

    /// Row `row` as a [`Value`] (allocates for strings: a slow path).
    pub fn value(&self, row: usize) -> Value {
        if self.is_null(row) {
            return Value::Null;
        }
        match &self.data {
            ColumnData::Bool(v) => Value::Bool(v[row]),
            ColumnData::Int(v) => Value::Int(v[row]),
            ColumnData::Double(v) => Value::Double(v[row]),
            ColumnData::Decimal(v, scale) => Value::Decimal(Decimal::new(v[row], *scale)),
            ColumnData::Str(s) => Value::str(s.get(row)),
            ColumnData::Timestamp(v) => Value::Timestamp(v[row]),
            ColumnData::Date(v) => Value::Date(v[row]),
            ColumnData::Null(_) => Value::Null,
        }
    }

    /// Appends row `row` of `other` (a column of the same type).
    pub fn push_from(&mut self, other: &Column, row: usize) {
        if other.is_null(row) {
            return self.push_null();
        }
        match (&mut self.data, &other.data) {
            (ColumnData::Bool(to), ColumnData::Bool(from)) => to.push(from[row]),
            (ColumnData::Int(to), ColumnData::Int(from))
            | (ColumnData::Timestamp(to), ColumnData::Timestamp(from)) => to.push(from[row]),
            (ColumnData::Decimal(to, a), ColumnData::Decimal(from, b)) if a == b => {
                to.push(from[row])
            }
            (ColumnData::Double(to), ColumnData::Double(from)) => to.push(from[row]),
            (ColumnData::Date(to), ColumnData::Date(from)) => to.push(from[row]),
            (ColumnData::Str(to), ColumnData::Str(from)) => {
                to.bytes.extend_from_slice(from.bytes(row));
                to.close();
            }
            _ => return self.push_value(&other.value(row)),
        }
        self.mark_valid();
    }

    /// Keeps the first `len` rows.
    pub fn truncate(&mut self, len: usize) {
        match &mut self.data {
            ColumnData::Bool(v) => v.truncate(len),
            ColumnData::Int(v) | ColumnData::Timestamp(v) | ColumnData::Decimal(v, _) => {
                v.truncate(len)
            }
            ColumnData::Double(v) => v.truncate(len),
            ColumnData::Date(v) => v.truncate(len),
            ColumnData::Str(s) => s.truncate(len.min(s.len())),
            ColumnData::Null(n) => *n = (*n).min(len),
        }
        self.nulls.truncate(len);
    }

    pub fn clear(&mut self) {
        match &mut self.data {
            ColumnData::Str(s) => s.clear(),
            _ => self.truncate(0),
        }
        self.nulls.clear();
    }
}

/// Stores `value` in `data` converted the way a row cell of that type holds
/// it; `false` when it has no such form (the caller stores a NULL).
fn push_value(data: &mut ColumnData, value: &Value) -> bool {
    match (data, value) {
        (ColumnData::Bool(v), Value::Bool(b)) => v.push(*b),
        (ColumnData::Int(v), Value::Int(i)) => v.push(*i),
        (ColumnData::Double(v), _) => match value.as_f64().filter(|_| !value.is_null()) {
            Some(d) if !matches!(value, Value::Timestamp(_)) => v.push(d),
            _ => return false,
        },
        (ColumnData::Decimal(v, scale), Value::Decimal(d)) => match d.rescale(*scale) {
            Some(d) => v.push(d.units),
            None => return false,
        },
        (ColumnData::Decimal(v, scale), Value::Int(i)) => {
            match Decimal::from_i64(*i).rescale(*scale) {
                Some(d) => v.push(d.units),
                None => return false,
            }
        }
        (ColumnData::Str(s), Value::Str(text)) => s.push(text),
        (ColumnData::Timestamp(v), Value::Timestamp(t)) => v.push(*t),
        (ColumnData::Date(v), Value::Date(d)) => v.push(*d),
        (ColumnData::Null(n), _) => *n += 1,
        _ => return false,
    }
    true
}

/// `Vec::push` that returns the vector (for building in one expression).
trait TapPush<T> {
    fn tap_push(self, value: T) -> Self;
}

impl<T> TapPush<T> for Vec<T> {
    fn tap_push(mut self, value: T) -> Self {
        self.push(value);
        self
    }
}

/// Rows of one schema, stored a column at a time, with their positions (and,
/// once routed, their key hashes).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnBatch {
    columns: Vec<Column>,
    positions: Vec<u64>,
    /// Empty, or one key hash per row (set by the router).
    hashes: Vec<u64>,
}

impl ColumnBatch {
    /// An empty batch with columns of `types`.
    pub fn new(types: &[DataType]) -> ColumnBatch {
        ColumnBatch::with_capacity(types, 0)
    }

    pub fn with_capacity(types: &[DataType], rows: usize) -> ColumnBatch {
        ColumnBatch {
            columns: types.iter().map(|t| Column::new(*t, rows)).collect(),
            positions: Vec::with_capacity(rows),
            hashes: Vec::new(),
        }
    }

    /// An empty batch with the columns (types) of `self`.
    pub fn empty_like(&self, rows: usize) -> ColumnBatch {
        let mut batch = self.clone_empty();
        batch.positions.reserve(rows);
        batch
    }

    fn clone_empty(&self) -> ColumnBatch {
        ColumnBatch {
            columns: self
                .columns
                .iter()
                .map(|c| {
                    let mut empty = Column {
                        data: match &c.data {
                            ColumnData::Decimal(_, scale) => {
                                ColumnData::Decimal(Vec::new(), *scale)
                            }
                            ColumnData::Bool(_) => ColumnData::Bool(Vec::new()),
                            ColumnData::Int(_) => ColumnData::Int(Vec::new()),
                            ColumnData::Double(_) => ColumnData::Double(Vec::new()),
                            ColumnData::Str(_) => ColumnData::Str(Strings::default()),
                            ColumnData::Timestamp(_) => ColumnData::Timestamp(Vec::new()),
                            ColumnData::Date(_) => ColumnData::Date(Vec::new()),
                            ColumnData::Null(_) => ColumnData::Null(0),
                        },
                        nulls: Vec::new(),
                    };
                    empty.clear();
                    empty
                })
                .collect(),
            positions: Vec::new(),
            hashes: Vec::new(),
        }
    }

    pub fn width(&self) -> usize {
        self.columns.len()
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn column(&self, index: usize) -> &Column {
        &self.columns[index]
    }

    /// The columns, for a reader appending one row's fields to each in turn;
    /// it then calls [`ColumnBatch::end_row`] (or [`ColumnBatch::abandon_row`]).
    pub fn columns_mut(&mut self) -> &mut [Column] {
        &mut self.columns
    }

    /// Ends the row whose fields were appended to every column.
    pub fn end_row(&mut self, position: u64) {
        self.positions.push(position);
    }

    /// Drops the fields appended for a row that turned out malformed.
    pub fn abandon_row(&mut self) {
        let len = self.len();
        for column in &mut self.columns {
            column.truncate(len);
        }
    }

    pub fn position(&self, row: usize) -> u64 {
        self.positions[row]
    }

    pub fn positions(&self) -> &[u64] {
        &self.positions
    }

    /// The key hashes set by the router (empty if none).
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// Appends a row of values (converted to the column types).
    pub fn push_values(&mut self, row: &[Value], position: u64) {
        assert_eq!(
            row.len(),
            self.width(),
            "row width does not match the batch"
        );
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.push_value(value);
        }
        self.positions.push(position);
    }

    /// Appends row `row` of `other` (same column types), with its hash.
    pub fn push_row_of(&mut self, other: &ColumnBatch, row: usize) {
        for (to, from) in self.columns.iter_mut().zip(&other.columns) {
            to.push_from(from, row);
        }
        self.positions.push(other.positions[row]);
        if let Some(hash) = other.hashes.get(row) {
            self.hashes.push(*hash);
        }
    }

    /// Appends row `row` of `other` with the key hash `hash`.
    pub fn push_hashed_row_of(&mut self, other: &ColumnBatch, row: usize, hash: u64) {
        for (to, from) in self.columns.iter_mut().zip(&other.columns) {
            to.push_from(from, row);
        }
        self.positions.push(other.positions[row]);
        self.hashes.push(hash);
    }

    /// Row `row`'s values into `out` (cleared first): a slow path for code
    /// that still works a row at a time.
    pub fn row_values(&self, row: usize, out: &mut Vec<Value>) {
        out.clear();
        out.extend(self.columns.iter().map(|c| c.value(row)));
    }

    pub fn clear(&mut self) {
        for column in &mut self.columns {
            column.clear();
        }
        self.positions.clear();
        self.hashes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<DataType> {
        vec![
            DataType::Varchar,
            DataType::BigInt,
            DataType::Double,
            DataType::Decimal {
                precision: 18,
                scale: 2,
            },
            DataType::Timestamp,
            DataType::Boolean,
        ]
    }

    fn row(i: i64) -> Vec<Value> {
        vec![
            Value::str(&format!("s{i}")),
            Value::Int(i),
            Value::Double(i as f64 / 2.0),
            Value::Decimal(Decimal::new(i * 100 + 5, 2)),
            Value::Timestamp(1_000 + i),
            Value::Bool(i % 2 == 0),
        ]
    }

    #[test]
    fn rows_go_in_and_come_out_with_their_positions_and_nulls() {
        let mut batch = ColumnBatch::new(&types());
        batch.push_values(&row(1), 10);
        let mut with_nulls = row(2);
        with_nulls[0] = Value::Null;
        with_nulls[3] = Value::Null;
        batch.push_values(&with_nulls, 20);
        batch.push_values(&row(3), 30);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.positions(), &[10, 20, 30]);
        let mut out = Vec::new();
        for (i, expected) in [row(1), with_nulls, row(3)].iter().enumerate() {
            batch.row_values(i, &mut out);
            assert_eq!(&out, expected);
        }
        assert!(batch.column(0).is_null(1) && !batch.column(0).is_null(2));
        assert!(batch.column(1).has_no_nulls());
    }

    #[test]
    fn an_abandoned_row_leaves_no_trace() {
        let mut batch = ColumnBatch::new(&types());
        batch.push_values(&row(1), 1);
        batch.columns_mut()[0].push_str("half");
        batch.columns_mut()[1].push_null();
        batch.abandon_row();
        batch.push_values(&row(2), 2);
        let mut out = Vec::new();
        batch.row_values(1, &mut out);
        assert_eq!(out, row(2));
        assert!(batch.column(1).has_no_nulls());
    }

    #[test]
    fn rows_copy_between_batches_and_clear_keeps_the_types() {
        let mut from = ColumnBatch::new(&types());
        for i in 0..5 {
            from.push_values(&row(i), i as u64);
        }
        let mut to = from.empty_like(2);
        to.push_hashed_row_of(&from, 3, 33);
        to.push_hashed_row_of(&from, 1, 11);
        assert_eq!(to.positions(), &[3, 1]);
        assert_eq!(to.hashes(), &[33, 11]);
        let mut out = Vec::new();
        to.row_values(0, &mut out);
        assert_eq!(out, row(3));
        to.clear();
        assert!(to.is_empty() && to.hashes().is_empty());
        to.push_values(&row(4), 4);
        to.row_values(0, &mut out);
        assert_eq!(out, row(4));
    }

    #[test]
    fn values_of_another_kind_are_converted_or_null() {
        let mut column = Column::new(DataType::Double, 0);
        column.push_value(&Value::Int(3));
        column.push_value(&Value::str("x"));
        assert_eq!(column.value(0), Value::Double(3.0));
        assert!(column.is_null(1));
        let mut decimals = Column::new(
            DataType::Decimal {
                precision: 18,
                scale: 1,
            },
            0,
        );
        decimals.push_decimal(Decimal::new(125, 2));
        assert_eq!(decimals.value(0), Value::Decimal(Decimal::new(13, 1)));
    }
}
