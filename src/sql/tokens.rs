//! Token plumbing shared by the SQL front end: tokenizing a script, splitting it
//! into statements, rewriting duration shorthand (`10s`), walking tokens while
//! skipping whitespace, and turning sqlparser errors into [`Error::Sql`] with a
//! [`SqlLocation`].

use crate::error::{Error, SqlLocation};
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Word};
use std::ops::Range;

/// The dialect every part of the front end parses with.
pub(super) const DIALECT: GenericDialect = GenericDialect {};

/// A sqlparser parser over `tokens`, with the recursion limit set above
/// what the nesting check lets through.
pub(super) fn parser_for(tokens: Vec<TokenWithSpan>) -> Parser<'static> {
    Parser::new(&DIALECT)
        .with_recursion_limit(super::nesting::PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
}

/// Tokenizes a whole script, keeping whitespace tokens and locations.
pub(super) fn tokenize(text: &str) -> Result<Vec<TokenWithSpan>, Error> {
    Tokenizer::new(&DIALECT, text)
        .tokenize_with_location()
        .map_err(|e| sql_error(e.message, to_sql_location(e.location)))
}

/// Splits tokens at `;` into statements, dropping those holding only
/// whitespace. Each statement ends with an EOF token placed right after its
/// last real token, so "found: EOF" errors still carry a location.
pub(super) fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon => push_statement(&mut statements, std::mem::take(&mut current)),
            Token::EOF => {}
            _ => current.push(token),
        }
    }
    push_statement(&mut statements, current);
    statements
}

fn push_statement(statements: &mut Vec<Vec<TokenWithSpan>>, mut tokens: Vec<TokenWithSpan>) {
    let Some(last) = tokens.iter().rev().find(|t| !is_whitespace(t)) else {
        return;
    };
    let end = last.span.end;
    tokens.push(TokenWithSpan::at(Token::EOF, end, end));
    statements.push(tokens);
}

pub(super) fn is_whitespace(token: &TokenWithSpan) -> bool {
    matches!(token.token, Token::Whitespace(_))
}

/// Index of the first non-whitespace token at or after `from` (may be `len`).
pub(super) fn next_significant(tokens: &[TokenWithSpan], from: usize) -> usize {
    let mut i = from;
    while i < tokens.len() && is_whitespace(&tokens[i]) {
        i += 1;
    }
    i
}

/// Index of the last non-whitespace token before `before`, if any.
pub(super) fn previous_significant(tokens: &[TokenWithSpan], before: usize) -> Option<usize> {
    (0..before).rev().find(|&i| !is_whitespace(&tokens[i]))
}

/// The elements of the bracketed list that opens at the first `(` at or
/// after `from` (a column list): each element's token range, from just
/// after its `(` or `,` to its closing `,` or `)`. Brackets inside an
/// element (`TIMESTAMP(3)`) do not split it. An element left unclosed is
/// not listed.
pub(super) fn list_elements(tokens: &[TokenWithSpan], from: usize) -> Vec<Range<usize>> {
    let mut elements = Vec::new();
    let Some(open) = (from..tokens.len()).find(|&i| tokens[i].token == Token::LParen) else {
        return elements;
    };
    let mut depth = 0usize;
    let mut start = open + 1;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 1 => {
                elements.push(start..i);
                break;
            }
            Token::RParen => depth -= 1,
            Token::Comma if depth == 1 => {
                elements.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    elements
}

/// The unquoted word of `token`, if it is one.
pub(super) fn unquoted_word(token: Option<&TokenWithSpan>) -> Option<&Word> {
    match token.map(|t| &t.token) {
        Some(Token::Word(word)) if word.quote_style.is_none() => Some(word),
        _ => None,
    }
}

/// True if `token` is the unquoted word `name` (case-insensitive).
pub(super) fn is_word(token: Option<&TokenWithSpan>, name: &str) -> bool {
    unquoted_word(token).is_some_and(|w| w.value.eq_ignore_ascii_case(name))
}

/// Rewrites `10s`, `500ms`, `5m`, `1h`, `2d` (a number directly followed by a
/// unit word) into `INTERVAL '10s'`.
pub(super) fn expand_duration_shorthand(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        let unit = match (&token.token, iter.peek()) {
            (Token::Number(number, false), Some(next)) => shorthand_unit(next)
                .filter(|_| adjacent(&token, next))
                .map(|unit| format!("{number}{unit}")),
            _ => None,
        };
        match unit {
            Some(literal) => {
                let unit_token = iter.next().map(|t| t.span).unwrap_or(token.span);
                out.push(TokenWithSpan::new(interval_keyword(), token.span));
                out.push(TokenWithSpan::new(
                    Token::SingleQuotedString(literal),
                    Span::new(token.span.start, unit_token.end),
                ));
            }
            None => out.push(token),
        }
    }
    out
}

fn shorthand_unit(token: &TokenWithSpan) -> Option<&str> {
    const UNITS: [&str; 5] = ["ms", "s", "m", "h", "d"];
    let word = unquoted_word(Some(token))?;
    UNITS
        .iter()
        .any(|unit| word.value.eq_ignore_ascii_case(unit))
        .then_some(word.value.as_str())
}

/// True if `second` starts exactly where `first` ends (no whitespace between).
fn adjacent(first: &TokenWithSpan, second: &TokenWithSpan) -> bool {
    first.span.end == second.span.start
}

fn interval_keyword() -> Token {
    Token::Word(Word {
        value: "INTERVAL".to_string(),
        quote_style: None,
        keyword: Keyword::INTERVAL,
    })
}

pub(super) fn to_sql_location(location: Location) -> SqlLocation {
    SqlLocation {
        line: location.line,
        column: location.column,
    }
}

pub(super) fn location_of(token: &TokenWithSpan) -> SqlLocation {
    to_sql_location(token.span.start)
}

pub(super) fn sql_error(message: impl Into<String>, location: SqlLocation) -> Error {
    Error::Sql {
        message: message.into(),
        location,
    }
}

/// Converts a sqlparser error. Its text ends in "at Line: X, Column: Y" when
/// the parser knew the place; that becomes the location and is cut from the
/// message. Without one, `fallback` is used.
pub(super) fn from_parser_error(error: ParserError, fallback: SqlLocation) -> Error {
    let text = match error {
        ParserError::ParserError(text) | ParserError::TokenizerError(text) => text,
        ParserError::RecursionLimitExceeded => {
            return sql_error("the statement nests too deeply", fallback)
        }
    };
    match split_location(&text) {
        Some((message, location)) => sql_error(message, location),
        None => sql_error(text, fallback),
    }
}

fn split_location(text: &str) -> Option<(String, SqlLocation)> {
    const MARKER: &str = " at Line: ";
    let at = text.rfind(MARKER)?;
    let (line, column) = text[at + MARKER.len()..].split_once(", Column: ")?;
    let location = SqlLocation {
        line: line.trim().parse().ok()?,
        column: column.trim().parse().ok()?,
    };
    Some((text[..at].to_string(), location))
}

/// Flink's window table functions pass their table as `TABLE t`
/// (`TUMBLE(TABLE t, DESCRIPTOR(ts), ..)`), which sqlparser does not parse
/// as an argument: drops such a `TABLE` (after `(` or `,`, before a name).
/// The other tokens keep their places, so error locations stay right.
pub(super) fn drop_table_before_table_argument(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let drop: Vec<bool> = (0..tokens.len())
        .map(|i| is_table_argument_keyword(&tokens, i))
        .collect();
    tokens
        .into_iter()
        .zip(drop)
        .filter_map(|(token, drop)| (!drop).then_some(token))
        .collect()
}

fn is_table_argument_keyword(tokens: &[TokenWithSpan], i: usize) -> bool {
    if !is_word(tokens.get(i), "TABLE") {
        return false;
    }
    let before = previous_significant(tokens, i).map(|b| &tokens[b].token);
    let after = tokens
        .get(next_significant(tokens, i + 1))
        .map(|t| &t.token);
    matches!(before, Some(Token::LParen | Token::Comma)) && matches!(after, Some(Token::Word(_)))
}
