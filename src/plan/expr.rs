//! Typed scalar and aggregate expressions, with columns resolved to positions.

use crate::data::{DataType, Value};

/// A typed expression. `data_type` is what evaluation yields (or NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarExpr {
    pub kind: ExprKind,
    pub data_type: DataType,
}

impl ScalarExpr {
    pub fn new(kind: ExprKind, data_type: DataType) -> Self {
        ScalarExpr { kind, data_type }
    }

    pub fn column(index: usize, data_type: DataType) -> Self {
        ScalarExpr::new(ExprKind::Column(index), data_type)
    }

    pub fn literal(value: Value) -> Self {
        let data_type = value.data_type();
        ScalarExpr::new(ExprKind::Literal(value), data_type)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// The value at this position of the row the expression is evaluated over.
    Column(usize),
    Literal(Value),
    Unary {
        op: UnaryOp,
        expr: Box<ScalarExpr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<ScalarExpr>,
        right: Box<ScalarExpr>,
    },
    IsNull {
        expr: Box<ScalarExpr>,
        negated: bool,
    },
    InList {
        expr: Box<ScalarExpr>,
        list: Vec<ScalarExpr>,
        negated: bool,
    },
    Between {
        expr: Box<ScalarExpr>,
        low: Box<ScalarExpr>,
        high: Box<ScalarExpr>,
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern` (`%` any run, `_` one character; `ILIKE` when
    /// `case_insensitive`).
    Like {
        expr: Box<ScalarExpr>,
        pattern: Box<ScalarExpr>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        operand: Option<Box<ScalarExpr>>,
        branches: Vec<(ScalarExpr, ScalarExpr)>,
        else_result: Option<Box<ScalarExpr>>,
    },
    /// `CAST(expr AS type)`; a value that does not convert yields NULL. The
    /// target is this expression's `data_type`. The planner also inserts casts
    /// so that CASE branches and COALESCE arguments have the result's type.
    Cast {
        expr: Box<ScalarExpr>,
    },
    Function {
        func: ScalarFunction,
        args: Vec<ScalarExpr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Negate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    /// BIGINT / BIGINT truncates; division by zero yields NULL.
    Divide,
    Modulo,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
    /// `||`
    Concat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunction {
    Coalesce,
    NullIf,
    Abs,
    /// `ROUND(x)` or `ROUND(x, digits)`. A DECIMAL result has the scale of
    /// the expression's `data_type` (FLOOR and CEIL of DECIMAL: scale 0).
    Round,
    Floor,
    Ceil,
    Upper,
    Lower,
    /// Characters, not bytes.
    Length,
    /// `SUBSTRING(s, start [, length])`, 1-based, in characters.
    Substring,
    /// `TRIM([BOTH|LEADING|TRAILING] [chars FROM] s)` as `args = [s]` or
    /// `[s, chars]`.
    Trim(TrimSide),
    Concat,
    /// `MOD(a, b)`.
    Mod,
    /// `HOUR(ts)`, `EXTRACT(HOUR FROM ts)`: 0 to 23, UTC.
    Hour,
    /// `DATE_FORMAT(ts, 'yyyy-MM-dd')` (Java-style pattern letters y M d H m s S).
    DateFormat,
    /// `GREATEST(..)` / `LEAST(..)`: NULL arguments are skipped (as in
    /// DuckDB and PostgreSQL); NULL only when all are.
    Greatest,
    Least,
    /// `SPLIT_PART(s, delimiter, n)`: the n-th part (1-based; negative counts
    /// from the end; '' when there is none; an empty delimiter splits into
    /// characters).
    SplitPart,
    /// `DATE_TRUNC('unit', ts)`, `FLOOR(ts TO unit)`: the start of the unit.
    TimeFloor(TimeUnit),
    /// `CEIL(ts TO unit)`: the smallest unit boundary at or after `ts`.
    TimeCeil(TimeUnit),
}

/// A calendar unit of DATE_TRUNC, FLOOR/CEIL(.. TO ..), in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
    Quarter,
    Year,
}

impl TimeUnit {
    /// The unit a name stands for (`minute`, `MINUTES`, ..).
    pub fn from_name(name: &str) -> Option<TimeUnit> {
        let unit = match name.to_ascii_lowercase().trim_end_matches('s') {
            "millisecond" => TimeUnit::Millisecond,
            "second" => TimeUnit::Second,
            "minute" => TimeUnit::Minute,
            "hour" => TimeUnit::Hour,
            "day" => TimeUnit::Day,
            "week" => TimeUnit::Week,
            "month" => TimeUnit::Month,
            "quarter" => TimeUnit::Quarter,
            "year" => TimeUnit::Year,
            _ => return None,
        };
        Some(unit)
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Millisecond => "MILLISECOND",
            TimeUnit::Second => "SECOND",
            TimeUnit::Minute => "MINUTE",
            TimeUnit::Hour => "HOUR",
            TimeUnit::Day => "DAY",
            TimeUnit::Week => "WEEK",
            TimeUnit::Month => "MONTH",
            TimeUnit::Quarter => "QUARTER",
            TimeUnit::Year => "YEAR",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimSide {
    Both,
    Leading,
    Trailing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    /// `COUNT(*)` when the call has no argument.
    Count,
    Sum,
    Avg,
    Min,
    Max,
    StddevPop,
    StddevSamp,
    VarPop,
    VarSamp,
}

/// One aggregate of a grouped query: `func([DISTINCT] arg) [FILTER (WHERE filter)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub func: AggregateFunction,
    /// Over the source row; `None` only for `COUNT(*)`.
    pub arg: Option<ScalarExpr>,
    pub distinct: bool,
    /// Over the source row: only rows where it is TRUE are aggregated.
    pub filter: Option<ScalarExpr>,
    /// The result type: COUNT BIGINT; SUM of BIGINT BIGINT, of DECIMAL(p,s)
    /// DECIMAL(18,s), of DOUBLE DOUBLE; AVG and the variances DOUBLE; MIN/MAX
    /// the argument's type.
    pub data_type: DataType,
}
