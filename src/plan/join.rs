//! Lookup joins: a stream joined with tables that are read in full before
//! the stream starts (enrichment).
//!
//! `FROM trades t [INNER | LEFT [OUTER]] JOIN symbols [FOR SYSTEM_TIME AS OF
//! t.ts] [AS] s ON t.symbol = s.symbol [AND ..]`. Each `ON` is a conjunction
//! of equalities between an expression over what comes before the table in
//! FROM and a column of the table. The table's columns follow in the row every
//! later clause sees; a stream row meets at most one table row (the loader
//! refuses a table that repeats a join key), so one record stays one row.
//! An inner join is planned as a left join whose unmatched rows WHERE drops
//! (they count as filtered).

use super::resolve::{error_at, visit_columns_mut, ExprPlanner, JoinedTable, SourceScope};
use super::typecheck::comparable;
use super::{
    BinaryOp, Catalog, ExprKind, OverCall, OverFunction, QueryKind, QueryPlan, ScalarExpr, TableDef,
};
use crate::data::DataType;
use crate::error::{Error, Result};
use crate::sql::SystemTimeAsOf;
use sqlparser::ast::{
    BinaryOperator, Expr as SqlExpr, Join, JoinConstraint, JoinOperator, TableFactor,
};

/// Which stream rows a lookup join keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Only rows whose key is in the table.
    Inner,
    /// Every row; the table's columns are NULL where the key is not in it.
    Left,
}

/// One table joined to the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupJoin {
    /// The table, read in full before the stream starts.
    pub table: TableDef,
    /// The alias the query calls it by, if any.
    pub alias: Option<String>,
    pub kind: JoinKind,
    /// The key expressions, over the row before this table's columns.
    pub stream_keys: Vec<ScalarExpr>,
    /// The table columns they must equal (positions in the table's own row).
    pub table_keys: Vec<usize>,
    /// Where this table's columns start in the joined row.
    pub offset: usize,
    /// The table's columns some clause reads (the rest stay NULL in the row,
    /// so they are never copied): see [`mark_read_columns`].
    pub read: Vec<bool>,
}

impl LookupJoin {
    /// The condition that holds exactly for rows this join matched: a
    /// matched row's key column is never NULL (NULL keys never match).
    pub fn matched(&self) -> ScalarExpr {
        let key = self.table_keys[0];
        let data_type = self.table.schema.fields[key].data_type;
        let column = ScalarExpr::column(self.offset + key, data_type);
        ScalarExpr::new(
            ExprKind::IsNull {
                expr: Box::new(column),
                negated: true,
            },
            DataType::Boolean,
        )
    }
}

/// Adds every table `joins` reads to `scope` and plans its ON condition.
pub(crate) fn plan_joins<'c>(
    joins: &[Join],
    scope: &mut SourceScope<'c>,
    catalog: &'c Catalog,
    system_time: &[SystemTimeAsOf],
) -> Result<Vec<LookupJoin>> {
    let mut planned = Vec::with_capacity(joins.len());
    for join in joins {
        let (kind, on) = join_kind(join)?;
        let (table, alias) = joined_table(&join.relation, catalog)?;
        let offset = scope.width();
        scope.joined.push(JoinedTable {
            table,
            alias: alias.clone(),
        });
        let (stream_keys, table_keys) = plan_on(on, scope, offset, table)?;
        planned.push(LookupJoin {
            table: table.clone(),
            alias,
            kind,
            stream_keys,
            table_keys,
            offset,
            read: vec![true; table.schema.len()],
        });
    }
    check_system_time(system_time, scope)?;
    Ok(planned)
}

/// INNER or LEFT, and the ON condition; every other kind is refused.
fn join_kind(join: &Join) -> Result<(JoinKind, &SqlExpr)> {
    let (kind, constraint) = match &join.join_operator {
        JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
        JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_) => {
            return Err(error_at(
                "RIGHT and FULL joins are not supported: the joined table is read in full \
                 before the stream, and only the stream's rows drive output \
                 (write the stream first and use LEFT JOIN)",
                &join.relation,
            ))
        }
        JoinOperator::CrossJoin(_) => {
            return Err(error_at(
                "CROSS JOIN is not supported: a join needs an equality on a key \
                 (JOIN t ON s.key = t.key)",
                &join.relation,
            ))
        }
        _ => {
            return Err(error_at(
                "this kind of join is not supported (write [LEFT] JOIN t ON s.key = t.key)",
                &join.relation,
            ))
        }
    };
    match constraint {
        JoinConstraint::On(on) => Ok((kind, on)),
        _ => Err(error_at(
            "a join needs ON with an equality on a key (JOIN t ON s.key = t.key); \
             USING, NATURAL and joins without a condition are not supported",
            &join.relation,
        )),
    }
}

/// The table a JOIN names, and its alias.
fn joined_table<'c>(
    relation: &TableFactor,
    catalog: &'c Catalog,
) -> Result<(&'c TableDef, Option<String>)> {
    let TableFactor::Table {
        name, alias, args, ..
    } = relation
    else {
        return Err(error_at(
            format!("JOIN {relation} is not supported: join a declared table by its name"),
            relation,
        ));
    };
    let table_name = match (name.0.as_slice(), args) {
        ([part], None) => part.as_ident().map(|i| i.value.as_str()),
        _ => None,
    }
    .ok_or_else(|| error_at(format!("table name {name} is not supported"), name))?;
    let table = catalog
        .get(table_name)
        .ok_or_else(|| error_at(super::planner::unknown_table(table_name, catalog), name))?;
    if let Some(a) = alias.as_ref().filter(|a| !a.columns.is_empty()) {
        return Err(error_at(
            "column aliases on a joined table are not supported",
            a,
        ));
    }
    Ok((table, alias.as_ref().map(|a| a.name.value.clone())))
}

/// The key pairs of `on`: every conjunct must be `expr = column` with the
/// column in the joined table (at `offset..`) and `expr` over what comes
/// before it.
fn plan_on(
    on: &SqlExpr,
    scope: &SourceScope,
    offset: usize,
    table: &TableDef,
) -> Result<(Vec<ScalarExpr>, Vec<usize>)> {
    let mut stream_keys = Vec::new();
    let mut table_keys = Vec::new();
    for conjunct in conjuncts(on) {
        let (stream_key, table_key) = key_pair(conjunct, scope, offset, table)?;
        stream_keys.push(stream_key);
        table_keys.push(table_key);
    }
    Ok((stream_keys, table_keys))
}

/// The conjuncts of `a AND b AND c` (in parentheses or not): a, b, c.
pub(super) fn conjuncts(e: &SqlExpr) -> Vec<&SqlExpr> {
    match e {
        SqlExpr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut all = conjuncts(left);
            all.extend(conjuncts(right));
            all
        }
        SqlExpr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

/// One `a = b` of ON: the side over the earlier columns, and the position
/// in `table` of the joined table's column.
fn key_pair(
    conjunct: &SqlExpr,
    scope: &SourceScope,
    offset: usize,
    table: &TableDef,
) -> Result<(ScalarExpr, usize)> {
    let not_a_key = || {
        error_at(
            format!(
                "ON may only hold equalities between a column of {} and an expression over \
                 the tables before it, joined by AND: `{conjunct}` is not one (filter rows \
                 in WHERE instead)",
                table.name
            ),
            conjunct,
        )
    };
    let SqlExpr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = conjunct
    else {
        return Err(not_a_key());
    };
    let mut planner = ExprPlanner::over_source(scope, "in ON");
    let (l, r) = (planner.plan(left)?, planner.plan(right)?);
    let width = table.schema.len();
    let in_table = |e: &ScalarExpr| match e.kind {
        ExprKind::Column(c) if (offset..offset + width).contains(&c) => Some(c - offset),
        _ => None,
    };
    let (stream_key, table_key, stream_sql, table_sql) = match (
        in_table(&l),
        in_table(&r),
        before(&l, offset),
        before(&r, offset),
    ) {
        (None, Some(c), true, _) => (l, c, left, right),
        (Some(c), None, _, true) => (r, c, right, left),
        _ => return Err(not_a_key()),
    };
    let table_type = table.schema.fields[table_key].data_type;
    if !comparable(stream_key.data_type, table_type) || stream_key.data_type == DataType::Null {
        return Err(error_at(
            format!(
                "cannot join on `{stream_sql}` ({}) = `{table_sql}` ({table_type}): \
                 the two sides have different types (CAST one of them)",
                stream_key.data_type
            ),
            conjunct,
        ));
    }
    Ok((stream_key, table_key))
}

/// True when every column of `e` comes before `offset`.
fn before(e: &ScalarExpr, offset: usize) -> bool {
    let mut all_before = true;
    visit_columns_mut(&mut e.clone(), &mut |c| all_before &= *c < offset);
    all_before
}

/// Every `FOR SYSTEM_TIME AS OF` must follow a joined table and name a
/// column of the stream.
fn check_system_time(clauses: &[SystemTimeAsOf], scope: &SourceScope) -> Result<()> {
    for clause in clauses {
        let at = Some(clause.location);
        let joined = scope.joined.iter().any(|j| {
            let alias = j.alias.as_deref();
            j.table.name.eq_ignore_ascii_case(&clause.table)
                || alias.is_some_and(|a| a.eq_ignore_ascii_case(&clause.table))
        });
        if !joined {
            return Err(Error::plan(
                format!(
                    "FOR SYSTEM_TIME AS OF follows '{}', which is not a joined table",
                    clause.table
                ),
                at,
            ));
        }
        let idents: Vec<sqlparser::ast::Ident> = clause
            .column
            .iter()
            .map(sqlparser::ast::Ident::new)
            .collect();
        let written = SqlExpr::CompoundIdentifier(idents.clone());
        let (index, _) = scope.resolve(&idents, &written).map_err(|e| match e {
            Error::Plan { message, .. } => {
                Error::plan(format!("in FOR SYSTEM_TIME AS OF: {message}"), at)
            }
            other => other,
        })?;
        if index >= scope.table.schema.len() {
            return Err(Error::plan(
                format!(
                    "FOR SYSTEM_TIME AS OF `{written}` must name a column of the stream {}",
                    scope.table.name
                ),
                at,
            ));
        }
    }
    Ok(())
}

/// Sets every join's [`LookupJoin::read`] to the columns of its table that
/// WHERE, the SELECT list, the GROUP BY keys, the aggregates' arguments or
/// a later join's key read.
pub(crate) fn mark_read_columns(plan: &mut QueryPlan) {
    if plan.lookups.is_empty() {
        return;
    }
    let mut read = vec![false; plan.row_width()];
    let mut mark = |e: &ScalarExpr| {
        visit_columns_mut(&mut e.clone(), &mut |c| {
            if let Some(r) = read.get_mut(*c) {
                *r = true;
            }
        })
    };
    plan.filter.iter().for_each(&mut mark);
    plan.lookups
        .iter()
        .flat_map(|j| &j.stream_keys)
        .for_each(&mut mark);
    match &plan.kind {
        QueryKind::Stateless { projections } => projections.iter().for_each(&mut mark),
        QueryKind::Aggregate(agg) => {
            agg.group_keys.iter().for_each(&mut mark);
            for call in &agg.aggregates {
                let exprs = [&call.arg, &call.filter, &call.by];
                exprs.into_iter().flatten().for_each(&mut mark);
            }
            if let Some(window) = &agg.window {
                read[window.time_column] = true;
            }
        }
        QueryKind::Over(over) => {
            // Over-row columns past the source row are the calls' results.
            over.partition_keys.iter().for_each(&mut mark);
            over.projections.iter().for_each(&mut mark);
            over.qualify.iter().for_each(&mut mark);
            for call in &over.calls {
                over_call_inputs(call).into_iter().for_each(&mut mark);
            }
            read[over.time_column] = true;
        }
        QueryKind::TopN(top) => {
            // The ranked row's column past the source row is the row number.
            top.partition_keys.iter().for_each(&mut mark);
            top.order.iter().map(|k| &k.expr).for_each(&mut mark);
            top.projections.iter().for_each(&mut mark);
            top.qualify.iter().for_each(&mut mark);
        }
    }
    for join in &mut plan.lookups {
        let width = join.table.schema.len();
        join.read = read[join.offset..join.offset + width].to_vec();
    }
}

/// The expressions over the source row a window function call reads.
fn over_call_inputs(call: &OverCall) -> Vec<&ScalarExpr> {
    match &call.function {
        OverFunction::Aggregate(a) => [&a.arg, &a.filter, &a.by].into_iter().flatten().collect(),
        OverFunction::Lag(shift) | OverFunction::Lead(shift) => {
            std::iter::once(&shift.arg).chain(&shift.default).collect()
        }
        OverFunction::FirstValue(x) | OverFunction::LastValue(x) => vec![x],
        OverFunction::RowNumber | OverFunction::Rank | OverFunction::DenseRank => Vec::new(),
    }
}

/// `a AND b`, or the one of them that is set.
pub(crate) fn and(left: Option<ScalarExpr>, right: ScalarExpr) -> ScalarExpr {
    match left {
        None => right,
        Some(left) => ScalarExpr::new(
            ExprKind::Binary {
                op: BinaryOp::And,
                left: Box::new(left),
                right: Box::new(right),
            },
            DataType::Boolean,
        ),
    }
}
