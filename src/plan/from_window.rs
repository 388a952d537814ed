//! Windows written in FROM as table functions: RisingWave's
//! `FROM TUMBLE(t, ts, size)` / `HOP(t, ts, slide, size)` and Flink's
//! `FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size))` / `HOP(.., slide, size)`
//! (the front end drops the `TABLE` before `t`). Both name the source and a
//! window; the window is the same as `GROUP BY TUMBLE(ts, size)`, and the
//! query groups by `window_start, window_end` and its other keys.

use super::functions::is_window_function;
use super::resolve::{error_at, function_name, positional_args};
use crate::error::Result;
use sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, ObjectName, TableAlias, TableFactor,
};

/// A window table function in FROM: the table it reads, its alias, the
/// function's name (`tumble`, `hop`) and its arguments after the table,
/// with `DESCRIPTOR(ts)` unwrapped to `ts`.
pub(crate) struct FromWindow<'q> {
    pub table: &'q SqlExpr,
    pub alias: Option<&'q TableAlias>,
    pub name: String,
    pub args: Vec<&'q SqlExpr>,
    /// The call, for error locations.
    pub call: &'q SqlExpr,
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
            Ok(Some(FromWindow {
                table,
                alias: alias.as_ref(),
                name: name.to_string().to_ascii_lowercase(),
                args: rest,
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
    if !matches!(name.as_str(), "tumble" | "hop") {
        return Err(error_at(
            format!(
                "FROM TABLE({}(..)) is not supported; the window table functions \
                 TUMBLE and HOP are (CUMULATE and SESSION are not yet)",
                name.to_ascii_uppercase()
            ),
            expr,
        ));
    }
    let args = positional_args(f, expr)?;
    let (table, rest) = split_table(&args, expr)?;
    Ok(Some(FromWindow {
        table,
        alias,
        name,
        args: rest,
        call: expr,
    }))
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
