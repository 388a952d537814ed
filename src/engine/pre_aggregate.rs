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
use crate::data::Batch;
use crate::plan::QueryPlan;

/// One chunk's groups owned by one shard, with their aggregate states, and
/// how many records they summarise.
#[derive(Debug)]
pub struct PartialGroups {
    pub(super) table: GroupTable,
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

/// Aggregates a shard's own rows, a chunk at a time, into partial states.
pub struct PreAggregator {
    engine: PartitionEngine,
    router: KeyRouter,
    partitions: usize,
    /// Records taken into the current chunk's groups (past WHERE).
    pending_records: u64,
    worthwhile: bool,
}

impl PreAggregator {
    /// A pre-aggregator for `plan` over `partitions` shards; `None` when the
    /// plan cannot pre-aggregate (or there is one shard: nothing to save).
    pub fn for_plan(plan: &QueryPlan, partitions: usize) -> Option<PreAggregator> {
        if partitions < 2 || !plan.pre_aggregates() {
            return None;
        }
        Some(PreAggregator {
            engine: PartitionEngine::new(plan),
            router: KeyRouter::new(plan),
            partitions,
            pending_records: 0,
            worthwhile: true,
        })
    }

    /// Runs WHERE over `batch` and adds the rows that pass to their groups.
    pub fn push(&mut self, batch: &Batch) {
        let before = self.engine.stats().processed;
        // An unwindowed EMIT FINAL grouping writes no rows before the end.
        self.engine.push(batch, &mut Output::default());
        self.pending_records += self.engine.stats().processed - before;
    }

    /// The current chunk's groups, one entry per shard (`None`: no group of
    /// that shard's), and forgets them.
    pub fn take_partials(&mut self) -> Vec<Option<PartialGroups>> {
        let mut tables: Vec<Option<GroupTable>> = vec![None; self.partitions];
        let records = std::mem::take(&mut self.pending_records);
        let Some(grouping) = self.engine.grouping_mut() else {
            return Vec::new();
        };
        if let Some(groups) = grouping.unwindowed_groups() {
            let aggs = grouping.aggregates();
            for id in 0..groups.len() {
                let owner = self
                    .router
                    .partition_of_key(groups.key(id), self.partitions);
                let table = tables[owner].get_or_insert_with(|| groups.empty_like(aggs));
                table.merge_group(groups, id, aggs);
            }
            if records > 0 {
                let per_row = groups.len() as f64 / records as f64;
                self.worthwhile = per_row <= WORTHWHILE_GROUPS_PER_ROW;
            }
        }
        grouping.clear_unwindowed_groups();
        // The chunk's records are credited to the first shard's partial
        // (only the total over shards means anything).
        let mut records = Some(records);
        tables
            .into_iter()
            .map(|table| {
                Some(PartialGroups {
                    table: table?,
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
            grouping.clear_unwindowed_groups();
        }
        std::mem::take(&mut self.pending_records)
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
