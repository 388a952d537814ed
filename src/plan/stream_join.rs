//! Joins of two streams: `FROM a [INNER | LEFT | RIGHT | FULL] JOIN b ON
//! a.k = b.k [AND ..]`, where `b` is a stream (a generator), or where ON
//! also compares the two sides (any source: a file on the right with only
//! key equalities is a table, joined as it is read: see `join`). `FROM a,
//! b WHERE a.k = b.k AND ..` is the inner join.
//!
//! When the conditions on a pair bound the right row's time relative to
//! the left row's from both sides (`b.ts BETWEEN a.ts AND a.ts + INTERVAL
//! '1' HOUR`), it is an interval join: each row is kept only until the
//! watermark passes the last time a row of the other side could pair with
//! it (see `interval`); an outer side's unmatched rows are written then.
//! Otherwise it is a regular join, which keeps every row to the end.
//!
//! Both sources are read side by side, as the branches of a UNION ALL whose
//! rows are the joined row with the other side's columns NULL, and a last,
//! hidden column that says which side a row is from. Each row is routed by
//! its own side's key, so the rows of a key meet on the shard that owns it,
//! where the join keeps every row of both sides (no time bound: the state
//! grows with the input) and writes each pair as its second row arrives.
//! Rows an outer join keeps without a match are written when the input
//! ends. WHERE and the SELECT list are over the joined row, as for a join
//! with a table.
//!
//! A GROUP BY, Top-N or OVER over the join runs on the same shard, after
//! the join, when its keys include the join key (so a group's rows all meet
//! there); its windows (OVER's event-time order), over an interval join
//! only, close as the watermark shows the join can write no more rows in
//! them. A join inside a subquery or WITH query is found once they are
//! merged into the query.

use super::explain::expr_text;
use super::inline::{expand_named_queries, inline_subqueries};
use super::interval::{join_interval, JoinInterval};
use super::join::{and, conjuncts};
use super::planner::{
    plan_one_stage, property_duration, Catalog, PlanSettings, Planning, TableDef,
};
use super::resolve::{error_at, visit_columns_mut};
use super::window_join::{window_join_of, WindowJoin};
use super::{ExprKind, QueryKind, QueryPlan, ScalarExpr, UnionBranch, UnionPlan};
use crate::data::{DataType, Field, Schema, Value};
use crate::error::Result;
use crate::sql::{StreamingQuery, Within};
use sqlparser::ast::{
    BinaryOperator, Expr as SqlExpr, Join, JoinConstraint, JoinOperator, Query, SetExpr,
    TableFactor,
};

/// Which rows a join of two streams writes besides the matched pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamJoinKind {
    Inner,
    /// Also the left rows that never matched (right columns NULL).
    Left,
    /// Also the right rows that never matched (left columns NULL).
    Right,
    /// Both.
    Full,
}

impl StreamJoinKind {
    /// True when `side` (0 left, 1 right) keeps its unmatched rows.
    pub fn keeps_unmatched(self, side: usize) -> bool {
        matches!(
            (self, side),
            (StreamJoinKind::Full, _) | (StreamJoinKind::Left, 0) | (StreamJoinKind::Right, 1)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            StreamJoinKind::Inner => "INNER",
            StreamJoinKind::Left => "LEFT",
            StreamJoinKind::Right => "RIGHT",
            StreamJoinKind::Full => "FULL",
        }
    }
}

/// A join of two streams, over the joined row: the left source's columns,
/// the right's, then the side column (and for an interval join, the time
/// column: the row's own event time).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamJoin {
    pub kind: StreamJoinKind,
    /// The left source's columns: the first `left_width` of the row.
    pub left_width: usize,
    /// The right source's columns follow them.
    pub right_width: usize,
    /// The key of a left row and of a right row, pairwise of one type.
    pub keys: [Vec<ScalarExpr>; 2],
    /// What a pair of rows with equal keys must also meet to match (ON's
    /// other conditions; for an inner join, also WHERE's conditions on both
    /// sides), over the joined row's source columns.
    pub condition: Option<ScalarExpr>,
    /// The time bounds of an interval join; `None` for a regular join.
    pub interval: Option<JoinInterval>,
    /// Per side, which of its own columns the join and what follows it
    /// read (keys, conditions, WHERE, the SELECT list, a grouping's keys,
    /// arguments and time): a kept row holds NULL in the others, so their
    /// values (a Nexmark row's long strings) are not copied into the state.
    /// Empty: all of them (after an OVER or a Top-N, which this does not
    /// look into).
    pub columns_read: [Vec<bool>; 2],
}

impl StreamJoin {
    /// Where the side column is: `false` for a left row, `true` for a right one.
    pub fn side_column(&self) -> usize {
        self.left_width + self.right_width
    }

    /// Where an interval join's row carries its own event time.
    pub fn time_column(&self) -> usize {
        self.side_column() + 1
    }

    /// The side of a joined-row-shaped source row (0 left, 1 right).
    pub fn side_of(&self, row: &[Value]) -> usize {
        usize::from(matches!(
            row.get(self.side_column()),
            Some(Value::Bool(true))
        ))
    }
}

/// The plan of `query` when it joins two streams; `None` when it does not.
pub(super) fn plan_stream_join(
    query: &StreamingQuery,
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<Option<QueryPlan>> {
    if !query.system_time.is_empty() {
        // FOR SYSTEM_TIME AS OF names a table's version: a join with a table.
        return Ok(None);
    }
    let mut merged = merged_subqueries(query, catalog)?;
    let window_join = window_join_of(&mut merged.query, catalog)?;
    let catalog = window_join.as_ref().map_or(catalog, |w| &w.catalog);
    let within = query.within.as_ref();
    let windowed = window_join.is_some();
    let Some(found) = stream_join_of(&mut merged.query, catalog, within, windowed)? else {
        return Ok(None);
    };
    let (join, kind) = (found.join, found.kind);
    let as_lookup = StreamingQuery {
        within: None,
        ..merged
    };
    let mut plan = plan_one_stage(&as_lookup, catalog, settings, Planning::OverJoinedStreams)?;
    if plan.lookups.len() != 1 || plan.union.is_some() {
        return Err(error_at(
            "a join of two streams cannot be combined with other joins yet",
            &join.relation,
        ));
    }
    let lookup = plan.lookups.remove(0);
    let (left, right) = (plan.source.clone(), lookup.table.clone());
    let (left_width, right_width) = (left.schema.len(), right.schema.len());
    let right_keys: Vec<ScalarExpr> = lookup
        .table_keys
        .iter()
        .map(|&c| ScalarExpr::column(left_width + c, right.schema.fields[c].data_type))
        .collect();
    for (l, r) in lookup.stream_keys.iter().zip(&right_keys) {
        if l.data_type != r.data_type {
            return Err(error_at(
                format!(
                    "cannot join two streams on a {} and a {}: the keys must have one type \
                     (CAST one of them)",
                    l.data_type, r.data_type
                ),
                &join.relation,
            ));
        }
    }
    let mut condition = plan_on_conditions(&as_lookup, &found.conditions, catalog, settings)?;
    let computed = |c: usize| window_join.as_ref().is_some_and(|w| w.is_window_column(c));
    let split = split_where(plan.filter.take(), kind, left_width, computed);
    plan.filter = split.rest;
    condition = split
        .pairs
        .into_iter()
        .chain(window_join.as_ref().map(WindowJoin::same_window))
        .fold(condition, |all, c| Some(and(all, c)));
    let interval = match &window_join {
        Some(window_join) => Some(window_join.interval()),
        None => condition
            .as_ref()
            .and_then(|c| join_interval(&c.conjuncts(), left_width)),
    };
    if found.needs_interval && interval.is_none() {
        return Err(error_at(
            "a join of two files is an interval join: its ON needs both a lower and an upper \
             bound on one side's time relative to the other's (b.ts BETWEEN a.ts AND a.ts + \
             INTERVAL '1' HOUR); to join a file as a table, join on key equalities only",
            &join.relation,
        ));
    }
    let time_columns = interval.map(|i| i.time_columns);
    let time_type = time_columns.map(|[l, _]| left.schema.fields[l].data_type);
    let branches: Vec<UnionBranch> = [0, 1]
        .into_iter()
        .map(|side| {
            let read = match &window_join {
                Some(w) => (&w.sides[side].source, w.own_columns(side)),
                None => (if side == 0 { &left } else { &right }, Vec::new()),
            };
            let filter = split.sides[side].clone();
            padded_branch([&left, &right], side, read, time_columns, filter)
        })
        .collect();
    let [left_name, right_name] = [0, 1].map(|b| branches[b].source.name.clone());
    plan.union = Some(UnionPlan { branches });
    plan.source = TableDef {
        name: format!("{left_name} {} JOIN {right_name}", kind.name()),
        schema: joined_schema(&left, &right, time_type),
        properties: left.properties.clone(),
    };
    plan.time.max_out_of_orderness_ms = plan
        .time
        .max_out_of_orderness_ms
        .max(declared_out_of_orderness(&right, settings)?);
    plan.join = Some(StreamJoin {
        kind,
        left_width,
        right_width,
        keys: [lookup.stream_keys, right_keys],
        condition,
        interval,
        columns_read: [Vec::new(), Vec::new()],
    });
    check_keyed_operator_over_join(&plan, &join.relation)?;
    let columns_read = columns_read_after_join(&plan);
    if let Some(join) = &mut plan.join {
        join.columns_read = columns_read;
    }
    Ok(Some(plan))
}

/// A GROUP BY or Top-N over a join of two streams runs on the shard that
/// owns the join key, after the join: every row of a group (a Top-N's
/// partition) must meet there, so its keys must include the join key (the
/// key of each side that may be written alone: an outer side's). Its
/// windows close as the watermark passes the time of rows the join may
/// still write, which only an interval join bounds, by its sides' time
/// columns.
fn check_keyed_operator_over_join(plan: &QueryPlan, at: &TableFactor) -> Result<()> {
    let Some(join) = &plan.join else {
        return Ok(());
    };
    let (keys, clause, timed) = match &plan.kind {
        QueryKind::Aggregate(grouping) => {
            let window = grouping.window.map(|w| (w.time_column, "a window"));
            (&grouping.group_keys, "GROUP BY", window)
        }
        QueryKind::TopN(top) => (&top.partition_keys, "a Top-N's PARTITION BY", None),
        QueryKind::Over(over) => {
            let ordered = Some((over.time_column, "an OVER window"));
            (&over.partition_keys, "OVER's PARTITION BY", ordered)
        }
        QueryKind::Stateless { .. } => return Ok(()),
    };
    let names = qualified_names(plan);
    let grouped_by = |key: &ScalarExpr| keys.contains(key);
    for (left, right) in join.keys[0].iter().zip(&join.keys[1]) {
        let needed: Vec<&ScalarExpr> = match join.kind {
            StreamJoinKind::Inner if grouped_by(left) || grouped_by(right) => Vec::new(),
            StreamJoinKind::Inner | StreamJoinKind::Left => vec![left],
            StreamJoinKind::Right => vec![right],
            StreamJoinKind::Full => vec![left, right],
        };
        if let Some(missing) = needed.into_iter().find(|key| !grouped_by(key)) {
            let side = match join.kind {
                StreamJoinKind::Inner => String::new(),
                kind => format!(" (of a {} join, the key of each outer side)", kind.name()),
            };
            let two_stages = match clause {
                "GROUP BY" => {
                    " (or group by the join key in a subquery and group its rows again \
                     outside it: the outer grouping then runs on the merger)"
                }
                _ => "",
            };
            return Err(error_at(
                format!(
                    "{clause} over a join of two streams must include the join key{side}: add \
                     {} to it. It runs on the shard that owns the join key; other keys need \
                     a second routing step, not supported yet{two_stages}",
                    expr_text(missing, &names)
                ),
                at,
            ));
        }
    }
    let Some((time_column, what)) = timed else {
        return Ok(());
    };
    let Some(interval) = join.interval else {
        return Err(error_at(
            format!(
                "{what} over a join of two streams needs an interval join (ON .. AND b.ts \
                 BETWEEN a.ts - INTERVAL .. AND a.ts + INTERVAL ..): a regular join may pair \
                 a row with any older row, so no event time of its rows is settled before \
                 the input ends"
            ),
            at,
        ));
    };
    let time_columns = interval.time_columns_over_joined_row(join.left_width);
    if !time_columns.contains(&time_column) {
        let [left, right] = time_columns.map(|c| names[c].clone());
        return Err(error_at(
            format!(
                "{what} over an interval join must be over {left} or {right}, the time \
                 columns the join bounds: the watermark says which of their rows can still \
                 come, not which of other columns'"
            ),
            at,
        ));
    }
    Ok(())
}

/// Which own columns of each side the plan reads over the joined row (see
/// [`StreamJoin::columns_read`]); empty for all.
fn columns_read_after_join(plan: &QueryPlan) -> [Vec<bool>; 2] {
    let Some(join) = &plan.join else {
        return [Vec::new(), Vec::new()];
    };
    let mut read: Vec<&ScalarExpr> = join.keys.iter().flatten().collect();
    read.extend(&join.condition);
    read.extend(&plan.filter);
    let mut time_column = None;
    match &plan.kind {
        QueryKind::Stateless { projections } => read.extend(projections),
        QueryKind::Aggregate(grouping) => {
            read.extend(&grouping.group_keys);
            for call in &grouping.aggregates {
                read.extend(call.arg.iter().chain(&call.filter).chain(&call.by));
            }
            time_column = grouping.window.map(|w| w.time_column);
        }
        QueryKind::Over(_) | QueryKind::TopN(_) => return [Vec::new(), Vec::new()],
    }
    let mut columns = vec![false; join.side_column()];
    let mut mark = |c: &mut usize| {
        if let Some(read) = columns.get_mut(*c) {
            *read = true;
        }
    };
    time_column.iter_mut().for_each(&mut mark);
    for expr in read {
        visit_columns_mut(&mut expr.clone(), &mut mark);
    }
    let right = columns.split_off(join.left_width);
    [columns, right]
}

/// `query` with its subqueries merged into one SELECT where they can be
/// (as [`plan_one_stage`] would), so that a join in a subquery (a Top-N
/// over a join, Nexmark q9's) is found; else with its WITH queries and
/// views expanded only (a query of stages, whose planning says why).
fn merged_subqueries(query: &StreamingQuery, catalog: &Catalog) -> Result<StreamingQuery> {
    if let Ok(merged) = inline_subqueries(query, catalog) {
        return Ok(merged);
    }
    let expanded = expand_named_queries(query.query.as_ref().clone(), catalog)?;
    Ok(StreamingQuery {
        query: Box::new(expanded),
        ..query.clone()
    })
}

/// ON's conditions other than the key equalities, planned over the joined
/// row (as WHERE would be: the query is planned once more with them as
/// its WHERE).
fn plan_on_conditions(
    query: &StreamingQuery,
    conditions: &[SqlExpr],
    catalog: &Catalog,
    settings: &PlanSettings,
) -> Result<Option<ScalarExpr>> {
    let Some(all) = conditions
        .iter()
        .cloned()
        .reduce(|all, c| SqlExpr::BinaryOp {
            left: Box::new(all),
            op: BinaryOperator::And,
            right: Box::new(c),
        })
    else {
        return Ok(None);
    };
    let mut with_conditions = query.query.as_ref().clone();
    if let SetExpr::Select(select) = with_conditions.body.as_mut() {
        select.selection = Some(all);
    }
    let query = StreamingQuery {
        query: Box::new(with_conditions),
        ..query.clone()
    };
    Ok(plan_one_stage(&query, catalog, settings, Planning::OverJoinedStreams)?.filter)
}

/// WHERE's conjuncts, by where they are applied.
struct SplitWhere {
    /// Conditions on both sides that decide which pairs match (an inner
    /// join's: there, WHERE and ON mean the same).
    pairs: Vec<ScalarExpr>,
    /// Conditions on one side's columns, applied to its rows as they are
    /// read (over its own columns), where that gives the same result.
    sides: [Option<ScalarExpr>; 2],
    /// The rest, applied to the joined rows.
    rest: Option<ScalarExpr>,
}

/// Splits `filter`. A condition on one side's columns may filter that
/// side's rows before the join unless the other side is outer: a row it
/// drops would only have made pairs, or a NULL-padded row, that it drops
/// anyway (with the other side outer, dropping it could leave a row of the
/// other side unmatched, which WHERE might keep).
/// A condition reading a `computed` column (a window join's window bounds,
/// which rows get after they are read) is applied to the joined rows.
fn split_where(
    filter: Option<ScalarExpr>,
    kind: StreamJoinKind,
    left_width: usize,
    computed: impl Fn(usize) -> bool,
) -> SplitWhere {
    let mut split = SplitWhere {
        pairs: Vec::new(),
        sides: [None, None],
        rest: None,
    };
    for mut conjunct in filter.map(ScalarExpr::into_conjuncts).unwrap_or_default() {
        let mut reads = [false; 2];
        let mut reads_computed = false;
        visit_columns_mut(&mut conjunct, &mut |c| {
            reads[usize::from(*c >= left_width)] = true;
            reads_computed |= computed(*c);
        });
        let side = match reads {
            _ if reads_computed => {
                split.rest = Some(and(split.rest.take(), conjunct));
                continue;
            }
            [true, true] if kind == StreamJoinKind::Inner => {
                split.pairs.push(conjunct);
                continue;
            }
            [true, false] => 0,
            [false, true] => 1,
            _ => {
                split.rest = Some(and(split.rest.take(), conjunct));
                continue;
            }
        };
        if kind.keeps_unmatched(1 - side) {
            split.rest = Some(and(split.rest.take(), conjunct));
            continue;
        }
        if side == 1 {
            visit_columns_mut(&mut conjunct, &mut |c| *c -= left_width);
        }
        split.sides[side] = Some(and(split.sides[side].take(), conjunct));
    }
    split
}

/// The joined row's columns named by their sources (`orders.id`), for messages.
/// (A window join's sides have their windows' columns after their own.)
fn qualified_names(plan: &QueryPlan) -> Vec<String> {
    let sources = plan.sources();
    let left_width = plan.join.as_ref().map_or(usize::MAX, |j| j.left_width);
    let names = plan.source.schema.names().enumerate();
    let qualified = names.map(
        |(i, column)| match sources.get(usize::from(i >= left_width)) {
            Some(source) if !column.starts_with('$') => format!("{}.{column}", source.name),
            _ => column.to_string(),
        },
    );
    qualified.collect()
}

/// The out-of-orderness `table` declares (or the run's setting).
fn declared_out_of_orderness(table: &TableDef, settings: &PlanSettings) -> Result<i64> {
    if let Some(ms) = settings.max_out_of_orderness_ms {
        return Ok(ms);
    }
    let declared = property_duration(&table.properties, &["watermark.max_out_of_orderness"])?;
    Ok(declared.unwrap_or(0))
}

/// The join of two streams a query's FROM holds.
struct FoundJoin {
    /// The JOIN as written (for the places errors name).
    join: Join,
    kind: StreamJoinKind,
    /// ON's conjuncts other than the key equalities.
    conditions: Vec<SqlExpr>,
    /// `a JOIN b ON ..` where b is a file and ON compares more than keys:
    /// without time bounds it would be a join with a table, so ON must
    /// bound time (`FROM a, b WHERE ..` is a join of two streams either way).
    needs_interval: bool,
}

/// The one JOIN of `query` when it joins two streams: its right side is a
/// stream, or its ON also has a range comparison (`<`, `BETWEEN`: a time
/// bound; `FROM a, b WHERE ..` is rewritten as the inner join it is). The JOIN is rewritten as a LEFT JOIN
/// on the key equalities alone, so that it plans as a join with a table (no
/// "matched" test in WHERE); the rest of ON is returned.
fn stream_join_of(
    query: &mut Query,
    catalog: &Catalog,
    within: Option<&Within>,
    windowed: bool,
) -> Result<Option<FoundJoin>> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return refuse_within(within);
    };
    // `FROM a, b` is a join of two streams whatever they are.
    let comma_join = select.from.len() == 2;
    if comma_join {
        comma_join_as_inner_join(select)?;
    }
    let [from] = select.from.as_mut_slice() else {
        return refuse_within(within);
    };
    let [join] = from.joins.as_mut_slice() else {
        return refuse_within(within);
    };
    let TableFactor::Table { name, .. } = &join.relation else {
        return refuse_within(within);
    };
    let right = name.0.last().and_then(|part| part.as_ident());
    let right_is_stream = right
        .and_then(|ident| catalog.get(&ident.value))
        .is_some_and(is_stream);
    let two_streams = right_is_stream || comma_join || within.is_some() || windowed;
    let (kind, constraint) = match &join.join_operator {
        JoinOperator::Join(c) | JoinOperator::Inner(c) => (StreamJoinKind::Inner, c),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (StreamJoinKind::Left, c),
        JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (StreamJoinKind::Right, c),
        JoinOperator::FullOuter(c) => (StreamJoinKind::Full, c),
        _ if !two_streams => return Ok(None),
        _ => {
            return Err(error_at(
                "this kind of join of two streams is not supported: write [INNER | LEFT | \
                 RIGHT | FULL] JOIN s ON a.key = s.key (a cross join keeps every row of both \
                 streams with no key to bound it)",
                &join.relation,
            ))
        }
    };
    let JoinConstraint::On(on) = constraint else {
        if !two_streams {
            return Ok(None);
        }
        return Err(error_at(
            "a join of two streams needs ON with an equality on a key (JOIN s ON a.key = \
             s.key); USING, NATURAL and joins without a condition are not supported",
            &join.relation,
        ));
    };
    let (keys, mut conditions): (Vec<SqlExpr>, Vec<SqlExpr>) =
        conjuncts(on).into_iter().cloned().partition(is_equality);
    if let Some(within) = within {
        let sides = [&from.relation, &join.relation];
        conditions.push(within_bounds(within, sides, catalog)?);
    }
    if !two_streams && !conditions.iter().any(is_range_comparison) {
        // A file joined on keys is a table (and ON's other conditions are
        // refused as for one).
        return Ok(None);
    }
    let Some(keys) = keys.into_iter().reduce(|all, k| SqlExpr::BinaryOp {
        left: Box::new(all),
        op: BinaryOperator::And,
        right: Box::new(k),
    }) else {
        return Err(error_at(
            "a join of two streams needs an equality on a key in ON (JOIN s ON a.key = \
             s.key AND ..): without one, every row would have to be kept and paired with \
             every row of the other stream",
            &join.relation,
        ));
    };
    let original = join.clone();
    join.join_operator = JoinOperator::Left(JoinConstraint::On(keys));
    Ok(Some(FoundJoin {
        join: original,
        kind,
        conditions,
        needs_interval: !two_streams,
    }))
}

/// A WITHIN that is not on a join of two streams.
pub(super) fn refuse_within<T>(within: Option<&Within>) -> Result<Option<T>> {
    match within {
        Some(within) => Err(crate::error::Error::plan(
            "WITHIN bounds a join of two streams in time: write it after the joined stream \
             (FROM a JOIN b WITHIN 1 HOUR ON a.k = b.k), with one JOIN in the query",
            Some(within.location),
        )),
        None => Ok(None),
    }
}

/// ksqlDB's `WITHIN (before, after)` as the condition it means:
/// `b.ts BETWEEN a.ts - before AND a.ts + after`, with each side's declared
/// event-time column.
fn within_bounds(within: &Within, sides: [&TableFactor; 2], catalog: &Catalog) -> Result<SqlExpr> {
    let [left, right] = sides.map(|side| time_column_of(side, within, catalog));
    let ((left_name, left_ts), (right_name, right_ts)) = (left?, right?);
    let text = format!(
        "{right_name}.{right_ts} BETWEEN {left_name}.{left_ts} - INTERVAL '{}ms' AND \
         {left_name}.{left_ts} + INTERVAL '{}ms'",
        within.before_ms, within.after_ms
    );
    sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(&text)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| {
            crate::error::Error::plan(
                format!("WITHIN could not be read as `{text}`: {e}"),
                Some(within.location),
            )
        })
}

/// The name a joined source's columns are qualified by, and its declared
/// event-time column (WITH 'timestamp', which WATERMARK FOR also sets).
fn time_column_of(
    side: &TableFactor,
    within: &Within,
    catalog: &Catalog,
) -> Result<(String, String)> {
    let table = match side {
        TableFactor::Table { name, .. } => name.0.last().and_then(|p| p.as_ident()),
        _ => None,
    }
    .and_then(|ident| catalog.get(&ident.value));
    let qualifier = relation_name(side);
    let time = table.and_then(|t| t.property("timestamp").map(|ts| (t, ts)));
    match (qualifier, time) {
        (Some(qualifier), Some((_, ts))) => Ok((qualifier, ts.to_string())),
        _ => Err(crate::error::Error::plan(
            format!(
                "WITHIN bounds the two streams' event times, so each must declare its \
                 event-time column: WITH ('timestamp' = 'ts') (ksqlDB's TIMESTAMP) or \
                 WATERMARK FOR ts AS ..; {} declares none (or bound the times in ON: b.ts \
                 BETWEEN a.ts - INTERVAL .. AND a.ts + INTERVAL ..)",
                table.map_or_else(|| side.to_string(), |t| t.name.clone())
            ),
            Some(within.location),
        )),
    }
}

/// `FROM a, b WHERE ..` as `FROM a JOIN b ON <WHERE's equalities between
/// a column of each> WHERE <the rest>`.
pub(super) fn comma_join_as_inner_join(select: &mut sqlparser::ast::Select) -> Result<()> {
    let second = select.from.remove(1);
    let not_joined = || {
        error_at(
            "FROM a, b joins two streams on the equalities WHERE puts between their \
             columns (WHERE a.key = b.key, with each column named by its table or alias); \
             or write FROM a JOIN b ON a.key = b.key",
            &second.relation,
        )
    };
    if !second.joins.is_empty() || !select.from[0].joins.is_empty() {
        return Err(not_joined());
    }
    let names = [
        relation_name(&select.from[0].relation),
        relation_name(&second.relation),
    ];
    let Some(selection) = select.selection.take() else {
        return Err(not_joined());
    };
    let (keys, rest): (Vec<SqlExpr>, Vec<SqlExpr>) = conjuncts(&selection)
        .into_iter()
        .cloned()
        .partition(|c| is_equality(c) && joins_the_two(c, &names));
    let and_all = |all: Vec<SqlExpr>| {
        all.into_iter().reduce(|all, c| SqlExpr::BinaryOp {
            left: Box::new(all),
            op: BinaryOperator::And,
            right: Box::new(c),
        })
    };
    let Some(on) = and_all(keys) else {
        return Err(not_joined());
    };
    select.selection = and_all(rest);
    select.from[0].joins.push(Join {
        relation: second.relation,
        global: false,
        join_operator: JoinOperator::Inner(JoinConstraint::On(on)),
    });
    Ok(())
}

/// The name a FROM item's columns are qualified by: its alias, or its name.
fn relation_name(relation: &TableFactor) -> Option<String> {
    match relation {
        TableFactor::Table {
            alias: Some(alias), ..
        } => Some(alias.name.value.to_lowercase()),
        TableFactor::Table { name, .. } => name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.to_lowercase()),
        _ => None,
    }
}

/// True for `x.a = y.b` with x and y the two FROM items, in either order.
fn joins_the_two(e: &SqlExpr, names: &[Option<String>; 2]) -> bool {
    let SqlExpr::BinaryOp { left, right, .. } = e else {
        return false;
    };
    let qualifier = |e: &SqlExpr| match e {
        SqlExpr::CompoundIdentifier(parts) if parts.len() == 2 => {
            Some(parts[0].value.to_lowercase())
        }
        _ => None,
    };
    let (l, r) = (qualifier(left), qualifier(right));
    l.is_some() && r.is_some() && l != r && [&l, &r].iter().all(|q| names.contains(q))
}

/// True for `a < b` (`<=`, `>`, `>=`) and `a BETWEEN b AND c`: what may
/// bound one side's time by the other's.
fn is_range_comparison(e: &SqlExpr) -> bool {
    match e {
        SqlExpr::BinaryOp { op, .. } => matches!(
            op,
            BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq
        ),
        SqlExpr::Between { negated, .. } => !negated,
        SqlExpr::Nested(inner) => is_range_comparison(inner),
        _ => false,
    }
}

fn is_equality(e: &SqlExpr) -> bool {
    matches!(
        e,
        SqlExpr::BinaryOp {
            op: BinaryOperator::Eq,
            ..
        }
    )
}

/// True for a source that is read as it comes rather than as a table: a
/// generator or a Kafka topic (any connector but a file).
fn is_stream(table: &TableDef) -> bool {
    table
        .property("connector")
        .or_else(|| table.property("type"))
        .is_some_and(|c| !c.eq_ignore_ascii_case("file"))
}

/// A branch of the join's union: the rows of `read.0` that pass `filter`,
/// as joined rows: their own columns (`read.1`, or when empty the source's
/// as they are), the other side's columns NULL (`sources` are the two
/// sides as the join sees them), the side column, and for an interval join
/// the row's own time column.
fn padded_branch(
    sources: [&TableDef; 2],
    side: usize,
    read: (&TableDef, Vec<ScalarExpr>),
    time_columns: Option<[usize; 2]>,
    filter: Option<ScalarExpr>,
) -> UnionBranch {
    let (source, own_columns) = read;
    let own = || {
        let as_read = source.schema.fields.iter().enumerate();
        let as_read = as_read.map(|(i, f)| ScalarExpr::column(i, f.data_type));
        match own_columns.is_empty() {
            true => as_read.collect::<Vec<_>>(),
            false => own_columns.clone(),
        }
    };
    let nulls = || {
        sources[1 - side]
            .schema
            .fields
            .iter()
            .map(|f| ScalarExpr::new(ExprKind::Literal(Value::Null), f.data_type))
    };
    let mut columns: Vec<ScalarExpr> = match side {
        0 => own().into_iter().chain(nulls()).collect(),
        _ => nulls().chain(own()).collect(),
    };
    columns.push(ScalarExpr::new(
        ExprKind::Literal(Value::Bool(side == 1)),
        DataType::Boolean,
    ));
    if let Some(time_columns) = time_columns {
        let column = time_columns[side];
        let time_type = source.schema.fields[column].data_type;
        columns.push(ScalarExpr::column(column, time_type));
    }
    UnionBranch {
        source: source.clone(),
        filter,
        columns,
    }
}

/// The joined row: both sources' columns, the side column, and for an
/// interval join the time column.
fn joined_schema(left: &TableDef, right: &TableDef, time: Option<DataType>) -> Schema {
    let fields = left
        .schema
        .fields
        .iter()
        .chain(&right.schema.fields)
        .cloned()
        .chain([Field::new("$side", DataType::Boolean)])
        .chain(time.map(|t| Field::new("$time", t)));
    Schema::new(fields.collect())
}
