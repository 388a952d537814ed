//! The time bounds of an interval join: from the conditions a join of two
//! streams puts on its pairs (`p.ts BETWEEN o.ts AND o.ts + INTERVAL '1'
//! HOUR`, or comparisons such as `o.ts >= p.ts - INTERVAL '10' MINUTE`),
//! the range the right row's time may lie in relative to the left row's.
//!
//! The bounds only decide how long each side's rows are kept: the
//! conditions themselves stay in the join's pair condition and are
//! evaluated on every candidate pair, so a pair matches exactly when SQL
//! says it does.

use super::{BinaryOp, ExprKind, ScalarExpr};
use crate::data::{DataType, Value};

/// An interval join's time bounds over the joined row (the left source's
/// columns, then the right's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinInterval {
    /// Each side's event-time column, as a position in its own columns.
    pub time_columns: [usize; 2],
    /// A pair matches only when `right time - left time` lies in
    /// `lower_ms..=upper_ms`.
    pub lower_ms: i64,
    pub upper_ms: i64,
    /// A window join's tumbling window (milliseconds): a pair's rows share
    /// one window (the join's keys include both sides' `window_start`), and
    /// a row is kept until its window closes. The bounds are then those the
    /// window implies (`-(size - 1)..=size - 1`).
    pub tumbling_ms: Option<i64>,
}

impl JoinInterval {
    /// A window join's bounds: rows in the same tumbling window of
    /// `size_ms`, with these time columns.
    pub fn tumbling(size_ms: i64, time_columns: [usize; 2]) -> JoinInterval {
        let reach = size_ms.saturating_sub(1).max(0);
        JoinInterval {
            time_columns,
            lower_ms: -reach,
            upper_ms: reach,
            tumbling_ms: Some(size_ms),
        }
    }

    /// The event time after which no row of the other side can pair with a
    /// row of `side` at `time`: a left row waits for right rows up to
    /// `time + upper`, a right row for left rows up to `time - lower`; in a
    /// window join, either waits until the last instant of its window.
    pub fn pairs_until(&self, side: usize, time: i64) -> i64 {
        if let Some(size) = self.tumbling_ms {
            return window_start(time, size).saturating_add(size.saturating_sub(1));
        }
        match side {
            0 => time.saturating_add(self.upper_ms),
            _ => time.saturating_sub(self.lower_ms),
        }
    }

    /// True when a new row of `time` comes too late to pair, once rows
    /// older than `oldest_pairable` are: in an interval join when it is
    /// older; in a window join when its window has closed (Flink drops a
    /// window join's row whose window the watermark has passed).
    pub fn is_late(&self, time: i64, oldest_pairable: i64) -> bool {
        match self.tumbling_ms {
            Some(_) => self.pairs_until(0, time) < oldest_pairable,
            None => time < oldest_pairable,
        }
    }

    /// The oldest event time a row of `side` written by the join from now on
    /// can have, once rows older than `oldest_pairable` are late: a new row
    /// is at least that recent, and a kept row is dropped once no new row
    /// could pair with it (a left row at `oldest_pairable - upper`, a right
    /// one at `oldest_pairable + lower`).
    pub fn oldest_written(&self, side: usize, oldest_pairable: i64) -> i64 {
        if let Some(size) = self.tumbling_ms {
            // New rows and kept ones are in the window holding it or later.
            return window_start(oldest_pairable, size);
        }
        match side {
            0 => oldest_pairable.saturating_sub(self.upper_ms.max(0)),
            _ => oldest_pairable.saturating_add(self.lower_ms.min(0)),
        }
    }

    /// The time columns' places in the joined row, whose right columns
    /// follow the left source's `left_width`.
    pub fn time_columns_over_joined_row(&self, left_width: usize) -> [usize; 2] {
        [self.time_columns[0], left_width + self.time_columns[1]]
    }
}

/// The start of the epoch-aligned tumbling window of `size_ms` holding `time`.
fn window_start(time: i64, size_ms: i64) -> i64 {
    time.div_euclid(size_ms.max(1)).saturating_mul(size_ms)
}

/// One bound found in a conjunct: `right time - left time` (>= lower or
/// <= upper) a number of milliseconds, between these joined-row columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bound {
    columns: [usize; 2],
    lower: Option<i64>,
    upper: Option<i64>,
}

/// The interval `conjuncts` bound, when some bound the right row's time
/// from below and above relative to the same left and right time columns
/// (`left_width` columns of the joined row are the left side's).
pub fn join_interval(conjuncts: &[&ScalarExpr], left_width: usize) -> Option<JoinInterval> {
    let bounds: Vec<Bound> = conjuncts
        .iter()
        .flat_map(|c| bounds_of(c, left_width))
        .collect();
    let columns = bounds.first()?.columns;
    let same = bounds.iter().filter(|b| b.columns == columns);
    let lower = same.clone().filter_map(|b| b.lower).max()?;
    let upper = same.filter_map(|b| b.upper).min()?;
    Some(JoinInterval {
        time_columns: [columns[0], columns[1] - left_width],
        lower_ms: lower,
        upper_ms: upper,
        tumbling_ms: None,
    })
}

/// The bounds one conjunct sets: a comparison of a left and a right time
/// term, or `right BETWEEN left .. AND left ..` (and the mirror forms).
fn bounds_of(conjunct: &ScalarExpr, left_width: usize) -> Vec<Bound> {
    match &conjunct.kind {
        ExprKind::Binary { op, left, right } => {
            compared(left, *op, right, left_width).into_iter().collect()
        }
        ExprKind::Between {
            expr,
            low,
            high,
            negated: false,
        } => [
            compared(expr, BinaryOp::GtEq, low, left_width),
            compared(expr, BinaryOp::LtEq, high, left_width),
        ]
        .into_iter()
        .flatten()
        .collect(),
        _ => Vec::new(),
    }
}

/// The bound `a op b` sets when one is a left time term and the other a
/// right one.
fn compared(a: &ScalarExpr, op: BinaryOp, b: &ScalarExpr, left_width: usize) -> Option<Bound> {
    let ((column_a, offset_a), (column_b, offset_b)) = (time_term(a)?, time_term(b)?);
    if a.data_type != b.data_type {
        return None;
    }
    // a + offset_a  op  b + offset_b, as (right - left) op' difference.
    let (columns, op, difference) = match (column_a < left_width, column_b < left_width) {
        (false, true) => ([column_b, column_a], op, offset_b.checked_sub(offset_a)?),
        (true, false) => (
            [column_a, column_b],
            flipped(op)?,
            offset_a.checked_sub(offset_b)?,
        ),
        _ => return None,
    };
    let (lower, upper) = match op {
        BinaryOp::GtEq => (Some(difference), None),
        BinaryOp::Gt => (Some(difference.checked_add(1)?), None),
        BinaryOp::LtEq => (None, Some(difference)),
        BinaryOp::Lt => (None, Some(difference.checked_sub(1)?)),
        _ => return None,
    };
    Some(Bound {
        columns,
        lower,
        upper,
    })
}

/// `op` with its sides swapped: `a < b` is `b > a`.
fn flipped(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        _ => return None,
    })
}

/// `column [+ | - constant ..]` over a time column (TIMESTAMP, or BIGINT
/// epoch milliseconds): the column and the constant, in milliseconds.
fn time_term(e: &ScalarExpr) -> Option<(usize, i64)> {
    if !matches!(e.data_type, DataType::Timestamp | DataType::BigInt) {
        return None;
    }
    match &e.kind {
        ExprKind::Column(c) => Some((*c, 0)),
        ExprKind::Binary { op, left, right } => {
            let (column, offset) = time_term(left)?;
            let ExprKind::Literal(Value::Int(constant)) = right.kind else {
                return None;
            };
            match op {
                BinaryOp::Add => Some((column, offset.checked_add(constant)?)),
                BinaryOp::Subtract => Some((column, offset.checked_sub(constant)?)),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(column: usize) -> ScalarExpr {
        ScalarExpr::column(column, DataType::Timestamp)
    }

    fn plus(e: ScalarExpr, ms: i64) -> ScalarExpr {
        let op = if ms < 0 {
            BinaryOp::Subtract
        } else {
            BinaryOp::Add
        };
        let kind = ExprKind::Binary {
            op,
            left: Box::new(e),
            right: Box::new(ScalarExpr::literal(Value::Int(ms.abs()))),
        };
        ScalarExpr::new(kind, DataType::Timestamp)
    }

    fn cmp(a: ScalarExpr, op: BinaryOp, b: ScalarExpr) -> ScalarExpr {
        let kind = ExprKind::Binary {
            op,
            left: Box::new(a),
            right: Box::new(b),
        };
        ScalarExpr::new(kind, DataType::Boolean)
    }

    #[test]
    fn between_bounds_the_right_time_from_the_left_time() {
        // Left (k, ts), right (k, ts): right.ts BETWEEN left.ts AND left.ts + 1h.
        let kind = ExprKind::Between {
            expr: Box::new(ts(3)),
            low: Box::new(ts(1)),
            high: Box::new(plus(ts(1), 3_600_000)),
            negated: false,
        };
        let between = ScalarExpr::new(kind, DataType::Boolean);
        let interval = join_interval(&[&between], 2).expect("bounded");
        assert_eq!(
            interval,
            JoinInterval {
                time_columns: [1, 1],
                lower_ms: 0,
                upper_ms: 3_600_000,
                tumbling_ms: None,
            }
        );
        assert_eq!(interval.pairs_until(0, 1_000), 3_601_000);
        assert_eq!(interval.pairs_until(1, 1_000), 1_000);
    }

    #[test]
    fn a_window_join_keeps_a_row_until_its_window_closes_and_refuses_it_after() {
        let window = JoinInterval::tumbling(10_000, [1, 1]);
        // Either side waits until its window's last instant.
        assert_eq!(window.pairs_until(0, 12_000), 19_999);
        assert_eq!(window.pairs_until(1, 19_999), 19_999);
        assert_eq!(window.pairs_until(1, 20_000), 29_999);
        assert_eq!(window.pairs_until(0, -1), -1, "[-10 s, 0) is a window too");
        // Behind the watermark but in an open window: not late.
        assert!(!window.is_late(21_000, 25_000));
        assert!(!window.is_late(19_999, 19_999));
        assert!(window.is_late(19_999, 20_000));
        // Rows written from now on are in the watermark's window or later.
        assert_eq!(window.oldest_written(0, 25_000), 20_000);
        assert_eq!(window.oldest_written(1, 20_000), 20_000);
    }

    #[test]
    fn strict_and_mirrored_comparisons_become_inclusive_bounds() {
        // left.ts > right.ts - 10s  (right - left < 10s)  and  left.ts <= right.ts.
        let below = cmp(ts(1), BinaryOp::Gt, plus(ts(3), -10_000));
        let above = cmp(ts(1), BinaryOp::LtEq, ts(3));
        let interval = join_interval(&[&below, &above], 2).expect("bounded");
        assert_eq!((interval.lower_ms, interval.upper_ms), (0, 9_999));
    }

    #[test]
    fn one_sided_or_one_source_conditions_bound_nothing() {
        let one_sided = cmp(ts(3), BinaryOp::GtEq, ts(1));
        assert_eq!(join_interval(&[&one_sided], 2), None);
        let same_source = cmp(ts(1), BinaryOp::GtEq, plus(ts(0), 5));
        assert_eq!(join_interval(&[&same_source, &one_sided], 2), None);
    }
}
