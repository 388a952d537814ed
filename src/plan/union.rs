//! UNION ALL of streams: `SELECT .. FROM a [WHERE ..] UNION ALL SELECT ..
//! FROM b [WHERE ..]`, at the top of a query or as a subquery in FROM (a
//! WITH query or a view included), with anything a query over one source
//! may do above it.
//!
//! Each branch is a filter and a projection over one source. The branches
//! run where their rows are read: every record of a branch's source is
//! turned into a row of the union (or dropped by the branch's WHERE, and
//! counted as filtered) before it is routed, so everything above the union
//! (WHERE, GROUP BY, windows, OVER, ORDER BY) is planned, as usual, over one
//! source: a table whose columns are the union's (named by the first
//! branch, as in SQL). The runtime reads the branches' chunks interleaved
//! and keeps one watermark per branch (see `runtime::inputs`).

use super::planner::{plan_one_stage, plan_query, Catalog, PlanSettings, Planning, TableDef};
use super::resolve::error_at;
use super::stages::table_named;
use super::{ExprKind, QueryKind, QueryPlan, ScalarExpr};
use crate::data::{DataType, Field, Schema};
use crate::error::Result;
use crate::sql::StreamingQuery;
use sqlparser::ast::{Ident, Query, SetExpr, SetOperator, SetQuantifier, Statement, TableFactor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

/// The name the union is read by when it has no alias (a UNION ALL at the
/// top of the query, or an unnamed subquery).
const UNNAMED: &str = "unioned";

/// The branches of a UNION ALL: each source's rows, filtered and projected
/// into the union's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionPlan {
    pub branches: Vec<UnionBranch>,
}

/// One branch of a UNION ALL.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionBranch {
    /// The source it reads.
    pub source: TableDef,
    /// Its WHERE, over the source's row.
    pub filter: Option<ScalarExpr>,
    /// The union's columns, over the source's row.
    pub columns: Vec<ScalarExpr>,
}

impl UnionBranch {
    /// True when the branch passes its source's rows through as they are
    /// (`SELECT * FROM s` with no WHERE): nothing to evaluate per row.
    pub fn passes_rows_through(&self) -> bool {
        self.filter.is_none()
            && self.columns.len() == self.source.schema.len()
            && self
                .columns
                .iter()
                .enumerate()
                .all(|(i, c)| matches!(c.kind, ExprKind::Column(column) if column == i))
    }
}

/// The plan of `query` when it reads a UNION ALL (planned as any query is,
/// over a table of the union's columns); `None` when it reads none.
pub(super) fn plan_over_union(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<Option<QueryPlan>> {
    let mut outer = super::inline::expand_named_queries(query.query.as_ref().clone(), catalog)?;
    let Some((union, name)) = take_union(&mut outer)? else {
        return Ok(None);
    };
    let branch_settings = PlanSettings {
        changelog: false,
        ..*settings
    };
    let mut branches = Vec::new();
    let mut nodes = Vec::new();
    collect_branches(union.body.as_ref(), &mut nodes)?;
    let mut names = Vec::new();
    for node in &nodes {
        let branch = branch_query(query, &union, node);
        let plan = plan_one_stage(&branch, catalog, &branch_settings, Planning::Query)?;
        if names.is_empty() {
            names = plan.output.fields.iter().map(|f| f.name.clone()).collect();
        }
        branches.push(check_branch(plan, node)?);
    }
    let (columns, out_of_orderness_ms) = union_columns(names, &branches, &nodes)?;
    let mut union_catalog = catalog.clone();
    union_catalog.add(TableDef {
        name: name.value.clone(),
        schema: columns,
        properties: vec![(
            "watermark.max_out_of_orderness".to_string(),
            format!("{out_of_orderness_ms}ms"),
        )],
    });
    let over_union = StreamingQuery {
        query: Box::new(outer),
        ..query.clone()
    };
    let mut plan = plan_query(&over_union, &union_catalog, settings)?;
    if plan.join.is_some() {
        return Err(error_at(
            "a join of two streams with a UNION ALL on one side is not supported yet \
             (a join of a UNION ALL with a table is)",
            &union,
        ));
    }
    plan.union = Some(UnionPlan {
        branches: branches.into_iter().map(|(branch, _)| branch).collect(),
    });
    Ok(Some(plan))
}

/// Finds the UNION ALL the query reads (its own body, or a subquery in
/// FROM, however deep) and writes a table of its name in its place;
/// returns the union as a query and that name.
fn take_union(query: &mut Query) -> Result<Option<(Query, Ident)>> {
    if matches!(query.body.as_ref(), SetExpr::SetOperation { .. }) {
        let mut reader = select_all_from(UNNAMED);
        reader.order_by = query.order_by.take();
        reader.limit_clause = query.limit_clause.take();
        let union = std::mem::replace(query, reader);
        return Ok(Some((union, Ident::new(UNNAMED))));
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(None);
    };
    let [from] = select.from.as_mut_slice() else {
        return Ok(None);
    };
    let TableFactor::Derived {
        subquery, alias, ..
    } = &mut from.relation
    else {
        return Ok(None);
    };
    if !matches!(subquery.body.as_ref(), SetExpr::SetOperation { .. }) {
        return take_union(subquery);
    }
    if let Some(order_by) = &subquery.order_by {
        return Err(error_at(
            "ORDER BY inside a subquery is not supported (order the outer query)",
            order_by,
        ));
    }
    if subquery.limit_clause.is_some() {
        return Err(error_at(
            "LIMIT inside a UNION ALL subquery is not supported (limit the outer query)",
            subquery.as_ref(),
        ));
    }
    let name = alias
        .as_ref()
        .map_or_else(|| Ident::new(UNNAMED), |a| a.name.clone());
    let union = subquery.as_ref().clone();
    from.relation = table_named(&name);
    Ok(Some((union, name)))
}

/// `SELECT * FROM <name>`: what a query whose body is a union reads.
fn select_all_from(name: &str) -> Query {
    let text = format!("SELECT * FROM {name}");
    match Parser::parse_sql(&GenericDialect {}, &text).map(|mut s| s.pop()) {
        Ok(Some(Statement::Query(query))) => *query,
        _ => unreachable!("`{text}` is a query"),
    }
}

/// The branches of a (possibly nested) UNION ALL, left to right.
fn collect_branches<'q>(body: &'q SetExpr, branches: &mut Vec<&'q SetExpr>) -> Result<()> {
    match body {
        SetExpr::SetOperation {
            op,
            set_quantifier,
            left,
            right,
        } => {
            if *op != SetOperator::Union {
                return Err(error_at(
                    format!("{op} is not supported; UNION ALL is"),
                    body,
                ));
            }
            if !matches!(set_quantifier, SetQuantifier::All) {
                return Err(error_at(
                    "UNION without ALL is not supported: it would keep every row ever seen to \
                     drop repeats; write UNION ALL, or SELECT DISTINCT * FROM (.. UNION ALL ..)",
                    body,
                ));
            }
            collect_branches(left, branches)?;
            collect_branches(right, branches)
        }
        SetExpr::Query(inner)
            if inner.order_by.is_none() && inner.limit_clause.is_none() && inner.with.is_none() =>
        {
            collect_branches(inner.body.as_ref(), branches)
        }
        SetExpr::Select(_) => {
            branches.push(body);
            Ok(())
        }
        other => Err(error_at(
            "a UNION ALL branch must be a SELECT from one source",
            other,
        )),
    }
}

/// A branch as a query of its own: no output settings, no EMIT clause.
fn branch_query(query: &StreamingQuery, union: &Query, branch: &SetExpr) -> StreamingQuery {
    let mut branch_query = union.clone();
    branch_query.body = Box::new(branch.clone());
    branch_query.with = None;
    StreamingQuery {
        query: Box::new(branch_query),
        window: None,
        emit: None,
        stream_name: None,
        properties: Vec::new(),
        system_time: query.system_time.clone(),
        within: None,
        insert_into: false,
        location: query.location,
    }
}

/// A branch must filter and project one source's rows, row by row.
fn check_branch(plan: QueryPlan, node: &SetExpr) -> Result<(UnionBranch, i64)> {
    let refuse = |what: &str| {
        Err(error_at(
            format!(
                "{what} inside a UNION ALL branch is not supported: a branch filters and \
                 projects one source (group, join or order above the union)"
            ),
            node,
        ))
    };
    if !plan.lookups.is_empty() {
        return refuse("a join");
    }
    if plan.union.is_some() || plan.stage.is_some() {
        return refuse("a subquery");
    }
    let QueryKind::Stateless { projections } = plan.kind else {
        return refuse("GROUP BY, an aggregate or a window function");
    };
    let branch = UnionBranch {
        source: plan.source,
        filter: plan.filter,
        columns: projections,
    };
    Ok((branch, plan.time.max_out_of_orderness_ms))
}

/// The union's columns: the first branch's names; every branch must have as
/// many columns, of the same types. Also the largest out-of-orderness its
/// sources declare (each branch keeps its own watermark, delayed by it).
fn union_columns(
    names: Vec<String>,
    branches: &[(UnionBranch, i64)],
    nodes: &[&SetExpr],
) -> Result<(Schema, i64)> {
    let (first, _) = &branches[0];
    let mut types: Vec<DataType> = first.columns.iter().map(|c| c.data_type).collect();
    for (number, ((branch, _), node)) in branches.iter().zip(nodes).enumerate().skip(1) {
        if branch.columns.len() != types.len() {
            return Err(error_at(
                format!(
                    "UNION ALL branch {} has {} where the first has {}",
                    number + 1,
                    columns(branch.columns.len()),
                    columns(types.len())
                ),
                *node,
            ));
        }
        for (i, (theirs, ours)) in branch.columns.iter().zip(types.iter_mut()).enumerate() {
            match (theirs.data_type, *ours) {
                (theirs, ours) if theirs == ours || theirs == DataType::Null => {}
                (theirs, DataType::Null) => *ours = theirs,
                (theirs, ours) => {
                    return Err(error_at(
                        format!(
                            "UNION ALL column {} ({}) is {theirs} in branch {} and {ours} \
                             before it: CAST one to the other's type",
                            i + 1,
                            names[i],
                            number + 1,
                        ),
                        *node,
                    ))
                }
            }
        }
    }
    let fields = names
        .into_iter()
        .zip(types)
        .map(|(name, data_type)| Field::new(name, data_type))
        .collect();
    let out_of_orderness = branches.iter().map(|(_, ms)| *ms).max().unwrap_or(0);
    Ok((Schema::new(fields), out_of_orderness))
}

fn columns(count: usize) -> String {
    match count {
        1 => "1 column".to_string(),
        n => format!("{n} columns"),
    }
}
