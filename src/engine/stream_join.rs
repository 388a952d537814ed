//! The join of two streams on the shard that owns a key: the rows of both
//! sides kept by their key, and each arriving row paired with the other
//! side's rows of its key that meet the join's condition.
//!
//! A regular join keeps every row to the end of the input (the state grows
//! with it; `--max-state-bytes` bounds it). An interval join keeps a row
//! only until the watermark passes the last time a row of the other side
//! could pair with it; then the row is dropped, and written with NULLs for
//! the other side if its side is outer and it never matched. A row whose
//! event time the watermark has already passed is late, as in a window.
//!
//! Rows arrive shaped as the joined row (their own side's columns, the
//! other side's NULL, the side column, and an interval join's time column).
//! A pair is written when its second row arrives, in the order of that
//! row's position; several pairs of one row in the order the other side's
//! rows arrived. A row with a NULL in its key (or an interval join's row
//! without an event time) never matches: an outer side writes it at once.
//! Unmatched rows an interval join drops are written by position (left
//! before right on a tie) at the watermark that dropped them; a regular
//! join's at the end of the input.

use super::eval::{eval, is_true};
use super::footprint::{allocation, value_heap, Footprint};
use super::grouped::Outcome;
use super::route::time_value;
use crate::data::Value;
use crate::plan::{ScalarExpr, StreamJoin};
use ahash::AHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::mem::size_of;

const NO_ROW: usize = usize::MAX;

/// One side's kept rows in flat arrays of slots (no allocation per row; a
/// dropped row's slot is reused), chained per key in arrival order.
#[derive(Debug, Clone)]
struct Side {
    /// Its own columns per row.
    width: usize,
    /// Slot `i`'s values are `values[i * width..(i + 1) * width]`.
    values: Vec<Value>,
    positions: Vec<u64>,
    matched: Vec<bool>,
    /// The next and the previous row of the same key (`NO_ROW` at the ends).
    next: Vec<usize>,
    previous: Vec<usize>,
    /// Per key: its first and last row.
    keys: KeyChains,
    /// Slots of dropped rows, to reuse.
    free: Vec<usize>,
    /// An interval join's rows by the time after which none can pair.
    expiry: BinaryHeap<Reverse<(i64, usize)>>,
}

impl Side {
    fn new(width: usize) -> Side {
        Side {
            width,
            values: Vec::new(),
            positions: Vec::new(),
            matched: Vec::new(),
            next: Vec::new(),
            previous: Vec::new(),
            keys: KeyChains::default(),
            free: Vec::new(),
            expiry: BinaryHeap::new(),
        }
    }

    /// Rows kept.
    fn rows(&self) -> usize {
        self.positions.len() - self.free.len()
    }

    fn row(&self, slot: usize) -> &[Value] {
        &self.values[slot * self.width..(slot + 1) * self.width]
    }

    /// The slots of kept rows (dropped ones are marked by `u64::MAX`).
    fn kept_slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.positions.len()).filter(|&s| self.positions[s] != u64::MAX)
    }

    /// A slot for a new row at `position` (its values still to be set).
    fn new_slot(&mut self, position: u64, matched: bool) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.positions[slot] = position;
                self.matched[slot] = matched;
                slot
            }
            None => {
                let slot = self.positions.len();
                self.values.resize((slot + 1) * self.width, Value::Null);
                self.positions.push(position);
                self.matched.push(matched);
                self.next.push(NO_ROW);
                self.previous.push(NO_ROW);
                slot
            }
        }
    }

    /// Chains `slot` last among the rows of `key`; returns true for a new key.
    fn link(&mut self, slot: usize, key: &[Value]) -> bool {
        self.next[slot] = NO_ROW;
        match self.keys.get_mut(key) {
            Some((_, last)) => {
                self.next[*last] = slot;
                self.previous[slot] = *last;
                *last = slot;
                false
            }
            None => {
                self.previous[slot] = NO_ROW;
                self.keys.insert(key, (slot, slot));
                true
            }
        }
    }

    /// Takes `slot` out of the chain of `key`; returns true when that was
    /// the key's last row (the key is then forgotten).
    fn unlink(&mut self, slot: usize, key: &[Value]) -> bool {
        let (previous, next) = (self.previous[slot], self.next[slot]);
        if previous != NO_ROW {
            self.next[previous] = next;
        }
        if next != NO_ROW {
            self.previous[next] = previous;
        }
        let Some(ends) = self.keys.get_mut(key) else {
            return false;
        };
        if ends.0 == slot {
            ends.0 = next;
        }
        if ends.1 == slot {
            ends.1 = previous;
        }
        if ends.0 != NO_ROW {
            return false;
        }
        self.keys.remove(key);
        true
    }

    /// The bytes its arrays hold (by capacity) and its keys.
    fn array_bytes(&self) -> usize {
        self.values.capacity() * size_of::<Value>()
            + self.positions.capacity() * size_of::<u64>()
            + self.matched.capacity()
            + (self.next.capacity() + self.previous.capacity() + self.free.capacity())
                * size_of::<usize>()
            + self.expiry.capacity() * size_of::<(i64, usize)>()
            + self.keys.table_bytes()
    }
}

/// The first and last row of each key. A one-value key (the common case)
/// is kept in place rather than as a vector: a lookup then follows no
/// pointer to compare it.
#[derive(Debug, Clone, Default)]
struct KeyChains {
    one: AHashMap<Value, (usize, usize)>,
    many: AHashMap<Vec<Value>, (usize, usize)>,
}

impl KeyChains {
    fn get(&self, key: &[Value]) -> Option<&(usize, usize)> {
        match key {
            [one] => self.one.get(one),
            _ => self.many.get(key),
        }
    }

    fn get_mut(&mut self, key: &[Value]) -> Option<&mut (usize, usize)> {
        match key {
            [one] => self.one.get_mut(one),
            _ => self.many.get_mut(key),
        }
    }

    fn insert(&mut self, key: &[Value], ends: (usize, usize)) {
        match key {
            [one] => self.one.insert(one.clone(), ends),
            _ => self.many.insert(key.to_vec(), ends),
        };
    }

    fn remove(&mut self, key: &[Value]) {
        match key {
            [one] => self.one.remove(one),
            _ => self.many.remove(key),
        };
    }

    /// The bytes of the tables (by capacity).
    fn table_bytes(&self) -> usize {
        self.one.capacity() * size_of::<(Value, (usize, usize))>()
            + self.many.capacity() * size_of::<(Vec<Value>, (usize, usize))>()
    }
}

/// Where a joined row comes from, for its place in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    /// A pair, completed by the row at this position.
    Pair,
    /// A row of `side` with no match (the other side's columns NULL).
    Unmatched { side: usize },
}

/// One partition's join of two streams.
#[derive(Debug, Clone)]
pub struct StreamJoinOperator {
    join: StreamJoin,
    sides: [Side; 2],
    /// Rows older than this are late (an interval join's watermark less
    /// the allowed lateness).
    watermark: i64,
    lateness_ms: i64,
    /// Heap bytes of kept strings and key vectors (the arrays are measured
    /// by their capacity).
    heap: Footprint,
    /// Each side's key over its own columns (a kept row's).
    own_keys: [Vec<ScalarExpr>; 2],
    /// Scratch: a row's key, and the joined row being written.
    key: Vec<Value>,
    joined: Vec<Value>,
}

impl StreamJoinOperator {
    pub fn new(join: &StreamJoin, lateness_ms: i64) -> StreamJoinOperator {
        StreamJoinOperator {
            join: join.clone(),
            sides: [Side::new(join.left_width), Side::new(join.right_width)],
            watermark: i64::MIN,
            lateness_ms,
            heap: Footprint::default(),
            own_keys: [0, 1].map(|side| own_keys(join, side)),
            key: Vec::new(),
            joined: Vec::with_capacity(join.side_column()),
        }
    }

    /// Pairs `row` (at `position`) with the other side's rows of its key,
    /// in their arrival order, calling `write` with each joined row that
    /// meets the condition; then keeps it. An interval join's row the
    /// watermark has passed is late, and neither paired nor kept.
    pub fn push(
        &mut self,
        row: &[Value],
        position: u64,
        mut write: impl FnMut(&[Value], Joined),
    ) -> Outcome {
        let side = self.join.side_of(row);
        let time = self.event_time(row);
        let interval = self.join.interval;
        let late = |t: &i64| interval.is_some_and(|i| i.is_late(*t, self.watermark));
        if let Some(time) = time.filter(late) {
            return Outcome::Late(time);
        }
        self.key.clear();
        let keys = &self.join.keys[side];
        self.key.extend(keys.iter().map(|k| eval(k, row)));
        let own = own_columns(&self.join, side, row);
        let timeless = self.join.interval.is_some() && time.is_none();
        if timeless || self.key.iter().any(Value::is_null) {
            if self.join.kind.keeps_unmatched(side) {
                fill_unmatched(&self.join, &mut self.joined, side, own);
                write(&self.joined, Joined::Unmatched { side });
            }
            return Outcome::Processed;
        }
        let matched = self.pair(side, own, &mut write);
        self.keep(side, own, position, matched, time);
        Outcome::Processed
    }

    /// Writes the pairs of `own` (a row of `side`) with the other side's
    /// rows of the key in `self.key`; true when there was one.
    fn pair(
        &mut self,
        side: usize,
        own: &[Value],
        write: &mut impl FnMut(&[Value], Joined),
    ) -> bool {
        let other = &mut self.sides[1 - side];
        let mut at = other
            .keys
            .get(&self.key[..])
            .map_or(NO_ROW, |&(first, _)| first);
        let mut matched = false;
        while at != NO_ROW {
            self.joined.clear();
            let theirs = &other.values[at * other.width..(at + 1) * other.width];
            let (first, second) = if side == 0 {
                (own, theirs)
            } else {
                (theirs, own)
            };
            self.joined.extend_from_slice(first);
            self.joined.extend_from_slice(second);
            let meets = self
                .join
                .condition
                .as_ref()
                .is_none_or(|c| is_true(c, &self.joined));
            if meets {
                other.matched[at] = true;
                matched = true;
                write(&self.joined, Joined::Pair);
            }
            at = other.next[at];
        }
        matched
    }

    /// Moves an interval join's watermark to `watermark`: drops the rows no
    /// later row can pair with, writing (with each row's position) those
    /// of an outer side that never matched, by position, left first.
    pub fn advance_watermark(
        &mut self,
        watermark: i64,
        mut write: impl FnMut(&[Value], u64, Joined),
    ) {
        if self.join.interval.is_none() {
            return;
        }
        let oldest_pairable = watermark.saturating_sub(self.lateness_ms);
        if oldest_pairable <= self.watermark {
            return;
        }
        self.watermark = oldest_pairable;
        let mut unmatched: Vec<(u64, usize, Vec<Value>)> = Vec::new();
        for side in 0..2 {
            while let Some(&Reverse((until, slot))) = self.sides[side].expiry.peek() {
                if until >= oldest_pairable {
                    break;
                }
                self.sides[side].expiry.pop();
                if let Some(lonely) = self.drop_row(side, slot) {
                    unmatched.push(lonely);
                }
            }
        }
        unmatched.sort_unstable_by_key(|(position, side, _)| (*position, *side));
        for (position, side, own) in unmatched {
            fill_unmatched(&self.join, &mut self.joined, side, &own);
            write(&self.joined, position, Joined::Unmatched { side });
        }
    }

    /// The oldest event time in the time column of `side` that a row the
    /// join writes from now on can have (`i64::MIN` for a regular join):
    /// what an operator after the join may take as its watermark.
    pub fn oldest_written(&self, side: usize) -> i64 {
        match self.join.interval {
            Some(interval) => interval.oldest_written(side, self.watermark),
            None => i64::MIN,
        }
    }

    /// The watermark rows are late against (`i64::MIN` before the first).
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// At the end of the input: writes the rows an outer side kept that
    /// never matched, by position (left first on a tie), with each row's
    /// position.
    pub fn finish(&mut self, mut write: impl FnMut(&[Value], u64, Joined)) {
        let mut unmatched: Vec<(u64, usize, usize)> = Vec::new();
        for side in 0..2 {
            if !self.join.kind.keeps_unmatched(side) {
                continue;
            }
            let kept = &self.sides[side];
            let lonely = kept.kept_slots().filter(|&s| !kept.matched[s]);
            unmatched.extend(lonely.map(|s| (kept.positions[s], side, s)));
        }
        unmatched.sort_unstable();
        let mut own = Vec::new();
        for (position, side, slot) in unmatched {
            own.clear();
            own.extend_from_slice(self.sides[side].row(slot));
            fill_unmatched(&self.join, &mut self.joined, side, &own);
            write(&self.joined, position, Joined::Unmatched { side });
        }
    }

    /// Rows kept, both sides.
    pub fn kept_rows(&self) -> usize {
        self.sides[0].rows() + self.sides[1].rows()
    }

    /// An estimate of the bytes the kept rows and their keys hold.
    pub fn state_bytes(&self) -> usize {
        self.heap.bytes() + self.sides[0].array_bytes() + self.sides[1].array_bytes()
    }

    /// An interval join's row's own event time (`None` for a regular join).
    fn event_time(&self, row: &[Value]) -> Option<i64> {
        self.join.interval?;
        row.get(self.join.time_column()).and_then(time_value)
    }

    fn keep(
        &mut self,
        side: usize,
        own: &[Value],
        position: u64,
        matched: bool,
        time: Option<i64>,
    ) {
        let kept = &mut self.sides[side];
        let slot = kept.new_slot(position, matched);
        let values = &mut kept.values[slot * kept.width..(slot + 1) * kept.width];
        match self.join.columns_read[side].as_slice() {
            [] => values.clone_from_slice(own),
            read => {
                for ((value, own), read) in values.iter_mut().zip(own).zip(read) {
                    match read {
                        true => value.clone_from(own),
                        false => *value = Value::Null,
                    }
                }
            }
        }
        self.heap.grow(values.iter().map(value_heap).sum::<usize>());
        if kept.link(slot, &self.key) {
            self.heap.grow(key_bytes(&self.key));
        }
        if let (Some(interval), Some(time)) = (self.join.interval, time) {
            kept.expiry
                .push(Reverse((interval.pairs_until(side, time), slot)));
        }
    }

    /// Forgets the row in `slot` of `side`; returns it (position, side,
    /// values) when it is to be written as unmatched.
    fn drop_row(&mut self, side: usize, slot: usize) -> Option<(u64, usize, Vec<Value>)> {
        let kept = &mut self.sides[side];
        let width = kept.width;
        let values = &mut kept.values[slot * width..(slot + 1) * width];
        self.key.clear();
        let keys = &self.own_keys[side];
        self.key.extend(keys.iter().map(|k| eval(k, values)));
        self.heap
            .shrink(values.iter().map(value_heap).sum::<usize>());
        let lonely = !kept.matched[slot] && self.join.kind.keeps_unmatched(side);
        let own = match lonely {
            true => values.iter_mut().map(std::mem::take).collect(),
            false => {
                values.fill(Value::Null);
                Vec::new()
            }
        };
        if kept.unlink(slot, &self.key) {
            self.heap.shrink(key_bytes(&self.key));
        }
        let position = kept.positions[slot];
        kept.positions[slot] = u64::MAX;
        kept.free.push(slot);
        lonely.then_some((position, side, own))
    }
}

/// The key of `side` over a row of its own columns: the joined row's key
/// with the columns moved to where they are in its own row.
fn own_keys(join: &StreamJoin, side: usize) -> Vec<ScalarExpr> {
    let mut keys = join.keys[side].clone();
    if side == 1 {
        for key in &mut keys {
            crate::plan::visit_columns_mut(key, &mut |c| *c -= join.left_width);
        }
    }
    keys
}

/// The bytes a kept key holds besides its table entry (a one-value key
/// holds no vector).
fn key_bytes(key: &[Value]) -> usize {
    let vector = match key {
        [_] => 0,
        _ => allocation(std::mem::size_of_val(key)),
    };
    vector + key.iter().map(value_heap).sum::<usize>()
}

/// `joined` := `own` (a row of `side`) with NULLs for the other side.
fn fill_unmatched(join: &StreamJoin, joined: &mut Vec<Value>, side: usize, own: &[Value]) {
    let (left, right) = (join.left_width, join.right_width);
    joined.clear();
    if side == 1 {
        joined.resize(left, Value::Null);
    }
    joined.extend_from_slice(own);
    if side == 0 {
        joined.resize(left + right, Value::Null);
    }
}

/// The columns of `side` in a joined-row-shaped source row.
fn own_columns<'r>(join: &StreamJoin, side: usize, row: &'r [Value]) -> &'r [Value] {
    let (left, right) = (join.left_width, join.right_width);
    match side {
        0 => &row[..left],
        _ => &row[left..left + right],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataType;
    use crate::plan::{JoinInterval, ScalarExpr, StreamJoinKind};

    /// Left (k, a), right (k, b): the key is each side's first column.
    fn join(kind: StreamJoinKind) -> StreamJoinOperator {
        StreamJoinOperator::new(&plan(kind, None), 0)
    }

    fn plan(kind: StreamJoinKind, interval: Option<JoinInterval>) -> StreamJoin {
        StreamJoin {
            kind,
            left_width: 2,
            right_width: 2,
            keys: [
                vec![ScalarExpr::column(0, DataType::BigInt)],
                vec![ScalarExpr::column(2, DataType::BigInt)],
            ],
            condition: None,
            interval,
            columns_read: [Vec::new(), Vec::new()],
        }
    }

    /// As `join`, where a is the left row's time and b the right's, and a
    /// right row pairs with left rows up to 10 ms before it (b - a in
    /// 0..=10; the condition is left to the planner: here only the bounds).
    fn interval_join(kind: StreamJoinKind) -> StreamJoinOperator {
        let interval = JoinInterval {
            time_columns: [1, 1],
            lower_ms: 0,
            upper_ms: 10,
            tumbling_ms: None,
        };
        StreamJoinOperator::new(&plan(kind, Some(interval)), 0)
    }

    /// A row with its time column (after the side column).
    fn timed(mut row: Vec<Value>) -> Vec<Value> {
        let time = if row[4] == Value::Bool(true) {
            row[3].clone()
        } else {
            row[1].clone()
        };
        row.push(time);
        row
    }

    fn left(k: Option<i64>, a: i64) -> Vec<Value> {
        let k = k.map_or(Value::Null, Value::Int);
        vec![
            k,
            Value::Int(a),
            Value::Null,
            Value::Null,
            Value::Bool(false),
        ]
    }

    fn right(k: i64, b: i64) -> Vec<Value> {
        vec![
            Value::Null,
            Value::Null,
            Value::Int(k),
            Value::Int(b),
            Value::Bool(true),
        ]
    }

    fn ints(row: &[Value]) -> Vec<Option<i64>> {
        row.iter()
            .map(|v| match v {
                Value::Int(i) => Some(*i),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_pair_is_written_when_its_second_row_arrives() {
        let mut j = join(StreamJoinKind::Inner);
        let mut out = Vec::new();
        let mut push = |j: &mut StreamJoinOperator, row: Vec<Value>, position| {
            j.push(&row, position, |joined, how| out.push((ints(joined), how)));
        };
        push(&mut j, left(Some(1), 10), 0);
        push(&mut j, left(Some(1), 11), 1);
        push(&mut j, right(2, 20), 2);
        push(&mut j, right(1, 21), 3);
        push(&mut j, left(Some(1), 12), 4);
        let pairs: Vec<Vec<Option<i64>>> = out.iter().map(|(row, _)| row.clone()).collect();
        assert_eq!(
            pairs,
            [
                vec![Some(1), Some(10), Some(1), Some(21)],
                vec![Some(1), Some(11), Some(1), Some(21)],
                vec![Some(1), Some(12), Some(1), Some(21)],
            ]
        );
        assert_eq!(j.kept_rows(), 5);
        assert!(j.state_bytes() > 5 * 2 * size_of::<Value>());
        let mut finished = 0;
        j.finish(|_, _, _| finished += 1);
        assert_eq!(finished, 0, "an inner join writes no unmatched rows");
    }

    #[test]
    fn a_kept_row_holds_only_the_columns_read_after_the_join() {
        // The left side's second column is read by nothing after the join.
        let mut narrow = plan(StreamJoinKind::Left, None);
        narrow.columns_read = [vec![true, false], vec![true, true]];
        let text = |k: i64, a: &str| {
            let text = Value::Str(a.repeat(100).into());
            vec![
                Value::Int(k),
                text,
                Value::Null,
                Value::Null,
                Value::Bool(false),
            ]
        };
        let mut joins = [
            StreamJoinOperator::new(&narrow, 0),
            join(StreamJoinKind::Left),
        ];
        let mut written = [Vec::new(), Vec::new()];
        for (j, written) in joins.iter_mut().zip(&mut written) {
            j.push(&text(1, "a"), 0, |_, _| {});
            j.push(&right(1, 21), 1, |joined, _| written.push(joined.to_vec()));
            // The arriving row pairs as it came.
            j.push(&text(1, "b"), 2, |joined, _| written.push(joined.to_vec()));
        }
        let long = |a: &str| Value::Str(a.repeat(100).into());
        let pair = |left: Value| vec![Value::Int(1), left, Value::Int(1), Value::Int(21)];
        assert_eq!(written[0], [pair(Value::Null), pair(long("b"))]);
        assert_eq!(written[1], [pair(long("a")), pair(long("b"))]);
        assert!(
            joins[0].state_bytes() + 200 <= joins[1].state_bytes(),
            "{} vs {}",
            joins[0].state_bytes(),
            joins[1].state_bytes()
        );
    }

    #[test]
    fn outer_sides_write_their_unmatched_rows_null_keys_at_once() {
        let mut j = join(StreamJoinKind::Full);
        let mut at_once = Vec::new();
        j.push(&left(None, 9), 5, |row, how| at_once.push((ints(row), how)));
        j.push(&left(Some(1), 10), 6, |_, _| {});
        j.push(&right(2, 20), 1, |_, _| {});
        j.push(&right(1, 21), 2, |_, _| {});
        assert_eq!(
            at_once,
            [(
                vec![None, Some(9), None, None],
                Joined::Unmatched { side: 0 }
            )]
        );
        let mut at_end = Vec::new();
        j.finish(|row, position, how| at_end.push((ints(row), position, how)));
        assert_eq!(
            at_end,
            [(
                vec![None, None, Some(2), Some(20)],
                1,
                Joined::Unmatched { side: 1 }
            )]
        );
    }

    #[test]
    fn an_interval_join_drops_rows_the_watermark_passed_and_writes_the_lonely_ones() {
        let mut j = interval_join(StreamJoinKind::Left);
        let mut pairs = Vec::new();
        for (row, position) in [
            (left(Some(1), 100), 0),
            (left(Some(2), 105), 1),
            (right(1, 108), 2),
        ] {
            let outcome = j.push(&timed(row), position, |r, how| pairs.push((ints(r), how)));
            assert_eq!(outcome, Outcome::Processed);
        }
        assert_eq!(pairs.len(), 1, "1 at 100 pairs with the right row at 108");
        assert_eq!(j.kept_rows(), 3);
        let mut dropped = Vec::new();
        // Left rows wait for right rows up to 10 ms later: 100 until 110.
        j.advance_watermark(111, |r, position, how| {
            dropped.push((ints(r), position, how))
        });
        assert_eq!(
            dropped,
            [],
            "the left row at 100 matched; the one at 105 waits to 115"
        );
        assert_eq!(j.kept_rows(), 1, "only the left row at 105 is still kept");
        j.advance_watermark(116, |r, position, how| {
            dropped.push((ints(r), position, how))
        });
        assert_eq!(
            dropped,
            [(
                vec![Some(2), Some(105), None, None],
                1,
                Joined::Unmatched { side: 0 }
            )]
        );
        assert_eq!(j.kept_rows(), 0);
        let late = j.push(&timed(right(2, 115)), 3, |_, _| {});
        assert_eq!(late, Outcome::Late(115), "the watermark passed its time");
        let on_time = j.push(&timed(left(Some(3), 116)), 4, |_, _| {});
        assert_eq!(on_time, Outcome::Processed);
    }

    #[test]
    fn slots_of_dropped_rows_are_reused_and_the_state_stays_bounded() {
        let mut j = interval_join(StreamJoinKind::Inner);
        let mut pairs = 0;
        let mut largest = 0;
        for t in 0..10_000i64 {
            let key = Some(t % 7);
            j.push(&timed(left(key, t)), 2 * t as u64, |_, _| pairs += 1);
            j.push(&timed(right(t % 7, t + 3)), 2 * t as u64 + 1, |_, _| {
                pairs += 1
            });
            j.advance_watermark(t - 20, |_, _, _| {});
            largest = largest.max(j.state_bytes());
        }
        assert!(pairs >= 10_000, "each right row pairs with its left row");
        assert!(j.kept_rows() < 100, "kept: {}", j.kept_rows());
        assert!(largest < 64 * 1024, "state grew to {largest} bytes");
    }
}
