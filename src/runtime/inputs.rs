//! Queries that read several inputs (the branches of a UNION ALL): the
//! order their chunks are read in, and the event time the watermark
//! follows over them.
//!
//! The run's chunks are the inputs' chunks interleaved in proportion to
//! their counts (chunk `j` of an input with `n` chunks comes at fraction
//! `j / n` of the run, ties by input), so inputs that span the same time
//! range are read side by side. The order depends on the chunk counts only,
//! never on the number of shards, so output stays the same at every shard
//! count. Each input keeps its own largest event time; the watermark
//! follows the smallest of those among the inputs that have chunks to come
//! (an input that has not shown an event time yet holds it back), as a
//! Flink operator's watermark is the minimum over its inputs: a record is
//! late only once every input still being read has passed its time.

use std::cmp::Ordering;
use std::sync::Arc;

/// Which input each chunk of the run is, and which of that input's chunks.
#[derive(Debug, Clone, Default)]
pub struct ChunkInputs {
    /// Per run chunk: (input, the input's own chunk). Empty for one input,
    /// whose chunks are the run's.
    chunks: Arc<[(u32, u32)]>,
    /// Per input: the run chunk of its last chunk (`None`: it has none).
    last: Vec<Option<u64>>,
}

impl ChunkInputs {
    /// One input: run chunk `c` is its chunk `c`.
    pub fn single() -> ChunkInputs {
        ChunkInputs::default()
    }

    /// Inputs of `counts` chunks each, interleaved in proportion.
    pub fn interleave(counts: &[usize]) -> ChunkInputs {
        let mut chunks: Vec<(u32, u32)> = counts
            .iter()
            .enumerate()
            .flat_map(|(input, &n)| (0..n).map(move |j| (input as u32, j as u32)))
            .collect();
        chunks.sort_by(|&(a, j), &(b, k)| {
            // j / n_a against k / n_b, exactly.
            let left = u64::from(j) * counts[b as usize] as u64;
            let right = u64::from(k) * counts[a as usize] as u64;
            left.cmp(&right).then(a.cmp(&b))
        });
        let mut last = vec![None; counts.len()];
        for (run_chunk, &(input, _)) in chunks.iter().enumerate() {
            last[input as usize] = Some(run_chunk as u64);
        }
        ChunkInputs {
            chunks: chunks.into(),
            last,
        }
    }

    /// How many inputs the run reads.
    pub fn inputs(&self) -> usize {
        self.last.len().max(1)
    }

    /// The input run chunk `chunk` is, and which of its chunks.
    pub fn of(&self, chunk: u64) -> (usize, usize) {
        if self.last.is_empty() {
            return (0, chunk as usize);
        }
        match self.chunks.get(chunk as usize) {
            Some(&(input, own)) => (input as usize, own as usize),
            // Past the last chunk: no input has it (a shard's `Done`).
            None => (0, chunk as usize),
        }
    }

    /// True once `chunk` is at or past `input`'s last chunk.
    fn ended(&self, input: usize, chunk: u64) -> bool {
        self.last[input].is_none_or(|last| chunk >= last)
    }
}

/// The largest event time the watermark may follow, noted chunk by chunk
/// in run order.
#[derive(Debug, Clone)]
pub struct EventTimes {
    inputs: ChunkInputs,
    /// Per input: the largest event time of its chunks so far.
    largest: Vec<Option<i64>>,
    followed: Option<i64>,
}

impl EventTimes {
    pub fn new(inputs: ChunkInputs) -> EventTimes {
        EventTimes {
            largest: vec![None; inputs.inputs()],
            inputs,
            followed: None,
        }
    }

    /// Notes run chunk `chunk`'s largest event time; returns the event time
    /// the watermark follows now (it never goes back).
    pub fn note(&mut self, chunk: u64, event_time: Option<i64>) -> Option<i64> {
        let (input, _) = self.inputs.of(chunk);
        self.largest[input] = self.largest[input].max(event_time);
        if self.inputs.last.is_empty() {
            self.followed = self.followed.max(event_time);
            return self.followed;
        }
        let slowest = self.slowest_open_input(chunk);
        self.followed = self.followed.max(slowest);
        self.followed
    }

    /// The smallest largest-event-time of the inputs with chunks after
    /// `chunk` (`None` if one of them has none yet); when none has, the
    /// largest of all.
    fn slowest_open_input(&self, chunk: u64) -> Option<i64> {
        let mut open = (0..self.largest.len())
            .filter(|&input| !self.inputs.ended(input, chunk))
            .peekable();
        if open.peek().is_none() {
            return self.largest.iter().copied().max().flatten();
        }
        open.map(|input| self.largest[input])
            .min_by(|a, b| match (a, b) {
                (None, _) => Ordering::Less,
                (_, None) => Ordering::Greater,
                (a, b) => a.cmp(b),
            })
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_interleaved_in_proportion_to_their_chunks() {
        let inputs = ChunkInputs::interleave(&[2, 4]);
        let order: Vec<(usize, usize)> = (0..6).map(|c| inputs.of(c)).collect();
        assert_eq!(order, [(0, 0), (1, 0), (1, 1), (0, 1), (1, 2), (1, 3)]);
        assert_eq!(inputs.inputs(), 2);
    }

    #[test]
    fn an_input_without_chunks_is_ended_from_the_start() {
        let inputs = ChunkInputs::interleave(&[0, 2]);
        assert_eq!(inputs.of(1), (1, 1));
        let mut times = EventTimes::new(inputs);
        assert_eq!(times.note(0, Some(5)), Some(5));
    }

    #[test]
    fn the_watermark_follows_the_slowest_input_until_it_ends() {
        // Run chunks: a0 b0 b1 a1 b2 b3.
        let mut times = EventTimes::new(ChunkInputs::interleave(&[2, 4]));
        assert_eq!(times.note(0, Some(100)), None, "b has shown no time yet");
        assert_eq!(times.note(1, Some(10)), Some(10));
        assert_eq!(times.note(2, Some(20)), Some(20));
        assert_eq!(times.note(3, Some(200)), Some(20), "a ended: b is followed");
        assert_eq!(times.note(4, Some(30)), Some(30));
        assert_eq!(times.note(5, Some(40)), Some(200), "all ended: the largest");
    }

    #[test]
    fn one_input_follows_its_largest_event_time() {
        let mut times = EventTimes::new(ChunkInputs::single());
        assert_eq!(times.note(0, Some(5)), Some(5));
        assert_eq!(times.note(1, Some(3)), Some(5));
        assert_eq!(times.note(7, None), Some(5));
    }
}
