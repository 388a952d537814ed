//! Errors: one type for the whole crate, each variant naming cause and place,
//! and the exit status the command line maps it to.

use std::fmt;

/// A position in SQL text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqlLocation {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for SqlLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQL that does not parse, or uses a construct corestream does not support.
    #[error("SQL error at {location}: {message}")]
    Sql {
        message: String,
        location: SqlLocation,
    },
    /// SQL that parses but does not plan: unknown column, wrong types, misuse.
    #[error("{}", plan_message(.message, .location))]
    Plan {
        message: String,
        location: Option<SqlLocation>,
    },
    /// Bad command-line use or configuration (WITH keys, options).
    #[error("{0}")]
    Usage(String),
    /// A file that cannot be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A failure while running (the runtime could not start, a sink broke).
    #[error("{0}")]
    Runtime(String),
}

fn plan_message(message: &str, location: &Option<SqlLocation>) -> String {
    match location {
        Some(l) => format!("SQL error at {l}: {message}"),
        None => format!("SQL error: {message}"),
    }
}

impl Error {
    pub fn plan(message: impl Into<String>, location: Option<SqlLocation>) -> Self {
        Error::Plan {
            message: message.into(),
            location,
        }
    }

    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// 2 for usage and SQL errors, 1 for failures while running.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Sql { .. } | Error::Plan { .. } | Error::Usage(_) => 2,
            Error::Io { .. } | Error::Runtime(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
