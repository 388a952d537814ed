//! Runtime: spreads a query over cores.
//!
//! Owns shards (one glommio executor per shard, pinned to a core), cutting the
//! input into chunks striped over the shards, routing rows by key over an
//! N x N mesh of bounded SPSC channels, aligning watermarks at chunk ends,
//! the merger (the only writer of the sink, which makes the output the same
//! for any shard count), metrics, and the shared-lock baseline
//! (in [`crate::baseline`]) that benchmarks compare against.
//!
//! Per chunk c (read by shard `c % N`): the source parses it, routes each row
//! to its destination shard, and ends it with a `ChunkEnd` marker to every
//! destination. Every destination processes chunks in global order, so each
//! key sees its records in input order, and advances its watermark to the
//! running maximum event time at every chunk end. The merger writes chunk c
//! once every shard is through with it, sorted by the engine's `RowOrder`.
//!
//! No locks or atomics: state lives in one executor (`Rc<RefCell<..>>` at
//! most), counters come back from each executor when it ends.

mod adapter;
mod channel;
mod config;
mod live;
mod merger;
mod metrics;
pub mod placement;
pub mod probe;
mod recycle;
mod shard;
mod source;
mod startup;
#[cfg(test)]
mod tests;
pub mod topology;

pub use adapter::{
    Backend, ChunkReader, ChunkSource, DeadLetterFile, DeadLetters, EngineBackend, EngineRouter,
    Input, InputLayout, LineNumbering, PartitionProcessor, RowRouter, RowSink, TableInput,
};
pub use config::{parse_core_list, RuntimeConfig};
pub use live::{LiveShard, LiveSnapshot};
pub(crate) use metrics::new_latency_histogram;
pub use metrics::{percentile_distribution, RunReport, ShardStats};
pub(crate) use source::chunks_of;

use std::time::Instant;

use glommio::channels::local_channel;
use glommio::channels::shared_channel::{self, SharedReceiver, SharedSender};

use channel::{Connecting, Disconnected, MergeMsg, RowBlock, Rx, ShardMsg, Tx};
use merger::{Merge, MergerIo, MergerResult};
use recycle::{spawn_recycler, Pool};
use shard::{Destination, StatelessShard, ToMerger};
use source::{ShuffleSource, StopSignal};
use startup::{choose_placements, classify_glommio_error, executor_builder, start_error};

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::plan::QueryPlan;

/// The core each shard is pinned to under `config` (`None`: unpinned).
pub fn placement_cores(config: &RuntimeConfig) -> Vec<Option<usize>> {
    choose_placements(config).shards
}

/// A source shard's stop check: returns true once the run should stop
/// (e.g. SIGINT). Called between batches.
pub type StopCheck = Box<dyn FnMut() -> bool + Send>;

/// Where a run's output goes and when it stops.
pub struct RunIo {
    pub sink: Box<dyn RowSink + Send>,
    pub dead_letters: Option<Box<dyn DeadLetters + Send>>,
    /// Stop after this many output rows (`None`: the plan's LIMIT, if any).
    pub limit: Option<u64>,
    /// One per source shard (shard i uses `stop_checks[i]`; missing ones never stop).
    pub stop_checks: Vec<StopCheck>,
}

impl RunIo {
    pub fn new(sink: Box<dyn RowSink + Send>) -> Self {
        RunIo {
            sink,
            dead_letters: None,
            limit: None,
            stop_checks: Vec::new(),
        }
    }
}

/// Why a task ended early.
#[derive(Debug)]
pub(crate) enum Failure {
    Error(Error),
    /// A channel's other end went away: some other task failed.
    PeerGone,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<Disconnected> for Failure {
    fn from(_: Disconnected) -> Self {
        Failure::PeerGone
    }
}

/// Runs `plan` over its source table with the real engine and io.
pub fn run(plan: &QueryPlan, config: &RuntimeConfig, io: RunIo) -> Result<RunReport> {
    let input = TableInput::plan(&plan.source, config.chunk_bytes, config.chunk_events)?;
    run_with(plan, config, io, EngineBackend, input)
}

/// Runs `plan` over `input` with the processors of `backend`.
pub fn run_with<B: Backend, I: Input>(
    plan: &QueryPlan,
    config: &RuntimeConfig,
    io: RunIo,
    backend: B,
    input: I,
) -> Result<RunReport> {
    config.validate()?;
    let started = Instant::now();
    let mut wiring = Wiring::new(config.shards, config.channel_capacity, !plan.is_stateless());
    let placements = choose_placements(config);
    let mut stop_checks = io.stop_checks.into_iter();
    let mut outcome = Outcome::default();
    let mut shard_handles = Vec::new();
    for shard in 0..config.shards {
        let ends = wiring.take_shard(shard);
        let setup = ShardSetup {
            shard,
            plan: plan.clone(),
            backend: backend.clone(),
            input: input.clone(),
            config: config.clone(),
            stop_check: stop_checks.next(),
            started,
        };
        let name = format!("corestream-shard-{shard}");
        let builder = executor_builder(&name, placements.shards[shard]);
        match builder.spawn(move || shard_main(setup, ends)) {
            Ok(handle) => shard_handles.push((name, handle)),
            Err(e) => outcome.start_failed(&name, &e),
        }
    }
    let merger_io = MergerIo {
        sink: io.sink,
        dead_letters: io.dead_letters,
        limit: io.limit.or(plan.limit),
        line_numbering: input.line_numbering(),
        source_name: input.name().to_string(),
    };
    let merger_ends = wiring.take_merger();
    let shuffled = wiring.shuffled;
    let builder = executor_builder("corestream-merger", placements.merger);
    let merger = builder.spawn(move || merger_main(merger_ends, merger_io, shuffled));
    let merger = match merger {
        Ok(handle) => Some(handle),
        Err(e) => {
            outcome.start_failed("corestream-merger", &e);
            None
        }
    };
    for (name, handle) in shard_handles {
        match handle.join() {
            Ok((stats, result)) => outcome.shard_ended(stats, result),
            Err(e) => outcome.start_failed(&name, &e),
        }
    }
    let merged = match merger.map(|h| h.join()) {
        Some(Ok(Ok(merged))) => Some(merged),
        Some(Ok(Err(failure))) => {
            outcome.failed(failure);
            None
        }
        Some(Err(e)) => {
            outcome.start_failed("corestream-merger", &e);
            None
        }
        None => None,
    };
    outcome.into_report(merged, started)
}

/// The shared channel ends of a run, handed out to the executors.
struct Wiring {
    shuffled: bool,
    /// `mesh_out[s]`: source s's senders to every other destination, in order.
    mesh_out: Vec<Vec<SharedSender<ShardMsg>>>,
    /// `mesh_in[d]`: destination d's receivers from every other source, in order.
    mesh_in: Vec<Vec<SharedReceiver<ShardMsg>>>,
    /// `back_out[d]`: destination d's senders of spent batches to every other source.
    back_out: Vec<Vec<SharedSender<Batch>>>,
    /// `back_in[s]`: source s's receivers of spent batches from every other destination.
    back_in: Vec<Vec<SharedReceiver<Batch>>>,
    to_merger: Vec<Option<SharedSender<MergeMsg>>>,
    merger_in: Vec<SharedReceiver<MergeMsg>>,
    stop_out: Vec<SharedSender<()>>,
    stop_in: Vec<Option<SharedReceiver<()>>>,
    /// Written row blocks, from the merger back to each shard.
    blocks_back_out: Vec<SharedSender<RowBlock>>,
    blocks_back_in: Vec<Option<SharedReceiver<RowBlock>>>,
    capacity: usize,
}

/// One shard's channel ends.
struct ShardEnds {
    mesh_out: Vec<SharedSender<ShardMsg>>,
    mesh_in: Vec<SharedReceiver<ShardMsg>>,
    back_out: Vec<SharedSender<Batch>>,
    back_in: Vec<SharedReceiver<Batch>>,
    to_merger: Option<SharedSender<MergeMsg>>,
    stop_in: Option<SharedReceiver<()>>,
    blocks_back: Option<SharedReceiver<RowBlock>>,
    capacity: usize,
}

/// The merger's channel ends, indexed by shard.
struct MergerEnds {
    inboxes: Vec<SharedReceiver<MergeMsg>>,
    stops: Vec<SharedSender<()>>,
    blocks_back: Vec<SharedSender<RowBlock>>,
}

impl Wiring {
    fn new(shards: usize, capacity: usize, shuffled: bool) -> Self {
        let mut mesh_out: Vec<Vec<_>> = (0..shards).map(|_| Vec::new()).collect();
        let mut mesh_in: Vec<Vec<_>> = (0..shards).map(|_| Vec::new()).collect();
        let mut back_out: Vec<Vec<_>> = (0..shards).map(|_| Vec::new()).collect();
        let mut back_in: Vec<Vec<_>> = (0..shards).map(|_| Vec::new()).collect();
        if shuffled {
            for (source, outs) in mesh_out.iter_mut().enumerate() {
                for destination in (0..shards).filter(|d| *d != source) {
                    let (tx, rx) = shared_channel::new_bounded(capacity);
                    outs.push(tx);
                    mesh_in[destination].push(rx);
                }
            }
            for (destination, outs) in back_out.iter_mut().enumerate() {
                for source in (0..shards).filter(|s| *s != destination) {
                    let (tx, rx) = shared_channel::new_bounded(capacity);
                    outs.push(tx);
                    back_in[source].push(rx);
                }
            }
        }
        let (to_merger, merger_in) = (0..shards)
            .map(|_| {
                let (tx, rx) = shared_channel::new_bounded(capacity);
                (Some(tx), rx)
            })
            .unzip();
        let (stop_out, stop_in) = (0..shards)
            .map(|_| {
                let (tx, rx) = shared_channel::new_bounded(1);
                (tx, Some(rx))
            })
            .unzip();
        let (blocks_back_out, blocks_back_in) = (0..shards)
            .map(|_| {
                let (tx, rx) = shared_channel::new_bounded(capacity);
                (tx, Some(rx))
            })
            .unzip();
        Wiring {
            shuffled,
            mesh_out,
            mesh_in,
            back_out,
            back_in,
            to_merger,
            merger_in,
            stop_out,
            stop_in,
            blocks_back_out,
            blocks_back_in,
            capacity,
        }
    }

    fn take_shard(&mut self, shard: usize) -> ShardEnds {
        ShardEnds {
            mesh_out: std::mem::take(&mut self.mesh_out[shard]),
            mesh_in: std::mem::take(&mut self.mesh_in[shard]),
            back_out: std::mem::take(&mut self.back_out[shard]),
            back_in: std::mem::take(&mut self.back_in[shard]),
            to_merger: self.to_merger[shard].take(),
            stop_in: self.stop_in[shard].take(),
            blocks_back: self.blocks_back_in[shard].take(),
            capacity: self.capacity,
        }
    }

    fn take_merger(&mut self) -> MergerEnds {
        MergerEnds {
            inboxes: std::mem::take(&mut self.merger_in),
            stops: std::mem::take(&mut self.stop_out),
            blocks_back: std::mem::take(&mut self.blocks_back_out),
        }
    }
}

/// What a shard executor needs besides its channel ends.
struct ShardSetup<B, I> {
    shard: usize,
    plan: QueryPlan,
    backend: B,
    input: I,
    config: RuntimeConfig,
    stop_check: Option<StopCheck>,
    started: Instant,
}

async fn shard_main<B: Backend, I: Input>(
    setup: ShardSetup<B, I>,
    ends: ShardEnds,
) -> (ShardStats, Result<(), Failure>) {
    let shard = setup.shard;
    let gone = || (ShardStats::new(shard), Err(Failure::PeerGone));
    // Start every connection before awaiting any (see `Connecting`).
    let mesh_out = Connecting::senders(ends.mesh_out);
    let mesh_in = Connecting::receivers(ends.mesh_in);
    let back_out = Connecting::senders(ends.back_out);
    let back_in = Connecting::receivers(ends.back_in);
    let to_merger = Connecting::senders(ends.to_merger.into_iter().collect());
    let stop_in = Connecting::receivers(ends.stop_in.into_iter().collect());
    let blocks_back = Connecting::receivers(ends.blocks_back.into_iter().collect());
    let mut outboxes = mesh_out.connected().await;
    let mut inboxes = mesh_in.connected().await;
    let mut batches_back = back_out.connected().await;
    let mut spent_batches = back_in.connected().await;
    let (Some(to_merger), Some(stop_in), Some(blocks_back)) = (
        to_merger.connected().await.pop(),
        stop_in.connected().await.pop(),
        blocks_back.connected().await.pop(),
    ) else {
        return gone();
    };
    let block_pool = Pool::default();
    let block_recycler = spawn_recycler(blocks_back, block_pool.clone());
    let stop = StopSignal::new(setup.stop_check);
    let flag = stop.flag();
    let watcher = glommio::spawn_local(async move {
        if stop_in.recv().await.is_some() {
            flag.set(true);
        }
    });
    let merger = ToMerger::new(to_merger, setup.config.batch_rows, block_pool);
    let shards = setup.config.shards;
    let result = if setup.plan.is_stateless() {
        let worker = StatelessShard {
            shard,
            shards,
            plan: setup.plan,
            backend: setup.backend,
            input: setup.input,
            config: setup.config,
            stop,
            started: setup.started,
            merger,
        };
        worker.run().await
    } else {
        let (local_tx, local_rx) = local_channel::new_bounded(ends.capacity);
        outboxes.insert(shard, Tx::Local(local_tx));
        inboxes.insert(shard, Rx::Local(local_rx));
        let (local_tx, local_rx) = local_channel::new_bounded(ends.capacity);
        batches_back.insert(shard, Tx::Local(local_tx));
        spent_batches.insert(shard, Rx::Local(local_rx));
        let batch_pool = Pool::default();
        let batch_recyclers: Vec<_> = spent_batches
            .into_iter()
            .map(|spent| spawn_recycler(spent, batch_pool.clone()))
            .collect();
        let destination = Destination {
            shard,
            processor: setup.backend.processor(&setup.plan),
            layout: setup.input.layout(),
            out_of_orderness_ms: setup.plan.time.max_out_of_orderness_ms,
            has_event_time: setup.plan.event_time_column().is_some(),
            inboxes,
            batches_back,
            merger,
        };
        let source = ShuffleSource {
            shard,
            plan: setup.plan,
            backend: setup.backend,
            input: setup.input,
            config: setup.config,
            stop,
            started: setup.started,
            outboxes,
            batch_pool,
        };
        let source = glommio::spawn_local(source.run());
        let destination = glommio::spawn_local(destination.run());
        let (mut stats, source_result) = source.await;
        let (engine_stats, engine_result) = destination.await;
        stats.absorb(&engine_stats);
        stats.engine = engine_stats.engine;
        drop(batch_recyclers);
        (stats, source_result.and(engine_result))
    };
    drop(watcher);
    drop(block_recycler);
    result
}

async fn merger_main(
    ends: MergerEnds,
    io: MergerIo,
    shuffled: bool,
) -> Result<MergerResult, Failure> {
    let shards = ends.inboxes.len();
    let inboxes = Connecting::receivers(ends.inboxes);
    let stops = Connecting::senders(ends.stops);
    let blocks_back = Connecting::senders(ends.blocks_back);
    let inboxes = inboxes.connected().await;
    let stops = stops.connected().await;
    let blocks_back = blocks_back.connected().await;
    let merge = Merge::new(shards, io, stops, blocks_back);
    if shuffled {
        merger::merge_concurrently(merge, inboxes).await
    } else {
        merger::merge_in_order(merge, inboxes).await
    }
}

/// What the executors returned, gathered into a report or the error to show.
#[derive(Default)]
struct Outcome {
    shards: Vec<ShardStats>,
    /// Executors that could not start: the root cause when present.
    start_errors: Vec<Error>,
    errors: Vec<Error>,
    peer_gone: bool,
}

impl Outcome {
    fn start_failed<T>(&mut self, what: &str, e: &glommio::GlommioError<T>) {
        let failure = classify_glommio_error(e);
        self.start_errors
            .push(start_error(what, &failure, &e.to_string()));
    }

    fn failed(&mut self, failure: Failure) {
        match failure {
            Failure::Error(e) => self.errors.push(e),
            Failure::PeerGone => self.peer_gone = true,
        }
    }

    fn shard_ended(&mut self, stats: ShardStats, result: Result<(), Failure>) {
        self.shards.push(stats);
        if let Err(failure) = result {
            self.failed(failure);
        }
    }

    fn into_report(mut self, merged: Option<MergerResult>, started: Instant) -> Result<RunReport> {
        if let Some(e) = self.start_errors.into_iter().next() {
            return Err(e);
        }
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let merged = match merged {
            Some(merged) if !self.peer_gone => merged,
            _ => {
                return Err(Error::Runtime(
                    "a shard stopped unexpectedly (internal error)".into(),
                ))
            }
        };
        self.shards.sort_by_key(|s| s.shard);
        let stopped = merged.limit_reached || self.shards.iter().any(|s| s.stopped);
        Ok(RunReport::new(
            self.shards,
            merged.rows_written,
            started.elapsed(),
            stopped,
            merged.latency,
        ))
    }
}
