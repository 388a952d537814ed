//! ksqlDB's stream-stream join window: `JOIN b WITHIN 1 HOUR ON ..`, or
//! `WITHIN (10 SECONDS, 1 HOUR)` (before, after), with an optional `GRACE
//! PERIOD <duration>`. sqlparser does not read it, so it is cut out of the
//! query's tokens here and kept beside the query; the planner turns it into
//! the interval join it means: the right row's time between the left row's
//! less `before` and plus `after`, each side's time being its declared
//! event-time column (ksqlDB's `TIMESTAMP` key).

use super::tokens::{is_whitespace, is_word, location_of, next_significant, sql_error};
use crate::data::unit_millis;
use crate::error::{Result, SqlLocation};
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// A `WITHIN` clause of a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Within {
    /// How long before the left row's time a right row may be (ms).
    pub before_ms: i64,
    /// How long after it (ms).
    pub after_ms: i64,
    /// `GRACE PERIOD`: the allowed lateness (ms).
    pub grace_ms: Option<i64>,
    pub location: SqlLocation,
}

/// Removes a join's `WITHIN ..` (not `WITHIN GROUP`) from `tokens`; returns
/// the tokens left and the clause. A query may have one.
pub(super) fn take_within(
    mut tokens: Vec<TokenWithSpan>,
) -> Result<(Vec<TokenWithSpan>, Option<Within>)> {
    let mut found = None;
    let mut i = 0;
    while i < tokens.len() {
        let next = next_significant(&tokens, i + 1);
        if !is_word(tokens.get(i), "WITHIN") || is_word(tokens.get(next), "GROUP") {
            i += 1;
            continue;
        }
        let location = location_of(&tokens[i]);
        if found.is_some() {
            return Err(sql_error(
                "only one join of two streams per query may have WITHIN",
                location,
            ));
        }
        let (within, end) = parse_within(&tokens, i)?;
        found = Some(within);
        tokens.drain(i..end);
    }
    Ok((tokens, found))
}

/// Reads `WITHIN <d> | (<d>, <d>) [GRACE PERIOD <d>]` from `start`;
/// returns it and the index just past it.
fn parse_within(tokens: &[TokenWithSpan], start: usize) -> Result<(Within, usize)> {
    let location = location_of(&tokens[start]);
    let mut i = next_significant(tokens, start + 1);
    let (before_ms, after_ms) = if tokens.get(i).map(|t| &t.token) == Some(&Token::LParen) {
        let (before, end) = duration_at(tokens, next_significant(tokens, i + 1), location)?;
        let comma = next_significant(tokens, end);
        if tokens.get(comma).map(|t| &t.token) != Some(&Token::Comma) {
            return Err(expected(
                tokens,
                comma,
                location,
                "`,` between the two durations",
            ));
        }
        let (after, end) = duration_at(tokens, next_significant(tokens, comma + 1), location)?;
        let close = next_significant(tokens, end);
        if tokens.get(close).map(|t| &t.token) != Some(&Token::RParen) {
            return Err(expected(tokens, close, location, "`)`"));
        }
        i = close + 1;
        (before, after)
    } else {
        let (both, end) = duration_at(tokens, i, location)?;
        i = end;
        (both, both)
    };
    let grace = next_significant(tokens, i);
    let mut grace_ms = None;
    if is_word(tokens.get(grace), "GRACE") {
        let period = next_significant(tokens, grace + 1);
        if !is_word(tokens.get(period), "PERIOD") {
            return Err(expected(tokens, period, location, "PERIOD after GRACE"));
        }
        let (ms, end) = duration_at(tokens, next_significant(tokens, period + 1), location)?;
        grace_ms = Some(ms);
        i = end;
    }
    let within = Within {
        before_ms,
        after_ms,
        grace_ms,
        location,
    };
    Ok((within, i))
}

/// `<number> <unit>` at `at`: milliseconds and the index past the unit.
fn duration_at(tokens: &[TokenWithSpan], at: usize, clause: SqlLocation) -> Result<(i64, usize)> {
    let unit_at = next_significant(tokens, at + 1);
    let (Some(number), Some(unit)) = (tokens.get(at), tokens.get(unit_at)) else {
        return Err(expected(tokens, at, clause, "a duration such as 1 HOUR"));
    };
    let (Token::Number(n, _), Token::Word(w)) = (&number.token, &unit.token) else {
        return Err(expected(tokens, at, clause, "a duration such as 1 HOUR"));
    };
    let unit_ms = unit_millis(&w.value).ok_or_else(|| {
        sql_error(
            format!(
                "unknown time unit {} (use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS)",
                w.value
            ),
            location_of(unit),
        )
    })?;
    let ms = n
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_ms))
        .ok_or_else(|| {
            sql_error(
                format!("{n} {} is not a duration", w.value),
                location_of(number),
            )
        })?;
    Ok((ms, unit_at + 1))
}

fn expected(
    tokens: &[TokenWithSpan],
    at: usize,
    clause: SqlLocation,
    what: &str,
) -> crate::error::Error {
    let found = tokens
        .get(at)
        .filter(|t| !is_whitespace(t) && t.token != Token::EOF);
    match found {
        Some(token) => sql_error(
            format!("WITHIN: expected {what}, found {}", token.token),
            location_of(token),
        ),
        None => sql_error(format!("WITHIN: expected {what}"), clause),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::tokens::tokenize;

    fn cut(sql: &str) -> (String, Option<Within>) {
        let (tokens, within) = take_within(tokenize(sql).expect("tokens")).expect("parses");
        let text: String = tokens
            .iter()
            .filter(|t| t.token != Token::EOF)
            .map(|t| t.token.to_string())
            .collect();
        (text, within)
    }

    #[test]
    fn one_duration_bounds_both_ways_two_are_before_and_after() {
        let (text, within) = cut("SELECT 1 FROM a JOIN b WITHIN 1 HOUR ON a.k = b.k");
        assert_eq!(text, "SELECT 1 FROM a JOIN b  ON a.k = b.k");
        let within = within.expect("a clause");
        assert_eq!((within.before_ms, within.after_ms), (3_600_000, 3_600_000));
        assert_eq!(within.grace_ms, None);
        let (text, within) = cut(
            "SELECT 1 FROM a JOIN b WITHIN (10 SECONDS, 2 MINUTES) GRACE PERIOD 5 SECONDS ON x",
        );
        assert_eq!(text, "SELECT 1 FROM a JOIN b  ON x");
        let within = within.expect("a clause");
        assert_eq!((within.before_ms, within.after_ms), (10_000, 120_000));
        assert_eq!(within.grace_ms, Some(5_000));
    }

    #[test]
    fn within_group_is_left_alone_and_bad_durations_are_named() {
        let sql = "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x) FROM t";
        assert_eq!(cut(sql).1, None);
        let error = |sql: &str| {
            take_within(tokenize(sql).expect("tokens"))
                .unwrap_err()
                .to_string()
        };
        assert!(error("SELECT 1 FROM a JOIN b WITHIN 1 FORTNIGHT ON x")
            .contains("unknown time unit FORTNIGHT"));
        assert!(error("SELECT 1 FROM a JOIN b WITHIN (1 HOUR) ON x").contains("expected `,`"));
        assert!(error("SELECT 1 FROM a JOIN b WITHIN ON x").contains("expected a duration"));
    }
}
