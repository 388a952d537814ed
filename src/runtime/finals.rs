//! The rows that closing everything at the end of the input makes, on the
//! merger. Each shard sends them in blocks, sorted and each after the one
//! before (see `ToMerger::finish`); once every shard has ended its input
//! the merger writes them merged across shards, a row as soon as every
//! shard's next row is in. A shard's blocks go back to it as they are
//! written, and the merger stops reading a shard that has [`HELD_BLOCKS`]
//! waiting, so millions of final rows never wait in memory at once.

use std::collections::VecDeque;

use super::channel::RowBlock;
use crate::engine::{LateRecord, RowOrder};

/// At most this many of one shard's final blocks wait on the merger before
/// it stops reading from that shard (until they are written).
pub(crate) const HELD_BLOCKS: usize = 4;

/// Every shard's final rows not yet written, and their late records.
pub(crate) struct Finals {
    shards: Vec<ShardFinals>,
    late: Vec<LateRecord>,
}

/// One shard's final blocks not yet written.
#[derive(Default)]
struct ShardFinals {
    /// Never an empty block: the first holds the shard's next row.
    blocks: VecDeque<RowBlock>,
    /// That row's index in the first block.
    next: usize,
    /// The shard sent its last block.
    complete: bool,
}

impl ShardFinals {
    /// The order of the shard's next row, if it is in: `None` inside for a
    /// row the sink discards (counted only, in any order).
    fn head(&self) -> Option<Option<&RowOrder>> {
        let block = self.blocks.front()?;
        Some(block.order_of(self.next))
    }
}

impl Finals {
    pub fn new(shards: usize) -> Self {
        Finals {
            shards: (0..shards).map(|_| ShardFinals::default()).collect(),
            late: Vec::new(),
        }
    }

    /// Takes a block of `shard`'s final rows (`last`: its last); an empty
    /// block comes straight back, to be returned to the shard.
    pub fn add(
        &mut self,
        shard: usize,
        rows: RowBlock,
        late: Vec<LateRecord>,
        last: bool,
    ) -> Option<RowBlock> {
        self.late.extend(late);
        let finals = &mut self.shards[shard];
        finals.complete |= last;
        if rows.is_empty() {
            return Some(rows);
        }
        finals.blocks.push_back(rows);
        None
    }

    /// True when `shard` has as many blocks waiting as the merger holds.
    pub fn holds_enough(&self, shard: usize) -> bool {
        self.shards[shard].blocks.len() >= HELD_BLOCKS
    }

    /// The shard whose next row comes next in the merged order (the lowest
    /// shard on a tie), or `None` when a shard that has not sent its last
    /// block has no row in (what it sends next may come first; if it never
    /// does, the rows written are still an exact prefix), or no row is left.
    pub fn next_shard(&self) -> Option<usize> {
        let mut next: Option<(usize, Option<&RowOrder>)> = None;
        for (shard, finals) in self.shards.iter().enumerate() {
            match finals.head() {
                Some(order) => {
                    if next.is_none_or(|(_, least)| order < least) {
                        next = Some((shard, order));
                    }
                }
                None if finals.complete => {}
                None => return None,
            }
        }
        next.map(|(shard, _)| shard)
    }

    /// `shard`'s next row: its block and index.
    pub fn head_of(&self, shard: usize) -> Option<(&RowBlock, usize)> {
        let finals = &self.shards[shard];
        finals.blocks.front().map(|block| (block, finals.next))
    }

    /// Moves past `shard`'s next row; returns its block once every row of
    /// it was passed (to go back to the shard).
    pub fn advance(&mut self, shard: usize) -> Option<RowBlock> {
        let finals = &mut self.shards[shard];
        let block_len = finals.blocks.front()?.len();
        finals.next += 1;
        if finals.next < block_len {
            return None;
        }
        finals.next = 0;
        finals.blocks.pop_front()
    }

    /// The late records that came with the final rows.
    pub fn take_late(&mut self) -> Vec<LateRecord> {
        std::mem::take(&mut self.late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Value;
    use crate::engine::{Output, OutputRow};
    use std::time::Instant;

    fn block(keys: &[i64]) -> RowBlock {
        let mut block = RowBlock::default();
        let mut out = Output::default();
        for &k in keys {
            let order = RowOrder::Window {
                end: i64::MAX,
                start: i64::MIN,
                key: vec![Value::Int(k)],
            };
            let row = OutputRow {
                values: vec![Value::Int(k)],
                order,
            };
            block.push(row, Instant::now(), &mut out);
        }
        block
    }

    /// Writes what can be written now; the keys, and the blocks given back.
    fn drain(finals: &mut Finals) -> (Vec<i64>, usize) {
        let (mut keys, mut spent) = (Vec::new(), 0);
        while let Some(shard) = finals.next_shard() {
            let (block, index) = finals.head_of(shard).expect("a head");
            let RowOrder::Window { key, .. } = block.order(index) else {
                panic!("window order");
            };
            keys.push(key[0].as_i64().expect("an int key"));
            spent += usize::from(finals.advance(shard).is_some());
        }
        (keys, spent)
    }

    #[test]
    fn rows_are_merged_as_soon_as_every_shard_has_its_next_in() {
        let mut finals = Finals::new(2);
        assert!(finals.add(0, block(&[1, 4]), Vec::new(), false).is_none());
        // Shard 1 has sent nothing: nothing can be written yet.
        assert_eq!(drain(&mut finals), (vec![], 0));
        finals.add(1, block(&[2, 3]), Vec::new(), false);
        // 1, 2, 3 are certain; 4 waits for shard 1's next block.
        assert_eq!(drain(&mut finals), (vec![1, 2, 3], 1));
        finals.add(1, block(&[5]), Vec::new(), true);
        assert_eq!(drain(&mut finals), (vec![4], 1));
        // Shard 0 may still send rows before 5.
        assert_eq!(drain(&mut finals), (vec![], 0));
        let empty = finals.add(0, block(&[]), Vec::new(), true);
        assert!(empty.is_some_and(|b| b.is_empty()));
        assert_eq!(drain(&mut finals), (vec![5], 1));
        assert_eq!(finals.next_shard(), None);
    }

    #[test]
    fn ties_go_to_the_lower_shard_and_a_shard_that_stopped_holds_the_rest_back() {
        let mut finals = Finals::new(3);
        finals.add(2, block(&[7, 9]), Vec::new(), true);
        finals.add(0, block(&[7]), Vec::new(), true);
        // Shard 1 sent nothing yet: its first row may come before 7.
        assert_eq!(drain(&mut finals), (vec![], 0));
        finals.add(1, block(&[8]), Vec::new(), false);
        // It stopped after that block: 9 may not come next, so it waits.
        assert_eq!(drain(&mut finals), (vec![7, 7, 8], 2));
        assert_eq!(finals.next_shard(), None);
        let mut finals = Finals::new(2);
        finals.add(1, block(&[3]), Vec::new(), false);
        finals.add(0, block(&[3]), Vec::new(), false);
        assert_eq!(finals.next_shard(), Some(0));
    }

    #[test]
    fn rows_a_sink_discards_have_no_order_and_go_first() {
        let mut discarded = RowBlock::default();
        let mut out = Output::default();
        for k in 0..3 {
            let row = OutputRow {
                values: vec![Value::Int(k)],
                order: RowOrder::Position {
                    position: 0,
                    seq: 0,
                },
            };
            discarded.push_discarded(row, Instant::now(), &mut out);
        }
        let mut finals = Finals::new(2);
        finals.add(0, block(&[1]), Vec::new(), true);
        finals.add(1, discarded, Vec::new(), true);
        let mut from = Vec::new();
        while let Some(shard) = finals.next_shard() {
            from.push(shard);
            finals.advance(shard);
        }
        assert_eq!(from, [1, 1, 1, 0]);
    }

    #[test]
    fn a_shard_holds_enough_at_the_limit() {
        let mut finals = Finals::new(1);
        for k in 0..HELD_BLOCKS as i64 {
            assert!(!finals.holds_enough(0));
            finals.add(0, block(&[k]), Vec::new(), false);
        }
        assert!(finals.holds_enough(0));
        finals.advance(0);
        assert!(!finals.holds_enough(0));
    }
}
