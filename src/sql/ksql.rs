//! ksqlDB's window clauses: `WINDOW TUMBLING (SIZE 1 MINUTE)`,
//! `WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 10 SECONDS)`,
//! `WINDOW SESSION (30 SECONDS)`, each with an optional
//! `GRACE PERIOD <duration>` (and `RETENTION <duration>`, accepted and
//! ignored). A duration `<number> <unit>` becomes the string literal
//! `'<number> <unit>'`, placed where the number was written. ksqlDB windows
//! take their time from `ROWTIME`, so the clause's time column is the
//! identifier `ROWTIME`, which the planner maps to the source's event-time
//! column. The grace period is returned as text, for `allowed_lateness`.

use super::ast::{SqlExpr, WindowClause, WindowFunction};
use super::tokens::{is_whitespace, is_word, location_of, sql_error};
use crate::data::unit_millis;
use crate::error::{Error, Result};
use sqlparser::ast::{Ident, Value, ValueWithSpan};
use sqlparser::tokenizer::{Span, Token, TokenWithSpan};

/// True when the window's arguments (`tokens` between the parentheses) are
/// in ksqlDB's form: they start with `SIZE`, or are `<number> <unit>`.
pub(super) fn is_ksql_window(tokens: &[TokenWithSpan]) -> bool {
    let words = significant(tokens);
    match words.as_slice() {
        [first, ..] if is_word(Some(first), "SIZE") => true,
        [number, unit, ..] => {
            matches!(number.token, Token::Number(..)) && matches!(unit.token, Token::Word(_))
        }
        _ => false,
    }
}

/// A ksqlDB window clause and its grace period (`'10 SECONDS'`), if any.
pub(super) type KsqlWindow = (WindowClause, Option<String>);

/// Parses ksqlDB's window arguments (the tokens between the parentheses).
pub(super) fn parse_ksql_window(
    function: WindowFunction,
    tokens: &[TokenWithSpan],
    window: &TokenWithSpan,
) -> Result<KsqlWindow> {
    let mut size = None;
    let mut advance = None;
    let mut grace = None;
    for item in significant(tokens).split(|t| t.token == Token::Comma) {
        let Some(head) = item.first() else {
            return Err(sql_error(
                "empty item in the window's (..)",
                location_of(window),
            ));
        };
        if is_word(Some(head), "SIZE") {
            size = Some(duration(&item[1..], head)?);
        } else if is_word(Some(head), "ADVANCE") && is_word(item.get(1).copied(), "BY") {
            advance = Some(duration(&item[2..], head)?);
        } else if is_word(Some(head), "GRACE") && is_word(item.get(1).copied(), "PERIOD") {
            grace = Some(duration(&item[2..], head)?);
        } else if is_word(Some(head), "RETENTION") {
            duration(&item[1..], head)?;
        } else if function == WindowFunction::Session && size.is_none() {
            size = Some(duration(item, head)?);
        } else {
            return Err(sql_error(
                format!(
                    "expected SIZE, ADVANCE BY, GRACE PERIOD or RETENTION in the window, found {}",
                    head.token
                ),
                location_of(head),
            ));
        }
    }
    let mut args = vec![rowtime(window)];
    args.extend(ksql_args(function, size, advance, window)?);
    let clause = WindowClause {
        function,
        args,
        location: location_of(window),
    };
    let grace = grace.map(|g| match g {
        SqlExpr::Value(v) => v.value.into_string().unwrap_or_default(),
        other => other.to_string(),
    });
    Ok((clause, grace))
}

/// The identifier `ROWTIME`, placed at the `WINDOW` keyword.
pub(super) fn rowtime(window: &TokenWithSpan) -> SqlExpr {
    SqlExpr::Identifier(Ident::with_span(window.span, "ROWTIME"))
}

/// The window's arguments in corestream's order: size (or gap), advance.
fn ksql_args(
    function: WindowFunction,
    size: Option<SqlExpr>,
    advance: Option<SqlExpr>,
    window: &TokenWithSpan,
) -> Result<Vec<SqlExpr>> {
    let usage = match function {
        WindowFunction::Tumbling => "WINDOW TUMBLING (SIZE <duration>)",
        WindowFunction::Sliding => "WINDOW HOPPING (SIZE <duration>, ADVANCE BY <duration>)",
        WindowFunction::Session => "WINDOW SESSION (<duration>)",
    };
    let wrong = || {
        sql_error(
            format!("the window must be written {usage}"),
            location_of(window),
        )
    };
    match (function, size, advance) {
        (WindowFunction::Sliding, Some(size), Some(advance)) => Ok(vec![size, advance]),
        (WindowFunction::Sliding, _, _) => Err(wrong()),
        (_, Some(size), None) => Ok(vec![size]),
        _ => Err(wrong()),
    }
}

/// `<number> <unit>` as the literal `'<number> <unit>'`.
fn duration(item: &[&TokenWithSpan], at: &TokenWithSpan) -> Result<SqlExpr> {
    match item {
        [number, unit] => match (&number.token, &unit.token) {
            (Token::Number(_, _), Token::Word(w)) if unit_millis(&w.value).is_none() => {
                Err(sql_error(
                    format!(
                        "unknown time unit {} (use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS)",
                        w.value
                    ),
                    location_of(unit),
                ))
            }
            (Token::Number(n, _), Token::Word(w)) => Ok(SqlExpr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(format!("{n} {}", w.value)),
                span: Span::new(number.span.start, unit.span.end),
            })),
            _ => Err(expected_duration(number)),
        },
        [first, ..] => Err(expected_duration(first)),
        [] => Err(expected_duration(at)),
    }
}

fn expected_duration(token: &TokenWithSpan) -> Error {
    sql_error(
        format!(
            "expected a duration such as 1 MINUTE or 30 SECONDS, found {}",
            token.token
        ),
        location_of(token),
    )
}

fn significant(tokens: &[TokenWithSpan]) -> Vec<&TokenWithSpan> {
    tokens.iter().filter(|t| !is_whitespace(t)).collect()
}

/// ksqlDB's WITH keys of a stream or table, in corestream's terms:
/// `KAFKA_TOPIC` is a Kafka source or sink on that topic (`connector` =
/// `kafka`, `topic`), and `VALUE_FORMAT` its format (`JSON` is `json`,
/// `DELIMITED` is `csv`). ksqlDB's `TIMESTAMP` is corestream's key of the
/// same name already. The broker comes from `properties.bootstrap.servers`,
/// which ksqlDB keeps in its server's settings. A `source` read without a
/// consumer group or a startup mode starts at the latest offsets, as
/// ksqlDB's queries do (`auto.offset.reset` = `latest`).
pub(super) fn ksql_properties(
    properties: Vec<(String, String)>,
    source: bool,
) -> Result<Vec<(String, String)>> {
    let has = |key: &str| properties.iter().any(|(k, _)| k == key);
    let (has_connector, has_format) = (has("connector"), has("format"));
    let starts_latest =
        source && has("kafka_topic") && !has("scan.startup.mode") && !has("properties.group.id");
    let mut mapped = Vec::with_capacity(properties.len() + 1);
    for (key, value) in properties {
        match key.as_str() {
            "kafka_topic" => {
                if !has_connector {
                    mapped.push(("connector".to_string(), "kafka".to_string()));
                }
                mapped.push(("topic".to_string(), value));
            }
            "value_format" if !has_format => {
                mapped.push(("format".to_string(), format_of(&value)?))
            }
            _ => mapped.push((key, value)),
        }
    }
    if starts_latest {
        mapped.push(("scan.startup.mode".to_string(), "latest-offset".to_string()));
    }
    Ok(mapped)
}

/// corestream's format for ksqlDB's `VALUE_FORMAT`.
fn format_of(value_format: &str) -> Result<String> {
    match value_format.to_ascii_uppercase().as_str() {
        "JSON" => Ok("json".to_string()),
        "DELIMITED" => Ok("csv".to_string()),
        other => Err(Error::Usage(format!(
            "VALUE_FORMAT '{other}' is not supported: corestream reads and writes JSON and \
             DELIMITED (CSV)"
        ))),
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn pairs(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kafka_topic_and_value_format_become_corestreams_keys() {
        let mapped = ksql_properties(
            pairs(&[
                ("kafka_topic", "trades"),
                ("value_format", "Delimited"),
                ("timestamp", "ts"),
            ]),
            true,
        )
        .expect("maps");
        assert_eq!(
            mapped,
            pairs(&[
                ("connector", "kafka"),
                ("topic", "trades"),
                ("format", "csv"),
                ("timestamp", "ts"),
                ("scan.startup.mode", "latest-offset")
            ])
        );
        let sink = ksql_properties(pairs(&[("kafka_topic", "out")]), false).expect("maps");
        assert_eq!(sink, pairs(&[("connector", "kafka"), ("topic", "out")]));
    }

    #[test]
    fn other_formats_are_refused_by_name() {
        let error = ksql_properties(pairs(&[("value_format", "AVRO")]), true).expect_err("avro");
        assert!(error.to_string().contains("VALUE_FORMAT 'AVRO'"), "{error}");
    }
}
