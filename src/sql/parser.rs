//! Parsing a SQL script into [`Statement`]s: tokenizes with sqlparser, splits
//! at `;`, rewrites duration shorthand, recognises corestream's statement
//! shapes by their leading words, and hands the standard parts to sqlparser.

use super::ast::{Statement, StreamingQuery};
use super::ddl::parse_create_source;
use super::nesting::check_nesting;
use super::streaming::extract_streaming_clauses;
use super::tokens::{
    expand_duration_shorthand, from_parser_error, is_word, location_of, next_significant,
    parser_for, split_statements, sql_error, tokenize, unquoted_word,
};
use crate::error::{Error, Result, SqlLocation};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// Parses a SQL script (statements separated by `;`) into statements.
pub fn parse_sql(text: &str) -> Result<Vec<Statement>> {
    let statements = split_statements(tokenize(text)?)
        .into_iter()
        .map(parse_statement)
        .collect::<Result<Vec<_>>>()?;
    if statements.is_empty() {
        return Err(sql_error(
            "no statement: the SQL text is empty",
            SqlLocation { line: 1, column: 1 },
        ));
    }
    Ok(statements)
}

/// What a statement is, judged by its leading words.
enum StatementShape {
    /// `SELECT ..`, `WITH .. SELECT`, `(SELECT ..)`, `VALUES ..`.
    Query,
    /// `CREATE STREAM name AS <query>`: the name's index and the query's.
    CreateStreamAs { name: usize, query: usize },
    /// `CREATE TABLE|STREAM|SOURCE <body>`: the index of the body.
    CreateSource { body: usize },
    /// Anything else; sqlparser decides whether it is malformed or unsupported.
    Other,
}

/// Parses one statement's tokens (ending in EOF, holding at least one
/// significant token).
fn parse_statement(tokens: Vec<TokenWithSpan>) -> Result<Statement> {
    let tokens = expand_duration_shorthand(tokens);
    check_nesting(&tokens)?;
    let first = next_significant(&tokens, 0);
    let location = tokens.get(first).map(location_of).unwrap_or_default();
    match statement_shape(&tokens, first) {
        StatementShape::Query => {
            parse_streaming_query(&tokens[first..], None, location).map(Statement::Query)
        }
        StatementShape::CreateStreamAs { name, query } => {
            let name = stream_name(&tokens[name]);
            parse_streaming_query(&tokens[query..], Some(name), location).map(Statement::Query)
        }
        StatementShape::CreateSource { body } => {
            parse_create_source(&tokens, body, location).map(Statement::CreateSource)
        }
        StatementShape::Other => Err(unsupported_statement(&tokens, first, location)),
    }
}

fn statement_shape(tokens: &[TokenWithSpan], first: usize) -> StatementShape {
    let head = tokens.get(first);
    if matches!(head.map(|t| &t.token), Some(Token::LParen))
        || ["SELECT", "WITH", "VALUES"]
            .iter()
            .any(|w| is_word(head, w))
    {
        return StatementShape::Query;
    }
    if !is_word(head, "CREATE") {
        return StatementShape::Other;
    }
    let kind = next_significant(tokens, first + 1);
    if is_word(tokens.get(kind), "TABLE") || is_word(tokens.get(kind), "SOURCE") {
        return StatementShape::CreateSource { body: kind + 1 };
    }
    if !is_word(tokens.get(kind), "STREAM") {
        return StatementShape::Other;
    }
    let name = next_significant(tokens, kind + 1);
    let after_name = next_significant(tokens, name + 1);
    let is_word_token = matches!(tokens.get(name).map(|t| &t.token), Some(Token::Word(_)));
    if is_word_token && is_word(tokens.get(after_name), "AS") {
        StatementShape::CreateStreamAs {
            name,
            query: after_name + 1,
        }
    } else {
        StatementShape::CreateSource { body: kind + 1 }
    }
}

fn stream_name(token: &TokenWithSpan) -> String {
    match &token.token {
        Token::Word(word) => word.value.clone(),
        other => other.to_string(),
    }
}

/// Parses a query with its streaming clauses. `tokens` start at the query and
/// end in EOF; `location` is where the statement starts.
fn parse_streaming_query(
    tokens: &[TokenWithSpan],
    stream_name: Option<String>,
    location: SqlLocation,
) -> Result<StreamingQuery> {
    let (rest, clauses) = extract_streaming_clauses(tokens.to_vec())?;
    let properties = match (clauses.properties, &stream_name) {
        (Some((_, at)), None) => {
            return Err(sql_error(
                "WITH (..) properties are only allowed in CREATE STREAM name AS SELECT ..",
                at,
            ))
        }
        (Some((properties, _)), Some(_)) => properties,
        (None, _) => Vec::new(),
    };
    let mut parser = parser_for(rest);
    let query = parser
        .parse_query()
        .map_err(|e| from_parser_error(e, location))?;
    expect_end_of_statement(&parser)?;
    Ok(StreamingQuery {
        query,
        window: clauses.window,
        emit: clauses.emit,
        stream_name,
        properties,
        location,
    })
}

fn expect_end_of_statement(parser: &Parser) -> Result<()> {
    let next = parser.peek_token();
    if next.token == Token::EOF {
        return Ok(());
    }
    Err(sql_error(
        format!("Expected: end of statement, found: {}", next.token),
        location_of(&next),
    ))
}

/// The error for a statement that is not a query or source DDL: sqlparser's
/// parse error if it does not parse, else one naming its kind.
fn unsupported_statement(tokens: &[TokenWithSpan], first: usize, location: SqlLocation) -> Error {
    let mut parser = parser_for(tokens.to_vec());
    if let Err(e) = parser.parse_statement() {
        return from_parser_error(e, location);
    }
    sql_error(
        format!(
            "{} statements are not supported; corestream accepts SELECT .., \
             CREATE STREAM name AS SELECT .. and CREATE TABLE|STREAM|SOURCE name (..) WITH (..)",
            statement_kind(tokens, first)
        ),
        location,
    )
}

/// `INSERT`, `CREATE VIEW`, `DROP TABLE`: the statement's leading words.
fn statement_kind(tokens: &[TokenWithSpan], first: usize) -> String {
    let word = |i: usize| unquoted_word(tokens.get(i)).map(|w| w.value.to_ascii_uppercase());
    let head = word(first).unwrap_or_default();
    let takes_object = ["CREATE", "DROP", "ALTER", "SHOW", "TRUNCATE"].contains(&head.as_str());
    match word(next_significant(tokens, first + 1)) {
        Some(object) if takes_object => format!("{head} {object}"),
        _ => head,
    }
}
