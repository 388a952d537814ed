//! Queries in two stages: a Top-N over a grouping's rows (Flink's window
//! Top-N, `ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY
//! cnt DESC) .. WHERE rn <= N` around a windowed GROUP BY), and a grouping
//! over a grouping's rows (Nexmark q4: the average closing price per
//! category, over each auction's closing price).
//!
//! The first stage is the grouping, planned and run as any query is (keyed
//! by its GROUP BY over the shard mesh). The second reads its rows on the
//! merger, where they arrive whole and in output order: every row of a
//! window closes in the same chunk on every shard, so a window can be ranked
//! (or grouped again) as soon as its rows are written, and each window's
//! rows are written once. The second stage is planned as a query over a
//! source whose columns are the grouping's output.

use super::functions::contains_over;
use super::inline::{expand_named_queries, groups, groups_when_merged, uses_over};
use super::planner::{
    plan_first_stage_query, plan_one_stage, Catalog, PlanSettings, Planning, TableDef,
};
use super::resolve::error_at;
use super::{ExprKind, QueryKind, QueryPlan, ScalarExpr, TopNPlan};
use crate::data::Schema;
use crate::error::{Error, Result};
use crate::sql::{EmitClause, StreamingQuery};
use sqlparser::ast::{visit_expressions, Expr, Ident, ObjectName, Query, SetExpr, TableFactor};
use std::ops::ControlFlow;

/// A plan's second stage, on the merger, over its first stage's rows.
#[derive(Debug, Clone)]
pub enum SecondStage {
    Rank(Box<RankStage>),
    Group(Box<GroupStage>),
}

/// The second stage of a grouping over a grouping: groups the first
/// grouping's rows again on the merger, by the outer GROUP BY.
#[derive(Debug, Clone)]
pub struct GroupStage {
    /// The first stage's output columns: the row this stage reads.
    pub input: Schema,
    /// The outer grouping, planned over a source of `input`'s columns: an
    /// unwindowed grouping (its WHERE, HAVING and SELECT list included).
    pub plan: QueryPlan,
    /// Where `window_start` and `window_end` are in its row, when the
    /// outer GROUP BY has both: a window's groups are then complete once
    /// the window's rows are in, written (EMIT FINAL) and dropped. `None`:
    /// groups span the whole input, and EMIT FINAL writes them at its end.
    pub window_columns: Option<[usize; 2]>,
}

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

/// The plan of `query` in two stages, when it ranks (OVER) or groups the
/// rows of a grouping subquery; `None` when it is a one-stage query.
pub(super) fn plan_in_stages(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<Option<QueryPlan>> {
    if query.window.is_some() {
        return Ok(None);
    }
    let expanded = expand_named_queries(query.query.as_ref().clone(), catalog)?;
    for of in [FirstStageOf::Rank, FirstStageOf::Group] {
        let mut outer = expanded.clone();
        let Some((grouping, name)) = take_grouping_under(&mut outer, of, false, catalog) else {
            continue;
        };
        let first = plan_first_stage(query, &grouping, catalog, settings, of)?;
        let stages = Stages {
            query,
            outer,
            name,
            grouping,
        };
        let staged = match of {
            FirstStageOf::Rank => plan_rank_stage(stages, first, catalog, settings),
            FirstStageOf::Group => plan_group_stage(stages, first, catalog, settings),
        };
        return staged.map(Some);
    }
    Ok(None)
}

/// A query split in two: the outer query reads the table `name` in place
/// of the grouping subquery it had there.
struct Stages<'q> {
    query: &'q StreamingQuery,
    outer: Query,
    name: Ident,
    grouping: Query,
}

impl Stages<'_> {
    /// The catalog the second stage is planned in: `catalog` and a table
    /// of the first stage's output columns.
    fn catalog(&self, catalog: &Catalog, first: &QueryPlan) -> Catalog {
        let mut stage_catalog = catalog.clone();
        stage_catalog.add(TableDef {
            name: self.name.value.clone(),
            schema: first.output.clone(),
            properties: Vec::new(),
        });
        stage_catalog
    }

    /// The outer query as a query of its own, with `emit`.
    fn second(&self, emit: Option<EmitClause>) -> StreamingQuery {
        StreamingQuery {
            query: Box::new(self.outer.clone()),
            window: None,
            emit,
            stream_name: self.query.stream_name.clone(),
            properties: self.query.properties.clone(),
            system_time: Vec::new(),
            within: None,
            insert_into: self.query.insert_into,
            location: self.query.location,
        }
    }
}

/// Which second stage a first stage feeds: the query levels that read it
/// differ, and its errors say which.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FirstStageOf {
    Rank,
    Group,
}

impl FirstStageOf {
    /// True when `select` (below a reading level when `under_reader`) is the
    /// level that reads the grouping: one with a window function (OVER, in
    /// its SELECT list or QUALIFY; the levels below it too, which filter and
    /// project for it) for a Top-N, one that groups for a grouping.
    fn reads(self, select: &sqlparser::ast::Select, under_reader: bool) -> bool {
        match self {
            FirstStageOf::Rank => {
                under_reader
                    || uses_over(select)
                    || select.qualify.as_ref().is_some_and(contains_over)
            }
            FirstStageOf::Group => groups(select),
        }
    }

    fn name(self) -> &'static str {
        match self {
            FirstStageOf::Rank => "a Top-N over a grouping",
            FirstStageOf::Group => "a grouping over a grouping",
        }
    }

    /// What the second stage does with the grouping's rows.
    fn verb(self) -> &'static str {
        match self {
            FirstStageOf::Rank => "ranks",
            FirstStageOf::Group => "groups again",
        }
    }
}

/// The grouping subquery planned as a query of its own, checked to write
/// each group's row once.
fn plan_first_stage(
    query: &StreamingQuery,
    grouping: &Query,
    catalog: &Catalog,
    settings: &PlanSettings,
    of: FirstStageOf,
) -> Result<QueryPlan> {
    let first = plan_first_stage_query(
        &first_stage(query, grouping, of),
        catalog,
        &first_settings(settings),
    )?;
    check_first_stage(&first, grouping, of)?;
    Ok(first)
}

/// A Top-N over the grouping's rows: each window's rows (or, unwindowed,
/// all of them) ranked on the merger.
fn plan_rank_stage(
    stages: Stages<'_>,
    first: QueryPlan,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<QueryPlan> {
    let window_columns = selected_window_columns(&first);
    let windowed = matches!(&first.kind, QueryKind::Aggregate(a) if a.window.is_some());
    if windowed && window_columns.is_none() {
        return Err(error_at(
            "a Top-N over a windowed grouping ranks each window's rows: select window_start \
             and window_end in the grouping and PARTITION BY both",
            &stages.grouping,
        ));
    }
    let stage_catalog = stages.catalog(catalog, &first);
    // What the second stage is, before it is planned to write its rows
    // once (as EMIT FINAL), which only a Top-N may.
    let plan_second = |emit| {
        plan_one_stage(
            &stages.second(emit),
            &stage_catalog,
            settings,
            Planning::OverWholeWindows,
        )
    };
    let second = match plan_second(None) {
        Ok(plan) if !matches!(plan.kind, QueryKind::TopN(_)) => plan,
        _ => plan_second(Some(EmitClause::Final))?,
    };
    let over_call = first_over_call(&stages.outer);
    let refuse = |message: &str| match &over_call {
        Some(call) => error_at(message, call),
        None => error_at(message, &stages.grouping),
    };
    let top_n = second_stage_top_n(second.kind, window_columns, &refuse)?;
    let stage = RankStage {
        input: first.output.clone(),
        filter: second.filter,
        top_n,
        window_columns,
        changelog: second.changelog,
    };
    Ok(QueryPlan {
        output: second.output,
        order_by: second.order_by,
        limit: second.limit,
        stream_name: second.stream_name,
        properties: second.properties,
        stage: Some(SecondStage::Rank(Box::new(stage))),
        ..first
    })
}

/// A grouping over the grouping's rows, on the merger: with the window
/// bounds in its GROUP BY, each window's groups are written when the
/// window's rows are in; otherwise its groups span the input.
fn plan_group_stage(
    stages: Stages<'_>,
    first: QueryPlan,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<QueryPlan> {
    let stage_catalog = stages.catalog(catalog, &first);
    let plan_second = |emit| {
        plan_one_stage(
            &stages.second(emit),
            &stage_catalog,
            settings,
            Planning::Query,
        )
    };
    let mut second = plan_second(stages.query.emit)?;
    let window_columns = outer_window_columns(&first, &second);
    if stages.query.emit.is_none() && window_columns.is_some() {
        // Grouped by the inner windows, the outer groups close with them:
        // written once, as a windowed grouping's are by default.
        second = plan_second(Some(EmitClause::Final))?;
    }
    let QueryKind::Aggregate(grouping) = &second.kind else {
        return Err(error_at(
            "a grouping over a grouping must group (GROUP BY or an aggregate)",
            &stages.outer,
        ));
    };
    if grouping.window.is_some() {
        return Err(error_at(
            "a grouping over a grouping cannot window the inner rows again: group by the inner \
             grouping's window_start and window_end instead (each window's groups are written \
             when it closes)",
            &stages.outer,
        ));
    }
    let stage = GroupStage {
        input: first.output.clone(),
        window_columns,
        plan: QueryPlan {
            order_by: Vec::new(),
            limit: None,
            ..second.clone()
        },
    };
    Ok(QueryPlan {
        output: second.output,
        order_by: second.order_by,
        limit: second.limit,
        stream_name: second.stream_name,
        properties: second.properties,
        stage: Some(SecondStage::Group(Box::new(stage))),
        ..first
    })
}

/// Where the inner grouping's window bounds are in its rows, when the
/// outer grouping `second` groups by both.
fn outer_window_columns(first: &QueryPlan, second: &QueryPlan) -> Option<[usize; 2]> {
    let QueryKind::Aggregate(grouping) = &second.kind else {
        return None;
    };
    let grouped_by = |column: usize| {
        grouping
            .group_keys
            .iter()
            .any(|k| k.kind == ExprKind::Column(column))
    };
    selected_window_columns(first).filter(|[start, end]| grouped_by(*start) && grouped_by(*end))
}

/// Finds, below a query level that reads as `reader`'s second stage does
/// ([`FirstStageOf::reads`]), a subquery in FROM that groups; writes a table of the subquery's name (its alias, or
/// `grouped`) in its place and returns it with that name.
fn take_grouping_under(
    query: &mut Query,
    reader: FirstStageOf,
    under_reader: bool,
    catalog: &Catalog,
) -> Option<(Query, Ident)> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let reads = reader.reads(select, under_reader);
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
    if !reads || !groups_when_merged(subquery, catalog) {
        return take_grouping_under(subquery, reader, reads, catalog);
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

/// The grouping as a query of its own: the script's EMIT clause (under a
/// grouping, EMIT CHANGES is the outer grouping's: the inner one then has
/// its default) and time settings, none of its output settings.
fn first_stage(query: &StreamingQuery, grouping: &Query, of: FirstStageOf) -> StreamingQuery {
    let emit = match (of, query.emit) {
        (FirstStageOf::Group, Some(EmitClause::Changes)) => None,
        (_, emit) => emit,
    };
    let output_keys = ["changelog.mode", "output.format", "format"];
    StreamingQuery {
        query: Box::new(grouping.clone()),
        window: None,
        emit,
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
/// EMIT FINAL).
fn check_first_stage(first: &QueryPlan, grouping: &Query, of: FirstStageOf) -> Result<()> {
    let QueryKind::Aggregate(_) = &first.kind else {
        return Err(error_at(
            "a window function over this subquery is not supported: it needs a second stage, \
             and only a Top-N over a grouping has one",
            grouping,
        ));
    };
    if first.emit != super::EmitMode::Final {
        return Err(error_at(
            format!(
                "{} {} the grouping's final rows: group by a window (each window is read when \
                 it closes) or, over a bounded input, write EMIT FINAL",
                of.name(),
                of.verb()
            ),
            grouping,
        ));
    }
    if first.limit.is_some() || !first.order_by.is_empty() {
        return Err(error_at(
            format!(
                "ORDER BY or LIMIT inside the grouping under {} is not supported: put them \
                 on the outer query",
                of.name()
            ),
            grouping,
        ));
    }
    Ok(())
}

/// Where a windowed grouping's output has `window_start` and `window_end`,
/// when it selects both.
fn selected_window_columns(first: &QueryPlan) -> Option<[usize; 2]> {
    let QueryKind::Aggregate(aggregate) = &first.kind else {
        return None;
    };
    aggregate.window.as_ref()?;
    let selected = |column: usize| {
        aggregate
            .projections
            .iter()
            .position(|p| p.kind == ExprKind::Column(column))
    };
    let start = selected(aggregate.window_start_index())?;
    let end = selected(aggregate.window_end_index())?;
    Some([start, end])
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
