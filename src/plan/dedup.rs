//! Flink's deduplication pattern as a grouping:
//! `SELECT .. FROM (SELECT .., ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts)
//! AS rn FROM t) WHERE rn = 1` keeps, per `k`, the row first in `ts` (last
//! with `ORDER BY ts DESC`). It is planned as `GROUP BY k` where every other
//! column is `ARG_MIN(col, ts) RESPECT NULLS` (ARG_MAX for DESC), all taken
//! from that one row, and `rn` is 1. Rows tied on `ts` keep the first to
//! arrive; rows whose `ts` is NULL are never kept. Any other ROW_NUMBER
//! (`rn <= 3` ordered by time, say) is an OVER query (see `over`), and a
//! first row by a value (or over no PARTITION BY) is a Top-N of one (see
//! `top_n`).

use super::from_window::from_window;
use super::functions::contains_over;
use super::planner::{Catalog, TableDef};
use super::resolve::{error_at, function_name};
use crate::data::DataType;
use crate::error::Result;
use sqlparser::ast::{
    self as sql, BinaryOperator, Expr, GroupByExpr, Ident, ObjectName, OrderByExpr, Select,
    SelectItem, TableFactor, Value, WindowType,
};

/// When `inner` numbers rows with ROW_NUMBER: the grouping that keeps the
/// rows numbered 1, and `outer` without its `rn = 1` condition.
pub(super) fn deduplicated(
    outer: &Select,
    inner: &Select,
    catalog: &Catalog,
) -> Result<Option<(Select, Select)>> {
    let Some(numbering) = row_number_item(inner) else {
        return Ok(None);
    };
    if !orders_in_time(inner, catalog, &numbering) {
        return Ok(None);
    }
    let Some(outer) = without_first_row_filter(outer, &numbering.alias) else {
        return Ok(None);
    };
    let items = expanded_items(inner, catalog)?;
    let mut grouped = inner.clone();
    grouped.projection = items
        .into_iter()
        .map(|(name, expr)| kept_column(name, expr, &numbering))
        .collect();
    grouped.group_by = GroupByExpr::Expressions(numbering.partition.clone(), Vec::new());
    Ok(Some((grouped, outer)))
}

/// `ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) AS rn` in a SELECT list.
struct Numbering {
    alias: Ident,
    partition: Vec<Expr>,
    order: Expr,
    ascending: bool,
}

/// The SELECT list's one named ROW_NUMBER, ordered by one column, when it
/// has no other window function (else the query is an OVER query).
fn row_number_item(select: &Select) -> Option<Numbering> {
    let mut found = None;
    for item in &select.projection {
        let (expr, alias) = match item {
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
            SelectItem::UnnamedExpr(expr) => (expr, None),
            _ => continue,
        };
        if !contains_over(expr) {
            continue;
        }
        let Expr::Function(f) = expr else { return None };
        let Some(WindowType::WindowSpec(spec)) = &f.over else {
            return None;
        };
        let [order] = spec.order_by.as_slice() else {
            return None;
        };
        let numbering = function_name(f) == "row_number" && spec.window_frame.is_none();
        if !numbering || found.is_some() {
            return None;
        }
        found = Some(Numbering {
            alias: alias?.clone(),
            partition: spec.partition_by.clone(),
            order: order.expr.clone(),
            ascending: is_ascending(order),
        });
    }
    found
}

/// Whether the numbering is a deduplication: per key, in event time (a
/// TIMESTAMP column, a BIGINT one the source declares as its event time,
/// or any order within a window table function's windows). Any other
/// first row is a Top-N of one, which also keeps a row whose ORDER BY
/// value is NULL (the grouping never would), and over no PARTITION BY has
/// no row for an empty input.
fn orders_in_time(select: &Select, catalog: &Catalog, numbering: &Numbering) -> bool {
    if numbering.partition.is_empty() {
        return false;
    }
    let [from] = select.from.as_slice() else {
        return true;
    };
    let (TableFactor::Table { name, .. }, true) = (&from.relation, from.joins.is_empty()) else {
        return true;
    };
    let (Some(table), Expr::Identifier(column)) = (table_of(name, catalog), &numbering.order)
    else {
        return true;
    };
    let Some(index) = table.schema.index_of(&column.value) else {
        return true;
    };
    let field = &table.schema.fields[index];
    let declared = table
        .property("timestamp")
        .is_some_and(|name| name.eq_ignore_ascii_case(&field.name));
    field.data_type == DataType::Timestamp || (field.data_type == DataType::BigInt && declared)
}

fn is_ascending(order: &OrderByExpr) -> bool {
    !matches!(order.options.sort, Some(sql::OrderBySort::Desc))
}

/// `outer` without the conjunct `rn = 1` (or `rn <= 1`, `rn < 2`) of its
/// WHERE; `None` when it has none.
fn without_first_row_filter(outer: &Select, rn: &Ident) -> Option<Select> {
    let filter = outer.selection.as_ref()?;
    let mut conjuncts = super::join::conjuncts(filter);
    let first_row = conjuncts.iter().position(|c| is_first_row_test(c, rn))?;
    conjuncts.remove(first_row);
    let mut stripped = outer.clone();
    stripped.selection = conjuncts
        .into_iter()
        .cloned()
        .reduce(|left, right| Expr::BinaryOp {
            left: Box::new(left),
            op: BinaryOperator::And,
            right: Box::new(right),
        });
    Some(stripped)
}

/// `rn = 1`, `rn <= 1`, `rn < 2`, or the same written the other way round.
fn is_first_row_test(e: &Expr, rn: &Ident) -> bool {
    let Expr::BinaryOp { left, op, right } = e else {
        return false;
    };
    let is_rn = |x: &Expr| match x {
        Expr::Identifier(id) => id.value.eq_ignore_ascii_case(&rn.value),
        Expr::CompoundIdentifier(ids) => ids
            .last()
            .is_some_and(|id| id.value.eq_ignore_ascii_case(&rn.value)),
        _ => false,
    };
    let number = |x: &Expr| match x {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<i64>().ok(),
            _ => None,
        },
        _ => None,
    };
    let (op, n) = match (is_rn(left), is_rn(right)) {
        (true, false) => (op.clone(), number(right)),
        (false, true) => (mirrored(op), number(left)),
        _ => return false,
    };
    matches!(
        (op, n),
        (BinaryOperator::Eq | BinaryOperator::LtEq, Some(1)) | (BinaryOperator::Lt, Some(2))
    )
}

fn mirrored(op: &BinaryOperator) -> BinaryOperator {
    match op {
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        other => other.clone(),
    }
}

/// The SELECT list as (output name, expression), `*` spelled out from the
/// catalog (a window table function adds `window_start` and `window_end`).
fn expanded_items(select: &Select, catalog: &Catalog) -> Result<Vec<(Ident, Expr)>> {
    let mut items = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::ExprWithAlias { expr, alias } => items.push((alias.clone(), expr.clone())),
            SelectItem::UnnamedExpr(expr) => {
                items.push((Ident::new(item_name(expr)), expr.clone()))
            }
            _ => {
                for column in source_columns(select, catalog, item)? {
                    items.push((column.clone(), Expr::Identifier(column)));
                }
            }
        }
    }
    Ok(items)
}

/// The name the planner gives an unaliased item.
fn item_name(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(id) => id.value.clone(),
        Expr::CompoundIdentifier(ids) => ids.last().map(|i| i.value.clone()).unwrap_or_default(),
        Expr::Function(f) => function_name(f),
        other => other.to_string(),
    }
}

/// The columns `*` stands for when the subquery reads one source (or a
/// window table function over one).
fn source_columns(select: &Select, catalog: &Catalog, star: &SelectItem) -> Result<Vec<Ident>> {
    let refuse = || {
        error_at(
            "`*` beside ROW_NUMBER needs one source in FROM: list the columns instead",
            star,
        )
    };
    let [from] = select.from.as_slice() else {
        return Err(refuse());
    };
    if !from.joins.is_empty() {
        return Err(refuse());
    }
    let (table, windowed) = match (&from.relation, from_window(&from.relation)?) {
        (_, Some(window)) => (identifier_table(window.table, catalog), true),
        (TableFactor::Table { name, .. }, None) => (table_of(name, catalog), false),
        _ => (None, false),
    };
    let table = table.ok_or_else(refuse)?;
    let mut columns: Vec<Ident> = table
        .schema
        .fields
        .iter()
        .map(|f| Ident::new(f.name.clone()))
        .collect();
    if windowed {
        columns.extend(["window_start", "window_end"].map(Ident::new));
    }
    Ok(columns)
}

fn table_of<'c>(name: &ObjectName, catalog: &'c Catalog) -> Option<&'c TableDef> {
    match name.0.as_slice() {
        [part] => part.as_ident().and_then(|i| catalog.get(&i.value)),
        _ => None,
    }
}

fn identifier_table<'c>(e: &Expr, catalog: &'c Catalog) -> Option<&'c TableDef> {
    match e {
        Expr::Identifier(id) => catalog.get(&id.value),
        _ => None,
    }
}

/// One column of the kept row: a partition key as it is, the row number as
/// 1, anything else the value of the row first (or last) in time.
fn kept_column(name: Ident, expr: Expr, numbering: &Numbering) -> SelectItem {
    let text = expr.to_string();
    let is_key = numbering
        .partition
        .iter()
        .any(|key| key.to_string().eq_ignore_ascii_case(&text));
    let is_number = name.value.eq_ignore_ascii_case(&numbering.alias.value)
        && matches!(&expr, Expr::Function(f) if f.over.is_some());
    let kept = match (is_key, is_number) {
        (_, true) => Expr::value(Value::Number("1".into(), false)),
        (true, false) => expr,
        (false, false) => row_value(expr, numbering),
    };
    SelectItem::ExprWithAlias {
        expr: kept,
        alias: name,
    }
}

/// `ARG_MIN(expr, order) RESPECT NULLS` (ARG_MAX when descending).
fn row_value(expr: Expr, numbering: &Numbering) -> Expr {
    let name = if numbering.ascending {
        "ARG_MIN"
    } else {
        "ARG_MAX"
    };
    let arg = |e: Expr| sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(e));
    Expr::Function(sql::Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: sql::FunctionArguments::None,
        args: sql::FunctionArguments::List(sql::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![arg(expr), arg(numbering.order.clone())],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: Some(sql::NullTreatment::RespectNulls),
        over: None,
        within_group: Vec::new(),
    })
}
