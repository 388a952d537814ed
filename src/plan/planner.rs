//! From a parsed [`StreamingQuery`] to a [`QueryPlan`]: checks the query's
//! shape (one stream and the tables it joins, no ORDER BY, ...), plans its clauses with the
//! expression planner, splits a grouped query into keys, window, aggregates
//! and what is computed over them, names the output columns, and settles the
//! emit mode, changelog, LIMIT and time settings.

use super::changelog::{wants_changelog, with_op_column};
use super::from_window::{check_session_partition, from_window, FromWindow};
use super::functions::{contains_aggregate, contains_over, window_bound};
use super::group_refs::{resolve_group_refs, SelectRef};
use super::inline::inline_subqueries;
use super::join::{and, mark_read_columns, plan_joins, JoinKind, LookupJoin};
use super::order::{sort_keys, OutputColumns};
use super::over::OverCalls;
use super::resolve::{error_at, function_name, ExprPlanner, GroupState, SourceScope};
use super::sink::insert_target;
use super::stages::plan_in_stages;
use super::stream_join::plan_stream_join;
use super::union::plan_over_union;
use super::window::{flink_window, split_group_by, GroupBy};
use super::{AggregatePlan, EmitMode, QueryKind, QueryPlan, ScalarExpr, TimeSettings};
use crate::data::{parse_duration, Field, Schema};
use crate::error::{Error, Result};
use crate::sql::{EmitClause, StreamingQuery, SystemTimeAsOf};
use ahash::{AHashMap, AHashSet};
use sqlparser::ast::{
    self as sql, Expr as SqlExpr, GroupByExpr, LimitClause, Select, SelectItem, SetExpr,
    TableFactor,
};
use std::ops::ControlFlow;

/// A source the query may read: its name, schema and WITH properties
/// (lower-cased keys; `path`, `format`, ... interpreted by `io`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub name: String,
    pub schema: Schema,
    pub properties: Vec<(String, String)>,
}

impl TableDef {
    /// The value of a WITH property (key compared case-insensitively).
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The sources known to a run: declared by DDL or by `--source`.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: Vec<TableDef>,
}

impl Catalog {
    /// Adds or replaces (by case-insensitive name) a table.
    pub fn add(&mut self, table: TableDef) {
        self.tables
            .retain(|t| !t.name.eq_ignore_ascii_case(&table.name));
        self.tables.push(table);
    }

    pub fn get(&self, name: &str) -> Option<&TableDef> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn tables(&self) -> &[TableDef] {
        &self.tables
    }
}

/// Settings from the command line; they override the query's WITH properties.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanSettings {
    pub max_out_of_orderness_ms: Option<i64>,
    pub allowed_lateness_ms: Option<i64>,
    /// Write a changelog (`--changelog`), whatever the WITH properties say.
    pub changelog: bool,
}

/// Resolves and type-checks `query` against `catalog`.
pub fn plan_query(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<QueryPlan> {
    if let Some(plan) = plan_over_union(query, catalog, settings)? {
        return Ok(plan);
    }
    match plan_stream_join(query, catalog, settings) {
        Ok(Some(plan)) => return Ok(plan),
        Ok(None) => {}
        // Merged into one stage, a Top-N over a grouping of a join may not
        // run there (its PARTITION BY lacks the join key); in two stages it
        // may. Otherwise the join's error says what is wrong.
        Err(error) => {
            return match plan_in_stages(query, catalog, settings) {
                Ok(Some(staged)) => Ok(staged),
                _ => Err(error),
            }
        }
    }
    match plan_in_stages(query, catalog, settings)? {
        Some(staged) => Ok(staged),
        None => plan_one_stage(query, catalog, settings, Planning::Query),
    }
}

/// [`plan_query`] for a first stage: a union or a join of two streams is
/// planned as such, but not a second stage of its own.
pub(super) fn plan_first_stage_query(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<QueryPlan> {
    if let Some(plan) = plan_over_union(query, catalog, settings)? {
        return Ok(plan);
    }
    if let Some(plan) = plan_stream_join(query, catalog, settings)? {
        return Ok(plan);
    }
    plan_one_stage(query, catalog, settings, Planning::Query)
}

/// What a query planned by [`plan_one_stage`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Planning {
    /// A query of its own (or a first stage, or a union's branch).
    Query,
    /// A second stage, whose input comes a whole window at a time: RANK and
    /// DENSE_RANK by a value are Top-Ns there.
    OverWholeWindows,
    /// The query over a join of two streams, planned as a join with a
    /// table whose columns carry event time as the stream's do.
    OverJoinedStreams,
}

/// [`plan_query`] for a query of one stage.
pub(super) fn plan_one_stage(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
    planning: Planning,
) -> Result<QueryPlan> {
    let whole_windows = planning == Planning::OverWholeWindows;
    if query.within.is_some() {
        // Only a join of two streams, planned before this, may have WITHIN.
        super::stream_join::refuse_within::<()>(query.within.as_ref())?;
    }
    let query = &inline_subqueries(query, catalog)?;
    let select = select_of(&query.query)?;
    let (mut scope, from_window, lookups) = source_scope(select, catalog, &query.system_time)?;
    scope.joins_a_stream = planning == Planning::OverJoinedStreams;
    let filter = select
        .selection
        .as_ref()
        .map(|w| ExprPlanner::over_source(&scope, "in WHERE").plan_condition(w, "WHERE"))
        .transpose()?;
    let filter = only_matched_rows(&lookups, filter);
    let columns = column_identifiers(&scope);
    let distinct = is_distinct(select)?;
    let items = match distinct {
        true => distinct_items(select, &columns, &scope)?,
        false => select_items(select, &scope)?,
    };
    let group_exprs = match distinct {
        true => distinct_keys(&items),
        false => group_by_with_refs(select, &items, &scope)?,
    };
    let group_by = split_group_by(&group_exprs, query.window.as_ref(), &scope)?;
    if let Some(window) = &from_window {
        check_session_partition(window, &group_by.keys)?;
    }
    let from_window = from_window
        .map(|f| flink_window(&f.name, &f.args, f.call, &scope).map(|spec| (spec, f.call)))
        .transpose()?;
    let group_by = group_by.with_from_window(from_window)?;
    let grouped = is_grouped(select, &items, &group_by)?;
    refuse_over_a_window_function(&items, &group_by)?;
    let windowed = group_by.window.is_some();
    let order_exprs: Vec<&SqlExpr> = match query.query.order_by.as_ref().map(|o| &o.kind) {
        Some(sql::OrderByKind::Expressions(exprs)) => exprs.iter().map(|e| &e.expr).collect(),
        _ => Vec::new(),
    };
    let mut group_order = Vec::new();
    let (mut kind, output) = if grouped {
        let (kind, output, order) = plan_grouped(select, &items, group_by, &scope, &order_exprs)?;
        group_order = order;
        (kind, output)
    } else if uses_over(select, &items) {
        plan_over(select, &items, &scope, whole_windows)?
    } else {
        plan_stateless(&items, &scope)?
    };
    let keeps_rows = grouped || matches!(kind, QueryKind::TopN(_));
    let emit = emit_mode(query, keeps_rows, windowed)?;
    let changelog = wants_changelog(settings, &query.properties)?;
    let mut hidden = Vec::new();
    let order_by = match &query.query.order_by {
        Some(order_by) => {
            let columns = OutputColumns {
                names: &output,
                exprs: output_exprs(&items, &scope),
            };
            let grouping = matches!(kind, QueryKind::Aggregate(_));
            let mut hidden_column = |e: &SqlExpr| -> Result<Option<usize>> {
                let planned = if grouping {
                    // Planned over the group row with the SELECT list, if it could be.
                    let found = group_order.iter().find(|(o, _)| *o == e);
                    match found.and_then(|(_, planned)| planned.clone()) {
                        Some(planned) => planned,
                        None => return Ok(None),
                    }
                } else {
                    ExprPlanner::over_source(&scope, "in ORDER BY").plan(e)?
                };
                hidden.push(planned);
                Ok(Some(output.len() + hidden.len() - 1))
            };
            sort_keys(
                order_by,
                &columns,
                &kind,
                (emit, changelog),
                &mut hidden_column,
            )?
        }
        None => Vec::new(),
    };
    add_hidden_columns(&mut kind, hidden);
    let (output, properties) = match (&query.stream_name, query.insert_into) {
        (Some(sink), true) => insert_target(sink, output, catalog, query.location)?,
        _ => (output, query.properties.clone()),
    };
    let output = if changelog {
        with_op_column(output)?
    } else {
        output
    };
    let mut plan = QueryPlan {
        source: scope.table.clone(),
        lookups,
        filter,
        kind,
        output,
        emit,
        changelog,
        order_by,
        limit: limit_of(&query.query)?,
        time: time_settings(settings, &query.properties, &scope.table.properties)?,
        stream_name: query.stream_name.clone(),
        properties,
        stage: None,
        union: None,
        join: None,
    };
    mark_read_columns(&mut plan);
    Ok(plan)
}

/// The SELECT of `query`, after rejecting the clauses a stream cannot have.
fn select_of(query: &sql::Query) -> Result<&Select> {
    if let Some(fetch) = &query.fetch {
        return Err(error_at("FETCH is not supported (use LIMIT)", fetch));
    }
    let unsupported_extra = !query.locks.is_empty()
        || query.for_clause.is_some()
        || query.settings.is_some()
        || query.format_clause.is_some()
        || !query.pipe_operators.is_empty();
    if unsupported_extra {
        return Err(error_at(format!("unsupported clause in `{query}`"), query));
    }
    let select = match query.body.as_ref() {
        SetExpr::Select(select) => select,
        SetExpr::SetOperation { op, .. } => {
            return Err(error_at(
                format!("{op} is not supported"),
                query.body.as_ref(),
            ))
        }
        SetExpr::Query(_) => return Err(error_at("subqueries are not supported", query)),
        other => {
            return Err(error_at(
                format!("only SELECT is supported, not `{other}`"),
                other,
            ))
        }
    };
    check_select_clauses(select)?;
    Ok(select)
}

pub(super) fn check_select_clauses(select: &Select) -> Result<()> {
    let unsupported = |what: &str| Err(error_at(format!("{what} is not supported"), select));
    let over = select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => contains_over(e),
        _ => false,
    });
    match select.named_window.first() {
        Some(first) if !over => {
            return Err(error_at(
                "named windows (WINDOW w AS (..)) are only for OVER; for a grouping \
                 window write WINDOW TUMBLING(..) or GROUP BY TUMBLE(..)",
                first,
            ))
        }
        _ => {}
    }
    if let Some(qualify) = &select.qualify {
        if !over && !contains_over(qualify) {
            return Err(error_at(
                "QUALIFY filters on window functions (OVER); use WHERE",
                qualify,
            ));
        }
    }
    let exotic = select.top.is_some()
        || select.into.is_some()
        || select.exclude.is_some()
        || !select.lateral_views.is_empty()
        || select.prewhere.is_some()
        || !select.connect_by.is_empty()
        || !select.cluster_by.is_empty()
        || !select.distribute_by.is_empty()
        || !select.sort_by.is_empty()
        || select.value_table_mode.is_some();
    if exotic {
        return unsupported("a clause of this SELECT");
    }
    Ok(())
}

/// An inner join's unmatched rows are dropped as WHERE drops rows: the
/// filter is `matched AND .. AND where`.
fn only_matched_rows(lookups: &[LookupJoin], filter: Option<ScalarExpr>) -> Option<ScalarExpr> {
    let matched = lookups
        .iter()
        .filter(|j| j.kind == JoinKind::Inner)
        .map(LookupJoin::matched);
    let conditions: Vec<ScalarExpr> = matched.chain(filter).collect();
    conditions
        .into_iter()
        .fold(None, |all, c| Some(and(all, c)))
}

/// The stream the query reads, looked up in `catalog`, the window when FROM
/// is a window table function, and the tables it joins.
fn source_scope<'c, 'q>(
    select: &'q Select,
    catalog: &'c Catalog,
    system_time: &[SystemTimeAsOf],
) -> Result<(SourceScope<'c>, Option<FromWindow<'q>>, Vec<LookupJoin>)> {
    let from = match select.from.as_slice() {
        [one] => one,
        [] => return Err(error_at("a query needs FROM <source>", select)),
        [_, second, ..] => {
            return Err(error_at(
                "FROM a, b is not supported: join a table with FROM a JOIN b ON a.key = b.key",
                second,
            ))
        }
    };
    if let Some(window) = from_window(&from.relation)? {
        if let Some(join) = from.joins.first() {
            return Err(error_at(
                "a JOIN after a window table function is not supported: join the stream, \
                 then window with GROUP BY TUMBLE(..), HOP(..) or SESSION(..)",
                &join.relation,
            ));
        }
        let scope = window_source(&window, catalog)?;
        return Ok((scope, Some(window), Vec::new()));
    }
    if let Some(clause) = system_time.first().filter(|_| from.joins.is_empty()) {
        return Err(Error::plan(
            "FOR SYSTEM_TIME AS OF is only allowed on a joined table",
            Some(clause.location),
        ));
    }
    let (name, alias) = match &from.relation {
        TableFactor::Table {
            name, alias, args, ..
        } if args.is_none() => (name, alias),
        other => return Err(error_at(format!("FROM {other} is not supported"), other)),
    };
    let table_name = match name.0.as_slice() {
        [part] => part.as_ident().map(|i| i.value.as_str()),
        _ => None,
    }
    .ok_or_else(|| error_at(format!("table name {name} is not supported"), name))?;
    let table = catalog
        .get(table_name)
        .ok_or_else(|| error_at(unknown_table(table_name, catalog), name))?;
    if let Some(a) = alias.as_ref().filter(|a| !a.columns.is_empty()) {
        return Err(error_at(
            "column aliases on the source are not supported",
            a,
        ));
    }
    let mut scope = SourceScope::of(table, alias.as_ref().map(|a| a.name.value.clone()));
    let lookups = plan_joins(&from.joins, &mut scope, catalog, system_time)?;
    Ok((scope, None, lookups))
}

/// The source a window table function reads (its first argument).
fn window_source<'c>(window: &FromWindow, catalog: &'c Catalog) -> Result<SourceScope<'c>> {
    let name = window.table_name()?;
    let table = catalog
        .get(&name.value)
        .ok_or_else(|| error_at(unknown_table(&name.value, catalog), window.table))?;
    Ok(SourceScope::of(
        table,
        window.alias.map(|a| a.name.value.clone()),
    ))
}

pub(crate) fn unknown_table(name: &str, catalog: &Catalog) -> String {
    let known: Vec<&str> = catalog.tables().iter().map(|t| t.name.as_str()).collect();
    if known.is_empty() {
        format!(
            "unknown table '{name}' (no sources are declared: use CREATE TABLE .. WITH (..) or --source)"
        )
    } else {
        format!(
            "unknown table '{name}' (known tables: {})",
            known.join(", ")
        )
    }
}

/// True for `SELECT DISTINCT`; `DISTINCT ON (..)` is an error.
fn is_distinct(select: &Select) -> Result<bool> {
    match &select.distinct {
        None | Some(sql::Distinct::All) => Ok(false),
        Some(sql::Distinct::Distinct) => Ok(true),
        Some(sql::Distinct::On(_)) => Err(error_at(
            "SELECT DISTINCT ON (..) is not supported (deduplication needs ROW_NUMBER)",
            select,
        )),
    }
}

/// The row's columns as identifiers, for `SELECT DISTINCT *` (qualified
/// by their table's name when the query joins tables).
fn column_identifiers(scope: &SourceScope) -> Vec<SqlExpr> {
    let qualify = !scope.joined.is_empty();
    scope
        .fields()
        .map(|(_, field, part)| match qualify {
            true => SqlExpr::CompoundIdentifier(vec![
                sql::Ident::new(part.qualifier()),
                sql::Ident::new(&field.name),
            ]),
            false => SqlExpr::Identifier(sql::Ident::new(&field.name)),
        })
        .collect()
}

/// The SELECT list of `SELECT DISTINCT`, `*` spelled out as `columns`. It is
/// a GROUP BY over these items, so GROUP BY and aggregates are refused.
fn distinct_items<'q>(
    select: &'q Select,
    columns: &'q [SqlExpr],
    scope: &SourceScope,
) -> Result<Vec<Item<'q>>> {
    if let Some(first) = group_by_exprs(select)?.first() {
        return Err(error_at(
            "SELECT DISTINCT with GROUP BY is not supported (GROUP BY already gives one row \
             per group)",
            first,
        ));
    }
    let mut items = Vec::new();
    for item in select_items(select, scope)? {
        match item {
            Item::Expr { expr, .. } if contains_aggregate(expr) => {
                return Err(error_at(
                    "SELECT DISTINCT with aggregate functions is not supported",
                    expr,
                ))
            }
            Item::Expr { .. } => items.push(item),
            Item::AllColumns(_) => items.extend(columns.iter().map(|expr| Item::Expr {
                expr,
                name: default_name(expr, scope),
                aliased: false,
            })),
        }
    }
    Ok(items)
}

/// The GROUP BY of `SELECT DISTINCT`: every item but the window bounds
/// (`window_start`, `window_end`), which the window gives.
fn distinct_keys(items: &[Item]) -> Vec<SqlExpr> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Expr { expr, .. } if window_bound(expr).is_none() => Some((*expr).clone()),
            _ => None,
        })
        .collect()
}

/// One entry of the SELECT list.
enum Item<'q> {
    Expr {
        expr: &'q SqlExpr,
        name: String,
        /// True when the name is an alias written with AS.
        aliased: bool,
    },
    /// `*` or `source.*`.
    AllColumns(&'q SelectItem),
}

fn select_items<'q>(select: &'q Select, scope: &SourceScope) -> Result<Vec<Item<'q>>> {
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(expr) => Ok(Item::Expr {
                expr,
                name: default_name(expr, scope),
                aliased: false,
            }),
            SelectItem::ExprWithAlias { expr, alias } => Ok(Item::Expr {
                expr,
                name: alias.value.clone(),
                aliased: true,
            }),
            SelectItem::Wildcard(options) if plain_wildcard(options) => Ok(Item::AllColumns(item)),
            SelectItem::QualifiedWildcard(
                sql::SelectItemQualifiedWildcardKind::ObjectName(n),
                options,
            ) if plain_wildcard(options) && names_source(n, scope) => Ok(Item::AllColumns(item)),
            other => Err(error_at(
                format!("SELECT item `{other}` is not supported"),
                other,
            )),
        })
        .collect()
}

fn plain_wildcard(options: &sql::WildcardAdditionalOptions) -> bool {
    options.opt_ilike.is_none()
        && options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
        && options.opt_alias.is_none()
}

fn names_source(name: &sql::ObjectName, scope: &SourceScope) -> bool {
    wildcard_part(name, scope).is_some()
}

/// Where the columns of the table `name` (in `name.*`) start, and how many.
fn wildcard_part(name: &sql::ObjectName, scope: &SourceScope) -> Option<(usize, usize)> {
    let written = name.to_string();
    let written = written.trim_matches('"');
    scope
        .parts()
        .find(|part| part.is_called(written))
        .map(|part| (part.offset, part.table.schema.len()))
}

/// The row's columns an `*` or `t.*` stands for.
fn wildcard_columns(item: &SelectItem, scope: &SourceScope) -> std::ops::Range<usize> {
    match item {
        SelectItem::QualifiedWildcard(sql::SelectItemQualifiedWildcardKind::ObjectName(n), _) => {
            wildcard_part(n, scope).map_or(0..0, |(offset, len)| offset..offset + len)
        }
        _ => 0..scope.width(),
    }
}

/// The output name of an unaliased SELECT item: a column's name, a function's
/// name in lower case, else the expression's SQL text.
fn default_name(expr: &SqlExpr, scope: &SourceScope) -> String {
    match expr {
        SqlExpr::Identifier(id) => column_name(std::slice::from_ref(id), expr, scope),
        SqlExpr::CompoundIdentifier(ids) => column_name(ids, expr, scope),
        SqlExpr::Function(f) => function_name(f),
        SqlExpr::Extract { .. } => "extract".into(),
        SqlExpr::Ceil { .. } => "ceil".into(),
        SqlExpr::Floor { .. } => "floor".into(),
        SqlExpr::Substring { .. } => "substring".into(),
        SqlExpr::Trim { .. } => "trim".into(),
        other => other.to_string(),
    }
}

fn column_name(idents: &[sql::Ident], expr: &SqlExpr, scope: &SourceScope) -> String {
    match scope.resolve(idents, expr) {
        Ok((index, _)) => scope
            .fields()
            .nth(index)
            .map(|(_, field, _)| field.name.clone())
            .unwrap_or_default(),
        Err(_) => idents.last().map(|i| i.value.clone()).unwrap_or_default(),
    }
}

fn group_by_exprs(select: &Select) -> Result<&[SqlExpr]> {
    match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => Ok(exprs),
        other => Err(error_at(format!("{other} is not supported"), other)),
    }
}

/// The GROUP BY expressions with ordinals and output aliases replaced by
/// the SELECT items they name.
fn group_by_with_refs(
    select: &Select,
    items: &[Item],
    scope: &SourceScope,
) -> Result<Vec<SqlExpr>> {
    let written = group_by_exprs(select)?;
    let refs: Vec<SelectRef> = items
        .iter()
        .map(|item| match item {
            Item::Expr {
                expr,
                name,
                aliased,
            } => SelectRef {
                expr: Some(*expr),
                alias: aliased.then_some(name.as_str()),
            },
            Item::AllColumns(_) => SelectRef {
                expr: None,
                alias: None,
            },
        })
        .collect();
    resolve_group_refs(written, &refs, scope)
}

/// GROUP BY, a window, or an aggregate in SELECT or HAVING make a query grouped.
fn is_grouped(select: &Select, items: &[Item], group_by: &GroupBy) -> Result<bool> {
    let aggregates_in_select = items.iter().any(|item| match item {
        Item::Expr { expr, .. } => contains_aggregate(expr),
        Item::AllColumns(_) => false,
    });
    let grouped = !group_by.keys.is_empty()
        || group_by.window.is_some()
        || aggregates_in_select
        || select.having.as_ref().is_some_and(contains_aggregate);
    match &select.having {
        Some(having) if !grouped => Err(error_at(
            "HAVING needs GROUP BY or an aggregate function",
            having,
        )),
        _ => Ok(grouped),
    }
}

/// A window function over a window table function's rows, with no
/// grouping (Flink's window Top-N and window deduplication): only the
/// first row per window in time, `rn = 1`, runs (as a grouping, see
/// `dedup`); anything else is refused by name.
fn refuse_over_a_window_function(items: &[Item], group_by: &GroupBy) -> Result<()> {
    let only_window = group_by.window.is_some()
        && group_by.keys.is_empty()
        && !items
            .iter()
            .any(|item| matches!(item, Item::Expr { expr, .. } if contains_aggregate(expr)));
    let over = items.iter().find_map(|item| match item {
        Item::Expr { expr, .. } if contains_over(expr) => Some(*expr),
        _ => None,
    });
    match over {
        Some(over) if only_window => Err(error_at(
            format!(
                "a window function over a window table function's rows (Flink's window Top-N) \
                 is not supported yet; the first row per window in time (`ROW_NUMBER() OVER \
                 (PARTITION BY window_start, window_end, .. ORDER BY <time>)` with `rn = 1`) \
                 is, and so is a Top-N without windows: `{over}`"
            ),
            over,
        )),
        _ => Ok(()),
    }
}

fn plan_stateless(items: &[Item], scope: &SourceScope) -> Result<(QueryKind, Schema)> {
    let mut planner = ExprPlanner::over_source(scope, "here");
    let (projections, names) = plan_items(&mut planner, items, scope)?;
    let output = output_schema(names, &projections);
    Ok((QueryKind::Stateless { projections }, output))
}

/// Window functions (OVER) in the SELECT list or QUALIFY make a query an
/// OVER query.
fn uses_over(select: &Select, items: &[Item]) -> bool {
    let in_items = items.iter().any(|item| match item {
        Item::Expr { expr, .. } => contains_over(expr),
        Item::AllColumns(_) => false,
    });
    in_items || select.qualify.as_ref().is_some_and(contains_over)
}

fn plan_over(
    select: &Select,
    items: &[Item],
    scope: &SourceScope,
    whole_windows: bool,
) -> Result<(QueryKind, Schema)> {
    let overs = OverCalls::new(&select.named_window, scope.width());
    let mut planner = ExprPlanner::over_windows(scope, overs);
    let (projections, names) = plan_items(&mut planner, items, scope)?;
    let qualify = select
        .qualify
        .as_ref()
        .map(|q| planner.plan_condition(&with_aliases_expanded(q, items, scope), "QUALIFY"))
        .transpose()?;
    let overs = planner
        .into_overs()
        .ok_or_else(|| Error::plan("internal: OVER planning lost its calls", None))?;
    let output = output_schema(names, &projections);
    let kind = overs.into_plan(projections, qualify, select, whole_windows)?;
    Ok((kind, output))
}

/// `e` (QUALIFY) with the SELECT list's aliases replaced by their
/// expressions; a source column of the same name wins, as in GROUP BY.
fn with_aliases_expanded(e: &SqlExpr, items: &[Item], scope: &SourceScope) -> SqlExpr {
    let mut expanded = e.clone();
    let _ = sql::visit_expressions_mut(&mut expanded, |e| {
        let SqlExpr::Identifier(id) = e else {
            return ControlFlow::<()>::Continue(());
        };
        if scope.has_column(&id.value) {
            return ControlFlow::Continue(());
        }
        let aliased = items.iter().find_map(|item| match item {
            Item::Expr {
                expr,
                name,
                aliased: true,
            } if name.eq_ignore_ascii_case(&id.value) => Some(*expr),
            _ => None,
        });
        if let Some(aliased) = aliased {
            *e = SqlExpr::Nested(Box::new(aliased.clone()));
        }
        ControlFlow::Continue(())
    });
    expanded
}

/// Appends ORDER BY's hidden columns to the SELECT list (over the source
/// row, or the group row of a grouping): the sorting sink drops them (the
/// output schema has none).
fn add_hidden_columns(kind: &mut QueryKind, hidden: Vec<ScalarExpr>) {
    match kind {
        QueryKind::Stateless { projections } => projections.extend(hidden),
        QueryKind::Over(over) => over.projections.extend(hidden),
        QueryKind::TopN(top) => top.projections.extend(hidden),
        QueryKind::Aggregate(aggregate) => aggregate.projections.extend(hidden),
    }
}

/// The SELECT item each output column comes from (`None`: a column of `*`).
fn output_exprs<'q>(items: &[Item<'q>], scope: &SourceScope) -> Vec<Option<&'q SqlExpr>> {
    let mut exprs = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Expr { expr, .. } => exprs.push(Some(*expr)),
            Item::AllColumns(item) => {
                let columns = wildcard_columns(item, scope);
                exprs.extend(columns.map(|_| None));
            }
        }
    }
    exprs
}

/// The SELECT list's expressions and output names; `*` stands for the
/// source row's columns.
fn plan_items(
    planner: &mut ExprPlanner,
    items: &[Item],
    scope: &SourceScope,
) -> Result<(Vec<ScalarExpr>, Vec<String>)> {
    let mut projections = Vec::with_capacity(items.len());
    let mut names = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Expr { expr, name, .. } => {
                projections.push(planner.plan(expr)?);
                names.push(name.clone());
            }
            Item::AllColumns(item) => {
                let columns = wildcard_columns(item, scope);
                for (i, field, _) in scope.fields().filter(|(i, ..)| columns.contains(i)) {
                    projections.push(ScalarExpr::column(i, field.data_type));
                    names.push(field.name.clone());
                }
            }
        }
    }
    Ok((projections, names))
}

/// A grouping's plan and output, and each ORDER BY expression planned over
/// the group row where it can be (a key, an aggregate, an expression of
/// them): what ORDER BY may sort by besides the output columns.
type GroupedPlan<'q> = (QueryKind, Schema, Vec<(&'q SqlExpr, Option<ScalarExpr>)>);

fn plan_grouped<'q>(
    select: &Select,
    items: &[Item],
    group_by: GroupBy,
    scope: &SourceScope,
    order_exprs: &[&'q SqlExpr],
) -> Result<GroupedPlan<'q>> {
    let keys = group_by
        .keys
        .iter()
        .map(|k| ExprPlanner::over_source(scope, "in GROUP BY").plan(k))
        .collect::<Result<Vec<_>>>()?;
    let group = GroupState::new(keys, group_by.window.is_some());
    let mut planner = ExprPlanner::over_groups(scope, group);
    let mut projections = Vec::with_capacity(items.len());
    let mut names = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Expr { expr, name, .. } => {
                projections.push(planner.plan(expr)?);
                names.push(name.clone());
            }
            Item::AllColumns(item) => {
                return Err(error_at(
                    "SELECT * cannot be used with GROUP BY, aggregates or a window; \
                     list the keys and aggregates",
                    *item,
                ))
            }
        }
    }
    let mut having = select
        .having
        .as_ref()
        .map(|h| planner.plan_condition(h, "HAVING"))
        .transpose()?;
    // An ORDER BY expression that is no output column and does not plan
    // over the group row is refused later, naming the output columns.
    let mut order: Vec<(&SqlExpr, Option<ScalarExpr>)> = order_exprs
        .iter()
        .map(|e| (*e, planner.plan(e).ok()))
        .collect();
    let group = planner
        .into_group()
        .ok_or_else(|| Error::plan("internal: grouped planning lost its groups", None))?;
    let planned_order = order.iter_mut().filter_map(|(_, planned)| planned.as_mut());
    for expr in projections
        .iter_mut()
        .chain(having.iter_mut())
        .chain(planned_order)
    {
        group.finish(expr);
    }
    let output = output_schema(names, &projections);
    let plan = AggregatePlan {
        group_keys: group.keys,
        window: group_by.window,
        aggregates: group.aggregates,
        having,
        projections,
    };
    Ok((QueryKind::Aggregate(plan), output, order))
}

/// Output fields: `names` made unique (`x`, `x_2`, `x_3`; compared without
/// regard to case), types from `exprs`. Linear in the number of names: each
/// name remembers the next suffix to try.
fn output_schema(names: Vec<String>, exprs: &[ScalarExpr]) -> Schema {
    let mut taken: AHashSet<String> = AHashSet::with_capacity(names.len());
    let mut next_suffix: AHashMap<String, usize> = AHashMap::new();
    let mut fields = Vec::with_capacity(names.len());
    for (name, expr) in names.into_iter().zip(exprs) {
        let folded = name.to_ascii_lowercase();
        let unique = if taken.insert(folded.clone()) {
            name
        } else {
            let suffix = next_suffix.entry(folded).or_insert(2);
            loop {
                let candidate = format!("{name}_{suffix}");
                *suffix += 1;
                if taken.insert(candidate.to_ascii_lowercase()) {
                    break candidate;
                }
            }
        };
        fields.push(Field::new(unique, expr.data_type));
    }
    Schema::new(fields)
}

/// How the result is emitted; `updating` when rows of the result change
/// (a grouping or a Top-N), which EMIT FINAL needs.
fn emit_mode(query: &StreamingQuery, updating: bool, windowed: bool) -> Result<EmitMode> {
    match (query.emit, updating) {
        (Some(EmitClause::Final), false) => Err(Error::plan(
            "EMIT FINAL needs GROUP BY, an aggregate, a window or a Top-N; \
             a query without them emits each row as it arrives",
            (query.location.line > 0).then_some(query.location),
        )),
        (Some(EmitClause::Final), true) => Ok(EmitMode::Final),
        (Some(EmitClause::Changes), _) => Ok(EmitMode::Changes),
        (None, _) if windowed => Ok(EmitMode::Final),
        (None, _) => Ok(EmitMode::Changes),
    }
}

fn limit_of(query: &sql::Query) -> Result<Option<u64>> {
    match &query.limit_clause {
        None => Ok(None),
        Some(LimitClause::LimitOffset {
            limit,
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => limit.as_ref().map(limit_value).transpose(),
        Some(other) => Err(error_at(
            format!(
                "only LIMIT n is supported, not `{}`",
                other.to_string().trim()
            ),
            other,
        )),
    }
}

fn limit_value(e: &SqlExpr) -> Result<u64> {
    if let SqlExpr::Value(v) = e {
        if let sql::Value::Number(text, _) = &v.value {
            if let Ok(n) = text.parse::<u64>() {
                return Ok(n);
            }
        }
    }
    Err(error_at(
        format!("LIMIT must be a non-negative integer, got `{e}`"),
        e,
    ))
}

/// Command-line settings first, then the query's WITH properties, then
/// (for the out-of-orderness) the source's (`WATERMARK FOR ..`), else 0.
fn time_settings(
    settings: &PlanSettings,
    properties: &[(String, String)],
    source: &[(String, String)],
) -> Result<TimeSettings> {
    let keys = ["max_out_of_orderness", "watermark.max_out_of_orderness"];
    let max_out_of_orderness_ms = match settings.max_out_of_orderness_ms {
        Some(ms) => ms,
        None => match property_duration(properties, &keys)? {
            Some(ms) => ms,
            None => property_duration(source, &keys[1..])?.unwrap_or(0),
        },
    };
    let allowed_lateness_ms = match settings.allowed_lateness_ms {
        Some(ms) => ms,
        None => property_duration(properties, &["allowed_lateness"])?.unwrap_or(0),
    };
    Ok(TimeSettings {
        max_out_of_orderness_ms,
        allowed_lateness_ms,
        aligned_only: false,
    })
}

/// The first of `keys` set in `properties`, as milliseconds.
pub(super) fn property_duration(
    properties: &[(String, String)],
    keys: &[&str],
) -> Result<Option<i64>> {
    for key in keys {
        if let Some((k, v)) = properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return parse_duration(v)
                .map(Some)
                .map_err(|m| Error::Usage(format!("WITH property '{k}': {m}")));
        }
    }
    Ok(None)
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
