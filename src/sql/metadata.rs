//! Flink's metadata columns in source DDL: `ts TIMESTAMP(3) METADATA FROM
//! 'timestamp'`, or `offset BIGINT METADATA` (the column's name is the
//! key), each optionally followed by `VIRTUAL` (accepted; the column is
//! read-only either way). The clause is cut out of the column list before
//! sqlparser reads it, and becomes the source's WITH key `metadata.<key>` =
//! '<column>', the one way the Kafka source learns of metadata columns.

use super::tokens::{is_word, list_elements, location_of, next_significant, sql_error};
use crate::error::{Result, SqlLocation};
use crate::io::kafka::{metadata_property, METADATA_NAMES};
use sqlparser::tokenizer::{Token, TokenWithSpan};
use std::ops::Range;

/// One column declared with a `METADATA` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MetadataColumn {
    pub column: String,
    /// The metadata's name (`timestamp`, `offset`, ...).
    pub name: String,
    /// Where its `METADATA` was written.
    pub location: SqlLocation,
}

impl MetadataColumn {
    /// The WITH property the clause stands for.
    pub fn property(&self) -> (String, String) {
        (metadata_property(&self.name), self.column.clone())
    }
}

/// Removes every `METADATA [FROM 'key'] [VIRTUAL]` clause from the column
/// list that starts at the first `(` at or after `body`; returns the tokens
/// left and the columns the clauses declared.
pub(super) fn take_metadata(
    tokens: &[TokenWithSpan],
    body: usize,
) -> Result<(Vec<TokenWithSpan>, Vec<MetadataColumn>)> {
    let mut columns = Vec::new();
    let mut cut = Vec::new();
    for element in list_elements(tokens, body) {
        if let Some((column, clause)) = metadata_clause(tokens, element)? {
            columns.push(column);
            cut.push(clause);
        }
    }
    let rest = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| !cut.iter().any(|clause| clause.contains(i)))
        .map(|(_, token)| token.clone())
        .collect();
    Ok((rest, columns))
}

/// The `METADATA ..` clause of one column-list element, with its token
/// range, if the element has one (outside brackets, after the name).
fn metadata_clause(
    tokens: &[TokenWithSpan],
    element: Range<usize>,
) -> Result<Option<(MetadataColumn, Range<usize>)>> {
    let name_at = next_significant(tokens, element.start);
    let Some(Token::Word(name)) = tokens.get(name_at).map(|t| &t.token) else {
        return Ok(None);
    };
    let mut depth = 0usize;
    for i in name_at + 1..element.end {
        match tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ if depth == 0 && is_word(tokens.get(i), "METADATA") => {
                return parse_clause(tokens, i, &name.value, &tokens[name_at]).map(Some);
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Parses the clause whose `METADATA` is at `at`, for `column` (named by
/// the token `column_token`).
fn parse_clause(
    tokens: &[TokenWithSpan],
    at: usize,
    column: &str,
    column_token: &TokenWithSpan,
) -> Result<(MetadataColumn, Range<usize>)> {
    let from = next_significant(tokens, at + 1);
    let (written, end) = if is_word(tokens.get(from), "FROM") {
        let key_at = next_significant(tokens, from + 1);
        (quoted_key(tokens, key_at, column)?, key_at + 1)
    } else {
        ((column.to_string(), column_token), at + 1)
    };
    let after = next_significant(tokens, end);
    let end = if is_word(tokens.get(after), "VIRTUAL") {
        after + 1
    } else {
        end
    };
    let name = known_name(&written.0, column, written.1)?;
    let declared = MetadataColumn {
        column: column.to_string(),
        name,
        location: location_of(&tokens[at]),
    };
    Ok((declared, at..end))
}

/// The `'key'` of `METADATA FROM 'key'` (at `at`, or the statement's end:
/// `tokens` hold the clause's `METADATA`), and its token.
fn quoted_key<'a>(
    tokens: &'a [TokenWithSpan],
    at: usize,
    column: &str,
) -> Result<(String, &'a TokenWithSpan)> {
    let token = &tokens[at.min(tokens.len() - 1)];
    match &token.token {
        Token::SingleQuotedString(key) => Ok((key.clone(), token)),
        other => Err(sql_error(
            format!(
                "column {column}: expected a quoted metadata key after METADATA FROM \
                 (such as 'timestamp'), found {other}"
            ),
            location_of(token),
        )),
    }
}

/// The known metadata `written` names (case-insensitive), or an error
/// naming the column and listing the known names, at `token`.
fn known_name(written: &str, column: &str, token: &TokenWithSpan) -> Result<String> {
    let known = METADATA_NAMES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| name.eq_ignore_ascii_case(written));
    known.map(str::to_string).ok_or_else(|| {
        let names: Vec<&str> = METADATA_NAMES.iter().map(|(name, _)| *name).collect();
        sql_error(
            format!(
                "column {column}: unknown metadata key '{written}' (known: {}; without FROM \
                 the column's name is the key)",
                names.join(", ")
            ),
            location_of(token),
        )
    })
}

/// Refuses metadata declared twice: by two columns, or by a column's
/// clause and the WITH key `metadata.<name>` of the same statement.
pub(super) fn check_declared_once(
    columns: &[MetadataColumn],
    properties: &[(String, String)],
) -> Result<()> {
    for (i, declared) in columns.iter().enumerate() {
        let (key, _) = declared.property();
        let twice = |by: String| {
            sql_error(
                format!(
                    "column {}: metadata '{}' is declared twice (METADATA FROM '{}' here, and {by})",
                    declared.column, declared.name, declared.name
                ),
                declared.location,
            )
        };
        if let Some((_, other)) = properties.iter().find(|(k, _)| *k == key) {
            return Err(twice(format!("WITH '{key}' = '{other}'")));
        }
        if let Some(first) = columns[..i].iter().find(|c| c.name == declared.name) {
            return Err(twice(format!("column {}", first.column)));
        }
    }
    Ok(())
}
