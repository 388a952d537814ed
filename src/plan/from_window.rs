//! Windows written in FROM as table functions: RisingWave's
//! `FROM TUMBLE(t, ts, size)` / `HOP(t, ts, slide, size)` and Flink's
//! `FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size))` / `HOP(.., slide, size)`
//! / `SESSION(TABLE t [PARTITION BY k], DESCRIPTOR(ts), gap)` (the front end
//! drops the `TABLE` before `t` and moves PARTITION BY to a last
//! `PARTITION_BY(k)` argument). Both name the source and a window; the
//! window is the same as `GROUP BY TUMBLE(ts, size)`, and the query groups by
//! `window_start, window_end` and its other keys.

use super::functions::is_window_function;
use super::resolve::{error_at, function_name, positional_args};
use crate::error::Result;
use crate::sql::PARTITION_ARGUMENT;
use sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, Ident, ObjectName, TableAlias, TableFactor,
};

/// A window table function in FROM: the table it reads, its alias, the
/// function's name (`tumble`, `hop`) and its arguments after the table,
/// with `DESCRIPTOR(ts)` unwrapped to `ts`.
pub(crate) struct FromWindow<'q> {
    pub table: &'q SqlExpr,
    pub alias: Option<&'q TableAlias>,
    pub name: String,
    pub args: Vec<&'q SqlExpr>,
    /// SESSION's `TABLE t PARTITION BY k, ..` columns (sessions per key);
    /// empty for sessions over the whole stream.
    pub partition: Vec<&'q SqlExpr>,
    /// The call, for error locations.
    pub call: &'q SqlExpr,
}

impl<'q> FromWindow<'q> {
    /// The table the function reads (its first argument must name one).
    pub fn table_name(&self) -> Result<&'q Ident> {
        match self.table {
            SqlExpr::Identifier(name) => Ok(name),
            other => Err(error_at(
                format!(
                    "the window table function's first argument must be a table name, got \
                     `{other}`"
                ),
                other,
            )),
        }
    }
}

/// The window table function `relation` is, if it is one.
pub(crate) fn from_window(relation: &TableFactor) -> Result<Option<FromWindow<'_>>> {
    match relation {
        TableFactor::TableFunction { expr, alias } => flink_call(expr, alias.as_ref()),
        TableFactor::Table {
            name,
            alias,
            args: Some(args),
            ..
        } if is_window_name(name) => {
            let exprs = args
                .args
                .iter()
                .map(|a| unnamed_arg(a, relation))
                .collect::<Result<Vec<_>>>()?;
            let (table, rest) = split_table(&exprs, relation)?;
            let call = table;
            let name = name.to_string().to_ascii_lowercase();
            let (args, partition) = split_partition(rest, &name, call)?;
            Ok(Some(FromWindow {
                table,
                alias: alias.as_ref(),
                name,
                args,
                partition,
                call,
            }))
        }
        _ => Ok(None),
    }
}

fn is_window_name(name: &ObjectName) -> bool {
    is_window_function(&name.to_string().to_ascii_lowercase())
}

/// `TABLE(TUMBLE(t, DESCRIPTOR(ts), size))`.
fn flink_call<'q>(
    expr: &'q SqlExpr,
    alias: Option<&'q TableAlias>,
) -> Result<Option<FromWindow<'q>>> {
    let SqlExpr::Function(f) = expr else {
        return Err(error_at(
            format!("FROM TABLE({expr}) is not supported"),
            expr,
        ));
    };
    let name = function_name(f);
    if !matches!(name.as_str(), "tumble" | "hop" | "cumulate" | "session") {
        return Err(error_at(
            format!(
                "FROM TABLE({}(..)) is not supported; the window table functions \
                 TUMBLE, HOP, CUMULATE and SESSION are",
                name.to_ascii_uppercase()
            ),
            expr,
        ));
    }
    let args = positional_args(f, expr)?;
    let (table, rest) = split_table(&args, expr)?;
    let (args, partition) = split_partition(rest, &name, expr)?;
    Ok(Some(FromWindow {
        table,
        alias,
        name,
        args,
        partition,
        call: expr,
    }))
}

/// The window's arguments and, from SESSION's `PARTITION_BY(..)` last
/// argument (see `sql::PARTITION_ARGUMENT`), its partition columns.
fn split_partition<'q>(
    mut args: Vec<&'q SqlExpr>,
    name: &str,
    call: &SqlExpr,
) -> Result<(Vec<&'q SqlExpr>, Vec<&'q SqlExpr>)> {
    let partition = match args.last() {
        Some(SqlExpr::Function(f))
            if function_name(f) == PARTITION_ARGUMENT.to_ascii_lowercase() =>
        {
            positional_args(f, call)?
        }
        _ => return Ok((args, Vec::new())),
    };
    if name != "session" {
        return Err(error_at(
            format!(
                "PARTITION BY in {}(..) is not supported: only SESSION takes it",
                name.to_ascii_uppercase()
            ),
            call,
        ));
    }
    args.pop();
    Ok((args, partition))
}

/// Flink's SESSION table function keeps sessions per PARTITION BY key (or
/// over the whole stream without one); corestream keeps them per GROUP BY
/// key. The two agree when the query groups by exactly the partition
/// columns, besides the window bounds.
pub(crate) fn check_session_partition(window: &FromWindow, keys: &[&SqlExpr]) -> Result<()> {
    if window.name != "session" {
        return Ok(());
    }
    let names = |exprs: &[&SqlExpr]| {
        let mut names: Vec<String> = exprs
            .iter()
            .map(|e| e.to_string().to_ascii_lowercase())
            .collect();
        names.sort();
        names
    };
    if names(&window.partition) == names(keys) {
        return Ok(());
    }
    let partition: Vec<String> = window.partition.iter().map(|e| e.to_string()).collect();
    Err(error_at(
        format!(
            "a query over SESSION(TABLE t PARTITION BY {}, ..) must GROUP BY window_start, \
             window_end and exactly the PARTITION BY columns: sessions are kept per group",
            if partition.is_empty() {
                "<none>".to_string()
            } else {
                partition.join(", ")
            }
        ),
        window.call,
    ))
}

/// The table argument and the window's arguments (time column first).
fn split_table<'q>(
    args: &[&'q SqlExpr],
    at: &impl sqlparser::ast::Spanned,
) -> Result<(&'q SqlExpr, Vec<&'q SqlExpr>)> {
    let Some((table, rest)) = args.split_first() else {
        return Err(error_at(
            "a window table function takes (table, time column, durations..)",
            at,
        ));
    };
    let rest = rest.iter().map(|a| descriptor_column(a)).collect();
    Ok((table, rest))
}

/// `DESCRIPTOR(ts)` is `ts`; anything else is itself.
fn descriptor_column(e: &SqlExpr) -> &SqlExpr {
    if let SqlExpr::Function(f) = e {
        if function_name(f) == "descriptor" {
            if let Ok(args) = positional_args(f, e) {
                if let [column] = args.as_slice() {
                    return column;
                }
            }
        }
    }
    e
}

fn unnamed_arg<'q>(arg: &'q FunctionArg, at: &TableFactor) -> Result<&'q SqlExpr> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
        other => Err(error_at(format!("argument `{other}` is not supported"), at)),
    }
}
