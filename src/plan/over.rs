//! OVER windows: `f(..) OVER (PARTITION BY k ORDER BY ts [frame])` in a
//! SELECT list (or QUALIFY) over a stream.
//!
//! Every window function of a query shares one PARTITION BY (the routing
//! key: a partition lives on one shard) and one ORDER BY, the event-time
//! column ascending: rows are processed in event time as the watermark
//! passes them. Frames end at the current row; they start a number of rows
//! back (ROWS), an interval back (RANGE), or at the partition's first row.
//! Each call becomes a column of the *over row*: the source row, then one
//! value per call, over which the SELECT list and QUALIFY are evaluated.

use super::functions::aggregate_by_name;
use super::resolve::{convert, error_at, function_name, interval_ms, positional_args, ExprPlanner};
use super::top_n::{is_bounded, only_row_number, top_n_plan, TopNParts};
use super::{AggregateCall, ExprKind, QueryKind, ScalarExpr};
use crate::data::DataType;
use crate::error::Result;
use sqlparser::ast::{
    self as sql, Expr as SqlExpr, NamedWindowDefinition, NamedWindowExpr, WindowFrameBound,
    WindowFrameUnits, WindowSpec, WindowType,
};

/// An OVER query: per partition, one output row per input row.
#[derive(Debug, Clone)]
pub struct OverPlan {
    /// PARTITION BY, over the source row: the routing key.
    pub partition_keys: Vec<ScalarExpr>,
    /// ORDER BY: the source column with event time.
    pub time_column: usize,
    /// The window function calls; call `i` is column `row width + i` of the over row.
    pub calls: Vec<OverCall>,
    /// QUALIFY (or a WHERE around a subquery with OVER), over the over row.
    pub qualify: Option<ScalarExpr>,
    /// SELECT list, over the over row.
    pub projections: Vec<ScalarExpr>,
}

impl OverPlan {
    /// Whether some call looks at rows after the current one (LEAD), so a
    /// row waits for its partition's next rows (or the end of the input).
    pub fn waits_for_following_rows(&self) -> bool {
        self.calls
            .iter()
            .any(|c| matches!(c.function, OverFunction::Lead(_)))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OverCall {
    pub function: OverFunction,
    pub frame: Frame,
    pub data_type: DataType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OverFunction {
    /// COUNT, SUM, AVG, MIN, MAX, STDDEV, ... over the frame.
    Aggregate(AggregateCall),
    /// 1, 2, 3, .. in (event time, arrival) order.
    RowNumber,
    /// 1 + the rows of the partition earlier in event time.
    Rank,
    /// 1 + the distinct event times of the partition before this row's.
    DenseRank,
    /// `x` of the row `offset` rows before (after, for LEAD), else `default`.
    Lag(Shift),
    Lead(Shift),
    /// `x` of the frame's first row (NULL included).
    FirstValue(ScalarExpr),
    /// `x` of the frame's last row (NULL included).
    LastValue(ScalarExpr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub arg: ScalarExpr,
    pub offset: usize,
    /// When there is no such row; `None` is NULL.
    pub default: Option<ScalarExpr>,
}

/// Where a frame starts; it always ends at the current row (with its
/// peers, rows of the same event time, for RANGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `ROWS n PRECEDING` (`None`: UNBOUNDED PRECEDING).
    Rows(Option<usize>),
    /// `RANGE INTERVAL .. PRECEDING`, in milliseconds (`None`: UNBOUNDED).
    Range(Option<i64>),
}

impl Frame {
    /// The SQL default with ORDER BY: RANGE UNBOUNDED PRECEDING to the current row.
    pub const DEFAULT: Frame = Frame::Range(None);
}

/// The window every call of one query shares.
#[derive(Debug, Clone)]
pub(super) struct SharedWindow {
    pub partition_keys: Vec<ScalarExpr>,
    /// ORDER BY, over the source row.
    pub order: Vec<RankKey>,
    /// Why ORDER BY is not what an OVER query needs (the event-time column,
    /// ascending); `None` when it is. Such an order is only a Top-N's (see
    /// `top_n`).
    pub not_in_time: Option<String>,
    /// The first call with this window, for errors.
    pub at: SqlExpr,
    /// ORDER BY is one BIGINT column the source does not declare as its
    /// event time (WITH 'timestamp' or WATERMARK FOR): a bounded
    /// ROW_NUMBER over it is a Top-N by value.
    pub bigint_value: bool,
    written: String,
}

impl SharedWindow {
    /// The event-time column ORDER BY names, when it is one.
    fn time_column(&self) -> Option<usize> {
        match (&self.not_in_time, self.order.as_slice()) {
            (None, [key]) => match key.expr.kind {
                ExprKind::Column(c) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One ORDER BY key of a window: an expression over the source row, its
/// direction, and where NULLs go (last unless written, as in DuckDB).
#[derive(Debug, Clone, PartialEq)]
pub struct RankKey {
    pub expr: ScalarExpr,
    pub descending: bool,
    pub nulls_first: bool,
}

/// What planning a SELECT list with OVER collects.
#[derive(Debug, Clone)]
pub(crate) struct OverCalls {
    named: Vec<NamedWindowDefinition>,
    /// The source row's width: call `i` is over row column `base + i`.
    base: usize,
    window: Option<SharedWindow>,
    calls: Vec<OverCall>,
}

impl OverCalls {
    pub fn new(named: &[NamedWindowDefinition], base: usize) -> Self {
        OverCalls {
            named: named.to_vec(),
            base,
            window: None,
            calls: Vec::new(),
        }
    }

    /// The plan, once the SELECT list and QUALIFY are planned: an OVER
    /// query, or a Top-N when ROW_NUMBER orders by something else than the
    /// event time.
    /// With `whole_windows` (a second stage, which gets a window's rows at
    /// once) RANK and DENSE_RANK by a value are Top-Ns too.
    pub fn into_plan(
        self,
        projections: Vec<ScalarExpr>,
        qualify: Option<ScalarExpr>,
        select: &sql::Select,
        whole_windows: bool,
    ) -> Result<QueryKind> {
        let window = self
            .window
            .ok_or_else(|| error_at("internal: a query with OVER planned no window", select))?;
        let ranks_values =
            window.bigint_value && only_row_number(&self.calls) && is_bounded(&qualify, self.base);
        if let Some(time_column) = window.time_column().filter(|_| !ranks_values) {
            return Ok(QueryKind::Over(OverPlan {
                partition_keys: window.partition_keys,
                time_column,
                calls: self.calls,
                qualify,
                projections,
            }));
        }
        let ranked = TopNParts {
            rank_column: self.base,
            projections,
            qualify,
        };
        match top_n_plan(&window, &self.calls, ranked, whole_windows)? {
            Some(plan) => Ok(QueryKind::TopN(plan)),
            None => match window.not_in_time {
                Some(reason) => Err(error_at(reason, &window.at)),
                None => Err(error_at("internal: an OVER order was neither", select)),
            },
        }
    }

    fn add(&mut self, call: OverCall) -> ScalarExpr {
        let data_type = call.data_type;
        let index = match self.calls.iter().position(|c| *c == call) {
            Some(i) => i,
            None => {
                self.calls.push(call);
                self.calls.len() - 1
            }
        };
        ScalarExpr::column(self.base + index, data_type)
    }

    /// The window specification `over` holds or names. `OVER (w ROWS ..)`
    /// is the named window `w` with a frame (or ORDER BY) added.
    fn spec(&self, over: &WindowType, e: &SqlExpr) -> Result<WindowSpec> {
        self.spec_within(over, e, 0)
    }

    /// [`Self::spec`], `depth` names deep: deeper than there are names is a cycle.
    fn spec_within(&self, over: &WindowType, e: &SqlExpr, depth: usize) -> Result<WindowSpec> {
        if depth > self.named.len() {
            return Err(error_at(
                format!("`{e}`: its named windows refer to each other in a cycle"),
                e,
            ));
        }
        match over {
            WindowType::NamedWindow(name) => self.named_spec(name, e, depth),
            WindowType::WindowSpec(spec) => match &spec.window_name {
                None => Ok(spec.clone()),
                Some(name) => {
                    let mut base = self.named_spec(name, e, depth)?;
                    let redefines = !spec.partition_by.is_empty()
                        || (!spec.order_by.is_empty() && !base.order_by.is_empty())
                        || (spec.window_frame.is_some() && base.window_frame.is_some());
                    if redefines {
                        return Err(error_at(
                            format!(
                                "`{e}` redefines a clause of window {name}; a window built on \
                                 another may only add ORDER BY or a frame it lacks"
                            ),
                            e,
                        ));
                    }
                    if !spec.order_by.is_empty() {
                        base.order_by = spec.order_by.clone();
                    }
                    if spec.window_frame.is_some() {
                        base.window_frame = spec.window_frame.clone();
                    }
                    Ok(base)
                }
            },
        }
    }

    /// The specification of the window called `name` (`WINDOW name AS (..)`).
    fn named_spec(&self, name: &sql::Ident, e: &SqlExpr, depth: usize) -> Result<WindowSpec> {
        let definition = self
            .named
            .iter()
            .find(|d| d.0.value.eq_ignore_ascii_case(&name.value))
            .ok_or_else(|| {
                error_at(format!("no window named {name} (WINDOW {name} AS (..))"), e)
            })?;
        let next = match &definition.1 {
            NamedWindowExpr::WindowSpec(spec) => WindowType::WindowSpec(spec.clone()),
            NamedWindowExpr::NamedWindow(other) => WindowType::NamedWindow(other.clone()),
        };
        self.spec_within(&next, e, depth + 1)
    }
}

impl ExprPlanner<'_> {
    /// A window function call: `f(..) OVER (..)`, a column of the over row.
    pub(super) fn plan_over_call(
        &mut self,
        f: &sql::Function,
        over: &WindowType,
        e: &SqlExpr,
    ) -> Result<ScalarExpr> {
        let Some(overs) = &self.overs else {
            if self.group.is_none() && self.aggregate_ban != "here" {
                return Err(error_at(
                    format!(
                        "window functions (OVER) are not allowed {}; filter on their results \
                         with QUALIFY: `{e}`",
                        self.aggregate_ban
                    ),
                    e,
                ));
            }
            return Err(error_at(
                format!(
                    "window functions (OVER) are only supported in the SELECT list and QUALIFY \
                     of a query without GROUP BY or aggregates (an OVER over a grouping needs \
                     a second stage, which corestream does not have yet): `{e}`"
                ),
                e,
            ));
        };
        let spec = overs.spec(over, e)?;
        let window = self.shared_window(&spec, e)?;
        let frame = frame_of(&spec, e)?;
        let (function, data_type) = self.over_function(f, e)?;
        let overs = self
            .overs
            .as_mut()
            .ok_or_else(|| error_at("internal: OVER planning lost its calls", e))?;
        match &overs.window {
            None => overs.window = Some(window),
            Some(first)
                if first.partition_keys == window.partition_keys && first.order == window.order => {
            }
            Some(first) => return Err(different_windows(first, &window, e)),
        }
        Ok(overs.add(OverCall {
            function,
            frame,
            data_type,
        }))
    }

    /// PARTITION BY and ORDER BY of `spec`, planned over the source row.
    fn shared_window(&mut self, spec: &WindowSpec, e: &SqlExpr) -> Result<SharedWindow> {
        let partition_keys = spec
            .partition_by
            .iter()
            .map(|k| self.over_source_row("in PARTITION BY", |p| p.plan(k)))
            .collect::<Result<Vec<_>>>()?;
        let order = spec
            .order_by
            .iter()
            .map(|key| self.rank_key(key, e))
            .collect::<Result<Vec<_>>>()?;
        let declared_time = self.scope.table.property("timestamp");
        let bigint_value = match order.as_slice() {
            [key] => match key.expr.kind {
                ExprKind::Column(c) => {
                    let field = &self.scope.table.schema.fields.get(c);
                    let declared = field.is_some_and(|f| {
                        declared_time.is_some_and(|d| d.eq_ignore_ascii_case(&f.name))
                    });
                    key.expr.data_type == DataType::BigInt && !declared
                }
                _ => false,
            },
            _ => false,
        };
        Ok(SharedWindow {
            not_in_time: not_in_time(&spec.order_by, &order, e),
            at: e.clone(),
            bigint_value,
            partition_keys,
            order,
            written: spec.to_string(),
        })
    }

    fn rank_key(&mut self, key: &sql::OrderByExpr, e: &SqlExpr) -> Result<RankKey> {
        let descending = match &key.options.sort {
            None | Some(sql::OrderBySort::Asc) => false,
            Some(sql::OrderBySort::Desc) => true,
            Some(_) => {
                return Err(error_at(
                    format!("OVER's ORDER BY takes ASC or DESC: `{e}`"),
                    e,
                ))
            }
        };
        Ok(RankKey {
            expr: self.over_source_row("in ORDER BY", |p| p.plan(&key.expr))?,
            descending,
            nulls_first: key.options.nulls_first.unwrap_or(false),
        })
    }

    /// The function of a window call and its result type.
    fn over_function(
        &mut self,
        f: &sql::Function,
        e: &SqlExpr,
    ) -> Result<(OverFunction, DataType)> {
        let name = function_name(f);
        if matches!(f.null_treatment, Some(sql::NullTreatment::IgnoreNulls)) {
            return Err(error_at(
                format!("IGNORE NULLS in a window function is not supported: `{e}`"),
                e,
            ));
        }
        match name.as_str() {
            "row_number" | "rank" | "dense_rank" => {
                if !positional_args(f, e)?.is_empty() {
                    return Err(error_at(
                        format!("{} takes no arguments: `{e}`", name.to_uppercase()),
                        e,
                    ));
                }
                let function = match name.as_str() {
                    "row_number" => OverFunction::RowNumber,
                    "rank" => OverFunction::Rank,
                    _ => OverFunction::DenseRank,
                };
                Ok((function, DataType::BigInt))
            }
            "lag" | "lead" => {
                let shift = self.shift(f, &name, e)?;
                let data_type = shift.arg.data_type;
                let function = match name.as_str() {
                    "lag" => OverFunction::Lag(shift),
                    _ => OverFunction::Lead(shift),
                };
                Ok((function, data_type))
            }
            "first_value" | "last_value" => {
                let [arg] = positional_args(f, e)?[..] else {
                    return Err(error_at(
                        format!("{} takes one argument: `{e}`", name.to_uppercase()),
                        e,
                    ));
                };
                let arg = self.over_source_row("inside a window function", |p| p.plan(arg))?;
                let data_type = arg.data_type;
                let function = match name.as_str() {
                    "first_value" => OverFunction::FirstValue(arg),
                    _ => OverFunction::LastValue(arg),
                };
                Ok((function, data_type))
            }
            _ => {
                let Some(func) = aggregate_by_name(&name) else {
                    return Err(error_at(
                        format!(
                            "unknown window function {}: OVER takes an aggregate (COUNT, SUM, \
                             AVG, MIN, MAX, STDDEV, ..), ROW_NUMBER, RANK, DENSE_RANK, LAG, LEAD, \
                             FIRST_VALUE or LAST_VALUE",
                            name.to_uppercase()
                        ),
                        e,
                    ));
                };
                let call = self.aggregate_call(f, func, e)?;
                if call.distinct {
                    return Err(error_at(
                        format!("DISTINCT in a window aggregate is not supported: `{e}`"),
                        e,
                    ));
                }
                let data_type = call.data_type;
                Ok((OverFunction::Aggregate(call), data_type))
            }
        }
    }

    /// LAG / LEAD's `(x [, offset [, default]])`.
    fn shift(&mut self, f: &sql::Function, name: &str, e: &SqlExpr) -> Result<Shift> {
        let upper = name.to_uppercase();
        let args = positional_args(f, e)?;
        let (arg, offset, default) = match args[..] {
            [x] => (x, None, None),
            [x, n] => (x, Some(n), None),
            [x, n, d] => (x, Some(n), Some(d)),
            _ => {
                return Err(error_at(
                    format!("{upper} takes (x [, offset [, default]]): `{e}`"),
                    e,
                ))
            }
        };
        let arg = self.over_source_row("inside a window function", |p| p.plan(arg))?;
        let offset = match offset {
            None => 1,
            Some(n) => row_count(n).ok_or_else(|| {
                error_at(
                    format!("{upper}'s offset must be a non-negative whole number: `{e}`"),
                    e,
                )
            })?,
        };
        let default = match default {
            None => None,
            Some(d) => {
                let planned = self.over_source_row("inside a window function", |p| p.plan(d))?;
                Some(default_of_type(planned, arg.data_type, &upper, e)?)
            }
        };
        Ok(Shift {
            arg,
            offset,
            default,
        })
    }
}

/// Why `order` (planned from `written`) is not the event-time column
/// ascending, which an OVER query orders by; `None` when it is.
fn not_in_time(written: &[sql::OrderByExpr], order: &[RankKey], e: &SqlExpr) -> Option<String> {
    let needs_time = format!(
        "OVER needs ORDER BY the event-time column, ascending (rows are processed in event \
         time as the watermark passes them; only ROW_NUMBER may order by something else, \
         as a Top-N bounded by `WHERE rn <= N`, and RANK or DENSE_RANK over a windowed \
         grouping's rows): `{e}`"
    );
    let ([key], [text]) = (order, written) else {
        return Some(needs_time);
    };
    if key.descending {
        return Some(needs_time);
    }
    match key.expr.kind {
        ExprKind::Column(_)
            if matches!(key.expr.data_type, DataType::Timestamp | DataType::BigInt) =>
        {
            None
        }
        ExprKind::Column(_) => Some(format!(
            "OVER's ORDER BY column `{}` is {}: OVER orders by the event-time column, \
                 TIMESTAMP or BIGINT (epoch milliseconds); declare or CAST it if it holds \
                 times (only ROW_NUMBER may order by another column, as a Top-N bounded by \
                 `WHERE rn <= N`): `{e}`",
            text.expr, key.expr.data_type
        )),
        _ => Some(needs_time),
    }
}

/// LAG / LEAD's default, as the argument's type.
fn default_of_type(
    default: ScalarExpr,
    target: DataType,
    name: &str,
    e: &SqlExpr,
) -> Result<ScalarExpr> {
    if default.data_type == target || default.data_type == DataType::Null {
        return Ok(default);
    }
    let numeric = |t: DataType| {
        matches!(
            t,
            DataType::BigInt | DataType::Double | DataType::Decimal { .. }
        )
    };
    if numeric(default.data_type) && numeric(target) {
        return Ok(convert(default, target));
    }
    Err(error_at(
        format!(
            "{name}'s default is {} where its value is {target}: `{e}`",
            default.data_type
        ),
        e,
    ))
}

fn different_windows(
    first: &SharedWindow,
    other: &SharedWindow,
    e: &SqlExpr,
) -> crate::error::Error {
    error_at(
        format!(
            "every OVER window of a query must have the same PARTITION BY and ORDER BY \
             (they decide which shard a row goes to, and in which order rows are processed): \
             ({}) differs from ({}) in `{e}`",
            other.written, first.written
        ),
        e,
    )
}

/// The frame of `spec`: it must end at the current row.
fn frame_of(spec: &WindowSpec, e: &SqlExpr) -> Result<Frame> {
    let Some(frame) = &spec.window_frame else {
        return Ok(Frame::DEFAULT);
    };
    let after_current = || {
        error_at(
            format!(
                "a window frame must end at the current row: rows after it have not arrived \
                 (LEAD(x, n) reads a following row): `{e}`"
            ),
            e,
        )
    };
    match &frame.end_bound {
        None | Some(WindowFrameBound::CurrentRow) => {}
        Some(WindowFrameBound::Preceding(_)) => {
            return Err(error_at(
                format!(
                    "a window frame must end at the current row; one that ends before it \
                     is not supported (LAG(x, n) reads one earlier row): `{e}`"
                ),
                e,
            ))
        }
        Some(WindowFrameBound::Following(_)) => return Err(after_current()),
    }
    let preceding = match &frame.start_bound {
        WindowFrameBound::CurrentRow => Some(None),
        WindowFrameBound::Preceding(None) => None,
        WindowFrameBound::Preceding(Some(n)) => Some(Some(&**n)),
        WindowFrameBound::Following(_) => return Err(after_current()),
    };
    match frame.units {
        WindowFrameUnits::Rows => {
            let rows = match preceding {
                None => None,
                Some(None) => Some(0),
                Some(Some(n)) => Some(row_count(n).ok_or_else(|| {
                    error_at(
                        format!("ROWS n PRECEDING takes a non-negative whole number: `{e}`"),
                        e,
                    )
                })?),
            };
            Ok(Frame::Rows(rows))
        }
        WindowFrameUnits::Range => {
            let span = match preceding {
                None => None,
                Some(None) => Some(0),
                Some(Some(n)) => Some(range_ms(n, e)?),
            };
            Ok(Frame::Range(span))
        }
        WindowFrameUnits::Groups => Err(error_at(
            format!("GROUPS frames are not supported (use ROWS or RANGE): `{e}`"),
            e,
        )),
    }
}

/// A RANGE frame's span: an interval, or a number of milliseconds.
fn range_ms(n: &SqlExpr, e: &SqlExpr) -> Result<i64> {
    let ms = match n {
        SqlExpr::Value(v) => match &v.value {
            sql::Value::Number(text, _) => text.parse::<i64>().ok(),
            _ => None,
        },
        _ => None,
    };
    let ms = match ms {
        Some(ms) => ms,
        None => interval_ms(n)?,
    };
    if ms < 0 {
        return Err(error_at(
            format!("RANGE .. PRECEDING takes a non-negative span: `{e}`"),
            e,
        ));
    }
    Ok(ms)
}

/// A non-negative whole number literal.
fn row_count(n: &SqlExpr) -> Option<usize> {
    match n {
        SqlExpr::Value(v) => match &v.value {
            sql::Value::Number(text, _) => text.parse::<usize>().ok(),
            _ => None,
        },
        SqlExpr::Nested(inner) => row_count(inner),
        _ => None,
    }
}
