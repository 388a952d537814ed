//! Typed conversion of text cells (CSV fields, JSON strings) into [`Value`]s
//! of a column's declared type, without allocating for numbers, and a fast
//! path for ISO-8601 timestamps.

use crate::data::{parse_date, parse_timestamp, DataType, Decimal, Value};
use hashbrown::HashTable;
use std::sync::Arc;

/// How many distinct strings one column remembers for sharing. Past this,
/// new strings are allocated on their own.
const INTERN_CAPACITY: usize = 16 * 1024;
/// Strings longer than this are never interned.
const INTERN_MAX_LEN: usize = 64;

/// Shares one `Arc<str>` among equal short strings of a column (symbols,
/// station names): a hash lookup is cheaper than an allocation, and equal
/// keys then share memory. An interner lives as long as its shard's
/// [`super::SourceState`], across chunks.
///
/// It is keyed by a cell's bytes, hashed once per lookup: a hit compares the
/// bytes with a string already known to be UTF-8, so only a string seen for
/// the first time (or not interned at all) has its UTF-8 checked.
///
/// Its memory is bounded: it holds at most [`INTERN_CAPACITY`] strings of at
/// most [`INTERN_MAX_LEN`] bytes (about 2 MB at worst). Once full, new strings
/// are allocated on their own; after as many such misses as it holds (a
/// high-cardinality or drifting column), it forgets everything and learns the
/// strings that come next, so it never stays stuck on stale ones.
#[derive(Default)]
pub(crate) struct Interner {
    hasher: ahash::RandomState,
    strings: HashTable<Arc<str>>,
    /// Strings not interned since the set filled up.
    misses_while_full: usize,
}

impl Interner {
    /// The shared string equal to `text`.
    fn get(&mut self, text: &str) -> Arc<str> {
        self.get_bytes(text.as_bytes())
            .unwrap_or_else(|| Arc::from(text))
    }

    /// The shared string equal to `bytes`; `None` when they are not UTF-8.
    fn get_bytes(&mut self, bytes: &[u8]) -> Option<Arc<str>> {
        if bytes.len() > INTERN_MAX_LEN {
            return std::str::from_utf8(bytes).ok().map(Arc::from);
        }
        let hash = self.hasher.hash_one(bytes);
        if let Some(s) = self.strings.find(hash, |s| s.as_bytes() == bytes) {
            return Some(s.clone());
        }
        let s: Arc<str> = Arc::from(std::str::from_utf8(bytes).ok()?);
        if self.strings.len() < INTERN_CAPACITY {
            let hasher = &self.hasher;
            self.strings
                .insert_unique(hash, s.clone(), |s| hasher.hash_one(s.as_bytes()));
        } else {
            self.miss_while_full();
        }
        Some(s)
    }

    /// Counts a string left out of the full set; forgets the set after
    /// [`INTERN_CAPACITY`] of them.
    fn miss_while_full(&mut self) {
        self.misses_while_full += 1;
        if self.misses_while_full >= INTERN_CAPACITY {
            self.strings.clear();
            self.misses_while_full = 0;
        }
    }
}

/// Converts the cells of one column.
pub(crate) struct ColumnParser {
    pub name: String,
    pub data_type: DataType,
    interner: Option<Interner>,
}

impl ColumnParser {
    pub fn new(name: &str, data_type: DataType) -> Self {
        let interner = (data_type == DataType::Varchar).then(Interner::default);
        ColumnParser {
            name: name.to_string(),
            data_type,
            interner,
        }
    }

    /// Whether `other` converts the same column (name and type).
    pub fn parses_like(&self, other: &ColumnParser) -> bool {
        self.name == other.name && self.data_type == other.data_type
    }

    /// The value of `bytes`; an empty cell is NULL. The error is the reason
    /// for the dead-letter file.
    pub fn parse(&mut self, bytes: &[u8]) -> Result<Value, String> {
        let mut value = Value::Null;
        self.parse_with(bytes, |parsed| value = parsed)?;
        Ok(value)
    }

    /// Hands the value of `bytes`, as [`Self::parse`] gives it, to `put`
    /// (a reader pushes it onto its row). Each type hands over its own
    /// value: a `Value` merged from the arms and returned went through
    /// memory, and its copy stalled on store forwarding (a third of the CSV
    /// reader's time in a profile).
    #[inline(always)]
    pub fn parse_with(&mut self, bytes: &[u8], put: impl FnOnce(Value)) -> Result<(), String> {
        if bytes.is_empty() {
            put(Value::Null);
            return Ok(());
        }
        let cell = trim(bytes);
        let pushed = match self.data_type {
            DataType::Varchar => self.shared_string(bytes).map(|s| put(Value::Str(s))),
            DataType::BigInt => parse_i64(cell).map(|v| put(Value::Int(v))),
            DataType::Double => parse_f64(cell).map(|v| put(Value::Double(v))),
            DataType::Boolean => parse_bool(cell).map(|v| put(Value::Bool(v))),
            DataType::Timestamp => parse_timestamp_bytes(cell).map(|v| put(Value::Timestamp(v))),
            DataType::Date => std::str::from_utf8(cell)
                .ok()
                .and_then(parse_date)
                .map(|v| put(Value::Date(v))),
            DataType::Decimal { precision, scale } => {
                parse_decimal(cell, precision, scale).map(|v| put(Value::Decimal(v)))
            }
            DataType::Null => {
                put(Value::Null);
                Some(())
            }
        };
        pushed.ok_or_else(|| self.cell_error(bytes))
    }

    /// A VARCHAR cell's string: its UTF-8 is checked here, unless the
    /// interner already holds the same bytes as a string; `None` when the
    /// bytes are not UTF-8.
    fn shared_string(&mut self, bytes: &[u8]) -> Option<Arc<str>> {
        match &mut self.interner {
            Some(interner) => interner.get_bytes(bytes),
            None => std::str::from_utf8(bytes).ok().map(Arc::from),
        }
    }

    /// Why `bytes` is not a value of this column.
    fn cell_error(&self, bytes: &[u8]) -> String {
        match self.data_type {
            DataType::Varchar => format!("column '{}': invalid UTF-8", self.name),
            _ => self.not_a(bytes),
        }
    }

    /// A VARCHAR value for text that is already a string (JSON): the empty
    /// string stays an empty string.
    pub fn string(&mut self, text: &str) -> Value {
        Value::Str(match &mut self.interner {
            Some(interner) => interner.get(text),
            None => Arc::from(text),
        })
    }

    /// "column 'price': 'abc' is not a DOUBLE"
    pub fn not_a(&self, bytes: &[u8]) -> String {
        format!(
            "column '{}': '{}' is not a {}",
            self.name,
            String::from_utf8_lossy(bytes),
            self.data_type
        )
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Decimal integer with optional sign; `None` on overflow or other bytes.
pub(crate) fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        // Accumulate negatively so that i64::MIN parses.
        value = value.checked_mul(10)?.checked_sub(digit as i64)?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// A floating-point number, read straight from the bytes: the same numbers
/// (bit for bit) and the same malformed texts as `str::parse::<f64>`.
pub(crate) fn parse_f64(bytes: &[u8]) -> Option<f64> {
    fast_float2::parse(bytes).ok()
}

/// true/false/t/f/1/0, case-insensitive.
pub(crate) fn parse_bool(bytes: &[u8]) -> Option<bool> {
    match bytes {
        b"1" => Some(true),
        b"0" => Some(false),
        _ if bytes.eq_ignore_ascii_case(b"true") || bytes.eq_ignore_ascii_case(b"t") => Some(true),
        _ if bytes.eq_ignore_ascii_case(b"false") || bytes.eq_ignore_ascii_case(b"f") => {
            Some(false)
        }
        _ => None,
    }
}

/// Text at the column's scale, rejected when it needs more than `precision`
/// digits.
pub(crate) fn parse_decimal(bytes: &[u8], precision: u8, scale: u8) -> Option<Decimal> {
    let d = Decimal::parse(std::str::from_utf8(bytes).ok()?, scale)?;
    fits_precision(d, precision).then_some(d)
}

pub(crate) fn fits_precision(d: Decimal, precision: u8) -> bool {
    precision >= 19 || (d.units as i128).abs() < 10i128.pow(precision as u32)
}

/// An integer (epoch milliseconds) or ISO-8601 text.
pub(crate) fn parse_timestamp_bytes(bytes: &[u8]) -> Option<i64> {
    if let Some(ms) = parse_i64(bytes) {
        return Some(ms);
    }
    if let Some(ms) = parse_iso_fast(bytes) {
        return Some(ms);
    }
    parse_timestamp(std::str::from_utf8(bytes).ok()?)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]`, the shape nearly every
/// event file uses, parsed without chrono. Anything else (including leap
/// seconds) is `None`, and the caller falls back to the general parser.
pub(crate) fn parse_iso_fast(b: &[u8]) -> Option<i64> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let (millis, rest) = parse_fraction(&b[19..])?;
    let offset_minutes = parse_offset(rest)?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    Some((seconds - offset_minutes * 60) * 1000 + millis)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        let d = c.wrapping_sub(b'0');
        (d <= 9).then_some(acc * 10 + d as u32)
    })
}

/// `.123456` -> (123 ms, rest); no fraction -> (0, all).
fn parse_fraction(b: &[u8]) -> Option<(i64, &[u8])> {
    if b.first() != Some(&b'.') {
        return Some((0, b));
    }
    let count = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if count == 0 {
        return None;
    }
    let mut millis = 0i64;
    for i in 0..3 {
        let d = if i < count {
            (b[1 + i] - b'0') as i64
        } else {
            0
        };
        millis = millis * 10 + d;
    }
    Some((millis, &b[1 + count..]))
}

/// `` / `Z` -> 0; `+02:00` -> 120; `-0130` -> -90.
fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let hours = digits(&[*h1, *h2])? as i64;
            let minutes = digits(&[*m1, *m2])? as i64;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            Some(if *sign == b'-' { -total } else { total })
        }
        _ => None,
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let year_of_era = y - era * 400;
    let shifted_month = (month as i64 + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interner_shares_equal_strings_and_stays_bounded() {
        let mut interner = Interner::default();
        let (a, b) = (interner.get("SYM1"), interner.get("SYM1"));
        assert!(Arc::ptr_eq(&a, &b));
        let long = "x".repeat(INTERN_MAX_LEN + 1);
        assert!(!Arc::ptr_eq(&interner.get(&long), &interner.get(&long)));
        // A column of ever new strings: the set never outgrows its cap, and
        // once it has missed as many as it holds it starts over.
        let mut emptied = false;
        for i in 0..3 * INTERN_CAPACITY {
            interner.get(&format!("key{i}"));
            assert!(interner.strings.len() <= INTERN_CAPACITY);
            emptied |= interner.strings.len() == 1;
        }
        assert!(emptied);
        let (c, d) = (interner.get("fresh"), interner.get("fresh"));
        assert_eq!(c, d);
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-7"), Some(-7));
        assert_eq!(parse_i64(b"+7"), Some(7));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"1.5"), None);
        assert_eq!(parse_i64(b"-"), None);
    }

    /// Both parse `text` to the same bits (NaN payloads aside) or both
    /// reject it.
    fn parses_like_std(text: &str) -> bool {
        match (parse_f64(text.as_bytes()), text.parse::<f64>().ok()) {
            (Some(a), Some(b)) if a.is_nan() => {
                b.is_nan() && a.is_sign_negative() == b.is_sign_negative()
            }
            (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a.is_none() && b.is_none(),
        }
    }

    #[test]
    fn doubles_parse_as_std_does_at_the_edges() {
        for text in [
            "1.",
            ".5",
            "-.5",
            "+1e5",
            "1E-5",
            "-0",
            "inf",
            "-Infinity",
            "NaN",
            "-nan",
            "4.9e-324",
            "1e-400",
            "1.5e400",
            "2.2250738585072014e-308",
            "123456789012345678901234567890.5",
            "0.1000000000000000055511151231257827",
            "",
            ".",
            "-",
            "e5",
            "1e",
            "1e+",
            ".e1",
            "1_0",
            "0x10",
            "infinit",
            "nan1",
            "1.5.2",
            "1 ",
        ] {
            assert!(parses_like_std(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn doubles_parse_as_std_does(
            text in "[-+]?[0-9]{0,20}[.]?[0-9]{0,20}([eE][-+]?[0-9]{0,4})?",
            noise in "[-+0-9.eEinfatyINFATY_x ]{0,10}",
            bits: u64,
        ) {
            let value = f64::from_bits(bits);
            for text in [text, noise, value.to_string(), format!("{value:e}")] {
                proptest::prop_assert!(parses_like_std(&text), "{:?}", text);
            }
        }
    }

    #[test]
    fn fast_iso_agrees_with_the_general_parser() {
        for text in [
            "2026-01-01T00:00:10Z",
            "2026-01-01T00:00:10.250Z",
            "2026-01-01 00:00:10",
            "2026-01-01T02:00:10+02:00",
            "2024-02-29T23:59:59.999999-05:30",
            "1969-12-31T23:59:59.5Z",
            "2000-03-01T00:00:00",
        ] {
            assert_eq!(
                parse_iso_fast(text.as_bytes()),
                parse_timestamp(text),
                "{text}"
            );
        }
        assert_eq!(
            parse_iso_fast(b"2026-01-01T00:00:10.000Z"),
            Some(1_767_225_610_000)
        );
        assert_eq!(parse_iso_fast(b"2025-02-29T00:00:00Z"), None);
        assert_eq!(parse_iso_fast(b"2026-01-01T00:00:10 junk"), None);
        assert_eq!(parse_timestamp_bytes(b"1500"), Some(1500));
        assert_eq!(
            parse_timestamp_bytes(b"2026-01-01"),
            parse_timestamp("2026-01-01")
        );
    }

    #[test]
    fn cells_of_each_type() {
        let mut p = ColumnParser::new("flag", DataType::Boolean);
        assert_eq!(p.parse(b"T"), Ok(Value::Bool(true)));
        assert_eq!(p.parse(b"0"), Ok(Value::Bool(false)));
        assert_eq!(
            p.parse(b"yes"),
            Err("column 'flag': 'yes' is not a BOOLEAN".to_string())
        );
        let mut p = ColumnParser::new(
            "amount",
            DataType::Decimal {
                precision: 5,
                scale: 2,
            },
        );
        assert_eq!(
            p.parse(b"123.456"),
            Ok(Value::Decimal(Decimal::new(12346, 2)))
        );
        assert!(p.parse(b"1234.5").is_err());
        let mut p = ColumnParser::new("s", DataType::Varchar);
        assert_eq!(p.parse(b""), Ok(Value::Null));
        let a = p.parse(b"AAPL").unwrap();
        let b = p.parse(b"AAPL").unwrap();
        match (&a, &b) {
            (Value::Str(x), Value::Str(y)) => assert!(Arc::ptr_eq(x, y)),
            _ => panic!("not strings"),
        }
        assert_eq!(
            p.parse(b"\xff"),
            Err("column 's': invalid UTF-8".to_string())
        );
    }
}
