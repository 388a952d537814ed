//! Window state: the watermark clock, aligned (tumbling, sliding and
//! cumulating) windows kept in end order, and per-key session windows that
//! merge. Each store
//! knows the earliest time one of its windows closes, so checking whether
//! anything closes is O(1) per record, and reports the bytes it takes or
//! gives back to a [`Footprint`].

use super::aggregate::{Aggregates, GroupState};
use super::footprint::{self, value_heap, Footprint};
use super::group_table::GroupTable;
use crate::data::Value;
use ahash::AHashMap;
use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::hash::{Hash, Hasher};
use std::mem::size_of;
use std::ops::Range;

/// A GROUP BY key as stored by [`SessionWindows`]. A one-column key (the common
/// case) is kept inline: no allocation and one pointer less to chase.
/// Hashes and compares as the slice of its values.
#[derive(Debug, Clone)]
pub enum GroupKey {
    One(Value),
    Many(Vec<Value>),
}

impl GroupKey {
    pub fn new(key: &[Value]) -> Self {
        match key {
            [one] => GroupKey::One(one.clone()),
            many => GroupKey::Many(many.to_vec()),
        }
    }

    pub fn as_slice(&self) -> &[Value] {
        match self {
            GroupKey::One(v) => std::slice::from_ref(v),
            GroupKey::Many(vs) => vs,
        }
    }

    /// Heap bytes the key holds: its strings, and the vector of a
    /// many-column key.
    pub fn heap_bytes(&self) -> usize {
        let values = self.as_slice().iter().map(value_heap).sum::<usize>();
        match self {
            GroupKey::One(_) => values,
            GroupKey::Many(vs) => values + footprint::vec::<Value>(vs.capacity()),
        }
    }
}

impl Borrow<[Value]> for GroupKey {
    fn borrow(&self) -> &[Value] {
        self.as_slice()
    }
}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for GroupKey {}

/// Event-time progress: the largest of (largest event time seen minus the
/// out-of-orderness) and every watermark given from outside. Never decreases.
#[derive(Debug, Clone)]
pub struct Clock {
    out_of_orderness: i64,
    watermark: i64,
    /// False: only watermarks given from outside move it.
    follows_records: bool,
}

impl Clock {
    pub fn new(out_of_orderness: i64) -> Self {
        Clock {
            out_of_orderness: out_of_orderness.max(0),
            watermark: i64::MIN,
            follows_records: true,
        }
    }

    /// A clock that only watermarks given from outside move.
    pub fn aligned_only(self) -> Self {
        Clock {
            follows_records: false,
            ..self
        }
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// A record with event time `t` was read.
    pub fn observe(&mut self, t: i64) {
        if self.follows_records {
            self.advance(t.saturating_sub(self.out_of_orderness));
        }
    }

    pub fn advance(&mut self, watermark: i64) {
        self.watermark = self.watermark.max(watermark);
    }
}

/// What one open window's entry in the ordered map of windows takes: its
/// end and table header, in B-tree nodes that are about half full.
const WINDOW_ENTRY_BYTES: usize = 2 * (size_of::<i64>() + size_of::<GroupTable>());

/// Windows aligned to the epoch, each known by its end (no two share one):
/// tumbling (`advance == size`) and sliding windows, `[s, s + size)` for every
/// multiple `s` of `advance`; and cumulating windows (Flink's CUMULATE),
/// `[s, s + step)`, `[s, s + 2 step)`, .. `[s, s + size)` for every multiple
/// `s` of `size`.
#[derive(Clone, Debug)]
pub struct AlignedWindows {
    size: i64,
    advance: i64,
    /// `Some(step)` for cumulating windows.
    step: Option<i64>,
    lateness: i64,
    /// Open windows by end: the order they close in.
    windows: BTreeMap<i64, GroupTable>,
    /// When the earliest open window closes (`i64::MAX`: none open).
    next_close: i64,
    /// Emptied tables kept for reuse, so a new window does not regrow its table.
    spare: Vec<GroupTable>,
    /// An empty table, copied for a window when no spare one is left.
    empty: GroupTable,
}

impl AlignedWindows {
    /// Windows of `size` every `advance`, closing `lateness` after their
    /// end, with their groups in tables like `empty`.
    pub fn new(size: i64, advance: i64, lateness: i64, empty: GroupTable) -> Self {
        AlignedWindows {
            size: size.max(1),
            advance: advance.max(1),
            step: None,
            lateness: lateness.max(0),
            windows: BTreeMap::new(),
            next_close: i64::MAX,
            spare: Vec::new(),
            empty,
        }
    }

    /// Cumulating windows: every `size`, windows growing by `step` (which
    /// divides `size`) from the same start.
    pub fn cumulating(size: i64, step: i64, lateness: i64, empty: GroupTable) -> Self {
        AlignedWindows {
            step: Some(step.max(1)),
            ..Self::new(size, size, lateness, empty)
        }
    }

    /// The start of the window ending at `end`.
    pub fn start_of(&self, end: i64) -> i64 {
        match self.step {
            None => end.saturating_sub(self.size),
            Some(_) => end
                .saturating_sub(1)
                .div_euclid(self.size)
                .saturating_mul(self.size),
        }
    }

    /// The first and last start of the sliding windows containing `t`
    /// (first > last when none does, which happens when `advance > size`).
    pub fn start_range(&self, t: i64) -> (i64, i64) {
        let last = t.div_euclid(self.advance).saturating_mul(self.advance);
        let first = t
            .saturating_sub(self.size)
            .div_euclid(self.advance)
            .saturating_add(1)
            .saturating_mul(self.advance);
        (first, last)
    }

    /// The ends of the windows containing `t` that are still open at
    /// `watermark`; `None` when no window contains `t` (sliding windows
    /// with gaps).
    pub fn open_ends(&self, t: i64, watermark: i64) -> Option<OpenEnds> {
        let (first, last, step) = match self.step {
            None => {
                let (first, last) = self.start_range(t);
                let end = |start: i64| start.saturating_add(self.size);
                (end(first), end(last), self.advance)
            }
            Some(step) => {
                let start = t.div_euclid(self.size).saturating_mul(self.size);
                let first = (t - start)
                    .div_euclid(step)
                    .saturating_add(1)
                    .saturating_mul(step);
                (
                    start.saturating_add(first),
                    start.saturating_add(self.size),
                    step,
                )
            }
        };
        (first <= last).then_some(OpenEnds {
            next: Some(first),
            last,
            step,
            lateness: self.lateness,
            watermark,
        })
    }

    /// The end of the last window that starts at or before `t` (the last
    /// window holding `t`, unless `t` falls in a gap between sliding
    /// windows); never smaller for a later `t`.
    pub fn last_end(&self, t: i64) -> i64 {
        let start = match self.step {
            None => self.start_range(t).1,
            Some(_) => t.div_euclid(self.size).saturating_mul(self.size),
        };
        start.saturating_add(self.size)
    }

    /// The open windows' groups, by end.
    pub fn tables(&self) -> impl Iterator<Item = (i64, &GroupTable)> + '_ {
        self.windows.iter().map(|(end, table)| (*end, table))
    }

    /// When the window ending at `end` closes.
    pub fn closes_at(&self, end: i64) -> i64 {
        end.saturating_add(self.lateness)
    }

    pub fn next_close(&self) -> i64 {
        self.next_close
    }

    /// The groups of the window ending at `end`, opening it if needed
    /// (a reused table was counted when it grew; a window's entry is counted here).
    pub fn window_mut(&mut self, end: i64, footprint: &mut Footprint) -> &mut GroupTable {
        let close = self.closes_at(end);
        let (spare, empty) = (&mut self.spare, &self.empty);
        let map = self.windows.entry(end).or_insert_with(|| {
            footprint.grow(WINDOW_ENTRY_BYTES);
            spare.pop().unwrap_or_else(|| empty.clone())
        });
        self.next_close = self.next_close.min(close);
        map
    }

    /// Removes and returns the earliest window (its end, its groups) if it
    /// closes at `watermark`.
    pub fn pop_closed(
        &mut self,
        watermark: i64,
        footprint: &mut Footprint,
    ) -> Option<(i64, GroupTable)> {
        if self.next_close > watermark {
            return None;
        }
        let closed = self.windows.pop_first();
        if closed.is_some() {
            footprint.shrink(WINDOW_ENTRY_BYTES);
        }
        self.next_close = self
            .windows
            .first_key_value()
            .map_or(i64::MAX, |(end, _)| self.closes_at(*end));
        closed
    }

    /// Groups held in open windows (one per window and key).
    pub fn open_groups(&self) -> usize {
        self.windows.values().map(GroupTable::len).sum()
    }

    /// Takes back an emptied table for a later window; one not kept is freed.
    pub fn recycle(&mut self, table: GroupTable, footprint: &mut Footprint) {
        if self.spare.len() < 2 {
            self.spare.push(table);
        } else {
            footprint.shrink(table.structure_bytes());
        }
    }
}

/// The ends of the open windows a record at one time belongs to, in order
/// (see [`AlignedWindows::open_ends`]).
#[derive(Clone, Debug)]
pub struct OpenEnds {
    next: Option<i64>,
    last: i64,
    step: i64,
    lateness: i64,
    watermark: i64,
}

impl Iterator for OpenEnds {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        while let Some(end) = self.next.filter(|&e| e <= self.last) {
            self.next = end.checked_add(self.step);
            // As `AlignedWindows::closes_at`.
            if end.saturating_add(self.lateness) > self.watermark {
                return Some(end);
            }
        }
        None
    }
}

/// One session of one key: `[start, end)`, `end` = last record time + gap.
#[derive(Clone, Debug)]
pub struct Session {
    pub start: i64,
    pub end: i64,
    pub state: GroupState,
}

/// Session windows per key. Two records of a key share a session when they
/// are less than `gap` apart (directly or through records between them).
#[derive(Clone, Debug)]
pub struct SessionWindows {
    gap: i64,
    lateness: i64,
    key_ids: AHashMap<GroupKey, u32>,
    /// Per key id: the key (empty while the id is free).
    keys: Vec<GroupKey>,
    free_ids: Vec<u32>,
    /// Per key id: open sessions, sorted by start, disjoint.
    sessions: Vec<Vec<Session>>,
    /// (close time, key id): at least one entry at or before the close time
    /// of every open session; stale entries are skipped when popped.
    closing: BinaryHeap<Reverse<(i64, u32)>>,
}

impl SessionWindows {
    pub fn new(gap: i64, lateness: i64) -> Self {
        SessionWindows {
            gap: gap.max(1),
            lateness: lateness.max(0),
            key_ids: AHashMap::new(),
            keys: Vec::new(),
            free_ids: Vec::new(),
            sessions: Vec::new(),
            closing: BinaryHeap::new(),
        }
    }

    pub fn gap(&self) -> i64 {
        self.gap
    }

    /// When a session ending at `end` closes.
    pub fn closes_at(&self, end: i64) -> i64 {
        end.saturating_add(self.lateness)
    }

    pub fn next_close(&self) -> i64 {
        self.closing
            .peek()
            .map_or(i64::MAX, |Reverse((close, _))| *close)
    }

    fn key_id(&mut self, key: &[Value], footprint: &mut Footprint) -> u32 {
        if let Some(id) = self.key_ids.get(key) {
            return *id;
        }
        let before = self.structure_bytes();
        let stored = GroupKey::new(key);
        // The key is held twice: by `key_ids` and by `keys`.
        footprint.grow(2 * stored.heap_bytes());
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.keys[id as usize] = stored.clone();
                id
            }
            None => {
                self.keys.push(stored.clone());
                self.sessions.push(Vec::new());
                (self.keys.len() - 1) as u32
            }
        };
        self.key_ids.insert(stored, id);
        footprint.resize(before, self.structure_bytes());
        id
    }

    /// Open sessions, over all keys.
    pub fn open_sessions(&self) -> usize {
        self.sessions.iter().map(Vec::len).sum()
    }

    /// Bytes of the tables and vectors that index keys and order closings.
    fn structure_bytes(&self) -> usize {
        footprint::table::<(GroupKey, u32)>(self.key_ids.capacity())
            + footprint::vec::<GroupKey>(self.keys.capacity())
            + footprint::vec::<u32>(self.free_ids.capacity())
            + footprint::vec::<Vec<Session>>(self.sessions.capacity())
            + footprint::vec::<Reverse<(i64, u32)>>(self.closing.capacity())
    }

    /// Number of keys with open sessions.
    #[cfg(test)]
    fn open_keys(&self) -> usize {
        self.key_ids.len()
    }

    /// The open sessions of `key` that a record at `t` joins, in start order:
    /// the first absorbs the others (see [`Self::add`]).
    pub fn overlapping(&self, key: &[Value], t: i64) -> &[Session] {
        match self.key_ids.get(key) {
            Some(id) => {
                let list = &self.sessions[*id as usize];
                &list[overlap(list, t, self.gap)]
            }
            None => &[],
        }
    }

    /// Adds a record at `t` for `key`: opens `[t, t + gap)`, merged with every
    /// session of the key it overlaps. Returns the session it ended up in.
    pub fn add(
        &mut self,
        key: &[Value],
        t: i64,
        aggs: &Aggregates,
        row: &[Value],
        footprint: &mut Footprint,
    ) -> &Session {
        let id = self.key_id(key, footprint);
        let (lo, hi) = (t, t.saturating_add(self.gap));
        let structure_before = self.structure_bytes();
        let list = &mut self.sessions[id as usize];
        let list_before = footprint::vec::<Session>(list.capacity());
        let Range {
            start: first,
            end: last,
        } = overlap(list, t, self.gap);
        if first >= last {
            let state = aggs.new_state();
            footprint.grow(aggs.state_bytes(&state));
            list.insert(
                first,
                Session {
                    start: lo,
                    end: hi,
                    state,
                },
            );
            let close = hi.saturating_add(self.lateness);
            self.closing.push(Reverse((close, id)));
        } else if last - first > 1 {
            let absorbed: Vec<Session> = list.drain(first + 1..last).collect();
            let base = &mut list[first];
            for other in absorbed {
                footprint.change(aggs.merge(&mut base.state, &other.state));
                footprint.shrink(aggs.state_bytes(&other.state));
                base.start = base.start.min(other.start);
                base.end = base.end.max(other.end);
            }
        }
        let list = &mut self.sessions[id as usize];
        footprint.resize(list_before, footprint::vec::<Session>(list.capacity()));
        let session = &mut list[first];
        session.start = session.start.min(lo);
        session.end = session.end.max(hi);
        footprint.change(aggs.update(&mut session.state, row));
        footprint.resize(structure_before, self.structure_bytes());
        &self.sessions[id as usize][first]
    }

    /// Removes every session that closes at `watermark`, handing each to `f`
    /// with its key (in no particular order; `f` owns the sessions' states
    /// from then on). Returns the bytes of the keys it forgot.
    pub fn pop_closed(&mut self, watermark: i64, mut f: impl FnMut(&[Value], Session)) -> usize {
        let mut forgotten = 0;
        while let Some(&Reverse((close, id))) = self.closing.peek() {
            if close > watermark {
                break;
            }
            self.closing.pop();
            let lateness = self.lateness;
            let list = &mut self.sessions[id as usize];
            let key = self.keys[id as usize].as_slice();
            let mut closed_any = false;
            let mut i = 0;
            while i < list.len() {
                if list[i].end.saturating_add(lateness) <= watermark {
                    f(key, list.remove(i));
                    closed_any = true;
                } else {
                    i += 1;
                }
            }
            if let Some(next) = list.iter().map(|s| s.end.saturating_add(lateness)).min() {
                self.closing.push(Reverse((next, id)));
            } else if closed_any {
                // The key has no session left: forget it and reuse its id.
                // A stale heap entry for the id can only close sessions
                // that are due anyway.
                forgotten += 2 * self.keys[id as usize].heap_bytes();
                self.key_ids.remove(key);
                self.keys[id as usize] = GroupKey::Many(Vec::new());
                self.free_ids.push(id);
            }
        }
        forgotten
    }
}

/// Where in `list` (sorted, disjoint sessions) the sessions that
/// `[t, t + gap)` overlaps are.
fn overlap(list: &[Session], t: i64, gap: i64) -> Range<usize> {
    let (lo, hi) = (t, t.saturating_add(gap));
    list.partition_point(|s| s.end <= lo)..list.partition_point(|s| s.start < hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataType;
    use crate::engine::test_plans::*;
    use crate::plan::AggregateFunction;

    fn aligned(size: i64, advance: i64, lateness: i64) -> AlignedWindows {
        let empty = GroupTable::new(1, &Aggregates::new(&[]));
        AlignedWindows::new(size, advance, lateness, empty)
    }

    #[test]
    fn tumbling_membership_floors_negative_times() {
        let w = aligned(10, 10, 0);
        assert_eq!(w.start_range(7), (0, 0));
        assert_eq!(w.start_range(10), (10, 10));
        assert_eq!(w.start_range(-1), (-10, -10));
        assert_eq!(w.start_range(-10), (-10, -10));
    }

    #[test]
    fn sliding_membership() {
        let w = aligned(10_000, 5_000, 0);
        assert_eq!(w.start_range(7_000), (0, 5_000));
        assert_eq!(w.start_range(5_000), (0, 5_000));
        assert_eq!(w.start_range(4_999), (-5_000, 0));
        let gappy = aligned(2, 5, 0);
        let (first, last) = gappy.start_range(3);
        assert!(first > last);
        assert_eq!(gappy.start_range(6), (5, 5));
    }

    #[test]
    fn aligned_windows_close_in_end_order() {
        let mut w = aligned(10, 10, 5);
        let mut fp = Footprint::default();
        w.window_mut(30, &mut fp);
        w.window_mut(10, &mut fp);
        assert_eq!(w.next_close(), 15);
        assert!(w.pop_closed(14, &mut fp).is_none());
        assert_eq!(w.pop_closed(15, &mut fp).map(|(e, _)| e), Some(10));
        assert_eq!(w.next_close(), 35);
        assert!(w.pop_closed(34, &mut fp).is_none());
        assert_eq!(w.pop_closed(i64::MAX, &mut fp).map(|(e, _)| e), Some(30));
        assert_eq!(w.next_close(), i64::MAX);
        assert_eq!(w.start_of(30), 20);
    }

    #[test]
    fn cumulating_windows_grow_from_one_start() {
        let empty = GroupTable::new(1, &Aggregates::new(&[]));
        let w = AlignedWindows::cumulating(30, 10, 0, empty);
        let ends = |t, watermark| -> Vec<i64> {
            w.open_ends(t, watermark).into_iter().flatten().collect()
        };
        assert_eq!(ends(0, i64::MIN), [10, 20, 30]);
        assert_eq!(ends(15, i64::MIN), [20, 30]);
        assert_eq!(ends(29, i64::MIN), [30]);
        assert_eq!(ends(30, i64::MIN), [40, 50, 60]);
        assert_eq!(ends(-1, i64::MIN), [0]);
        assert_eq!(ends(15, 20), [30], "the window ending at 20 has closed");
        assert_eq!((w.start_of(10), w.start_of(30), w.start_of(40)), (0, 0, 30));
        assert_eq!(w.start_of(0), -30);
    }

    #[test]
    fn sessions_merge_when_a_record_bridges_them() {
        let aggs = Aggregates::new(&[agg(AggregateFunction::Count, None, DataType::BigInt)]);
        let mut s = SessionWindows::new(10, 0);
        let mut fp = Footprint::default();
        let key = [Value::str("k")];
        let a = s.add(&key, 0, &aggs, &[], &mut fp);
        assert_eq!((a.start, a.end), (0, 10));
        let b = s.add(&key, 15, &aggs, &[], &mut fp);
        assert_eq!((b.start, b.end), (15, 25));
        // Exactly `gap` after the last record: a new session, not a merge.
        let c = s.add(&key, 25, &aggs, &[], &mut fp);
        assert_eq!((c.start, c.end), (25, 35));
        // [8, 18) overlaps [0, 10) and [15, 25), not [25, 35): two merge.
        let d = s.add(&key, 8, &aggs, &[], &mut fp);
        assert_eq!((d.start, d.end), (0, 25));
        let mut closed = Vec::new();
        s.pop_closed(i64::MAX, |k, sess| {
            closed.push((k.to_vec(), sess.start, sess.end))
        });
        closed.sort_by_key(|c| c.1);
        assert_eq!(closed, vec![(key.to_vec(), 0, 25), (key.to_vec(), 25, 35)]);
        assert_eq!(s.next_close(), i64::MAX);
        assert_eq!(s.open_keys(), 0);
    }

    #[test]
    fn closed_session_keys_are_forgotten_and_ids_reused() {
        let aggs = Aggregates::new(&[agg(AggregateFunction::Count, None, DataType::BigInt)]);
        let mut s = SessionWindows::new(10, 0);
        let mut fp = Footprint::default();
        let (a, b) = ([Value::str("a")], [Value::str("b")]);
        s.add(&a, 0, &aggs, &[], &mut fp);
        s.add(&b, 5, &aggs, &[], &mut fp);
        let mut closed = Vec::new();
        s.pop_closed(10, |k, sess| closed.push((k.to_vec(), sess.end)));
        assert_eq!(closed, vec![(a.to_vec(), 10)]);
        assert_eq!(s.open_keys(), 1);
        // "c" takes a's freed id; b's session is untouched.
        let c = [Value::str("c")];
        s.add(&c, 7, &aggs, &[], &mut fp);
        s.add(&a, 8, &aggs, &[], &mut fp);
        assert_eq!(s.open_keys(), 3);
        closed.clear();
        s.pop_closed(i64::MAX, |k, sess| closed.push((k.to_vec(), sess.end)));
        closed.sort();
        assert_eq!(
            closed,
            vec![(a.to_vec(), 18), (b.to_vec(), 15), (c.to_vec(), 17)]
        );
        assert_eq!(s.open_keys(), 0);
    }

    #[test]
    fn group_keys_look_up_by_slice() {
        let mut map: AHashMap<GroupKey, i32> = AHashMap::new();
        map.insert(GroupKey::new(&[Value::str("a")]), 1);
        map.insert(GroupKey::new(&[Value::Int(1), Value::Null]), 2);
        map.insert(GroupKey::new(&[]), 3);
        assert_eq!(map.get(&[Value::str("a")][..]), Some(&1));
        assert_eq!(map.get(&[Value::Double(1.0), Value::Null][..]), Some(&2));
        assert_eq!(map.get(&[][..]), Some(&3));
        assert_eq!(map.get(&[Value::str("b")][..]), None);
    }

    #[test]
    fn clock_never_goes_back() {
        let mut c = Clock::new(5);
        c.observe(100);
        assert_eq!(c.watermark(), 95);
        c.observe(50);
        assert_eq!(c.watermark(), 95);
        c.advance(200);
        c.observe(150);
        assert_eq!(c.watermark(), 200);
    }
}
