//! Lookup joins: every joined table held as rows indexed by its join key,
//! and the step that widens a batch of source rows with each row's match
//! (or NULLs) before the rows are routed. It runs where the rows are read,
//! so GROUP BY and routing can use the table's columns.
//!
//! A table may hold each join key once ([`LookupTable::build`] refuses a
//! repeat), so a source row meets at most one table row and one record
//! stays one row. NULL keys never match.
//!
//! The tables are read-only once built; what a join learns while it runs
//! (which string keys found which row) lives in a [`JoinScratch`] that the
//! reader of a shard keeps from chunk to chunk.

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
            let hash = LOOKUP_HASH.hash_one(&key[..]);
            if let Some(found) = table.find_hashed(hash, &key) {
                return Err(DuplicateKey {
                    key,
                    first: positions[found as usize],
                    second: position,
                });
            }
            let id = positions.len() as u32;
            table.values.extend_from_slice(row);
            positions.push(position);
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
    /// shares no reference counts with another shard's. Equal strings
    /// share one allocation in the copy (a column of a few distinct values
    /// then stays in cache).
    pub fn deep_copy(&self) -> LookupTable {
        let mut copies: ahash::AHashMap<&str, Arc<str>> = ahash::AHashMap::new();
        let values = self
            .values
            .iter()
            .map(|value| match value {
                Value::Str(s) => Value::Str(Arc::clone(
                    copies.entry(&**s).or_insert_with(|| Arc::from(&**s)),
                )),
                other => other.clone(),
            })
            .collect();
        LookupTable {
            values,
            ..self.clone()
        }
    }

    /// Reads a word of every matched row, in one short loop: the rows'
    /// cache misses then overlap, instead of stalling the widening loop one
    /// by one (measured in BENCHMARKS.md, "Lookup joins").
    fn touch(&self, matches: &[Match]) {
        let mut seen = 0u8;
        for m in matches {
            if let Match::Row(id) = m {
                seen ^= self.row(*id).first().map_or(0, |v| v.is_null() as u8);
            }
        }
        std::hint::black_box(seen);
    }

    /// The row number holding `key` (no NULLs in it).
    fn find(&self, key: &[Value]) -> Option<u32> {
        self.find_hashed(LOOKUP_HASH.hash_one(key), key)
    }

    fn find_hashed(&self, hash: u64, key: &[Value]) -> Option<u32> {
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

/// One join of a plan with its table.
#[derive(Debug, Clone)]
struct Lookup {
    /// Key expressions over the row before the table's columns.
    stream_keys: Vec<ScalarExpr>,
    /// Set when the key is one plain column: read in place, not evaluated.
    key_column: Option<usize>,
    /// The table's columns the query reads; the others are left NULL.
    read: Vec<bool>,
    /// `(table column, row column)` when the key is one column of the same
    /// type on both sides: a match's key is then copied from the row (whose
    /// value is at hand and equal), not from the table.
    key_from_row: Option<(usize, usize)>,
    table: LookupTable,
}

/// Buckets of a [`KeyCache`] per table row (rounded up to a power of two);
/// each bucket holds two keys.
const CACHE_BUCKETS_PER_ROW: usize = 1;
/// The most buckets a [`KeyCache`] has (2 MiB of buckets).
const MAX_CACHE_BUCKETS: usize = 1 << 16;

/// Which table row a one-string key found, by the string's allocation.
///
/// Readers intern repeated strings, so the rows of one key mostly carry the
/// same `Arc`: a two-way set-associative cache keyed by its address answers
/// with no hashing of bytes and no byte comparison. Sound without `unsafe`:
/// every address an entry names belongs to an `Arc` the cache holds a clone
/// of (in `held`, beside the entry), so that allocation cannot be freed and
/// its address taken by another string while the entry exists.
#[derive(Debug, Default)]
struct KeyCache {
    buckets: Vec<[CacheEntry; 2]>,
    /// The strings the entries name, entry for entry.
    held: Vec<[Option<Arc<str>>; 2]>,
    /// `64 - log2(buckets.len())`: the shift that maps an address to a bucket.
    shift: u32,
}

/// One cached key: the address of its string (0: empty) and the row it
/// found (`NO_ROW`: none).
#[derive(Debug, Default, Clone, Copy)]
struct CacheEntry {
    address: usize,
    found: u32,
}

const NO_ROW: u32 = u32::MAX;

impl KeyCache {
    fn for_table(rows: usize) -> KeyCache {
        let len = (rows * CACHE_BUCKETS_PER_ROW)
            .next_power_of_two()
            .clamp(16, MAX_CACHE_BUCKETS);
        KeyCache {
            buckets: vec![[CacheEntry::default(); 2]; len],
            held: vec![[None, None]; len],
            shift: 64 - len.trailing_zeros(),
        }
    }

    fn address(key: &Arc<str>) -> usize {
        Arc::as_ptr(key) as *const u8 as usize
    }

    fn bucket(&self, address: usize) -> usize {
        ((address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// `Some(found)` when `key`'s allocation is one the cache holds.
    fn get(&self, key: &Arc<str>) -> Option<Option<u32>> {
        let address = KeyCache::address(key);
        let bucket = self.buckets.get(self.bucket(address))?;
        let entry = bucket.iter().find(|e| e.address == address)?;
        Some((entry.found != NO_ROW).then_some(entry.found))
    }

    /// Caches `key` as the bucket's newest entry (its older one moves to
    /// the second place; the second is dropped).
    fn put(&mut self, key: &Arc<str>, found: Option<u32>) {
        let address = KeyCache::address(key);
        let b = self.bucket(address);
        let (Some(bucket), Some(held)) = (self.buckets.get_mut(b), self.held.get_mut(b)) else {
            return;
        };
        bucket[1] = bucket[0];
        bucket[0] = CacheEntry {
            address,
            found: found.unwrap_or(NO_ROW),
        };
        held[1] = held[0].take();
        held[0] = Some(Arc::clone(key));
    }
}

/// What the joins of one reader learn as they run: a [`KeyCache`] per
/// join whose key is one column, and room for an evaluated key.
#[derive(Debug, Default)]
pub struct JoinScratch {
    caches: Vec<KeyCache>,
    key: Vec<Value>,
    /// Per join, per row of the batch: its match, when found up front.
    matches: Vec<Match>,
}

/// A row's match in one table, as [`Lookups::join_into`] finds it.
#[derive(Debug, Clone, Copy)]
enum Match {
    Row(u32),
    Missing,
    /// The key needs an earlier table's columns: found as the row is joined.
    Later,
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

    /// Empty scratch for a reader of these joins.
    pub fn scratch(&self) -> JoinScratch {
        let caches = self.joins.iter().map(|j| match j.key_column {
            Some(_) => KeyCache::for_table(j.table.len()),
            None => KeyCache::default(),
        });
        JoinScratch {
            caches: caches.collect(),
            key: Vec::new(),
            matches: Vec::new(),
        }
    }

    /// Moves the rows of `source` onto the end of `joined` (empty or of
    /// the joined width), each followed by its match in every table, or
    /// NULLs. `scratch` comes from [`Lookups::scratch`].
    ///
    /// Matches are found in two passes: first, for every join whose key the
    /// row as read holds, the whole batch's matches (short independent
    /// lookups, whose cache misses the processor overlaps); then the rows
    /// are widened.
    pub fn join_into(&self, source: &mut Batch, joined: &mut Batch, scratch: &mut JoinScratch) {
        let rows = source.len();
        self.find_up_front(source, scratch);
        let JoinScratch {
            caches,
            key,
            matches,
        } = scratch;
        let mut row = 0;
        joined.extend_widened(source, |values, start| {
            for (j, (join, cache)) in self.joins.iter().zip(caches.iter_mut()).enumerate() {
                let found = match matches[j * rows + row] {
                    Match::Row(id) => Some(id),
                    Match::Missing => None,
                    Match::Later => join.find(&values[start..], cache, key),
                };
                match found {
                    Some(id) => join.push_read(id, values, start),
                    None => values.resize(values.len() + join.table.width, Value::Null),
                }
            }
            row += 1;
        });
    }

    /// Fills `scratch.matches`: per join, per row of `source`.
    fn find_up_front(&self, source: &Batch, scratch: &mut JoinScratch) {
        let JoinScratch {
            caches,
            key,
            matches,
        } = scratch;
        matches.clear();
        for (join, cache) in self.joins.iter().zip(caches.iter_mut()) {
            let in_source = join.key_column.is_some_and(|c| c < source.width());
            let first = matches.len();
            for (row, _) in source.rows() {
                matches.push(match in_source {
                    false => Match::Later,
                    true => join
                        .find(row, cache, key)
                        .map_or(Match::Missing, Match::Row),
                });
            }
            join.table.touch(&matches[first..]);
        }
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
    let same_type = |c: usize| {
        let table_type = join.table.schema.fields[c].data_type;
        join.stream_keys[0].data_type == table_type
    };
    let key_from_row = match (key_column, join.table_keys.as_slice()) {
        (Some(row_column), &[table_column]) if same_type(table_column) => {
            Some((table_column, row_column))
        }
        _ => None,
    };
    Lookup {
        stream_keys: join.stream_keys.clone(),
        key_column,
        read: join.read.clone(),
        key_from_row,
        table,
    }
}

impl Lookup {
    /// Pushes row `id`'s columns that the query reads, NULL for the
    /// others, onto the row that starts at `start`.
    fn push_read(&self, id: u32, values: &mut Vec<Value>, start: usize) {
        let row = self.table.row(id);
        let (key_column, row_column) = self.key_from_row.unwrap_or((usize::MAX, 0));
        for (c, (value, &read)) in row.iter().zip(&self.read).enumerate() {
            let copy = match (read, c == key_column) {
                (false, _) => Value::Null,
                (true, false) => value.clone(),
                (true, true) => values[start + row_column].clone(),
            };
            values.push(copy);
        }
    }

    /// The table row matching `row` (the row so far), if any.
    fn find(&self, row: &[Value], cache: &mut KeyCache, key: &mut Vec<Value>) -> Option<u32> {
        if let Some(c) = self.key_column {
            return match &row[c] {
                Value::Null => None,
                Value::Str(text) => match cache.get(text) {
                    Some(found) => found,
                    None => {
                        let found = self.table.find(std::slice::from_ref(&row[c]));
                        cache.put(text, found);
                        found
                    }
                },
                value => self.table.find(std::slice::from_ref(value)),
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

    /// Joins `keys` (one-column rows) with a table of a, b, c.
    fn joined(lookups: &Lookups, scratch: &mut JoinScratch, keys: &[Value]) -> Vec<Value> {
        let mut source = Batch::new(1);
        for (i, k) in keys.iter().enumerate() {
            source.push_row(std::slice::from_ref(k), i as u64);
        }
        let mut out = Batch::new(3);
        lookups.join_into(&mut source, &mut out, scratch);
        out.rows().map(|(row, _)| row[2].clone()).collect()
    }

    #[test]
    fn the_key_cache_answers_as_the_table_does() {
        let rows = table(&[("a", 1), ("b", 2), ("c", 3)]);
        let join = Lookup {
            stream_keys: vec![ScalarExpr::column(0, crate::data::DataType::Varchar)],
            key_column: Some(0),
            read: vec![false, true],
            key_from_row: Some((0, 0)),
            table: LookupTable::build(&rows, &[0]).expect("unique"),
        };
        let lookups = Lookups { joins: vec![join] };
        let mut scratch = lookups.scratch();
        let (a, z) = (Value::str("a"), Value::str("z"));
        // The same allocations again (hits), then equal strings of their
        // own (misses that must find the same rows).
        let keys = [
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            Value::str("a"),
            Value::Null,
        ];
        let expected = [1, 0, 1, 0, 1, 0].map(|v| match v {
            0 => Value::Null,
            v => Value::Int(v),
        });
        assert_eq!(joined(&lookups, &mut scratch, &keys), expected);
        assert_eq!(joined(&lookups, &mut scratch, &keys), expected);
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
