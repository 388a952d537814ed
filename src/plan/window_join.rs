//! Flink's window join: two streams, each through the same TUMBLE window
//! table function, joined on keys and on their windows:
//!
//! ```sql
//! FROM (SELECT * FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND))) o
//! [LEFT | RIGHT | FULL] JOIN (SELECT * FROM TABLE(TUMBLE(TABLE payments, ..))) p
//! ON o.id = p.order_id AND o.window_start = p.window_start AND o.window_end = p.window_end
//! ```
//!
//! (a side may also be the table function itself, and `FROM a, b WHERE ..`
//! the inner join). It is planned as a join of two streams (see
//! `stream_join`) over each source's columns followed by `window_start` and
//! `window_end`, which each side's rows get as they are read, from their
//! time. Rows are routed by the key alone, as in any join of two streams
//! (so a grouping by the key over the join runs on its shard), and the
//! windows' equality is a condition every pair must meet. The join keeps a
//! row until the watermark closes its window (`JoinInterval::tumbling`),
//! then drops it, writing it with NULLs if its side is outer and it never
//! matched; a row whose window has closed is late.
//!
//! Only tumbling windows: a hopping or cumulating window join pairs rows in
//! every window they share, which needs a row per window and side.

use super::interval::JoinInterval;
use super::join::conjuncts;
use super::planner::{Catalog, TableDef};
use super::resolve::{error_at, SourceScope};
use super::stages::table_named;
use super::window::flink_window;
use super::{from_window::from_window, BinaryOp, ExprKind, ScalarExpr, ScalarFunction, WindowKind};
use crate::data::{DataType, Field, Schema};
use crate::error::{Error, Result};
use sqlparser::ast::{
    visit_expressions_mut, BinaryOperator, Expr as SqlExpr, GroupByExpr, Ident, JoinConstraint,
    JoinOperator, Query, SelectItem, SetExpr, TableAlias, TableFactor,
};
use std::ops::ControlFlow;

/// The columns a window table function adds to its table's.
const WINDOW_COLUMNS: [&str; 2] = ["window_start", "window_end"];

/// A window join found in a query (whose FROM now names each side's
/// windowed table).
pub(super) struct WindowJoin {
    /// The catalog with each side's windowed table added: its source's
    /// columns, then `window_start` and `window_end`.
    pub catalog: Catalog,
    /// Each side's source as it is read, and its time column.
    pub sides: [WindowedSide; 2],
    pub size_ms: i64,
}

pub(super) struct WindowedSide {
    pub source: TableDef,
    pub time_column: usize,
}

impl WindowJoin {
    /// The join's time bounds: both rows in one window.
    pub fn interval(&self) -> JoinInterval {
        let time_columns = [0, 1].map(|side| self.sides[side].time_column);
        JoinInterval::tumbling(self.size_ms, time_columns)
    }

    /// A side's columns as the join sees them, over the row as read: its
    /// source's, then its window's start and end.
    pub fn own_columns(&self, side: usize) -> Vec<ScalarExpr> {
        let WindowedSide {
            source,
            time_column,
        } = &self.sides[side];
        let fields = source.schema.fields.iter().enumerate();
        let columns = fields.map(|(i, f)| ScalarExpr::column(i, f.data_type));
        let time = ScalarExpr::column(*time_column, source.schema.fields[*time_column].data_type);
        let bound = |func| {
            let kind = ExprKind::Function {
                func,
                args: vec![time.clone()],
            };
            ScalarExpr::new(kind, DataType::Timestamp)
        };
        let window = [
            bound(ScalarFunction::TumbleStart(self.size_ms)),
            bound(ScalarFunction::TumbleEnd(self.size_ms)),
        ];
        columns.chain(window).collect()
    }

    /// What every pair must meet: both rows in one window (equal
    /// `window_start`s; with one size, equal ends follow).
    pub fn same_window(&self) -> ScalarExpr {
        let left = self.sides[0].source.schema.len();
        let right = self.sides[1].source.schema.len();
        let start = |column| ScalarExpr::column(column, DataType::Timestamp);
        let kind = ExprKind::Binary {
            op: BinaryOp::Eq,
            left: Box::new(start(left)),
            right: Box::new(start(left + 2 + right)),
        };
        ScalarExpr::new(kind, DataType::Boolean)
    }

    /// True when joined-row column `column` is one a side's window adds
    /// (computed as its rows are read, so not there to filter them by).
    pub fn is_window_column(&self, column: usize) -> bool {
        let left = self.sides[0].source.schema.len();
        let right = self.sides[1].source.schema.len();
        (left..left + 2).contains(&column) || (left + 2 + right..left + 4 + right).contains(&column)
    }
}

/// A side of a window join as written: its source, the name its columns
/// are qualified by, and the window table function's name and arguments.
struct SideWindow {
    table: String,
    qualifier: Ident,
    function: String,
    args: Vec<SqlExpr>,
    /// The call, for error locations.
    call: SqlExpr,
}

/// The window join `query`'s FROM holds, if it is one: each side is then
/// rewritten to read its windowed table (in the returned catalog), `FROM
/// a, b WHERE ..` becomes `a JOIN b ON ..`, and ON loses the windows'
/// equalities (the join applies them: [`WindowJoin::same_window`]).
pub(super) fn window_join_of(query: &mut Query, catalog: &Catalog) -> Result<Option<WindowJoin>> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(None);
    };
    let comma_join = select.from.len() == 2;
    let [left, right] = match select.from.as_mut_slice() {
        [a, b] if a.joins.is_empty() && b.joins.is_empty() => [&mut a.relation, &mut b.relation],
        [from] if from.joins.len() == 1 => {
            let join = &mut from.joins[0];
            [&mut from.relation, &mut join.relation]
        }
        _ => return Ok(None),
    };
    let windows = [side_window(left)?, side_window(right)?];
    let [left_window, right_window] = match windows {
        [None, None] => return Ok(None),
        [Some(l), Some(r)] => [l, r],
        [Some(w), None] | [None, Some(w)] => {
            return Err(error_at(
                "a window join needs the same window table function on both sides: FROM \
                 (SELECT * FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), size))) x JOIN (SELECT \
                 * FROM TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), size))) y ON x.k = y.k AND \
                 x.window_start = y.window_start AND x.window_end = y.window_end; to window \
                 a join with a table or another stream, join first, then GROUP BY \
                 TUMBLE(ts, size)",
                &w.call,
            ))
        }
    };
    let mut extended = catalog.clone();
    let left_side = windowed_side(&left_window, catalog, &mut extended)?;
    let right_side = windowed_side(&right_window, catalog, &mut extended)?;
    let (size_ms, right_size) = (left_side.1, right_side.1);
    if size_ms != right_size {
        return Err(error_at(
            format!(
                "a window join joins rows of the same window: both sides need the same \
                 TUMBLE size ({size_ms} ms and {right_size} ms here)"
            ),
            &right_window.call,
        ));
    }
    *left = windowed_relation(&left_window);
    *right = windowed_relation(&right_window);
    if comma_join {
        super::stream_join::comma_join_as_inner_join(select)?;
    }
    let join = &mut select.from[0].joins[0];
    let qualifiers = [&left_window.qualifier, &right_window.qualifier];
    take_window_equalities(&mut join.join_operator, qualifiers, &right_window.call)?;
    group_by_the_window(query, [&left_window, &right_window])?;
    Ok(Some(WindowJoin {
        catalog: extended,
        sides: [left_side.0, right_side.0],
        size_ms,
    }))
}

/// The window of a FROM item that is a window table function, or `(SELECT
/// * FROM <one>) alias`.
fn side_window(relation: &TableFactor) -> Result<Option<SideWindow>> {
    let (relation, qualifier) = match relation {
        TableFactor::Derived {
            subquery, alias, ..
        } => {
            let Some(inner) = only_relation(subquery) else {
                return Ok(None);
            };
            if from_window(inner)?.is_none() {
                return Ok(None);
            }
            check_select_star(subquery)?;
            let Some(alias) = alias else {
                return Err(error_at(
                    "a window join's side needs an alias: (SELECT * FROM TABLE(TUMBLE(..))) AS x",
                    inner,
                ));
            };
            (inner, Some(alias.name.clone()))
        }
        other => (other, None),
    };
    let Some(window) = from_window(relation)? else {
        return Ok(None);
    };
    let table = window.table_name()?;
    let qualifier = qualifier
        .or_else(|| window.alias.map(|a| a.name.clone()))
        .unwrap_or_else(|| table.clone());
    Ok(Some(SideWindow {
        table: table.value.clone(),
        qualifier,
        function: window.name.clone(),
        args: window.args.iter().map(|a| (*a).clone()).collect(),
        call: window.call.clone(),
    }))
}

/// The one FROM item of `query`, when it is a plain SELECT over one.
fn only_relation(query: &Query) -> Option<&TableFactor> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    match select.from.as_slice() {
        [one] if one.joins.is_empty() => Some(&one.relation),
        _ => None,
    }
}

/// A window join's side must be the windowed table as it is: filters and
/// projections belong to the query around the join.
fn check_select_star(query: &Query) -> Result<()> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(());
    };
    let star = matches!(select.projection.as_slice(), [SelectItem::Wildcard(_)]);
    let plain = select.selection.is_none()
        && select.having.is_none()
        && select.distinct.is_none()
        && query.order_by.is_none()
        && query.limit_clause.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    if star && plain {
        return Ok(());
    }
    Err(error_at(
        "a window join's side must be SELECT * FROM TABLE(TUMBLE(..)): filter, project and \
         group in the query around the join (a grouping of each side before the join is not \
         supported yet)",
        select.as_ref(),
    ))
}

/// The windowed table of `window`'s source (added to `extended`) and the
/// window's size.
fn windowed_side(
    window: &SideWindow,
    catalog: &Catalog,
    extended: &mut Catalog,
) -> Result<(WindowedSide, i64)> {
    let Some(source) = catalog.get(&window.table) else {
        return Err(error_at(
            format!("unknown table {} in a window join", window.table),
            &window.call,
        ));
    };
    let scope = SourceScope::of(source, Some(window.qualifier.value.clone()));
    let args: Vec<&SqlExpr> = window.args.iter().collect();
    let spec = flink_window(&window.function, &args, &window.call, &scope)?;
    let WindowKind::Tumbling { size_ms } = spec.kind else {
        return Err(error_at(
            format!(
                "a window join over {} windows is not supported yet: only TUMBLE (a row of \
                 a hopping or cumulating window is in several windows)",
                window.function.to_ascii_uppercase()
            ),
            &window.call,
        ));
    };
    if let Some(taken) = WINDOW_COLUMNS
        .iter()
        .find(|c| source.schema.index_of(c).is_some())
    {
        return Err(error_at(
            format!(
                "{} has a column named {taken}, which its window would add again",
                source.name
            ),
            &window.call,
        ));
    }
    let fields = source.schema.fields.iter().cloned();
    let added = WINDOW_COLUMNS.map(|name| Field::new(name, DataType::Timestamp));
    extended.add(TableDef {
        name: windowed_name(&source.name),
        schema: Schema::new(fields.chain(added).collect()),
        properties: source.properties.clone(),
    });
    let side = WindowedSide {
        source: source.clone(),
        time_column: spec.time_column,
    };
    Ok((side, size_ms))
}

/// The catalog name of a source's windowed table.
fn windowed_name(source: &str) -> String {
    format!("TUMBLE({source})")
}

/// `<windowed table> AS <qualifier>`.
fn windowed_relation(window: &SideWindow) -> TableFactor {
    let mut relation = table_named(&Ident::with_quote('"', windowed_name(&window.table)));
    if let TableFactor::Table { alias, .. } = &mut relation {
        *alias = Some(TableAlias {
            explicit: true,
            name: window.qualifier.clone(),
            columns: Vec::new(),
            at: None,
        });
    }
    relation
}

/// `GROUP BY .., x.window_start, x.window_end` over a window join (x a
/// side) groups by the join's window: as `GROUP BY .., TUMBLE(x.ts, size)`,
/// with `x.window_start` and `x.window_end` elsewhere (either side's) its
/// `TUMBLE_START(..)` and `TUMBLE_END(..)`, so that each window's groups are
/// written when it closes, as Flink's window aggregation over a window join.
fn group_by_the_window(query: &mut Query, sides: [&SideWindow; 2]) -> Result<()> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(());
    };
    let GroupByExpr::Expressions(keys, _) = &mut select.group_by else {
        return Ok(());
    };
    let Some(side) = keys.iter().find_map(|k| window_bound_of(k, sides)) else {
        return Ok(());
    };
    let window = sides[side.0];
    let [time, size] = window.args.as_slice() else {
        return Ok(()); // not TUMBLE(TABLE t, DESCRIPTOR(ts), size): refused when planned
    };
    let qualifier = &window.qualifier;
    let call = |function: &str| parsed(&format!("{function}({qualifier}.{time}, {size})"));
    let (tumble, start, end) = (call("TUMBLE")?, call("TUMBLE_START")?, call("TUMBLE_END")?);
    keys.retain(|k| window_bound_of(k, sides).is_none());
    keys.push(tumble);
    let mut replace = |e: &mut SqlExpr| {
        if let Some((_, column)) = window_bound_of(e, sides) {
            *e = if column == 0 {
                start.clone()
            } else {
                end.clone()
            };
        }
        ControlFlow::<()>::Continue(())
    };
    for item in &mut select.projection {
        // Named as the window table function's columns are.
        if let SelectItem::UnnamedExpr(e) = item {
            if let Some((_, column)) = window_bound_of(e, sides) {
                let alias = Ident::new(WINDOW_COLUMNS[column]);
                let expr = e.clone();
                *item = SelectItem::ExprWithAlias { expr, alias };
            }
        }
    }
    let _ = visit_expressions_mut(&mut select.projection, &mut replace);
    let _ = visit_expressions_mut(&mut select.having, &mut replace);
    let _ = visit_expressions_mut(&mut query.order_by, &mut replace);
    Ok(())
}

/// For `x.window_start` (`x.window_end`) with x a side: the side, and 0 (1).
fn window_bound_of(e: &SqlExpr, sides: [&SideWindow; 2]) -> Option<(usize, usize)> {
    let SqlExpr::CompoundIdentifier(parts) = e else {
        return None;
    };
    let [qualifier, column] = parts.as_slice() else {
        return None;
    };
    let side = sides
        .iter()
        .position(|s| s.qualifier.value.eq_ignore_ascii_case(&qualifier.value))?;
    let bound = WINDOW_COLUMNS
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&column.value))?;
    Some((side, bound))
}

/// `text` as an expression (written by this module from parsed parts).
fn parsed(text: &str) -> Result<SqlExpr> {
    sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| Error::plan(format!("the window join's `{text}`: {e}"), None))
}

/// Checks that ON equates the two sides' `window_start` and `window_end`
/// (as Flink requires), and takes both equalities out of it.
fn take_window_equalities(
    operator: &mut JoinOperator,
    qualifiers: [&Ident; 2],
    at: &SqlExpr,
) -> Result<()> {
    let on = match operator {
        JoinOperator::Join(JoinConstraint::On(on))
        | JoinOperator::Inner(JoinConstraint::On(on))
        | JoinOperator::Left(JoinConstraint::On(on))
        | JoinOperator::LeftOuter(JoinConstraint::On(on))
        | JoinOperator::Right(JoinConstraint::On(on))
        | JoinOperator::RightOuter(JoinConstraint::On(on))
        | JoinOperator::FullOuter(JoinConstraint::On(on)) => on,
        _ => {
            return Err(error_at(
                "a window join needs ON with its keys and windows: ON x.k = y.k AND \
                 x.window_start = y.window_start AND x.window_end = y.window_end",
                at,
            ))
        }
    };
    let all: Vec<SqlExpr> = conjuncts(on).into_iter().cloned().collect();
    let equates = |e: &SqlExpr, column: &str| equates_window_bound(e, column, qualifiers);
    let missing = WINDOW_COLUMNS
        .iter()
        .find(|column| !all.iter().any(|e| equates(e, column)));
    if let Some(column) = missing {
        let [l, r] = qualifiers.map(|q| q.value.clone());
        return Err(error_at(
            format!(
                "a window join's ON must equate the two sides' windows: add AND \
                 {l}.{column} = {r}.{column} (Flink's window join requires window_start and \
                 window_end equalities)"
            ),
            on,
        ));
    }
    let kept = all
        .into_iter()
        .filter(|e| !WINDOW_COLUMNS.iter().any(|column| equates(e, column)));
    *on = kept
        .reduce(|all, c| SqlExpr::BinaryOp {
            left: Box::new(all),
            op: BinaryOperator::And,
            right: Box::new(c),
        })
        .unwrap_or(SqlExpr::Value(sqlparser::ast::Value::Boolean(true).into()));
    Ok(())
}

/// True for `x.column = y.column` with x and y the two sides, either order.
fn equates_window_bound(e: &SqlExpr, column: &str, qualifiers: [&Ident; 2]) -> bool {
    let SqlExpr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = e
    else {
        return false;
    };
    let side_of = |e: &SqlExpr| match e {
        SqlExpr::CompoundIdentifier(parts)
            if parts.len() == 2 && parts[1].value.eq_ignore_ascii_case(column) =>
        {
            qualifiers
                .iter()
                .position(|q| q.value.eq_ignore_ascii_case(&parts[0].value))
        }
        _ => None,
    };
    matches!((side_of(left), side_of(right)), (Some(a), Some(b)) if a != b)
}
