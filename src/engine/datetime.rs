//! Timestamp arithmetic and conversion of the time functions: EXTRACT's
//! fields, TIMESTAMPDIFF, TIMESTAMPADD, month shifts, and TO_TIMESTAMP from
//! text (ISO-8601 or a Java-style pattern) or epoch seconds. All in UTC, on
//! epoch milliseconds.

use super::functions::copy_quoted;
use crate::data::{parse_timestamp, Value};
use crate::plan::{DatePart, TimeUnit};
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Timelike, Utc};

pub(super) const MILLIS_PER_DAY: i64 = 86_400_000;
pub(super) const MILLIS_PER_HOUR: i64 = 3_600_000;

/// `EXTRACT(part FROM ts)` of epoch millis.
pub(super) fn date_part(millis: i64, part: DatePart) -> Option<Value> {
    if part == DatePart::Epoch {
        return Some(Value::Double(millis as f64 / 1000.0));
    }
    let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
    let millis_of_minute = i64::from(t.second()) * 1000 + millis.rem_euclid(1000);
    let n = match part {
        DatePart::Year => i64::from(t.year()),
        DatePart::Quarter => i64::from(t.month0() / 3 + 1),
        DatePart::Month => i64::from(t.month()),
        DatePart::Week => i64::from(t.iso_week().week()),
        DatePart::IsoYear => i64::from(t.iso_week().year()),
        DatePart::Day => i64::from(t.day()),
        DatePart::DayOfWeek => i64::from(t.weekday().num_days_from_sunday()),
        DatePart::IsoDayOfWeek => i64::from(t.weekday().number_from_monday()),
        DatePart::DayOfYear => i64::from(t.ordinal()),
        DatePart::Hour => i64::from(t.hour()),
        DatePart::Minute => i64::from(t.minute()),
        DatePart::Second => i64::from(t.second()),
        DatePart::Millisecond => millis_of_minute,
        DatePart::Microsecond | DatePart::Epoch => millis_of_minute * 1000,
    };
    Some(Value::Int(n))
}

/// The length of `unit` in millis; `None` for the calendar units (months).
pub(super) fn fixed_millis(unit: TimeUnit) -> Option<i64> {
    match unit {
        TimeUnit::Millisecond => Some(1),
        TimeUnit::Second => Some(1_000),
        TimeUnit::Minute => Some(60_000),
        TimeUnit::Hour => Some(MILLIS_PER_HOUR),
        TimeUnit::Day => Some(MILLIS_PER_DAY),
        TimeUnit::Week => Some(7 * MILLIS_PER_DAY),
        TimeUnit::Month | TimeUnit::Quarter | TimeUnit::Year => None,
    }
}

/// The months in a calendar unit (1 for the fixed ones, never used).
fn months_in(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Quarter => 3,
        TimeUnit::Year => 12,
        _ => 1,
    }
}

/// `millis` moved by `months` calendar months (the day clamped to the
/// month's last, as in DuckDB and Flink).
pub(super) fn shift_months(millis: i64, months: i64) -> Option<i64> {
    let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
    let n = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    let moved = if months >= 0 {
        t.checked_add_months(n)?
    } else {
        t.checked_sub_months(n)?
    };
    Some(moved.timestamp_millis())
}

/// `TIMESTAMPDIFF(unit, a, b)`: the whole units from `a` to `b`, truncated
/// toward zero (negative when `b` is before `a`).
pub(super) fn timestamp_diff(unit: TimeUnit, a: i64, b: i64) -> Option<i64> {
    match fixed_millis(unit) {
        Some(size) => Some(b.checked_sub(a)? / size),
        None => Some(whole_months(a, b)? / months_in(unit)),
    }
}

/// The whole calendar months from `a` to `b`.
fn whole_months(a: i64, b: i64) -> Option<i64> {
    let month_index = |millis: i64| {
        DateTime::<Utc>::from_timestamp_millis(millis)
            .map(|t| i64::from(t.year()) * 12 + i64::from(t.month0()))
    };
    let mut months = month_index(b)? - month_index(a)?;
    let shifted = shift_months(a, months)?;
    if months > 0 && shifted > b {
        months -= 1;
    } else if months < 0 && shifted < b {
        months += 1;
    }
    Some(months)
}

/// `TIMESTAMPADD(unit, n, ts)`.
pub(super) fn timestamp_add(unit: TimeUnit, n: i64, millis: i64) -> Option<i64> {
    match fixed_millis(unit) {
        Some(size) => millis.checked_add(n.checked_mul(size)?),
        None => shift_months(millis, n.checked_mul(months_in(unit))?),
    }
}

/// `TO_TIMESTAMP(text)`, `TO_TIMESTAMP(text, pattern)` or
/// `TO_TIMESTAMP(epoch_seconds)`; `None` when it does not convert.
pub(super) fn to_timestamp(v: &Value, pattern: Option<&Value>) -> Option<Value> {
    let millis = match (v, pattern) {
        (Value::Str(text), None) => parse_timestamp(text)?,
        (Value::Str(text), Some(Value::Str(pattern))) => parse_with_pattern(text, pattern)?,
        (Value::Int(seconds), None) => seconds.checked_mul(1000)?,
        (number, None) => epoch_seconds(number.as_f64()?)?,
        _ => return None,
    };
    Some(Value::Timestamp(millis))
}

/// Fractional epoch seconds as millis, rounded; `None` out of range.
fn epoch_seconds(seconds: f64) -> Option<i64> {
    let millis = (seconds * 1000.0).round();
    let range = i64::MIN as f64..i64::MAX as f64;
    range.contains(&millis).then_some(millis as i64)
}

/// Parses `text` with a Java-style pattern (`yyyy-MM-dd HH:mm:ss.SSS`); a
/// pattern without hours gives midnight.
pub(super) fn parse_with_pattern(text: &str, pattern: &str) -> Option<i64> {
    let format = chrono_format(pattern)?;
    if let Ok(t) = NaiveDateTime::parse_from_str(text, &format) {
        return Some(t.and_utc().timestamp_millis());
    }
    let day = NaiveDate::parse_from_str(text, &format).ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The chrono format of a Java-style pattern: `yyyy` `yy` `MM` `dd` `HH`
/// `mm` `ss` `SSS` (any run length but `yy`), text in single quotes literal;
/// `None` for another ASCII letter.
fn chrono_format(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            let mut text = String::new();
            copy_quoted(&mut chars, &mut text);
            out.push_str(&text.replace('%', "%%"));
            continue;
        }
        if !c.is_ascii_alphabetic() {
            match c {
                '%' => out.push_str("%%"),
                c => out.push(c),
            }
            continue;
        }
        let mut run = 1;
        while chars.next_if_eq(&c).is_some() {
            run += 1;
        }
        out.push_str(match c {
            'y' if run == 2 => "%y",
            'y' => "%Y",
            'M' => "%m",
            'd' => "%d",
            'H' => "%H",
            'm' => "%M",
            's' => "%S",
            'S' => "%3f",
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_timestamp;

    fn at(text: &str) -> i64 {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn every_date_part_of_a_timestamp() {
        use DatePart::*;
        // 2024-12-30 is a Monday in ISO week 1 of 2025.
        let t = at("2024-12-30T13:04:05.007Z");
        let expected = [
            (Year, 2024),
            (Quarter, 4),
            (Month, 12),
            (Week, 1),
            (IsoYear, 2025),
            (Day, 30),
            (DayOfWeek, 1),
            (IsoDayOfWeek, 1),
            (DayOfYear, 365),
            (Hour, 13),
            (Minute, 4),
            (Second, 5),
            (Millisecond, 5_007),
            (Microsecond, 5_007_000),
        ];
        for (part, n) in expected {
            assert_eq!(date_part(t, part), Some(Value::Int(n)), "{part:?}");
        }
        assert_eq!(date_part(-1_500, Epoch), Some(Value::Double(-1.5)));
        // Before 1970 the millisecond field still counts up within the minute.
        assert_eq!(date_part(-1, Millisecond), Some(Value::Int(59_999)));
        let sunday = at("2026-01-04T00:00:00Z");
        assert_eq!(date_part(sunday, DayOfWeek), Some(Value::Int(0)));
        assert_eq!(date_part(sunday, IsoDayOfWeek), Some(Value::Int(7)));
    }

    #[test]
    fn timestamp_diff_counts_whole_units_toward_zero() {
        let (a, b) = (at("2026-01-31T10:00:00Z"), at("2026-03-30T09:59:59.999Z"));
        assert_eq!(timestamp_diff(TimeUnit::Day, a, b), Some(57));
        assert_eq!(timestamp_diff(TimeUnit::Day, b, a), Some(-57));
        assert_eq!(timestamp_diff(TimeUnit::Week, a, b), Some(8));
        assert_eq!(timestamp_diff(TimeUnit::Month, a, b), Some(1));
        assert_eq!(timestamp_diff(TimeUnit::Month, b, a), Some(-1));
        assert_eq!(timestamp_diff(TimeUnit::Quarter, a, b), Some(0));
        let later = at("2028-01-31T10:00:00Z");
        assert_eq!(timestamp_diff(TimeUnit::Year, a, later), Some(2));
        assert_eq!(timestamp_diff(TimeUnit::Month, a, later), Some(24));
        assert_eq!(timestamp_diff(TimeUnit::Second, -1, i64::MAX), None);
    }

    #[test]
    fn timestamp_add_clamps_to_the_end_of_the_month() {
        let jan31 = at("2024-01-31T12:00:00Z");
        assert_eq!(
            timestamp_add(TimeUnit::Month, 1, jan31),
            Some(at("2024-02-29T12:00:00Z"))
        );
        assert_eq!(
            timestamp_add(TimeUnit::Quarter, -1, jan31),
            Some(at("2023-10-31T12:00:00Z"))
        );
        assert_eq!(
            timestamp_add(TimeUnit::Hour, -13, jan31),
            Some(at("2024-01-30T23:00:00Z"))
        );
        assert_eq!(timestamp_add(TimeUnit::Day, i64::MAX, 0), None);
        assert_eq!(timestamp_add(TimeUnit::Year, i64::MAX, 0), None);
    }

    #[test]
    fn to_timestamp_from_text_patterns_and_epoch_seconds() {
        let ts = |v: Value, p: Option<&str>| to_timestamp(&v, p.map(Value::str).as_ref());
        let expected = Some(Value::Timestamp(at("2026-01-02T13:04:05Z")));
        assert_eq!(ts(Value::str("2026-01-02 13:04:05"), None), expected);
        assert_eq!(
            ts(
                Value::str("02/01/2026 13:04:05"),
                Some("dd/MM/yyyy HH:mm:ss")
            ),
            expected
        );
        assert_eq!(
            ts(
                Value::str("2026-01-02T13:04:05"),
                Some("yyyy-MM-dd'T'HH:mm:ss")
            ),
            expected
        );
        assert_eq!(
            ts(Value::str("2026.01.02"), Some("yyyy.MM.dd")),
            Some(Value::Timestamp(at("2026-01-02T00:00:00Z")))
        );
        assert_eq!(
            ts(
                Value::str("13:04:05.250 2026-01-02"),
                Some("HH:mm:ss.SSS yyyy-MM-dd")
            ),
            Some(Value::Timestamp(at("2026-01-02T13:04:05.250Z")))
        );
        assert_eq!(
            ts(
                Value::str("31/13/2026 00:00:00"),
                Some("dd/MM/yyyy HH:mm:ss")
            ),
            None
        );
        assert_eq!(ts(Value::str("x"), Some("hh")), None);
        assert_eq!(ts(Value::str("not a time"), None), None);
        assert_eq!(
            ts(Value::Int(86_400), None),
            Some(Value::Timestamp(MILLIS_PER_DAY))
        );
        assert_eq!(
            ts(Value::Double(-1.5), None),
            Some(Value::Timestamp(-1_500))
        );
        assert_eq!(ts(Value::Double(f64::NAN), None), None);
        assert_eq!(ts(Value::Int(i64::MAX), None), None);
    }
}
