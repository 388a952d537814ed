//! Plan: the typed logical plan of a query.
//!
//! Owns resolving names to column positions, checking types, splitting a
//! grouped query into keys, aggregates and the expressions over them, and
//! `explain`. It never touches rows.

mod changelog;
mod compiled;
mod dedup;
mod explain;
mod expr;
mod from_window;
mod functions;
mod group_refs;
mod inline;
mod interval;
mod join;
mod order;
mod over;
mod planner;
mod resolve;
mod sink;
mod stages;
mod stream_join;
mod top_n;
mod typecheck;
mod union;
mod window;
mod window_join;

pub use changelog::{RowKind, CHANGELOG_OP_COLUMN};
pub use compiled::{CompiledFunction, JsonPath, JsonStep, Pattern};
pub use explain::{INTERVAL_JOIN_STATE, JOIN_STATE};
pub use expr::*;
pub use interval::JoinInterval;
pub use join::{JoinKind, LookupJoin};
pub use order::SortKey;
pub use over::{Frame, OverCall, OverFunction, OverPlan, RankKey, Shift};
pub use planner::{plan_query, Catalog, PlanSettings, TableDef};
pub(crate) use resolve::visit_columns_mut;
pub use stages::{GroupStage, RankStage, SecondStage};
pub use stream_join::{StreamJoin, StreamJoinKind};
pub use top_n::{Ranking, TopNPlan, MAX_TOP_N};
pub use union::{UnionBranch, UnionPlan};
pub use window::MAX_WINDOWS_PER_RECORD;

use crate::data::{Field, Schema};

/// Everything a [`crate::engine::PartitionEngine`] needs to run one query.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The source the query reads, with its schema and WITH properties.
    pub source: TableDef,
    /// Tables joined to every source row, in order: each appends its
    /// columns to the row (see [`QueryPlan::row_schema`]).
    pub lookups: Vec<LookupJoin>,
    /// WHERE, over the row (an inner join's "matched" test included).
    pub filter: Option<ScalarExpr>,
    pub kind: QueryKind,
    /// Names and types of the output columns, in SELECT order.
    pub output: Schema,
    pub emit: EmitMode,
    /// Output is a changelog: a first column [`CHANGELOG_OP_COLUMN`] says what
    /// each row does to the result (`+I`, `-U`, `+U`, `-D`).
    pub changelog: bool,
    /// ORDER BY: the final result is sorted by these output columns (the
    /// ordering contract's order breaks ties); empty: no sort.
    pub order_by: Vec<SortKey>,
    pub limit: Option<u64>,
    pub time: TimeSettings,
    /// `CREATE STREAM <name>`: the output's name, if given.
    pub stream_name: Option<String>,
    /// WITH properties of `CREATE STREAM` (sink, dead letter, time settings), lower-cased keys.
    pub properties: Vec<(String, String)>,
    /// A second stage that ranks or groups this plan's rows on the merger
    /// (a Top-N or a grouping over a grouping); `output`, `emit`,
    /// `changelog`, `order_by` and `limit` are then its.
    pub stage: Option<SecondStage>,
    /// The branches of the UNION ALL the query reads, whose rows make up
    /// `source` (a table of the union's columns that no file backs).
    pub union: Option<UnionPlan>,
    /// A join of two streams (the union's two branches), done on the shard
    /// that owns each key before WHERE and the SELECT list.
    pub join: Option<StreamJoin>,
}

impl QueryPlan {
    /// The tables the query reads: its source, or each branch's of its UNION ALL.
    pub fn sources(&self) -> Vec<&TableDef> {
        match &self.union {
            Some(union) => union.branches.iter().map(|b| &b.source).collect(),
            None => vec![&self.source],
        }
    }

    /// The source column that carries event time: the window's time column
    /// (an interval join's: each row's own time).
    pub fn event_time_column(&self) -> Option<usize> {
        if let Some(join) = &self.join {
            return join.interval.map(|_| join.time_column());
        }
        match &self.kind {
            QueryKind::Aggregate(a) => a.window.as_ref().map(|w| w.time_column),
            QueryKind::Over(over) => Some(over.time_column),
            QueryKind::Stateless { .. } | QueryKind::TopN(_) => None,
        }
    }

    /// True when shards may aggregate the rows they read before sending
    /// each key's state to its shard (`engine::PreAggregator`): an EMIT
    /// FINAL grouping, unwindowed or in tumbling, hopping or cumulating
    /// windows (not sessions, which merge), not over a join of two streams,
    /// whose every call merges exactly ([`AggregateCall::merges_exactly`]).
    pub fn pre_aggregates(&self) -> bool {
        let QueryKind::Aggregate(grouping) = &self.kind else {
            return false;
        };
        let exact = grouping
            .aggregates
            .iter()
            .all(AggregateCall::merges_exactly);
        let aligned = grouping
            .window
            .is_none_or(|window| !matches!(window.kind, WindowKind::Session { .. }));
        exact && aligned && self.emit == EmitMode::Final && self.join.is_none()
    }

    /// True when every row can be processed on its own (no GROUP BY, no
    /// aggregate, no join of two streams).
    pub fn is_stateless(&self) -> bool {
        matches!(self.kind, QueryKind::Stateless { .. }) && self.join.is_none()
    }

    /// When the output holds everything a record caused (see [`Settling`]).
    pub fn settling(&self) -> Settling {
        if !self.order_by.is_empty() {
            // The sorted result is written when the input ends.
            return Settling::AtEnd;
        }
        if self.join.is_some() {
            // A row's pairs come as later rows arrive, its unmatched row at the end.
            return Settling::AtEnd;
        }
        let aggregate = match &self.kind {
            QueryKind::Aggregate(aggregate) => aggregate,
            QueryKind::Stateless { .. } => return Settling::AtOnce,
            // LEAD holds a row until its partition's next rows come.
            QueryKind::Over(over) if over.waits_for_following_rows() => return Settling::AtEnd,
            // Its rows are state a restart would not have.
            QueryKind::TopN(_) => return Settling::AtEnd,
            // A row is out once the watermark passes its event time.
            QueryKind::Over(_) => {
                return Settling::Windows {
                    size_ms: 1,
                    advance_ms: 1,
                    lateness_ms: 0,
                }
            }
        };
        let lateness_ms = self.time.allowed_lateness_ms;
        match aggregate.window.map(|w| w.kind) {
            Some(WindowKind::Tumbling { size_ms }) => Settling::Windows {
                size_ms,
                advance_ms: size_ms,
                lateness_ms,
            },
            Some(WindowKind::Sliding {
                size_ms,
                advance_ms,
            }) => Settling::Windows {
                size_ms,
                advance_ms,
                lateness_ms,
            },
            // A record's last window closes at its start + size, as a
            // tumbling window of `size` would.
            Some(WindowKind::Cumulating { size_ms, .. }) => Settling::Windows {
                size_ms,
                advance_ms: size_ms,
                lateness_ms,
            },
            Some(WindowKind::Session { .. }) | None => Settling::AtEnd,
        }
    }

    /// The row every clause is evaluated over: the source's columns, then
    /// each joined table's.
    pub fn row_schema(&self) -> Schema {
        let joined = self
            .lookups
            .iter()
            .flat_map(|j| j.table.schema.fields.iter());
        let fields = self.source.schema.fields.iter().chain(joined).cloned();
        Schema::new(fields.collect())
    }

    /// How many values a row holds: [`QueryPlan::row_schema`]'s width.
    pub fn row_width(&self) -> usize {
        let joined: usize = self.lookups.iter().map(|j| j.table.schema.len()).sum();
        self.source.schema.len() + joined
    }

    /// The output column names.
    pub fn output_fields(&self) -> &[Field] {
        &self.output.fields
    }
}

#[derive(Debug, Clone)]
pub enum QueryKind {
    /// Filter and project, row by row.
    Stateless { projections: Vec<ScalarExpr> },
    /// GROUP BY and/or aggregates, optionally windowed.
    Aggregate(AggregatePlan),
    /// Window functions (OVER): one row per input row, in event time.
    Over(OverPlan),
    /// ROW_NUMBER by a value, bounded: the first N rows of each partition.
    TopN(TopNPlan),
}

/// A grouped query. Expressions after aggregation (`having`, `projections`)
/// are evaluated over the *group row*:
/// `[key_0 .. key_k-1, agg_0 .. agg_m-1, window_start, window_end]`
/// (the two window columns only when `window` is set, both TIMESTAMP).
#[derive(Debug, Clone)]
pub struct AggregatePlan {
    /// GROUP BY expressions over the source row (the window function excluded).
    pub group_keys: Vec<ScalarExpr>,
    pub window: Option<WindowSpec>,
    pub aggregates: Vec<AggregateCall>,
    /// HAVING, over the group row.
    pub having: Option<ScalarExpr>,
    /// SELECT list, over the group row.
    pub projections: Vec<ScalarExpr>,
}

impl AggregatePlan {
    /// Index of `window_start` in the group row (when windowed).
    pub fn window_start_index(&self) -> usize {
        self.group_keys.len() + self.aggregates.len()
    }

    /// Index of `window_end` in the group row (when windowed).
    pub fn window_end_index(&self) -> usize {
        self.window_start_index() + 1
    }

    /// Width of the group row.
    pub fn group_row_width(&self) -> usize {
        self.window_start_index() + if self.window.is_some() { 2 } else { 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Aligned to multiples of `size_ms` since the epoch.
    Tumbling { size_ms: i64 },
    /// Windows of `size_ms` starting at every multiple of `advance_ms`.
    Sliding { size_ms: i64, advance_ms: i64 },
    /// Flink's CUMULATE: from every multiple `s` of `size_ms`, the windows
    /// `[s, s + step)`, `[s, s + 2 step)`, .. `[s, s + size)`; `step_ms`
    /// divides `size_ms`.
    Cumulating { size_ms: i64, step_ms: i64 },
    /// Per key; records within `gap_ms` of each other share a window, which
    /// ends at the last record's time plus the gap.
    Session { gap_ms: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    pub kind: WindowKind,
    /// The source column with event time (TIMESTAMP, or BIGINT epoch millis).
    pub time_column: usize,
}

/// When the output holds everything a record caused, so that a replayable
/// source (Kafka) may commit past it: what a restart would otherwise have to
/// read again to rebuild state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settling {
    /// Once the rows its chunk produced are written (filter and project).
    AtOnce,
    /// Once the watermark has closed every window the record falls in.
    Windows {
        size_ms: i64,
        advance_ms: i64,
        lateness_ms: i64,
    },
    /// Only at the end of the input: an unwindowed GROUP BY or a session
    /// keeps state that any later record can change.
    AtEnd,
}

impl Settling {
    /// The watermark at which everything records up to `event_time` caused
    /// is in the output (`None`: never before the input ends).
    pub fn settled_at(self, event_time: Option<i64>) -> Option<i64> {
        match (self, event_time) {
            (Settling::AtOnce, _) | (Settling::Windows { .. }, None) => Some(i64::MIN),
            (
                Settling::Windows {
                    size_ms,
                    advance_ms,
                    lateness_ms,
                },
                Some(t),
            ) => {
                let last_start = t.div_euclid(advance_ms.max(1)) * advance_ms.max(1);
                Some(
                    last_start
                        .saturating_add(size_ms)
                        .saturating_add(lateness_ms),
                )
            }
            (Settling::AtEnd, _) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitMode {
    /// A row after every record that changes a group.
    Changes,
    /// One row per window and key when the window closes (at end of input
    /// for unwindowed groups).
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeSettings {
    /// The watermark trails the largest event time read by this much.
    pub max_out_of_orderness_ms: i64,
    /// A window stays open this long after the watermark passes its end.
    pub allowed_lateness_ms: i64,
    /// The watermark moves only when the runtime aligns it (at chunk ends),
    /// not with each record read. Both runtimes set it: the watermark is
    /// then the same on every shard, whatever records each one sees (see
    /// `runtime::run_with`). Engines driven record by record (tests) leave
    /// it unset.
    pub aligned_only: bool,
}
