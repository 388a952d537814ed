//! SQL: sqlparser plus corestream's streaming extensions.
//!
//! Owns turning text into [`Statement`]s. It understands the syntax only:
//! `WINDOW TUMBLING|SLIDING|SESSION (..)` (and ksqlDB's forms),
//! `EMIT CHANGES|FINAL|ON WINDOW CLOSE`, `CREATE STREAM|TABLE|MATERIALIZED VIEW
//! name AS SELECT .. [WITH (..)]`, `CREATE VIEW`, duration shorthand
//! (`10s`), Flink's `TABLE t [PARTITION BY k]` argument of window table
//! functions, and source DDL
//! (`CREATE TABLE .. WITH (..)`, with `WATERMARK FOR ..` and `METADATA FROM ..`
//! columns). It resolves no names and evaluates
//! nothing; that is `plan`'s job. It refuses a statement whose expressions
//! nest deeper than [`MAX_EXPRESSION_DEPTH`] before building its tree.

mod ast;
mod ddl;
mod ksql;
mod metadata;
mod nesting;
mod parser;
mod rows_buffer;
mod streaming;
mod system_time;
mod table_partition;
mod tokens;
mod watermark;
mod within;

pub use ast::*;
pub use nesting::MAX_EXPRESSION_DEPTH;
pub use parser::parse_sql;
pub use system_time::SystemTimeAsOf;
pub use table_partition::PARTITION_ARGUMENT;
pub use within::Within;

#[cfg(test)]
mod tests;
