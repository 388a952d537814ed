//! Parsing a SQL script into [`Statement`]s: tokenizes with sqlparser, splits
//! at `;`, rewrites duration shorthand, recognises corestream's statement
//! shapes by their leading words, and hands the standard parts to sqlparser.

use super::ast::{CreateView, Statement, StreamingQuery};
use super::ddl::parse_create_source;
use super::ksql::ksql_properties;
use super::nesting::check_nesting;
use super::rows_buffer::rewrite_rows_buffers;
use super::streaming::extract_streaming_clauses;
use super::streaming::parse_properties;
use super::system_time::take_system_time;
use super::table_partition::move_table_partitions;
use super::tokens::{
    drop_table_before_table_argument, expand_duration_shorthand, from_parser_error, is_word,
    location_of, next_significant, parser_for, split_statements, sql_error, tokenize,
    unquoted_word,
};
use super::within::take_within;
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
    /// `CREATE STREAM|TABLE|MATERIALIZED VIEW name AS <query>`: the name's
    /// index and the query's.
    /// `with`: ksqlDB's `WITH (..)` written before `AS`, at that `WITH`.
    CreateStreamAs {
        name: usize,
        query: usize,
        with: Option<usize>,
    },
    /// `CREATE TABLE|STREAM|SOURCE <body>`: the index of the body.
    CreateSource { body: usize },
    /// `INSERT INTO name <query>`: the name's index and the query's.
    InsertInto { name: usize, query: usize },
    /// `CREATE [OR REPLACE] [TEMPORARY] VIEW name AS <query>`: the name's
    /// index and the query's.
    CreateView { name: usize, query: usize },
    /// Anything else; sqlparser decides whether it is malformed or unsupported.
    Other,
}

/// Parses one statement's tokens (ending in EOF, holding at least one
/// significant token).
fn parse_statement(tokens: Vec<TokenWithSpan>) -> Result<Statement> {
    let tokens = drop_table_before_table_argument(expand_duration_shorthand(tokens));
    let tokens = rewrite_rows_buffers(move_table_partitions(tokens)?)?;
    check_nesting(&tokens)?;
    let first = next_significant(&tokens, 0);
    let location = tokens.get(first).map(location_of).unwrap_or_default();
    match statement_shape(&tokens, first) {
        StatementShape::Query => {
            parse_streaming_query(&tokens[first..], None, location).map(Statement::Query)
        }
        StatementShape::CreateStreamAs { name, query, with } => {
            let name = stream_name(&tokens[name]);
            let mut parsed = parse_streaming_query(&tokens[query..], Some(name), location)?;
            if let Some(with) = with {
                let (properties, _) = parse_properties(&tokens, with)?;
                let mut properties = ksql_properties(properties, false)?;
                properties.append(&mut parsed.properties);
                parsed.properties = properties;
            }
            Ok(Statement::Query(parsed))
        }
        StatementShape::CreateSource { body } => {
            parse_create_source(&tokens, body, location).map(Statement::CreateSource)
        }
        StatementShape::InsertInto { name, query } => {
            let name = stream_name(&tokens[name]);
            let mut parsed = parse_streaming_query(&tokens[query..], Some(name), location)?;
            parsed.insert_into = true;
            Ok(Statement::Query(parsed))
        }
        StatementShape::CreateView { name, query } => {
            parse_view(&tokens, name, query, location).map(Statement::CreateView)
        }
        StatementShape::Other => Err(unsupported_statement(&tokens, first, location)),
    }
}

/// A view's query: a plain query, without the clauses that belong to the
/// query that runs (WINDOW, EMIT, WITH properties).
fn parse_view(
    tokens: &[TokenWithSpan],
    name: usize,
    query: usize,
    location: SqlLocation,
) -> Result<CreateView> {
    let parsed = parse_streaming_query(&tokens[query..], None, location)?;
    if let Some(within) = parsed.within {
        return Err(sql_error(
            "a view cannot join WITHIN a time: write the join in the query that reads it \
             (or bound the times in the view's ON: b.ts BETWEEN a.ts - INTERVAL .. AND a.ts + \
             INTERVAL ..)",
            within.location,
        ));
    }
    if parsed.window.is_some() || parsed.emit.is_some() {
        return Err(sql_error(
            "a view cannot have WINDOW or EMIT clauses: write them in the query that \
             reads the view",
            location,
        ));
    }
    let name = match &tokens[name].token {
        Token::Word(word) => sqlparser::ast::Ident {
            value: word.value.clone(),
            quote_style: word.quote_style,
            span: tokens[name].span,
        },
        other => sqlparser::ast::Ident::new(other.to_string()),
    };
    Ok(CreateView {
        name,
        query: parsed.query,
        system_time: parsed.system_time,
        location,
    })
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
    if is_word(head, "INSERT") {
        return insert_into(tokens, first).unwrap_or(StatementShape::Other);
    }
    if !is_word(head, "CREATE") {
        return StatementShape::Other;
    }
    let mut kind = next_significant(tokens, first + 1);
    if is_word(tokens.get(kind), "OR")
        && is_word(tokens.get(next_significant(tokens, kind + 1)), "REPLACE")
    {
        kind = next_significant(tokens, next_significant(tokens, kind + 1) + 1);
    }
    if ["TEMPORARY", "TEMP"]
        .iter()
        .any(|w| is_word(tokens.get(kind), w))
    {
        kind = next_significant(tokens, kind + 1);
    }
    if is_word(tokens.get(kind), "VIEW") {
        return match create_as(tokens, kind) {
            Some(StatementShape::CreateStreamAs {
                name,
                query,
                with: None,
            }) => StatementShape::CreateView { name, query },
            _ => StatementShape::Other,
        };
    }
    if is_word(tokens.get(kind), "MATERIALIZED") {
        kind = next_significant(tokens, kind + 1);
        if !is_word(tokens.get(kind), "VIEW") {
            return StatementShape::Other;
        }
        return create_as(tokens, kind).unwrap_or(StatementShape::Other);
    }
    let source_like = ["TABLE", "SOURCE", "STREAM"]
        .iter()
        .any(|w| is_word(tokens.get(kind), w));
    if !source_like {
        return StatementShape::Other;
    }
    create_as(tokens, kind).unwrap_or(StatementShape::CreateSource { body: kind + 1 })
}

/// `INSERT INTO name SELECT ..` (`insert` at the index of INSERT).
fn insert_into(tokens: &[TokenWithSpan], insert: usize) -> Option<StatementShape> {
    let into = next_significant(tokens, insert + 1);
    let name = next_significant(tokens, into + 1);
    let query = next_significant(tokens, name + 1);
    let is_name = matches!(tokens.get(name).map(|t| &t.token), Some(Token::Word(_)));
    let selects = ["SELECT", "WITH"]
        .iter()
        .any(|w| is_word(tokens.get(query), w));
    (is_word(tokens.get(into), "INTO") && is_name && selects)
        .then_some(StatementShape::InsertInto { name, query })
}

/// `<kind> name AS <query>` (`kind` at the index of TABLE, STREAM or VIEW).
fn create_as(tokens: &[TokenWithSpan], kind: usize) -> Option<StatementShape> {
    let name = next_significant(tokens, kind + 1);
    let mut after_name = next_significant(tokens, name + 1);
    let with = properties_before_as(tokens, after_name);
    if let Some(past) = with {
        after_name = next_significant(tokens, past);
    }
    let is_word_token = matches!(tokens.get(name).map(|t| &t.token), Some(Token::Word(_)));
    (is_word_token && is_word(tokens.get(after_name), "AS")).then_some(
        StatementShape::CreateStreamAs {
            name,
            query: after_name + 1,
            with: with.map(|_| next_significant(tokens, name + 1)),
        },
    )
}

/// ksqlDB's `CREATE STREAM name WITH (..) AS ..`: when `WITH (` is at
/// `with`, the index just past its `)`.
fn properties_before_as(tokens: &[TokenWithSpan], with: usize) -> Option<usize> {
    let open = next_significant(tokens, with + 1);
    let opens = matches!(tokens.get(open).map(|t| &t.token), Some(Token::LParen));
    if !is_word(tokens.get(with), "WITH") || !opens {
        return None;
    }
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 1 => return Some(i + 1),
            Token::RParen => depth -= 1,
            _ => {}
        }
    }
    None
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
    let (tokens, system_time) = take_system_time(tokens.to_vec())?;
    let (tokens, within) = take_within(tokens)?;
    let (rest, clauses) = extract_streaming_clauses(tokens)?;
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
    let join_grace = within.and_then(|w| w.grace_ms).map(|ms| format!("{ms}ms"));
    let properties = ksql_properties(properties, false)?;
    let properties = with_grace(with_grace(properties, clauses.grace), join_grace);
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
        system_time,
        within,
        insert_into: false,
        location,
    })
}

/// ksqlDB's `GRACE PERIOD` (of a window, or of a join's WITHIN) is the
/// allowed lateness, unless WITH sets one.
fn with_grace(
    mut properties: Vec<(String, String)>,
    grace: Option<String>,
) -> Vec<(String, String)> {
    if let Some(grace) = grace {
        if !properties.iter().any(|(k, _)| k == "allowed_lateness") {
            properties.push(("allowed_lateness".to_string(), grace));
        }
    }
    properties
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
             CREATE STREAM name AS SELECT .., INSERT INTO name SELECT .., \
             CREATE VIEW name AS SELECT .. and CREATE TABLE|STREAM|SOURCE name (..) WITH (..)",
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
