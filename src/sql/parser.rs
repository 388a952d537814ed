//! Parsing (implementation in progress).
use super::Statement;
use crate::error::Result;

/// Parses a SQL script into statements.
pub fn parse_sql(_text: &str) -> Result<Vec<Statement>> {
    todo!("sql parser")
}
