//! ORDER BY of a query's final result: output columns to sort by, named by
//! output name (or alias), by position, or by an expression of the SELECT
//! list. Any other expression (over the source row, or in a grouping over
//! its keys and aggregates) becomes a hidden column after the output's,
//! sorted by and not written. Only a result that is final can be sorted: rows of a stateless or
//! OVER query, or a grouping's EMIT FINAL rows (not a stream of changes);
//! the runtime also refuses inputs that never end.

use super::resolve::error_at;
use super::{EmitMode, QueryKind};
use crate::data::{Schema, Value};
use crate::error::Result;
use sqlparser::ast::{self as sql, Expr as SqlExpr, OrderByKind, OrderBySort};
use std::cmp::Ordering;

/// One ORDER BY key: an output column, its direction, and where NULLs go
/// (last unless written: DuckDB's default, in both directions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub column: usize,
    pub descending: bool,
    pub nulls_first: bool,
}

impl SortKey {
    /// How rows `a` and `b` compare by `keys`, each in turn: by its
    /// direction, with NULLs first or last as it says.
    pub fn compare_rows(keys: &[SortKey], a: &[Value], b: &[Value]) -> Ordering {
        for key in keys {
            let (x, y) = (&a[key.column], &b[key.column]);
            let ordering = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) if key.nulls_first => Ordering::Less,
                (true, false) => Ordering::Greater,
                (false, true) if key.nulls_first => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) if key.descending => y.cmp(x),
                (false, false) => x.cmp(y),
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

/// What ORDER BY may refer to: each output column's name, and the SELECT
/// item's expression it came from (`None` for columns of `*`).
pub(super) struct OutputColumns<'q> {
    pub names: &'q Schema,
    pub exprs: Vec<Option<&'q SqlExpr>>,
}

/// Plans an ORDER BY expression that is no output column as a hidden column;
/// its position, or `None` where the query cannot have one (a grouping).
pub(super) type HiddenColumn<'h> = dyn FnMut(&SqlExpr) -> Result<Option<usize>> + 'h;

/// The sort keys of `order_by`, for a query of `kind` emitting as `emit`.
pub(super) fn sort_keys(
    order_by: &sql::OrderBy,
    columns: &OutputColumns,
    kind: &QueryKind,
    (emit, changelog): (EmitMode, bool),
    hidden: &mut HiddenColumn,
) -> Result<Vec<SortKey>> {
    let updating = matches!(kind, QueryKind::Aggregate(_) | QueryKind::TopN(_));
    let changes = updating && emit == EmitMode::Changes;
    if changes || changelog {
        return Err(error_at(
            "ORDER BY sorts a final result, and this query writes a stream of changes: \
             use EMIT FINAL (for a GROUP BY without a window, one row per key at the end \
             of the input), without --changelog",
            order_by,
        ));
    }
    let OrderByKind::Expressions(exprs) = &order_by.kind else {
        return Err(error_at(
            "ORDER BY ALL is not supported; name the columns",
            order_by,
        ));
    };
    exprs.iter().map(|e| sort_key(e, columns, hidden)).collect()
}

fn sort_key(
    e: &sql::OrderByExpr,
    columns: &OutputColumns,
    hidden: &mut HiddenColumn,
) -> Result<SortKey> {
    if e.with_fill.is_some() {
        return Err(error_at("ORDER BY .. WITH FILL is not supported", &e.expr));
    }
    let descending = match &e.options.sort {
        None | Some(OrderBySort::Asc) => false,
        Some(OrderBySort::Desc) => true,
        Some(_) => {
            return Err(error_at(
                format!("`{e}`: ORDER BY .. USING is not supported (use ASC or DESC)"),
                &e.expr,
            ))
        }
    };
    Ok(SortKey {
        column: output_column(&e.expr, columns, hidden)?,
        descending,
        nulls_first: e.options.nulls_first.unwrap_or(false),
    })
}

/// The output column `e` names: a position (1 is the first), an output
/// name, or an expression written as in the SELECT list; else a hidden
/// column.
fn output_column(e: &SqlExpr, columns: &OutputColumns, hidden: &mut HiddenColumn) -> Result<usize> {
    let count = columns.names.len();
    if let SqlExpr::Value(v) = e {
        if let sql::Value::Number(n, _) = &v.value {
            return match n.parse::<usize>() {
                Ok(p) if (1..=count).contains(&p) => Ok(p - 1),
                _ => Err(error_at(
                    format!("ORDER BY {n}: the SELECT list has {count} columns (1 to {count})"),
                    e,
                )),
            };
        }
    }
    if let SqlExpr::Identifier(id) = e {
        if let Some(i) = columns
            .names
            .fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(&id.value))
        {
            return Ok(i);
        }
    }
    let written = e.to_string();
    let same = |x: &&SqlExpr| x.to_string().eq_ignore_ascii_case(&written);
    if let Some(i) = columns
        .exprs
        .iter()
        .position(|x| x.as_ref().is_some_and(same))
    {
        return Ok(i);
    }
    if let Some(i) = hidden(e)? {
        return Ok(i);
    }
    let names: Vec<&str> = columns.names.names().collect();
    Err(error_at(
        format!(
            "ORDER BY `{e}` is not an output column of this grouping, nor an expression of its \
             keys and aggregates; sort by one of {} (by name or position), or by an expression \
             over the GROUP BY keys and aggregates",
            names.join(", ")
        ),
        e,
    ))
}
