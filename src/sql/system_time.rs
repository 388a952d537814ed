//! Flink's lookup-join spelling `JOIN dim FOR SYSTEM_TIME AS OF s.ts [AS d]`:
//! sqlparser's generic dialect does not read it, so the clause is cut out of
//! the query's tokens here and kept beside the query. The table it follows
//! is read in full before the stream starts (see `plan::join`), so the time
//! attribute names which version of the table Flink would use, and
//! corestream checks that it names a column but reads the one version there
//! is.

use super::tokens::{is_word, location_of, next_significant, previous_significant, sql_error};
use crate::error::{Result, SqlLocation};
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// One `FOR SYSTEM_TIME AS OF <column>` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemTimeAsOf {
    /// The table name written just before `FOR`.
    pub table: String,
    /// The time attribute, as written (`ts` or `s.ts`).
    pub column: Vec<String>,
    pub location: SqlLocation,
}

/// Removes every `FOR SYSTEM_TIME AS OF <column>` from `tokens`; returns the
/// tokens left and the clauses.
pub(super) fn take_system_time(
    mut tokens: Vec<TokenWithSpan>,
) -> Result<(Vec<TokenWithSpan>, Vec<SystemTimeAsOf>)> {
    let mut clauses = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !starts_clause(&tokens, i) {
            i += 1;
            continue;
        }
        let (clause, end) = parse_clause(&tokens, i)?;
        clauses.push(clause);
        tokens.drain(i..end);
    }
    Ok((tokens, clauses))
}

/// `FOR SYSTEM_TIME AS OF` starts at `at`.
fn starts_clause(tokens: &[TokenWithSpan], at: usize) -> bool {
    let mut i = at;
    for word in ["FOR", "SYSTEM_TIME", "AS", "OF"] {
        if !is_word(tokens.get(i), word) {
            return false;
        }
        i = next_significant(tokens, i + 1);
    }
    true
}

/// Reads the clause starting at `start` (`FOR`): the table before it and
/// the dotted column after `OF`. Returns it and the index just past it.
fn parse_clause(tokens: &[TokenWithSpan], start: usize) -> Result<(SystemTimeAsOf, usize)> {
    let location = location_of(&tokens[start]);
    let table = previous_significant(tokens, start)
        .and_then(|i| word_of(&tokens[i]))
        .ok_or_else(|| {
            sql_error(
                "FOR SYSTEM_TIME AS OF must follow the name of the table it reads",
                location,
            )
        })?;
    let mut i = start;
    for _ in 0..4 {
        i = next_significant(tokens, i + 1);
    }
    let mut column = Vec::new();
    loop {
        let part = tokens.get(i).and_then(word_of).ok_or_else(|| {
            sql_error(
                "FOR SYSTEM_TIME AS OF needs the stream's time column (`AS OF s.ts`)",
                tokens.get(i).map(location_of).unwrap_or(location),
            )
        })?;
        column.push(part);
        let next = next_significant(tokens, i + 1);
        if tokens.get(next).map(|t| &t.token) != Some(&Token::Period) {
            let clause = SystemTimeAsOf {
                table,
                column,
                location,
            };
            return Ok((clause, i + 1));
        }
        i = next_significant(tokens, next + 1);
    }
}

fn word_of(token: &TokenWithSpan) -> Option<String> {
    match &token.token {
        Token::Word(word) => Some(word.value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::tokens::tokenize;

    fn cut(sql: &str) -> (String, Vec<SystemTimeAsOf>) {
        let (tokens, clauses) = take_system_time(tokenize(sql).expect("tokens")).expect("parses");
        let text: String = tokens
            .iter()
            .filter(|t| t.token != Token::EOF)
            .map(|t| t.token.to_string())
            .collect();
        (text, clauses)
    }

    #[test]
    fn the_clause_is_cut_and_its_table_and_column_kept() {
        let (text, clauses) =
            cut("SELECT 1 FROM t JOIN d FOR SYSTEM_TIME AS OF t.ts AS x ON t.k = x.k");
        assert_eq!(text, "SELECT 1 FROM t JOIN d  AS x ON t.k = x.k");
        assert_eq!(clauses.len(), 1);
        assert_eq!(clauses[0].table, "d");
        assert_eq!(clauses[0].column, vec!["t".to_string(), "ts".to_string()]);
        assert_eq!(clauses[0].location.column, 24);
    }

    #[test]
    fn a_missing_column_is_an_error_at_the_clause() {
        let tokens = tokenize("SELECT 1 FROM t JOIN d FOR SYSTEM_TIME AS OF").expect("tokens");
        let error = take_system_time(tokens).expect_err("no column");
        assert!(
            error.to_string().contains("needs the stream's time column"),
            "{error}"
        );
    }

    #[test]
    fn other_uses_of_for_are_left_alone() {
        let (text, clauses) = cut("SELECT a FROM t");
        assert_eq!(text, "SELECT a FROM t");
        assert!(clauses.is_empty());
    }
}
