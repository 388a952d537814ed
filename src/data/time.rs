//! Timestamps (i64 milliseconds, UTC) and durations: parsing and printing.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use std::fmt::Write;

/// Parses ISO-8601 text (`2026-01-01T00:00:10Z`, `2026-01-01T00:00:10.250+02:00`,
/// `2026-01-01 00:00:10`, `2026-01-01`) into epoch milliseconds. Text without an
/// offset is UTC.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(t.timestamp_millis());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// `2026-01-01T00:00:10.000Z`.
pub fn format_timestamp(millis: i64) -> String {
    let mut s = String::with_capacity(24);
    write_timestamp(millis, &mut s);
    s
}

/// Appends the ISO-8601 form of `millis` to `out`.
pub fn write_timestamp(millis: i64, out: &mut String) {
    match DateTime::<Utc>::from_timestamp_millis(millis) {
        Some(t) => out.push_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        None => {
            let _ = write!(out, "{millis}");
        }
    }
}

/// Milliseconds in a day: a DATE is a TIMESTAMP at the midnight (UTC) that
/// starts its day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// The DATE (days since 1970-01-01) of a timestamp's day (UTC); `None`
/// past the range of a DATE.
pub fn date_of(millis: i64) -> Option<i32> {
    i32::try_from(millis.div_euclid(MILLIS_PER_DAY)).ok()
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01. Text with a time of day
/// is no DATE here (CAST takes it: see the engine's casts).
pub fn parse_date(text: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from(date.signed_duration_since(epoch).num_days()).ok()
}

/// Appends `YYYY-MM-DD` of `days` since 1970-01-01 to `out`.
pub fn write_date(days: i32, out: &mut String) {
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days.into())));
    match date {
        Some(date) => {
            let _ = write!(out, "{}", date.format("%Y-%m-%d"));
        }
        None => {
            let _ = write!(out, "{days}");
        }
    }
}

/// Parses a duration into milliseconds: the shorthand `500ms`, `10s`, `5m`,
/// `1h`, `1d`, or a number and a unit word (`10 seconds`, `1 MINUTE`). A bare
/// number is milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (expected e.g. 10s, 500ms, 5m, 1h)"))?;
    let unit_ms = unit_millis(unit.trim()).ok_or_else(|| {
        format!("'{text}' has an unknown time unit (use ms, s, m, h or d, or SECOND, MINUTE, ...)")
    })?;
    let millis = number * unit_ms as f64;
    if !millis.is_finite() || millis < 0.0 || millis > i64::MAX as f64 / 2.0 {
        return Err(format!("duration '{text}' is out of range"));
    }
    Ok(millis.round() as i64)
}

/// Milliseconds in one `unit` (`s`, `second`, `SECONDS`, ...).
pub fn unit_millis(unit: &str) -> Option<i64> {
    let unit = unit.to_ascii_lowercase();
    let ms = match unit.as_str() {
        "" | "ms" | "millisecond" | "milliseconds" | "millis" => 1,
        "s" | "sec" | "second" | "seconds" | "secs" => 1_000,
        "m" | "min" | "minute" | "minutes" | "mins" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        _ => return None,
    };
    Some(ms)
}

/// Shortest shorthand for a duration: `10s`, `500ms`, `5m`.
pub fn format_duration(millis: i64) -> String {
    for (unit, ms) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if millis != 0 && millis % ms == 0 {
            return format!("{}{unit}", millis / ms);
        }
    }
    format!("{millis}ms")
}

/// A value as event time in ms: a TIMESTAMP, epoch milliseconds, or text
/// that parses as a timestamp.
pub fn time_value(v: &super::Value) -> Option<i64> {
    match v {
        super::Value::Timestamp(t) | super::Value::Int(t) => Some(*t),
        super::Value::Str(s) => parse_timestamp(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2026-01-01T00:00:10.000Z").unwrap();
        assert_eq!(format_timestamp(t), "2026-01-01T00:00:10.000Z");
        assert_eq!(parse_timestamp("2026-01-01 00:00:10"), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T02:00:10+02:00"), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T00:00:10.250"), Some(t + 250));
        assert_eq!(parse_timestamp("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn dates_round_trip_and_are_the_days_of_timestamps() {
        for (text, days) in [("1970-01-01", 0), ("1969-12-31", -1), ("2026-03-15", 20527)] {
            assert_eq!(parse_date(text), Some(days), "{text}");
            let mut written = String::new();
            write_date(days, &mut written);
            assert_eq!(written, text);
        }
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-03-15 10:00:00"), None);
        assert_eq!(date_of(-1), Some(-1));
        assert_eq!(date_of(MILLIS_PER_DAY * 20527 + 5), Some(20527));
        assert_eq!(date_of(i64::MAX), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("10s"), Ok(10_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000));
        assert_eq!(parse_duration("10 SECONDS"), Ok(10_000));
        assert_eq!(parse_duration("1 minute"), Ok(60_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("fast").is_err());
        assert_eq!(format_duration(10_000), "10s");
        assert_eq!(format_duration(1_500), "1500ms");
    }
}
