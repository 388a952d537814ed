//! The functions corestream knows: scalar functions with their argument and
//! result types, aggregate names, and the window functions and window bound
//! references (`TUMBLE(..)`, `window_start`, `TUMBLE_END(..)`).

use super::compiled::{CompiledFunction, JsonPath, Pattern};
use super::resolve::{convert, error_at, unify};
use super::typecheck::{arithmetic_type, comparable, DERIVED_PRECISION};
use super::{
    AggregateFunction, BinaryOp, DatePart, ExprKind, ScalarExpr, ScalarFunction, TimeUnit, TrimSide,
};
use crate::data::{DataType, Value};
use crate::error::Result;
use sqlparser::ast::{self as sql, Expr as SqlExpr};

/// The aggregate `f` calls, if it is one (and not a window function with OVER).
pub(crate) fn aggregate_function(f: &sql::Function) -> Option<AggregateFunction> {
    if f.over.is_some() {
        return None;
    }
    aggregate_by_name(&f.name.to_string().to_ascii_lowercase())
}

pub(crate) fn aggregate_by_name(name: &str) -> Option<AggregateFunction> {
    use AggregateFunction::*;
    Some(match name {
        "count" => Count,
        "sum" => Sum,
        "avg" => Avg,
        "min" => Min,
        "max" => Max,
        "stddev_pop" => StddevPop,
        "stddev_samp" | "stddev" => StddevSamp,
        "var_pop" => VarPop,
        "var_samp" | "variance" => VarSamp,
        "bool_and" | "every" => BoolAnd,
        "bool_or" => BoolOr,
        "arg_max" | "max_by" => ArgMax,
        "arg_min" | "min_by" => ArgMin,
        "first_value" | "earliest_by_offset" => FirstValue,
        "last_value" | "latest_by_offset" => LastValue,
        "collect_list" => CollectList,
        "approx_count_distinct" => ApproxCountDistinct,
        "percentile_cont" | "approx_percentile" => PercentileCont,
        _ => return None,
    })
}

/// True for the sqlparser expressions that call a window function (OVER).
pub(crate) fn contains_over(e: &SqlExpr) -> bool {
    if let SqlExpr::Function(f) = e {
        if f.over.is_some() {
            return true;
        }
    }
    sub_expressions(e).into_iter().any(contains_over)
}

/// True for the sqlparser expressions that contain an aggregate call outside
/// of a window function (OVER).
pub(crate) fn contains_aggregate(e: &SqlExpr) -> bool {
    if let SqlExpr::Function(f) = e {
        if aggregate_function(f).is_some() {
            return true;
        }
    }
    sub_expressions(e).into_iter().any(contains_aggregate)
}

/// The direct subexpressions of the expressions the planner understands.
fn sub_expressions(e: &SqlExpr) -> Vec<&SqlExpr> {
    match e {
        SqlExpr::Nested(x)
        | SqlExpr::UnaryOp { expr: x, .. }
        | SqlExpr::IsNull(x)
        | SqlExpr::IsNotNull(x)
        | SqlExpr::Cast { expr: x, .. }
        | SqlExpr::Extract { expr: x, .. }
        | SqlExpr::Ceil { expr: x, .. }
        | SqlExpr::Floor { expr: x, .. } => vec![x],
        SqlExpr::BinaryOp { left, right, .. } => vec![left, right],
        SqlExpr::Like { expr, pattern, .. } | SqlExpr::ILike { expr, pattern, .. } => {
            vec![expr, pattern]
        }
        SqlExpr::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        SqlExpr::In {
            expr,
            target: sql::InTarget::List(list),
            ..
        } => std::iter::once(&**expr).chain(list).collect(),
        SqlExpr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => operand
            .iter()
            .chain(else_result.iter())
            .map(|b| &**b)
            .chain(conditions.iter().flat_map(|c| [&c.condition, &c.result]))
            .collect(),
        SqlExpr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => std::iter::once(expr)
            .chain(substring_from.iter())
            .chain(substring_for.iter())
            .map(|b| &**b)
            .collect(),
        SqlExpr::Trim {
            expr,
            trim_what,
            trim_characters,
            ..
        } => std::iter::once(&**expr)
            .chain(trim_what.as_deref())
            .chain(trim_characters.iter().flatten())
            .collect(),
        SqlExpr::Function(f) => function_arguments(f),
        _ => Vec::new(),
    }
}

fn function_arguments(f: &sql::Function) -> Vec<&SqlExpr> {
    let mut args: Vec<&SqlExpr> = match &f.args {
        sql::FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(x)) => Some(x),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    args.extend(f.filter.as_deref());
    args.extend(f.within_group.iter().map(|o| &o.expr));
    args
}

/// The Flink-style window functions of GROUP BY.
pub(crate) fn is_window_function(name: &str) -> bool {
    matches!(name, "tumble" | "hop" | "session")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowBound {
    Start,
    End,
}

/// `window_start`, `_window_end`, `TUMBLE_START(..)`, `HOP_END(..)`, ...
pub(crate) fn window_bound(e: &SqlExpr) -> Option<WindowBound> {
    let name = match e {
        SqlExpr::Identifier(id) => id.value.to_ascii_lowercase(),
        SqlExpr::Function(f) if f.over.is_none() => f.name.to_string().to_ascii_lowercase(),
        _ => return None,
    };
    let bare = matches!(e, SqlExpr::Identifier(_));
    match name.as_str() {
        "window_start" | "_window_start" | "windowstart" if bare => Some(WindowBound::Start),
        "window_end" | "_window_end" | "windowend" if bare => Some(WindowBound::End),
        "tumble_start" | "hop_start" | "session_start" if !bare => Some(WindowBound::Start),
        "tumble_end" | "hop_end" | "session_end" if !bare => Some(WindowBound::End),
        _ => None,
    }
}

/// The scalar functions [`scalar_function`] knows (lower-case names).
const SCALAR_FUNCTIONS: &[&str] = &[
    "coalesce",
    "nullif",
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "upper",
    "lower",
    "length",
    "char_length",
    "character_length",
    "substring",
    "substr",
    "trim",
    "btrim",
    "ltrim",
    "rtrim",
    "concat",
    "mod",
    "date_format",
    "greatest",
    "least",
    "if",
    "split_part",
    "date_trunc",
    "date_part",
    "timestampdiff",
    "timestampadd",
    "to_timestamp",
    "current_timestamp",
    "now",
    "current_date",
    "regexp_like",
    "regexp_extract",
    "regexp_replace",
    "json_value",
    "hash",
    "md5",
];

/// The error for a call of a function corestream does not know, raised
/// before its arguments are planned (so a GROUP BY query names the
/// function, not a column inside it).
pub(crate) fn check_known_function(name: &str, e: &SqlExpr) -> Result<()> {
    if SCALAR_FUNCTIONS.contains(&name) || function_date_part(name).is_some() {
        return Ok(());
    }
    Err(error_at(format!("unknown function '{name}' in `{e}`"), e))
}

/// The field a Flink-style function extracts: `YEAR(ts)`, `DAYOFMONTH(ts)`,
/// `HOUR(ts)`, .. (not `DAYOFWEEK(ts)`: Flink counts its days from 1,
/// EXTRACT from 0).
fn function_date_part(name: &str) -> Option<DatePart> {
    match name {
        "dayofmonth" => Some(DatePart::Day),
        "year" | "quarter" | "month" | "week" | "dayofyear" | "hour" | "minute" | "second" => {
            DatePart::from_name(name)
        }
        _ => None,
    }
}

/// Types the call `name(args)` (name lower-cased); `e` is the call, for errors.
pub(crate) fn scalar_function(
    name: &str,
    args: Vec<ScalarExpr>,
    e: &SqlExpr,
) -> Result<ScalarExpr> {
    if let Some(part) = function_date_part(name) {
        return date_part(name, part, args, e);
    }
    let call = Call { name, e };
    match name {
        "coalesce" => call.coalesce(args),
        "nullif" => call.nullif(args),
        "abs" => call.same_numeric(ScalarFunction::Abs, args),
        "round" => call.round(args),
        "floor" => call.floor_or_ceil(ScalarFunction::Floor, args),
        "ceil" | "ceiling" => call.floor_or_ceil(ScalarFunction::Ceil, args),
        "upper" => call.text_to_text(ScalarFunction::Upper, args),
        "lower" => call.text_to_text(ScalarFunction::Lower, args),
        "length" | "char_length" | "character_length" => call.length(args),
        "substring" | "substr" => call.substring(args),
        "trim" | "btrim" => call.trim(TrimSide::Both, args),
        "ltrim" => call.trim(TrimSide::Leading, args),
        "rtrim" => call.trim(TrimSide::Trailing, args),
        "concat" => call.concat(args),
        "mod" => call.modulo(args),
        "date_part" => call.date_part(args),
        "to_timestamp" => call.to_timestamp(args),
        "regexp_like" => call.regexp_like(args),
        "regexp_extract" => call.regexp_extract(args),
        "regexp_replace" => call.regexp_replace(args),
        "json_value" => call.json_value(args),
        "hash" => {
            call.arity(&args, 1, 1)?;
            call.build(ScalarFunction::Hash, args, DataType::BigInt)
        }
        "md5" => call.text_to_text(ScalarFunction::Md5, args),
        "current_timestamp" | "now" => {
            call.arity(&args, 0, 0)?;
            call.build(ScalarFunction::Now, args, DataType::Timestamp)
        }
        "current_date" => {
            call.arity(&args, 0, 0)?;
            let now = call.build(ScalarFunction::Now, args, DataType::Timestamp)?;
            Ok(convert(now, DataType::Date))
        }
        "date_format" => call.date_format(args),
        "greatest" => call.extreme(ScalarFunction::Greatest, args),
        "least" => call.extreme(ScalarFunction::Least, args),
        "if" => call.if_then_else(args),
        "split_part" => call.split_part(args),
        "date_trunc" => call.date_trunc(args),
        _ => Err(error_at(format!("unknown function '{name}' in `{e}`"), e)),
    }
}

/// One call being typed.
struct Call<'a> {
    name: &'a str,
    e: &'a SqlExpr,
}

impl Call<'_> {
    fn upper_name(&self) -> String {
        self.name.to_ascii_uppercase()
    }

    fn arity(&self, args: &[ScalarExpr], min: usize, max: usize) -> Result<()> {
        if (min..=max).contains(&args.len()) {
            return Ok(());
        }
        let expected = match (min, max) {
            (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
            (a, usize::MAX) => format!("at least {a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} to {b} arguments"),
        };
        Err(error_at(
            format!(
                "{} takes {expected}, got {} in `{}`",
                self.upper_name(),
                args.len(),
                self.e
            ),
            self.e,
        ))
    }

    /// Checks argument `i` against `ok` (NULL always passes).
    fn expect(
        &self,
        args: &[ScalarExpr],
        i: usize,
        wanted: &str,
        ok: impl Fn(DataType) -> bool,
    ) -> Result<()> {
        let t = args[i].data_type;
        if t == DataType::Null || ok(t) {
            return Ok(());
        }
        Err(error_at(
            format!(
                "{} expects {wanted} as argument {}, got {t} in `{}`",
                self.upper_name(),
                i + 1,
                self.e
            ),
            self.e,
        ))
    }

    fn build(
        &self,
        func: ScalarFunction,
        args: Vec<ScalarExpr>,
        t: DataType,
    ) -> Result<ScalarExpr> {
        Ok(ScalarExpr::new(ExprKind::Function { func, args }, t))
    }

    fn coalesce(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, usize::MAX)?;
        let t = unify(&args, "COALESCE arguments", self.e)?;
        let args = args.into_iter().map(|a| convert(a, t)).collect();
        self.build(ScalarFunction::Coalesce, args, t)
    }

    fn nullif(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 2)?;
        if !comparable(args[0].data_type, args[1].data_type) {
            return Err(error_at(
                format!(
                    "cannot compare {} with {} in `{}`",
                    args[0].data_type, args[1].data_type, self.e
                ),
                self.e,
            ));
        }
        let t = args[0].data_type;
        self.build(ScalarFunction::NullIf, args, t)
    }

    fn same_numeric(&self, func: ScalarFunction, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 1)?;
        self.expect(&args, 0, "a number", DataType::is_numeric)?;
        let t = args[0].data_type;
        self.build(func, args, t)
    }

    /// `ROUND(x [, d])`: BIGINT and DOUBLE keep their type; DECIMAL(p,s)
    /// becomes DECIMAL(18, min(d, s)) for a literal `d` (0 without one).
    fn round(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 2)?;
        self.expect(&args, 0, "a number", DataType::is_numeric)?;
        if args.len() == 2 {
            self.expect(&args, 1, "BIGINT", |t| t == DataType::BigInt)?;
        }
        let t = match args[0].data_type {
            DataType::Decimal { scale, .. } => {
                let digits = match args.get(1).map(|d| &d.kind) {
                    None => 0,
                    Some(ExprKind::Literal(Value::Int(d))) => (*d).clamp(0, scale as i64) as u8,
                    Some(_) => scale,
                };
                DataType::Decimal {
                    precision: DERIVED_PRECISION,
                    scale: digits,
                }
            }
            other => other,
        };
        self.build(ScalarFunction::Round, args, t)
    }

    /// FLOOR / CEIL: DECIMAL becomes DECIMAL(18,0); others keep their type.
    fn floor_or_ceil(&self, func: ScalarFunction, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 1)?;
        self.expect(&args, 0, "a number", DataType::is_numeric)?;
        let t = match args[0].data_type {
            DataType::Decimal { .. } => DataType::Decimal {
                precision: DERIVED_PRECISION,
                scale: 0,
            },
            other => other,
        };
        self.build(func, args, t)
    }

    fn text_to_text(&self, func: ScalarFunction, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 1)?;
        self.expect(&args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
        self.build(func, args, DataType::Varchar)
    }

    fn length(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 1)?;
        self.expect(&args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
        self.build(ScalarFunction::Length, args, DataType::BigInt)
    }

    fn substring(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 3)?;
        self.expect(&args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
        for i in 1..args.len() {
            self.expect(&args, i, "BIGINT", |t| t == DataType::BigInt)?;
        }
        self.build(ScalarFunction::Substring, args, DataType::Varchar)
    }

    fn trim(&self, side: TrimSide, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 2)?;
        for i in 0..args.len() {
            self.expect(&args, i, "VARCHAR", |t| t == DataType::Varchar)?;
        }
        self.build(ScalarFunction::Trim(side), args, DataType::Varchar)
    }

    fn concat(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, usize::MAX)?;
        self.build(ScalarFunction::Concat, args, DataType::Varchar)
    }

    fn modulo(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 2)?;
        let (l, r) = (args[0].data_type, args[1].data_type);
        let t = arithmetic_type(BinaryOp::Modulo, l, r)
            .filter(|_| l.is_numeric() && r.is_numeric())
            .ok_or_else(|| {
                error_at(
                    format!("MOD expects numbers, got {l} and {r} in `{}`", self.e),
                    self.e,
                )
            })?;
        self.build(ScalarFunction::Mod, args, t)
    }

    fn date_format(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 2)?;
        let args = dates_as_timestamps(args, &[0]);
        self.expect(&args, 0, "TIMESTAMP", |t| t == DataType::Timestamp)?;
        self.expect(&args, 1, "VARCHAR", |t| t == DataType::Varchar)?;
        self.check_pattern_literal(&args[1])?;
        self.build(ScalarFunction::DateFormat, args, DataType::Varchar)
    }

    fn compiled(
        &self,
        func: CompiledFunction,
        args: Vec<ScalarExpr>,
        t: DataType,
    ) -> Result<ScalarExpr> {
        Ok(ScalarExpr::new(ExprKind::Compiled { func, args }, t))
    }

    /// The text of argument `i`, which must be a VARCHAR literal (`what`
    /// names it in the error).
    fn constant_text<'x>(&self, args: &'x [ScalarExpr], i: usize, what: &str) -> Result<&'x str> {
        match args.get(i).map(|a| &a.kind) {
            Some(ExprKind::Literal(Value::Str(text))) => Ok(text),
            _ => Err(error_at(
                format!(
                    "{} takes a constant {what} (a string literal) as argument {} in `{}`",
                    self.upper_name(),
                    i + 1,
                    self.e
                ),
                self.e,
            )),
        }
    }

    /// The flags at argument `i` (none when absent), each one of `allowed`.
    fn flags(&self, args: &[ScalarExpr], i: usize, allowed: &str) -> Result<String> {
        if args.len() <= i {
            return Ok(String::new());
        }
        let flags = self.constant_text(args, i, "flags")?;
        match flags.chars().find(|c| !allowed.contains(*c)) {
            None => Ok(flags.to_string()),
            Some(c) => Err(error_at(
                format!(
                    "{} flag '{c}' is not supported (flags: {allowed}) in `{}`",
                    self.upper_name(),
                    self.e
                ),
                self.e,
            )),
        }
    }

    /// The regular expression at argument 2, compiled (`i` in `flags`: case
    /// insensitive); an invalid one is an error here, at plan time.
    fn pattern(&self, args: &[ScalarExpr], flags: &str) -> Result<Pattern> {
        self.expect(args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
        let text = self.constant_text(args, 1, "pattern")?;
        Pattern::compile(text, flags.contains('i')).map_err(|m| {
            error_at(
                format!(
                    "{}: invalid regular expression in `{}`: {m}",
                    self.upper_name(),
                    self.e
                ),
                self.e,
            )
        })
    }

    /// `REGEXP_LIKE(s, pattern [, 'i'])`.
    fn regexp_like(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 3)?;
        let flags = self.flags(&args, 2, "i")?;
        let pattern = self.pattern(&args, &flags)?;
        let args = keep(args, &[0]);
        self.compiled(
            CompiledFunction::RegexpLike(pattern),
            args,
            DataType::Boolean,
        )
    }

    /// `REGEXP_EXTRACT(s, pattern [, group])`; a literal group must exist.
    fn regexp_extract(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 3)?;
        let pattern = self.pattern(&args, "")?;
        if args.len() == 3 {
            self.expect(&args, 2, "BIGINT", |t| t == DataType::BigInt)?;
        }
        if let Some(ExprKind::Literal(Value::Int(group))) = args.get(2).map(|a| &a.kind) {
            let groups = pattern.groups();
            if usize::try_from(*group).map_or(true, |g| g > groups) {
                return Err(error_at(
                    format!(
                        "REGEXP_EXTRACT group {group} does not exist: the pattern has {groups} \
                         group(s) in `{}`",
                        self.e
                    ),
                    self.e,
                ));
            }
        }
        let args = keep(args, &[0, 2]);
        self.compiled(
            CompiledFunction::RegexpExtract(pattern),
            args,
            DataType::Varchar,
        )
    }

    /// `REGEXP_REPLACE(s, pattern, replacement [, 'gi'])`.
    fn regexp_replace(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 3, 4)?;
        let flags = self.flags(&args, 3, "gi")?;
        let pattern = self.pattern(&args, &flags)?;
        self.expect(&args, 2, "VARCHAR", |t| t == DataType::Varchar)?;
        let func = CompiledFunction::RegexpReplace {
            pattern,
            all: flags.contains('g'),
        };
        let args = keep(args, &[0, 2]);
        self.compiled(func, args, DataType::Varchar)
    }

    /// `JSON_VALUE(s, '$.path')`.
    fn json_value(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 2)?;
        self.expect(&args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
        let text = self.constant_text(&args, 1, "JSON path")?;
        let path =
            JsonPath::parse(text).map_err(|m| error_at(format!("{m} in `{}`", self.e), self.e))?;
        let args = keep(args, &[0]);
        self.compiled(CompiledFunction::JsonValue(path), args, DataType::Varchar)
    }

    /// Refuses a literal DATE_FORMAT / TO_TIMESTAMP pattern with a letter
    /// that is not a pattern letter.
    fn check_pattern_literal(&self, pattern: &ScalarExpr) -> Result<()> {
        let ExprKind::Literal(Value::Str(pattern)) = &pattern.kind else {
            return Ok(());
        };
        match unknown_pattern_letter(pattern) {
            None => Ok(()),
            Some(letter) => Err(error_at(
                format!(
                    "{} pattern letter '{letter}' is not supported in `{}` \
                     (letters: y M d H m s S; quote text: 'T')",
                    self.upper_name(),
                    self.e
                ),
                self.e,
            )),
        }
    }

    /// GREATEST / LEAST over arguments of one (common) type.
    fn extreme(&self, func: ScalarFunction, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, usize::MAX)?;
        let what = format!("{} arguments", self.upper_name());
        let t = unify(&args, &what, self.e)?;
        let args = args.into_iter().map(|a| convert(a, t)).collect();
        self.build(func, args, t)
    }

    /// `IF(condition, then, else)`: `CASE WHEN condition THEN then ELSE else END`.
    fn if_then_else(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 3, 3)?;
        self.expect(&args, 0, "BOOLEAN", |t| t == DataType::Boolean)?;
        let mut args = args.into_iter();
        let (Some(condition), Some(then), Some(otherwise)) =
            (args.next(), args.next(), args.next())
        else {
            return Err(error_at("IF takes 3 arguments", self.e));
        };
        let t = unify(&[then.clone(), otherwise.clone()], "IF branches", self.e)?;
        Ok(ScalarExpr::new(
            ExprKind::Case {
                operand: None,
                branches: vec![(condition, convert(then, t))],
                else_result: Some(Box::new(convert(otherwise, t))),
            },
            t,
        ))
    }

    fn split_part(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 3, 3)?;
        self.expect(&args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
        self.expect(&args, 1, "VARCHAR", |t| t == DataType::Varchar)?;
        self.expect(&args, 2, "BIGINT", |t| t == DataType::BigInt)?;
        self.build(ScalarFunction::SplitPart, args, DataType::Varchar)
    }

    /// `DATE_TRUNC('unit', ts)`, the unit a literal.
    fn date_trunc(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 2)?;
        let unit = match &args[0].kind {
            ExprKind::Literal(Value::Str(name)) => TimeUnit::from_name(name),
            _ => None,
        }
        .ok_or_else(|| {
            error_at(
                format!(
                    "DATE_TRUNC takes a unit literal as its first argument ('second', 'minute', \
                     'hour', 'day', 'week', 'month', 'quarter', 'year' or 'millisecond') in `{}`",
                    self.e
                ),
                self.e,
            )
        })?;
        let ts = args.into_iter().skip(1).collect();
        time_floor(unit, ts, false, self.e)
    }

    /// `TO_TIMESTAMP(text [, pattern])` or `TO_TIMESTAMP(epoch_seconds)`.
    fn to_timestamp(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 1, 2)?;
        if args.len() == 2 {
            self.expect(&args, 0, "VARCHAR", |t| t == DataType::Varchar)?;
            self.expect(&args, 1, "VARCHAR", |t| t == DataType::Varchar)?;
            self.check_pattern_literal(&args[1])?;
        } else {
            self.expect(&args, 0, "VARCHAR or a number", |t| {
                t == DataType::Varchar || t.is_numeric()
            })?;
        }
        self.build(ScalarFunction::ToTimestamp, args, DataType::Timestamp)
    }

    /// `DATE_PART('field', ts)`: `EXTRACT(field FROM ts)`, the field a literal.
    fn date_part(&self, args: Vec<ScalarExpr>) -> Result<ScalarExpr> {
        self.arity(&args, 2, 2)?;
        let part = match &args[0].kind {
            ExprKind::Literal(Value::Str(name)) => {
                DatePart::from_name(name).ok_or_else(|| unknown_date_part(name, self.e))?
            }
            _ => {
                return Err(error_at(
                    format!(
                        "DATE_PART takes a field literal as its first argument in `{}`",
                        self.e
                    ),
                    self.e,
                ))
            }
        };
        let ts = args.into_iter().skip(1).collect();
        date_part(self.name, part, ts, self.e)
    }
}

/// `TIMESTAMPDIFF(unit, a, b)` or `TIMESTAMPADD(unit, n, ts)` (`name`
/// lower-case); `args` are the arguments after the unit.
pub(crate) fn unit_function(
    name: &str,
    unit: TimeUnit,
    args: Vec<ScalarExpr>,
    e: &SqlExpr,
) -> Result<ScalarExpr> {
    let call = Call { name, e };
    call.arity(&args, 2, 2)?;
    let args = dates_as_timestamps(args, &[0, 1]);
    call.expect(&args, 1, "TIMESTAMP", |t| t == DataType::Timestamp)?;
    if name == "timestampdiff" {
        call.expect(&args, 0, "TIMESTAMP", |t| t == DataType::Timestamp)?;
        return call.build(ScalarFunction::TimestampDiff(unit), args, DataType::BigInt);
    }
    call.expect(&args, 0, "BIGINT", |t| t == DataType::BigInt)?;
    call.build(
        ScalarFunction::TimestampAdd(unit),
        args,
        DataType::Timestamp,
    )
}

/// The arguments at positions `wanted` (those that exist), in order.
fn keep(args: Vec<ScalarExpr>, wanted: &[usize]) -> Vec<ScalarExpr> {
    args.into_iter()
        .enumerate()
        .filter(|(i, _)| wanted.contains(i))
        .map(|(_, a)| a)
        .collect()
}

/// `json ->> key`: the key a string (a path when it starts with `$`) or an
/// array index, constant.
pub(crate) fn json_arrow(json: ScalarExpr, key: ScalarExpr, e: &SqlExpr) -> Result<ScalarExpr> {
    let call = Call { name: "->>", e };
    call.expect(std::slice::from_ref(&json), 0, "VARCHAR", |t| {
        t == DataType::Varchar
    })?;
    let path = match &key.kind {
        ExprKind::Literal(Value::Str(text)) => JsonPath::key_or_path(text),
        ExprKind::Literal(Value::Int(i)) => usize::try_from(*i)
            .map(JsonPath::index)
            .map_err(|_| format!("a negative array index {i}")),
        _ => Err("the key must be a string or integer literal".to_string()),
    }
    .map_err(|m| error_at(format!("->> {m} in `{e}`"), e))?;
    call.compiled(
        CompiledFunction::JsonText(path),
        vec![json],
        DataType::Varchar,
    )
}

/// `EXTRACT(part FROM ts)`, `HOUR(ts)` (`name` the call's, for errors);
/// `args` = `[ts]`.
pub(crate) fn date_part(
    name: &str,
    part: DatePart,
    args: Vec<ScalarExpr>,
    e: &SqlExpr,
) -> Result<ScalarExpr> {
    let call = Call { name, e };
    call.arity(&args, 1, 1)?;
    let args = dates_as_timestamps(args, &[0]);
    call.expect(&args, 0, "TIMESTAMP", |t| t == DataType::Timestamp)?;
    let t = match part {
        DatePart::Epoch => DataType::Double,
        _ => DataType::BigInt,
    };
    call.build(ScalarFunction::DatePart(part), args, t)
}

/// The error for an EXTRACT field corestream does not know.
pub(crate) fn unknown_date_part(field: &str, e: &SqlExpr) -> crate::error::Error {
    error_at(
        format!(
            "EXTRACT({field} FROM ..) is not supported (fields: YEAR, QUARTER, MONTH, WEEK, DAY, \
             DOW/DAYOFWEEK, ISODOW, DOY/DAYOFYEAR, ISOYEAR, HOUR, MINUTE, SECOND, MILLISECOND, \
             MICROSECOND, EPOCH)"
        ),
        e,
    )
}

/// `FLOOR(ts TO unit)` (or with `ceil`, `CEIL(ts TO unit)`); `args` = `[ts]`.
pub(crate) fn time_floor(
    unit: TimeUnit,
    args: Vec<ScalarExpr>,
    ceil: bool,
    e: &SqlExpr,
) -> Result<ScalarExpr> {
    let (func, name) = match ceil {
        false => (ScalarFunction::TimeFloor(unit), "floor"),
        true => (ScalarFunction::TimeCeil(unit), "ceil"),
    };
    let call = Call { name, e };
    call.arity(&args, 1, 1)?;
    let args = dates_as_timestamps(args, &[0]);
    call.expect(&args, 0, "TIMESTAMP", |t| t == DataType::Timestamp)?;
    call.build(func, args, DataType::Timestamp)
}

/// `args` with each DATE at `positions` as the TIMESTAMP of its midnight:
/// the time functions take a DATE wherever they take a TIMESTAMP (and
/// return a TIMESTAMP, as DuckDB's DATE_TRUNC does).
fn dates_as_timestamps(args: Vec<ScalarExpr>, positions: &[usize]) -> Vec<ScalarExpr> {
    args.into_iter()
        .enumerate()
        .map(|(i, arg)| match arg.data_type {
            DataType::Date if positions.contains(&i) => convert(arg, DataType::Timestamp),
            _ => arg,
        })
        .collect()
}

/// The first ASCII letter of a DATE_FORMAT pattern that is not a pattern
/// letter (text in single quotes is skipped).
fn unknown_pattern_letter(pattern: &str) -> Option<char> {
    let mut quoted = false;
    for c in pattern.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted && c.is_ascii_alphabetic() && !"yMdHmsS".contains(c) {
            return Some(c);
        }
    }
    None
}
