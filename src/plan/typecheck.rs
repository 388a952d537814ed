//! Type rules of the plan: what arithmetic yields, which types compare, the
//! common type of CASE / COALESCE branches, the types of literals and of
//! `CAST` targets. Pure functions over [`DataType`]; no names, no rows.

use super::{AggregateFunction, BinaryOp};
use crate::data::{DataType, Decimal as ExactDecimal, Value};
use sqlparser::ast::{DataType as SqlType, ExactNumberInfo};

/// Precision of every DECIMAL the plan derives (the most an i64 holds).
pub const DERIVED_PRECISION: u8 = 18;

/// The largest DECIMAL scale (as in `crate::data::Decimal`).
const MAX_DECIMAL_SCALE: u8 = 18;

fn decimal(scale: u8) -> DataType {
    DataType::Decimal {
        precision: DERIVED_PRECISION,
        scale: scale.min(MAX_DECIMAL_SCALE),
    }
}

/// The scale of an exact numeric type (BIGINT is scale 0).
fn exact_scale(t: DataType) -> Option<u8> {
    match t {
        DataType::BigInt => Some(0),
        DataType::Decimal { scale, .. } => Some(scale),
        _ => None,
    }
}

/// The result type of `l op r` for `+ - * / %`, or `None` when the operator
/// does not apply to these types.
pub fn arithmetic_type(op: BinaryOp, l: DataType, r: DataType) -> Option<DataType> {
    use DataType::*;
    match (l, r) {
        (Null, Null) => Some(Null),
        (Null, t) | (t, Null) if t.is_numeric() => Some(t),
        (Null, Timestamp) | (Timestamp, Null) => Some(Null),
        (BigInt, BigInt) => Some(BigInt),
        (Double, t) | (t, Double) if t.is_numeric() => Some(Double),
        (Null, Date) | (Date, Null) => Some(Null),
        (Timestamp, Timestamp) if op == BinaryOp::Subtract => Some(BigInt),
        // A DATE plus or minus whole days; the days between two DATEs.
        (Date, Date) if op == BinaryOp::Subtract => Some(BigInt),
        (Date, BigInt) if matches!(op, BinaryOp::Add | BinaryOp::Subtract) => Some(Date),
        (BigInt, Date) if op == BinaryOp::Add => Some(Date),
        (Timestamp, BigInt) if matches!(op, BinaryOp::Add | BinaryOp::Subtract) => Some(Timestamp),
        (BigInt, Timestamp) if op == BinaryOp::Add => Some(Timestamp),
        _ => {
            let (s1, s2) = (exact_scale(l)?, exact_scale(r)?);
            Some(decimal(decimal_result_scale(op, s1, s2)?))
        }
    }
}

/// The scale of a DECIMAL result: `+ - %` the larger scale, `*` the sum,
/// `/` the larger plus 6 (all capped at 18).
fn decimal_result_scale(op: BinaryOp, s1: u8, s2: u8) -> Option<u8> {
    let scale = match op {
        BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Modulo => s1.max(s2),
        BinaryOp::Multiply => s1.saturating_add(s2),
        BinaryOp::Divide => s1.max(s2).saturating_add(6),
        _ => return None,
    };
    Some(scale.min(MAX_DECIMAL_SCALE))
}

/// True when values of the two types can be compared with `= < ..` (a
/// DATE and a TIMESTAMP compare once the DATE is converted: see
/// [`common_type`]).
pub fn comparable(l: DataType, r: DataType) -> bool {
    l == r
        || l == DataType::Null
        || r == DataType::Null
        || (l.is_numeric() && r.is_numeric())
        || matches!((l, r), (DataType::Decimal { .. }, DataType::Decimal { .. }))
}

/// True when `CAST(x AS to)` is allowed for `x` of type `from`.
pub fn castable(from: DataType, to: DataType) -> bool {
    use DataType::*;
    from == to
        || from == Null
        || from == Varchar
        || to == Varchar
        || (from.is_numeric() && to.is_numeric())
        || matches!(
            (from, to),
            (Timestamp, BigInt)
                | (BigInt, Timestamp)
                | (Boolean, BigInt)
                | (BigInt, Boolean)
                | (Date, Timestamp)
                | (Timestamp, Date)
        )
}

/// The type both `a` and `b` convert to (CASE branches, COALESCE arguments).
pub fn common_type(a: DataType, b: DataType) -> Option<DataType> {
    use DataType::*;
    match (a, b) {
        _ if a == b => Some(a),
        (Null, t) | (t, Null) => Some(t),
        // A DATE is the TIMESTAMP of its midnight.
        (Date, Timestamp) | (Timestamp, Date) => Some(Timestamp),
        (Double, t) | (t, Double) if t.is_numeric() => Some(Double),
        _ => {
            let (s1, s2) = (exact_scale(a)?, exact_scale(b)?);
            Some(decimal(s1.max(s2)))
        }
    }
}

/// The result type of an aggregate over an argument of type `arg`
/// (`None` for `COUNT(*)`), or a message saying why it does not apply.
pub fn aggregate_type(func: AggregateFunction, arg: Option<DataType>) -> Result<DataType, String> {
    use AggregateFunction::*;
    let arg = match (func, arg) {
        (Count, _) => return Ok(DataType::BigInt),
        (_, Some(t)) => t,
        (_, None) => return Err("needs an argument".into()),
    };
    match func {
        Min | Max | ArgMax | ArgMin | FirstValue | LastValue => Ok(arg),
        BoolAnd | BoolOr => match arg {
            DataType::Null | DataType::Boolean => Ok(DataType::Boolean),
            other => Err(format!("needs a BOOLEAN argument, got {other}")),
        },
        CollectList => Ok(DataType::Varchar),
        ApproxCountDistinct => Ok(DataType::BigInt),
        Sum => match arg {
            DataType::Null | DataType::BigInt => Ok(DataType::BigInt),
            DataType::Double => Ok(DataType::Double),
            DataType::Decimal { scale, .. } => Ok(decimal(scale)),
            other => Err(format!("needs a numeric argument, got {other}")),
        },
        _ if arg.is_numeric() => Ok(DataType::Double),
        _ => Err(format!("needs a numeric argument, got {arg}")),
    }
}

/// A numeric literal as written: `42` BIGINT, `0.908` DECIMAL(18,3),
/// `1e3` DOUBLE.
pub fn number_literal(text: &str) -> Result<Value, String> {
    if text.contains(['e', 'E']) {
        return text
            .parse::<f64>()
            .map(Value::Double)
            .map_err(|_| format!("'{text}' is not a number"));
    }
    if text.contains('.') {
        let scale = ExactDecimal::scale_of_literal(text);
        return ExactDecimal::parse(text, scale)
            .map(Value::Decimal)
            .ok_or_else(|| format!("decimal literal {text} does not fit in DECIMAL(18,{scale})"));
    }
    text.parse::<i64>()
        .map(Value::Int)
        .map_err(|_| format!("integer literal {text} is out of range for BIGINT"))
}

/// The corestream type a SQL type name maps to (as in source DDL).
pub fn sql_type(t: &SqlType) -> Result<DataType, String> {
    use SqlType as S;
    let mapped = match t {
        S::BigInt(_) | S::Int(_) | S::Integer(_) | S::Int8(_) | S::Int4(_) | S::Int64 => {
            DataType::BigInt
        }
        S::Int2(_) | S::SmallInt(_) | S::TinyInt(_) | S::Int16 | S::Int32 => DataType::BigInt,
        S::Double(_) | S::DoublePrecision | S::Float(_) | S::Float8 | S::Float64 => {
            DataType::Double
        }
        S::Real | S::Float4 | S::Float32 => DataType::Double,
        S::Decimal(info) | S::Numeric(info) | S::Dec(info) => decimal_type(info)?,
        S::Varchar(_) | S::CharacterVarying(_) | S::CharVarying(_) | S::Nvarchar(_) => {
            DataType::Varchar
        }
        S::Char(_) | S::Character(_) | S::Text | S::String(_) => DataType::Varchar,
        S::Boolean | S::Bool => DataType::Boolean,
        S::Timestamp(_, _) | S::TimestampNtz(_) | S::Datetime(_) => DataType::Timestamp,
        S::Date => DataType::Date,
        other => return Err(format!("type {other} is not supported")),
    };
    Ok(mapped)
}

fn decimal_type(info: &ExactNumberInfo) -> Result<DataType, String> {
    let (precision, scale) = match *info {
        ExactNumberInfo::None => (DERIVED_PRECISION as u64, 0),
        ExactNumberInfo::Precision(p) => (p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (p, s),
    };
    let fits = (1..=DERIVED_PRECISION as u64).contains(&precision)
        && scale >= 0
        && scale as u64 <= precision;
    if !fits {
        return Err(format!(
            "DECIMAL({precision},{scale}) is not supported (precision 1 to 18, scale 0 to precision)"
        ));
    }
    Ok(DataType::Decimal {
        precision: precision as u8,
        scale: scale as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinaryOp::*;
    use DataType::*;

    fn dec(scale: u8) -> DataType {
        decimal(scale)
    }

    #[test]
    fn integer_arithmetic_stays_bigint() {
        for op in [Add, Subtract, Multiply, Divide, Modulo] {
            assert_eq!(arithmetic_type(op, BigInt, BigInt), Some(BigInt));
        }
    }

    #[test]
    fn decimal_scales_follow_the_operator() {
        let d2 = Decimal {
            precision: 10,
            scale: 2,
        };
        assert_eq!(arithmetic_type(Add, d2, dec(3)), Some(dec(3)));
        assert_eq!(arithmetic_type(Subtract, BigInt, d2), Some(dec(2)));
        assert_eq!(arithmetic_type(Multiply, d2, dec(3)), Some(dec(5)));
        assert_eq!(arithmetic_type(Multiply, dec(10), dec(10)), Some(dec(18)));
        assert_eq!(arithmetic_type(Divide, d2, BigInt), Some(dec(8)));
        assert_eq!(arithmetic_type(Divide, dec(15), dec(1)), Some(dec(18)));
        assert_eq!(arithmetic_type(Modulo, d2, dec(1)), Some(dec(2)));
    }

    #[test]
    fn double_wins_and_null_yields_to_the_other_side() {
        assert_eq!(arithmetic_type(Add, Double, dec(2)), Some(Double));
        assert_eq!(arithmetic_type(Multiply, BigInt, Double), Some(Double));
        assert_eq!(arithmetic_type(Add, Null, BigInt), Some(BigInt));
        assert_eq!(arithmetic_type(Add, Null, Null), Some(Null));
    }

    #[test]
    fn timestamps_subtract_to_millis_and_shift_by_millis() {
        assert_eq!(
            arithmetic_type(Subtract, Timestamp, Timestamp),
            Some(BigInt)
        );
        assert_eq!(arithmetic_type(Add, Timestamp, BigInt), Some(Timestamp));
        assert_eq!(
            arithmetic_type(Subtract, Timestamp, BigInt),
            Some(Timestamp)
        );
        assert_eq!(arithmetic_type(Add, Timestamp, Timestamp), None);
        assert_eq!(arithmetic_type(Subtract, BigInt, Timestamp), None);
    }

    #[test]
    fn dates_shift_by_days_and_meet_timestamps_as_timestamps() {
        assert_eq!(arithmetic_type(Add, Date, BigInt), Some(Date));
        assert_eq!(arithmetic_type(Add, BigInt, Date), Some(Date));
        assert_eq!(arithmetic_type(Subtract, Date, BigInt), Some(Date));
        assert_eq!(arithmetic_type(Subtract, Date, Date), Some(BigInt));
        assert_eq!(arithmetic_type(Subtract, BigInt, Date), None);
        assert_eq!(arithmetic_type(Add, Date, Date), None);
        assert_eq!(arithmetic_type(Multiply, Date, BigInt), None);
        assert_eq!(common_type(Date, Timestamp), Some(Timestamp));
        assert_eq!(common_type(Date, BigInt), None);
        assert!(castable(Date, Timestamp) && castable(Timestamp, Date));
        assert!(castable(Varchar, Date) && castable(Date, Varchar));
        assert!(!castable(BigInt, Date));
    }

    #[test]
    fn text_and_booleans_do_not_add() {
        assert_eq!(arithmetic_type(Add, Varchar, BigInt), None);
        assert_eq!(arithmetic_type(Multiply, Boolean, Boolean), None);
    }

    #[test]
    fn comparability() {
        assert!(comparable(BigInt, dec(2)));
        assert!(comparable(Varchar, Varchar));
        assert!(comparable(Null, Timestamp));
        assert!(!comparable(Varchar, BigInt));
        assert!(!comparable(Timestamp, BigInt));
        assert!(!comparable(Boolean, BigInt));
    }

    #[test]
    fn common_types() {
        assert_eq!(common_type(BigInt, dec(2)), Some(dec(2)));
        assert_eq!(common_type(BigInt, Double), Some(Double));
        assert_eq!(common_type(Null, Varchar), Some(Varchar));
        assert_eq!(common_type(Varchar, BigInt), None);
    }

    #[test]
    fn aggregate_result_types() {
        use AggregateFunction as A;
        let d = Decimal {
            precision: 10,
            scale: 2,
        };
        assert_eq!(aggregate_type(A::Count, None), Ok(BigInt));
        assert_eq!(aggregate_type(A::Sum, Some(BigInt)), Ok(BigInt));
        assert_eq!(aggregate_type(A::Sum, Some(d)), Ok(dec(2)));
        assert_eq!(aggregate_type(A::Sum, Some(Double)), Ok(Double));
        assert_eq!(aggregate_type(A::Avg, Some(BigInt)), Ok(Double));
        assert_eq!(aggregate_type(A::VarSamp, Some(d)), Ok(Double));
        assert_eq!(aggregate_type(A::Max, Some(Varchar)), Ok(Varchar));
        assert_eq!(
            aggregate_type(A::Sum, Some(Varchar)),
            Err("needs a numeric argument, got VARCHAR".to_string())
        );
    }

    #[test]
    fn literal_typing() {
        assert_eq!(number_literal("42"), Ok(Value::Int(42)));
        let v = number_literal("0.908").unwrap();
        assert_eq!(v.data_type(), dec(3));
        assert_eq!(v.to_string(), "0.908");
        assert_eq!(number_literal("1e3"), Ok(Value::Double(1000.0)));
        assert!(number_literal("99999999999999999999").is_err());
    }

    #[test]
    fn cast_targets() {
        use sqlparser::ast::TimezoneInfo;
        assert_eq!(sql_type(&SqlType::Int(None)), Ok(BigInt));
        assert_eq!(
            sql_type(&SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(10, 2))),
            Ok(Decimal {
                precision: 10,
                scale: 2
            })
        );
        assert_eq!(
            sql_type(&SqlType::Timestamp(None, TimezoneInfo::None)),
            Ok(Timestamp)
        );
        assert!(sql_type(&SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 2))).is_err());
        assert!(sql_type(&SqlType::Uuid).is_err());
    }
}
