//! Test helpers: hand-built expressions and query plans (the planner is
//! tested on its own; engine tests must not depend on it).

use crate::data::{DataType, Field, Schema, Value};
use crate::plan::{
    AggregateCall, AggregateFunction, AggregatePlan, BinaryOp, EmitMode, ExprKind, QueryKind,
    QueryPlan, ScalarExpr, TableDef, TimeSettings, UnaryOp, WindowKind, WindowSpec,
};

pub fn col(index: usize, data_type: DataType) -> ScalarExpr {
    ScalarExpr::column(index, data_type)
}

pub fn lit(v: Value) -> ScalarExpr {
    ScalarExpr::literal(v)
}

pub fn null_lit() -> ScalarExpr {
    ScalarExpr::literal(Value::Null)
}

pub fn bin(op: BinaryOp, left: ScalarExpr, right: ScalarExpr, dt: DataType) -> ScalarExpr {
    ScalarExpr::new(
        ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        dt,
    )
}

pub fn not(e: ScalarExpr) -> ScalarExpr {
    ScalarExpr::new(
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr: Box::new(e),
        },
        DataType::Boolean,
    )
}

pub fn agg(func: AggregateFunction, arg: Option<ScalarExpr>, data_type: DataType) -> AggregateCall {
    AggregateCall {
        func,
        arg,
        distinct: false,
        filter: None,
        by: None,
        respect_nulls: false,
        fraction: None,
        data_type,
    }
}

/// A source called `events` with the given column types, named c0, c1, ...
pub fn source(types: &[DataType]) -> TableDef {
    let fields = types
        .iter()
        .enumerate()
        .map(|(i, t)| Field::new(format!("c{i}"), *t))
        .collect();
    TableDef {
        name: "events".into(),
        schema: Schema::new(fields),
        properties: Vec::new(),
    }
}

fn output_schema(projections: &[ScalarExpr]) -> Schema {
    Schema::new(
        projections
            .iter()
            .enumerate()
            .map(|(i, p)| Field::new(format!("o{i}"), p.data_type))
            .collect(),
    )
}

pub fn stateless_plan(
    types: &[DataType],
    filter: Option<ScalarExpr>,
    projections: Vec<ScalarExpr>,
) -> QueryPlan {
    QueryPlan {
        source: source(types),
        lookups: Vec::new(),
        filter,
        output: output_schema(&projections),
        kind: QueryKind::Stateless { projections },
        emit: EmitMode::Changes,
        changelog: false,
        order_by: Vec::new(),
        limit: None,
        time: TimeSettings::default(),
        stream_name: None,
        properties: Vec::new(),
        stage: None,
        union: None,
        join: None,
    }
}

/// A grouped plan whose SELECT list is the whole group row
/// `[keys.., aggs.., window_start, window_end]` unless `projections` is given.
pub struct GroupedPlan {
    pub types: Vec<DataType>,
    pub filter: Option<ScalarExpr>,
    pub keys: Vec<ScalarExpr>,
    pub aggregates: Vec<AggregateCall>,
    pub window: Option<WindowKind>,
    pub time_column: usize,
    pub having: Option<ScalarExpr>,
    pub projections: Option<Vec<ScalarExpr>>,
    pub emit: EmitMode,
    pub time: TimeSettings,
}

impl GroupedPlan {
    pub fn new(types: &[DataType], keys: Vec<ScalarExpr>, aggregates: Vec<AggregateCall>) -> Self {
        GroupedPlan {
            types: types.to_vec(),
            filter: None,
            keys,
            aggregates,
            window: None,
            time_column: 0,
            having: None,
            projections: None,
            emit: EmitMode::Final,
            time: TimeSettings::default(),
        }
    }

    pub fn window(mut self, kind: WindowKind, time_column: usize) -> Self {
        self.window = Some(kind);
        self.time_column = time_column;
        self
    }

    pub fn emit(mut self, emit: EmitMode) -> Self {
        self.emit = emit;
        self
    }

    pub fn time(mut self, max_out_of_orderness_ms: i64, allowed_lateness_ms: i64) -> Self {
        self.time = TimeSettings {
            max_out_of_orderness_ms,
            allowed_lateness_ms,
            aligned_only: false,
        };
        self
    }

    pub fn build(self) -> QueryPlan {
        let mut group_row: Vec<ScalarExpr> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| col(i, k.data_type))
            .collect();
        let n = group_row.len();
        group_row.extend(
            self.aggregates
                .iter()
                .enumerate()
                .map(|(i, a)| col(n + i, a.data_type)),
        );
        if self.window.is_some() {
            let at = group_row.len();
            group_row.push(col(at, DataType::Timestamp));
            group_row.push(col(at + 1, DataType::Timestamp));
        }
        let projections = self.projections.unwrap_or(group_row);
        let window = self.window.map(|kind| WindowSpec {
            kind,
            time_column: self.time_column,
        });
        QueryPlan {
            source: source(&self.types),
            lookups: Vec::new(),
            filter: self.filter,
            output: output_schema(&projections),
            kind: QueryKind::Aggregate(AggregatePlan {
                group_keys: self.keys,
                window,
                aggregates: self.aggregates,
                having: self.having,
                projections,
            }),
            emit: self.emit,
            changelog: false,
            order_by: Vec::new(),
            limit: None,
            time: self.time,
            stream_name: None,
            properties: Vec::new(),
            stage: None,
            union: None,
            join: None,
        }
    }
}
