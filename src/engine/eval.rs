//! Scalar expression evaluation over one row, with SQL semantics: NULL
//! propagation, three-valued logic, cross-type numeric comparison, checked
//! arithmetic that yields the plan's result type, LIKE, IN, BETWEEN and CASE.
//! Casts live in `cast.rs`, named functions in `functions.rs`.

use super::cast::{cast_explicit, conform};
use super::compiled::eval_compiled;
use super::functions::eval_function;
use crate::data::{parse_date, parse_timestamp, DataType, Decimal, Value, MILLIS_PER_DAY};
use crate::plan::{BinaryOp, ExprKind, ScalarExpr, UnaryOp};
use std::cmp::Ordering;

/// The NULL that borrowed operands fall back to.
static NULL: Value = Value::Null;

/// Evaluates `expr` over `row`. Never panics on data: anything that does not
/// compute (overflow, division by zero, a failed cast) is NULL.
pub fn eval(expr: &ScalarExpr, row: &[Value]) -> Value {
    match &expr.kind {
        ExprKind::Column(i) => row.get(*i).cloned().unwrap_or(Value::Null),
        ExprKind::Literal(v) => v.clone(),
        ExprKind::Unary { op, expr: inner } => eval_unary(*op, inner, row),
        ExprKind::Binary { op, left, right } => eval_binary(*op, left, right, expr.data_type, row),
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => with_operand(inner, row, |v| Value::Bool(v.is_null() != *negated)),
        ExprKind::InList {
            expr: inner,
            list,
            negated,
        } => eval_in_list(inner, list, *negated, row),
        ExprKind::Between {
            expr: inner,
            low,
            high,
            negated,
        } => eval_between(inner, low, high, *negated, row),
        ExprKind::Like {
            expr: inner,
            pattern,
            negated,
            case_insensitive,
        } => eval_like(inner, pattern, *negated, *case_insensitive, row),
        ExprKind::Case {
            operand,
            branches,
            else_result,
        } => eval_case(operand.as_deref(), branches, else_result.as_deref(), row)
            .map(|v| conform(v, expr.data_type))
            .unwrap_or(Value::Null),
        ExprKind::Cast { expr: inner } => cast_explicit(eval(inner, row), expr.data_type),
        ExprKind::Function { func, args } => eval_function(*func, args, expr.data_type, row),
        ExprKind::Compiled { func, args } => eval_compiled(func, args, row),
    }
}

/// True only when `expr` evaluates to TRUE (WHERE, HAVING, FILTER semantics).
pub fn is_true(expr: &ScalarExpr, row: &[Value]) -> bool {
    with_operand(expr, row, |v| matches!(v, Value::Bool(true)))
}

/// Calls `f` with the value of `expr`, borrowing columns and literals instead
/// of cloning them.
pub fn with_operand<R>(expr: &ScalarExpr, row: &[Value], f: impl FnOnce(&Value) -> R) -> R {
    match &expr.kind {
        ExprKind::Column(i) => f(row.get(*i).unwrap_or(&NULL)),
        ExprKind::Literal(v) => f(v),
        _ => f(&eval(expr, row)),
    }
}

/// SQL truth of a value: `None` is UNKNOWN (NULL or not a boolean).
fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn from_truth(t: Option<bool>) -> Value {
    t.map(Value::Bool).unwrap_or(Value::Null)
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn eval_unary(op: UnaryOp, inner: &ScalarExpr, row: &[Value]) -> Value {
    with_operand(inner, row, |v| match op {
        UnaryOp::Not => from_truth(truth(v).map(|b| !b)),
        UnaryOp::Negate => negate(v),
    })
}

fn negate(v: &Value) -> Value {
    match v {
        Value::Int(i) => i.checked_neg().map(Value::Int).unwrap_or(Value::Null),
        Value::Double(d) => Value::Double(-d),
        Value::Decimal(d) => d
            .units
            .checked_neg()
            .map(|u| Value::Decimal(Decimal::new(u, d.scale)))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn eval_binary(
    op: BinaryOp,
    left: &ScalarExpr,
    right: &ScalarExpr,
    result_type: DataType,
    row: &[Value],
) -> Value {
    match op {
        BinaryOp::And => {
            let l = with_operand(left, row, truth);
            if l == Some(false) {
                return Value::Bool(false);
            }
            from_truth(and3(l, with_operand(right, row, truth)))
        }
        BinaryOp::Or => {
            let l = with_operand(left, row, truth);
            if l == Some(true) {
                return Value::Bool(true);
            }
            let r = with_operand(right, row, truth);
            match (l, r) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        _ => with_operand(left, row, |l| {
            with_operand(right, row, |r| binary_values(op, l, r, result_type))
        }),
    }
}

/// A non-logical binary operator applied to two values.
pub fn binary_values(op: BinaryOp, l: &Value, r: &Value, result_type: DataType) -> Value {
    if l.is_null() || r.is_null() {
        return Value::Null;
    }
    let compare = |accept: fn(Ordering) -> bool| from_truth(sql_cmp(l, r).map(accept));
    match op {
        BinaryOp::Eq => compare(|o| o == Ordering::Equal),
        BinaryOp::NotEq => compare(|o| o != Ordering::Equal),
        BinaryOp::Lt => compare(|o| o == Ordering::Less),
        BinaryOp::LtEq => compare(|o| o != Ordering::Greater),
        BinaryOp::Gt => compare(|o| o == Ordering::Greater),
        BinaryOp::GtEq => compare(|o| o != Ordering::Less),
        BinaryOp::Concat => Value::Str(format!("{l}{r}").into()),
        BinaryOp::And | BinaryOp::Or => {
            let (a, b) = (truth(l), truth(r));
            if op == BinaryOp::And {
                from_truth(and3(a, b))
            } else {
                from_truth(and3(a.map(|x| !x), b.map(|x| !x)).map(|x| !x))
            }
        }
        _ => arithmetic(op, l, r, result_type).unwrap_or(Value::Null),
    }
}

/// SQL comparison: `None` when either side is NULL or the types do not
/// compare. Numbers compare across BIGINT, DOUBLE and DECIMAL (exactly
/// between BIGINT and DECIMAL); a TIMESTAMP compares with epoch millis and
/// with timestamp text.
pub fn sql_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Double(x), Double(y)) if !x.is_nan() && !y.is_nan() => x.partial_cmp(y),
        (Int(_) | Double(_) | Decimal(_), Int(_) | Double(_) | Decimal(_)) => Some(a.cmp(b)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Timestamp(x), Timestamp(y) | Int(y)) | (Int(x), Timestamp(y)) => Some(x.cmp(y)),
        (Timestamp(x), Str(s)) => parse_timestamp(s).map(|y| x.cmp(&y)),
        (Str(s), Timestamp(y)) => parse_timestamp(s).map(|x| x.cmp(y)),
        (Date(x), Date(y)) => Some(x.cmp(y)),
        (Date(x), Timestamp(y)) => Some((i64::from(*x) * MILLIS_PER_DAY).cmp(y)),
        (Timestamp(x), Date(y)) => Some(x.cmp(&(i64::from(*y) * MILLIS_PER_DAY))),
        (Date(x), Str(s)) => parse_date(s).map(|y| x.cmp(&y)),
        (Str(s), Date(y)) => parse_date(s).map(|x| x.cmp(y)),
        _ => None,
    }
}

/// SQL equality (`None` for UNKNOWN).
pub fn sql_eq(a: &Value, b: &Value) -> Option<bool> {
    sql_cmp(a, b).map(|o| o == Ordering::Equal)
}

/// The domain an arithmetic operator computes in.
#[derive(Clone, Copy)]
enum Domain {
    Int,
    Float,
    Decimal(u8),
    Timestamp,
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value, result_type: DataType) -> Option<Value> {
    if matches!(l, Value::Date(_)) || matches!(r, Value::Date(_)) {
        return date_arithmetic(op, l, r);
    }
    let domain = match result_type {
        DataType::Double => Domain::Float,
        DataType::Decimal { scale, .. } => Domain::Decimal(scale),
        DataType::Timestamp => Domain::Timestamp,
        DataType::BigInt if is_integer(l) && is_integer(r) => Domain::Int,
        _ => natural_domain(op, l, r)?,
    };
    let result = match domain {
        Domain::Int => Value::Int(int_arith(op, l.as_i64()?, r.as_i64()?)?),
        Domain::Timestamp => Value::Timestamp(int_arith(op, l.as_i64()?, r.as_i64()?)?),
        Domain::Float => Value::Double(float_arith(op, l.as_f64()?, r.as_f64()?)?),
        Domain::Decimal(scale) => {
            let (a, b) = (to_decimal(l, scale)?, to_decimal(r, scale)?);
            Value::Decimal(decimal_arith(op, a, b, scale)?)
        }
    };
    Some(conform(result, result_type))
}

/// A DATE plus or minus whole days (a DATE; NULL past a DATE's range),
/// and the days from one DATE to another (BIGINT).
fn date_arithmetic(op: BinaryOp, l: &Value, r: &Value) -> Option<Value> {
    match (l, r) {
        (Value::Date(a), Value::Date(b)) if op == BinaryOp::Subtract => {
            Some(Value::Int(i64::from(*a) - i64::from(*b)))
        }
        (Value::Date(d), Value::Int(n)) | (Value::Int(n), Value::Date(d)) => {
            let days = int_arith(op, i64::from(*d), *n)?;
            i32::try_from(days).ok().map(Value::Date)
        }
        _ => None,
    }
}

fn is_integer(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Timestamp(_))
}

/// The domain implied by the operands alone (when the plan's type says nothing).
fn natural_domain(op: BinaryOp, l: &Value, r: &Value) -> Option<Domain> {
    let scale_of = |v: &Value| match v {
        Value::Decimal(d) => Some(d.scale),
        Value::Int(_) | Value::Timestamp(_) => Some(0),
        _ => None,
    };
    match (l, r) {
        (Value::Int(_), Value::Int(_)) => Some(Domain::Int),
        (Value::Timestamp(_), _) | (_, Value::Timestamp(_)) if is_integer(l) && is_integer(r) => {
            Some(Domain::Timestamp)
        }
        (Value::Double(_), _) | (_, Value::Double(_)) => {
            (l.as_f64().is_some() && r.as_f64().is_some()).then_some(Domain::Float)
        }
        _ => {
            let (a, b) = (scale_of(l)?, scale_of(r)?);
            let scale = match op {
                BinaryOp::Multiply => (a + b).min(18),
                BinaryOp::Divide => a.max(b).max(6),
                _ => a.max(b),
            };
            Some(Domain::Decimal(scale))
        }
    }
}

fn int_arith(op: BinaryOp, a: i64, b: i64) -> Option<i64> {
    match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Subtract => a.checked_sub(b),
        BinaryOp::Multiply => a.checked_mul(b),
        BinaryOp::Divide => a.checked_div(b),
        BinaryOp::Modulo => a.checked_rem(b),
        _ => None,
    }
}

fn float_arith(op: BinaryOp, a: f64, b: f64) -> Option<f64> {
    match op {
        BinaryOp::Add => Some(a + b),
        BinaryOp::Subtract => Some(a - b),
        BinaryOp::Multiply => Some(a * b),
        BinaryOp::Divide => (b != 0.0).then(|| a / b),
        BinaryOp::Modulo => (b != 0.0).then(|| a % b),
        _ => None,
    }
}

/// A number as a decimal; doubles convert at `scale` (rounded).
fn to_decimal(v: &Value, scale: u8) -> Option<Decimal> {
    match v {
        Value::Int(i) | Value::Timestamp(i) => Some(Decimal::from_i64(*i)),
        Value::Decimal(d) => Some(*d),
        Value::Double(d) => Decimal::from_f64(*d, scale),
        _ => None,
    }
}

fn decimal_arith(op: BinaryOp, a: Decimal, b: Decimal, scale: u8) -> Option<Decimal> {
    let exact = match op {
        BinaryOp::Add => a.checked_add(b)?,
        BinaryOp::Subtract => a.checked_sub(b)?,
        BinaryOp::Multiply => a.checked_mul(b)?,
        BinaryOp::Divide => return a.checked_div(b, scale),
        BinaryOp::Modulo => decimal_rem(a, b)?,
        _ => return None,
    };
    exact.rescale(scale)
}

fn decimal_rem(a: Decimal, b: Decimal) -> Option<Decimal> {
    if b.units == 0 {
        return None;
    }
    let scale = a.scale.max(b.scale);
    let x = a.rescale(scale)?;
    let y = b.rescale(scale)?;
    Some(Decimal::new(x.units.checked_rem(y.units)?, scale))
}

fn eval_in_list(inner: &ScalarExpr, list: &[ScalarExpr], negated: bool, row: &[Value]) -> Value {
    with_operand(inner, row, |v| {
        if v.is_null() {
            return Value::Null;
        }
        let mut unknown = false;
        for item in list {
            match with_operand(item, row, |x| sql_eq(v, x)) {
                Some(true) => return Value::Bool(!negated),
                Some(false) => {}
                None => unknown = true,
            }
        }
        if unknown {
            Value::Null
        } else {
            Value::Bool(negated)
        }
    })
}

fn eval_between(
    inner: &ScalarExpr,
    low: &ScalarExpr,
    high: &ScalarExpr,
    negated: bool,
    row: &[Value],
) -> Value {
    with_operand(inner, row, |v| {
        let above_low = with_operand(low, row, |lo| sql_cmp(v, lo)).map(|o| o != Ordering::Less);
        let below_high =
            with_operand(high, row, |hi| sql_cmp(v, hi)).map(|o| o != Ordering::Greater);
        let inside = and3(above_low, below_high);
        from_truth(if negated { inside.map(|b| !b) } else { inside })
    })
}

fn eval_like(
    inner: &ScalarExpr,
    pattern: &ScalarExpr,
    negated: bool,
    case_insensitive: bool,
    row: &[Value],
) -> Value {
    with_operand(inner, row, |v| {
        with_operand(pattern, row, |p| {
            if v.is_null() || p.is_null() {
                return Value::Null;
            }
            let matched = match (v, p) {
                (Value::Str(s), Value::Str(p)) => like_match(s, p, case_insensitive),
                _ => like_match(&v.to_string(), &p.to_string(), case_insensitive),
            };
            Value::Bool(matched != negated)
        })
    })
}

fn chars_equal(a: char, b: char, case_insensitive: bool) -> bool {
    a == b || (case_insensitive && a.to_lowercase().eq(b.to_lowercase()))
}

/// SQL LIKE: `%` matches any run of characters, `_` exactly one, and `\`
/// escapes the next pattern character. Greedy with one backtrack point, so
/// linear in practice and never allocating.
pub fn like_match(text: &str, pattern: &str, case_insensitive: bool) -> bool {
    let next = |s: &str, at: usize| s[at..].chars().next();
    let (mut ti, mut pi) = (0usize, 0usize);
    // After a `%`: where the pattern resumes, and the text position it is tried at.
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        if let Some(pc) = next(pattern, pi) {
            let tc = next(text, ti);
            match pc {
                '%' => {
                    pi += 1;
                    backtrack = Some((pi, ti));
                    continue;
                }
                '_' if tc.is_some() => {
                    ti += tc.map_or(0, char::len_utf8);
                    pi += 1;
                    continue;
                }
                '_' => {}
                _ => {
                    let (literal, width) = match pc {
                        '\\' => match next(pattern, pi + 1) {
                            Some(c) => (c, 1 + c.len_utf8()),
                            None => ('\\', 1),
                        },
                        c => (c, c.len_utf8()),
                    };
                    if let Some(tc) = tc {
                        if chars_equal(tc, literal, case_insensitive) {
                            ti += tc.len_utf8();
                            pi += width;
                            continue;
                        }
                    }
                }
            }
        } else if ti == text.len() {
            return true;
        }
        match backtrack {
            Some((resume, tried)) if tried < text.len() => {
                let skipped = next(text, tried).map_or(1, char::len_utf8);
                backtrack = Some((resume, tried + skipped));
                pi = resume;
                ti = tried + skipped;
            }
            _ => return false,
        }
    }
}

fn eval_case(
    operand: Option<&ScalarExpr>,
    branches: &[(ScalarExpr, ScalarExpr)],
    else_result: Option<&ScalarExpr>,
    row: &[Value],
) -> Option<Value> {
    let chosen = match operand {
        Some(operand) => {
            let subject = eval(operand, row);
            branches
                .iter()
                .find(|(when, _)| with_operand(when, row, |w| sql_eq(&subject, w)) == Some(true))
        }
        None => branches.iter().find(|(when, _)| is_true(when, row)),
    };
    match chosen {
        Some((_, then)) => Some(eval(then, row)),
        None => else_result.map(|e| eval(e, row)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_plans::*;

    fn dec(units: i64, scale: u8) -> Value {
        Value::Decimal(Decimal::new(units, scale))
    }

    fn eval0(e: &ScalarExpr) -> Value {
        eval(e, &[])
    }

    #[test]
    fn columns_and_literals() {
        let row = [Value::Int(4), Value::str("x")];
        assert_eq!(eval(&col(1, DataType::Varchar), &row), Value::str("x"));
        assert_eq!(eval(&lit(Value::Int(9)), &row), Value::Int(9));
        assert_eq!(eval(&col(7, DataType::BigInt), &row), Value::Null);
    }

    #[test]
    fn three_valued_logic() {
        let t = || lit(Value::Bool(true));
        let f = || lit(Value::Bool(false));
        let n = || null_lit();
        let and = |a, b| bin(BinaryOp::And, a, b, DataType::Boolean);
        let or = |a, b| bin(BinaryOp::Or, a, b, DataType::Boolean);
        assert_eq!(eval0(&and(t(), n())), Value::Null);
        assert_eq!(eval0(&and(n(), f())), Value::Bool(false));
        assert_eq!(eval0(&and(f(), n())), Value::Bool(false));
        assert_eq!(eval0(&and(t(), t())), Value::Bool(true));
        assert_eq!(eval0(&or(n(), t())), Value::Bool(true));
        assert_eq!(eval0(&or(f(), n())), Value::Null);
        assert_eq!(eval0(&or(f(), f())), Value::Bool(false));
        assert_eq!(eval0(&not(n())), Value::Null);
        assert_eq!(eval0(&not(f())), Value::Bool(true));
    }

    #[test]
    fn comparisons_are_sql() {
        let cmp = |op, a, b| eval0(&bin(op, lit(a), lit(b), DataType::Boolean));
        assert_eq!(
            cmp(BinaryOp::Eq, Value::Int(3), dec(300, 2)),
            Value::Bool(true)
        );
        assert_eq!(
            cmp(BinaryOp::Lt, Value::Int(3), Value::Double(3.5)),
            Value::Bool(true)
        );
        assert_eq!(
            cmp(BinaryOp::Gt, dec(101, 2), Value::Int(1)),
            Value::Bool(true)
        );
        assert_eq!(cmp(BinaryOp::Eq, Value::Null, Value::Null), Value::Null);
        assert_eq!(
            cmp(BinaryOp::NotEq, Value::Int(1), Value::Null),
            Value::Null
        );
        assert_eq!(
            cmp(BinaryOp::LtEq, Value::str("abc"), Value::str("abd")),
            Value::Bool(true)
        );
        assert_eq!(
            cmp(
                BinaryOp::GtEq,
                Value::Timestamp(10_000),
                Value::str("1970-01-01T00:00:10Z")
            ),
            Value::Bool(true)
        );
        assert_eq!(
            cmp(BinaryOp::Eq, Value::Int(1), Value::str("1")),
            Value::Null
        );
    }

    #[test]
    fn integer_arithmetic_is_checked() {
        let int = DataType::BigInt;
        let op = |op, a: i64, b: i64| eval0(&bin(op, lit(Value::Int(a)), lit(Value::Int(b)), int));
        assert_eq!(op(BinaryOp::Add, 2, 3), Value::Int(5));
        assert_eq!(op(BinaryOp::Divide, 7, 2), Value::Int(3));
        assert_eq!(op(BinaryOp::Divide, -7, 2), Value::Int(-3));
        assert_eq!(op(BinaryOp::Modulo, -7, 3), Value::Int(-1));
        assert_eq!(op(BinaryOp::Divide, 1, 0), Value::Null);
        assert_eq!(op(BinaryOp::Modulo, 1, 0), Value::Null);
        assert_eq!(op(BinaryOp::Add, i64::MAX, 1), Value::Null);
        assert_eq!(op(BinaryOp::Multiply, i64::MIN, -1), Value::Null);
        let neg = ScalarExpr::new(
            ExprKind::Unary {
                op: UnaryOp::Negate,
                expr: Box::new(lit(Value::Int(i64::MIN))),
            },
            int,
        );
        assert_eq!(eval0(&neg), Value::Null);
    }

    #[test]
    fn decimal_arithmetic_is_exact_at_the_plan_scale() {
        let d2 = DataType::Decimal {
            precision: 18,
            scale: 2,
        };
        let sum = bin(BinaryOp::Add, lit(dec(1, 1)), lit(dec(2, 1)), d2);
        assert_eq!(eval0(&sum), dec(30, 2));
        let d3 = DataType::Decimal {
            precision: 18,
            scale: 3,
        };
        let product = bin(
            BinaryOp::Multiply,
            lit(dec(908, 3)),
            lit(Value::Int(1234)),
            d3,
        );
        assert_eq!(eval0(&product).to_string(), "1120.472");
        let d4 = DataType::Decimal {
            precision: 18,
            scale: 4,
        };
        let third = bin(BinaryOp::Divide, lit(dec(1, 0)), lit(dec(3, 0)), d4);
        assert_eq!(eval0(&third).to_string(), "0.3333");
        let by_zero = bin(BinaryOp::Divide, lit(dec(1, 0)), lit(dec(0, 2)), d4);
        assert_eq!(eval0(&by_zero), Value::Null);
        let rem = bin(BinaryOp::Modulo, lit(dec(755, 2)), lit(dec(2, 0)), d2);
        assert_eq!(eval0(&rem).to_string(), "1.55");
        let double = bin(
            BinaryOp::Multiply,
            lit(Value::Int(3)),
            lit(Value::Double(0.5)),
            DataType::Double,
        );
        assert_eq!(eval0(&double), Value::Double(1.5));
        let fdiv = bin(
            BinaryOp::Divide,
            lit(Value::Double(1.0)),
            lit(Value::Double(0.0)),
            DataType::Double,
        );
        assert_eq!(eval0(&fdiv), Value::Null);
    }

    #[test]
    fn concat_operator_is_null_strict() {
        let c = |a, b| eval0(&bin(BinaryOp::Concat, lit(a), lit(b), DataType::Varchar));
        assert_eq!(c(Value::str("a"), Value::Int(1)), Value::str("a1"));
        assert_eq!(c(Value::str("a"), Value::Null), Value::Null);
        assert_eq!(
            c(Value::Double(2.0), Value::Bool(true)),
            Value::str("2.0true")
        );
    }

    #[test]
    fn is_null_in_and_between() {
        let is_null = |v, negated| {
            eval0(&ScalarExpr::new(
                ExprKind::IsNull {
                    expr: Box::new(lit(v)),
                    negated,
                },
                DataType::Boolean,
            ))
        };
        assert_eq!(is_null(Value::Null, false), Value::Bool(true));
        assert_eq!(is_null(Value::Int(1), true), Value::Bool(true));
        let list = |v, items: Vec<Value>, negated| {
            eval0(&ScalarExpr::new(
                ExprKind::InList {
                    expr: Box::new(lit(v)),
                    list: items.into_iter().map(lit).collect(),
                    negated,
                },
                DataType::Boolean,
            ))
        };
        let ints = |xs: &[i64]| xs.iter().map(|x| Value::Int(*x)).collect::<Vec<_>>();
        assert_eq!(list(Value::Int(2), ints(&[1, 2]), false), Value::Bool(true));
        assert_eq!(
            list(Value::Int(3), ints(&[1, 2]), false),
            Value::Bool(false)
        );
        assert_eq!(list(Value::Int(3), ints(&[1, 2]), true), Value::Bool(true));
        let with_null = vec![Value::Int(1), Value::Null];
        assert_eq!(list(Value::Int(3), with_null.clone(), false), Value::Null);
        assert_eq!(
            list(Value::Int(1), with_null.clone(), false),
            Value::Bool(true)
        );
        assert_eq!(list(Value::Int(3), with_null, true), Value::Null);
        assert_eq!(list(Value::Null, ints(&[1]), false), Value::Null);
        let between = |v, lo, hi, negated| {
            eval0(&ScalarExpr::new(
                ExprKind::Between {
                    expr: Box::new(lit(v)),
                    low: Box::new(lit(lo)),
                    high: Box::new(lit(hi)),
                    negated,
                },
                DataType::Boolean,
            ))
        };
        let i = Value::Int;
        assert_eq!(between(i(5), i(1), i(5), false), Value::Bool(true));
        assert_eq!(between(i(6), i(1), i(5), false), Value::Bool(false));
        assert_eq!(between(i(6), i(1), i(5), true), Value::Bool(true));
        assert_eq!(between(i(6), Value::Null, i(5), false), Value::Bool(false));
        assert_eq!(between(i(3), Value::Null, i(5), false), Value::Null);
    }

    #[test]
    fn like_patterns() {
        assert!(like_match("hello", "h%o", false));
        assert!(like_match("hello", "%", false));
        assert!(like_match("", "%", false));
        assert!(like_match("hello", "_ello", false));
        assert!(!like_match("hello", "_llo", false));
        assert!(like_match("abcabd", "%ab_", false));
        assert!(like_match("a%b", "a\\%b", false));
        assert!(!like_match("axb", "a\\%b", false));
        assert!(like_match("HeLLo", "hel%", true));
        assert!(!like_match("HeLLo", "hel%", false));
        assert!(like_match("héllo", "h_llo", false));
        assert!(like_match("mississippi", "%iss%pi", false));
        let like = |v, p, negated| {
            eval0(&ScalarExpr::new(
                ExprKind::Like {
                    expr: Box::new(lit(v)),
                    pattern: Box::new(lit(p)),
                    negated,
                    case_insensitive: false,
                },
                DataType::Boolean,
            ))
        };
        assert_eq!(
            like(Value::str("abc"), Value::str("a%"), true),
            Value::Bool(false)
        );
        assert_eq!(like(Value::Null, Value::str("a%"), false), Value::Null);
    }

    #[test]
    fn case_both_forms() {
        let i = |x| lit(Value::Int(x));
        let searched = ScalarExpr::new(
            ExprKind::Case {
                operand: None,
                branches: vec![
                    (null_lit(), lit(Value::str("null"))),
                    (
                        bin(
                            BinaryOp::Gt,
                            col(0, DataType::BigInt),
                            i(10),
                            DataType::Boolean,
                        ),
                        lit(Value::str("big")),
                    ),
                ],
                else_result: Some(Box::new(lit(Value::str("small")))),
            },
            DataType::Varchar,
        );
        assert_eq!(eval(&searched, &[Value::Int(11)]), Value::str("big"));
        assert_eq!(eval(&searched, &[Value::Int(1)]), Value::str("small"));
        let simple = ScalarExpr::new(
            ExprKind::Case {
                operand: Some(Box::new(col(0, DataType::BigInt))),
                branches: vec![(i(1), i(100)), (i(2), lit(Value::Double(2.5)))],
                else_result: None,
            },
            DataType::Double,
        );
        assert_eq!(eval(&simple, &[Value::Int(1)]), Value::Double(100.0));
        assert_eq!(eval(&simple, &[Value::Int(2)]), Value::Double(2.5));
        assert_eq!(eval(&simple, &[Value::Int(3)]), Value::Null);
        assert_eq!(eval(&simple, &[Value::Null]), Value::Null);
    }
}
