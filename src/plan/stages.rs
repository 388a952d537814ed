//! Queries in two stages: a Top-N over a grouping's rows (Flink's window
//! Top-N, `ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY
//! cnt DESC) .. WHERE rn <= N` around a windowed GROUP BY).
//!
//! The first stage is the grouping, planned and run as any query is (keyed
//! by its GROUP BY over the shard mesh). The second ranks its rows on the
//! merger, where they arrive whole and in output order: every row of a
//! window closes in the same chunk on every shard, so a window can be ranked
//! as soon as its rows are written, and each window's top rows are written
//! once. The second stage is planned as a Top-N over a source whose columns
//! are the grouping's output.

use super::functions::contains_over;
use super::inline::{expand_named_queries, groups_when_merged, uses_over};
use super::planner::{plan_one_stage, Catalog, PlanSettings, Planning, TableDef};
use super::resolve::error_at;
use super::{ExprKind, QueryKind, QueryPlan, ScalarExpr, TopNPlan};
use crate::data::Schema;
use crate::error::{Error, Result};
use crate::sql::{EmitClause, StreamingQuery};
use sqlparser::ast::{visit_expressions, Expr, Ident, ObjectName, Query, SetExpr, TableFactor};
use std::ops::ControlFlow;

/// The second stage of a Top-N over a grouping: ranks the grouping's rows
/// on the merger and writes each window's top rows once its rows are in.
#[derive(Debug, Clone)]
pub struct RankStage {
    /// The first stage's output columns: the row this stage reads.
    pub input: Schema,
    /// WHERE between the grouping and the ranking, over its row.
    pub filter: Option<ScalarExpr>,
    pub top_n: TopNPlan,
    /// Where `window_start` and `window_end` are in its row: a window's
    /// rows arrive together, and it is ranked once they have. `None` for an
    /// unwindowed grouping, whose rows all come at the end of the input.
    pub window_columns: Option<[usize; 2]>,
    /// The output starts with the changelog's `op` column (always `+I`:
    /// each window's rows are written once).
    pub changelog: bool,
}

/// The plan of `query` in two stages, when it ranks (OVER) the rows of a
/// grouping subquery; `None` when it is a one-stage query.
pub(super) fn plan_in_stages(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<Option<QueryPlan>> {
    if query.window.is_some() {
        return Ok(None);
    }
    let mut outer = expand_named_queries(query.query.as_ref().clone(), catalog)?;
    let Some((grouping, name)) = take_grouping_under_over(&mut outer, false, catalog) else {
        return Ok(None);
    };
    let first_settings = first_settings(settings);
    let first = plan_one_stage(
        &first_stage(query, &grouping),
        catalog,
        &first_settings,
        Planning::Query,
    )?;
    let window_columns = check_first_stage(&first, &grouping)?;
    let mut stage_catalog = catalog.clone();
    stage_catalog.add(TableDef {
        name: name.value.clone(),
        schema: first.output.clone(),
        properties: Vec::new(),
    });
    let second_stage = |emit| StreamingQuery {
        query: Box::new(outer.clone()),
        window: None,
        emit,
        stream_name: query.stream_name.clone(),
        properties: query.properties.clone(),
        system_time: Vec::new(),
        within: None,
        insert_into: query.insert_into,
        location: query.location,
    };
    // What the second stage is, before it is planned to write its rows
    // once (as EMIT FINAL), which only a Top-N may.
    let plan_second = |emit| {
        plan_one_stage(
            &second_stage(emit),
            &stage_catalog,
            settings,
            Planning::OverWholeWindows,
        )
    };
    let second = match plan_second(None) {
        Ok(plan) if !matches!(plan.kind, QueryKind::TopN(_)) => plan,
        _ => plan_second(Some(EmitClause::Final))?,
    };
    let over_call = first_over_call(&outer);
    let refuse = |message: &str| match &over_call {
        Some(call) => error_at(message, call),
        None => error_at(message, &grouping),
    };
    let top_n = second_stage_top_n(second.kind, window_columns, &refuse)?;
    let stage = RankStage {
        input: first.output.clone(),
        filter: second.filter,
        top_n,
        window_columns,
        changelog: second.changelog,
    };
    Ok(Some(QueryPlan {
        output: second.output,
        order_by: second.order_by,
        limit: second.limit,
        stream_name: second.stream_name,
        properties: second.properties,
        stage: Some(Box::new(stage)),
        ..first
    }))
}

/// Finds, below a query level with a window function (OVER, in its SELECT
/// list or QUALIFY), a subquery in FROM that groups; writes a table of the
/// subquery's name (its alias, or `grouped`) in its place and returns it
/// with that name.
fn take_grouping_under_over(
    query: &mut Query,
    over_above: bool,
    catalog: &Catalog,
) -> Option<(Query, Ident)> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let over_here =
        over_above || uses_over(select) || select.qualify.as_ref().is_some_and(contains_over);
    let [from] = select.from.as_mut_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::Derived {
        subquery, alias, ..
    } = &mut from.relation
    else {
        return None;
    };
    if !over_here || !groups_when_merged(subquery, catalog) {
        return take_grouping_under_over(subquery, over_here, catalog);
    }
    let name = alias
        .as_ref()
        .map_or_else(|| Ident::new("grouped"), |a| a.name.clone());
    let grouping = subquery.as_ref().clone();
    from.relation = table_named(&name);
    Some((grouping, name))
}

/// `FROM <name>`: what a query reads in place of a subquery planned on its own.
pub(super) fn table_named(name: &Ident) -> TableFactor {
    TableFactor::Table {
        name: ObjectName::from(vec![name.clone()]),
        alias: None,
        args: None,
        with_hints: Vec::new(),
        version: None,
        with_ordinality: false,
        partitions: Vec::new(),
        json_path: None,
        sample: None,
        index_directives: Vec::new(),
        inheritance: None,
    }
}

/// The grouping as a query of its own: the script's EMIT clause and time
/// settings, none of its output settings.
fn first_stage(query: &StreamingQuery, grouping: &Query) -> StreamingQuery {
    let output_keys = ["changelog.mode", "output.format", "format"];
    StreamingQuery {
        query: Box::new(grouping.clone()),
        window: None,
        emit: query.emit,
        stream_name: None,
        properties: query
            .properties
            .iter()
            .filter(|(k, _)| !output_keys.iter().any(|o| k.eq_ignore_ascii_case(o)))
            .cloned()
            .collect(),
        system_time: query.system_time.clone(),
        within: query.within,
        insert_into: false,
        location: query.location,
    }
}

fn first_settings(settings: &PlanSettings) -> PlanSettings {
    PlanSettings {
        changelog: false,
        ..*settings
    }
}

/// The grouping must write each group's row once (its windows close, or
/// EMIT FINAL); returns where its window bounds are in its row.
fn check_first_stage(first: &QueryPlan, grouping: &Query) -> Result<Option<[usize; 2]>> {
    let QueryKind::Aggregate(aggregate) = &first.kind else {
        return Err(error_at(
            "a window function over this subquery is not supported: it needs a second stage, \
             and only a Top-N over a grouping has one",
            grouping,
        ));
    };
    if first.emit != super::EmitMode::Final {
        return Err(error_at(
            "a Top-N over a grouping ranks the grouping's final rows: group by a window \
             (each window is ranked when it closes) or, over a bounded input, write EMIT FINAL",
            grouping,
        ));
    }
    if first.limit.is_some() || !first.order_by.is_empty() {
        return Err(error_at(
            "ORDER BY or LIMIT inside the grouping under a Top-N is not supported: put them \
             on the outer query",
            grouping,
        ));
    }
    if aggregate.window.is_none() {
        return Ok(None);
    }
    let selected = |column: usize| {
        aggregate
            .projections
            .iter()
            .position(|p| p.kind == ExprKind::Column(column))
    };
    let start = selected(aggregate.window_start_index());
    let end = selected(aggregate.window_end_index());
    match start.zip(end) {
        Some((start, end)) => Ok(Some([start, end])),
        None => Err(error_at(
            "a Top-N over a windowed grouping ranks each window's rows: select window_start \
             and window_end in the grouping and PARTITION BY both",
            grouping,
        )),
    }
}

/// The first window function (OVER) call in `query`, where the second
/// stage's errors point.
fn first_over_call(query: &Query) -> Option<Expr> {
    let found = visit_expressions(query, |e| match e {
        Expr::Function(f) if f.over.is_some() => ControlFlow::Break(e.clone()),
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(call) => Some(call),
        ControlFlow::Continue(()) => None,
    }
}

/// The second stage must be a Top-N, partitioned by the window when the
/// grouping has one.
fn second_stage_top_n(
    second: QueryKind,
    window_columns: Option<[usize; 2]>,
    refuse: &dyn Fn(&str) -> Error,
) -> Result<TopNPlan> {
    let QueryKind::TopN(top_n) = second else {
        return Err(refuse(
            "only a Top-N (ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) with rn <= N) may \
             read a grouping's rows yet: other window functions over a grouping need a \
             second stage corestream does not have",
        ));
    };
    let partitioned_by = |column: usize| {
        top_n
            .partition_keys
            .iter()
            .any(|k| k.kind == ExprKind::Column(column))
    };
    if let Some([start, end]) = window_columns {
        if !partitioned_by(start) || !partitioned_by(end) {
            return Err(refuse(
                "a Top-N over a windowed grouping ranks each window's rows: PARTITION BY \
                 window_start, window_end (and any other keys), as Flink's window Top-N does",
            ));
        }
    }
    Ok(top_n)
}
