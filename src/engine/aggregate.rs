//! Aggregate state: one accumulator per aggregate call and group, updated
//! per record without allocation (numeric inputs), mergeable (session
//! windows), with DISTINCT sets and FILTER clauses; and the same state kept
//! as columns indexed by group id ([`StateColumn`], for the group table),
//! updated a batch at a time. FIRST_VALUE, LAST_VALUE
//! and COLLECT_LIST follow the order in which a partition sees its rows,
//! which is the input's (positions ascend within a partition). Every change
//! reports how many bytes of heap it took or gave back (see
//! [`super::footprint`]).

use super::cast::conform;
use super::eval::{is_true, with_operand};
use super::exact_sum::ExactSum;
use super::footprint::{allocation, table, value_heap, vec};
use crate::data::{DataType, Decimal, Value};
use crate::plan::{AggregateCall, AggregateFunction, ExprKind};
use ahash::AHashSet;
use cardinality_estimator::CardinalityEstimator;

/// A saturating 128-bit sum kept as two 8-byte halves, so that accumulators
/// stay 8-byte aligned and small (a group's state spans fewer cache lines).
#[derive(Debug, Clone, Copy, Default)]
pub struct Wide {
    hi: i64,
    lo: u64,
}

impl Wide {
    #[inline]
    fn get(self) -> i128 {
        ((self.hi as i128) << 64) | self.lo as i128
    }

    #[inline]
    fn add(&mut self, x: i128) {
        let v = self.get().saturating_add(x);
        self.hi = (v >> 64) as i64;
        self.lo = v as u64;
    }
}

/// The running state of one aggregate call in one group.
#[derive(Debug, Clone)]
pub enum Accumulator {
    Count(i64),
    /// Exact BIGINT sum.
    IntSum {
        sum: Wide,
        n: u64,
    },
    /// Exact DECIMAL sum in units at `scale`.
    DecimalSum {
        units: Wide,
        scale: u8,
        n: u64,
    },
    /// Exact DOUBLE sum (rounded once, when read: see [`ExactSum`]).
    FloatSum {
        sum: ExactSum,
        n: u64,
    },
    /// The smallest value so far (NULL: none yet).
    Min(Value),
    Max(Value),
    /// Welford's running mean and sum of squared deviations.
    Moments {
        n: u64,
        mean: f64,
        m2: f64,
    },
    /// BOOL_AND / BOOL_OR so far (`None`: no input yet).
    BoolAnd(Option<bool>),
    BoolOr(Option<bool>),
    /// ARG_MAX / ARG_MIN: the best `(by, x)` so far.
    ArgMax(Option<Box<(Value, Value)>>),
    ArgMin(Option<Box<(Value, Value)>>),
    /// FIRST_VALUE / LAST_VALUE (NULL: none yet).
    First(Value),
    Last(Value),
    /// COLLECT_LIST: the inputs in input order.
    List(Vec<Value>),
    /// APPROX_COUNT_DISTINCT: a HyperLogLog++ sketch (exact up to 128
    /// values; then 4096 six-bit registers, about 1.6% standard error).
    Sketch(CardinalityEstimator<Value>),
    /// PERCENTILE_CONT: the inputs, in input order (selected from when read).
    Values(Vec<f64>),
}

impl Accumulator {
    fn for_call(call: &AggregateCall) -> Self {
        let arg_type = call.arg.as_ref().map(|a| a.data_type);
        match call.func {
            AggregateFunction::Count => Accumulator::Count(0),
            AggregateFunction::Sum | AggregateFunction::Avg => match arg_type {
                Some(DataType::BigInt) => Accumulator::IntSum {
                    sum: Wide::default(),
                    n: 0,
                },
                Some(DataType::Decimal { scale, .. }) => Accumulator::DecimalSum {
                    units: Wide::default(),
                    scale,
                    n: 0,
                },
                _ => Accumulator::FloatSum {
                    sum: ExactSum::default(),
                    n: 0,
                },
            },
            AggregateFunction::Min => Accumulator::Min(Value::Null),
            AggregateFunction::Max => Accumulator::Max(Value::Null),
            AggregateFunction::StddevPop
            | AggregateFunction::StddevSamp
            | AggregateFunction::VarPop
            | AggregateFunction::VarSamp => Accumulator::Moments {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            AggregateFunction::BoolAnd => Accumulator::BoolAnd(None),
            AggregateFunction::BoolOr => Accumulator::BoolOr(None),
            AggregateFunction::ArgMax => Accumulator::ArgMax(None),
            AggregateFunction::ArgMin => Accumulator::ArgMin(None),
            AggregateFunction::FirstValue => Accumulator::First(Value::Null),
            AggregateFunction::LastValue => Accumulator::Last(Value::Null),
            AggregateFunction::CollectList => Accumulator::List(Vec::new()),
            AggregateFunction::ApproxCountDistinct => {
                Accumulator::Sketch(CardinalityEstimator::new())
            }
            AggregateFunction::PercentileCont => Accumulator::Values(Vec::new()),
        }
    }

    /// Adds one non-NULL input (or one row, for COUNT); returns the change
    /// in heap bytes held (a MIN or MAX string replaced).
    #[inline]
    fn add(&mut self, v: &Value) -> isize {
        match self {
            Accumulator::Count(n) => *n += 1,
            Accumulator::IntSum { sum, n } => add_int(sum, n, v),
            Accumulator::DecimalSum { units, scale, n } => add_decimal(units, *scale, n, v),
            Accumulator::FloatSum { sum, n } => return add_float(sum, n, v),
            Accumulator::Min(cur) => return keep_min(cur, v),
            Accumulator::Max(cur) => return keep_max(cur, v),
            Accumulator::Moments { n, mean, m2 } => {
                let x = v.as_f64().unwrap_or(f64::NAN);
                *n += 1;
                let delta = x - *mean;
                *mean += delta / *n as f64;
                *m2 += delta * (x - *mean);
            }
            Accumulator::BoolAnd(all) => *all = Some(all.unwrap_or(true) && is_true_value(v)),
            Accumulator::BoolOr(any) => *any = Some(any.unwrap_or(false) || is_true_value(v)),
            Accumulator::First(first) if first.is_null() => return replace_extreme(first, v),
            Accumulator::Last(last) => return replace_extreme(last, v),
            Accumulator::List(list) => {
                let before = vec::<Value>(list.capacity());
                list.push(v.clone());
                let grown = vec::<Value>(list.capacity()) - before + value_heap(v);
                return grown as isize;
            }
            Accumulator::Sketch(sketch) => {
                let before = sketch_heap(sketch);
                sketch.insert(v);
                return sketch_heap(sketch) as isize - before as isize;
            }
            Accumulator::Values(values) => {
                let before = vec::<f64>(values.capacity());
                values.push(v.as_f64().unwrap_or(f64::NAN));
                return vec::<f64>(values.capacity()) as isize - before as isize;
            }
            Accumulator::First(_) | Accumulator::ArgMax(_) | Accumulator::ArgMin(_) => {}
        }
        0
    }

    /// Adds one ARG_MAX / ARG_MIN input `x` ordered by `by` (both non-NULL);
    /// returns the change in heap bytes held.
    fn add_by(&mut self, x: &Value, by: &Value) -> isize {
        let (best, wanted) = match self {
            Accumulator::ArgMax(best) => (best, std::cmp::Ordering::Greater),
            Accumulator::ArgMin(best) => (best, std::cmp::Ordering::Less),
            _ => return 0,
        };
        if best.as_ref().is_some_and(|b| by.cmp(&b.0) != wanted) {
            return 0;
        }
        let before = best.as_deref().map_or(0, pair_heap);
        *best = Some(Box::new((by.clone(), x.clone())));
        best.as_deref().map_or(0, pair_heap) as isize - before as isize
    }

    /// Heap bytes held: the string a MIN, MAX, FIRST_VALUE or LAST_VALUE
    /// keeps, an ARG_MAX pair, a list, a sketch.
    fn heap(&self) -> usize {
        match self {
            Accumulator::Min(v)
            | Accumulator::Max(v)
            | Accumulator::First(v)
            | Accumulator::Last(v) => value_heap(v),
            Accumulator::ArgMax(best) | Accumulator::ArgMin(best) => {
                best.as_deref().map_or(0, pair_heap)
            }
            Accumulator::List(list) => {
                vec::<Value>(list.capacity()) + list.iter().map(value_heap).sum::<usize>()
            }
            Accumulator::Sketch(sketch) => sketch_heap(sketch),
            Accumulator::Values(values) => vec::<f64>(values.capacity()),
            Accumulator::FloatSum { sum, .. } => sum.heap(),
            _ => 0,
        }
    }

    /// Folds `other` (same call) into `self`; `self` holds the earlier
    /// inputs (a session merged with the later ones it now touches).
    fn merge(&mut self, other: &Accumulator) {
        use Accumulator::*;
        if let ArgMax(Some(theirs)) | ArgMin(Some(theirs)) = other {
            self.add_by(&theirs.1, &theirs.0);
            return;
        }
        match (self, other) {
            (Count(a), Count(b)) => *a += b,
            (IntSum { sum, n }, IntSum { sum: s2, n: n2 }) => {
                sum.add(s2.get());
                *n += n2;
            }
            (
                DecimalSum { units, n, .. },
                DecimalSum {
                    units: u2, n: n2, ..
                },
            ) => {
                units.add(u2.get());
                *n += n2;
            }
            (FloatSum { sum, n }, FloatSum { sum: s2, n: n2 }) => {
                sum.merge(s2);
                *n += n2;
            }
            (Min(cur), Min(v)) if !v.is_null() && (cur.is_null() || v < cur) => *cur = v.clone(),
            (Max(cur), Max(v)) if !v.is_null() && (cur.is_null() || v > cur) => *cur = v.clone(),
            (
                Moments { n, mean, m2 },
                Moments {
                    n: nb,
                    mean: mb,
                    m2: m2b,
                },
            ) if *nb > 0 => {
                let total = *n + nb;
                let delta = mb - *mean;
                let (na, nbf, nf) = (*n as f64, *nb as f64, total as f64);
                *mean += delta * nbf / nf;
                *m2 += m2b + delta * delta * na * nbf / nf;
                *n = total;
            }
            (BoolAnd(a), BoolAnd(Some(b))) => *a = Some(a.unwrap_or(true) && *b),
            (BoolOr(a), BoolOr(Some(b))) => *a = Some(a.unwrap_or(false) || *b),
            (First(cur), First(v)) if cur.is_null() => *cur = v.clone(),
            (Last(cur), Last(v)) if !v.is_null() => *cur = v.clone(),
            (List(mine), List(theirs)) => mine.extend(theirs.iter().cloned()),
            (Sketch(mine), Sketch(theirs)) => mine.merge(theirs),
            (Values(mine), Values(theirs)) => mine.extend_from_slice(theirs),
            _ => {}
        }
    }

    fn result(&self, call: &AggregateCall) -> Value {
        use Accumulator::*;
        match (self, call.func) {
            (Count(n), _) => Value::Int(*n),
            (BoolAnd(b) | BoolOr(b), _) => b.map_or(Value::Null, Value::Bool),
            (ArgMax(best) | ArgMin(best), _) => best.as_ref().map_or(Value::Null, |b| b.1.clone()),
            (First(v) | Last(v), _) => v.clone(),
            (List(list), _) if list.is_empty() => Value::Null,
            (List(list), _) => Value::Str(json_array(list).into()),
            (Sketch(sketch), _) => Value::Int(sketch.estimate() as i64),
            (Values(values), _) => percentile_cont(values, call.fraction.unwrap_or(0.5))
                .map_or(Value::Null, Value::Double),
            (_, AggregateFunction::Avg) => self.average().map_or(Value::Null, Value::Double),
            (IntSum { n: 0, .. } | DecimalSum { n: 0, .. } | FloatSum { n: 0, .. }, _) => {
                Value::Null
            }
            (IntSum { sum, .. }, _) => i64::try_from(sum.get()).map_or(Value::Null, Value::Int),
            (DecimalSum { units, scale, .. }, _) => i64::try_from(units.get())
                .map_or(Value::Null, |u| Value::Decimal(Decimal::new(u, *scale))),
            (FloatSum { sum, .. }, _) => Value::Double(sum.value()),
            (Min(v) | Max(v), _) => v.clone(),
            (Moments { n, m2, .. }, f) => variance_like(f, *n, *m2),
        }
    }

    fn average(&self) -> Option<f64> {
        match self {
            Accumulator::IntSum { sum, n } if *n > 0 => Some(sum.get() as f64 / *n as f64),
            Accumulator::DecimalSum { units, scale, n } if *n > 0 => {
                Some(units.get() as f64 / 10f64.powi(*scale as i32) / *n as f64)
            }
            Accumulator::FloatSum { sum, n } if *n > 0 => Some(sum.value() / *n as f64),
            _ => None,
        }
    }
}

/// A boolean input's truth (anything else counts as FALSE).
fn is_true_value(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// Heap bytes of an ARG_MAX / ARG_MIN pair: its box and its strings.
fn pair_heap(pair: &(Value, Value)) -> usize {
    allocation(std::mem::size_of::<(Value, Value)>()) + value_heap(&pair.0) + value_heap(&pair.1)
}

/// Heap bytes of an APPROX_COUNT_DISTINCT sketch (the small form is inline).
fn sketch_heap(sketch: &CardinalityEstimator<Value>) -> usize {
    match sketch
        .size_of()
        .saturating_sub(std::mem::size_of::<usize>())
    {
        0 => 0,
        bytes => allocation(bytes),
    }
}

/// PERCENTILE_CONT of `values`: linear interpolation between the values
/// of rank `fraction * (n - 1)` rounded down and up; `None` when empty.
/// Selects on a copy (linear time), so that adding a value stays O(1).
fn percentile_cont(values: &[f64], fraction: f64) -> Option<f64> {
    let last = values.len().checked_sub(1)?;
    let position = fraction.clamp(0.0, 1.0) * last as f64;
    let lo = position.floor() as usize;
    let mut scratch = values.to_vec();
    let (_, a, above) = scratch.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    let b = match position > lo as f64 {
        true => above.iter().copied().min_by(f64::total_cmp)?,
        false => a,
    };
    Some(a + (b - a) * (position - lo as f64))
}

/// A JSON array of `values`: numbers and booleans bare, text, timestamps
/// and dates (ISO-8601) as JSON strings, non-finite DOUBLE as null.
fn json_array(values: &[Value]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::Str(_) | Value::Timestamp(_) | Value::Date(_) => {
                serde_json::to_string(&v.to_string()).unwrap_or_default()
            }
            Value::Double(d) if !d.is_finite() => "null".to_string(),
            Value::Null => "null".to_string(),
            other => other.to_string(),
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Makes `v` the kept MIN, MAX, FIRST_VALUE or LAST_VALUE; returns the
/// change in heap bytes held.
fn replace_extreme(current: &mut Value, v: &Value) -> isize {
    let before = value_heap(current);
    *current = v.clone();
    value_heap(current) as isize - before as isize
}

/// Adds `v` to an exact BIGINT sum of `n` inputs.
#[inline]
fn add_int(sum: &mut Wide, n: &mut u64, v: &Value) {
    sum.add(integral_of(v));
    *n += 1;
}

/// Adds `v` to an exact DECIMAL sum (in units at `scale`) of `n` inputs.
#[inline]
fn add_decimal(units: &mut Wide, scale: u8, n: &mut u64, v: &Value) {
    units.add(units_of(v, scale));
    *n += 1;
}

/// Adds `v` to an exact DOUBLE sum of `n` inputs; returns the heap bytes
/// this took (a sum that moved to its wide form).
#[inline]
fn add_float(sum: &mut ExactSum, n: &mut u64, v: &Value) -> isize {
    *n += 1;
    sum.add(v.as_f64().unwrap_or(0.0)) as isize
}

/// Keeps `v` when it is the smallest so far; returns the change in heap bytes.
#[inline]
fn keep_min(current: &mut Value, v: &Value) -> isize {
    match current.is_null() || less(v, current) {
        true => replace_extreme(current, v),
        false => 0,
    }
}

/// Keeps `v` when it is the largest so far; returns the change in heap bytes.
#[inline]
fn keep_max(current: &mut Value, v: &Value) -> isize {
    match current.is_null() || less(current, v) {
        true => replace_extreme(current, v),
        false => 0,
    }
}

/// `a < b` in [`Value`]'s total order, with fast paths for numbers.
#[inline]
fn less(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x < y,
        // NaN is greater than every number, as in Value's order.
        (Value::Double(x), Value::Double(y)) => x < y || (y.is_nan() && !x.is_nan()),
        _ => a < b,
    }
}

fn variance_like(func: AggregateFunction, n: u64, m2: f64) -> Value {
    let (divisor, root) = match func {
        AggregateFunction::VarPop => (n as f64, false),
        AggregateFunction::StddevPop => (n as f64, true),
        AggregateFunction::VarSamp => (n as f64 - 1.0, false),
        AggregateFunction::StddevSamp => (n as f64 - 1.0, true),
        _ => return Value::Null,
    };
    if divisor <= 0.0 {
        return Value::Null;
    }
    let var = (m2 / divisor).max(0.0);
    Value::Double(if root { var.sqrt() } else { var })
}

/// An input as an exact integer for BIGINT sums.
fn integral_of(v: &Value) -> i128 {
    match v {
        Value::Int(i) | Value::Timestamp(i) => *i as i128,
        Value::Decimal(d) => d.units as i128 / 10i128.pow(d.scale as u32),
        other => other.as_f64().map_or(0, |f| f as i128),
    }
}

/// An input as decimal units at `scale` for DECIMAL sums.
fn units_of(v: &Value, scale: u8) -> i128 {
    let p = 10i128.pow(scale as u32);
    match v {
        Value::Decimal(d) if d.scale == scale => d.units as i128,
        Value::Decimal(d) => d.rescale(scale).map_or(0, |r| r.units as i128),
        Value::Int(i) => *i as i128 * p,
        other => other.as_f64().map_or(0, |f| (f * p as f64).round() as i128),
    }
}

/// One aggregate call's state in one group: the accumulator and, for
/// DISTINCT, the inputs already seen.
#[derive(Debug, Clone)]
pub struct Slot {
    acc: Accumulator,
    seen: Option<Box<AHashSet<Value>>>,
}

impl Slot {
    /// Adds one input; returns the change in heap bytes held.
    #[inline]
    fn add(&mut self, v: &Value) -> isize {
        if v.is_null() {
            return 0;
        }
        let mut grown = 0;
        if let Some(seen) = &mut self.seen {
            if seen.contains(v) {
                return 0;
            }
            let before = table::<Value>(seen.capacity());
            seen.insert(v.clone());
            grown = (table::<Value>(seen.capacity()) + value_heap(v)) as isize - before as isize;
        }
        grown + self.acc.add(v)
    }

    fn merge(&mut self, other: &Slot) {
        match (&mut self.seen, &other.seen) {
            (Some(_), Some(theirs)) => theirs.iter().for_each(|v| {
                self.add(v);
            }),
            _ => self.acc.merge(&other.acc),
        }
    }

    /// Heap bytes held: a MIN or MAX string, and the DISTINCT set with the
    /// strings in it.
    fn heap(&self) -> usize {
        let distinct = self.seen.as_ref().map_or(0, |seen| {
            allocation(std::mem::size_of::<AHashSet<Value>>())
                + table::<Value>(seen.capacity())
                + seen.iter().map(value_heap).sum::<usize>()
        });
        self.acc.heap() + distinct
    }
}

/// The state of all aggregate calls of one group.
pub type GroupState = Box<[Slot]>;

/// Where one aggregate call's state for one group lives: a [`Slot`], or
/// the group's entry in a [`StateColumn`]. [`update_call`] drives both.
pub trait CallState {
    /// Adds one input (NULL is skipped, DISTINCT repeats too).
    fn add(&mut self, v: &Value) -> isize;
    /// Adds one row to COUNT(*).
    fn add_row(&mut self) -> isize;
    /// Adds one ARG_MAX / ARG_MIN input `x` ordered by `by` (both non-NULL).
    fn add_by(&mut self, x: &Value, by: &Value) -> isize;
}

impl CallState for Slot {
    #[inline]
    fn add(&mut self, v: &Value) -> isize {
        Slot::add(self, v)
    }

    fn add_row(&mut self) -> isize {
        self.acc.add(&Value::Null)
    }

    fn add_by(&mut self, x: &Value, by: &Value) -> isize {
        self.acc.add_by(x, by)
    }
}

/// Adds `row` to one call's state of one group, past the call's FILTER;
/// returns the change in heap bytes held.
#[inline]
pub fn update_call(call: &AggregateCall, state: &mut impl CallState, row: &[Value]) -> isize {
    if let Some(filter) = &call.filter {
        if !is_true(filter, row) {
            return 0;
        }
    }
    match (&call.arg, &call.by) {
        (None, _) => state.add_row(),
        (Some(arg), None) => with_operand(arg, row, |v| state.add(v)),
        (Some(arg), Some(by)) => with_operand(arg, row, |x| {
            let skipped_x = x.is_null() && !call.respect_nulls;
            with_operand(by, row, |b| match skipped_x || b.is_null() {
                true => 0,
                false => state.add_by(x, b),
            })
        }),
    }
}

/// One aggregate call's state for every group of a table, indexed by
/// group id: flat vectors for COUNT, SUM, AVG, MIN and MAX, a [`Slot`] per
/// group for the other calls and for DISTINCT. Updates and results are
/// those of the [`Accumulator`] the call would have.
#[derive(Debug, Clone)]
pub enum StateColumn {
    Count(Vec<i64>),
    IntSum(Vec<(Wide, u64)>),
    DecimalSum { scale: u8, sums: Vec<(Wide, u64)> },
    FloatSum(Vec<(ExactSum, u64)>),
    Min(Vec<Value>),
    Max(Vec<Value>),
    Slots(Vec<Slot>),
}

impl StateColumn {
    /// Reads group `id`'s entry (a part of it) and returns it as bits: see
    /// [`super::group_table::GroupTable::touch`].
    pub fn touch(&self, id: usize) -> u64 {
        match self {
            StateColumn::Count(counts) => counts.get(id).map_or(0, |&c| c as u64),
            StateColumn::IntSum(sums) | StateColumn::DecimalSum { sums, .. } => {
                sums.get(id).map_or(0, |s| s.1)
            }
            StateColumn::FloatSum(sums) => sums.get(id).map_or(0, |s| s.1),
            StateColumn::Min(values) | StateColumn::Max(values) => {
                values.get(id).map_or(0, |v| u64::from(v.is_null()))
            }
            StateColumn::Slots(_) => 0,
        }
    }

    /// An empty column for `call`.
    pub fn for_call(call: &AggregateCall) -> StateColumn {
        if call.distinct || call.by.is_some() {
            return StateColumn::Slots(Vec::new());
        }
        match Accumulator::for_call(call) {
            Accumulator::Count(_) => StateColumn::Count(Vec::new()),
            Accumulator::IntSum { .. } => StateColumn::IntSum(Vec::new()),
            Accumulator::DecimalSum { scale, .. } => StateColumn::DecimalSum {
                scale,
                sums: Vec::new(),
            },
            Accumulator::FloatSum { .. } => StateColumn::FloatSum(Vec::new()),
            Accumulator::Min(_) => StateColumn::Min(Vec::new()),
            Accumulator::Max(_) => StateColumn::Max(Vec::new()),
            _ => StateColumn::Slots(Vec::new()),
        }
    }

    /// Appends a new group's empty state; returns the heap bytes it holds
    /// (beyond the column's own vector).
    pub fn push_group(&mut self, call: &AggregateCall) -> usize {
        match self {
            StateColumn::Count(c) => c.push(0),
            StateColumn::IntSum(c) | StateColumn::DecimalSum { sums: c, .. } => {
                c.push((Wide::default(), 0))
            }
            StateColumn::FloatSum(c) => c.push((ExactSum::default(), 0)),
            StateColumn::Min(c) | StateColumn::Max(c) => c.push(Value::Null),
            StateColumn::Slots(c) => {
                let slot = Slot {
                    acc: Accumulator::for_call(call),
                    seen: call.distinct.then(Default::default),
                };
                let heap = slot.heap();
                c.push(slot);
                return heap;
            }
        }
        0
    }

    /// Adds the rows `rows` to the groups `ids` (one id per row), as
    /// [`update_call`] would row by row; returns the change in heap bytes.
    /// The common calls (one column's COUNT, SUM, AVG, MIN or MAX, no
    /// FILTER) run one tight loop for the whole batch.
    pub fn update_rows(&mut self, call: &AggregateCall, ids: &[usize], rows: &[&[Value]]) -> isize {
        let plain = call.filter.is_none() && call.by.is_none();
        let column = match &call.arg {
            _ if !plain => None,
            None => {
                if let StateColumn::Count(n) = self {
                    ids.iter().for_each(|&id| n[id] += 1);
                    return 0;
                }
                None
            }
            Some(arg) => match arg.kind {
                ExprKind::Column(c) => Some(c),
                _ => None,
            },
        };
        let Some(c) = column else {
            return ids
                .iter()
                .zip(rows)
                .map(|(&id, row)| update_call(call, &mut self.entry(id), row))
                .sum();
        };
        let inputs = ids
            .iter()
            .zip(rows)
            .filter_map(|(&id, row)| match row.get(c) {
                Some(v) if !v.is_null() => Some((id, v)),
                _ => None,
            });
        match self {
            StateColumn::Count(n) => inputs.for_each(|(id, _)| n[id] += 1),
            StateColumn::IntSum(s) => inputs.for_each(|(id, v)| {
                let (sum, n) = &mut s[id];
                add_int(sum, n, v)
            }),
            StateColumn::DecimalSum { scale, sums } => inputs.for_each(|(id, v)| {
                let (units, n) = &mut sums[id];
                add_decimal(units, *scale, n, v)
            }),
            StateColumn::FloatSum(s) => {
                return inputs
                    .map(|(id, v)| {
                        let (sum, n) = &mut s[id];
                        add_float(sum, n, v)
                    })
                    .sum()
            }
            StateColumn::Min(m) => return inputs.map(|(id, v)| keep_min(&mut m[id], v)).sum(),
            StateColumn::Max(m) => return inputs.map(|(id, v)| keep_max(&mut m[id], v)).sum(),
            StateColumn::Slots(s) => return inputs.map(|(id, v)| s[id].add(v)).sum(),
        }
        0
    }

    /// Folds group `theirs` of `other` (the same call's column in another
    /// table, holding later inputs) into group `mine`, as if its inputs had
    /// been added here; returns the change in heap bytes.
    pub fn merge_entry(&mut self, mine: usize, other: &StateColumn, theirs: usize) -> isize {
        match (self, other) {
            (StateColumn::Count(a), StateColumn::Count(b)) => a[mine] += b[theirs],
            (StateColumn::IntSum(a), StateColumn::IntSum(b))
            | (StateColumn::DecimalSum { sums: a, .. }, StateColumn::DecimalSum { sums: b, .. }) => {
                a[mine].0.add(b[theirs].0.get());
                a[mine].1 += b[theirs].1;
            }
            (StateColumn::FloatSum(a), StateColumn::FloatSum(b)) => {
                a[mine].1 += b[theirs].1;
                return a[mine].0.merge(&b[theirs].0) as isize;
            }
            (StateColumn::Min(a), StateColumn::Min(b)) if !b[theirs].is_null() => {
                return keep_min(&mut a[mine], &b[theirs])
            }
            (StateColumn::Max(a), StateColumn::Max(b)) if !b[theirs].is_null() => {
                return keep_max(&mut a[mine], &b[theirs])
            }
            (StateColumn::Slots(a), StateColumn::Slots(b)) => {
                let before = a[mine].heap();
                a[mine].merge(&b[theirs]);
                return a[mine].heap() as isize - before as isize;
            }
            _ => {}
        }
        0
    }

    /// Group `group`'s entry, to update with [`update_call`].
    #[inline]
    pub fn entry(&mut self, group: usize) -> ColumnEntry<'_> {
        ColumnEntry {
            column: self,
            group,
        }
    }

    /// The call's result for `group`, typed as the plan says.
    pub fn result(&self, group: usize, call: &AggregateCall) -> Value {
        let acc = match self {
            StateColumn::Count(c) => Accumulator::Count(c[group]),
            StateColumn::IntSum(c) => Accumulator::IntSum {
                sum: c[group].0,
                n: c[group].1,
            },
            StateColumn::DecimalSum { scale, sums } => Accumulator::DecimalSum {
                units: sums[group].0,
                scale: *scale,
                n: sums[group].1,
            },
            StateColumn::FloatSum(c) => Accumulator::FloatSum {
                sum: c[group].0.clone(),
                n: c[group].1,
            },
            StateColumn::Min(c) | StateColumn::Max(c) => {
                return conform(c[group].clone(), call.data_type)
            }
            StateColumn::Slots(c) => return conform(c[group].acc.result(call), call.data_type),
        };
        conform(acc.result(call), call.data_type)
    }

    /// Bytes of the column's vector (by capacity).
    pub fn vector_bytes(&self) -> usize {
        match self {
            StateColumn::Count(c) => vec::<i64>(c.capacity()),
            StateColumn::IntSum(c) | StateColumn::DecimalSum { sums: c, .. } => {
                vec::<(Wide, u64)>(c.capacity())
            }
            StateColumn::FloatSum(c) => vec::<(ExactSum, u64)>(c.capacity()),
            StateColumn::Min(c) | StateColumn::Max(c) => vec::<Value>(c.capacity()),
            StateColumn::Slots(c) => vec::<Slot>(c.capacity()),
        }
    }

    /// Forgets every group, keeping the vector's capacity; returns the heap
    /// bytes the groups' states held (strings, sets, lists).
    pub fn clear(&mut self) -> usize {
        let heap = match self {
            StateColumn::Min(c) | StateColumn::Max(c) => c.iter().map(value_heap).sum(),
            StateColumn::Slots(c) => c.iter().map(Slot::heap).sum(),
            StateColumn::FloatSum(c) => c.iter().map(|(sum, _)| sum.heap()).sum(),
            _ => 0,
        };
        match self {
            StateColumn::Count(c) => c.clear(),
            StateColumn::IntSum(c) | StateColumn::DecimalSum { sums: c, .. } => c.clear(),
            StateColumn::FloatSum(c) => c.clear(),
            StateColumn::Min(c) | StateColumn::Max(c) => c.clear(),
            StateColumn::Slots(c) => c.clear(),
        }
        heap
    }
}

/// One group's entry in a [`StateColumn`].
pub struct ColumnEntry<'a> {
    column: &'a mut StateColumn,
    group: usize,
}

impl CallState for ColumnEntry<'_> {
    #[inline]
    fn add(&mut self, v: &Value) -> isize {
        let g = self.group;
        match self.column {
            StateColumn::Slots(c) => return c[g].add(v),
            _ if v.is_null() => {}
            StateColumn::Count(c) => c[g] += 1,
            StateColumn::IntSum(c) => {
                let (sum, n) = &mut c[g];
                add_int(sum, n, v)
            }
            StateColumn::DecimalSum { scale, sums } => {
                let (units, n) = &mut sums[g];
                add_decimal(units, *scale, n, v)
            }
            StateColumn::FloatSum(c) => {
                let (sum, n) = &mut c[g];
                return add_float(sum, n, v);
            }
            StateColumn::Min(c) => return keep_min(&mut c[g], v),
            StateColumn::Max(c) => return keep_max(&mut c[g], v),
        }
        0
    }

    fn add_row(&mut self) -> isize {
        match self.column {
            StateColumn::Count(c) => {
                c[self.group] += 1;
                0
            }
            StateColumn::Slots(c) => c[self.group].add_row(),
            // Only COUNT(*) has no argument (a typed column is made for it).
            _ => 0,
        }
    }

    fn add_by(&mut self, x: &Value, by: &Value) -> isize {
        match self.column {
            StateColumn::Slots(c) => c[self.group].add_by(x, by),
            // ARG_MAX / ARG_MIN always get a slot column.
            _ => 0,
        }
    }
}

/// The aggregate calls of a query: creates, updates, merges and reads
/// [`GroupState`]s.
#[derive(Debug, Clone)]
pub struct Aggregates {
    calls: Vec<AggregateCall>,
}

impl Aggregates {
    pub fn new(calls: &[AggregateCall]) -> Self {
        Aggregates {
            calls: calls.to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn new_state(&self) -> GroupState {
        self.calls
            .iter()
            .map(|call| Slot {
                acc: Accumulator::for_call(call),
                seen: call.distinct.then(Default::default),
            })
            .collect()
    }

    /// Bytes a group state takes: its slots and the heap they hold.
    pub fn state_bytes(&self, state: &[Slot]) -> usize {
        allocation(std::mem::size_of_val(state)) + state.iter().map(Slot::heap).sum::<usize>()
    }

    /// Empties a state for reuse by another group (keeps DISTINCT capacity);
    /// returns the change in bytes held (zero or less).
    pub fn reset(&self, state: &mut [Slot]) -> isize {
        let before = self.state_bytes(state);
        for (call, slot) in self.calls.iter().zip(state.iter_mut()) {
            slot.acc = Accumulator::for_call(call);
            if let Some(seen) = &mut slot.seen {
                seen.clear();
            }
        }
        self.state_bytes(state) as isize - before as isize
    }

    /// Adds one source row to a group; returns the change in heap bytes held.
    #[inline]
    pub fn update(&self, state: &mut [Slot], row: &[Value]) -> isize {
        self.calls
            .iter()
            .zip(state.iter_mut())
            .map(|(call, slot)| update_call(call, slot, row))
            .sum()
    }

    /// The calls, in SELECT order.
    pub fn calls(&self) -> &[AggregateCall] {
        &self.calls
    }

    /// Folds group state `other` into `state` (same calls); returns the
    /// change in bytes `state` holds.
    pub fn merge(&self, state: &mut [Slot], other: &[Slot]) -> isize {
        let before = self.state_bytes(state);
        for (mine, theirs) in state.iter_mut().zip(other) {
            mine.merge(theirs);
        }
        self.state_bytes(state) as isize - before as isize
    }

    /// Appends each call's current result, typed as the plan says.
    pub fn results_into(&self, state: &[Slot], out: &mut Vec<Value>) {
        for (call, slot) in self.calls.iter().zip(state) {
            out.push(conform(slot.acc.result(call), call.data_type));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_plans::*;
    use crate::plan::BinaryOp;
    use AggregateFunction::*;

    const INT: DataType = DataType::BigInt;
    const DBL: DataType = DataType::Double;

    fn run(calls: &[AggregateCall], rows: &[Vec<Value>]) -> Vec<Value> {
        let aggs = Aggregates::new(calls);
        let mut state = aggs.new_state();
        for row in rows {
            aggs.update(&mut state, row);
        }
        let mut out = Vec::new();
        aggs.results_into(&state, &mut out);
        out
    }

    fn ints(xs: &[Option<i64>]) -> Vec<Vec<Value>> {
        xs.iter()
            .map(|x| vec![x.map_or(Value::Null, Value::Int)])
            .collect()
    }

    fn all_basic(arg_type: DataType, sum_type: DataType) -> Vec<AggregateCall> {
        let arg = || Some(col(0, arg_type));
        vec![
            agg(Count, None, INT),
            agg(Count, arg(), INT),
            agg(Sum, arg(), sum_type),
            agg(Avg, arg(), DBL),
            agg(Min, arg(), arg_type),
            agg(Max, arg(), arg_type),
        ]
    }

    #[test]
    fn basic_aggregates_skip_nulls() {
        let rows = ints(&[Some(4), None, Some(-2), Some(7)]);
        let out = run(&all_basic(INT, INT), &rows);
        assert_eq!(
            out,
            vec![
                Value::Int(4),
                Value::Int(3),
                Value::Int(9),
                Value::Double(3.0),
                Value::Int(-2),
                Value::Int(7)
            ]
        );
    }

    #[test]
    fn empty_and_all_null_inputs() {
        let expected = vec![
            Value::Int(0),
            Value::Int(0),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ];
        assert_eq!(run(&all_basic(INT, INT), &[]), expected);
        let mut with_nulls = expected.clone();
        with_nulls[0] = Value::Int(2);
        assert_eq!(run(&all_basic(INT, INT), &ints(&[None, None])), with_nulls);
    }

    #[test]
    fn integer_sum_overflow_is_null() {
        let rows = ints(&[Some(i64::MAX), Some(1)]);
        assert_eq!(
            run(&[agg(Sum, Some(col(0, INT)), INT)], &rows),
            vec![Value::Null]
        );
        let back = ints(&[Some(i64::MAX), Some(1), Some(-2)]);
        assert_eq!(
            run(&[agg(Sum, Some(col(0, INT)), INT)], &back),
            vec![Value::Int(i64::MAX - 1)]
        );
    }

    #[test]
    fn decimal_sum_is_exact() {
        let d2 = DataType::Decimal {
            precision: 10,
            scale: 2,
        };
        let sum_type = DataType::Decimal {
            precision: 18,
            scale: 2,
        };
        let rows: Vec<Vec<Value>> = [10, 20, 1]
            .iter()
            .map(|u| vec![Value::Decimal(Decimal::new(*u, 2))])
            .collect();
        let out = run(&all_basic(d2, sum_type), &rows);
        assert_eq!(out[2].to_string(), "0.31");
        assert_eq!(out[3], Value::Double(0.31 / 3.0));
        assert_eq!(out[4].to_string(), "0.01");
        assert_eq!(out[5].to_string(), "0.20");
    }

    #[test]
    fn double_sum_and_text_min_max() {
        let rows = vec![vec![Value::Double(0.5)], vec![Value::Double(1.25)]];
        assert_eq!(
            run(&[agg(Sum, Some(col(0, DBL)), DBL)], &rows),
            vec![Value::Double(1.75)]
        );
        let words: Vec<Vec<Value>> = ["pear", "apple", "zoo"]
            .iter()
            .map(|w| vec![Value::str(w)])
            .collect();
        let text = DataType::Varchar;
        let out = run(
            &[
                agg(Min, Some(col(0, text)), text),
                agg(Max, Some(col(0, text)), text),
            ],
            &words,
        );
        assert_eq!(out, vec![Value::str("apple"), Value::str("zoo")]);
    }

    #[test]
    fn distinct_and_filter() {
        let rows = ints(&[Some(1), Some(2), Some(2), None, Some(3), Some(1)]);
        let mut count_distinct = agg(Count, Some(col(0, INT)), INT);
        count_distinct.distinct = true;
        let mut sum_distinct = agg(Sum, Some(col(0, INT)), INT);
        sum_distinct.distinct = true;
        let mut count_big = agg(Count, None, INT);
        count_big.filter = Some(bin(
            BinaryOp::Gt,
            col(0, INT),
            lit(Value::Int(1)),
            DataType::Boolean,
        ));
        let out = run(&[count_distinct, sum_distinct, count_big], &rows);
        assert_eq!(out, vec![Value::Int(3), Value::Int(6), Value::Int(3)]);
    }

    #[test]
    fn min_max_order_nan_last_and_reset_state() {
        let rows: Vec<Vec<Value>> = [f64::NAN, 2.0, -1.0]
            .iter()
            .map(|d| vec![Value::Double(*d)])
            .collect();
        let arg = || Some(col(0, DBL));
        let calls = [agg(Min, arg(), DBL), agg(Max, arg(), DBL)];
        let out = run(&calls, &rows);
        assert_eq!(out[0], Value::Double(-1.0));
        assert!(matches!(out[1], Value::Double(d) if d.is_nan()));
        let aggs = Aggregates::new(&calls);
        let mut state = aggs.new_state();
        aggs.update(&mut state, &rows[1]);
        aggs.reset(&mut state);
        let mut fresh = Vec::new();
        aggs.results_into(&state, &mut fresh);
        assert_eq!(fresh, vec![Value::Null, Value::Null]);
    }

    #[test]
    fn wide_sums_round_trip_and_stay_small() {
        let mut w = Wide::default();
        w.add(i64::MAX as i128);
        w.add(i64::MAX as i128);
        assert_eq!(w.get(), 2 * i64::MAX as i128);
        w.add(-3 * i64::MAX as i128);
        assert_eq!(w.get(), -(i64::MAX as i128));
        // 56 since DOUBLE sums became exact (a 32-byte `ExactSum`).
        assert!(std::mem::size_of::<Slot>() <= 56);
    }

    #[test]
    fn variances() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32.
        let rows = ints(&[2, 4, 4, 4, 5, 5, 7, 9].map(Some));
        let arg = || Some(col(0, INT));
        let out = run(
            &[
                agg(VarPop, arg(), DBL),
                agg(StddevPop, arg(), DBL),
                agg(VarSamp, arg(), DBL),
                agg(StddevSamp, arg(), DBL),
            ],
            &rows,
        );
        let close = |v: &Value, x: f64| matches!(v, Value::Double(d) if (d - x).abs() < 1e-12);
        assert!(close(&out[0], 4.0));
        assert!(close(&out[1], 2.0));
        assert!(close(&out[2], 32.0 / 7.0));
        assert!(close(&out[3], (32.0f64 / 7.0).sqrt()));
        let one = run(
            &[agg(VarSamp, arg(), DBL), agg(VarPop, arg(), DBL)],
            &ints(&[Some(3)]),
        );
        assert_eq!(one, vec![Value::Null, Value::Double(0.0)]);
    }

    #[test]
    fn merge_matches_a_single_pass() {
        let arg = || Some(col(0, INT));
        let mut distinct_sum = agg(Sum, arg(), INT);
        distinct_sum.distinct = true;
        let calls = vec![
            agg(Count, None, INT),
            agg(Sum, arg(), INT),
            agg(Min, arg(), INT),
            agg(Max, arg(), INT),
            agg(VarPop, arg(), DBL),
            distinct_sum,
        ];
        let aggs = Aggregates::new(&calls);
        let (mut a, mut b) = (aggs.new_state(), aggs.new_state());
        for x in [2, 4, 4] {
            aggs.update(&mut a, &[Value::Int(x)]);
        }
        for x in [4, 5, 5, 7, 9] {
            aggs.update(&mut b, &[Value::Int(x)]);
        }
        aggs.merge(&mut a, &b);
        let mut out = Vec::new();
        aggs.results_into(&a, &mut out);
        assert_eq!(
            out[..4],
            [Value::Int(8), Value::Int(40), Value::Int(2), Value::Int(9)]
        );
        assert!(matches!(out[4], Value::Double(v) if (v - 4.0).abs() < 1e-12));
        assert_eq!(out[5], Value::Int(2 + 4 + 5 + 7 + 9));
    }
    fn strs(xs: &[Option<&str>]) -> Vec<Vec<Value>> {
        xs.iter()
            .map(|x| vec![x.map_or(Value::Null, Value::str)])
            .collect()
    }

    #[test]
    fn bool_and_or_skip_nulls() {
        let rows: Vec<Vec<Value>> = [Some(true), None, Some(false)]
            .iter()
            .map(|b| vec![b.map_or(Value::Null, Value::Bool)])
            .collect();
        let b = DataType::Boolean;
        let calls = [
            agg(BoolAnd, Some(col(0, b)), b),
            agg(BoolOr, Some(col(0, b)), b),
        ];
        assert_eq!(
            run(&calls, &rows),
            vec![Value::Bool(false), Value::Bool(true)]
        );
        assert_eq!(
            run(&calls, &rows[..2]),
            vec![Value::Bool(true), Value::Bool(true)]
        );
        assert_eq!(run(&calls, &rows[1..2]), vec![Value::Null, Value::Null]);
    }

    fn arg_call(func: AggregateFunction) -> AggregateCall {
        let mut call = agg(func, Some(col(0, DataType::Varchar)), DataType::Varchar);
        call.by = Some(col(1, INT));
        call
    }

    #[test]
    fn arg_max_and_min_keep_the_first_best_row_and_skip_nulls() {
        let row = |x: Option<&str>, by: Option<i64>| {
            vec![
                x.map_or(Value::Null, Value::str),
                by.map_or(Value::Null, Value::Int),
            ]
        };
        let rows = vec![
            row(Some("a"), Some(2)),
            row(Some("b"), Some(5)),
            row(Some("tie"), Some(5)),
            row(None, Some(9)),
            row(Some("c"), None),
            row(Some("d"), Some(1)),
        ];
        let out = run(&[arg_call(ArgMax), arg_call(ArgMin)], &rows);
        assert_eq!(out, vec![Value::str("b"), Value::str("d")]);
        let respecting = |func| {
            let mut call = arg_call(func);
            call.respect_nulls = true;
            call
        };
        let out = run(&[respecting(ArgMax), respecting(ArgMin)], &rows);
        assert_eq!(out, vec![Value::Null, Value::str("d")], "a NULL x is kept");
    }

    #[test]
    fn first_last_and_list_follow_input_order() {
        let rows = strs(&[None, Some("x"), Some("y"), None, Some("x")]);
        let text = DataType::Varchar;
        let arg = || Some(col(0, text));
        let out = run(
            &[
                agg(FirstValue, arg(), text),
                agg(LastValue, arg(), text),
                agg(CollectList, arg(), text),
            ],
            &rows,
        );
        assert_eq!(
            out,
            vec![
                Value::str("x"),
                Value::str("x"),
                Value::str(r#"["x","y","x"]"#)
            ]
        );
        let mixed = vec![
            vec![Value::Int(1)],
            vec![Value::Double(f64::NAN)],
            vec![Value::Timestamp(0)],
        ];
        let list = run(&[agg(CollectList, Some(col(0, INT)), text)], &mixed);
        assert_eq!(
            list,
            vec![Value::str(r#"[1,null,"1970-01-01T00:00:00.000Z"]"#)]
        );
        assert_eq!(
            run(&[agg(CollectList, arg(), text)], &strs(&[None])),
            vec![Value::Null]
        );
    }

    #[test]
    fn approx_count_distinct_is_exact_when_small_and_close_when_large() {
        let call = [agg(ApproxCountDistinct, Some(col(0, INT)), INT)];
        let small = ints(&[Some(1), Some(2), Some(2), None, Some(3)]);
        assert_eq!(run(&call, &small), vec![Value::Int(3)]);
        let many: Vec<Vec<Value>> = (0..20_000).map(|i| vec![Value::Int(i % 10_000)]).collect();
        let Value::Int(estimate) = run(&call, &many)[0] else {
            panic!("not a number");
        };
        // 1.6% standard error; 6% is almost four of them.
        assert!((9_400..=10_600).contains(&estimate), "{estimate}");
    }

    #[test]
    fn percentile_cont_interpolates_like_postgres() {
        let mut call = agg(PercentileCont, Some(col(0, INT)), DBL);
        let rows = ints(&[Some(10), Some(40), None, Some(20), Some(30)]);
        for (fraction, expected) in [(0.5, 25.0), (0.0, 10.0), (1.0, 40.0), (0.9, 37.0)] {
            call.fraction = Some(fraction);
            let out = run(std::slice::from_ref(&call), &rows);
            assert!(
                matches!(out[0], Value::Double(d) if (d - expected).abs() < 1e-9),
                "{fraction}: {out:?}"
            );
        }
        assert_eq!(run(&[call], &ints(&[None])), vec![Value::Null]);
    }

    #[test]
    fn new_accumulators_merge_as_one_pass_and_account_their_heap() {
        let text = DataType::Varchar;
        let mut median = agg(PercentileCont, Some(col(1, INT)), DBL);
        median.fraction = Some(0.5);
        let calls = vec![
            agg(FirstValue, Some(col(0, text)), text),
            agg(LastValue, Some(col(0, text)), text),
            agg(CollectList, Some(col(0, text)), text),
            agg(ApproxCountDistinct, Some(col(0, text)), INT),
            median,
            arg_call(ArgMax),
        ];
        let aggs = Aggregates::new(&calls);
        let rows: Vec<Vec<Value>> = (0..300)
            .map(|i| {
                vec![
                    Value::str(&format!("a long enough text {i}")),
                    Value::Int(i),
                ]
            })
            .collect();
        let (mut whole, mut a, mut b) = (aggs.new_state(), aggs.new_state(), aggs.new_state());
        let mut held = aggs.state_bytes(&a) as isize;
        for row in &rows {
            aggs.update(&mut whole, row);
        }
        for row in &rows[..120] {
            held += aggs.update(&mut a, row);
        }
        assert_eq!(held, aggs.state_bytes(&a) as isize, "the deltas add up");
        for row in &rows[120..] {
            aggs.update(&mut b, row);
        }
        held += aggs.merge(&mut a, &b);
        assert_eq!(held, aggs.state_bytes(&a) as isize);
        let (mut merged, mut single) = (Vec::new(), Vec::new());
        aggs.results_into(&a, &mut merged);
        aggs.results_into(&whole, &mut single);
        assert_eq!(merged, single);
        assert_eq!(merged[0], Value::str("a long enough text 0"));
        assert_eq!(merged[1], Value::str("a long enough text 299"));
        assert_eq!(merged[4], Value::Double(149.5));
        assert_eq!(merged[5], Value::str("a long enough text 299"));
    }
}
