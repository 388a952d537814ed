//! Named scalar functions: COALESCE, NULLIF, numeric (ABS, ROUND, FLOOR,
//! CEIL, MOD, GREATEST, LEAST), text (UPPER, LOWER, LENGTH, SUBSTRING, TRIM,
//! CONCAT, SPLIT_PART, HASH, MD5) and time (EXTRACT, DATE_FORMAT, DATE_TRUNC,
//! FLOOR/CEIL(ts TO unit), TIMESTAMPDIFF, TIMESTAMPADD, TO_TIMESTAMP, NOW; the
//! calendar arithmetic is in `datetime.rs`). Results conform to the plan's
//! type.

use super::cast::conform;
use super::datetime::{
    date_part, fixed_millis, timestamp_add, timestamp_diff, to_timestamp, MILLIS_PER_DAY,
    MILLIS_PER_HOUR,
};
use super::eval::{binary_values, eval, sql_eq, with_operand};
use crate::data::{DataType, Decimal, Value};
use crate::plan::{BinaryOp, ScalarExpr, ScalarFunction, TimeUnit, TrimSide};
use chrono::{DateTime, Datelike, Timelike, Utc};
use std::fmt::Write;

/// Evaluates `func(args)` over `row`; NULL for wrong arity or types.
pub fn eval_function(
    func: ScalarFunction,
    args: &[ScalarExpr],
    result_type: DataType,
    row: &[Value],
) -> Value {
    let value = match func {
        ScalarFunction::Coalesce => args
            .iter()
            .map(|a| eval(a, row))
            .find(|v| !v.is_null())
            .unwrap_or(Value::Null),
        ScalarFunction::Concat => concat(args, row),
        ScalarFunction::NullIf => match args {
            [a, b] => {
                let first = eval(a, row);
                let same = with_operand(b, row, |second| sql_eq(&first, second));
                if same == Some(true) {
                    Value::Null
                } else {
                    first
                }
            }
            _ => Value::Null,
        },
        ScalarFunction::Greatest => extreme(args, row, std::cmp::Ordering::Greater),
        ScalarFunction::Least => extreme(args, row, std::cmp::Ordering::Less),
        ScalarFunction::Now => Value::Timestamp(chrono::Utc::now().timestamp_millis()),
        ScalarFunction::Mod => match args {
            [a, b] => with_operand(a, row, |x| {
                with_operand(b, row, |y| {
                    binary_values(BinaryOp::Modulo, x, y, result_type)
                })
            }),
            _ => Value::Null,
        },
        _ => {
            let values: Vec<Value> = args.iter().map(|a| eval(a, row)).collect();
            if values.iter().any(Value::is_null) {
                Value::Null
            } else {
                apply_strict(func, &values).unwrap_or(Value::Null)
            }
        }
    };
    conform(value, result_type)
}

/// Functions that are NULL when any argument is NULL.
fn apply_strict(func: ScalarFunction, args: &[Value]) -> Option<Value> {
    let first = args.first()?;
    match func {
        ScalarFunction::Abs => abs(first),
        ScalarFunction::Round => round(first, args.get(1).map_or(Some(0), Value::as_i64)?),
        ScalarFunction::Floor => floor_or_ceil(first, false),
        ScalarFunction::Ceil => floor_or_ceil(first, true),
        ScalarFunction::Upper => Some(Value::Str(text_of(first).to_uppercase().into())),
        ScalarFunction::Lower => Some(Value::Str(text_of(first).to_lowercase().into())),
        ScalarFunction::Length => Some(Value::Int(text_of(first).chars().count() as i64)),
        ScalarFunction::Substring => substring(
            &text_of(first),
            args.get(1)?.as_i64()?,
            args.get(2).map(Value::as_i64),
        ),
        ScalarFunction::Trim(side) => {
            let chars = args.get(1).map(text_of);
            Some(trim(&text_of(first), chars.as_deref().unwrap_or(" "), side))
        }
        ScalarFunction::DatePart(part) => date_part(time_of(first)?, part),
        ScalarFunction::TimestampDiff(unit) => {
            timestamp_diff(unit, time_of(first)?, time_of(args.get(1)?)?).map(Value::Int)
        }
        ScalarFunction::TimestampAdd(unit) => {
            timestamp_add(unit, first.as_i64()?, time_of(args.get(1)?)?).map(Value::Timestamp)
        }
        ScalarFunction::ToTimestamp => to_timestamp(first, args.get(1)),
        ScalarFunction::Hash => Some(Value::Int(hash(first))),
        ScalarFunction::Md5 => Some(Value::Str(md5_hex(&text_of(first)).into())),
        ScalarFunction::DateFormat => {
            let pattern = text_of(args.get(1)?);
            date_format(time_of(first)?, &pattern).map(|s| Value::Str(s.into()))
        }
        ScalarFunction::SplitPart => {
            let part = split_part(
                &text_of(first),
                &text_of(args.get(1)?),
                args.get(2)?.as_i64()?,
            );
            Some(Value::Str(part.into()))
        }
        ScalarFunction::TimeFloor(unit) => time_floor(time_of(first)?, unit).map(Value::Timestamp),
        ScalarFunction::TimeCeil(unit) => time_ceil(time_of(first)?, unit).map(Value::Timestamp),
        ScalarFunction::TumbleStart(size_ms) => {
            Some(Value::Timestamp(tumble_start(time_of(first)?, size_ms)))
        }
        ScalarFunction::TumbleEnd(size_ms) => {
            let start = tumble_start(time_of(first)?, size_ms);
            Some(Value::Timestamp(start.saturating_add(size_ms)))
        }
        ScalarFunction::Coalesce
        | ScalarFunction::NullIf
        | ScalarFunction::Concat
        | ScalarFunction::Mod
        | ScalarFunction::Greatest
        | ScalarFunction::Least
        | ScalarFunction::Now => None,
    }
}

/// xxHash64 (seed 0) of the value's text, as corestream writes it.
fn hash(v: &Value) -> i64 {
    let digest = twox_hash::XxHash64::oneshot(0, text_of(v).as_bytes());
    i64::from_ne_bytes(digest.to_ne_bytes())
}

/// The MD5 digest of `s`'s UTF-8 bytes as 32 lower-case hex digits.
fn md5_hex(s: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(s.as_bytes())
        .iter()
        .fold(String::with_capacity(32), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// GREATEST (`wanted` = Greater) or LEAST of the non-NULL arguments.
fn extreme(args: &[ScalarExpr], row: &[Value], wanted: std::cmp::Ordering) -> Value {
    let mut best = Value::Null;
    for arg in args {
        let v = eval(arg, row);
        let better = !v.is_null() && (best.is_null() || v.partial_cmp(&best) == Some(wanted));
        if better {
            best = v;
        }
    }
    best
}

/// The `n`-th part of `s` split at `delimiter` (1-based, negative from the
/// end); '' when there is none. An empty delimiter splits into characters.
fn split_part(s: &str, delimiter: &str, n: i64) -> String {
    let parts: Vec<&str> = if delimiter.is_empty() {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect()
    } else {
        s.split(delimiter).collect()
    };
    let index = match n {
        0 => None,
        n if n > 0 => usize::try_from(n - 1).ok(),
        n => usize::try_from(n.unsigned_abs())
            .ok()
            .and_then(|back| parts.len().checked_sub(back)),
    };
    index
        .and_then(|i| parts.get(i))
        .map_or_else(String::new, |p| (*p).to_string())
}

/// The start (epoch millis) of the `unit` holding `millis`, in UTC.
/// The start of the epoch-aligned window of `size_ms` (positive) holding
/// `millis`, as the windowed operators compute it.
fn tumble_start(millis: i64, size_ms: i64) -> i64 {
    millis.div_euclid(size_ms.max(1)).saturating_mul(size_ms)
}

fn time_floor(millis: i64, unit: TimeUnit) -> Option<i64> {
    let fixed = |size: i64| Some(millis - millis.rem_euclid(size));
    match unit {
        TimeUnit::Millisecond => Some(millis),
        TimeUnit::Second => fixed(1_000),
        TimeUnit::Minute => fixed(60_000),
        TimeUnit::Hour => fixed(MILLIS_PER_HOUR),
        TimeUnit::Day => fixed(MILLIS_PER_DAY),
        TimeUnit::Week => {
            let day = millis - millis.rem_euclid(MILLIS_PER_DAY);
            let t = DateTime::<Utc>::from_timestamp_millis(day)?;
            Some(day - i64::from(t.weekday().num_days_from_monday()) * MILLIS_PER_DAY)
        }
        TimeUnit::Month => month_start(millis, 1),
        TimeUnit::Quarter => month_start(millis, 3),
        TimeUnit::Year => month_start(millis, 12),
    }
}

/// The start of the run of `months` months (aligned to January) holding `millis`.
fn month_start(millis: i64, months: u32) -> Option<i64> {
    let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
    let month = (t.month0() / months) * months + 1;
    let date = chrono::NaiveDate::from_ymd_opt(t.year(), month, 1)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The smallest `unit` boundary at or after `millis`.
fn time_ceil(millis: i64, unit: TimeUnit) -> Option<i64> {
    let floor = time_floor(millis, unit)?;
    if floor == millis {
        return Some(millis);
    }
    match fixed_millis(unit) {
        Some(size) => floor.checked_add(size),
        None => timestamp_add(unit, 1, floor),
    }
}

fn text_of(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::Str(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

fn time_of(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(t) | Value::Int(t) => Some(*t),
        Value::Str(s) => crate::data::parse_timestamp(s),
        _ => None,
    }
}

/// Postgres CONCAT: NULL arguments are skipped, others rendered as text.
fn concat(args: &[ScalarExpr], row: &[Value]) -> Value {
    let mut text = String::new();
    for arg in args {
        with_operand(arg, row, |v| {
            if !v.is_null() {
                let _ = write!(text, "{v}");
            }
        });
    }
    Value::Str(text.into())
}

fn abs(v: &Value) -> Option<Value> {
    match v {
        Value::Int(i) => i.checked_abs().map(Value::Int),
        Value::Double(d) => Some(Value::Double(d.abs())),
        Value::Decimal(d) => Some(Value::Decimal(Decimal::new(
            d.units.checked_abs()?,
            d.scale,
        ))),
        _ => None,
    }
}

fn pow10(exp: u32) -> Option<i64> {
    10i64.checked_pow(exp)
}

/// Rounds an integer to a multiple of `10^places`, half away from zero.
fn round_integer(x: i64, places: u32) -> Option<i64> {
    let Some(p) = pow10(places) else {
        return Some(0);
    };
    let (q, r) = (x / p, x % p);
    let q = if r.unsigned_abs() * 2 >= p.unsigned_abs() {
        q + x.signum()
    } else {
        q
    };
    q.checked_mul(p)
}

/// ROUND half away from zero to `digits` after the point (negative: before).
fn round(v: &Value, digits: i64) -> Option<Value> {
    let digits = digits.clamp(-30, 30) as i32;
    match v {
        Value::Int(i) if digits >= 0 => Some(Value::Int(*i)),
        Value::Int(i) => round_integer(*i, digits.unsigned_abs()).map(Value::Int),
        Value::Double(d) => {
            let p = 10f64.powi(digits);
            Some(Value::Double((d * p).round() / p))
        }
        Value::Decimal(d) if digits >= d.scale as i32 => Some(Value::Decimal(*d)),
        Value::Decimal(d) if digits >= 0 => d.rescale(digits as u8).map(Value::Decimal),
        Value::Decimal(d) => {
            let whole = d.rescale(0)?.units;
            round_integer(whole, digits.unsigned_abs())
                .map(|u| Value::Decimal(Decimal::from_i64(u)))
        }
        _ => None,
    }
}

fn floor_or_ceil(v: &Value, ceil: bool) -> Option<Value> {
    match v {
        Value::Int(i) => Some(Value::Int(*i)),
        Value::Double(d) => Some(Value::Double(if ceil { d.ceil() } else { d.floor() })),
        Value::Decimal(d) => {
            let p = pow10(d.scale as u32)?;
            let units = if ceil {
                -((-(d.units as i128)).div_euclid(p as i128))
            } else {
                (d.units as i128).div_euclid(p as i128)
            };
            Some(Value::Decimal(Decimal::from_i64(
                i64::try_from(units).ok()?,
            )))
        }
        _ => None,
    }
}

/// SUBSTRING(s, start [, length]) in characters, 1-based; like Postgres, a
/// start before 1 still counts toward the length. Negative length is NULL.
fn substring(s: &str, start: i64, length: Option<Option<i64>>) -> Option<Value> {
    let end = match length {
        None => i64::MAX,
        Some(None) => return None,
        Some(Some(len)) if len < 0 => return None,
        Some(Some(len)) => start.saturating_add(len),
    };
    let from = start.max(1);
    if end <= from {
        return Some(Value::str(""));
    }
    let taken: String = s
        .chars()
        .skip((from - 1) as usize)
        .take(usize::try_from(end - from).unwrap_or(usize::MAX))
        .collect();
    Some(Value::Str(taken.into()))
}

fn trim(s: &str, chars: &str, side: TrimSide) -> Value {
    let strip = |c: char| chars.contains(c);
    let trimmed = match side {
        TrimSide::Both => s.trim_matches(strip),
        TrimSide::Leading => s.trim_start_matches(strip),
        TrimSide::Trailing => s.trim_end_matches(strip),
    };
    Value::str(trimmed)
}

/// Formats epoch millis with Java-style letters: `yyyy` `yy` `MM` `dd` `HH`
/// `mm` `ss` `SSS` (a run of n letters pads to n digits); text in single
/// quotes is literal (`''` is a quote); other characters are copied, but
/// any other ASCII letter makes the result `None`.
pub fn date_format(millis: i64, pattern: &str) -> Option<String> {
    let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            copy_quoted(&mut chars, &mut out);
            continue;
        }
        let mut run = 1usize;
        while chars.peek() == Some(&c) {
            chars.next();
            run += 1;
        }
        let field = match c {
            'y' if run == 2 => Some(t.year().rem_euclid(100) as i64),
            'y' => Some(t.year() as i64),
            'M' => Some(t.month() as i64),
            'd' => Some(t.day() as i64),
            'H' => Some(t.hour() as i64),
            'm' => Some(t.minute() as i64),
            's' => Some(t.second() as i64),
            'S' => Some(millis.rem_euclid(1000)),
            // An unknown letter is refused when the pattern is a literal; a
            // computed pattern with one gives NULL, never the letter as text.
            c if c.is_ascii_alphabetic() => return None,
            _ => None,
        };
        match field {
            Some(n) if c == 'S' && run < 3 => {
                let _ = write!(out, "{:0run$}", n / 10i64.pow(3 - run as u32));
            }
            Some(n) => {
                let _ = write!(out, "{n:0run$}");
            }
            None => (0..run).for_each(|_| out.push(c)),
        }
    }
    Some(out)
}

/// Copies quoted pattern text up to the closing quote (the opening one
/// consumed); `''` is a quote.
pub(super) fn copy_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    if chars.peek() == Some(&'\'') {
        chars.next();
        out.push('\'');
        return;
    }
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return;
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_plans::*;

    fn call(func: ScalarFunction, args: Vec<Value>, result_type: DataType) -> Value {
        eval_function(
            func,
            &args.into_iter().map(lit).collect::<Vec<_>>(),
            result_type,
            &[],
        )
    }

    fn dec(units: i64, scale: u8) -> Value {
        Value::Decimal(Decimal::new(units, scale))
    }

    fn dec_type(scale: u8) -> DataType {
        DataType::Decimal {
            precision: 18,
            scale,
        }
    }

    #[test]
    fn coalesce_and_nullif() {
        use ScalarFunction::*;
        let v = call(
            Coalesce,
            vec![Value::Null, Value::Int(2), Value::Int(3)],
            DataType::BigInt,
        );
        assert_eq!(v, Value::Int(2));
        assert_eq!(
            call(Coalesce, vec![Value::Null], DataType::BigInt),
            Value::Null
        );
        let widened = call(
            Coalesce,
            vec![Value::Int(2), Value::Double(1.5)],
            DataType::Double,
        );
        assert_eq!(widened, Value::Double(2.0));
        assert_eq!(
            call(NullIf, vec![Value::Int(1), Value::Int(1)], DataType::BigInt),
            Value::Null
        );
        assert_eq!(
            call(NullIf, vec![Value::Int(1), Value::Int(2)], DataType::BigInt),
            Value::Int(1)
        );
        assert_eq!(
            call(NullIf, vec![Value::Int(1), Value::Null], DataType::BigInt),
            Value::Int(1)
        );
    }

    #[test]
    fn numeric_functions() {
        use ScalarFunction::*;
        let int = DataType::BigInt;
        assert_eq!(call(Abs, vec![Value::Int(-4)], int), Value::Int(4));
        assert_eq!(call(Abs, vec![Value::Int(i64::MIN)], int), Value::Null);
        assert_eq!(call(Abs, vec![dec(-150, 2)], dec_type(2)), dec(150, 2));
        assert_eq!(
            call(Round, vec![Value::Double(2.5)], DataType::Double),
            Value::Double(3.0)
        );
        assert_eq!(
            call(Round, vec![Value::Double(-2.5)], DataType::Double),
            Value::Double(-3.0)
        );
        assert_eq!(
            call(
                Round,
                vec![Value::Double(1.2345), Value::Int(2)],
                DataType::Double
            ),
            Value::Double(1.23)
        );
        assert_eq!(
            call(Round, vec![dec(1255, 3), Value::Int(2)], dec_type(2)),
            dec(126, 2)
        );
        assert_eq!(
            call(Round, vec![dec(-1255, 3), Value::Int(2)], dec_type(3)).to_string(),
            "-1.260"
        );
        assert_eq!(call(Round, vec![dec(15, 1)], dec_type(0)), dec(2, 0));
        assert_eq!(
            call(Round, vec![Value::Int(1250), Value::Int(-2)], int),
            Value::Int(1300)
        );
        assert_eq!(
            call(Round, vec![Value::Int(-1249), Value::Int(-2)], int),
            Value::Int(-1200)
        );
        assert_eq!(call(Floor, vec![dec(-150, 2)], dec_type(0)), dec(-2, 0));
        assert_eq!(call(Ceil, vec![dec(-150, 2)], dec_type(0)), dec(-1, 0));
        assert_eq!(call(Ceil, vec![dec(101, 2)], int), Value::Int(2));
        assert_eq!(
            call(Floor, vec![Value::Double(-0.5)], DataType::Double),
            Value::Double(-1.0)
        );
        assert_eq!(
            call(Mod, vec![Value::Int(7), Value::Int(3)], int),
            Value::Int(1)
        );
        assert_eq!(
            call(Mod, vec![Value::Int(7), Value::Int(0)], int),
            Value::Null
        );
    }

    #[test]
    fn text_functions() {
        use ScalarFunction::*;
        let s = Value::str;
        let text = DataType::Varchar;
        assert_eq!(call(Upper, vec![s("héllo")], text), s("HÉLLO"));
        assert_eq!(call(Lower, vec![s("ABC")], text), s("abc"));
        assert_eq!(
            call(Length, vec![s("héllo")], DataType::BigInt),
            Value::Int(5)
        );
        assert_eq!(
            call(Length, vec![Value::Null], DataType::BigInt),
            Value::Null
        );
        let sub = |args: Vec<Value>| call(Substring, args, DataType::Varchar);
        assert_eq!(
            sub(vec![s("hello"), Value::Int(2), Value::Int(3)]),
            s("ell")
        );
        assert_eq!(sub(vec![s("hello"), Value::Int(2)]), s("ello"));
        assert_eq!(sub(vec![s("hello"), Value::Int(0), Value::Int(2)]), s("h"));
        assert_eq!(sub(vec![s("hello"), Value::Int(-3), Value::Int(2)]), s(""));
        assert_eq!(
            sub(vec![s("hello"), Value::Int(4), Value::Int(10)]),
            s("lo")
        );
        assert_eq!(
            sub(vec![s("hello"), Value::Int(1), Value::Int(-1)]),
            Value::Null
        );
        assert_eq!(
            call(Trim(TrimSide::Both), vec![s("  a b  ")], text),
            s("a b")
        );
        assert_eq!(
            call(Trim(TrimSide::Leading), vec![s("xxaxx"), s("x")], text),
            s("axx")
        );
        assert_eq!(
            call(Trim(TrimSide::Trailing), vec![s("xyaxy"), s("xy")], text),
            s("xya")
        );
        assert_eq!(
            call(
                Concat,
                vec![s("a"), Value::Null, Value::Int(1), Value::Double(2.0)],
                text
            ),
            s("a12.0")
        );
    }

    #[test]
    fn hash_is_xxhash64_of_the_text_and_md5_is_hex() {
        use ScalarFunction::*;
        // Reference digests: xxh64 of "" with seed 0 is 0xef46db3751d8e999
        // (the xxHash specification's test vector); md5("") and md5("abc")
        // are RFC 1321's.
        assert_eq!(
            call(Hash, vec![Value::str("")], DataType::BigInt),
            Value::Int(0xef46_db37_51d8_e999_u64 as i64)
        );
        assert_eq!(
            call(Hash, vec![Value::Int(42)], DataType::BigInt),
            call(Hash, vec![Value::str("42")], DataType::BigInt)
        );
        assert_eq!(call(Hash, vec![Value::Null], DataType::BigInt), Value::Null);
        assert_eq!(
            call(Md5, vec![Value::str("")], DataType::Varchar),
            Value::str("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(
            call(Md5, vec![Value::str("abc")], DataType::Varchar),
            Value::str("900150983cd24fb0d6963f7d28e17f72")
        );
    }

    #[test]
    fn time_functions() {
        use ScalarFunction::*;
        // 2026-01-02T13:04:05.007Z
        let t = crate::data::parse_timestamp("2026-01-02T13:04:05.007Z").unwrap();
        let ts = Value::Timestamp(t);
        let hour = ScalarFunction::DatePart(crate::plan::DatePart::Hour);
        assert_eq!(
            call(hour, vec![ts.clone()], DataType::BigInt),
            Value::Int(13)
        );
        assert_eq!(
            call(hour, vec![Value::Timestamp(-1)], DataType::BigInt),
            Value::Int(23)
        );
        let fmt = |p: &str| {
            call(
                DateFormat,
                vec![ts.clone(), Value::str(p)],
                DataType::Varchar,
            )
        };
        assert_eq!(
            fmt("yyyy-MM-dd HH:mm:ss"),
            Value::str("2026-01-02 13:04:05")
        );
        assert_eq!(
            fmt("yyyy-MM-dd'T'HH:mm:ss.SSS"),
            Value::str("2026-01-02T13:04:05.007")
        );
        assert_eq!(fmt("yy/M/d H'h'"), Value::str("26/1/2 13h"));
        assert_eq!(fmt("''HH''"), Value::str("'13'"));
    }
}
