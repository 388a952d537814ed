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

use super::changelog::{Changelog, RecordRows};
use super::eval::{eval, is_true};
use super::footprint::{self, value_heap, Footprint};
use super::grouped::Outcome;
use super::partition::{Output, OutputRow, RowOrder};
use crate::data::Value;
use crate::plan::{EmitMode, ScalarExpr, SortKey, TopNPlan};
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
            shape: Shape {
                qualify: plan.qualify.clone(),
                projections: plan.projections.clone(),
                changelog: Changelog::new(changelog),
                ranked: Vec::new(),
            },
            partitions: Partitions {
                keys: plan.partition_keys.clone(),
                single_key_column: ScalarExpr::single_column(&plan.partition_keys),
                ids: AHashMap::new(),
                kept: Vec::new(),
            },
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
                let mut order_key = key.clone();
                order_key.push(Value::Int(rank as i64 + 1));
                out.rows.push(OutputRow {
                    values,
                    order: RowOrder::Window {
                        end: i64::MAX,
                        start: i64::MIN,
                        key: order_key,
                    },
                });
            }
        }
        out.rows[before..].sort_unstable_by(|a, b| a.order.cmp(&b.order));
    }
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
