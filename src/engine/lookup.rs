//! Lookup joins: every joined table held as rows indexed by its join key,
//! and the step that widens a batch of source rows with each row's match
//! (or NULLs) before the rows are routed. It runs where the rows are read,
//! so GROUP BY and routing can use the table's columns.
//!
//! A table may hold each join key once ([`LookupTable::build`] refuses a
//! repeat), so a source row meets at most one table row and one record
//! stays one row. NULL keys never match.

use super::eval::eval;
use crate::data::{Batch, Value};
use crate::plan::{ExprKind, LookupJoin, QueryPlan, ScalarExpr};
use hashbrown::HashTable;
use std::sync::Arc;

/// Fixed seeds: lookups hash the same way in every run.
const LOOKUP_HASH: ahash::RandomState = ahash::RandomState::with_seeds(
    0x9e37_79b9_7f4a_7c15,
    0xbf58_476d_1ce4_e5b9,
    0x94d0_49bb_1331_11eb,
    0x2545_f491_4f6c_dd1d,
);

/// A table's rows, found by the values of its key columns.
#[derive(Debug, Clone)]
pub struct LookupTable {
    width: usize,
    /// Rows, `width` values each.
    values: Vec<Value>,
    /// The key columns (positions in a row).
    key_columns: Vec<usize>,
    /// Row numbers, hashed by their key values.
    index: HashTable<u32>,
}

/// Two rows of a table with the same join key (their input positions).
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    pub key: Vec<Value>,
    pub first: u64,
    pub second: u64,
}

impl LookupTable {
    /// Indexes `rows` by `key_columns`. Rows with a NULL in their key can
    /// never match and are left out; a key seen twice is an error.
    pub fn build(rows: &Batch, key_columns: &[usize]) -> Result<LookupTable, DuplicateKey> {
        let mut table = LookupTable {
            width: rows.width(),
            values: Vec::with_capacity(rows.len() * rows.width()),
            key_columns: key_columns.to_vec(),
            index: HashTable::with_capacity(rows.len()),
        };
        let mut positions: Vec<u64> = Vec::with_capacity(rows.len());
        let mut key = Vec::with_capacity(key_columns.len());
        for (row, position) in rows.rows() {
            key.clear();
            key.extend(key_columns.iter().map(|&c| row[c].clone()));
            if key.iter().any(Value::is_null) {
                continue;
            }
            if let Some(found) = table.find(&key) {
                return Err(DuplicateKey {
                    key,
                    first: positions[found as usize],
                    second: position,
                });
            }
            let id = positions.len() as u32;
            table.values.extend_from_slice(row);
            positions.push(position);
            let hash = LOOKUP_HASH.hash_one(&key[..]);
            let LookupTable {
                index,
                values,
                width,
                key_columns,
            } = &mut table;
            index.insert_unique(hash, id, |&id| {
                let row = &values[id as usize * *width..][..*width];
                hash_key_of(row, key_columns)
            });
        }
        Ok(table)
    }

    /// Rows held (those with a NULL key are not).
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.width).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The same rows with strings of their own, so that a shard's copy
    /// shares no reference counts with another shard's.
    pub fn deep_copy(&self) -> LookupTable {
        let values = self.values.iter().map(own_value).collect();
        LookupTable {
            values,
            ..self.clone()
        }
    }

    /// Bytes the rows and the index hold (strings counted once per cell).
    pub fn bytes(&self) -> usize {
        let strings: usize = self
            .values
            .iter()
            .map(|v| v.as_str().map_or(0, str::len))
            .sum();
        self.values.capacity() * std::mem::size_of::<Value>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + strings
    }

    /// The row number holding `key` (no NULLs in it).
    fn find(&self, key: &[Value]) -> Option<u32> {
        let hash = LOOKUP_HASH.hash_one(key);
        self.index
            .find(hash, |&id| {
                let row = self.row(id);
                self.key_columns.iter().zip(key).all(|(&c, k)| row[c] == *k)
            })
            .copied()
    }

    fn row(&self, id: u32) -> &[Value] {
        &self.values[id as usize * self.width..][..self.width]
    }
}

fn hash_key_of(row: &[Value], key_columns: &[usize]) -> u64 {
    let key: Vec<Value> = key_columns.iter().map(|&c| row[c].clone()).collect();
    LOOKUP_HASH.hash_one(&key[..])
}

fn own_value(value: &Value) -> Value {
    match value {
        Value::Str(s) => Value::Str(Arc::from(&**s)),
        other => other.clone(),
    }
}

/// One join of a plan with its table.
#[derive(Debug, Clone)]
struct Lookup {
    /// Key expressions over the row before the table's columns.
    stream_keys: Vec<ScalarExpr>,
    /// Set when the key is one plain column: read in place, not evaluated.
    key_column: Option<usize>,
    table: LookupTable,
}

/// All lookup joins of a plan, applied in FROM order.
#[derive(Debug, Clone)]
pub struct Lookups {
    joins: Vec<Lookup>,
}

impl Lookups {
    /// The joins of `plan`, with `tables[i]` the table of `plan.lookups[i]`.
    pub fn new(plan: &QueryPlan, tables: Vec<LookupTable>) -> Lookups {
        let joins = plan
            .lookups
            .iter()
            .zip(tables)
            .map(|(join, table)| lookup(join, table))
            .collect();
        Lookups { joins }
    }

    /// Columns the joins add to a row.
    pub fn extra_width(&self) -> usize {
        self.joins.iter().map(|j| j.table.width).sum()
    }

    /// A copy whose strings are its own (see [`LookupTable::deep_copy`]).
    pub fn deep_copy(&self) -> Lookups {
        Lookups {
            joins: self
                .joins
                .iter()
                .map(|j| Lookup {
                    table: j.table.deep_copy(),
                    ..j.clone()
                })
                .collect(),
        }
    }

    /// Bytes the tables hold.
    pub fn bytes(&self) -> usize {
        self.joins.iter().map(|j| j.table.bytes()).sum()
    }

    /// Moves the rows of `source` onto the end of `joined` (empty or of
    /// the joined width), each followed by its match in every table, or
    /// NULLs.
    pub fn join_into(&self, source: &mut Batch, joined: &mut Batch) {
        let mut key = Vec::new();
        joined.extend_widened(source, |values, start| {
            for join in &self.joins {
                let found = join.find(&values[start..], &mut key);
                match found {
                    Some(id) => values.extend_from_slice(join.table.row(id)),
                    None => values.resize(values.len() + join.table.width, Value::Null),
                }
            }
        });
    }
}

fn lookup(join: &LookupJoin, table: LookupTable) -> Lookup {
    let key_column = match join.stream_keys.as_slice() {
        [ScalarExpr {
            kind: ExprKind::Column(c),
            ..
        }] => Some(*c),
        _ => None,
    };
    Lookup {
        stream_keys: join.stream_keys.clone(),
        key_column,
        table,
    }
}

impl Lookup {
    /// The table row matching `row` (the row so far), if any.
    fn find(&self, row: &[Value], key: &mut Vec<Value>) -> Option<u32> {
        if let Some(c) = self.key_column {
            let value = &row[c];
            return match value.is_null() {
                true => None,
                false => self.table.find(std::slice::from_ref(value)),
            };
        }
        key.clear();
        key.extend(self.stream_keys.iter().map(|k| eval(k, row)));
        match key.iter().any(Value::is_null) {
            true => None,
            false => self.table.find(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[(&str, i64)]) -> Batch {
        let mut batch = Batch::new(2);
        for (i, (k, v)) in rows.iter().enumerate() {
            batch.push_row(&[Value::str(k), Value::Int(*v)], i as u64 * 10);
        }
        batch
    }

    #[test]
    fn finds_by_key_and_refuses_a_repeated_key() {
        let t = LookupTable::build(&table(&[("a", 1), ("b", 2)]), &[0]).expect("unique");
        assert_eq!(t.len(), 2);
        let b = t.find(&[Value::str("b")]).expect("b is there");
        assert_eq!(t.row(b), &[Value::str("b"), Value::Int(2)]);
        assert_eq!(t.find(&[Value::str("c")]), None);
        let repeated = LookupTable::build(&table(&[("a", 1), ("b", 2), ("a", 3)]), &[0]);
        assert_eq!(
            repeated.expect_err("a twice"),
            DuplicateKey {
                key: vec![Value::str("a")],
                first: 0,
                second: 20
            }
        );
    }

    #[test]
    fn numbers_of_different_kinds_that_are_equal_match() {
        let mut rows = Batch::new(1);
        rows.push_row(&[Value::Int(3)], 0);
        let t = LookupTable::build(&rows, &[0]).expect("unique");
        assert!(t.find(&[Value::Double(3.0)]).is_some());
        assert!(t.find(&[Value::Double(3.5)]).is_none());
    }

    #[test]
    fn a_deep_copy_shares_no_strings() {
        let t = LookupTable::build(&table(&[("a", 1)]), &[0]).expect("unique");
        let copy = t.deep_copy();
        let (Value::Str(original), Value::Str(copied)) = (&t.values[0], &copy.values[0]) else {
            panic!("strings expected");
        };
        assert_eq!(original, copied);
        assert!(!Arc::ptr_eq(original, copied));
        assert_eq!(copy.find(&[Value::str("a")]), Some(0));
    }
}
