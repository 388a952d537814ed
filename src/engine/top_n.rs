//! The Top-N operator: per partition, the N rows ranked first by ORDER BY
//! (rows tied on every key rank in arrival order).
//!
//! A row that ranks below the partition's N kept rows changes nothing and
//! is forgotten. One that ranks within them is inserted, and the last kept
//! row falls out when there were N. With EMIT CHANGES the rows that change
//! go out at once, ordered by the record that changed them: when the output
//! reads the row number, every rank from the new row's down changes its row
//! (`-U` the old, `+U` the new with a changelog); when it does not, only the
//! new row (`+I`) and the one pushed out (`-D`) do. With EMIT FINAL each
//! partition's rows go out at the end of the input, ordered by partition
//! key, then rank.
//!
//! State: the kept rows of every partition (at most N each), with their
//! ORDER BY values. A partition is never forgotten.
//!
//! RANK and DENSE_RANK by a value rank whole windows in a second stage
//! ([`TiesRanker`]): ties share a number, so the rows a bound keeps are
//! known only when all are in.

use super::changelog::{Changelog, RecordRows};
use super::eval::{eval, is_true};
use super::footprint::{self, value_heap, Footprint};
use super::grouped::Outcome;
use super::partition::{Output, OutputRow, RowOrder};
use crate::data::Value;
use crate::plan::{EmitMode, Ranking, ScalarExpr, SortKey, TopNPlan};
use ahash::AHashMap;
use std::cmp::Ordering;

/// A kept row: its ORDER BY values and source row.
#[derive(Clone)]
struct Ranked {
    order: Vec<Value>,
    row: Vec<Value>,
}

impl Ranked {
    /// Bytes its two vectors hold (its slot is the partition vector's).
    fn bytes(&self) -> usize {
        values_bytes(&self.order) + values_bytes(&self.row)
    }
}

fn values_bytes(values: &[Value]) -> usize {
    footprint::vec::<Value>(values.len()) + values.iter().map(value_heap).sum::<usize>()
}

/// Bytes a partition takes besides its key's values and its rows: its map
/// entry (the key vector and id) and its slot of the partitions.
const PARTITION_ENTRY_BYTES: usize =
    std::mem::size_of::<(Vec<Value>, usize)>() + std::mem::size_of::<Vec<Ranked>>() + 16;

/// How a kept row becomes an output row.
#[derive(Clone)]
struct Shape {
    qualify: Option<ScalarExpr>,
    projections: Vec<ScalarExpr>,
    changelog: Changelog,
    /// Scratch: the ranked row (source row, then the row number).
    ranked: Vec<Value>,
}

impl Shape {
    fn new(plan: &TopNPlan, changelog: bool) -> Self {
        Shape {
            qualify: plan.qualify.clone(),
            projections: plan.projections.clone(),
            changelog: Changelog::new(changelog),
            ranked: Vec::new(),
        }
    }

    /// The output row of `kept` at `rank` (0 for the first), unless QUALIFY
    /// rejects it.
    fn row(&mut self, kept: &Ranked, rank: usize, out: &mut Output) -> Option<Vec<Value>> {
        self.ranked.clear();
        self.ranked.extend_from_slice(&kept.row);
        self.ranked.push(Value::Int(rank as i64 + 1));
        if let Some(qualify) = &self.qualify {
            if !is_true(qualify, &self.ranked) {
                return None;
            }
        }
        let mut values = out.new_values(self.projections.len() + 1);
        self.changelog.start_row(&mut values);
        values.extend(self.projections.iter().map(|p| eval(p, &self.ranked)));
        Some(values)
    }
}

/// Every partition's kept rows: partitions by id, ids by partition key
/// (an id is found with one hash lookup, and copied out of the map).
#[derive(Clone)]
struct Partitions {
    keys: Vec<ScalarExpr>,
    /// Set when the partition key is one column: looked up in place.
    single_key_column: Option<usize>,
    ids: AHashMap<Vec<Value>, usize>,
    kept: Vec<Vec<Ranked>>,
}

impl Partitions {
    fn new(plan: &TopNPlan) -> Self {
        Partitions {
            keys: plan.partition_keys.clone(),
            single_key_column: ScalarExpr::single_column(&plan.partition_keys),
            ids: AHashMap::new(),
            kept: Vec::new(),
        }
    }

    /// The kept rows of `row`'s partition, made (and counted in
    /// `footprint`) when it is new.
    fn of(&mut self, row: &[Value], footprint: &mut Footprint) -> &mut Vec<Ranked> {
        let key: Vec<Value> = match self.single_key_column.and_then(|c| row.get(c)) {
            Some(value) => match self.ids.get(std::slice::from_ref(value)) {
                Some(&id) => return &mut self.kept[id],
                None => vec![value.clone()],
            },
            None => self.keys.iter().map(|k| eval(k, row)).collect(),
        };
        let next = self.kept.len();
        let id = *self.ids.entry(key).or_insert_with_key(|key| {
            footprint.grow(values_bytes(key) + PARTITION_ENTRY_BYTES);
            next
        });
        if id == next {
            self.kept.push(Vec::new());
        }
        &mut self.kept[id]
    }

    /// Every partition's key and kept rows; the partitions are left empty.
    fn take(&mut self) -> impl Iterator<Item = (Vec<Value>, Vec<Ranked>)> {
        let mut kept = std::mem::take(&mut self.kept);
        let ids = std::mem::take(&mut self.ids);
        ids.into_iter()
            .map(move |(key, id)| (key, std::mem::take(&mut kept[id])))
    }
}

#[derive(Clone)]
pub struct TopNOperator {
    order: Vec<ScalarExpr>,
    /// Scratch: the row's ORDER BY values (copied only when it is kept).
    order_values: Vec<Value>,
    sort_keys: Vec<SortKey>,
    limit: usize,
    reads_rank: bool,
    emit: EmitMode,
    shape: Shape,
    partitions: Partitions,
    kept_rows: usize,
    footprint: Footprint,
}

impl TopNOperator {
    pub fn new(plan: &TopNPlan, emit: EmitMode, changelog: bool) -> Self {
        TopNOperator {
            order: plan.order.iter().map(|k| k.expr.clone()).collect(),
            order_values: Vec::with_capacity(plan.order.len()),
            sort_keys: plan.sort_keys(),
            limit: plan.limit,
            reads_rank: plan.reads_rank(),
            emit,
            shape: Shape::new(plan, changelog),
            partitions: Partitions::new(plan),
            kept_rows: 0,
            footprint: Footprint::default(),
        }
    }

    pub fn state_bytes(&self) -> usize {
        self.footprint.bytes()
    }

    /// Rows kept over all partitions.
    pub fn kept_rows(&self) -> usize {
        self.kept_rows
    }

    /// Takes a source row (already past WHERE) at `position`; with EMIT
    /// CHANGES, emits the rows of the result it changes.
    pub fn push_row(&mut self, row: &[Value], position: u64, out: &mut Output) -> Outcome {
        let order = &mut self.order_values;
        order.clear();
        order.extend(self.order.iter().map(|k| eval(k, row)));
        let entries = self.partitions.of(row, &mut self.footprint);
        // Ties go after the rows kept before them: those came first.
        let rank = entries.partition_point(|e| {
            SortKey::compare_rows(&self.sort_keys, &e.order, order) != Ordering::Greater
        });
        if rank >= self.limit {
            return Outcome::Processed;
        }
        let new = Ranked {
            order: order.clone(),
            row: row.to_vec(),
        };
        let (limit, shape, footprint) = (self.limit, &mut self.shape, &mut self.footprint);
        let mut rows = RecordRows::new(out, position);
        let pushed_out = match (self.emit, self.reads_rank) {
            (EmitMode::Final, _) => insert(entries, rank, new, limit, footprint),
            (EmitMode::Changes, true) => {
                // Every rank from the new row's down now holds another row.
                let shifted = rank..(entries.len() + 1).min(limit);
                let before = rows_at(shape, entries, shifted.clone(), rows.out);
                let pushed_out = insert(entries, rank, new, limit, footprint);
                let after = rows_at(shape, entries, shifted, rows.out);
                for (before, after) in before.into_iter().zip(after) {
                    shape.changelog.emit(before, after, &mut rows);
                }
                pushed_out
            }
            (EmitMode::Changes, false) => {
                // Only the new row and the one it pushes out change.
                let entered = shape.row(&new, rank, rows.out);
                let pushed_out = insert(entries, rank, new, limit, footprint);
                shape.changelog.emit(None, entered, &mut rows);
                let left = pushed_out
                    .as_ref()
                    .and_then(|kept| shape.row(kept, limit, rows.out));
                shape.changelog.emit(left, None, &mut rows);
                pushed_out
            }
        };
        if pushed_out.is_none() {
            self.kept_rows += 1;
        }
        Outcome::Processed
    }

    /// End of input: with EMIT FINAL, every partition's kept rows, by
    /// partition key, then rank.
    pub fn finish(&mut self, out: &mut Output) {
        let partitions: Vec<_> = self.partitions.take().collect();
        self.kept_rows = 0;
        self.footprint = Footprint::default();
        if self.emit != EmitMode::Final {
            return;
        }
        let before = out.rows.len();
        for (key, entries) in partitions {
            for (rank, kept) in entries.iter().enumerate() {
                let Some(values) = self.shape.row(kept, rank, out) else {
                    continue;
                };
                out.rows.push(partition_row(values, &key, &[rank + 1]));
            }
        }
        out.rows[before..].sort_unstable_by(|a, b| a.order.cmp(&b.order));
    }
}

/// Ranks whole windows by RANK or DENSE_RANK, for a plan's second stage:
/// rows tied on ORDER BY share a number, so a bound of N may keep more than
/// N rows. Per partition it keeps the rows numbered within the bound so far,
/// sorted (ties in arrival order); a row numbered beyond it is forgotten,
/// and one that enters drops the rows it pushes past the bound.
/// [`TiesRanker::finish`] writes them, once the window's rows are all in.
pub struct TiesRanker {
    order: Vec<ScalarExpr>,
    /// Scratch: the row's ORDER BY values (copied only when it is kept).
    order_values: Vec<Value>,
    sort_keys: Vec<SortKey>,
    limit: usize,
    dense: bool,
    shape: Shape,
    partitions: Partitions,
    /// What [`Partitions::of`] counts; nothing reads it (the second
    /// stage's state is not limited by `--max-state-bytes`).
    footprint: Footprint,
}

impl TiesRanker {
    pub fn new(plan: &TopNPlan, changelog: bool) -> Self {
        TiesRanker {
            order: plan.order.iter().map(|k| k.expr.clone()).collect(),
            order_values: Vec::with_capacity(plan.order.len()),
            sort_keys: plan.sort_keys(),
            limit: plan.limit,
            dense: plan.ranking == Ranking::DenseRank,
            shape: Shape::new(plan, changelog),
            partitions: Partitions::new(plan),
            footprint: Footprint::default(),
        }
    }

    /// Takes a row (already past WHERE).
    pub fn push_row(&mut self, row: &[Value]) {
        let order = &mut self.order_values;
        order.clear();
        order.extend(self.order.iter().map(|k| eval(k, row)));
        let keys = &self.sort_keys;
        let entries = self.partitions.of(row, &mut self.footprint);
        let compare = |e: &Ranked| SortKey::compare_rows(keys, &e.order, order);
        let first_tied = entries.partition_point(|e| compare(e) == Ordering::Less);
        let number = match self.dense {
            true => distinct_orders(keys, &entries[..first_tied]) + 1,
            false => first_tied + 1,
        };
        if number > self.limit {
            return;
        }
        // Ties go after the rows kept before them: those came first.
        let at = entries.partition_point(|e| compare(e) != Ordering::Greater);
        let new = Ranked {
            order: order.clone(),
            row: row.to_vec(),
        };
        entries.insert(at, new);
        let kept = numbered_within(keys, entries, self.limit, self.dense);
        entries.truncate(kept);
    }

    /// The rows numbered within the bound, by partition key, then number
    /// (ties in arrival order); the rows taken are forgotten.
    pub fn finish(&mut self, out: &mut Output) {
        let keys = &self.sort_keys;
        let before = out.rows.len();
        for (key, entries) in self.partitions.take() {
            let (mut rank, mut distinct) = (0, 0);
            for (index, ranked) in entries.iter().enumerate() {
                let tied = index > 0
                    && SortKey::compare_rows(keys, &entries[index - 1].order, &ranked.order)
                        == Ordering::Equal;
                if !tied {
                    rank = index + 1;
                    distinct += 1;
                }
                let number = if self.dense { distinct } else { rank };
                let Some(values) = self.shape.row(ranked, number - 1, out) else {
                    continue;
                };
                out.rows.push(partition_row(values, &key, &[number, index]));
            }
        }
        self.footprint = Footprint::default();
        out.rows[before..].sort_unstable_by(|a, b| a.order.cmp(&b.order));
    }
}

/// An EMIT FINAL row of a partition, ordered by its partition key, then by
/// `numbers` (its rank, and what breaks ties).
fn partition_row(values: Vec<Value>, key: &[Value], numbers: &[usize]) -> OutputRow {
    let mut order_key = key.to_vec();
    order_key.extend(numbers.iter().map(|n| Value::Int(*n as i64)));
    OutputRow {
        values,
        order: RowOrder::Window {
            end: i64::MAX,
            start: i64::MIN,
            key: order_key,
        },
    }
}

/// How many distinct ORDER BY values `sorted` holds.
fn distinct_orders(keys: &[SortKey], sorted: &[Ranked]) -> usize {
    let changes = sorted
        .windows(2)
        .filter(|pair| {
            SortKey::compare_rows(keys, &pair[0].order, &pair[1].order) != Ordering::Equal
        })
        .count();
    changes + usize::from(!sorted.is_empty())
}

/// How many of the `sorted` rows RANK (or DENSE_RANK, `dense`) numbers
/// `limit` or better.
fn numbered_within(keys: &[SortKey], sorted: &[Ranked], limit: usize, dense: bool) -> usize {
    let tied =
        |a: &Ranked, b: &Ranked| SortKey::compare_rows(keys, &a.order, &b.order) == Ordering::Equal;
    if dense {
        let mut distinct = 0;
        for (index, ranked) in sorted.iter().enumerate() {
            if index == 0 || !tied(&sorted[index - 1], ranked) {
                distinct += 1;
                if distinct > limit {
                    return index;
                }
            }
        }
        return sorted.len();
    }
    if sorted.len() <= limit || limit == 0 {
        return sorted.len().min(limit);
    }
    let last = &sorted[limit - 1];
    limit + sorted[limit..].iter().take_while(|r| tied(last, r)).count()
}

/// The output rows (where QUALIFY admits them) at `ranks` of `entries`.
fn rows_at(
    shape: &mut Shape,
    entries: &[Ranked],
    ranks: std::ops::Range<usize>,
    out: &mut Output,
) -> Vec<Option<Vec<Value>>> {
    ranks
        .map(|rank| {
            let kept = entries.get(rank)?;
            shape.row(kept, rank, out)
        })
        .collect()
}

/// Inserts `new` at `rank` of `entries`; the row pushed out past `limit`,
/// if any. The bytes kept change in `footprint`.
fn insert(
    entries: &mut Vec<Ranked>,
    rank: usize,
    new: Ranked,
    limit: usize,
    footprint: &mut Footprint,
) -> Option<Ranked> {
    let capacity = entries.capacity();
    footprint.grow(new.bytes());
    entries.insert(rank, new);
    let left = match entries.len() > limit {
        true => entries.pop(),
        false => None,
    };
    footprint.resize(
        footprint::vec::<Ranked>(capacity),
        footprint::vec::<Ranked>(entries.capacity()),
    );
    if let Some(kept) = &left {
        footprint.shrink(kept.bytes());
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataType;
    use crate::plan::RankKey;

    /// RANK or DENSE_RANK (by column 1 descending, NULLs last) of rows
    /// `(key, value, id)` partitioned by key, numbers 1 to `limit`; the
    /// output is `(key, id, number)`.
    fn ranked(ranking: Ranking, limit: usize, rows: &[(&str, Option<i64>, i64)]) -> Vec<String> {
        let column = |i, t| ScalarExpr::column(i, t);
        let plan = TopNPlan {
            ranking,
            partition_keys: vec![column(0, DataType::Varchar)],
            order: vec![RankKey {
                expr: column(1, DataType::BigInt),
                descending: true,
                nulls_first: false,
            }],
            limit,
            rank_column: 3,
            qualify: None,
            projections: vec![
                column(0, DataType::Varchar),
                column(2, DataType::BigInt),
                column(3, DataType::BigInt),
            ],
        };
        let mut ranker = TiesRanker::new(&plan, false);
        for (key, value, id) in rows {
            let value = value.map_or(Value::Null, Value::Int);
            ranker.push_row(&[Value::Str((*key).into()), value, Value::Int(*id)]);
        }
        let mut out = Output::default();
        ranker.finish(&mut out);
        let text = |v: &Value| match v {
            Value::Str(s) => s.to_string(),
            Value::Int(n) => n.to_string(),
            other => format!("{other:?}"),
        };
        out.rows
            .iter()
            .map(|row| row.values.iter().map(text).collect::<Vec<_>>().join(" "))
            .collect()
    }

    const ROWS: [(&str, Option<i64>, i64); 8] = [
        ("b", Some(5), 1),
        ("a", Some(7), 2),
        ("a", Some(9), 3),
        ("a", Some(7), 4),
        ("a", None, 5),
        ("b", Some(5), 6),
        ("a", Some(3), 7),
        ("b", Some(4), 8),
    ];

    #[test]
    fn rank_gives_ties_one_number_and_skips_after_them_keeping_every_tie_in_the_bound() {
        assert_eq!(
            ranked(Ranking::Rank, 2, &ROWS),
            ["a 3 1", "a 2 2", "a 4 2", "b 1 1", "b 6 1"]
        );
        assert_eq!(
            ranked(Ranking::Rank, 4, &ROWS),
            ["a 3 1", "a 2 2", "a 4 2", "a 7 4", "b 1 1", "b 6 1", "b 8 3"]
        );
    }

    #[test]
    fn dense_rank_does_not_skip_and_nulls_rank_last() {
        assert_eq!(
            ranked(Ranking::DenseRank, 3, &ROWS),
            ["a 3 1", "a 2 2", "a 4 2", "a 7 3", "b 1 1", "b 6 1", "b 8 2"]
        );
        assert_eq!(
            ranked(Ranking::DenseRank, 9, &ROWS[..5]),
            ["a 3 1", "a 2 2", "a 4 2", "a 5 3", "b 1 1"]
        );
    }

    #[test]
    fn a_ranker_forgets_what_it_ranked() {
        let column = |i, t| ScalarExpr::column(i, t);
        let plan = TopNPlan {
            ranking: Ranking::Rank,
            partition_keys: Vec::new(),
            order: vec![RankKey {
                expr: column(0, DataType::BigInt),
                descending: false,
                nulls_first: false,
            }],
            limit: 1,
            rank_column: 1,
            qualify: None,
            projections: vec![column(0, DataType::BigInt)],
        };
        let mut ranker = TiesRanker::new(&plan, false);
        let mut out = Output::default();
        ranker.push_row(&[Value::Int(2)]);
        ranker.finish(&mut out);
        ranker.push_row(&[Value::Int(5)]);
        ranker.finish(&mut out);
        let values: Vec<&[Value]> = out.rows.iter().map(|r| &r.values[..]).collect();
        assert_eq!(values, [[Value::Int(2)], [Value::Int(5)]]);
    }
}
