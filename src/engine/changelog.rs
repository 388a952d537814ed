//! What a change of one group's output row emits. With a changelog, each
//! row starts with its row kind (Flink's `+I`, `-U`, `+U`, `-D`): an update
//! retracts the old row before it adds the new one, and a row that HAVING
//! stops admitting is deleted. Without one, only the new row is emitted.
//! Either way a row equal to the one the group had emits nothing.

use super::partition::{Output, OutputRow, RowOrder};
use crate::data::Value;
use crate::plan::RowKind;

/// The rows one record causes, in the order they are made.
pub struct RecordRows<'a> {
    pub out: &'a mut Output,
    position: u64,
    seq: u32,
}

impl<'a> RecordRows<'a> {
    pub fn new(out: &'a mut Output, position: u64) -> Self {
        RecordRows {
            out,
            position,
            seq: 0,
        }
    }

    fn push(&mut self, values: Vec<Value>) {
        self.out.rows.push(OutputRow {
            values,
            order: RowOrder::Position {
                position: self.position,
                seq: self.seq,
            },
        });
        self.seq += 1;
    }
}

/// Whether output rows carry a row kind, and the rows a change emits.
#[derive(Clone, Debug)]
pub struct Changelog {
    /// The `op` values by [`RowKind`] (shared strings, so a row takes no
    /// allocation for its kind); `None` without a changelog.
    kinds: Option<[Value; 4]>,
}

impl Changelog {
    pub fn new(on: bool) -> Self {
        let kind = |k: RowKind| Value::str(k.text());
        Changelog {
            kinds: on.then(|| {
                [
                    kind(RowKind::Insert),
                    kind(RowKind::UpdateBefore),
                    kind(RowKind::UpdateAfter),
                    kind(RowKind::Delete),
                ]
            }),
        }
    }

    /// Starts an output row: with a changelog, its `op` column, `+I` until
    /// [`Changelog::emit`] says otherwise.
    pub fn start_row(&self, values: &mut Vec<Value>) {
        if let Some(kinds) = &self.kinds {
            values.push(kinds[RowKind::Insert as usize].clone());
        }
    }

    /// Emits the change of one group's output row from `before` to `after`
    /// (`None`: the group had no row, is new, or HAVING rejects it). Rows
    /// not emitted go back to `rows.out` for reuse.
    pub fn emit(
        &self,
        before: Option<Vec<Value>>,
        after: Option<Vec<Value>>,
        rows: &mut RecordRows,
    ) {
        let (before, after) = match (before, after) {
            (Some(b), Some(a)) if identical(&b, &a) => {
                rows.out.recycle_values(b);
                rows.out.recycle_values(a);
                return;
            }
            pair => pair,
        };
        let updated = before.is_some() && after.is_some();
        if let Some(mut row) = before {
            match &self.kinds {
                Some(_) => {
                    let kind = if updated {
                        RowKind::UpdateBefore
                    } else {
                        RowKind::Delete
                    };
                    self.set_kind(&mut row, kind);
                    rows.push(row);
                }
                None => rows.out.recycle_values(row),
            }
        }
        if let Some(mut row) = after {
            if updated {
                self.set_kind(&mut row, RowKind::UpdateAfter);
            }
            rows.push(row);
        }
    }

    fn set_kind(&self, row: &mut [Value], kind: RowKind) {
        if let (Some(kinds), Some(op)) = (&self.kinds, row.first_mut()) {
            *op = kinds[kind as usize].clone();
        }
    }
}

/// True when `a` and `b` would be written alike: equal values of the same
/// type (`Value`'s own equality takes `1` for `1.0`, and `-0.0` for `0.0`).
fn identical(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Decimal(x), Value::Decimal(y)) => x == y && x.scale == y.scale,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b) && a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Decimal;

    fn emitted(
        changelog: &Changelog,
        before: Option<&[Value]>,
        after: Option<&[Value]>,
    ) -> Vec<Vec<Value>> {
        let mut out = Output::default();
        let row = |values: &[Value]| {
            let mut row = Vec::new();
            changelog.start_row(&mut row);
            row.extend_from_slice(values);
            row
        };
        let mut rows = RecordRows::new(&mut out, 7);
        changelog.emit(before.map(row), after.map(row), &mut rows);
        let orders: Vec<RowOrder> = out.rows.iter().map(|r| r.order.clone()).collect();
        let expected: Vec<RowOrder> = (0..orders.len() as u32)
            .map(|seq| RowOrder::Position { position: 7, seq })
            .collect();
        assert_eq!(orders, expected);
        out.rows.into_iter().map(|r| r.values).collect()
    }

    fn kinded(kind: &str, values: &[Value]) -> Vec<Value> {
        let mut row = vec![Value::str(kind)];
        row.extend_from_slice(values);
        row
    }

    #[test]
    fn a_changelog_retracts_before_it_updates_and_deletes_what_having_drops() {
        let log = Changelog::new(true);
        let (a, b) = ([Value::Int(1)], [Value::Int(2)]);
        assert_eq!(emitted(&log, None, Some(&a)), vec![kinded("+I", &a)]);
        assert_eq!(
            emitted(&log, Some(&a), Some(&b)),
            vec![kinded("-U", &a), kinded("+U", &b)]
        );
        assert_eq!(emitted(&log, Some(&a), None), vec![kinded("-D", &a)]);
        assert!(emitted(&log, None, None).is_empty());
    }

    #[test]
    fn without_a_changelog_only_new_rows_are_emitted() {
        let plain = Changelog::new(false);
        let (a, b) = ([Value::Int(1)], [Value::Int(2)]);
        assert_eq!(emitted(&plain, None, Some(&a)), vec![a.to_vec()]);
        assert_eq!(emitted(&plain, Some(&a), Some(&b)), vec![b.to_vec()]);
        assert!(emitted(&plain, Some(&a), None).is_empty());
    }

    #[test]
    fn an_unchanged_row_emits_nothing_but_a_differently_written_one_does() {
        for log in [Changelog::new(true), Changelog::new(false)] {
            let a = [Value::str("k"), Value::Double(f64::NAN)];
            assert!(emitted(&log, Some(&a), Some(&a)).is_empty());
            for (x, y) in [
                (Value::Int(1), Value::Double(1.0)),
                (Value::Double(0.0), Value::Double(-0.0)),
                (
                    Value::Decimal(Decimal::new(15, 1)),
                    Value::Decimal(Decimal::new(150, 2)),
                ),
            ] {
                assert_eq!(x, y, "Value's equality takes them for one");
                assert!(!emitted(&log, Some(&[x]), Some(&[y])).is_empty());
            }
        }
    }
}
