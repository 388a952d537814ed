//! The dynamically typed cell value.

use super::{format_timestamp, write_date, DataType, Decimal};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One cell. 24 bytes; only `Str` owns heap memory (shared, so clones are cheap).
///
/// `Eq`, `Hash` and `Ord` are *total* (they are what GROUP BY keys and output
/// ordering use): doubles compare by value with every NaN equal to every other
/// and greater than all numbers, and `-0.0 == 0.0`. NULL sorts before
/// everything else and equals NULL here; SQL's three-valued comparison lives in
/// the engine, not in these traits.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Decimal(Decimal),
    Str(Arc<str>),
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// Days since 1970-01-01.
    Date(i32),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The type this value has on its own (DECIMAL reports its own scale).
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Null,
            Value::Bool(_) => DataType::Boolean,
            Value::Int(_) => DataType::BigInt,
            Value::Double(_) => DataType::Double,
            Value::Decimal(d) => DataType::Decimal {
                precision: 18,
                scale: d.scale,
            },
            Value::Str(_) => DataType::Varchar,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::Date(_) => DataType::Date,
        }
    }

    /// Numeric view as f64 (BIGINT, DOUBLE, DECIMAL, TIMESTAMP); `None` otherwise.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) | Value::Timestamp(i) => Some(*i as f64),
            Value::Double(d) => Some(*d),
            Value::Decimal(d) => Some(d.to_f64()),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Timestamp(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    fn kind_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Double(_) | Value::Decimal(_) => 2,
            Value::Str(_) => 3,
            Value::Timestamp(_) => 4,
            Value::Date(_) => 5,
        }
    }
}

impl Value {
    /// A number whose order agrees with [`Value`]'s among values of one
    /// kind (and NULL, which is smallest): `a < b` gives `prefix(a) <=
    /// prefix(b)`, and equal values give equal prefixes. Sorting by it
    /// first settles most comparisons without reading a string. Values of
    /// different non-NULL kinds must not be ordered by it (numbers of
    /// different kinds compare by value, their prefixes do not).
    pub fn sort_prefix(&self) -> u64 {
        const SIGN: u64 = 1 << 63;
        match self {
            Value::Null => 0,
            Value::Bool(b) => *b as u64,
            Value::Int(i) | Value::Timestamp(i) => (*i as u64) ^ SIGN,
            Value::Date(d) => (i64::from(*d) as u64) ^ SIGN,
            Value::Double(d) if d.is_nan() => u64::MAX,
            Value::Double(d) => {
                // -0.0 equals 0.0.
                let bits = if *d == 0.0 { 0 } else { d.to_bits() };
                match bits & SIGN {
                    0 => bits | SIGN,
                    _ => !bits,
                }
            }
            Value::Decimal(_) => 0,
            Value::Str(s) => {
                // The first 7 bytes, then the length (8 for any longer):
                // exact for strings of up to 7 bytes.
                let mut first = [0u8; 8];
                let n = s.len().min(7);
                first[..n].copy_from_slice(&s.as_bytes()[..n]);
                first[7] = s.len().min(8) as u8;
                u64::from_be_bytes(first)
            }
        }
    }

    /// Whether [`Value::sort_prefix`] tells `self` from every other value
    /// of its kind: equal prefixes, equal values. Not NULL (its prefix is
    /// also the smallest value's), not DECIMAL, not a string over 7 bytes.
    pub fn prefix_is_exact(&self) -> bool {
        match self {
            Value::Null | Value::Decimal(_) => false,
            Value::Str(s) => s.len() <= 7,
            Value::Bool(_)
            | Value::Int(_)
            | Value::Timestamp(_)
            | Value::Date(_)
            | Value::Double(_) => true,
        }
    }

    /// Whether `self` and `other` may be ordered by [`Value::sort_prefix`]:
    /// one of them is NULL, or both are of one kind.
    pub fn prefix_comparable(&self, other: &Value) -> bool {
        self.is_null()
            || other.is_null()
            || std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

fn normalized_bits(d: f64) -> u64 {
    if d.is_nan() {
        f64::NAN.to_bits()
    } else if d == 0.0 {
        0
    } else {
        d.to_bits()
    }
}

impl PartialEq for Value {
    /// `cmp(other) == Equal`, with the common equal-kind cases first.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Timestamp(a), Value::Timestamp(b)) => a == b,
            _ => self.cmp(other) == Ordering::Equal,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => state.write_u8(0),
            Value::Bool(b) => {
                state.write_u8(1);
                state.write_u8(*b as u8);
            }
            // Numbers that compare equal hash equal: integral values hash as i64.
            Value::Int(i) => {
                state.write_u8(2);
                state.write_i64(*i);
            }
            Value::Double(d) => {
                state.write_u8(2);
                if d.fract() == 0.0 && d.abs() < 9.0e18 {
                    state.write_i64(*d as i64);
                } else {
                    state.write_u64(normalized_bits(*d));
                }
            }
            Value::Decimal(dec) => {
                state.write_u8(2);
                match dec.to_integral() {
                    Some(i) => state.write_i64(i),
                    None => state.write_u64(normalized_bits(dec.to_f64())),
                }
            }
            Value::Str(s) => {
                state.write_u8(3);
                s.hash(state);
            }
            Value::Timestamp(t) => {
                state.write_u8(4);
                state.write_i64(*t);
            }
            Value::Date(d) => {
                state.write_u8(5);
                state.write_i32(*d);
            }
        }
    }
}

fn cmp_f64_total(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Compares two numeric values exactly where both are exact.
pub(crate) fn cmp_numeric(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Int(x), Value::Decimal(y)) => Decimal::from_i64(*x).cmp(y),
        (Value::Decimal(x), Value::Int(y)) => x.cmp(&Decimal::from_i64(*y)),
        _ => cmp_f64_total(
            a.as_f64().unwrap_or(f64::NAN),
            b.as_f64().unwrap_or(f64::NAN),
        ),
    }
}

impl Ord for Value {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // The common same-kind pairs first (the general path below gives
        // the same answers).
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => return a.cmp(b),
            (Value::Double(a), Value::Double(b)) => return cmp_f64_total(*a, *b),
            (Value::Timestamp(a), Value::Timestamp(b)) => return a.cmp(b),
            _ => {}
        }
        let (ra, rb) = (self.kind_rank(), other.kind_rank());
        if ra != rb {
            return ra.cmp(&rb);
        }
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            // Interned and pooled strings share their allocation: equal
            // pointers need no look at the bytes.
            (Value::Str(a), Value::Str(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            _ => cmp_numeric(self, other),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Plain-text rendering: what CSV output writes. NULL is the empty string.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => fmt_double(*d, f),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Str(s) => f.write_str(s),
            Value::Timestamp(t) => f.write_str(&format_timestamp(*t)),
            Value::Date(d) => {
                let mut text = String::with_capacity(10);
                write_date(*d, &mut text);
                f.write_str(&text)
            }
        }
    }
}

/// Doubles print in Rust's shortest round-trip form, with `.0` kept for integral
/// values so that the type survives a round trip (`3.0`, not `3`).
fn fmt_double(d: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e15 {
        write!(f, "{d:.1}")
    } else {
        write!(f, "{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(v: &Value) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn value_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn equal_numbers_hash_equal() {
        let a = Value::Int(3);
        let b = Value::Double(3.0);
        let c = Value::Decimal(Decimal::new(300, 2));
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_eq!(hash_of(&a), hash_of(&c));
    }

    #[test]
    fn null_sorts_first_and_nan_last_among_numbers() {
        let mut v = [
            Value::Double(f64::NAN),
            Value::Int(2),
            Value::Null,
            Value::Double(-1.5),
        ];
        v.sort();
        assert!(v[0].is_null());
        assert_eq!(v[1], Value::Double(-1.5));
        assert_eq!(v[2], Value::Int(2));
        assert!(matches!(v[3], Value::Double(d) if d.is_nan()));
    }

    #[test]
    fn display_keeps_type_visible() {
        assert_eq!(Value::Double(3.0).to_string(), "3.0");
        assert_eq!(Value::Double(0.1).to_string(), "0.1");
        assert_eq!(Value::Int(-7).to_string(), "-7");
        assert_eq!(Value::Null.to_string(), "");
        assert_eq!(
            Value::Timestamp(10_000).to_string(),
            "1970-01-01T00:00:10.000Z"
        );
    }
}

#[cfg(test)]
mod sort_prefix_tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Int),
            any::<i64>().prop_map(Value::Timestamp),
            any::<f64>().prop_map(Value::Double),
            prop_oneof![Just(0.0), Just(-0.0), Just(f64::NAN)].prop_map(Value::Double),
            "[a-c\u{0}é]{0,10}".prop_map(|s| Value::str(&s)),
            any::<bool>().prop_map(Value::Bool),
        ]
    }

    /// Two values of one kind, often equal or alike.
    fn same_kind_pair() -> impl Strategy<Value = (Value, Value)> {
        let special = || prop_oneof![Just(0.0), Just(-0.0), Just(f64::NAN), any::<f64>()];
        prop_oneof![
            (any::<i64>(), -2i64..2)
                .prop_map(|(a, d)| (Value::Int(a), Value::Int(a.wrapping_add(d)))),
            (special(), special()).prop_map(|(a, b)| (Value::Double(a), Value::Double(b))),
            ("[a\u{0}]{0,8}", "[a\u{0}]{0,8}").prop_map(|(a, b)| (Value::str(&a), Value::str(&b))),
            (any::<bool>(), any::<bool>()).prop_map(|(a, b)| (Value::Bool(a), Value::Bool(b))),
        ]
    }

    proptest! {
        #[test]
        fn the_prefix_never_contradicts_the_order(a in value(), b in value()) {
            prop_assume!(a.prefix_comparable(&b));
            match a.cmp(&b) {
                Ordering::Less => prop_assert!(a.sort_prefix() <= b.sort_prefix()),
                Ordering::Equal => prop_assert_eq!(a.sort_prefix(), b.sort_prefix()),
                Ordering::Greater => prop_assert!(a.sort_prefix() >= b.sort_prefix()),
            }
        }

        #[test]
        fn an_exact_prefix_is_equal_only_for_equal_values((a, b) in same_kind_pair()) {
            prop_assume!(a.prefix_is_exact() && b.prefix_is_exact());
            prop_assert_eq!(a.sort_prefix() == b.sort_prefix(), a == b);
        }
    }
}
