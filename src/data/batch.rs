//! Batches: the unit records move in, between readers, engines and cores.

use super::Value;

/// A batch of rows of one width, stored row-major in one flat vector, each row
/// with its *position*: where it stands in the input (the byte offset of its line
/// in a file, the event number of a generator). Positions increase in input
/// order and are what EMIT CHANGES and stateless output are ordered by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    width: usize,
    values: Vec<Value>,
    positions: Vec<u64>,
}

impl Batch {
    pub fn new(width: usize) -> Self {
        Batch {
            width,
            values: Vec::new(),
            positions: Vec::new(),
        }
    }

    pub fn with_capacity(width: usize, rows: usize) -> Self {
        Batch {
            width,
            values: Vec::with_capacity(width * rows),
            positions: Vec::with_capacity(rows),
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Appends a row. Panics if `row` is not `width` long (a programming error).
    pub fn push_row(&mut self, row: &[Value], position: u64) {
        assert_eq!(row.len(), self.width, "row width does not match the batch");
        self.values.extend_from_slice(row);
        self.positions.push(position);
    }

    /// Appends a row by moving its values out of `row`, which is left empty.
    pub fn push_row_from(&mut self, row: &mut Vec<Value>, position: u64) {
        assert_eq!(row.len(), self.width, "row width does not match the batch");
        self.values.append(row);
        self.positions.push(position);
    }

    /// Appends a row that `write` pushes onto the batch's values in place
    /// (a generator's row, with no intermediate copy). Panics if it pushes
    /// other than `width` values (a programming error).
    pub fn push_row_with(&mut self, position: u64, write: impl FnOnce(&mut Vec<Value>)) {
        let before = self.values.len();
        write(&mut self.values);
        assert_eq!(
            self.values.len() - before,
            self.width,
            "row width does not match the batch"
        );
        self.positions.push(position);
    }

    /// Moves every row of `other` (same width) to the end of this batch,
    /// leaving `other` empty.
    pub fn append(&mut self, other: &mut Batch) {
        assert_eq!(other.width, self.width, "batch widths differ");
        self.values.append(&mut other.values);
        self.positions.append(&mut other.positions);
    }

    /// Row `index`, to move values out of.
    pub fn row_mut(&mut self, index: usize) -> &mut [Value] {
        &mut self.values[index * self.width..(index + 1) * self.width]
    }

    pub fn row(&self, index: usize) -> &[Value] {
        &self.values[index * self.width..(index + 1) * self.width]
    }

    pub fn position(&self, index: usize) -> u64 {
        self.positions[index]
    }

    pub fn positions(&self) -> &[u64] {
        &self.positions
    }

    /// Rows with their positions, in order.
    pub fn rows(&self) -> impl Iterator<Item = (&[Value], u64)> + '_ {
        // A zero-width batch still has rows (e.g. `SELECT COUNT(*)` needs none).
        (0..self.len()).map(move |i| (self.row(i), self.positions[i]))
    }

    pub fn clear(&mut self) {
        self.values.clear();
        self.positions.clear();
    }

    /// Moves every row of `narrower` to the end of this batch, widening
    /// each: after a row's values are moved, `widen(values, start)` pushes
    /// the rest of the row onto `values`, where the row starts at `start`.
    /// `narrower` is left empty. Panics if `widen` pushes other than the
    /// difference in width (a programming error).
    pub fn extend_widened(
        &mut self,
        narrower: &mut Batch,
        mut widen: impl FnMut(&mut Vec<Value>, usize),
    ) {
        let from = narrower.width;
        assert!(from <= self.width, "cannot widen into a narrower batch");
        self.values.reserve(narrower.len() * self.width);
        let mut moved = narrower.values.drain(..);
        for _ in 0..narrower.positions.len() {
            let start = self.values.len();
            self.values.extend(moved.by_ref().take(from));
            widen(&mut self.values, start);
            assert_eq!(
                self.values.len() - start,
                self.width,
                "row width does not match the batch"
            );
        }
        drop(moved);
        self.positions.append(&mut narrower.positions);
    }

    /// Moves all rows out, leaving an empty batch with the same capacity hint.
    pub fn take(&mut self) -> Batch {
        let rows = self.len();
        std::mem::replace(self, Batch::with_capacity(self.width, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_positions() {
        let mut b = Batch::new(2);
        b.push_row(&[Value::Int(1), Value::str("a")], 10);
        let mut row = vec![Value::Int(2), Value::Null];
        b.push_row_from(&mut row, 20);
        assert!(row.is_empty());
        assert_eq!(b.len(), 2);
        let rows: Vec<_> = b.rows().collect();
        assert_eq!(rows[1].0, &[Value::Int(2), Value::Null]);
        assert_eq!(rows[1].1, 20);
        let taken = b.take();
        assert!(b.is_empty());
        assert_eq!(taken.len(), 2);
    }

    #[test]
    fn widening_moves_rows_and_keeps_positions() {
        let mut narrow = Batch::new(1);
        narrow.push_row(&[Value::Int(1)], 5);
        narrow.push_row(&[Value::Int(2)], 9);
        let mut wide = Batch::new(2);
        wide.extend_widened(&mut narrow, |values, start| {
            let doubled = values[start]
                .as_i64()
                .map_or(Value::Null, |v| Value::Int(v * 2));
            values.push(doubled);
        });
        assert!(narrow.is_empty());
        let rows: Vec<_> = wide.rows().collect();
        assert_eq!(rows[0], (&[Value::Int(1), Value::Int(2)][..], 5));
        assert_eq!(rows[1], (&[Value::Int(2), Value::Int(4)][..], 9));
    }

    #[test]
    fn zero_width_rows_count() {
        let mut b = Batch::new(0);
        b.push_row(&[], 1);
        b.push_row(&[], 2);
        assert_eq!(b.rows().count(), 2);
    }
}
