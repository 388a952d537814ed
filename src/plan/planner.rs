//! From parsed statements to a [`QueryPlan`] (implementation in progress).

use super::QueryPlan;
use crate::data::Schema;
use crate::error::Result;
use crate::sql::StreamingQuery;

/// A source the query may read: its name, schema and WITH properties
/// (lower-cased keys; `path`, `format`, ... interpreted by `io`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub name: String,
    pub schema: Schema,
    pub properties: Vec<(String, String)>,
}

impl TableDef {
    /// The value of a WITH property (key compared case-insensitively).
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The sources known to a run: declared by DDL or by `--source`.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: Vec<TableDef>,
}

impl Catalog {
    /// Adds or replaces (by case-insensitive name) a table.
    pub fn add(&mut self, table: TableDef) {
        self.tables
            .retain(|t| !t.name.eq_ignore_ascii_case(&table.name));
        self.tables.push(table);
    }

    pub fn get(&self, name: &str) -> Option<&TableDef> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn tables(&self) -> &[TableDef] {
        &self.tables
    }
}

/// Settings from the command line; they override the query's WITH properties.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanSettings {
    pub max_out_of_orderness_ms: Option<i64>,
    pub allowed_lateness_ms: Option<i64>,
}

/// Resolves and type-checks `query` against `catalog`.
pub fn plan_query(
    _query: &StreamingQuery,
    _catalog: &Catalog,
    _settings: &PlanSettings,
) -> Result<QueryPlan> {
    todo!("planner")
}
