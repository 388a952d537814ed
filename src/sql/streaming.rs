//! corestream's streaming clauses: finds `WINDOW TUMBLING|SLIDING|SESSION (..)`
//! (and ksqlDB's `HOPPING` and forms, see [`super::ksql`]),
//! `EMIT CHANGES|FINAL|ON WINDOW CLOSE` and `WITH ('k' = 'v', ..)` at the top level of a query's
//! tokens, cuts them out, and parses their arguments with sqlparser. What is
//! left is a standard query for sqlparser.

use super::ast::{EmitClause, SqlExpr, WindowClause, WindowFunction};
use super::ksql::{is_ksql_window, parse_ksql_window, rowtime, KsqlWindow};
use super::tokens::{
    from_parser_error, is_word, location_of, next_significant, parser_for, previous_significant,
    sql_error, unquoted_word,
};
use crate::error::{Error, Result, SqlLocation};
use sqlparser::ast::{BinaryOperator, UnaryOperator, Value};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// The streaming clauses found in one query.
#[derive(Debug, Default)]
pub(super) struct StreamingClauses {
    pub window: Option<WindowClause>,
    pub emit: Option<EmitClause>,
    /// ksqlDB's `GRACE PERIOD` of the window, as duration text.
    pub grace: Option<String>,
    /// `WITH (..)` properties, and where the `WITH` was written.
    pub properties: Option<(Vec<(String, String)>, SqlLocation)>,
}

/// Words after which `EMIT` is an identifier (a column or alias named `emit`)
/// rather than the start of an EMIT clause.
const WORDS_AFTER_IDENTIFIER: &[&str] = &[
    "FROM",
    "AS",
    "AND",
    "OR",
    "IS",
    "IN",
    "NOT",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "WINDOW",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "ON",
    "USING",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "ASC",
    "DESC",
    "NULLS",
    "THEN",
    "WHEN",
    "ELSE",
    "END",
    "WITH",
    "FETCH",
    "QUALIFY",
    "COLLATE",
    "ESCAPE",
];

/// Cuts the streaming clauses out of a query's tokens (which end in EOF).
pub(super) fn extract_streaming_clauses(
    mut tokens: Vec<TokenWithSpan>,
) -> Result<(Vec<TokenWithSpan>, StreamingClauses)> {
    let mut clauses = StreamingClauses::default();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                if let Some(end) = try_clause(&tokens, i, &mut clauses)? {
                    tokens.drain(i..end);
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok((tokens, clauses))
}

/// If a streaming clause starts at `start`, records it and returns the index
/// just past it.
fn try_clause(
    tokens: &[TokenWithSpan],
    start: usize,
    clauses: &mut StreamingClauses,
) -> Result<Option<usize>> {
    let token = &tokens[start];
    let Some(word) = unquoted_word(Some(token)) else {
        return Ok(None);
    };
    match word.keyword {
        Keyword::WINDOW if !is_named_window(tokens, start) => {
            let ((window, grace), end) = parse_window(tokens, start)?;
            reject_duplicate(clauses.window.is_some(), "WINDOW", token)?;
            clauses.window = Some(window);
            clauses.grace = grace;
            Ok(Some(end))
        }
        Keyword::WITH if is_properties(tokens, start) => {
            let (properties, end) = parse_properties(tokens, start)?;
            reject_duplicate(clauses.properties.is_some(), "WITH", token)?;
            clauses.properties = Some((properties, location_of(token)));
            Ok(Some(end))
        }
        Keyword::PARTITION if is_word(tokens.get(next_significant(tokens, start + 1)), "BY") => {
            Err(sql_error(
                "ksqlDB's PARTITION BY (re-keying a query's output) is not supported: a \
                 Kafka sink takes its message key from WITH ('key.fields' = 'col, ..')",
                location_of(token),
            ))
        }
        _ if word.value.eq_ignore_ascii_case("EMIT") && is_emit_clause(tokens, start) => {
            let (emit, end) = parse_emit(tokens, start)?;
            reject_duplicate(clauses.emit.is_some(), "EMIT", token)?;
            clauses.emit = Some(emit);
            Ok(Some(end))
        }
        _ => Ok(None),
    }
}

fn reject_duplicate(seen: bool, clause: &str, token: &TokenWithSpan) -> Result<()> {
    if seen {
        return Err(sql_error(
            format!("{clause} clause written twice"),
            location_of(token),
        ));
    }
    Ok(())
}

/// `WINDOW w AS (..)`: a standard named window, left to sqlparser.
fn is_named_window(tokens: &[TokenWithSpan], window: usize) -> bool {
    let name = next_significant(tokens, window + 1);
    let after_name = next_significant(tokens, name + 1);
    matches!(tokens.get(name).map(|t| &t.token), Some(Token::Word(_)))
        && is_word(tokens.get(after_name), "AS")
}

/// `WITH (` at the top level: properties (a CTE is `WITH name AS (`).
fn is_properties(tokens: &[TokenWithSpan], with: usize) -> bool {
    let next = next_significant(tokens, with + 1);
    matches!(tokens.get(next).map(|t| &t.token), Some(Token::LParen))
}

/// `EMIT` starts a clause unless it is plainly an identifier: after `AS` or
/// `.`, or followed by punctuation or a word that follows identifiers.
fn is_emit_clause(tokens: &[TokenWithSpan], emit: usize) -> bool {
    let before = previous_significant(tokens, emit).map(|i| &tokens[i]);
    if is_word(before, "AS") || matches!(before.map(|t| &t.token), Some(Token::Period)) {
        return false;
    }
    let next_at = next_significant(tokens, emit + 1);
    if on_window_close(tokens, next_at).is_some() {
        return true;
    }
    let next = tokens.get(next_at);
    match next.map(|t| &t.token) {
        None | Some(Token::EOF) => true,
        Some(Token::Word(word)) if word.quote_style.is_none() => !WORDS_AFTER_IDENTIFIER
            .iter()
            .any(|w| word.value.eq_ignore_ascii_case(w)),
        _ => false,
    }
}

fn parse_emit(tokens: &[TokenWithSpan], emit: usize) -> Result<(EmitClause, usize)> {
    let kind_at = next_significant(tokens, emit + 1);
    let kind = tokens.get(kind_at);
    if let Some(end) = on_window_close(tokens, kind_at) {
        return Ok((EmitClause::Final, end));
    }
    let clause = if is_word(kind, "CHANGES") {
        EmitClause::Changes
    } else if is_word(kind, "FINAL") {
        EmitClause::Final
    } else {
        return Err(expected_error(
            "CHANGES or FINAL after EMIT",
            tokens,
            kind_at,
        ));
    };
    Ok((clause, kind_at + 1))
}

/// RisingWave's `ON WINDOW CLOSE` (after EMIT, at `on`): the index past it.
fn on_window_close(tokens: &[TokenWithSpan], on: usize) -> Option<usize> {
    let window = next_significant(tokens, on + 1);
    let close = next_significant(tokens, window + 1);
    let written = is_word(tokens.get(on), "ON")
        && is_word(tokens.get(window), "WINDOW")
        && is_word(tokens.get(close), "CLOSE");
    written.then_some(close + 1)
}

fn parse_window(tokens: &[TokenWithSpan], window: usize) -> Result<(KsqlWindow, usize)> {
    let function_at = next_significant(tokens, window + 1);
    let function = window_function(tokens.get(function_at)).ok_or_else(|| {
        expected_error(
            "TUMBLING, SLIDING or SESSION after WINDOW",
            tokens,
            function_at,
        )
    })?;
    let open = next_significant(tokens, function_at + 1);
    if !matches!(tokens.get(open).map(|t| &t.token), Some(Token::LParen)) {
        let name = format!("( after WINDOW {}", window_name(function));
        return Err(expected_error(&name, tokens, open));
    }
    let close = matching_paren(tokens, open)?;
    let ksql = is_ksql_window(&tokens[open + 1..close]);
    if is_word(tokens.get(function_at), "HOPPING") && !ksql {
        return Err(expected_error(
            "TUMBLING, SLIDING or SESSION after WINDOW",
            tokens,
            function_at,
        ));
    }
    if ksql {
        let parsed = parse_ksql_window(function, &tokens[open + 1..close], &tokens[window])?;
        return Ok((parsed, close + 1));
    }
    let mut args = parse_window_args(&tokens[open + 1..=close], location_of(&tokens[open]))?;
    if starts_with_duration(&args) {
        args.insert(0, rowtime(&tokens[window]));
    }
    let clause = WindowClause {
        function,
        args,
        location: location_of(&tokens[window]),
    };
    Ok(((clause, None), close + 1))
}

/// Velostream's `WINDOW TUMBLING(1m)`, `SLIDING(5m, 1m)`, `SESSION(30s)`
/// leave the time column out: it is the source's event time (`ROWTIME`).
fn starts_with_duration(args: &[SqlExpr]) -> bool {
    matches!(args.first(), Some(SqlExpr::Interval(_)))
}

fn window_function(token: Option<&TokenWithSpan>) -> Option<WindowFunction> {
    if is_word(token, "TUMBLING") {
        Some(WindowFunction::Tumbling)
    } else if is_word(token, "SLIDING") || is_word(token, "HOPPING") {
        Some(WindowFunction::Sliding)
    } else if is_word(token, "SESSION") {
        Some(WindowFunction::Session)
    } else {
        None
    }
}

fn window_name(function: WindowFunction) -> &'static str {
    match function {
        WindowFunction::Tumbling => "TUMBLING",
        WindowFunction::Sliding => "SLIDING",
        WindowFunction::Session => "SESSION",
    }
}

/// Index of the `)` matching the `(` at `open`.
pub(super) fn matching_paren(tokens: &[TokenWithSpan], open: usize) -> Result<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err(sql_error(
        "this ( is never closed",
        location_of(&tokens[open]),
    ))
}

/// Parses `expr, expr, .. )` (the tokens after the `(`, through the `)`).
fn parse_window_args(tokens: &[TokenWithSpan], open: SqlLocation) -> Result<Vec<SqlExpr>> {
    let mut parser = parser_for(tokens.to_vec());
    parse_args(&mut parser).map_err(|e| from_parser_error(e, open))
}

fn parse_args(parser: &mut Parser) -> Result<Vec<SqlExpr>, ParserError> {
    let mut args = Vec::new();
    if parser.consume_token(&Token::RParen) {
        return Ok(args);
    }
    loop {
        args.push(parser.parse_expr()?);
        let next = parser.next_token();
        match next.token {
            Token::Comma => continue,
            Token::RParen => return Ok(args),
            _ => return parser.expected(", or )", next),
        }
    }
}

/// Parses `WITH ('k' = 'v', ..)` starting at the `WITH` token. Returns the
/// properties (keys lower-cased) and the index just past the `)`.
pub(super) fn parse_properties(
    tokens: &[TokenWithSpan],
    with: usize,
) -> Result<(Vec<(String, String)>, usize)> {
    let open = next_significant(tokens, with + 1);
    if !matches!(tokens.get(open).map(|t| &t.token), Some(Token::LParen)) {
        return Err(expected_error("( after WITH", tokens, open));
    }
    let close = matching_paren(tokens, open)?;
    let mut parser = parser_for(tokens[open + 1..=close].to_vec());
    let fallback = location_of(&tokens[open]);
    let mut properties = Vec::new();
    if parser.consume_token(&Token::RParen) {
        return Ok((properties, close + 1));
    }
    loop {
        let start = location_of(&parser.peek_token());
        let item = parser
            .parse_expr()
            .map_err(|e| from_parser_error(e, fallback))?;
        properties.push(property(item, start)?);
        let next = parser.next_token();
        match next.token {
            Token::Comma => continue,
            Token::RParen => return Ok((properties, close + 1)),
            _ => {
                return Err(sql_error(
                    format!("expected , or ) in WITH properties, found {}", next.token),
                    location_of(&next),
                ))
            }
        }
    }
}

/// One `'key' = value` item.
fn property(item: SqlExpr, location: SqlLocation) -> Result<(String, String)> {
    let not_a_property = || {
        sql_error(
            format!("expected 'key' = 'value' in WITH properties, found {item}"),
            location,
        )
    };
    let SqlExpr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = &item
    else {
        return Err(not_a_property());
    };
    let key = property_key(left).ok_or_else(not_a_property)?;
    let value = property_value(right).ok_or_else(not_a_property)?;
    Ok((key.to_ascii_lowercase(), value))
}

fn property_key(expr: &SqlExpr) -> Option<String> {
    match expr {
        SqlExpr::Identifier(ident) => Some(ident.value.clone()),
        SqlExpr::CompoundIdentifier(parts) => Some(
            parts
                .iter()
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
        ),
        SqlExpr::Value(v) => string_value(&v.value),
        _ => None,
    }
}

fn property_value(expr: &SqlExpr) -> Option<String> {
    match expr {
        SqlExpr::Identifier(ident) => Some(ident.value.clone()),
        SqlExpr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(n.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            other => string_value(other),
        },
        SqlExpr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => property_value(expr).map(|v| format!("-{v}")),
        _ => None,
    }
}

fn string_value(value: &Value) -> Option<String> {
    match value {
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
        _ => None,
    }
}

/// "expected X, found Y" at the token at `index` (or the statement's end).
fn expected_error(expected: &str, tokens: &[TokenWithSpan], index: usize) -> Error {
    let token = tokens
        .get(index)
        .or_else(|| tokens.last())
        .cloned()
        .unwrap_or_else(TokenWithSpan::new_eof);
    sql_error(
        format!("expected {expected}, found {}", token.token),
        location_of(&token),
    )
}
