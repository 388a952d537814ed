//! Windows: the Flink-style window functions of GROUP BY (`TUMBLE(ts, size)`,
//! `HOP(ts, slide, size)`, `SESSION(ts, gap)`) and Velostream's `WINDOW`
//! clause (`TUMBLING(ts, size)`, `SLIDING(ts, size, advance)`,
//! `SESSION(ts, gap)`), turned into one [`WindowSpec`].

use super::functions::{is_window_function, window_bound};
use super::resolve::{
    error_at, function_name, interval_ms, positional_args, start_of, SourceScope,
};
use super::{WindowKind, WindowSpec};
use crate::data::DataType;
use crate::error::{Error, Result, SqlLocation};
use crate::sql::{WindowClause, WindowFunction};
use sqlparser::ast::{Expr as SqlExpr, Spanned};

/// GROUP BY split into its window (if any) and its key expressions.
pub(crate) struct GroupBy<'q> {
    pub window: Option<WindowSpec>,
    pub keys: Vec<&'q SqlExpr>,
    /// `window_start` / `window_end` written in GROUP BY (the window
    /// supplies them, so they are not keys).
    pub window_bounds: Vec<&'q SqlExpr>,
}

impl GroupBy<'_> {
    /// Adds the window of FROM (a window table function), if any: there
    /// may be only one window; `window_start` in GROUP BY needs one.
    pub fn with_from_window(mut self, from: Option<(WindowSpec, &SqlExpr)>) -> Result<Self> {
        if let Some((spec, call)) = from {
            if self.window.is_some() {
                return Err(error_at(
                    "a query may have only one window; FROM already has one",
                    call,
                ));
            }
            self.window = Some(spec);
        }
        if let (None, Some(bound)) = (&self.window, self.window_bounds.first()) {
            return Err(error_at(
                format!(
                    "GROUP BY {bound} needs a window (GROUP BY TUMBLE(..), \
                     WINDOW TUMBLING(..) or FROM TABLE(TUMBLE(..)))"
                ),
                *bound,
            ));
        }
        Ok(self)
    }
}

/// True when `e` is a bare name of one of the source's columns (a grouping
/// over a grouping's rows groups by their `window_start` column).
fn names_a_column(e: &SqlExpr, scope: &SourceScope) -> bool {
    let SqlExpr::Identifier(id) = e else {
        return false;
    };
    scope
        .fields()
        .any(|(_, field, _)| field.name.eq_ignore_ascii_case(&id.value))
}

/// Takes the window function out of `group_by` and combines it with the
/// `WINDOW` clause; more than one window is an error.
pub(crate) fn split_group_by<'q>(
    group_by: &'q [SqlExpr],
    clause: Option<&WindowClause>,
    scope: &SourceScope,
) -> Result<GroupBy<'q>> {
    let mut window = clause.map(|c| clause_window(c, scope)).transpose()?;
    let mut keys = Vec::new();
    let mut window_bounds = Vec::new();
    for e in group_by {
        if window_bound(e).is_some() && !names_a_column(e, scope) {
            // `GROUP BY window_start, window_end`: the window supplies them.
            window_bounds.push(e);
            continue;
        }
        let SqlExpr::Function(f) = e else {
            keys.push(e);
            continue;
        };
        let name = function_name(f);
        if !is_window_function(&name) || f.over.is_some() {
            keys.push(e);
            continue;
        }
        if window.is_some() {
            return Err(error_at(
                format!("a query may have only one window; `{e}` is a second one"),
                e,
            ));
        }
        let args = positional_args(f, e)?;
        window = Some(flink_window(&name, &args, e, scope)?);
    }
    Ok(GroupBy {
        window,
        keys,
        window_bounds,
    })
}

/// `TUMBLE(ts, size)`, `HOP(ts, slide, size)`, `SESSION(ts, gap)`.
pub(crate) fn flink_window(
    name: &str,
    args: &[&SqlExpr],
    e: &SqlExpr,
    scope: &SourceScope,
) -> Result<WindowSpec> {
    let at = |m: String| error_at(m, e);
    let rowtime = rowtime_at(e);
    let with_rowtime: Vec<&SqlExpr>;
    let args = match args.first() {
        // Arroyo's `tumble(interval '1 minute')`: the source's event time.
        Some(SqlExpr::Interval(_)) => {
            with_rowtime = std::iter::once(&rowtime)
                .chain(args.iter().copied())
                .collect();
            with_rowtime.as_slice()
        }
        _ => args,
    };
    let kind = match (name, args) {
        ("tumble", [_, size]) => WindowKind::Tumbling {
            size_ms: positive_duration(size, "window size")?,
        },
        ("hop", [_, slide, size]) => WindowKind::Sliding {
            size_ms: positive_duration(size, "window size")?,
            advance_ms: positive_duration(slide, "window slide")?,
        },
        ("cumulate", [_, step, size]) => WindowKind::Cumulating {
            size_ms: positive_duration(size, "window size")?,
            step_ms: positive_duration(step, "window step")?,
        },
        ("session", [_, gap]) => WindowKind::Session {
            gap_ms: positive_duration(gap, "session gap")?,
        },
        ("tumble", _) => return Err(at(format!("TUMBLE takes (time_column, size): `{e}`"))),
        ("hop", _) => return Err(at(format!("HOP takes (time_column, slide, size): `{e}`"))),
        ("cumulate", _) => {
            return Err(at(format!(
                "CUMULATE takes (TABLE t, DESCRIPTOR(time_column), step, size): `{e}`"
            )))
        }
        _ => return Err(at(format!("SESSION takes (time_column, gap): `{e}`"))),
    };
    check_advance(kind, start_of(e))?;
    Ok(WindowSpec {
        kind,
        time_column: time_column(args[0], scope)?,
    })
}

/// `WINDOW TUMBLING(ts, size)`, `SLIDING(ts, size, advance)`, `SESSION(ts, gap)`.
fn clause_window(clause: &WindowClause, scope: &SourceScope) -> Result<WindowSpec> {
    let location = (clause.location.line > 0).then_some(clause.location);
    let args: Vec<&SqlExpr> = clause.args.iter().collect();
    let kind = match (clause.function, args.as_slice()) {
        (WindowFunction::Tumbling, [_, size]) => WindowKind::Tumbling {
            size_ms: positive_duration(size, "window size")?,
        },
        (WindowFunction::Sliding, [_, size, advance]) => WindowKind::Sliding {
            size_ms: positive_duration(size, "window size")?,
            advance_ms: positive_duration(advance, "window advance")?,
        },
        (WindowFunction::Session, [_, gap]) => WindowKind::Session {
            gap_ms: positive_duration(gap, "session gap")?,
        },
        (function, _) => {
            let usage = match function {
                WindowFunction::Tumbling => "TUMBLING(time_column, size)",
                WindowFunction::Sliding => "SLIDING(time_column, size, advance)",
                WindowFunction::Session => "SESSION(time_column, gap)",
            };
            return Err(Error::plan(
                format!("the window must be written WINDOW {usage}"),
                location,
            ));
        }
    };
    check_advance(kind, location)?;
    Ok(WindowSpec {
        kind,
        time_column: time_column(args[0], scope)?,
    })
}

/// The most windows a sliding window may put one record into: each record
/// updates every window that covers it, so `size / advance` is work per record.
pub const MAX_WINDOWS_PER_RECORD: u64 = 10_000;

fn check_advance(kind: WindowKind, location: Option<SqlLocation>) -> Result<()> {
    if let WindowKind::Cumulating { size_ms, step_ms } = kind {
        return check_step(size_ms, step_ms, location);
    }
    let WindowKind::Sliding {
        size_ms,
        advance_ms,
    } = kind
    else {
        return Ok(());
    };
    let text = crate::data::format_duration;
    if advance_ms > size_ms {
        return Err(Error::plan(
            format!(
                "a sliding window's advance ({}) must not exceed its size ({})",
                text(advance_ms),
                text(size_ms)
            ),
            location,
        ));
    }
    // Both are positive (checked as they were read).
    let windows_per_record = (size_ms as u64).div_ceil(advance_ms as u64);
    if windows_per_record > MAX_WINDOWS_PER_RECORD {
        return Err(Error::plan(
            format!(
                "a sliding window of {} advancing by {} puts every record into \
                 {windows_per_record} windows (limit {MAX_WINDOWS_PER_RECORD} windows per \
                 record); advance by at least {}",
                text(size_ms),
                text(advance_ms),
                text((size_ms as u64).div_ceil(MAX_WINDOWS_PER_RECORD) as i64)
            ),
            location,
        ));
    }
    Ok(())
}

/// A cumulating window's step must divide its size, into at most
/// [`MAX_WINDOWS_PER_RECORD`] windows.
fn check_step(size_ms: i64, step_ms: i64, location: Option<SqlLocation>) -> Result<()> {
    let text = crate::data::format_duration;
    if size_ms % step_ms != 0 {
        return Err(Error::plan(
            format!(
                "a cumulating window's size ({}) must be a whole multiple of its step ({})",
                text(size_ms),
                text(step_ms)
            ),
            location,
        ));
    }
    // Both are positive (checked as they were read).
    let windows_per_record = (size_ms / step_ms) as u64;
    if windows_per_record > MAX_WINDOWS_PER_RECORD {
        return Err(Error::plan(
            format!(
                "a cumulating window of {} growing by {} puts a record into up to \
                 {windows_per_record} windows (limit {MAX_WINDOWS_PER_RECORD})",
                text(size_ms),
                text(step_ms)
            ),
            location,
        ));
    }
    Ok(())
}

fn positive_duration(e: &SqlExpr, what: &str) -> Result<i64> {
    let ms = interval_ms(e)?;
    if ms <= 0 {
        return Err(error_at(format!("{what} must be positive, got `{e}`"), e));
    }
    Ok(ms)
}

/// The window's time column: a plain TIMESTAMP or BIGINT (epoch millis)
/// column, or `ROWTIME` (ksqlDB) for the source's event-time column.
fn time_column(e: &SqlExpr, scope: &SourceScope) -> Result<usize> {
    if let Some(index) = rowtime_column(e, scope)? {
        return Ok(index);
    }
    let idents = match e {
        SqlExpr::Identifier(id) => std::slice::from_ref(id),
        SqlExpr::CompoundIdentifier(ids) => ids.as_slice(),
        _ => {
            return Err(error_at(
                format!("the window's time column must be a column name, got `{e}`"),
                e,
            ))
        }
    };
    let (index, data_type) = scope.resolve(idents, e)?;
    if index >= scope.table.schema.len() && !scope.joins_a_stream {
        return Err(error_at(
            format!(
                "the window's time column must be a column of the stream {}, not of a joined \
                 table: `{e}`",
                scope.table.name
            ),
            e,
        ));
    }
    match data_type {
        DataType::Timestamp | DataType::BigInt => Ok(index),
        other => Err(error_at(
            format!("the window's time column must be TIMESTAMP or BIGINT, but `{e}` is {other}"),
            e,
        )),
    }
}

/// The identifier `ROWTIME`, found at `e`.
fn rowtime_at(e: &SqlExpr) -> SqlExpr {
    SqlExpr::Identifier(sqlparser::ast::Ident::with_span(e.span(), "ROWTIME"))
}

/// `ROWTIME` (when the source has no column of that name): the source's
/// event-time column, which is its `timestamp` WITH key (also set by
/// `WATERMARK FOR col`), else its only TIMESTAMP column.
fn rowtime_column(e: &SqlExpr, scope: &SourceScope) -> Result<Option<usize>> {
    let schema = &scope.table.schema;
    let is_rowtime =
        matches!(e, SqlExpr::Identifier(id) if id.value.eq_ignore_ascii_case("rowtime"));
    if !is_rowtime || schema.index_of("rowtime").is_some() {
        return Ok(None);
    }
    if let Some(name) = scope.table.property("timestamp") {
        return match schema.index_of(name) {
            Some(index) => Ok(Some(index)),
            None => Err(error_at(
                format!(
                    "the event-time column '{name}' (WITH 'timestamp') is not a column of {}",
                    scope.table.name
                ),
                e,
            )),
        };
    }
    let timestamps: Vec<usize> = (0..schema.fields.len())
        .filter(|&i| schema.fields[i].data_type == DataType::Timestamp)
        .collect();
    match timestamps.as_slice() {
        [one] => Ok(Some(*one)),
        _ => Err(error_at(
            format!(
                "this window takes its time from the source's event-time column, but {} has {} \
                 TIMESTAMP columns: declare one with WATERMARK FOR <column> .. or \
                 WITH ('timestamp' = '<column>')",
                scope.table.name,
                timestamps.len()
            ),
            e,
        )),
    }
}
