//! The join of two streams on the shard that owns a key: every row of both
//! sides kept by its key, and each arriving row paired with the other
//! side's rows of its key (a regular join: nothing is ever dropped, so the
//! state grows with the input; `--max-state-bytes` bounds it).
//!
//! Rows arrive shaped as the joined row (their own side's columns, the
//! other side's NULL, then the side column). A pair is written when its
//! second row arrives, in the order of that row's position; several pairs
//! of one row in the order the other side's rows arrived. A row with a NULL
//! in its key never matches: an outer side writes it at once with NULLs for
//! the other side; the rows an outer side kept that never matched are
//! written at the end of the input, by position (left before right on a
//! tie).

use super::eval::eval;
use super::footprint::{allocation, value_heap, Footprint};
use crate::data::Value;
use crate::plan::StreamJoin;
use ahash::AHashMap;
use std::mem::size_of;

/// One side's kept rows, in arrival order, in flat arrays (no allocation
/// per row), chained per key from its first row to its last.
#[derive(Debug, Clone)]
struct Side {
    /// Its own columns per row.
    width: usize,
    /// Row `i`'s values are `values[i * width..(i + 1) * width]`.
    values: Vec<Value>,
    positions: Vec<u64>,
    matched: Vec<bool>,
    /// The next row of the same key (`NO_ROW` for the last).
    next: Vec<usize>,
    /// Per key: its first and last row.
    keys: AHashMap<Vec<Value>, (usize, usize)>,
}

const NO_ROW: usize = usize::MAX;

impl Side {
    fn new(width: usize) -> Side {
        Side {
            width,
            values: Vec::new(),
            positions: Vec::new(),
            matched: Vec::new(),
            next: Vec::new(),
            keys: AHashMap::new(),
        }
    }

    fn rows(&self) -> usize {
        self.positions.len()
    }

    fn row(&self, index: usize) -> &[Value] {
        &self.values[index * self.width..(index + 1) * self.width]
    }

    /// The bytes its arrays hold (by capacity) and its keys.
    fn array_bytes(&self) -> usize {
        self.values.capacity() * size_of::<Value>()
            + self.positions.capacity() * size_of::<u64>()
            + self.matched.capacity()
            + self.next.capacity() * size_of::<usize>()
            + self.keys.capacity() * size_of::<(Vec<Value>, (usize, usize))>()
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
    /// Heap bytes of kept strings and key vectors (the arrays are measured
    /// by their capacity).
    heap: Footprint,
    /// Scratch: a row's key, and the joined row being written.
    key: Vec<Value>,
    joined: Vec<Value>,
}

impl StreamJoinOperator {
    pub fn new(join: &StreamJoin) -> StreamJoinOperator {
        StreamJoinOperator {
            join: join.clone(),
            sides: [Side::new(join.left_width), Side::new(join.right_width)],
            heap: Footprint::default(),
            key: Vec::new(),
            joined: Vec::with_capacity(join.side_column()),
        }
    }

    /// Pairs `row` (at `position`) with the other side's rows of its key,
    /// in their arrival order, calling `write` with each joined row; then
    /// keeps it.
    pub fn push(&mut self, row: &[Value], position: u64, mut write: impl FnMut(&[Value], Joined)) {
        let side = self.join.side_of(row);
        self.key.clear();
        let keys = &self.join.keys[side];
        self.key.extend(keys.iter().map(|k| eval(k, row)));
        let own = own_columns(&self.join, side, row);
        if self.key.iter().any(Value::is_null) {
            if self.join.kind.keeps_unmatched(side) {
                self.fill_unmatched(side, own);
                write(&self.joined, Joined::Unmatched { side });
            }
            return;
        }
        let other = &mut self.sides[1 - side];
        let mut at = other
            .keys
            .get(&self.key[..])
            .map_or(NO_ROW, |&(first, _)| first);
        let matched = at != NO_ROW;
        while at != NO_ROW {
            other.matched[at] = true;
            self.joined.clear();
            let theirs = &other.values[at * other.width..(at + 1) * other.width];
            let (first, second) = if side == 0 {
                (own, theirs)
            } else {
                (theirs, own)
            };
            self.joined.extend_from_slice(first);
            self.joined.extend_from_slice(second);
            write(&self.joined, Joined::Pair);
            at = other.next[at];
        }
        self.keep(side, own, position, matched);
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
            let lonely = (0..kept.rows()).filter(|&i| !kept.matched[i]);
            unmatched.extend(lonely.map(|i| (kept.positions[i], side, i)));
        }
        unmatched.sort_unstable();
        let mut own = Vec::new();
        for (position, side, index) in unmatched {
            own.clear();
            own.extend_from_slice(self.sides[side].row(index));
            self.fill_unmatched(side, &own);
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

    fn keep(&mut self, side: usize, own: &[Value], position: u64, matched: bool) {
        let kept = &mut self.sides[side];
        let index = kept.rows();
        self.heap.grow(own.iter().map(value_heap).sum::<usize>());
        kept.values.extend_from_slice(own);
        kept.positions.push(position);
        kept.matched.push(matched);
        kept.next.push(NO_ROW);
        match kept.keys.get_mut(&self.key[..]) {
            Some((_, last)) => {
                kept.next[*last] = index;
                *last = index;
            }
            None => {
                let key_bytes = allocation(self.key.len() * size_of::<Value>())
                    + self.key.iter().map(value_heap).sum::<usize>();
                self.heap.grow(key_bytes);
                kept.keys.insert(self.key.clone(), (index, index));
            }
        }
    }

    /// `joined` := `own` with NULLs for the other side.
    fn fill_unmatched(&mut self, side: usize, own: &[Value]) {
        let (left, right) = (self.join.left_width, self.join.right_width);
        self.joined.clear();
        if side == 1 {
            self.joined.resize(left, Value::Null);
        }
        self.joined.extend_from_slice(own);
        if side == 0 {
            self.joined.resize(left + right, Value::Null);
        }
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
    use crate::plan::{ScalarExpr, StreamJoinKind};

    /// Left (k, a), right (k, b): the key is each side's first column.
    fn join(kind: StreamJoinKind) -> StreamJoinOperator {
        StreamJoinOperator::new(&StreamJoin {
            kind,
            left_width: 2,
            right_width: 2,
            keys: [
                vec![ScalarExpr::column(0, DataType::BigInt)],
                vec![ScalarExpr::column(2, DataType::BigInt)],
            ],
        })
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
}
