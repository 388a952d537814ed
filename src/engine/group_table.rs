//! The groups of one window, or of an unwindowed query: every group's key
//! stored flat in one vector, found by one hash through a table of dense
//! group ids, and each aggregate call's state kept as a column indexed by
//! group id ([`StateColumn`]). A group costs its key values, one id in the
//! table and one entry per call (8 to 24 bytes for COUNT, SUM, AVG, MIN and
//! MAX), not a hash-map entry with a boxed state per group.

use super::aggregate::{update_call, Aggregates, StateColumn};
use super::footprint::{self, value_heap};
use crate::data::Value;
use hashbrown::HashTable;

/// The hash of every group key: fixed seeds, so tables agree across runs.
const KEY_HASH: ahash::RandomState = ahash::RandomState::with_seeds(
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
);

/// Groups by key, with their aggregate states as columns.
#[derive(Clone, Debug)]
pub struct GroupTable {
    /// Values per key (the number of GROUP BY keys).
    width: usize,
    /// Group ids, found by the hash of their key. Ids are dense: 0..len.
    ids: HashTable<u32>,
    /// The keys, `width` values per group, in id order.
    keys: Vec<Value>,
    /// One column per aggregate call.
    states: Vec<StateColumn>,
    /// For a one-string key: groups by the address of their key's string.
    by_address: AddressCache,
    /// Heap bytes charged for the keys' strings.
    key_heap: usize,
    /// How many tables hold each key's strings: a record joins this many
    /// sliding windows, whose tables then share the record's strings, so
    /// each is charged its share.
    key_sharers: usize,
}

impl GroupTable {
    /// An empty table for keys of `width` values and the calls of `aggs`.
    pub fn new(width: usize, aggs: &Aggregates) -> Self {
        GroupTable {
            width,
            ids: HashTable::new(),
            keys: Vec::new(),
            states: aggs.calls().iter().map(StateColumn::for_call).collect(),
            by_address: AddressCache::default(),
            key_heap: 0,
            key_sharers: 1,
        }
    }

    /// The same table, for windows of which `windows` hold each record.
    pub fn shared_by(self, windows: usize) -> Self {
        GroupTable {
            key_sharers: windows.max(1),
            ..self
        }
    }

    /// Groups held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The key of group `id`.
    pub fn key(&self, id: usize) -> &[Value] {
        &self.keys[id * self.width..(id + 1) * self.width]
    }

    /// The id of the group of `key`, created (with empty states) when it is
    /// new; with whether it was. Returns the change in bytes held.
    #[inline]
    pub fn find_or_insert(&mut self, key: &[Value], aggs: &Aggregates) -> (usize, bool, isize) {
        if let Some(id) = self.by_address.find(key) {
            return (id, false, 0);
        }
        let (id, new, grown) = self.find_or_insert_by_hash(key, aggs);
        let stored = AddressCache::address(self.key(id));
        let cache_before = self.by_address.bytes();
        self.by_address.note(AddressCache::address(key), stored, id);
        let cache_grown = self.by_address.bytes() - cache_before;
        (id, new, grown + cache_grown as isize)
    }

    fn find_or_insert_by_hash(&mut self, key: &[Value], aggs: &Aggregates) -> (usize, bool, isize) {
        let hash = KEY_HASH.hash_one(key);
        let (width, keys) = (self.width, &self.keys);
        let key_of = |id: u32| &keys[id as usize * width..(id as usize + 1) * width];
        if let Some(&id) = self.ids.find(hash, |&id| key_of(id) == key) {
            return (id as usize, false, 0);
        }
        let before = self.structure_bytes();
        // Ids fit in u32: 4G groups would take hundreds of GB, far past any
        // state limit, before they ran out.
        let id = self.ids.len() as u32;
        self.ids
            .insert_unique(hash, id, |&id| KEY_HASH.hash_one(key_of(id)));
        self.keys.extend_from_slice(key);
        let key_heap = key.iter().map(value_heap).sum::<usize>() / self.key_sharers;
        self.key_heap += key_heap;
        let state_heap: usize = self
            .states
            .iter_mut()
            .zip(aggs.calls())
            .map(|(column, call)| column.push_group(call))
            .sum();
        let grown = self.structure_bytes() + key_heap + state_heap;
        (id as usize, true, grown as isize - before as isize)
    }

    /// Adds `row` to group `id`'s states; returns the change in heap bytes.
    #[inline]
    pub fn update(&mut self, id: usize, row: &[Value], aggs: &Aggregates) -> isize {
        self.states
            .iter_mut()
            .zip(aggs.calls())
            .map(|(column, call)| update_call(call, &mut column.entry(id), row))
            .sum()
    }

    /// Adds the rows `rows` to the groups `ids` (one id per row) a call at
    /// a time; returns the change in heap bytes.
    pub fn update_rows(&mut self, ids: &[usize], rows: &[&[Value]], aggs: &Aggregates) -> isize {
        self.states
            .iter_mut()
            .zip(aggs.calls())
            .map(|(column, call)| column.update_rows(call, ids, rows))
            .sum()
    }

    /// An empty table for the same keys and calls.
    pub fn empty_like(&self, aggs: &Aggregates) -> GroupTable {
        GroupTable::new(self.width, aggs).shared_by(self.key_sharers)
    }

    /// Folds group `theirs` of `other` (a table of the same calls holding
    /// later inputs) into this table's group of the same key, created when
    /// new; returns the change in bytes held.
    pub fn merge_group(&mut self, other: &GroupTable, theirs: usize, aggs: &Aggregates) -> isize {
        let (mine, _, grown) = self.find_or_insert(other.key(theirs), aggs);
        let merged: isize = self
            .states
            .iter_mut()
            .zip(&other.states)
            .map(|(column, their_column)| column.merge_entry(mine, their_column, theirs))
            .sum();
        grown + merged
    }

    /// Appends group `id`'s aggregate results, typed as the plan says.
    pub fn results_into(&self, id: usize, aggs: &Aggregates, out: &mut Vec<Value>) {
        let calls = aggs.calls().iter();
        out.extend(
            self.states
                .iter()
                .zip(calls)
                .map(|(column, call)| column.result(id, call)),
        );
    }

    /// Reads a little of each group of `ids` (its first key value's kind,
    /// its state entries) and discards it. The reads do not depend on one
    /// another, so their cache misses overlap; the groups are then read from
    /// cache. Walking the groups in key order, which is not the order they
    /// are stored in, misses once per group otherwise.
    pub fn touch(&self, ids: &[usize]) {
        let mut seen = 0u64;
        for &id in ids {
            let key = self.keys.get(id * self.width);
            seen ^= u64::from(key.is_some_and(Value::is_null));
            seen ^= self
                .states
                .iter()
                .map(|s| s.touch(id))
                .fold(0, |a, b| a ^ b);
        }
        std::hint::black_box(seen);
    }

    /// Group ids in key order (keys are unique, so the order is total).
    /// Sorted by the first key value's [`Value::sort_prefix`] first when
    /// all of them are of one kind, and then by the second's when the first
    /// prefixes are exact (equal prefixes only for equal values) and the
    /// second values are of one kind too, so that most comparisons read no
    /// key.
    pub fn ids_by_key(&self) -> Vec<usize> {
        let ids = 0..self.len();
        let value =
            |column: usize| move |id: usize| self.key(id).get(column).unwrap_or(&Value::Null);
        let one_kind = |column: usize| {
            let value = value(column);
            let kind = ids.clone().map(value).find(|v| !v.is_null());
            kind.is_some_and(|kind| ids.clone().all(|id| value(id).prefix_comparable(kind)))
        };
        let first = one_kind(0);
        let second = first
            && self.width >= 2
            && ids.clone().all(|id| value(0)(id).prefix_is_exact())
            && one_kind(1);
        let prefix = |column: usize, usable: bool, id: usize| match usable {
            true => value(column)(id).sort_prefix(),
            false => 0,
        };
        let mut sorted: Vec<(u64, u64, u32)> = ids
            .map(|id| (prefix(0, first, id), prefix(1, second, id), id as u32))
            .collect();
        sorted.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| self.key(a.2 as usize).cmp(self.key(b.2 as usize)))
        });
        sorted.into_iter().map(|(_, _, id)| id as usize).collect()
    }

    /// Forgets every group, keeping the table's capacity for the next
    /// window; returns the heap bytes the groups held (keys and states).
    pub fn clear(&mut self) -> usize {
        let freed = self.key_heap
            + self
                .states
                .iter_mut()
                .map(StateColumn::clear)
                .sum::<usize>();
        self.ids.clear();
        self.by_address.clear();
        self.keys.clear();
        self.key_heap = 0;
        freed
    }

    /// Bytes of the table's own vectors and hash table (by capacity).
    pub fn structure_bytes(&self) -> usize {
        footprint::table::<u32>(self.ids.capacity())
            + self.by_address.bytes()
            + footprint::vec::<Value>(self.keys.capacity())
            + self
                .states
                .iter()
                .map(StateColumn::vector_bytes)
                .sum::<usize>()
    }
}

/// Slots of an [`AddressCache`]: a power of two.
const ADDRESS_SLOTS: usize = 1024;

/// Finds the group of a one-string key without hashing or comparing its
/// bytes when the string is the very allocation the table keeps as that
/// group's key: readers intern repeated strings, so the same key usually
/// comes back as the same `Arc`. A direct-mapped cache of (address, id).
///
/// Sound because an entry is made only for an address the table itself
/// holds (the group's stored key, kept until [`GroupTable::clear`], which
/// empties the cache): while that allocation lives no other string can
/// have its address, so a key found at it is that group's key.
#[derive(Clone, Debug, Default)]
struct AddressCache {
    /// (address, group id); address 0: empty. Allocated on first use.
    slots: Vec<(usize, u32)>,
}

impl AddressCache {
    /// Bytes of its slots.
    fn bytes(&self) -> usize {
        footprint::vec::<(usize, u32)>(self.slots.capacity())
    }

    /// The address of a one-string key's text.
    fn address(key: &[Value]) -> Option<usize> {
        match key {
            [Value::Str(s)] => Some(s.as_ptr() as usize),
            _ => None,
        }
    }

    fn slot(address: usize) -> usize {
        // Allocations are at least 16-byte aligned: drop the low bits.
        (address >> 4) & (ADDRESS_SLOTS - 1)
    }

    #[inline]
    fn find(&self, key: &[Value]) -> Option<usize> {
        let address = Self::address(key)?;
        match self.slots.get(Self::slot(address)) {
            Some(&(at, id)) if at == address => Some(id as usize),
            _ => None,
        }
    }

    /// Remembers group `id` for a key whose string is at `address` when
    /// that is where the table holds the group's key string (`stored`).
    fn note(&mut self, address: Option<usize>, stored: Option<usize>, id: usize) {
        let Some(address) = address.filter(|&a| Some(a) == stored) else {
            return;
        };
        if self.slots.is_empty() {
            self.slots = vec![(0, 0); ADDRESS_SLOTS];
        }
        self.slots[Self::slot(address)] = (address, id as u32);
    }

    fn clear(&mut self) {
        self.slots.iter_mut().for_each(|slot| *slot = (0, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataType;
    use crate::engine::test_plans::*;
    use crate::plan::AggregateFunction::{Count, Max, Sum};

    fn table() -> (GroupTable, Aggregates) {
        let aggs = Aggregates::new(&[
            agg(Count, None, DataType::BigInt),
            agg(Sum, Some(col(1, DataType::BigInt)), DataType::BigInt),
            agg(Max, Some(col(2, DataType::Varchar)), DataType::Varchar),
        ]);
        (GroupTable::new(1, &aggs), aggs)
    }

    fn results(table: &GroupTable, id: usize, aggs: &Aggregates) -> Vec<Value> {
        let mut out = Vec::new();
        table.results_into(id, aggs, &mut out);
        out
    }

    #[test]
    fn equal_keys_share_a_group_and_ids_are_dense() {
        let (mut t, aggs) = table();
        let rows = [
            vec![Value::Int(1), Value::Int(5), Value::str("b")],
            vec![Value::str("x"), Value::Int(2), Value::str("a")],
            // 1.0 equals 1, so it is the first group's key.
            vec![Value::Double(1.0), Value::Null, Value::str("c")],
        ];
        let mut ids = Vec::new();
        for row in &rows {
            let (id, new, _) = t.find_or_insert(&row[..1], &aggs);
            t.update(id, row, &aggs);
            ids.push((id, new));
        }
        assert_eq!(ids, vec![(0, true), (1, true), (0, false)]);
        assert_eq!(t.len(), 2);
        let first = vec![Value::Int(2), Value::Int(5), Value::str("c")];
        assert_eq!(results(&t, 0, &aggs), first);
        let second = vec![Value::Int(1), Value::Int(2), Value::str("a")];
        assert_eq!(results(&t, 1, &aggs), second);
        assert_eq!(t.ids_by_key(), vec![0, 1]);
    }

    use proptest::prelude::*;

    proptest! {
        /// Two-value keys (strings around the 7-byte exact prefix, with NUL
        /// bytes; numbers; NULLs) come out of `ids_by_key` in key order.
        #[test]
        fn ids_by_key_follow_the_keys_order(
            keys in proptest::collection::vec(
                (
                    proptest::option::of("[ab\u{0}]{0,9}"),
                    proptest::prop_oneof![
                        proptest::prelude::any::<i64>().prop_map(Value::Int),
                        (-3i64..3).prop_map(Value::Int),
                        proptest::prelude::Just(Value::Null),
                        "[ab]{0,9}".prop_map(|s| Value::str(&s)),
                    ],
                ),
                0..60,
            )
        ) {
            let aggs = Aggregates::new(&[agg(Count, None, DataType::BigInt)]);
            let mut t = GroupTable::new(2, &aggs);
            for (first, second) in &keys {
                let first = first.as_deref().map_or(Value::Null, Value::str);
                t.find_or_insert(&[first, second.clone()], &aggs);
            }
            let sorted: Vec<&[Value]> = t.ids_by_key().into_iter().map(|id| t.key(id)).collect();
            prop_assert!(sorted.windows(2).all(|w| w[0] < w[1]), "{:?}", sorted);
            prop_assert_eq!(sorted.len(), t.len());
        }
    }

    #[test]
    fn a_key_string_at_the_stored_address_finds_its_group_without_hashing() {
        let aggs = Aggregates::new(&[agg(Count, None, DataType::BigInt)]);
        let mut t = GroupTable::new(1, &aggs);
        let interned = Value::str("AAPL");
        let (id, _, _) = t.find_or_insert(std::slice::from_ref(&interned), &aggs);
        assert_eq!(t.by_address.find(std::slice::from_ref(&interned)), Some(id));
        // An equal string elsewhere is found by hash, and not cached.
        let copy = Value::str("AAPL");
        assert_eq!(t.by_address.find(std::slice::from_ref(&copy)), None);
        assert_eq!(t.find_or_insert(std::slice::from_ref(&copy), &aggs).0, id);
        assert_eq!(t.by_address.find(std::slice::from_ref(&copy)), None);
        // Clearing forgets the addresses with the keys.
        t.clear();
        assert_eq!(t.by_address.find(std::slice::from_ref(&interned)), None);
        let (other, new, _) = t.find_or_insert(&[Value::str("MSFT")], &aggs);
        assert!(new);
        assert_eq!(
            t.find_or_insert(std::slice::from_ref(&interned), &aggs).0,
            other + 1
        );
    }

    #[test]
    fn clearing_gives_back_what_the_groups_held() {
        let (mut t, aggs) = table();
        let mut held = 0isize;
        for i in 0..100 {
            let row = [
                Value::str(&format!("key {i}")),
                Value::Int(i),
                Value::str("long string value"),
            ];
            let (id, _, grown) = t.find_or_insert(&row[..1], &aggs);
            held += grown + t.update(id, &row, &aggs);
        }
        let structure = t.structure_bytes() as isize;
        assert!(held > structure, "keys and MAX strings are counted");
        assert_eq!(t.clear() as isize, held - structure);
        assert!(t.is_empty());
        assert_eq!(t.structure_bytes() as isize, structure, "capacity is kept");
    }
}
