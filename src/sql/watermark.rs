//! Flink's `WATERMARK FOR ts AS ts - INTERVAL '5' SECOND` in source DDL:
//! cut out of the column list before sqlparser reads it, and turned into
//! the source's WITH keys `timestamp` (the event-time column) and
//! `watermark.max_out_of_orderness` (the delay).

use super::tokens::{
    from_parser_error, is_word, list_elements, location_of, next_significant, parser_for, sql_error,
};
use crate::error::{Result, SqlLocation};
use sqlparser::ast::{BinaryOperator, Expr as SqlExpr, Value};
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// WITH keys as (key, value) pairs.
type Properties = Vec<(String, String)>;

/// Removes a `WATERMARK FOR ..` element from the column list that starts at
/// the first `(` at or after `body`; returns the tokens left and the WITH
/// keys it stands for.
pub(super) fn take_watermark(
    tokens: &[TokenWithSpan],
    body: usize,
) -> Result<(Vec<TokenWithSpan>, Properties)> {
    let Some((start, end)) = watermark_element(tokens, body) else {
        return Ok((tokens.to_vec(), Vec::new()));
    };
    let properties = watermark_properties(&tokens[start..end], location_of(&tokens[start]))?;
    let cut_from = previous_comma(tokens, start).unwrap_or(start);
    let mut rest = tokens[..cut_from].to_vec();
    rest.extend_from_slice(&tokens[end..]);
    Ok((rest, properties))
}

/// The token range of the `WATERMARK ..` element of the column list.
fn watermark_element(tokens: &[TokenWithSpan], body: usize) -> Option<(usize, usize)> {
    list_elements(tokens, body)
        .into_iter()
        .map(|element| (next_significant(tokens, element.start), element.end))
        .find(|&(start, _)| is_word(tokens.get(start), "WATERMARK"))
}

fn previous_comma(tokens: &[TokenWithSpan], before: usize) -> Option<usize> {
    (0..before)
        .rev()
        .find(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .filter(|&i| tokens[i].token == Token::Comma)
}

/// `WATERMARK FOR col AS col [- INTERVAL ..]` (the element's tokens).
fn watermark_properties(element: &[TokenWithSpan], at: SqlLocation) -> Result<Properties> {
    let usage =
        "WATERMARK must be written WATERMARK FOR <column> AS <column> - INTERVAL '<n>' <unit>";
    let for_at = next_significant(element, 1);
    let column_at = next_significant(element, for_at + 1);
    let as_at = next_significant(element, column_at + 1);
    let column = match element.get(column_at).map(|t| &t.token) {
        Some(Token::Word(w)) if is_word(element.get(for_at), "FOR") => w.value.clone(),
        _ => return Err(sql_error(usage, at)),
    };
    if !is_word(element.get(as_at), "AS") {
        return Err(sql_error(usage, at));
    }
    let mut expr_tokens = element[as_at + 1..].to_vec();
    let end = element.last().map_or(at, location_of);
    let end = sqlparser::tokenizer::Location::new(end.line, end.column);
    expr_tokens.push(TokenWithSpan::at(Token::EOF, end, end));
    let expr = parser_for(expr_tokens)
        .parse_expr()
        .map_err(|e| from_parser_error(e, at))?;
    let delay = watermark_delay(&expr, &column).ok_or_else(|| sql_error(usage, at))?;
    Ok(vec![
        ("timestamp".to_string(), column),
        ("watermark.max_out_of_orderness".to_string(), delay),
    ])
}

/// The delay of `col` (none) or `col - INTERVAL '5' SECOND`, as duration text.
fn watermark_delay(expr: &SqlExpr, column: &str) -> Option<String> {
    let is_column =
        |e: &SqlExpr| matches!(e, SqlExpr::Identifier(id) if id.value.eq_ignore_ascii_case(column));
    match expr {
        e if is_column(e) => Some("0ms".to_string()),
        SqlExpr::BinaryOp {
            left,
            op: BinaryOperator::Minus,
            right,
        } if is_column(left) => interval_text(right),
        _ => None,
    }
}

fn interval_text(e: &SqlExpr) -> Option<String> {
    let SqlExpr::Interval(iv) = e else {
        return None;
    };
    let value = match iv.value.as_ref() {
        SqlExpr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::Number(s, _) => s.clone(),
            _ => return None,
        },
        _ => return None,
    };
    Some(match &iv.leading_field {
        Some(unit) => format!("{value} {unit}"),
        None => value,
    })
}
