//! Nested queries merged into the one SELECT the planner plans: subqueries in
//! FROM, common table expressions (`WITH name AS (..)`) and views (`CREATE
//! VIEW name AS ..`, which the script turns into WITH queries).
//!
//! A plan is one stage (one routing key), so a nested query runs when it
//! merges into one SELECT, the way a database merges views:
//! - a filter and projection under anything: the outer query reads the inner
//!   one's FROM, its WHERE is the inner WHERE AND the outer one, and every
//!   column it names is replaced by the inner expression of that name;
//! - a filter and projection over a grouping query: the outer WHERE becomes
//!   part of HAVING and the outer SELECT list replaces the inner one.
//!
//! A grouping over a grouping, a join after a subquery, a filter over a
//! LIMIT and other shapes that need a second stage are refused with the
//! reason.

use super::dedup::deduplicated;
use super::functions::{contains_aggregate, contains_over, window_bound};
use super::planner::Catalog;
use super::resolve::error_at;
use super::TimeUnit;
use crate::error::Result;
use crate::sql::{StreamingQuery, PARTITION_ARGUMENT};
use sqlparser::ast::{
    self as sql, visit_expressions_mut, BinaryOperator, Expr, GroupByExpr, Ident, LimitClause,
    ObjectName, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias,
    TableFactor, Value,
};
use std::ops::ControlFlow;

/// `query` with its WITH queries and subqueries in FROM merged away.
pub(crate) fn inline_subqueries(
    query: &StreamingQuery,
    catalog: &Catalog,
) -> Result<StreamingQuery> {
    let mut inlined = query.clone();
    let expanded = expand_with(query.query.as_ref().clone(), &[], catalog)?;
    let (flat, columns) = flatten(expanded, catalog)?;
    inlined.query = Box::new(flat);
    if let (Some(window), Some(columns)) = (inlined.window.as_mut(), columns) {
        for arg in window.args.iter_mut() {
            columns.substitute(arg, Unknown::Refuse)?;
        }
    }
    Ok(inlined)
}

/// `query` with its WITH queries (and the views) written in place of their
/// names, as subqueries in FROM.
pub(super) fn expand_named_queries(query: Query, catalog: &Catalog) -> Result<Query> {
    expand_with(query, &[], catalog)
}

/// True when `query`, with its own subqueries merged, groups rows.
pub(super) fn groups_when_merged(query: &Query, catalog: &Catalog) -> bool {
    match flatten(query.clone(), catalog) {
        Ok((flat, _)) => matches!(flat.body.as_ref(), SetExpr::Select(s) if groups(s)),
        Err(_) => false,
    }
}

/// A WITH query visible by name.
#[derive(Clone)]
struct NamedQuery {
    name: Ident,
    query: Query,
}

/// `query` with the WITH queries it (and every query nested in it) can see
/// written in place of their names, as subqueries in FROM.
fn expand_with(mut query: Query, outer: &[NamedQuery], catalog: &Catalog) -> Result<Query> {
    let mut visible = outer.to_vec();
    if let Some(with) = query.with.take() {
        if with.recursive {
            return Err(error_at("WITH RECURSIVE is not supported", &with));
        }
        for cte in with.cte_tables {
            if let Some(column) = cte.alias.columns.first() {
                return Err(error_at(
                    format!(
                        "column names after WITH {} are not supported: name the columns \
                         with AS inside its query",
                        cte.alias.name
                    ),
                    &Expr::Identifier(column.name.clone()),
                ));
            }
            if cte.materialized.is_some() || cte.from.is_some() {
                return Err(error_at(
                    "WITH .. AS [NOT] MATERIALIZED is not supported",
                    &cte.alias,
                ));
            }
            let body = expand_with(*cte.query, &visible, catalog)?;
            visible.push(NamedQuery {
                name: cte.alias.name,
                query: body,
            });
        }
    }
    expand_in_body(query.body.as_mut(), &visible, catalog)?;
    Ok(query)
}

fn expand_in_body(body: &mut SetExpr, visible: &[NamedQuery], catalog: &Catalog) -> Result<()> {
    match body {
        SetExpr::Select(select) => {
            for from in select.from.iter_mut() {
                expand_relation(&mut from.relation, visible, catalog)?;
                for join in from.joins.iter_mut() {
                    expand_relation(&mut join.relation, visible, catalog)?;
                }
            }
            Ok(())
        }
        SetExpr::Query(query) => {
            let expanded = expand_with(query.as_ref().clone(), visible, catalog)?;
            **query = expanded;
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            expand_in_body(left, visible, catalog)?;
            expand_in_body(right, visible, catalog)
        }
        _ => Ok(()),
    }
}

/// Writes the named query a relation names in its place.
fn expand_relation(
    relation: &mut TableFactor,
    visible: &[NamedQuery],
    catalog: &Catalog,
) -> Result<()> {
    match relation {
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => {
            if let Some(named) = single_name(name).and_then(|n| lookup(visible, n)) {
                let alias = alias.clone().unwrap_or_else(|| TableAlias {
                    explicit: false,
                    name: named.name.clone(),
                    columns: Vec::new(),
                    at: None,
                });
                *relation = TableFactor::Derived {
                    lateral: false,
                    subquery: Box::new(named.query.clone()),
                    alias: Some(alias),
                    sample: None,
                };
            }
            Ok(())
        }
        TableFactor::Derived { subquery, .. } => {
            let expanded = expand_with(subquery.as_ref().clone(), visible, catalog)?;
            **subquery = expanded;
            Ok(())
        }
        _ => {
            let Some(args) = window_arguments(relation) else {
                return Ok(());
            };
            if let Some(view) = window_over_named(relation_args(args), visible, catalog)? {
                *relation = view.windowed(relation.clone());
            }
            Ok(())
        }
    }
}

/// The argument list of a table function in FROM: Flink's `TABLE(f(..))`
/// or RisingWave's `f(..)`.
fn window_arguments(relation: &mut TableFactor) -> Option<&mut [sql::FunctionArg]> {
    match relation {
        TableFactor::TableFunction {
            expr: Expr::Function(call),
            ..
        } => match &mut call.args {
            sql::FunctionArguments::List(list) => Some(&mut list.args),
            _ => None,
        },
        TableFactor::Table {
            args: Some(args), ..
        } => Some(&mut args.args),
        _ => None,
    }
}

/// A window table function's positional arguments (its table first, then
/// its time column).
fn relation_args(args: &mut [sql::FunctionArg]) -> Vec<&mut Expr> {
    args.iter_mut()
        .filter_map(|arg| match arg {
            sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// The view (or WITH query) a window table function reads, once the
/// function has been pointed at the view's source.
struct WindowedView {
    name: Ident,
    /// The view's query, merged flat.
    query: Query,
    select: Select,
    /// The alias the view's query gives its source.
    source_alias: Option<TableAlias>,
    passes_through: bool,
}

impl WindowedView {
    /// The view's query reading `function` (the window table function over
    /// its source) and also selecting `window_start` and `window_end`, as a
    /// subquery called by the function's alias or the view's name.
    fn windowed(self, mut function: TableFactor) -> TableFactor {
        let outer_alias = match &mut function {
            TableFactor::TableFunction { alias, .. } | TableFactor::Table { alias, .. } => {
                std::mem::replace(alias, self.source_alias)
            }
            _ => None,
        };
        let mut select = self.select;
        if let Some(from) = select.from.first_mut() {
            from.relation = function;
        }
        if !self.passes_through {
            for bound in ["window_start", "window_end"] {
                let column = Expr::Identifier(Ident::new(bound));
                select.projection.push(SelectItem::UnnamedExpr(column));
            }
        }
        let query = Query {
            body: Box::new(SetExpr::Select(Box::new(select))),
            ..self.query
        };
        TableFactor::Derived {
            lateral: false,
            subquery: Box::new(query),
            alias: Some(outer_alias.unwrap_or_else(|| TableAlias {
                explicit: false,
                name: self.name,
                columns: Vec::new(),
                at: None,
            })),
            sample: None,
        }
    }
}

/// When a window table function (arguments `args`) reads a view or WITH
/// query (Flink's `TABLE(TUMBLE(TABLE v, DESCRIPTOR(ts), ..))`), points it
/// at the view's source and time column and returns the view. The view
/// must read one source without grouping, joins or LIMIT.
fn window_over_named(
    mut args: Vec<&mut Expr>,
    visible: &[NamedQuery],
    catalog: &Catalog,
) -> Result<Option<WindowedView>> {
    let named = match args.first().map(|a| &**a) {
        Some(Expr::Identifier(id)) => match lookup(visible, &id.value) {
            Some(named) => named,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let (query, _) = flatten(named.query.clone(), catalog)?;
    let (select, source, source_alias) = windowable(&query, &named.name)?;
    let columns = Columns::of(&select, None, catalog);
    let Some(time) = args.get_mut(1) else {
        return Ok(None);
    };
    let time: &mut Expr = time;
    let time = if is_descriptor(time) {
        descriptor_column_mut(time).ok_or_else(|| {
            error_at(
                format!(
                    "DESCRIPTOR(..) of the window over {} takes one column",
                    named.name
                ),
                &Expr::Identifier(named.name.clone()),
            )
        })?
    } else {
        time
    };
    let mapped = columns.substituted(time, Unknown::Refuse)?;
    let source_column = match mapped {
        Expr::Identifier(id) => id,
        Expr::CompoundIdentifier(mut ids) if ids.len() == 2 => ids.remove(1),
        other => {
            return Err(error_at(
                format!(
                    "the time column of a window over {} must be a column of its source, \
                     not `{other}`",
                    named.name
                ),
                time,
            ))
        }
    };
    *time = Expr::Identifier(source_column);
    *args[0] = Expr::Identifier(source);
    if let Some(partition) = args.last_mut().filter(|a| is_partition_argument(a)) {
        columns.substitute(partition, Unknown::Refuse)?;
    }
    Ok(Some(WindowedView {
        name: named.name.clone(),
        passes_through: columns.passes_through,
        query,
        select,
        source_alias,
    }))
}

/// SESSION's `PARTITION_BY(k)` argument (see `sql::PARTITION_ARGUMENT`).
fn is_partition_argument(arg: &Expr) -> bool {
    matches!(arg, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case(PARTITION_ARGUMENT))
}

fn is_descriptor(arg: &Expr) -> bool {
    matches!(arg, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("descriptor"))
}

/// `DESCRIPTOR(ts)`'s `ts`, if it names one column.
fn descriptor_column_mut(arg: &mut Expr) -> Option<&mut Expr> {
    let Expr::Function(f) = arg else {
        return None;
    };
    let sql::FunctionArguments::List(list) = &mut f.args else {
        return None;
    };
    match list.args.as_mut_slice() {
        [sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(column))] => Some(column),
        _ => None,
    }
}

/// The SELECT of a view a window reads, its source's name and the alias
/// the view gives it; an error when the view is not one filtered and
/// projected source.
fn windowable(query: &Query, name: &Ident) -> Result<(Select, Ident, Option<TableAlias>)> {
    let refuse = |why: &str| {
        error_at(
            format!("a window table function over {name} is not supported: {why}"),
            &Expr::Identifier(name.clone()),
        )
    };
    let select = subquery_select(query)?;
    if groups(select) || query.limit_clause.is_some() {
        return Err(refuse("it groups or has a LIMIT"));
    }
    let (source, alias) = match select.from.as_slice() {
        [from] if from.joins.is_empty() => match &from.relation {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => (single_name(name), alias.clone()),
            _ => (None, None),
        },
        _ => (None, None),
    };
    let Some(source) = source else {
        return Err(refuse(
            "it must read one source (no joins, no window of its own)",
        ));
    };
    Ok((select.clone(), Ident::new(source), alias))
}

fn single_name(name: &ObjectName) -> Option<&str> {
    match name.0.as_slice() {
        [part] => part.as_ident().map(|i| i.value.as_str()),
        _ => None,
    }
}

/// The latest WITH query called `name` (a later one hides an earlier one).
fn lookup<'a>(visible: &'a [NamedQuery], name: &str) -> Option<&'a NamedQuery> {
    visible
        .iter()
        .rev()
        .find(|q| q.name.value.eq_ignore_ascii_case(name))
}

/// `query` merged into one SELECT, and the columns of the subquery its FROM
/// read (for the clauses outside the SELECT: the WINDOW clause).
fn flatten(query: Query, catalog: &Catalog) -> Result<(Query, Option<Columns>)> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok((query, None));
    };
    let [from] = select.from.as_slice() else {
        return Ok((query, None));
    };
    let TableFactor::Derived {
        lateral,
        subquery,
        alias,
        ..
    } = &from.relation
    else {
        return Ok((query, None));
    };
    if let Some(join) = from.joins.first() {
        return Err(error_at(
            "a JOIN after a subquery in FROM is not supported: join inside the subquery",
            &join.relation,
        ));
    }
    if *lateral {
        return Err(error_at(
            "LATERAL subqueries are not supported",
            &from.relation,
        ));
    }
    if let Some(column) = alias.as_ref().and_then(|a| a.columns.first()) {
        return Err(error_at(
            "column names after a subquery's alias are not supported: name the columns \
             with AS inside the subquery",
            &Expr::Identifier(column.name.clone()),
        ));
    }
    let (inner, _) = flatten(subquery.as_ref().clone(), catalog)?;
    let alias = alias.as_ref().map(|a| a.name.clone());
    let merged = merge(&query, select, &inner, alias, catalog)?;
    Ok(merged)
}

/// The outer query (`outer`, whose SELECT is `select`) over the flat
/// subquery `inner` called `alias`, as one query.
fn merge(
    outer: &Query,
    select: &Select,
    inner: &Query,
    alias: Option<Ident>,
    catalog: &Catalog,
) -> Result<(Query, Option<Columns>)> {
    let inner_select = subquery_select(inner)?;
    super::planner::check_select_clauses(inner_select)?;
    super::planner::check_select_clauses(select)?;
    let deduplicated = deduplicated(select, inner_select, catalog)?;
    let (select, inner_select) = match &deduplicated {
        Some((grouped, outer)) => (outer, grouped),
        None => (select, inner_select),
    };
    let columns = Columns::of(inner_select, alias, catalog);
    let inner_groups = groups(inner_select);
    let outer_groups = groups(select);
    if inner_groups && outer_groups {
        return Err(error_at(
            "this query groups or aggregates over a subquery that groups, which runs as a \
             second stage on the merger only when the query reads that subquery alone (no \
             join or UNION beside it) and the subquery groups a source (not another grouping): \
             corestream has one second stage",
            select,
        ));
    }
    let limit = merged_limit(outer, select, inner)?;
    let merged = if inner_groups {
        over_grouping(select, inner_select, &columns)?
    } else if uses_over(inner_select) {
        over_windows(select, inner_select, &columns)?
    } else {
        over_rows(select, inner_select, &columns)?
    };
    let query = Query {
        body: Box::new(SetExpr::Select(Box::new(merged))),
        limit_clause: limit,
        ..outer.clone()
    };
    Ok((query, Some(columns)))
}

/// The SELECT of a subquery, refusing the clauses the merged query would
/// lose.
fn subquery_select(inner: &Query) -> Result<&Select> {
    if let Some(order_by) = &inner.order_by {
        return Err(error_at(
            "ORDER BY inside a subquery is not supported: a stream's order is the \
             ordering contract's",
            order_by,
        ));
    }
    let extra = inner.fetch.is_some()
        || !inner.locks.is_empty()
        || inner.for_clause.is_some()
        || inner.settings.is_some()
        || inner.format_clause.is_some()
        || !inner.pipe_operators.is_empty();
    if extra {
        return Err(error_at(
            format!("unsupported clause in the subquery `{inner}`"),
            inner,
        ));
    }
    match inner.body.as_ref() {
        SetExpr::Select(select) => Ok(select),
        SetExpr::SetOperation {
            op, set_quantifier, ..
        } => Err(error_at(
            format!(
                "{} is not supported here: a UNION ALL may be the query itself, or a subquery \
                 in FROM that a query reads alone (not joined, not inside a branch)",
                format!("{op} {set_quantifier}").trim_end()
            ),
            inner.body.as_ref(),
        )),
        other => Err(error_at(
            format!("only a SELECT can be a subquery in FROM, not `{other}`"),
            other,
        )),
    }
}

/// True when `select` groups rows: GROUP BY, HAVING, DISTINCT or an aggregate.
pub(super) fn groups(select: &Select) -> bool {
    let grouped = match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
    };
    let aggregates = select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            contains_aggregate(e)
        }
        _ => false,
    });
    grouped || aggregates || select.having.is_some() || selects_distinct(select)
}

/// `SELECT DISTINCT` (or `DISTINCT ON`), not `SELECT [ALL]`.
fn selects_distinct(select: &Select) -> bool {
    !matches!(select.distinct, None | Some(sql::Distinct::All))
}

/// The merged LIMIT: the outer one, or the inner one when the outer query
/// only projects its rows (the smaller where both are numbers).
fn merged_limit(outer: &Query, select: &Select, inner: &Query) -> Result<Option<LimitClause>> {
    let Some(inner_limit) = &inner.limit_clause else {
        return Ok(outer.limit_clause.clone());
    };
    if select.selection.is_some() || groups(select) {
        return Err(error_at(
            "a filter or grouping over a subquery with LIMIT is not supported: \
             put the LIMIT on the outer query",
            inner_limit,
        ));
    }
    let Some(outer_limit) = &outer.limit_clause else {
        return Ok(Some(inner_limit.clone()));
    };
    match (limit_number(inner_limit), limit_number(outer_limit)) {
        (Some(a), Some(b)) if a <= b => Ok(Some(inner_limit.clone())),
        (Some(_), Some(_)) => Ok(Some(outer_limit.clone())),
        _ => Err(error_at(
            "LIMIT both inside and outside a subquery is only supported with plain numbers",
            outer_limit,
        )),
    }
}

fn limit_number(limit: &LimitClause) -> Option<u64> {
    match limit {
        LimitClause::LimitOffset {
            limit: Some(Expr::Value(v)),
            offset: None,
            limit_by,
        } if limit_by.is_empty() => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// An outer query over a subquery that only filters and projects: it reads
/// the subquery's FROM, filtered by both WHEREs.
fn over_rows(select: &Select, inner: &Select, columns: &Columns) -> Result<Select> {
    let mut merged = select.clone();
    merged.from = inner.from.clone();
    let outer_filter = columns.outer_where(select)?;
    merged.selection = conjoin(inner.selection.clone(), outer_filter);
    merged.projection = columns.substitute_items(&select.projection)?;
    if let GroupByExpr::Expressions(exprs, _) = &mut merged.group_by {
        for e in exprs.iter_mut() {
            columns.substitute(e, Unknown::Keep)?;
        }
    }
    if let Some(having) = merged.having.as_mut() {
        columns.substitute(having, Unknown::Keep)?;
    }
    Ok(merged)
}

/// Whether a SELECT list calls window functions (OVER).
pub(super) fn uses_over(select: &Select) -> bool {
    select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => contains_over(e),
        _ => false,
    })
}

/// `t` of a `t.*` in `select`, with the columns of the table of its FROM
/// that `t` names (by alias or name); `None` when the catalog has no such
/// table (a subquery or a table function: its columns are not listed here).
fn wildcard_table(
    select: &Select,
    name: &ObjectName,
    catalog: &Catalog,
) -> Option<(Ident, Vec<String>)> {
    let [part] = name.0.as_slice() else {
        return None;
    };
    let qualifier = part.as_ident()?;
    let relations = select.from.iter().flat_map(|from| {
        std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
    });
    for relation in relations {
        let TableFactor::Table {
            name: table, alias, ..
        } = relation
        else {
            continue;
        };
        let table_name = table.0.last()?.as_ident()?;
        let called = alias.as_ref().map_or(&table_name.value, |a| &a.name.value);
        if !same(called, &qualifier.value) {
            continue;
        }
        let columns = catalog
            .get(&table_name.value)?
            .schema
            .names()
            .map(str::to_string);
        return Some((qualifier.clone(), columns.collect()));
    }
    None
}

/// An outer query that filters and projects the rows of a subquery with
/// window functions (OVER): the subquery with the outer SELECT list, and the
/// outer WHERE as its QUALIFY (it filters the rows the windows made).
fn over_windows(select: &Select, inner: &Select, columns: &Columns) -> Result<Select> {
    if groups(select) || uses_over(select) || select.distinct.is_some() {
        return Err(error_at(
            "a query that groups, aggregates, uses OVER or DISTINCT over a subquery with OVER is not \
             supported: it needs a second stage, which corestream does not have yet",
            select,
        ));
    }
    let mut merged = inner.clone();
    merged.projection = columns.substitute_items(&select.projection)?;
    let outer_filter = columns.outer_where(select)?;
    merged.qualify = conjoin(inner.qualify.clone(), outer_filter);
    Ok(merged)
}

/// An outer query that filters and projects the rows of a grouping
/// subquery: the subquery with the outer SELECT list, and the outer WHERE
/// added to its HAVING.
fn over_grouping(select: &Select, inner: &Select, columns: &Columns) -> Result<Select> {
    if selects_distinct(inner) && !selects_all(select, columns) {
        return Err(error_at(
            "a subquery with SELECT DISTINCT can only be read whole (SELECT * with no WHERE): \
             put the outer query's columns and filter inside it",
            select,
        ));
    }
    let mut merged = inner.clone();
    merged.projection = columns.substitute_items(&select.projection)?;
    let outer_filter = columns.outer_where(select)?;
    merged.having = conjoin(inner.having.clone(), outer_filter);
    Ok(merged)
}

/// `SELECT *` (or `SELECT s.*`) and nothing else, without WHERE.
fn selects_all(select: &Select, columns: &Columns) -> bool {
    let all = match select.projection.as_slice() {
        [SelectItem::Wildcard(_)] => true,
        [SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _)] => {
            columns.is_alias(n)
        }
        _ => false,
    };
    all && select.selection.is_none()
}

fn conjoin(left: Option<Expr>, right: Option<Expr>) -> Option<Expr> {
    match (left, right) {
        (Some(l), Some(r)) => Some(Expr::BinaryOp {
            left: Box::new(parenthesized(l)),
            op: BinaryOperator::And,
            right: Box::new(parenthesized(r)),
        }),
        (l, r) => l.or(r),
    }
}

/// What to do with a name that is not a column of the subquery.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unknown {
    /// An error naming the subquery's columns.
    Refuse,
    /// Leave it: GROUP BY and HAVING may name the outer SELECT's aliases.
    Keep,
}

/// The columns a subquery gives the query around it.
struct Columns {
    /// What the subquery is called in FROM, if it has an alias.
    alias: Option<Ident>,
    /// Its SELECT list as written (what `*` over it stands for).
    items: Vec<SelectItem>,
    /// Each named item: its name, its expression, and whether the name was
    /// written with AS.
    named: Vec<(String, Expr, bool)>,
    /// The subquery selects `*` (or `t.*`): a name not in `named` is a
    /// column of its FROM.
    passes_through: bool,
    /// Per `t.*` it selects: `t` as written, and the columns of the table
    /// it names (when the catalog has it), so that a name from it can be
    /// written qualified (`t.x`), which a join's other side cannot make
    /// ambiguous. Empty when it also selects a bare `*`.
    qualified: Vec<(Ident, Vec<String>)>,
}

impl Columns {
    fn of(select: &Select, alias: Option<Ident>, catalog: &Catalog) -> Self {
        let mut named = Vec::new();
        let mut passes_through = false;
        let mut qualified = Vec::new();
        let mut bare_wildcard = false;
        for item in &select.projection {
            match item {
                SelectItem::ExprWithAlias { expr, alias } => {
                    named.push((alias.value.clone(), expr.clone(), true))
                }
                SelectItem::UnnamedExpr(expr) => {
                    if let Some(name) = column_name_of(expr) {
                        named.push((name, expr.clone(), false));
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    passes_through = true;
                    if let Some(table) = wildcard_table(select, name, catalog) {
                        qualified.push(table);
                    }
                }
                SelectItem::Wildcard(_) => {
                    passes_through = true;
                    bare_wildcard = true;
                }
                _ => passes_through = true,
            }
        }
        if bare_wildcard {
            qualified.clear();
        }
        Columns {
            alias,
            items: select.projection.clone(),
            named,
            passes_through,
            qualified,
        }
    }

    /// A column that passes through `t.*`, written `t.column` when exactly
    /// one such `t` has it; else as written.
    fn passed_through(&self, name: &Ident) -> Expr {
        let mut owners = self
            .qualified
            .iter()
            .filter(|(_, columns)| columns.iter().any(|c| same(c, &name.value)));
        match (owners.next(), owners.next()) {
            (Some((table, _)), None) => Expr::CompoundIdentifier(vec![table.clone(), name.clone()]),
            _ => Expr::Identifier(name.clone()),
        }
    }

    fn is_alias(&self, name: &ObjectName) -> bool {
        match (single_name(name), &self.alias) {
            (Some(written), Some(alias)) => written.eq_ignore_ascii_case(&alias.value),
            _ => false,
        }
    }

    /// The WHERE of the query over the subquery, in the subquery's terms.
    fn outer_where(&self, select: &Select) -> Result<Option<Expr>> {
        select
            .selection
            .as_ref()
            .map(|w| self.substituted(w, Unknown::Refuse))
            .transpose()
    }

    fn substituted(&self, expr: &Expr, unknown: Unknown) -> Result<Expr> {
        let mut expr = expr.clone();
        self.substitute(&mut expr, unknown)?;
        Ok(expr)
    }

    /// Replaces every column `expr` names by the subquery's expression.
    fn substitute(&self, expr: &mut Expr, unknown: Unknown) -> Result<()> {
        let outcome = visit_expressions_mut(expr, |e| {
            let idents = match e {
                Expr::Identifier(id) => vec![id.clone()],
                Expr::CompoundIdentifier(ids) => ids.clone(),
                _ => return ControlFlow::Continue(()),
            };
            match self.resolve(&idents, e, unknown) {
                Ok(Some(replacement)) => {
                    *e = replacement;
                    ControlFlow::Continue(())
                }
                Ok(None) => ControlFlow::Continue(()),
                Err(error) => ControlFlow::Break(error),
            }
        });
        match outcome {
            ControlFlow::Break(error) => Err(error),
            ControlFlow::Continue(()) => Ok(()),
        }
    }

    /// The expression the column `idents` (written as `at`) stands for;
    /// `None` to leave it as written.
    fn resolve(&self, idents: &[Ident], at: &Expr, unknown: Unknown) -> Result<Option<Expr>> {
        let name = match idents {
            [name] => name,
            [table, name]
                if self
                    .alias
                    .as_ref()
                    .is_some_and(|a| same(&a.value, &table.value)) =>
            {
                name
            }
            _ => {
                let called = match &self.alias {
                    Some(alias) => format!("{alias}.<column> or <column>"),
                    None => "<column> (give the subquery an alias to qualify it)".to_string(),
                };
                return Err(error_at(
                    format!("`{at}` is not a column here: the subquery's columns are {called}"),
                    at,
                ));
            }
        };
        let mut matches = self.named.iter().filter(|(n, _, _)| same(n, &name.value));
        match (matches.next(), matches.next()) {
            (Some(_), Some(_)) => Err(error_at(
                format!("`{at}` is ambiguous: the subquery has two columns called {name}"),
                at,
            )),
            (Some((_, expr, _)), None) => Ok(Some(parenthesized(expr.clone()))),
            (None, _) if self.passes_through => Ok(Some(self.passed_through(name))),
            (None, _) if unknown == Unknown::Keep || is_implicit(at, name) => Ok(None),
            (None, _) => Err(error_at(
                format!(
                    "column {name} is not a column of the subquery (its columns: {})",
                    self.listed()
                ),
                at,
            )),
        }
    }

    fn listed(&self) -> String {
        let names: Vec<&str> = self.named.iter().map(|(n, _, _)| n.as_str()).collect();
        names.join(", ")
    }

    /// The outer SELECT list over the subquery: `*` is the subquery's list,
    /// and every item keeps the name it has over the subquery.
    fn substitute_items(&self, items: &[SelectItem]) -> Result<Vec<SelectItem>> {
        let mut substituted = Vec::new();
        for item in items {
            match item {
                SelectItem::Wildcard(_) => substituted.extend(self.items.iter().cloned()),
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) if self.is_alias(n) => substituted.extend(self.items.iter().cloned()),
                SelectItem::UnnamedExpr(expr) => {
                    let name = self.name_over_subquery(expr)?;
                    let expr = self.substituted(expr, Unknown::Refuse)?;
                    substituted.push(match name {
                        Some(alias) => SelectItem::ExprWithAlias { expr, alias },
                        None => SelectItem::UnnamedExpr(expr),
                    });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    substituted.push(SelectItem::ExprWithAlias {
                        expr: self.substituted(expr, Unknown::Refuse)?,
                        alias: alias.clone(),
                    })
                }
                other => {
                    return Err(error_at(
                        format!("SELECT item `{other}` is not supported over a subquery"),
                        other,
                    ))
                }
            }
        }
        Ok(substituted)
    }

    /// The alias an unaliased outer item needs to keep its name once its
    /// columns are replaced; `None` when the merged item is named the same
    /// without one.
    fn name_over_subquery(&self, expr: &Expr) -> Result<Option<Ident>> {
        let idents = match expr {
            Expr::Identifier(id) => std::slice::from_ref(id),
            Expr::CompoundIdentifier(ids) => ids.as_slice(),
            // Named after the function, whatever its arguments become.
            Expr::Function(_)
            | Expr::Extract { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. } => return Ok(None),
            other => return Ok(Some(Ident::new(other.to_string()))),
        };
        let Some(name) = idents.last() else {
            return Ok(None);
        };
        let aliased = self
            .named
            .iter()
            .find(|(n, _, _)| same(n, &name.value))
            .is_some_and(|(_, _, aliased)| *aliased);
        Ok(aliased.then(|| Ident::new(name.value.clone())))
    }
}

/// A name the planner gives meaning without a column: a window bound
/// (`window_start`), ksqlDB's `ROWTIME` (the source's event time), or a
/// time unit (`TIMESTAMPDIFF(SECOND, a, b)`).
fn is_implicit(at: &Expr, name: &Ident) -> bool {
    window_bound(at).is_some()
        || same(&name.value, "rowtime")
        || TimeUnit::from_name(&name.value).is_some()
}

/// The name an unaliased SELECT item can be referred to by: a column's.
fn column_name_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(id) => Some(id.value.clone()),
        Expr::CompoundIdentifier(ids) => ids.last().map(|i| i.value.clone()),
        _ => None,
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `expr`, in parentheses unless it is one term already.
fn parenthesized(expr: Expr) -> Expr {
    match expr {
        Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Function(_)
        | Expr::Value(_)
        | Expr::Nested(_)
        | Expr::Cast { .. }
        | Expr::Extract { .. }
        | Expr::Ceil { .. }
        | Expr::Floor { .. }
        | Expr::Substring { .. }
        | Expr::Trim { .. }
        | Expr::Case { .. }
        | Expr::Interval(_)
        | Expr::TypedString(_) => expr,
        other => Expr::Nested(Box::new(other)),
    }
}

#[cfg(test)]
#[path = "inline_tests.rs"]
mod tests;
