//! Pre-aggregation: a shard aggregates the rows it reads itself and sends
//! each key's partial state to the key's owner, instead of sending it every
//! row. For an unwindowed EMIT FINAL grouping whose every call merges
//! exactly (`QueryPlan::pre_aggregates`: COUNT, SUM, AVG, MIN, MAX,
//! BOOL_AND/OR), the owner folds the partial states of each input chunk in
//! chunk order, which gives the state a single pass over the input would:
//! the output is the same at every shard count. A 1 MiB chunk of the
//! billion-row challenge (about 70,000 rows over 400 stations) then crosses
//! the shards as at most 400 states, not 70,000 rows.
//!
//! [`PreAggregator`] runs WHERE and the grouping of the query's own engine
//! over the rows of one chunk, then splits the groups by owner into
//! [`PartialGroups`]. When a chunk's rows barely repeat their keys (more
//! than half as many groups as rows), a state per key is no smaller than
//! the rows: [`PreAggregator::worthwhile`] turns false and the shard routes
//! rows as before from its next chunk on (the owner may take rows and
//! partial states in any mix: both are folded in chunk order).

use super::group_table::GroupTable;
use super::partition::{EngineStats, Output, PartitionEngine};
use super::route::KeyRouter;
use crate::data::{time_value, Batch};
use crate::plan::{QueryKind, QueryPlan};

/// One chunk's groups owned by one shard, with their aggregate states, and
/// how many records they summarise.
#[derive(Debug)]
pub struct PartialGroups {
    /// Each table with the end of its window (`None`: unwindowed).
    pub(super) tables: Vec<(Option<i64>, GroupTable)>,
    records: u64,
}

impl PartialGroups {
    /// The records folded into these states.
    pub fn records(&self) -> u64 {
        self.records
    }
}

/// A chunk with more than this many groups per row does not pre-aggregate
/// well (see the module documentation).
const WORTHWHILE_GROUPS_PER_ROW: f64 = 0.5;

/// The same for windowed groupings, whose groups (one per key and window)
/// cost more to split and merge than they save unless about ten rows share
/// one: measured on generated trades, 10,000 keys in 1-minute windows (six
/// rows a group) took 10% more CPU at 2 shards pre-aggregated than routed,
/// 100 keys (hundreds of rows a group) half the CPU.
const WORTHWHILE_WINDOW_GROUPS_PER_ROW: f64 = 0.1;

/// Aggregates a shard's own rows, a chunk at a time, into partial states.
pub struct PreAggregator {
    engine: PartitionEngine,
    router: KeyRouter,
    partitions: usize,
    /// Records taken into the current chunk's groups (past WHERE).
    pending_records: u64,
    worthwhile: bool,
    /// A windowed plan: the column of the event time its windows follow.
    time_column: Option<usize>,
    /// The earliest event time among the current chunk's records.
    earliest: Option<i64>,
    /// The engine's counters when the current chunk began.
    chunk_start: EngineStats,
}

impl PreAggregator {
    /// A pre-aggregator for `plan` over `partitions` shards; `None` when the
    /// plan cannot pre-aggregate (or there is one shard: nothing to save).
    pub fn for_plan(plan: &QueryPlan, partitions: usize) -> Option<PreAggregator> {
        if partitions < 2 || !plan.pre_aggregates() {
            return None;
        }
        // Its watermark must not move: which records are late is decided
        // where the states are merged (see `late_at`).
        let mut plan = plan.clone();
        plan.time.aligned_only = true;
        let windowed = matches!(&plan.kind, QueryKind::Aggregate(a) if a.window.is_some());
        Some(PreAggregator {
            engine: PartitionEngine::new(&plan),
            router: KeyRouter::new(&plan),
            partitions,
            pending_records: 0,
            worthwhile: true,
            time_column: windowed.then(|| plan.event_time_column()).flatten(),
            earliest: None,
            chunk_start: EngineStats::default(),
        })
    }

    /// Whether the plan is windowed (see `late_at`).
    pub fn is_windowed(&self) -> bool {
        self.time_column.is_some()
    }

    /// Whether the current chunk has a record with an event time (one that
    /// might be late: see `late_at`).
    pub fn holds_event_times(&self) -> bool {
        self.earliest.is_some()
    }

    /// Runs WHERE over `batch` and adds the rows that pass to their groups;
    /// returns the largest event time among all its rows (none unwindowed).
    pub fn push(&mut self, batch: &Batch) -> Option<i64> {
        let mut latest = None;
        if let Some(column) = self.time_column {
            for t in batch
                .rows()
                .filter_map(|(row, _)| row.get(column).and_then(time_value))
            {
                latest = latest.max(Some(t));
                self.earliest = Some(self.earliest.map_or(t, |earliest| earliest.min(t)));
            }
        }
        let before = self.engine.stats().processed;
        // A watermark that never moves closes no window: no rows are written.
        self.engine.push(batch, &mut Output::default());
        self.pending_records += self.engine.stats().processed - before;
        latest
    }

    /// Whether a record of the current chunk might be late at `watermark`
    /// (the watermark when the chunk began, where its states are merged).
    /// Then its states must not be sent: the owner could not dead-letter
    /// the late records, so the chunk's rows are sent instead
    /// ([`PreAggregator::abandon_for_rows`]). Rarely so: only a chunk that
    /// reaches back behind the watermark.
    pub fn late_at(&mut self, watermark: Option<i64>) -> bool {
        let (Some(t), Some(watermark)) = (self.earliest, watermark) else {
            return false;
        };
        self.engine
            .grouping_mut()
            .is_some_and(|grouping| grouping.may_be_late_from(t, watermark))
    }

    /// The current chunk's groups, one entry per shard (`None`: no group of
    /// that shard's), and forgets them.
    pub fn take_partials(&mut self) -> Vec<Option<PartialGroups>> {
        let mut owned: Vec<Vec<(Option<i64>, GroupTable)>> = vec![Vec::new(); self.partitions];
        let records = std::mem::take(&mut self.pending_records);
        self.start_chunk();
        let Some(grouping) = self.engine.grouping_mut() else {
            return Vec::new();
        };
        let aggs = grouping.aggregates();
        let mut groups = 0;
        for (window_end, window) in grouping.groups_by_window() {
            groups += window.len();
            let mut tables: Vec<Option<GroupTable>> = vec![None; self.partitions];
            for id in 0..window.len() {
                let owner = self
                    .router
                    .partition_of_key(window.key(id), self.partitions);
                let table = tables[owner].get_or_insert_with(|| window.empty_like(aggs));
                table.merge_group(window, id, aggs);
            }
            for (owner, table) in tables.into_iter().enumerate() {
                owned[owner].extend(table.map(|table| (window_end, table)));
            }
        }
        if records > 0 {
            let per_row = groups as f64 / records as f64;
            self.worthwhile = match self.time_column.is_some() {
                true => per_row <= WORTHWHILE_WINDOW_GROUPS_PER_ROW,
                false => per_row <= WORTHWHILE_GROUPS_PER_ROW,
            };
        }
        grouping.clear_groups();
        // The chunk's records are credited to the first shard's partial
        // (only the total over shards means anything).
        let mut records = Some(records);
        owned
            .into_iter()
            .map(|tables| {
                (!tables.is_empty()).then(|| PartialGroups {
                    tables,
                    records: records.take().unwrap_or(0),
                })
            })
            .collect()
    }

    /// The current chunk ended without its end (a stop or a read error):
    /// forgets its groups and returns how many records they held (never
    /// sent: discarded).
    pub fn abandon(&mut self) -> u64 {
        if let Some(grouping) = self.engine.grouping_mut() {
            grouping.clear_groups();
        }
        self.start_chunk();
        std::mem::take(&mut self.pending_records)
    }

    /// Forgets the current chunk's groups and what its WHERE counted: its
    /// rows are sent to their owners as rows after all (see `late_at`).
    pub fn abandon_for_rows(&mut self) {
        self.engine.restore_stats(self.chunk_start);
        self.abandon();
    }

    fn start_chunk(&mut self) {
        self.earliest = None;
        self.chunk_start = self.engine.stats();
    }

    /// False once a chunk had nearly as many groups as rows: route rows.
    pub fn worthwhile(&self) -> bool {
        self.worthwhile
    }

    /// The counters of what this shard's own WHERE did. Records that pass
    /// count as processed where their partial state is merged (or as
    /// discarded when it never is), not here.
    pub fn stats(&self) -> EngineStats {
        let stats = self.engine.stats();
        EngineStats {
            records_in: stats.records_in - stats.processed,
            processed: 0,
            ..stats
        }
    }
}
