//! Conversions between value types: explicit `CAST` and the implicit
//! conforming of a computed value to the type the plan says it has.
//! A value that does not convert becomes NULL.

use crate::data::{date_of, parse_date, parse_timestamp, DataType, Decimal, Value, MILLIS_PER_DAY};

/// `CAST(v AS target)`: [`cast_value`], plus the DECIMAL precision check.
pub fn cast_explicit(v: Value, target: DataType) -> Value {
    match (cast_value(v, target), target) {
        (Value::Decimal(d), DataType::Decimal { precision, .. })
            if !fits_precision(d, precision) =>
        {
            Value::Null
        }
        (converted, _) => converted,
    }
}

fn fits_precision(d: Decimal, precision: u8) -> bool {
    if precision == 0 || precision >= 19 {
        return true;
    }
    (d.units as i128).abs() < 10i128.pow(precision as u32)
}

/// `v` as `target` when it already is one (cheap), else converted.
pub fn conform(v: Value, target: DataType) -> Value {
    let already = match (&v, target) {
        (Value::Null, _) | (_, DataType::Null) => true,
        (Value::Decimal(d), DataType::Decimal { scale, .. }) => d.scale == scale,
        (Value::Int(_), DataType::BigInt)
        | (Value::Double(_), DataType::Double)
        | (Value::Str(_), DataType::Varchar)
        | (Value::Bool(_), DataType::Boolean)
        | (Value::Timestamp(_), DataType::Timestamp) => true,
        _ => false,
    };
    if already {
        v
    } else {
        cast_value(v, target)
    }
}

/// Converts `v` to `target`, NULL when it does not convert.
pub fn cast_value(v: Value, target: DataType) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let converted = match target {
        DataType::Null => Some(v),
        DataType::Boolean => to_bool(&v).map(Value::Bool),
        DataType::BigInt => to_bigint(&v).map(Value::Int),
        DataType::Double => to_double(&v).map(Value::Double),
        DataType::Decimal { scale, .. } => to_decimal(&v, scale).map(Value::Decimal),
        DataType::Varchar => Some(match v {
            Value::Str(_) => v,
            other => Value::Str(other.to_string().into()),
        }),
        DataType::Timestamp => to_timestamp(&v).map(Value::Timestamp),
        DataType::Date => to_date(&v).map(Value::Date),
    };
    converted.unwrap_or(Value::Null)
}

/// A TIMESTAMP's day, or text that is a date or a timestamp (its day).
fn to_date(v: &Value) -> Option<i32> {
    match v {
        Value::Date(d) => Some(*d),
        Value::Timestamp(t) => date_of(*t),
        Value::Str(s) => parse_date(s).or_else(|| parse_timestamp(s).and_then(date_of)),
        _ => None,
    }
}

fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(i) => Some(*i != 0),
        Value::Double(d) => Some(*d != 0.0),
        Value::Decimal(d) => Some(d.units != 0),
        Value::Str(s) => parse_bool(s),
        _ => None,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 6] = ["true", "t", "yes", "y", "on", "1"];
    const FALSE: [&str; 6] = ["false", "f", "no", "n", "off", "0"];
    let text = text.trim();
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// Doubles truncate toward zero; out of range is `None`.
fn double_to_i64(d: f64) -> Option<i64> {
    let t = d.trunc();
    (t.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t))
        .then_some(t as i64)
}

fn to_bigint(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) | Value::Timestamp(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        Value::Double(d) => double_to_i64(*d),
        Value::Decimal(d) => Some(d.units / 10i64.pow(d.scale as u32)),
        Value::Str(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(double_to_i64))
        }
        Value::Null | Value::Date(_) => None,
    }
}

fn to_double(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Str(s) => s.trim().parse::<f64>().ok(),
        other => other.as_f64(),
    }
}

fn to_decimal(v: &Value, scale: u8) -> Option<Decimal> {
    match v {
        Value::Int(i) | Value::Timestamp(i) => Decimal::from_i64(*i).rescale(scale),
        Value::Bool(b) => Decimal::from_i64(*b as i64).rescale(scale),
        Value::Double(d) => Decimal::from_f64(*d, scale),
        Value::Decimal(d) => d.rescale(scale),
        Value::Str(s) => Decimal::parse(s, scale),
        Value::Null | Value::Date(_) => None,
    }
}

fn to_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(t) | Value::Int(t) => Some(*t),
        Value::Date(d) => Some(i64::from(*d) * MILLIS_PER_DAY),
        Value::Double(d) => double_to_i64(*d),
        Value::Decimal(_) => to_bigint(v),
        Value::Str(s) => parse_timestamp(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec_type(precision: u8, scale: u8) -> DataType {
        DataType::Decimal { precision, scale }
    }

    #[test]
    fn text_to_numbers_and_back() {
        assert_eq!(
            cast_value(Value::str(" 42 "), DataType::BigInt),
            Value::Int(42)
        );
        assert_eq!(
            cast_value(Value::str("4.9"), DataType::BigInt),
            Value::Int(4)
        );
        assert_eq!(cast_value(Value::str("x"), DataType::BigInt), Value::Null);
        assert_eq!(
            cast_value(Value::str("2.5"), DataType::Double),
            Value::Double(2.5)
        );
        assert_eq!(
            cast_value(Value::str("1.005"), dec_type(10, 2)),
            Value::Decimal(Decimal::new(101, 2))
        );
        assert_eq!(
            cast_value(Value::Int(7), DataType::Varchar),
            Value::str("7")
        );
        assert_eq!(
            cast_value(Value::Double(7.0), DataType::Varchar),
            Value::str("7.0")
        );
        assert_eq!(
            cast_value(Value::Decimal(Decimal::new(-150, 2)), DataType::Varchar),
            Value::str("-1.50")
        );
    }

    #[test]
    fn numbers_between_types() {
        assert_eq!(
            cast_value(Value::Double(-2.7), DataType::BigInt),
            Value::Int(-2)
        );
        assert_eq!(
            cast_value(Value::Double(f64::NAN), DataType::BigInt),
            Value::Null
        );
        assert_eq!(
            cast_value(Value::Double(1e300), DataType::BigInt),
            Value::Null
        );
        assert_eq!(
            cast_value(Value::Decimal(Decimal::new(-279, 2)), DataType::BigInt),
            Value::Int(-2)
        );
        assert_eq!(
            cast_value(Value::Int(3), dec_type(10, 2)),
            Value::Decimal(Decimal::new(300, 2))
        );
        assert_eq!(cast_explicit(Value::Int(1000), dec_type(4, 2)), Value::Null);
        assert_eq!(
            cast_explicit(Value::Int(99), dec_type(4, 2)),
            Value::Decimal(Decimal::new(9900, 2))
        );
    }

    #[test]
    fn dates_are_the_days_of_timestamps_and_text() {
        let day = 20_527; // 2026-03-15
        let midnight = day as i64 * MILLIS_PER_DAY;
        for (from, expected) in [
            (Value::Timestamp(midnight + 5), Value::Date(day)),
            (Value::Timestamp(-1), Value::Date(-1)),
            (Value::str("2026-03-15"), Value::Date(day)),
            (Value::str(" 2026-03-15T23:59:59Z "), Value::Date(day)),
            (Value::str("15/03/2026"), Value::Null),
            (Value::Int(day as i64), Value::Null),
        ] {
            assert_eq!(
                cast_value(from.clone(), DataType::Date),
                expected,
                "{from:?}"
            );
        }
        assert_eq!(
            cast_value(Value::Date(day), DataType::Timestamp),
            Value::Timestamp(midnight)
        );
        assert_eq!(
            cast_value(Value::Date(day), DataType::Varchar),
            Value::str("2026-03-15")
        );
        assert_eq!(cast_value(Value::Date(day), DataType::BigInt), Value::Null);
    }

    #[test]
    fn booleans_and_timestamps() {
        assert_eq!(
            cast_value(Value::str("TRUE"), DataType::Boolean),
            Value::Bool(true)
        );
        assert_eq!(
            cast_value(Value::str("off"), DataType::Boolean),
            Value::Bool(false)
        );
        assert_eq!(
            cast_value(Value::str("maybe"), DataType::Boolean),
            Value::Null
        );
        assert_eq!(
            cast_value(Value::Bool(true), DataType::BigInt),
            Value::Int(1)
        );
        assert_eq!(
            cast_value(Value::str("1970-01-01T00:00:10Z"), DataType::Timestamp),
            Value::Timestamp(10_000)
        );
        assert_eq!(
            cast_value(Value::Int(5), DataType::Timestamp),
            Value::Timestamp(5)
        );
        assert_eq!(
            cast_value(Value::Timestamp(5), DataType::BigInt),
            Value::Int(5)
        );
        assert_eq!(
            cast_value(Value::Timestamp(10_000), DataType::Varchar),
            Value::str("1970-01-01T00:00:10.000Z")
        );
        assert_eq!(
            cast_value(Value::str("soon"), DataType::Timestamp),
            Value::Null
        );
        assert_eq!(cast_value(Value::Null, DataType::BigInt), Value::Null);
    }
}
