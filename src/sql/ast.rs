//! The statements corestream accepts, as parsed (names not yet resolved).

use crate::data::DataType;
use crate::error::SqlLocation;
pub use sqlparser::ast::{Expr as SqlExpr, Query as SqlQuery};

/// One statement of a SQL script.
#[derive(Debug, Clone)]
pub enum Statement {
    /// `CREATE TABLE|STREAM|SOURCE name (col TYPE, ..) WITH ('k' = 'v', ..)`: declares a source.
    CreateSource(CreateSource),
    /// A query: a bare `SELECT ..` or `CREATE STREAM name AS SELECT .. [WITH (..)]`.
    Query(StreamingQuery),
    /// `CREATE [OR REPLACE] [TEMPORARY] VIEW name AS SELECT ..`: a named
    /// query that the script's query may read like a table.
    CreateView(CreateView),
}

#[derive(Debug, Clone)]
pub struct CreateView {
    pub name: sqlparser::ast::Ident,
    pub query: Box<SqlQuery>,
    /// Flink's `FOR SYSTEM_TIME AS OF ..` in the view's joins.
    pub system_time: Vec<super::SystemTimeAsOf>,
    pub location: SqlLocation,
}

#[derive(Debug, Clone)]
pub struct CreateSource {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// `WITH` properties in the order written; keys lower-cased.
    pub properties: Vec<(String, String)>,
    pub location: SqlLocation,
}

#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: String,
    pub data_type: DataType,
    pub location: SqlLocation,
}

/// A SELECT with corestream's streaming clauses split out of it.
#[derive(Debug, Clone)]
pub struct StreamingQuery {
    /// The SELECT itself, with the streaming clauses removed. The Flink-style
    /// window functions (`TUMBLE`, `HOP`, `SESSION` in GROUP BY) stay in here.
    pub query: Box<SqlQuery>,
    /// `WINDOW TUMBLING(..)` and friends (Velostream style), if written.
    pub window: Option<WindowClause>,
    /// `EMIT CHANGES` / `EMIT FINAL`, if written.
    pub emit: Option<EmitClause>,
    /// `CREATE STREAM <name> AS ..`: the output stream's name.
    pub stream_name: Option<String>,
    /// `WITH` properties of `CREATE STREAM`, keys lower-cased.
    pub properties: Vec<(String, String)>,
    /// Flink's `FOR SYSTEM_TIME AS OF ..` after joined tables, cut out of `query`.
    pub system_time: Vec<super::SystemTimeAsOf>,
    /// ksqlDB's `JOIN .. WITHIN ..`, cut out of `query`.
    pub within: Option<super::Within>,
    /// `INSERT INTO <stream_name> ..`: the output is the table declared
    /// under that name (its WITH keys say where rows go).
    pub insert_into: bool,
    pub location: SqlLocation,
}

impl StreamingQuery {
    /// Makes the script's views readable by name: each becomes a WITH query
    /// of this query, ahead of the query's own (which may read them, and
    /// hide them by reusing a name).
    pub fn read_views(&mut self, views: Vec<CreateView>) {
        use sqlparser::ast::{helpers::attached_token::AttachedToken, Cte, TableAlias, With};
        if views.is_empty() {
            return;
        }
        let mut ctes = Vec::with_capacity(views.len());
        for view in views {
            self.system_time.extend(view.system_time);
            ctes.push(Cte {
                alias: TableAlias {
                    explicit: false,
                    name: view.name,
                    columns: Vec::new(),
                    at: None,
                },
                query: view.query,
                from: None,
                materialized: None,
                closing_paren_token: AttachedToken::empty(),
            });
        }
        match self.query.with.as_mut() {
            Some(with) => {
                ctes.append(&mut with.cte_tables);
                with.cte_tables = ctes;
            }
            None => {
                self.query.with = Some(With {
                    with_token: AttachedToken::empty(),
                    recursive: false,
                    cte_tables: ctes,
                })
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitClause {
    Changes,
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFunction {
    Tumbling,
    Sliding,
    Session,
}

/// `WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)`: the kind and its raw arguments.
/// Shorthand durations such as `10s` arrive as `INTERVAL '10s'` expressions.
#[derive(Debug, Clone)]
pub struct WindowClause {
    pub function: WindowFunction,
    pub args: Vec<SqlExpr>,
    pub location: SqlLocation,
}
