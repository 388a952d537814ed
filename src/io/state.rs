//! What a source's readers build once per shard and hand from chunk to
//! chunk: [`SourceState`]. A shard reads many chunks of a source in turn;
//! each chunk's reader takes the state when [`super::ChunkPlan::open`] makes
//! it and gives it back through [`super::BatchSource::save_state`] (which
//! ends the reader), so the Nexmark string pools and price table, and the
//! CSV / JSON-lines column parsers with their string interners, are built
//! once per shard and source instead of once per chunk.
//!
//! Shared-nothing: every shard owns its own state (cloning one gives an empty
//! state, see [`SourceState::clone`]), so no core ever touches the reference
//! counts of another core's pooled strings. A state that is never given back
//! (a chunk that failed) is simply built again.

use super::convert::ColumnParser;
use super::nexmark::Pools;

/// A shard's reusable reader state for one source; starts empty.
#[derive(Default)]
pub struct SourceState {
    /// The Nexmark generator's pools (for the seed they were made with).
    pub(crate) nexmark: Option<Pools>,
    /// A file reader's column parsers, with their interners.
    pub(crate) columns: Option<Vec<ColumnParser>>,
}

impl SourceState {
    /// A fresh state: nothing built yet.
    pub fn new() -> SourceState {
        SourceState::default()
    }

    /// Puts the column parsers a previous chunk's reader left in place of
    /// `columns`, when they were made for the same columns (names and types,
    /// in order).
    pub(crate) fn reuse_columns(&mut self, columns: &mut Vec<ColumnParser>) {
        let Some(kept) = self.columns.take() else {
            return;
        };
        let same = kept.len() == columns.len()
            && kept
                .iter()
                .zip(columns.iter())
                .all(|(k, c)| k.parses_like(c));
        if same {
            *columns = kept;
        }
    }
}

/// Each clone starts empty: a state belongs to one shard, and a shard that
/// receives a clone of its source builds its own.
impl Clone for SourceState {
    fn clone(&self) -> SourceState {
        SourceState::default()
    }
}

impl std::fmt::Debug for SourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceState")
            .field("nexmark", &self.nexmark.is_some())
            .field("columns", &self.columns.as_ref().map(Vec::len))
            .finish()
    }
}
