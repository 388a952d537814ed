//! Regular joins of two streams: `FROM a [INNER | LEFT | RIGHT | FULL]
//! JOIN b ON a.k = b.k [AND ..]`, where `b` is a stream (a generator; a
//! file on the right is a table, joined as it is read: see `join`).
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

use super::inline::expand_named_queries;
use super::planner::{plan_one_stage, Catalog, PlanSettings, TableDef};
use super::resolve::error_at;
use super::{ExprKind, QueryKind, QueryPlan, ScalarExpr, UnionBranch, UnionPlan};
use crate::data::{DataType, Field, Schema, Value};
use crate::error::Result;
use crate::sql::StreamingQuery;
use sqlparser::ast::{Join, JoinConstraint, JoinOperator, Query, SetExpr, TableFactor};

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

/// A regular join of two streams, over the joined row: the left source's
/// columns, the right's, then the side column.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamJoin {
    pub kind: StreamJoinKind,
    /// The left source's columns: the first `left_width` of the row.
    pub left_width: usize,
    /// The right source's columns follow them.
    pub right_width: usize,
    /// The key of a left row and of a right row, pairwise of one type.
    pub keys: [Vec<ScalarExpr>; 2],
}

impl StreamJoin {
    /// Where the side column is: `false` for a left row, `true` for a right one.
    pub fn side_column(&self) -> usize {
        self.left_width + self.right_width
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
    let mut expanded = expand_named_queries(query.query.as_ref().clone(), catalog)?;
    let Some((join, kind)) = stream_join_of(&mut expanded, catalog)? else {
        return Ok(None);
    };
    let as_lookup = StreamingQuery {
        query: Box::new(expanded),
        ..query.clone()
    };
    let mut plan = plan_one_stage(&as_lookup, catalog, settings, false)?;
    if plan.lookups.len() != 1 || plan.union.is_some() {
        return Err(error_at(
            "a join of two streams cannot be combined with other joins yet",
            &join.relation,
        ));
    }
    if !matches!(plan.kind, QueryKind::Stateless { .. }) {
        return Err(error_at(
            "GROUP BY, aggregates and window functions over a join of two streams are not \
             supported yet: they need a second routing step, by their own key",
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
    plan.union = Some(UnionPlan {
        branches: vec![
            padded_branch(&left, 0, left_width, right_width, &right),
            padded_branch(&right, 1, left_width, right_width, &left),
        ],
    });
    plan.source = TableDef {
        name: format!("{} {} JOIN {}", left.name, kind.name(), right.name),
        schema: joined_schema(&left, &right),
        properties: left.properties.clone(),
    };
    plan.join = Some(StreamJoin {
        kind,
        left_width,
        right_width,
        keys: [lookup.stream_keys, right_keys],
    });
    Ok(Some(plan))
}

/// The one JOIN of `query` when its right side is a stream; it is rewritten
/// as a LEFT JOIN so that it plans as a join with a table (no "matched"
/// test in WHERE), and its kind is returned.
fn stream_join_of(query: &mut Query, catalog: &Catalog) -> Result<Option<(Join, StreamJoinKind)>> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(None);
    };
    let [from] = select.from.as_mut_slice() else {
        return Ok(None);
    };
    let [join] = from.joins.as_mut_slice() else {
        return Ok(None);
    };
    let TableFactor::Table { name, .. } = &join.relation else {
        return Ok(None);
    };
    let right = name.0.last().and_then(|part| part.as_ident());
    if !right
        .and_then(|ident| catalog.get(&ident.value))
        .is_some_and(is_stream)
    {
        return Ok(None);
    }
    let (kind, constraint) = match &join.join_operator {
        JoinOperator::Join(c) | JoinOperator::Inner(c) => (StreamJoinKind::Inner, c),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (StreamJoinKind::Left, c),
        JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (StreamJoinKind::Right, c),
        JoinOperator::FullOuter(c) => (StreamJoinKind::Full, c),
        _ => {
            return Err(error_at(
                "this kind of join of two streams is not supported: write [INNER | LEFT | \
                 RIGHT | FULL] JOIN s ON a.key = s.key (a cross join keeps every row of both \
                 streams with no key to bound it)",
                &join.relation,
            ))
        }
    };
    let JoinConstraint::On(_) = constraint else {
        return Err(error_at(
            "a join of two streams needs ON with an equality on a key (JOIN s ON a.key = \
             s.key); USING, NATURAL and joins without a condition are not supported",
            &join.relation,
        ));
    };
    let original = join.clone();
    join.join_operator = JoinOperator::Left(constraint.clone());
    Ok(Some((original, kind)))
}

/// True for a source that is read as it comes rather than as a table: a
/// generator or a Kafka topic (any connector but a file).
fn is_stream(table: &TableDef) -> bool {
    table
        .property("connector")
        .or_else(|| table.property("type"))
        .is_some_and(|c| !c.eq_ignore_ascii_case("file"))
}

/// A branch of the join's union: `source`'s rows as joined rows, the other
/// side's columns NULL, and the side column.
fn padded_branch(
    source: &TableDef,
    side: usize,
    left_width: usize,
    right_width: usize,
    other: &TableDef,
) -> UnionBranch {
    let own = || {
        source
            .schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| ScalarExpr::column(i, f.data_type))
    };
    let nulls = || {
        other
            .schema
            .fields
            .iter()
            .map(|f| ScalarExpr::new(ExprKind::Literal(Value::Null), f.data_type))
    };
    let mut columns: Vec<ScalarExpr> = Vec::with_capacity(left_width + right_width + 1);
    match side {
        0 => columns.extend(own().chain(nulls())),
        _ => columns.extend(nulls().chain(own())),
    }
    columns.push(ScalarExpr::new(
        ExprKind::Literal(Value::Bool(side == 1)),
        DataType::Boolean,
    ));
    UnionBranch {
        source: source.clone(),
        filter: None,
        columns,
    }
}

/// The joined row: both sources' columns, then the side column.
fn joined_schema(left: &TableDef, right: &TableDef) -> Schema {
    let fields = left
        .schema
        .fields
        .iter()
        .chain(&right.schema.fields)
        .cloned()
        .chain([Field::new("$side", DataType::Boolean)]);
    Schema::new(fields.collect())
}
