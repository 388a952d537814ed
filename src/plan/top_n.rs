//! Top-N: Flink's `SELECT .. FROM (SELECT .., ROW_NUMBER() OVER (PARTITION BY
//! k ORDER BY x DESC) AS rn FROM t) WHERE rn <= N` (or QUALIFY), the N rows
//! ranked first in each partition by a value rather than by event time.
//!
//! The result is an updating one: a row enters a partition's top N when it
//! ranks high enough and leaves it when N better rows have come, so EMIT
//! CHANGES writes the rows that change (with `--changelog`, retracting what
//! they replace) and EMIT FINAL the top N of each partition at the end of
//! the input. Rows tied on every ORDER BY key rank in arrival order.
//!
//! The planner finds N in QUALIFY's conditions on the row number (`rn <= N`,
//! `rn < N`, `rn = 1`, `rn BETWEEN a AND N`); the conditions the bound
//! already guarantees are taken out, the others stay as QUALIFY.

use super::join::and;
use super::order::SortKey;
use super::over::{OverCall, OverFunction, RankKey, SharedWindow};
use super::resolve::{error_at, visit_columns_mut};
use super::{BinaryOp, ExprKind, ScalarExpr};
use crate::data::Value;
use crate::error::Result;

/// The most rows a Top-N keeps per partition: each row that enters one
/// shifts the rows ranked after it, so the work per row grows with N.
pub const MAX_TOP_N: usize = 100_000;

/// The number a Top-N ranks rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    /// 1, 2, 3, ..: rows tied on ORDER BY in arrival order.
    RowNumber,
    /// Rows tied on ORDER BY share a number; the next skips as many (1, 1, 3).
    Rank,
    /// Rows tied on ORDER BY share a number; the next does not skip (1, 1, 2).
    DenseRank,
}

impl Ranking {
    pub fn name(self) -> &'static str {
        match self {
            Ranking::RowNumber => "ROW_NUMBER",
            Ranking::Rank => "RANK",
            Ranking::DenseRank => "DENSE_RANK",
        }
    }
}

/// A Top-N query. Its *ranked row* is the source row, then the row number.
#[derive(Debug, Clone)]
pub struct TopNPlan {
    /// ROW_NUMBER; RANK and DENSE_RANK only where whole windows are ranked
    /// at once (a second stage), since ties make N rows a moving target.
    pub ranking: Ranking,
    /// PARTITION BY, over the source row: the routing key.
    pub partition_keys: Vec<ScalarExpr>,
    /// ORDER BY, over the source row; ties rank in arrival order.
    pub order: Vec<RankKey>,
    /// N: the rows kept per partition.
    pub limit: usize,
    /// The ranked row's column holding the row number.
    pub rank_column: usize,
    /// QUALIFY without the conditions the bound guarantees, over the ranked row.
    pub qualify: Option<ScalarExpr>,
    /// SELECT list, over the ranked row.
    pub projections: Vec<ScalarExpr>,
}

impl TopNPlan {
    /// True when QUALIFY or the SELECT list reads the row number, so a row
    /// that enters the top N changes the rows ranked after it; else only
    /// the row that enters and the one it pushes out change.
    pub fn reads_rank(&self) -> bool {
        let mut reads = false;
        let mut look = |e: &ScalarExpr| {
            visit_columns_mut(&mut e.clone(), &mut |c| reads |= *c == self.rank_column);
        };
        self.qualify.iter().for_each(&mut look);
        self.projections.iter().for_each(&mut look);
        reads
    }

    /// The ORDER BY keys as sort keys over the row of ORDER BY values.
    pub fn sort_keys(&self) -> Vec<SortKey> {
        self.order
            .iter()
            .enumerate()
            .map(|(column, key)| SortKey {
                column,
                descending: key.descending,
                nulls_first: key.nulls_first,
            })
            .collect()
    }
}

/// What planning an OVER query's SELECT list and QUALIFY made, for a Top-N.
pub(super) struct TopNParts {
    pub rank_column: usize,
    pub projections: Vec<ScalarExpr>,
    pub qualify: Option<ScalarExpr>,
}

/// The Top-N plan when `calls` is one ROW_NUMBER ordered by `window`'s
/// ORDER BY (which is not the event time), or one RANK or DENSE_RANK when
/// `whole_windows` (the input comes a whole window at a time); `None` for
/// any other calls.
pub(super) fn top_n_plan(
    window: &SharedWindow,
    calls: &[OverCall],
    parts: TopNParts,
    whole_windows: bool,
) -> Result<Option<TopNPlan>> {
    let ranking = match calls {
        [OverCall { function, .. }] => match function {
            OverFunction::RowNumber => Ranking::RowNumber,
            OverFunction::Rank if whole_windows => Ranking::Rank,
            OverFunction::DenseRank if whole_windows => Ranking::DenseRank,
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    if window.order.is_empty() {
        return Ok(None);
    }
    let at = &window.at;
    let (limit, qualify) = bound(parts.qualify, parts.rank_column);
    let Some(limit) = limit else {
        return Err(error_at(
            format!(
                "{} ordered by a value is a Top-N, which needs a bound on the row \
                 number: `WHERE rn <= N` around the subquery (or QUALIFY): `{at}`",
                ranking.name()
            ),
            at,
        ));
    };
    if limit > MAX_TOP_N {
        return Err(error_at(
            format!("a Top-N keeps at most {MAX_TOP_N} rows per partition, not {limit}: `{at}`"),
            at,
        ));
    }
    Ok(Some(TopNPlan {
        ranking,
        partition_keys: window.partition_keys.clone(),
        order: window.order.clone(),
        limit,
        rank_column: parts.rank_column,
        qualify,
        projections: parts.projections,
    }))
}

/// True when `calls` is one ROW_NUMBER, the only window function a Top-N has.
pub(super) fn only_row_number(calls: &[OverCall]) -> bool {
    matches!(
        calls,
        [OverCall {
            function: OverFunction::RowNumber,
            ..
        }]
    )
}

/// True when QUALIFY bounds the row number in `rank_column`.
pub(super) fn is_bounded(qualify: &Option<ScalarExpr>, rank_column: usize) -> bool {
    bound(qualify.clone(), rank_column).0.is_some()
}

/// The smallest bound QUALIFY's conditions put on the row number in
/// `rank_column`, and QUALIFY without the conditions that bound implies.
fn bound(qualify: Option<ScalarExpr>, rank_column: usize) -> (Option<usize>, Option<ScalarExpr>) {
    let mut conditions = Vec::new();
    if let Some(q) = qualify {
        conditions.extend(q.into_conjuncts());
    }
    let mut limit: Option<usize> = None;
    let mut kept = None;
    for condition in conditions {
        match rank_bound(&condition, rank_column) {
            Some((n, implied)) => {
                limit = Some(limit.map_or(n, |l| l.min(n)));
                if !implied {
                    kept = Some(and(kept, condition));
                }
            }
            None => kept = Some(and(kept, condition)),
        }
    }
    (limit, kept)
}

/// The bound `condition` puts on the row number (rows ranked after it
/// fail), and whether every row within the bound passes it.
fn rank_bound(condition: &ScalarExpr, rank_column: usize) -> Option<(usize, bool)> {
    let is_rank =
        |e: &ScalarExpr| matches!(uncast(e).kind, ExprKind::Column(c) if c == rank_column);
    let at_most = |n: i64| usize::try_from(n.max(0)).ok();
    match &condition.kind {
        ExprKind::Binary { op, left, right } => {
            let (op, number) = match (is_rank(left), is_rank(right)) {
                (true, false) => (*op, whole_number(right)?),
                (false, true) => (mirrored(*op)?, whole_number(left)?),
                _ => return None,
            };
            match op {
                BinaryOp::LtEq => Some((at_most(number)?, true)),
                BinaryOp::Lt => Some((at_most(number - 1)?, true)),
                BinaryOp::Eq => Some((at_most(number)?, number == 1)),
                _ => None,
            }
        }
        ExprKind::Between {
            expr,
            low,
            high,
            negated: false,
        } if is_rank(expr) => {
            let high = whole_number(high)?;
            let implied = whole_number(low).is_some_and(|low| low <= 1);
            Some((at_most(high)?, implied))
        }
        _ => None,
    }
}

/// `op` with its sides swapped (`3 >= rn` is `rn <= 3`).
fn mirrored(op: BinaryOp) -> Option<BinaryOp> {
    match op {
        BinaryOp::GtEq => Some(BinaryOp::LtEq),
        BinaryOp::Gt => Some(BinaryOp::Lt),
        BinaryOp::Eq => Some(BinaryOp::Eq),
        _ => None,
    }
}

fn uncast(e: &ScalarExpr) -> &ScalarExpr {
    match &e.kind {
        ExprKind::Cast { expr } => uncast(expr),
        _ => e,
    }
}

fn whole_number(e: &ScalarExpr) -> Option<i64> {
    match &uncast(e).kind {
        ExprKind::Literal(Value::Int(n)) => Some(*n),
        _ => None,
    }
}
