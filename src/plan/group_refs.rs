//! GROUP BY entries that refer to the SELECT list: an ordinal (`GROUP BY 1`,
//! the first SELECT item) or an output alias (`GROUP BY s` for
//! `SELECT symbol AS s`), replaced by the SELECT item's expression before
//! planning. A name that is a source column stays that column (as in
//! standard SQL and DuckDB); `window_start`/`window_end` (Flink's window
//! table functions group by them) are left for the window to supply.

use super::functions::{contains_aggregate, window_bound};
use super::resolve::{error_at, SourceScope};
use crate::error::Result;
use sqlparser::ast::{Expr as SqlExpr, Value};

/// One SELECT item as GROUP BY may refer to it: its expression (`None` for
/// `*`) and its output alias, if written.
pub(crate) struct SelectRef<'q> {
    pub expr: Option<&'q SqlExpr>,
    pub alias: Option<&'q str>,
}

/// `group_by` with ordinals and aliases replaced by SELECT expressions.
pub(crate) fn resolve_group_refs(
    group_by: &[SqlExpr],
    items: &[SelectRef],
    scope: &SourceScope,
) -> Result<Vec<SqlExpr>> {
    group_by
        .iter()
        .map(|e| resolve_one(e, items, scope))
        .collect()
}

fn resolve_one(e: &SqlExpr, items: &[SelectRef], scope: &SourceScope) -> Result<SqlExpr> {
    let target = match e {
        SqlExpr::Value(v) => match &v.value {
            Value::Number(text, _) => Some(ordinal_item(text, e, items)?),
            _ => None,
        },
        SqlExpr::Identifier(id)
            if !is_source_column(&id.value, scope) && window_bound(e).is_none() =>
        {
            items
                .iter()
                .find(|item| {
                    item.alias
                        .is_some_and(|a| a.eq_ignore_ascii_case(&id.value))
                })
                .and_then(|item| item.expr)
        }
        _ => None,
    };
    match target {
        Some(expr) if contains_aggregate(expr) => Err(error_at(
            format!("GROUP BY `{e}` refers to `{expr}`, which is an aggregate; GROUP BY cannot group by an aggregate"),
            e,
        )),
        Some(expr) => Ok(expr.clone()),
        None => Ok(e.clone()),
    }
}

/// The expression of the SELECT item `GROUP BY <text>` names (1-based).
fn ordinal_item<'q>(text: &str, e: &SqlExpr, items: &[SelectRef<'q>]) -> Result<&'q SqlExpr> {
    let out_of_range = || {
        error_at(
            format!(
                "GROUP BY {text} refers to SELECT item {text}, but the SELECT list has {} item(s)",
                items.len()
            ),
            e,
        )
    };
    let index = text.parse::<usize>().map_err(|_| out_of_range())?;
    let item = index
        .checked_sub(1)
        .and_then(|i| items.get(i))
        .ok_or_else(out_of_range)?;
    item.expr.ok_or_else(|| {
        error_at(
            format!("GROUP BY {text} refers to `*`; list the columns to group by"),
            e,
        )
    })
}

fn is_source_column(name: &str, scope: &SourceScope) -> bool {
    scope.has_column(name)
}
