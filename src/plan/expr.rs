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

    /// The column a one-expression key is, when it is a plain column
    /// (such a key is hashed and compared in place, without evaluating it).
    pub fn single_column(keys: &[ScalarExpr]) -> Option<usize> {
        match keys {
            [ScalarExpr {
                kind: ExprKind::Column(c),
                ..
            }] => Some(*c),
            _ => None,
        }
    }

    pub fn column(index: usize, data_type: DataType) -> Self {
        ScalarExpr::new(ExprKind::Column(index), data_type)
    }

    pub fn literal(value: Value) -> Self {
        let data_type = value.data_type();
        ScalarExpr::new(ExprKind::Literal(value), data_type)
    }

    /// The conjuncts of `a AND b AND c`: a, b, c (one for anything else).
    pub fn conjuncts(&self) -> Vec<&ScalarExpr> {
        match &self.kind {
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                let mut all = left.conjuncts();
                all.extend(right.conjuncts());
                all
            }
            _ => vec![self],
        }
    }

    /// [`ScalarExpr::conjuncts`], taken apart.
    pub fn into_conjuncts(self) -> Vec<ScalarExpr> {
        match self.kind {
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                let mut all = left.into_conjuncts();
                all.extend(right.into_conjuncts());
                all
            }
            kind => vec![ScalarExpr::new(kind, self.data_type)],
        }
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
    /// A function whose constant argument (a regular expression, a JSON
    /// path) was compiled at plan time; `args` are the others.
    Compiled {
        func: super::CompiledFunction,
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
    /// `EXTRACT(field FROM ts)`, `HOUR(ts)`: a field of a timestamp, UTC.
    DatePart(DatePart),
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
    /// `TIMESTAMPDIFF(unit, a, b)`: the whole units from `a` to `b`,
    /// truncated toward zero; months, quarters and years by the calendar.
    TimestampDiff(TimeUnit),
    /// `TIMESTAMPADD(unit, n, ts)`; months clamp the day to the month's end.
    TimestampAdd(TimeUnit),
    /// The start of the tumbling window of this many milliseconds (windows
    /// aligned to the epoch) that holds a time: a window join's
    /// `window_start`, as its window table function would add it.
    TumbleStart(i64),
    /// That window's end (its start plus the size): `window_end`.
    TumbleEnd(i64),
    /// `TO_TIMESTAMP(text [, pattern])` (ISO-8601, or Java-style pattern
    /// letters as DATE_FORMAT's) or `TO_TIMESTAMP(epoch_seconds)`; NULL when
    /// the value does not convert.
    ToTimestamp,
    /// `HASH(x)`: xxHash64 (seed 0) of `x`'s text, as a signed BIGINT.
    Hash,
    /// `MD5(s)`: the MD5 digest of the UTF-8 bytes, 32 lower-case hex digits.
    Md5,
    /// `CURRENT_TIMESTAMP`, `NOW()`: the wall clock when the row is
    /// evaluated (processing time, not deterministic).
    Now,
}

/// A field of `EXTRACT(field FROM ts)`, in UTC, with DuckDB's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Year,
    /// 1 to 4.
    Quarter,
    /// 1 to 12.
    Month,
    /// The ISO week number (weeks start on Monday; week 1 holds January 4th).
    Week,
    /// The day of the month, 1 to 31.
    Day,
    /// `DOW`, `DAYOFWEEK`: 0 (Sunday) to 6 (Saturday).
    DayOfWeek,
    /// `ISODOW`: 1 (Monday) to 7 (Sunday).
    IsoDayOfWeek,
    /// `DOY`, `DAYOFYEAR`: 1 to 366.
    DayOfYear,
    /// The year of the ISO week.
    IsoYear,
    Hour,
    Minute,
    /// 0 to 59, whole seconds.
    Second,
    /// The seconds in milliseconds: 0 to 59999.
    Millisecond,
    /// The seconds in microseconds: 0 to 59999000.
    Microsecond,
    /// Seconds since 1970-01-01 00:00:00 UTC, with the fraction (DOUBLE).
    Epoch,
}

impl DatePart {
    /// The field an EXTRACT names (`YEAR`, `dow`, `DAYOFWEEK`, ..).
    pub fn from_name(name: &str) -> Option<DatePart> {
        use DatePart::*;
        let part = match name.to_ascii_lowercase().as_str() {
            "year" | "years" => Year,
            "quarter" => Quarter,
            "month" | "months" => Month,
            "week" | "weeks" => Week,
            "day" | "days" => Day,
            "dow" | "dayofweek" => DayOfWeek,
            "isodow" => IsoDayOfWeek,
            "doy" | "dayofyear" => DayOfYear,
            "isoyear" => IsoYear,
            "hour" | "hours" => Hour,
            "minute" | "minutes" => Minute,
            "second" | "seconds" => Second,
            "millisecond" | "milliseconds" => Millisecond,
            "microsecond" | "microseconds" => Microsecond,
            "epoch" => Epoch,
            _ => return None,
        };
        Some(part)
    }

    pub fn name(self) -> &'static str {
        use DatePart::*;
        match self {
            Year => "YEAR",
            Quarter => "QUARTER",
            Month => "MONTH",
            Week => "WEEK",
            Day => "DAY",
            DayOfWeek => "DOW",
            IsoDayOfWeek => "ISODOW",
            DayOfYear => "DOY",
            IsoYear => "ISOYEAR",
            Hour => "HOUR",
            Minute => "MINUTE",
            Second => "SECOND",
            Millisecond => "MILLISECOND",
            Microsecond => "MICROSECOND",
            Epoch => "EPOCH",
        }
    }
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
    /// `BOOL_AND(b)` (`EVERY`): TRUE when every non-NULL input is.
    BoolAnd,
    /// `BOOL_OR(b)`: TRUE when some input is.
    BoolOr,
    /// `ARG_MAX(x, by)` (`MAX_BY`): `x` of the row with the largest `by`
    /// (the first such row on ties); rows where either is NULL are skipped.
    ArgMax,
    /// `ARG_MIN(x, by)` (`MIN_BY`).
    ArgMin,
    /// `FIRST_VALUE(x)`, `EARLIEST_BY_OFFSET(x)`: the first non-NULL input
    /// in input order.
    FirstValue,
    /// `LAST_VALUE(x)`, `LATEST_BY_OFFSET(x)`: the last non-NULL input.
    LastValue,
    /// `COLLECT_LIST(x)`: the non-NULL inputs in input order, as a JSON
    /// array (VARCHAR).
    CollectList,
    /// `APPROX_COUNT_DISTINCT(x)`: a HyperLogLog estimate (exact while
    /// small), BIGINT.
    ApproxCountDistinct,
    /// `PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY x)`, `APPROX_PERCENTILE(x,
    /// p)`: the exact continuous percentile (linear interpolation), DOUBLE.
    PercentileCont,
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
    /// The second argument, over the source row: ARG_MAX / ARG_MIN's `by`.
    pub by: Option<ScalarExpr>,
    /// ARG_MAX / ARG_MIN `RESPECT NULLS`: the row with the best `by` wins
    /// even when its `x` is NULL (what deduplication keeps); by default a
    /// NULL `x` is skipped.
    pub respect_nulls: bool,
    /// The constant fraction of PERCENTILE_CONT (0 to 1).
    pub fraction: Option<f64>,
    /// The result type: COUNT BIGINT; SUM of BIGINT BIGINT, of DECIMAL(p,s)
    /// DECIMAL(18,s), of DOUBLE DOUBLE; AVG, the variances and percentiles
    /// DOUBLE; MIN/MAX, ARG_MAX/ARG_MIN, FIRST/LAST_VALUE the argument's type;
    /// BOOL_AND/BOOL_OR BOOLEAN; COLLECT_LIST VARCHAR.
    pub data_type: DataType,
}

impl AggregateCall {
    /// Whether the call's state, built over any split of its inputs, merges
    /// into exactly the state of one pass over all of them in input order
    /// (the parts merged in input order): what lets shards pre-aggregate
    /// the rows they read. COUNT, SUM and AVG are exact sums (DOUBLE sums
    /// too: they round once, when read); MIN and MAX keep the earlier of
    /// equal values; BOOL_AND and BOOL_OR. Not DISTINCT (a set per part),
    /// not the variances (their running mean rounds), not the
    /// order-dependent or sketched ones.
    pub fn merges_exactly(&self) -> bool {
        use AggregateFunction::*;
        let plain = !self.distinct && self.by.is_none();
        plain && matches!(self.func, Count | Sum | Avg | Min | Max | BoolAnd | BoolOr)
    }
}
