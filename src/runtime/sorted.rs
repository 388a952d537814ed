//! ORDER BY: a sink that holds a bounded query's rows until the input has
//! ended, then writes them sorted (and cut at LIMIT), without ORDER BY's
//! hidden columns. Rows equal on every
//! key keep the ordering contract's order, the order they arrive in. With
//! LIMIT n only the best n rows (and at most as many again) are kept. A run
//! that does not complete writes none of them: the empty output is a prefix
//! of the sorted one.

use super::RunIo;
use crate::data::Value;
use crate::error::{Error, Result};
use crate::io::{Flushed, RowFormat, RowSink};
use crate::plan::{QueryPlan, SortKey};
use std::cmp::Ordering;

/// Makes `io` write `plan`'s result sorted when it has ORDER BY: the LIMIT
/// moves from the run (which would cut rows in arrival order) to the sort.
pub(crate) fn sorted_output(
    plan: &mut QueryPlan,
    mut io: RunIo,
    never_ends: bool,
) -> Result<RunIo> {
    if plan.order_by.is_empty() {
        return Ok(io);
    }
    if never_ends {
        return Err(Error::Usage(format!(
            "ORDER BY sorts the final result, and the input of '{}' never ends (a followed \
             file or an unbounded Kafka topic): drop ORDER BY, or read a bounded input",
            plan.source.name
        )));
    }
    let limit = io.limit.or(plan.limit);
    plan.limit = None;
    io.limit = None;
    let keys = plan.order_by.clone();
    io.sink = Box::new(SortedSink::new(io.sink, keys, limit, plan.output.len()));
    Ok(io)
}

struct SortedSink {
    inner: Box<dyn RowSink + Send>,
    keys: Vec<SortKey>,
    limit: Option<u64>,
    /// Values of a row that are written; ORDER BY's hidden columns follow.
    visible: usize,
    /// Rows with their arrival number (ties keep arrival order).
    rows: Vec<(Vec<Value>, u64)>,
    arrived: u64,
}

impl SortedSink {
    fn new(
        inner: Box<dyn RowSink + Send>,
        keys: Vec<SortKey>,
        limit: Option<u64>,
        visible: usize,
    ) -> Self {
        SortedSink {
            inner,
            keys,
            limit,
            visible,
            rows: Vec::new(),
            arrived: 0,
        }
    }

    fn compare(&self, a: &(Vec<Value>, u64), b: &(Vec<Value>, u64)) -> Ordering {
        SortKey::compare_rows(&self.keys, &a.0, &b.0).then(a.1.cmp(&b.1))
    }

    fn sort(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_unstable_by(|a, b| self.compare(a, b));
        if let Some(limit) = self.limit {
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        self.rows = rows;
    }
}

impl RowSink for SortedSink {
    fn write_row(&mut self, values: &[Value]) -> Result<()> {
        self.rows.push((values.to_vec(), self.arrived));
        self.arrived += 1;
        // With LIMIT n, sorting at 2n rows and keeping n bounds the memory.
        if let Some(limit) = self.limit.and_then(|l| usize::try_from(l).ok()) {
            if self.rows.len() >= limit.saturating_mul(2).max(1024) {
                self.sort();
            }
        }
        Ok(())
    }

    fn formatter(&self) -> Option<Box<dyn RowFormat + Send>> {
        None
    }

    fn end_of_chunk(&mut self) -> Result<()> {
        self.inner.end_of_chunk()
    }

    fn buffered_bytes(&self) -> usize {
        self.inner.buffered_bytes()
    }

    fn flush(&mut self, give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
        self.inner.flush(give_up)
    }

    fn settle(&mut self) -> Result<()> {
        self.inner.settle()
    }

    fn rows_written(&self) -> u64 {
        self.inner.rows_written()
    }

    fn input_complete(&mut self) -> Result<()> {
        self.sort();
        for (values, _) in std::mem::take(&mut self.rows) {
            self.inner
                .write_row(&values[..self.visible.min(values.len())])?;
        }
        self.inner.input_complete()
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Sends each flush's rows to the test.
    struct Collect {
        buffered: Vec<Vec<Value>>,
        written: u64,
        flushed: mpsc::Sender<Vec<Vec<Value>>>,
    }

    impl RowSink for Collect {
        fn write_row(&mut self, values: &[Value]) -> Result<()> {
            self.buffered.push(values.to_vec());
            Ok(())
        }
        fn buffered_bytes(&self) -> usize {
            self.buffered.len()
        }
        fn flush(&mut self, _give_up: &mut dyn FnMut() -> bool) -> Result<Flushed> {
            let rows = std::mem::take(&mut self.buffered);
            self.written += rows.len() as u64;
            let flushed = Flushed {
                rows: rows.len() as u64,
                complete: true,
            };
            let _ = self.flushed.send(rows);
            Ok(flushed)
        }
        fn rows_written(&self) -> u64 {
            self.written
        }
    }

    fn sorted(keys: Vec<SortKey>, limit: Option<u64>, rows: &[[Value; 2]]) -> Vec<Vec<Value>> {
        let (tx, rx) = mpsc::channel();
        let sink = Collect {
            buffered: Vec::new(),
            written: 0,
            flushed: tx,
        };
        let mut sorted = SortedSink::new(Box::new(sink), keys, limit, 2);
        for row in rows {
            sorted.write_row(row).expect("takes the row");
        }
        sorted.flush(&mut || false).expect("flushes");
        assert_eq!(sorted.rows_written(), 0, "nothing before the input ends");
        sorted.input_complete().expect("writes");
        sorted.flush(&mut || false).expect("flushes");
        rx.try_iter().flatten().collect()
    }

    fn key(column: usize, descending: bool, nulls_first: bool) -> SortKey {
        SortKey {
            column,
            descending,
            nulls_first,
        }
    }

    #[test]
    fn rows_are_sorted_by_each_key_in_turn_and_ties_keep_arrival_order() {
        use Value::{Int, Null};
        let rows = [
            [Int(2), Int(1)],
            [Null, Int(2)],
            [Int(1), Int(3)],
            [Int(2), Int(4)],
            [Int(1), Int(5)],
        ];
        let first = |out: Vec<Vec<Value>>| -> Vec<Value> {
            out.into_iter().map(|r| r[1].clone()).collect()
        };
        assert_eq!(
            first(sorted(vec![key(0, false, false)], None, &rows)),
            [Int(3), Int(5), Int(1), Int(4), Int(2)]
        );
        assert_eq!(
            first(sorted(vec![key(0, true, true)], None, &rows)),
            [Int(2), Int(1), Int(4), Int(3), Int(5)]
        );
        assert_eq!(
            first(sorted(
                vec![key(0, true, false), key(1, true, false)],
                Some(3),
                &rows
            )),
            [Int(4), Int(1), Int(5)]
        );
    }

    #[test]
    fn a_limit_keeps_the_best_rows_of_many() {
        let rows: Vec<[Value; 2]> = (0..10_000)
            .map(|i| [Value::Int((i * 7919) % 10_000), Value::Int(i)])
            .collect();
        let out = sorted(vec![key(0, true, false)], Some(3), &rows);
        let best: Vec<&Value> = out.iter().map(|r| &r[0]).collect();
        assert_eq!(
            best,
            [&Value::Int(9_999), &Value::Int(9_998), &Value::Int(9_997)]
        );
    }
}
