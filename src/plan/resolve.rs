//! From sqlparser expressions to typed [`ScalarExpr`]s: names resolved to
//! column positions, types checked, literals typed.
//!
//! An [`ExprPlanner`] plans either over the *source row* (WHERE, GROUP BY
//! keys, aggregate arguments, stateless SELECT lists) or over the *group row*
//! of a grouped query (SELECT list and HAVING), where a subexpression equal to
//! a GROUP BY key becomes that key's column, an aggregate call becomes its
//! aggregate's column and `window_start` / `window_end` become the window's
//! columns.

use super::functions::{aggregate_function, is_window_function, window_bound, WindowBound};
use super::over::OverCalls;
use super::typecheck::{
    arithmetic_type, castable, common_type, comparable, number_literal, sql_type,
};
use super::{
    AggregateCall, AggregateFunction, BinaryOp, DatePart, ExprKind, ScalarExpr, TableDef, TimeUnit,
    UnaryOp,
};
use crate::data::{parse_date, parse_timestamp, DataType, Value};
use crate::error::{Error, Result, SqlLocation};
use sqlparser::ast::{
    self as sql, Expr as SqlExpr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Spanned,
};
use sqlparser::tokenizer::Span;

/// Where a span starts, when the parser recorded it.
pub(crate) fn location(span: Span) -> Option<SqlLocation> {
    (span.start.line > 0).then_some(SqlLocation {
        line: span.start.line,
        column: span.start.column,
    })
}

/// Where `node` starts. sqlparser computes a span by recursing through the
/// whole subtree, up to the deepest nesting the SQL front end accepts, so
/// it gets a stack of its own when little of the current one is left.
pub(crate) fn start_of(node: &impl Spanned) -> Option<SqlLocation> {
    const ENOUGH_STACK: usize = 4 << 20;
    const OWN_STACK: usize = 16 << 20;
    location(stacker::maybe_grow(ENOUGH_STACK, OWN_STACK, || node.span()))
}

/// A plan error located at `node`.
pub(crate) fn error_at(message: impl Into<String>, node: &impl Spanned) -> Error {
    Error::plan(message, start_of(node))
}

/// What a query's expressions see: the stream it reads, with the alias it
/// may be called by, followed by the columns of the tables it joins (in
/// FROM order). A row holds the stream's columns, then each joined
/// table's.
pub(crate) struct SourceScope<'a> {
    pub table: &'a TableDef,
    pub alias: Option<String>,
    pub joined: Vec<JoinedTable<'a>>,
    /// The joined table is the other stream of a join of two streams: its
    /// columns carry event time as the stream's do.
    pub joins_a_stream: bool,
}

/// A table joined to the stream, and the alias it may be called by.
pub(crate) struct JoinedTable<'a> {
    pub table: &'a TableDef,
    pub alias: Option<String>,
}

/// One table of a scope with where its columns start in the row.
#[derive(Clone, Copy)]
pub(crate) struct ScopePart<'a> {
    pub table: &'a TableDef,
    pub alias: Option<&'a str>,
    pub offset: usize,
}

impl ScopePart<'_> {
    pub fn is_called(&self, name: &str) -> bool {
        self.table.name.eq_ignore_ascii_case(name)
            || self.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    }

    /// The name a qualified reference to this table uses.
    pub fn qualifier(&self) -> &str {
        self.alias.unwrap_or(&self.table.name)
    }
}

impl<'a> SourceScope<'a> {
    /// A scope over one stream, with no joined tables.
    pub fn of(table: &'a TableDef, alias: Option<String>) -> Self {
        SourceScope {
            table,
            alias,
            joined: Vec::new(),
            joins_a_stream: false,
        }
    }

    /// The stream, then every joined table, with their offsets in the row.
    pub fn parts(&self) -> impl Iterator<Item = ScopePart<'_>> {
        let stream = (self.table, self.alias.as_deref());
        let joined = self.joined.iter().map(|j| (j.table, j.alias.as_deref()));
        std::iter::once(stream)
            .chain(joined)
            .scan(0, |offset, (table, alias)| {
                let part = ScopePart {
                    table,
                    alias,
                    offset: *offset,
                };
                *offset += table.schema.len();
                Some(part)
            })
    }

    /// How many columns a row holds.
    pub fn width(&self) -> usize {
        self.parts().map(|p| p.table.schema.len()).sum()
    }

    /// Every column of the row: its position, field and table.
    pub fn fields(&self) -> impl Iterator<Item = (usize, &crate::data::Field, ScopePart<'_>)> {
        self.parts().flat_map(|part| {
            let fields = part.table.schema.fields.iter().enumerate();
            fields.map(move |(i, field)| (part.offset + i, field, part))
        })
    }

    /// True when some table of the scope has a column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.parts()
            .any(|p| p.table.schema.index_of(name).is_some())
    }

    /// The position and type of the column `idents` names (`col` or `t.col`).
    pub fn resolve(&self, idents: &[Ident], expr: &SqlExpr) -> Result<(usize, DataType)> {
        let (part, column) = match idents {
            [column] => (None, column),
            [qualifier, column] => match self.parts().find(|p| p.is_called(&qualifier.value)) {
                Some(part) => (Some(part), column),
                None => return Err(self.unknown_table(&qualifier.value, expr)),
            },
            _ => {
                return Err(error_at(
                    format!("unsupported column reference `{expr}`"),
                    expr,
                ))
            }
        };
        let mut found = self
            .parts()
            .filter(|p| part.as_ref().is_none_or(|only| only.offset == p.offset))
            .filter_map(|p| {
                let index = p.table.schema.index_of(&column.value)?;
                Some((p, index))
            });
        let Some((first, index)) = found.next() else {
            return Err(self.unknown_column(&column.value, expr));
        };
        if let Some((second, _)) = found.next() {
            return Err(error_at(
                format!(
                    "column '{}' is ambiguous: both {} and {} have it (write {}.{} or {}.{})",
                    column.value,
                    first.table.name,
                    second.table.name,
                    first.qualifier(),
                    column.value,
                    second.qualifier(),
                    column.value
                ),
                expr,
            ));
        }
        let data_type = first.table.schema.fields[index].data_type;
        Ok((first.offset + index, data_type))
    }

    fn unknown_table(&self, name: &str, expr: &SqlExpr) -> Error {
        let names: Vec<String> = self.parts().map(|p| p.table.name.clone()).collect();
        error_at(
            format!(
                "unknown table '{name}' in `{expr}` (the query reads {})",
                names.join(", ")
            ),
            expr,
        )
    }

    pub(crate) fn unknown_column(&self, name: &str, expr: &SqlExpr) -> Error {
        if window_bound(expr).is_some() {
            return error_at(
                format!(
                    "{name} is only available in a windowed aggregate \
                     (GROUP BY TUMBLE(..), HOP(..), SESSION(..) or WINDOW ..)"
                ),
                expr,
            );
        }
        let tables: Vec<String> = self
            .parts()
            .map(|p| {
                let columns: Vec<&str> = p.table.schema.names().collect();
                format!("columns of {}: {}", p.table.name, columns.join(", "))
            })
            .collect();
        error_at(
            format!("unknown column '{name}' ({})", tables.join("; ")),
            expr,
        )
    }
}

/// Placeholder positions of `window_start` / `window_end` while the number of
/// aggregates is still growing; [`GroupState::finish`] replaces them.
const WINDOW_START_SLOT: usize = usize::MAX - 1;
const WINDOW_END_SLOT: usize = usize::MAX;

/// What a grouped query has collected so far.
#[derive(Debug, Clone)]
pub(crate) struct GroupState {
    pub keys: Vec<ScalarExpr>,
    pub windowed: bool,
    pub aggregates: Vec<AggregateCall>,
}

impl GroupState {
    pub fn new(keys: Vec<ScalarExpr>, windowed: bool) -> Self {
        GroupState {
            keys,
            windowed,
            aggregates: Vec::new(),
        }
    }

    /// The group row position of `call`, adding it unless an equal call exists.
    fn aggregate_index(&mut self, call: AggregateCall) -> usize {
        let index = match self.aggregates.iter().position(|a| *a == call) {
            Some(i) => i,
            None => {
                self.aggregates.push(call);
                self.aggregates.len() - 1
            }
        };
        self.keys.len() + index
    }

    /// Points window placeholders in `expr` at their final group row positions.
    pub fn finish(&self, expr: &mut ScalarExpr) {
        let start = self.keys.len() + self.aggregates.len();
        visit_columns_mut(expr, &mut |index| {
            if *index == WINDOW_START_SLOT {
                *index = start;
            } else if *index == WINDOW_END_SLOT {
                *index = start + 1;
            }
        });
    }
}

/// Calls `f` on every column position in `expr`.
pub(crate) fn visit_columns_mut(expr: &mut ScalarExpr, f: &mut dyn FnMut(&mut usize)) {
    match &mut expr.kind {
        ExprKind::Column(index) => f(index),
        ExprKind::Literal(_) => {}
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr } => {
            visit_columns_mut(expr, f)
        }
        ExprKind::Binary { left, right, .. } => {
            visit_columns_mut(left, f);
            visit_columns_mut(right, f);
        }
        ExprKind::InList { expr, list, .. } => {
            visit_columns_mut(expr, f);
            list.iter_mut().for_each(|e| visit_columns_mut(e, f));
        }
        ExprKind::Between {
            expr, low, high, ..
        } => {
            visit_columns_mut(expr, f);
            visit_columns_mut(low, f);
            visit_columns_mut(high, f);
        }
        ExprKind::Like { expr, pattern, .. } => {
            visit_columns_mut(expr, f);
            visit_columns_mut(pattern, f);
        }
        ExprKind::Case {
            operand,
            branches,
            else_result,
        } => {
            for e in operand.iter_mut().chain(else_result.iter_mut()) {
                visit_columns_mut(e, f);
            }
            for (when, then) in branches {
                visit_columns_mut(when, f);
                visit_columns_mut(then, f);
            }
        }
        ExprKind::Function { args, .. } | ExprKind::Compiled { args, .. } => {
            args.iter_mut().for_each(|e| visit_columns_mut(e, f))
        }
    }
}

/// Plans sqlparser expressions over the source row or over the group row.
pub(crate) struct ExprPlanner<'a> {
    pub(super) scope: &'a SourceScope<'a>,
    /// `Some` while planning over the group row.
    pub(super) group: Option<GroupState>,
    /// Where we are, for the error an aggregate gets over the source row
    /// ("in WHERE").
    pub(super) aggregate_ban: &'static str,
    /// `Some` while planning a SELECT list with window functions (OVER):
    /// each call becomes a column after the source row's.
    pub(super) overs: Option<OverCalls>,
}

impl<'a> ExprPlanner<'a> {
    /// Plans over the source row; an aggregate call is an error, `aggregate_ban`
    /// says where ("in WHERE").
    pub fn over_source(scope: &'a SourceScope<'a>, aggregate_ban: &'static str) -> Self {
        ExprPlanner {
            scope,
            group: None,
            aggregate_ban,
            overs: None,
        }
    }

    /// Plans over the *over row*: the source row, then one column per
    /// window function call (OVER) found, collected in `overs`.
    pub fn over_windows(scope: &'a SourceScope<'a>, overs: OverCalls) -> Self {
        ExprPlanner {
            scope,
            group: None,
            aggregate_ban: "here",
            overs: Some(overs),
        }
    }

    /// The collected window function calls (`None` unless [`Self::over_windows`]).
    pub fn into_overs(self) -> Option<OverCalls> {
        self.overs
    }

    /// Plans over the group row of `group`.
    pub fn over_groups(scope: &'a SourceScope<'a>, group: GroupState) -> Self {
        ExprPlanner {
            scope,
            group: Some(group),
            aggregate_ban: "here",
            overs: None,
        }
    }

    /// The collected keys and aggregates (`None` over the source row).
    pub fn into_group(self) -> Option<GroupState> {
        self.group
    }

    pub fn plan(&mut self, e: &SqlExpr) -> Result<ScalarExpr> {
        if self.group.is_some() {
            self.plan_over_groups(e)
        } else {
            self.plan_node(e)
        }
    }

    /// Plans a condition (`clause` is "WHERE", "HAVING", ...): it must be BOOLEAN.
    pub fn plan_condition(&mut self, e: &SqlExpr, clause: &str) -> Result<ScalarExpr> {
        let planned = self.plan(e)?;
        expect_boolean(&planned, e, &format!("{clause} condition"))?;
        Ok(planned)
    }

    /// Runs `f` over the source row (aggregates banned with `ban`, window
    /// functions too), then returns to the group row or over row.
    pub(super) fn over_source_row<T>(
        &mut self,
        ban: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let group = self.group.take();
        let overs = self.overs.take();
        let saved_ban = std::mem::replace(&mut self.aggregate_ban, ban);
        let result = f(self);
        self.group = group;
        self.overs = overs;
        self.aggregate_ban = saved_ban;
        result
    }

    // Not inlined into `plan`: every level of a nested expression's
    // planning goes through `plan`, and its frame would carry this one's.
    #[inline(never)]
    fn plan_over_groups(&mut self, e: &SqlExpr) -> Result<ScalarExpr> {
        if let SqlExpr::Function(f) = e {
            if let Some(func) = aggregate_function(f) {
                return self.plan_aggregate(f, func, e);
            }
        }
        let windowed = self.group.as_ref().is_some_and(|g| g.windowed);
        if let (true, Some(bound)) = (windowed, window_bound(e)) {
            let slot = match bound {
                WindowBound::Start => WINDOW_START_SLOT,
                WindowBound::End => WINDOW_END_SLOT,
            };
            return Ok(ScalarExpr::column(slot, DataType::Timestamp));
        }
        let over_source = self.over_source_row("in GROUP BY", |p| p.plan_node(e));
        if let (Ok(planned), Some(group)) = (&over_source, &self.group) {
            if let Some(i) = group.keys.iter().position(|k| k == planned) {
                return Ok(ScalarExpr::column(i, planned.data_type));
            }
        }
        if is_column_reference(e) {
            return Err(match over_source {
                Ok(_) => error_at(
                    format!(
                        "column '{e}' must appear in GROUP BY or be used in an aggregate function"
                    ),
                    e,
                ),
                Err(err) => err,
            });
        }
        self.plan_node(e)
    }

    fn plan_node(&mut self, e: &SqlExpr) -> Result<ScalarExpr> {
        match e {
            SqlExpr::Identifier(id) => self.plan_column(std::slice::from_ref(id), e),
            SqlExpr::CompoundIdentifier(ids) => self.plan_column(ids, e),
            SqlExpr::Value(v) => literal(&v.value, e),
            SqlExpr::TypedString(t) => typed_string(t, e),
            SqlExpr::Interval(_) => {
                let ms = interval_ms(e)?;
                Ok(ScalarExpr::literal(Value::Int(ms)))
            }
            SqlExpr::Nested(inner) => self.plan(inner),
            SqlExpr::UnaryOp { op, expr } => self.plan_unary(op, expr, e),
            SqlExpr::BinaryOp { left, op, right } => self.plan_binary(left, op, right, e),
            SqlExpr::IsNull(x) => self.plan_is_null(x, false),
            SqlExpr::IsNotNull(x) => self.plan_is_null(x, true),
            SqlExpr::In {
                expr,
                target,
                negated,
                ..
            } => self.plan_in(expr, target, *negated, e),
            SqlExpr::Between {
                expr,
                negated,
                low,
                high,
            } => self.plan_between(expr, low, high, *negated, e),
            SqlExpr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => self.plan_like(
                expr,
                pattern,
                *negated,
                false,
                *any || escape_char.is_some(),
                e,
            ),
            SqlExpr::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => self.plan_like(
                expr,
                pattern,
                *negated,
                true,
                *any || escape_char.is_some(),
                e,
            ),
            SqlExpr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.plan_case(operand.as_deref(), conditions, else_result.as_deref(), e),
            SqlExpr::Cast {
                expr,
                data_type,
                format,
                ..
            } => self.plan_cast(expr, data_type, format.is_some(), e),
            SqlExpr::Function(f) => self.plan_function(f, e),
            SqlExpr::Subquery(_) | SqlExpr::Exists { .. } => {
                Err(error_at("subqueries are not supported", e))
            }
            other => self.plan_special_function(other),
        }
    }

    fn plan_column(&mut self, idents: &[Ident], e: &SqlExpr) -> Result<ScalarExpr> {
        let (index, data_type) = self.scope.resolve(idents, e)?;
        Ok(ScalarExpr::column(index, data_type))
    }

    fn plan_unary(
        &mut self,
        op: &sql::UnaryOperator,
        operand: &SqlExpr,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        use sql::UnaryOperator as U;
        if let (U::Minus, SqlExpr::Value(v)) = (op, operand) {
            if let sql::Value::Number(text, _) = &v.value {
                let value = number_literal(&format!("-{text}")).map_err(|m| error_at(m, e))?;
                return Ok(ScalarExpr::literal(value));
            }
        }
        let planned = self.plan(operand)?;
        let t = planned.data_type;
        let (op, data_type) = match op {
            U::Not => {
                expect_boolean(&planned, e, "NOT operand")?;
                (UnaryOp::Not, DataType::Boolean)
            }
            U::Minus if t.is_numeric() => (UnaryOp::Negate, t),
            U::Plus if t.is_numeric() => return Ok(planned),
            U::Minus | U::Plus => {
                return Err(error_at(format!("cannot apply '{op}' to {t} in `{e}`"), e))
            }
            _ => return Err(error_at(format!("operator {op} is not supported"), e)),
        };
        let expr = Box::new(planned);
        Ok(ScalarExpr::new(ExprKind::Unary { op, expr }, data_type))
    }

    fn plan_binary(
        &mut self,
        left: &SqlExpr,
        op: &sql::BinaryOperator,
        right: &SqlExpr,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        if *op == sql::BinaryOperator::LongArrow {
            return self.plan_json_arrow(left, right, e);
        }
        let op = binary_op(op)
            .ok_or_else(|| error_at(format!("operator {op} is not supported in `{e}`"), e))?;
        let mut l = self.plan(left)?;
        let mut r = self.plan(right)?;
        // A DATE plus an INTERVAL is a TIMESTAMP (plus whole days stays a DATE).
        if is_interval(right) && l.data_type == DataType::Date {
            l = convert(l, DataType::Timestamp);
        }
        if is_interval(left) && r.data_type == DataType::Date {
            r = convert(r, DataType::Timestamp);
        }
        let (l, r, data_type) = binary_type(op, l, r, e)?;
        Ok(ScalarExpr::new(
            ExprKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            data_type,
        ))
    }

    /// `json ->> key`; out of line, so that the frames of deep chains of
    /// binary operators stay small.
    #[inline(never)]
    fn plan_json_arrow(
        &mut self,
        json: &SqlExpr,
        key: &SqlExpr,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let (json, key) = (self.plan(json)?, self.plan(key)?);
        super::functions::json_arrow(json, key, e)
    }

    fn plan_is_null(&mut self, operand: &SqlExpr, negated: bool) -> Result<ScalarExpr> {
        let planned = self.plan(operand)?;
        Ok(ScalarExpr::new(
            ExprKind::IsNull {
                expr: Box::new(planned),
                negated,
            },
            DataType::Boolean,
        ))
    }

    fn plan_in(
        &mut self,
        operand: &SqlExpr,
        target: &sql::InTarget,
        negated: bool,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let sql::InTarget::List(items) = target else {
            return Err(error_at(
                format!("only IN (value, ..) lists are supported, not `{e}`"),
                e,
            ));
        };
        let planned = self.plan(operand)?;
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            let value = self.plan(item)?;
            let (_, value) = coerce_for_comparison(planned.clone(), value, e)?;
            list.push(value);
        }
        Ok(ScalarExpr::new(
            ExprKind::InList {
                expr: Box::new(planned),
                list,
                negated,
            },
            DataType::Boolean,
        ))
    }

    fn plan_between(
        &mut self,
        operand: &SqlExpr,
        low: &SqlExpr,
        high: &SqlExpr,
        negated: bool,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let planned = self.plan(operand)?;
        let (_, low) = coerce_for_comparison(planned.clone(), self.plan(low)?, e)?;
        let (_, high) = coerce_for_comparison(planned.clone(), self.plan(high)?, e)?;
        Ok(ScalarExpr::new(
            ExprKind::Between {
                expr: Box::new(planned),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            },
            DataType::Boolean,
        ))
    }

    fn plan_like(
        &mut self,
        operand: &SqlExpr,
        pattern: &SqlExpr,
        negated: bool,
        case_insensitive: bool,
        unsupported_form: bool,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        if unsupported_form {
            return Err(error_at(
                format!("LIKE ANY and LIKE .. ESCAPE are not supported: `{e}`"),
                e,
            ));
        }
        let planned = self.plan(operand)?;
        let pattern = self.plan(pattern)?;
        for side in [&planned, &pattern] {
            if !matches!(side.data_type, DataType::Varchar | DataType::Null) {
                return Err(error_at(
                    format!(
                        "LIKE needs VARCHAR operands, got {} in `{e}`",
                        side.data_type
                    ),
                    e,
                ));
            }
        }
        Ok(ScalarExpr::new(
            ExprKind::Like {
                expr: Box::new(planned),
                pattern: Box::new(pattern),
                negated,
                case_insensitive,
            },
            DataType::Boolean,
        ))
    }

    fn plan_case(
        &mut self,
        operand: Option<&SqlExpr>,
        conditions: &[sql::CaseWhen],
        else_result: Option<&SqlExpr>,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let operand = operand.map(|o| self.plan(o)).transpose()?;
        let mut whens = Vec::with_capacity(conditions.len());
        let mut results = Vec::with_capacity(conditions.len() + 1);
        for case_when in conditions {
            let when = self.plan(&case_when.condition)?;
            let when = match &operand {
                Some(o) => coerce_for_comparison(o.clone(), when, e)?.1,
                None => {
                    expect_boolean(&when, &case_when.condition, "WHEN condition")?;
                    when
                }
            };
            whens.push(when);
            results.push(self.plan(&case_when.result)?);
        }
        if let Some(else_result) = else_result {
            results.push(self.plan(else_result)?);
        }
        let data_type = unify(&results, "CASE branches", e)?;
        let mut results: Vec<ScalarExpr> =
            results.into_iter().map(|r| convert(r, data_type)).collect();
        let else_result = else_result.and_then(|_| results.pop()).map(Box::new);
        Ok(ScalarExpr::new(
            ExprKind::Case {
                operand: operand.map(Box::new),
                branches: whens.into_iter().zip(results).collect(),
                else_result,
            },
            data_type,
        ))
    }

    fn plan_cast(
        &mut self,
        operand: &SqlExpr,
        target: &sql::DataType,
        has_format: bool,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        if has_format {
            return Err(error_at(
                format!("CAST .. FORMAT is not supported: `{e}`"),
                e,
            ));
        }
        let target = sql_type(target).map_err(|m| error_at(format!("{m} in `{e}`"), e))?;
        let planned = self.plan(operand)?;
        if !castable(planned.data_type, target) {
            return Err(error_at(
                format!("cannot cast {} to {target} in `{e}`", planned.data_type),
                e,
            ));
        }
        Ok(ScalarExpr::new(
            ExprKind::Cast {
                expr: Box::new(planned),
            },
            target,
        ))
    }

    fn plan_function(&mut self, f: &sql::Function, e: &SqlExpr) -> Result<ScalarExpr> {
        let name = function_name(f);
        if let Some(over) = &f.over {
            return self.plan_over_call(f, over, e);
        }
        if aggregate_function(f).is_some() {
            return Err(error_at(
                format!(
                    "aggregate function {} is not allowed {}",
                    name.to_uppercase(),
                    self.aggregate_ban
                ),
                e,
            ));
        }
        if is_window_function(&name) {
            return Err(error_at(
                format!(
                    "{}(..) is a window; it is only allowed in GROUP BY",
                    name.to_uppercase()
                ),
                e,
            ));
        }
        if window_bound(e).is_some() {
            return Err(self.scope.unknown_column(&name, e));
        }
        if f.filter.is_some() {
            return Err(error_at(
                format!("FILTER is only allowed on aggregate functions: `{e}`"),
                e,
            ));
        }
        super::functions::check_known_function(&name, e)?;
        let args = positional_args(f, e)?;
        if matches!(name.as_str(), "timestampdiff" | "timestampadd") {
            return self.plan_unit_call(&name, &args, e);
        }
        let planned = args
            .into_iter()
            .map(|a| self.plan(a))
            .collect::<Result<Vec<_>>>()?;
        super::functions::scalar_function(&name, planned, e)
    }

    /// `TIMESTAMPDIFF(unit, a, b)` and `TIMESTAMPADD(unit, n, ts)`: the unit
    /// is a bare word (`DAY`) or a string literal (`'day'`).
    fn plan_unit_call(&mut self, name: &str, args: &[&SqlExpr], e: &SqlExpr) -> Result<ScalarExpr> {
        let upper = name.to_ascii_uppercase();
        let [unit, rest @ ..] = args else {
            return Err(error_at(
                format!("{upper} takes 3 arguments, got 0 in `{e}`"),
                e,
            ));
        };
        if rest.len() != 2 {
            return Err(error_at(
                format!("{upper} takes 3 arguments, got {} in `{e}`", args.len()),
                e,
            ));
        }
        let unit_name = match unit {
            SqlExpr::Identifier(id) => Some(id.value.clone()),
            other => literal_text(other),
        };
        let unit = unit_name
            .as_deref()
            .and_then(TimeUnit::from_name)
            .ok_or_else(|| {
                error_at(
                    format!(
                        "{upper} takes a unit as its first argument (MILLISECOND, SECOND, \
                         MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR), got `{unit}` in `{e}`"
                    ),
                    e,
                )
            })?;
        let planned = rest
            .iter()
            .map(|a| self.plan(a))
            .collect::<Result<Vec<_>>>()?;
        super::functions::unit_function(name, unit, planned, e)
    }

    /// EXTRACT, CEIL, FLOOR, SUBSTRING and TRIM, which sqlparser parses as
    /// expressions of their own.
    fn plan_special_function(&mut self, e: &SqlExpr) -> Result<ScalarExpr> {
        use super::functions::{date_part, scalar_function, time_floor, unknown_date_part};
        use sql::CeilFloorKind;
        match e {
            SqlExpr::Extract { field, expr, .. } => {
                let field = field.to_string();
                let part =
                    DatePart::from_name(&field).ok_or_else(|| unknown_date_part(&field, e))?;
                date_part("extract", part, vec![self.plan(expr)?], e)
            }
            SqlExpr::Ceil {
                expr,
                field: CeilFloorKind::DateTimeField(sql::DateTimeField::NoDateTime),
            } => scalar_function("ceil", vec![self.plan(expr)?], e),
            SqlExpr::Floor {
                expr,
                field: CeilFloorKind::DateTimeField(sql::DateTimeField::NoDateTime),
            } => scalar_function("floor", vec![self.plan(expr)?], e),
            SqlExpr::Floor {
                expr,
                field: CeilFloorKind::DateTimeField(field),
            } => time_floor(time_unit(field, e)?, vec![self.plan(expr)?], false, e),
            SqlExpr::Ceil {
                expr,
                field: CeilFloorKind::DateTimeField(field),
            } => time_floor(time_unit(field, e)?, vec![self.plan(expr)?], true, e),
            SqlExpr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.plan(expr)?];
                args.push(match substring_from {
                    Some(from) => self.plan(from)?,
                    None => ScalarExpr::literal(Value::Int(1)),
                });
                if let Some(length) = substring_for {
                    args.push(self.plan(length)?);
                }
                scalar_function("substring", args, e)
            }
            SqlExpr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => self.plan_trim(
                trim_where.as_ref(),
                trim_what.as_deref(),
                expr,
                trim_characters.as_deref(),
                e,
            ),
            _ => Err(error_at(format!("unsupported expression `{e}`"), e)),
        }
    }

    fn plan_trim(
        &mut self,
        side: Option<&sql::TrimWhereField>,
        what: Option<&SqlExpr>,
        operand: &SqlExpr,
        characters: Option<&[SqlExpr]>,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let name = match side {
            Some(sql::TrimWhereField::Leading) => "ltrim",
            Some(sql::TrimWhereField::Trailing) => "rtrim",
            Some(sql::TrimWhereField::Both) | None => "trim",
        };
        let mut args = vec![self.plan(operand)?];
        match (what, characters) {
            (Some(chars), _) => args.push(self.plan(chars)?),
            (None, Some([chars])) => args.push(self.plan(chars)?),
            (None, Some(_)) => {
                return Err(error_at(
                    format!("TRIM takes one set of characters: `{e}`"),
                    e,
                ))
            }
            (None, None) => {}
        }
        super::functions::scalar_function(name, args, e)
    }

    fn plan_aggregate(
        &mut self,
        f: &sql::Function,
        func: AggregateFunction,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let call = self.aggregate_call(f, func, e)?;
        let data_type = call.data_type;
        let group = self.group.as_mut().ok_or_else(|| {
            let name = function_name(f).to_uppercase();
            error_at(format!("aggregate {name} is not allowed here"), e)
        })?;
        Ok(ScalarExpr::column(group.aggregate_index(call), data_type))
    }

    /// The aggregate `f` calls, its arguments and FILTER planned over the
    /// source row.
    pub(super) fn aggregate_call(
        &mut self,
        f: &sql::Function,
        func: AggregateFunction,
        e: &SqlExpr,
    ) -> Result<AggregateCall> {
        let name = function_name(f).to_uppercase();
        let AggregateArgs {
            arg,
            by,
            fraction,
            distinct,
        } = aggregate_arguments(f, func, &name, e)?;
        let mut over_source =
            |x: &SqlExpr| self.over_source_row("inside another aggregate function", |p| p.plan(x));
        let arg = arg.map(&mut over_source).transpose()?;
        let by = by.map(&mut over_source).transpose()?;
        let filter = match f.filter.as_deref() {
            Some(cond) => {
                Some(self.over_source_row("in FILTER", |p| p.plan_condition(cond, "FILTER"))?)
            }
            None => None,
        };
        let data_type = super::typecheck::aggregate_type(func, arg.as_ref().map(|a| a.data_type))
            .map_err(|m| error_at(format!("{name} {m} in `{e}`"), e))?;
        let respect_nulls = respects_nulls(f, func, &name, e)?;
        Ok(AggregateCall {
            func,
            arg,
            distinct,
            filter,
            by,
            respect_nulls,
            fraction,
            data_type,
        })
    }
}

/// `ARG_MAX(x, by) RESPECT NULLS` (or ARG_MIN): keep a NULL `x`. IGNORE
/// NULLS is what every aggregate does already; RESPECT NULLS elsewhere is
/// an error.
fn respects_nulls(
    f: &sql::Function,
    func: AggregateFunction,
    name: &str,
    e: &SqlExpr,
) -> Result<bool> {
    let arg_extreme = matches!(func, AggregateFunction::ArgMax | AggregateFunction::ArgMin);
    match f.null_treatment {
        Some(sql::NullTreatment::RespectNulls) if arg_extreme => Ok(true),
        Some(sql::NullTreatment::RespectNulls) => Err(error_at(
            format!("{name} .. RESPECT NULLS is not supported (only ARG_MAX and ARG_MIN): `{e}`"),
            e,
        )),
        _ => Ok(false),
    }
}

/// True for `col` and `t.col`.
pub(crate) fn is_column_reference(e: &SqlExpr) -> bool {
    matches!(e, SqlExpr::Identifier(_) | SqlExpr::CompoundIdentifier(_))
}

/// The function's name, lower-cased (`a.b` for qualified names).
pub(crate) fn function_name(f: &sql::Function) -> String {
    f.name.to_string().to_ascii_lowercase()
}

/// The plain positional arguments of a call; DISTINCT, `*`, named arguments
/// and ORDER BY inside the call are errors.
pub(crate) fn positional_args<'e>(f: &'e sql::Function, e: &SqlExpr) -> Result<Vec<&'e SqlExpr>> {
    let list = match &f.args {
        FunctionArguments::None => return Ok(Vec::new()),
        FunctionArguments::Subquery(_) => {
            return Err(error_at("subqueries are not supported", e));
        }
        FunctionArguments::List(list) => list,
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() || !f.within_group.is_empty()
    {
        return Err(error_at(
            format!(
                "DISTINCT, ORDER BY and similar clauses are only supported in aggregates: `{e}`"
            ),
            e,
        ));
    }
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Ok(x),
            _ => Err(error_at(
                format!("argument `{arg}` is not supported in `{e}`"),
                e,
            )),
        })
        .collect()
}

/// What an aggregate call's parentheses (and WITHIN GROUP) hold.
struct AggregateArgs<'e> {
    /// `None` only for `COUNT(*)`.
    arg: Option<&'e SqlExpr>,
    /// ARG_MAX / ARG_MIN's second argument.
    by: Option<&'e SqlExpr>,
    /// PERCENTILE_CONT's fraction.
    fraction: Option<f64>,
    distinct: bool,
}

/// The arguments of an aggregate call: one expression (`*` for COUNT), two
/// for ARG_MAX / ARG_MIN, and for PERCENTILE_CONT a fraction with the
/// expression in `WITHIN GROUP (ORDER BY x)` (or `APPROX_PERCENTILE(x, p)`).
fn aggregate_arguments<'e>(
    f: &'e sql::Function,
    func: AggregateFunction,
    name: &str,
    e: &SqlExpr,
) -> Result<AggregateArgs<'e>> {
    let FunctionArguments::List(list) = &f.args else {
        return Err(error_at(format!("{name} needs an argument: `{e}`"), e));
    };
    let percentile = func == AggregateFunction::PercentileCont;
    if !list.clauses.is_empty() || (!f.within_group.is_empty() && !percentile) {
        return Err(error_at(
            format!("ORDER BY and similar clauses inside {name} are not supported: `{e}`"),
            e,
        ));
    }
    let distinct = matches!(
        list.duplicate_treatment,
        Some(sql::DuplicateTreatment::Distinct)
    );
    let mut args = AggregateArgs {
        arg: None,
        by: None,
        fraction: None,
        distinct,
    };
    let wildcard = matches!(
        list.args.as_slice(),
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
    );
    match (func, wildcard) {
        (AggregateFunction::Count, true) if !distinct => return Ok(args),
        (AggregateFunction::Count, true) => {
            return Err(error_at(
                format!("COUNT(DISTINCT *) is not supported: `{e}`"),
                e,
            ))
        }
        _ => {}
    }
    let exprs = plain_arguments(list, name, e)?;
    let many = matches!(
        func,
        AggregateFunction::ArgMax | AggregateFunction::ArgMin | AggregateFunction::PercentileCont
    );
    if distinct && many {
        return Err(error_at(
            format!("{name}(DISTINCT ..) is not supported: `{e}`"),
            e,
        ));
    }
    match (func, exprs.as_slice(), f.within_group.as_slice()) {
        (AggregateFunction::PercentileCont, [p], [order]) => {
            let descending = matches!(order.options.sort, Some(sql::OrderBySort::Desc));
            let p = fraction_literal(p, name, e)?;
            args.arg = Some(&order.expr);
            args.fraction = Some(if descending { 1.0 - p } else { p });
        }
        (AggregateFunction::PercentileCont, [x, p], []) => {
            args.arg = Some(x);
            args.fraction = Some(fraction_literal(p, name, e)?);
        }
        (AggregateFunction::PercentileCont, ..) => {
            return Err(error_at(
                format!(
                    "{name} takes a fraction and WITHIN GROUP (ORDER BY x), or (x, fraction): `{e}`"
                ),
                e,
            ))
        }
        (AggregateFunction::ArgMax | AggregateFunction::ArgMin, [x, by], _) => {
            args.arg = Some(x);
            args.by = Some(by);
        }
        (AggregateFunction::ArgMax | AggregateFunction::ArgMin, ..) => {
            return Err(error_at(
                format!("{name} takes exactly two arguments (x, by): `{e}`"),
                e,
            ))
        }
        (_, [x], _) => args.arg = Some(x),
        _ => {
            return Err(error_at(
                format!("{name} takes exactly one argument: `{e}`"),
                e,
            ))
        }
    }
    Ok(args)
}

/// The plain expressions of an aggregate's argument list.
fn plain_arguments<'e>(
    list: &'e sql::FunctionArgumentList,
    name: &str,
    e: &SqlExpr,
) -> Result<Vec<&'e SqlExpr>> {
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Ok(x),
            _ => Err(error_at(
                format!("argument `{a}` is not supported in {name}: `{e}`"),
                e,
            )),
        })
        .collect()
}

/// A fraction from 0 to 1, written as a number literal.
fn fraction_literal(p: &SqlExpr, name: &str, e: &SqlExpr) -> Result<f64> {
    let value = literal_text(p).and_then(|text| text.parse::<f64>().ok());
    match value {
        Some(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(error_at(
            format!("{name} takes a fraction from 0 to 1 as a number literal, got `{p}` in `{e}`"),
            e,
        )),
    }
}

fn binary_op(op: &sql::BinaryOperator) -> Option<BinaryOp> {
    use sql::BinaryOperator as B;
    Some(match op {
        B::Plus => BinaryOp::Add,
        B::Minus => BinaryOp::Subtract,
        B::Multiply => BinaryOp::Multiply,
        B::Divide => BinaryOp::Divide,
        B::Modulo => BinaryOp::Modulo,
        B::Eq => BinaryOp::Eq,
        B::NotEq => BinaryOp::NotEq,
        B::Lt => BinaryOp::Lt,
        B::LtEq => BinaryOp::LtEq,
        B::Gt => BinaryOp::Gt,
        B::GtEq => BinaryOp::GtEq,
        B::And => BinaryOp::And,
        B::Or => BinaryOp::Or,
        B::StringConcat => BinaryOp::Concat,
        _ => return None,
    })
}

/// Type-checks `l op r`, converting a string literal compared with a
/// timestamp; returns the operands and the result type.
fn binary_type(
    op: BinaryOp,
    l: ScalarExpr,
    r: ScalarExpr,
    e: &SqlExpr,
) -> Result<(ScalarExpr, ScalarExpr, DataType)> {
    use BinaryOp::*;
    match op {
        And | Or => {
            expect_boolean(&l, e, &format!("{} operand", op.symbol()))?;
            expect_boolean(&r, e, &format!("{} operand", op.symbol()))?;
            Ok((l, r, DataType::Boolean))
        }
        Eq | NotEq | Lt | LtEq | Gt | GtEq => {
            let (l, r) = coerce_for_comparison(l, r, e)?;
            Ok((l, r, DataType::Boolean))
        }
        Concat => Ok((l, r, DataType::Varchar)),
        Add | Subtract | Multiply | Divide | Modulo => {
            match arithmetic_type(op, l.data_type, r.data_type) {
                Some(t) => Ok((l, r, t)),
                None => Err(error_at(
                    format!(
                        "cannot apply '{}' to {} and {} in `{e}`",
                        op.symbol(),
                        l.data_type,
                        r.data_type
                    ),
                    e,
                )),
            }
        }
    }
}

/// Checks that `l` and `r` compare; a VARCHAR literal against a TIMESTAMP is
/// parsed into a TIMESTAMP literal.
fn coerce_for_comparison(
    l: ScalarExpr,
    r: ScalarExpr,
    e: &SqlExpr,
) -> Result<(ScalarExpr, ScalarExpr)> {
    let l = timestamp_literal_against(l, r.data_type, e)?;
    let r = timestamp_literal_against(r, l.data_type, e)?;
    if comparable(l.data_type, r.data_type) {
        Ok((l, r))
    } else {
        Err(error_at(
            format!(
                "cannot compare {} with {} in `{e}`",
                l.data_type, r.data_type
            ),
            e,
        ))
    }
}

/// `side` to compare with a value of type `other`: a VARCHAR literal as a
/// TIMESTAMP or DATE literal, and a DATE as a TIMESTAMP against a TIMESTAMP.
fn timestamp_literal_against(side: ScalarExpr, other: DataType, e: &SqlExpr) -> Result<ScalarExpr> {
    match (&side.kind, other) {
        (ExprKind::Literal(Value::Str(text)), DataType::Timestamp) => match parse_timestamp(text) {
            Some(ms) => Ok(ScalarExpr::literal(Value::Timestamp(ms))),
            None => Err(error_at(format!("'{text}' is not a timestamp in `{e}`"), e)),
        },
        (ExprKind::Literal(Value::Str(text)), DataType::Date) => match parse_date(text) {
            Some(days) => Ok(ScalarExpr::literal(Value::Date(days))),
            None => Err(error_at(format!("'{text}' is not a date in `{e}`"), e)),
        },
        _ if side.data_type == DataType::Date && other == DataType::Timestamp => {
            Ok(convert(side, DataType::Timestamp))
        }
        _ => Ok(side),
    }
}

/// True for `INTERVAL ..` (maybe in parentheses).
fn is_interval(e: &SqlExpr) -> bool {
    match e {
        SqlExpr::Interval(_) => true,
        SqlExpr::Nested(inner) => is_interval(inner),
        _ => false,
    }
}

pub(crate) fn expect_boolean(planned: &ScalarExpr, e: &SqlExpr, what: &str) -> Result<()> {
    match planned.data_type {
        DataType::Boolean | DataType::Null => Ok(()),
        other => Err(error_at(
            format!("{what} must be BOOLEAN, got {other} in `{e}`"),
            e,
        )),
    }
}

/// The common type of `exprs` (`what` names them in the error).
pub(crate) fn unify(exprs: &[ScalarExpr], what: &str, e: &SqlExpr) -> Result<DataType> {
    let mut result = DataType::Null;
    for x in exprs {
        result = common_type(result, x.data_type).ok_or_else(|| {
            error_at(
                format!(
                    "{what} have incompatible types {result} and {} in `{e}`",
                    x.data_type
                ),
                e,
            )
        })?;
    }
    Ok(result)
}

/// `expr` as `target`: unchanged when it already is (or is NULL), else cast.
pub(crate) fn convert(expr: ScalarExpr, target: DataType) -> ScalarExpr {
    if expr.data_type == target || expr.data_type == DataType::Null {
        return expr;
    }
    if let ExprKind::Literal(v) = &expr.kind {
        if let Some(converted) = convert_literal(v, target) {
            return ScalarExpr::new(ExprKind::Literal(converted), target);
        }
    }
    ScalarExpr::new(
        ExprKind::Cast {
            expr: Box::new(expr),
        },
        target,
    )
}

/// Numeric literals converted at plan time (so branches need no cast per row).
fn convert_literal(v: &Value, target: DataType) -> Option<Value> {
    match (v, target) {
        (Value::Int(i), DataType::Double) => Some(Value::Double(*i as f64)),
        (Value::Int(i), DataType::Decimal { scale, .. }) => crate::data::Decimal::from_i64(*i)
            .rescale(scale)
            .map(Value::Decimal),
        (Value::Decimal(d), DataType::Double) => Some(Value::Double(d.to_f64())),
        (Value::Decimal(d), DataType::Decimal { scale, .. }) => {
            d.rescale(scale).map(Value::Decimal)
        }
        (Value::Date(d), DataType::Timestamp) => Some(Value::Timestamp(
            i64::from(*d) * crate::data::MILLIS_PER_DAY,
        )),
        _ => None,
    }
}

fn literal(v: &sql::Value, e: &SqlExpr) -> Result<ScalarExpr> {
    let value = match v {
        sql::Value::Number(text, _) => number_literal(text).map_err(|m| error_at(m, e))?,
        sql::Value::SingleQuotedString(s)
        | sql::Value::EscapedStringLiteral(s)
        | sql::Value::NationalStringLiteral(s)
        | sql::Value::TripleSingleQuotedString(s) => Value::str(s),
        sql::Value::Boolean(b) => Value::Bool(*b),
        sql::Value::Null => Value::Null,
        other => return Err(error_at(format!("literal {other} is not supported"), e)),
    };
    Ok(ScalarExpr::literal(value))
}

/// `TIMESTAMP '2026-01-01 00:00:00'`.
fn typed_string(t: &sql::TypedString, e: &SqlExpr) -> Result<ScalarExpr> {
    let target = sql_type(&t.data_type).map_err(|m| error_at(format!("{m} in `{e}`"), e))?;
    let text = match &t.value.value {
        sql::Value::SingleQuotedString(s) => s.as_str(),
        _ => return Err(error_at(format!("unsupported literal `{e}`"), e)),
    };
    let value = match target {
        DataType::Timestamp => parse_timestamp(text).map(Value::Timestamp),
        DataType::Date => parse_date(text).map(Value::Date),
        DataType::Varchar => Some(Value::str(text)),
        _ => number_literal(text.trim()).ok(),
    };
    match value {
        Some(v) => Ok(convert(ScalarExpr::literal(v), target)),
        None => Err(error_at(
            format!("'{text}' is not a valid {target} in `{e}`"),
            e,
        )),
    }
}

/// The milliseconds of a duration: `INTERVAL '10' SECOND`, `INTERVAL '10s'`,
/// `'10s'`, or a bare number of milliseconds.
/// The unit of `FLOOR(ts TO <field>)` / `CEIL(ts TO <field>)`.
fn time_unit(field: &sql::DateTimeField, e: &SqlExpr) -> Result<TimeUnit> {
    TimeUnit::from_name(&field.to_string()).ok_or_else(|| {
        error_at(
            format!(
                "FLOOR/CEIL(.. TO {field}) is not supported (units: MILLISECOND, SECOND, \
                 MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR)"
            ),
            e,
        )
    })
}

pub(crate) fn interval_ms(e: &SqlExpr) -> Result<i64> {
    let bad = |m: String| error_at(format!("`{e}` is not a duration: {m}"), e);
    let text = match e {
        SqlExpr::Interval(iv) => {
            if iv.last_field.is_some() {
                return Err(bad("INTERVAL .. TO .. is not supported".into()));
            }
            let value = literal_text(&iv.value).ok_or_else(|| bad("expected a literal".into()))?;
            match &iv.leading_field {
                Some(unit) => format!("{value} {unit}"),
                None => value,
            }
        }
        SqlExpr::Nested(inner) => return interval_ms(inner),
        other => literal_text(other)
            .ok_or_else(|| bad("expected e.g. INTERVAL '10' SECOND or '10s'".into()))?,
    };
    crate::data::parse_duration(&text).map_err(bad)
}

fn literal_text(e: &SqlExpr) -> Option<String> {
    match e {
        SqlExpr::Value(v) => match &v.value {
            sql::Value::SingleQuotedString(s) | sql::Value::Number(s, _) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}
