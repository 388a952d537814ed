//! SQL: sqlparser plus corestream's streaming extensions.
//!
//! Owns turning text into [`Statement`]s. It understands the syntax only:
//! `WINDOW TUMBLING|SLIDING|SESSION (..)`, `EMIT CHANGES|FINAL`,
//! `CREATE STREAM name AS SELECT .. [WITH (..)]`, duration shorthand (`10s`), and
//! source DDL (`CREATE TABLE .. WITH (..)`). It resolves no names and evaluates
//! nothing; that is `plan`'s job. It refuses a statement whose expressions
//! nest deeper than [`MAX_EXPRESSION_DEPTH`] before building its tree.

mod ast;
mod ddl;
mod nesting;
mod parser;
mod streaming;
mod tokens;

pub use ast::*;
pub use nesting::MAX_EXPRESSION_DEPTH;
pub use parser::parse_sql;

#[cfg(test)]
mod tests;
