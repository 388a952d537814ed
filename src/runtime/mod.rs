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
mod commits;
mod config;
mod exec;
mod finals;
mod inputs;
mod live;
mod merger;
mod metrics;
pub mod placement;
pub mod probe;
mod recycle;
mod shard;
mod sorted;
mod source;
mod stage;
mod startup;
mod stop;
#[cfg(test)]
mod tests;
pub mod topology;

pub use adapter::{
    Backend, ChunkReader, ChunkSource, DeadLetterFile, DeadLetters, EngineBackend, EngineRouter,
    Input, InputLayout, LineNumbering, PartitionProcessor, RowRouter, RowSink, TableInput,
};
pub(crate) use config::state_limit_error;
pub use config::{parse_core_list, OnInterrupt, RuntimeConfig};
pub use exec::ExecutorKind;
pub(crate) use inputs::EventTimes;
pub use live::{LiveShard, LiveSnapshot};
pub(crate) use metrics::new_latency_histogram;
pub use metrics::{percentile_distribution, RunReport, ShardStats};
pub(crate) use sorted::sorted_output;
pub(crate) use source::chunks_of;
pub(crate) use stage::staged_output;
pub use stop::{exit_status_for_signal, Interrupts, StopReason};

use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use channel::{bounded, commit_link, CommitIn, CommitOut, MergeMsg, RowBlock, Rx, ShardMsg, Tx};
use exec::{spawn_local, Executor};
use merger::{InputTotals, Merge, MergerIo, MergerLoop, MergerResult};
use recycle::{spawn_recycler, Pool};
use shard::{Destination, ShardOutput, StatelessShard, ToMerger};
use source::{AlignedWatermarks, ShuffleSource};
use startup::choose_placements;
use stop::{Stop, StopBroadcast};

use crate::data::Batch;
use crate::engine::PreAggregator;
use crate::error::{Error, Result};
use crate::plan::QueryPlan;

/// The core each shard is pinned to under `config` (`None`: unpinned).
pub fn placement_cores(config: &RuntimeConfig) -> Vec<Option<usize>> {
    choose_placements(config).shards
}

/// Where a run's output goes, what stops it, and who watches it.
pub struct RunIo {
    pub sink: Box<dyn RowSink + Send>,
    pub dead_letters: Option<Box<dyn DeadLetters + Send>>,
    /// Stop after this many output rows (`None`: the plan's LIMIT, if any).
    pub limit: Option<u64>,
    /// SIGINT/SIGTERM (or a test's stand-in) to relay to the run.
    pub interrupts: Option<Interrupts>,
    /// Where live snapshots go while the run lasts (see [`LiveSnapshot`]).
    pub live: Option<SyncSender<LiveSnapshot>>,
}

impl RunIo {
    pub fn new(sink: Box<dyn RowSink + Send>) -> Self {
        RunIo {
            sink,
            dead_letters: None,
            limit: None,
            interrupts: None,
            live: None,
        }
    }
}

/// Why a task ended early.
#[derive(Debug)]
pub(crate) enum Failure {
    Error(Error),
    /// A channel's other end went away: some other task stopped or failed.
    PeerGone,
    /// The run was told to stop.
    Stopped(StopReason),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

/// Runs `plan` over its source table with the real engine and io.
pub fn run(plan: &QueryPlan, config: &RuntimeConfig, io: RunIo) -> Result<RunReport> {
    let input = TableInput::plan(plan, config)?;
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
    let mut plan = plan.clone();
    // The engines' watermark moves only when the runtime aligns it at a
    // chunk's end, never with the records within a chunk: a shard sees only
    // its keys' records, so a watermark that followed them would make other
    // records late at other shard counts (and per-shard streams and a
    // union's inputs each have a watermark of their own).
    plan.time.aligned_only = true;
    let io = sorted::sorted_output(&mut plan, io, input.never_ends())?;
    let io = stage::staged_output(&mut plan, io, input.never_ends())?;
    let plan = &plan;
    let shuffled = !plan.is_stateless();
    let mut broadcast = StopBroadcast::default();
    let stops: Vec<ShardStops> = (0..config.shards)
        .map(|_| ShardStops {
            source: broadcast.subscribe(),
            engine: shuffled.then(|| broadcast.subscribe()),
        })
        .collect();
    let merger_stop = broadcast.subscribe();
    let _relay = io
        .interrupts
        .map(|interrupts| interrupts.relay(broadcast.clone()))
        .transpose()?;
    let mut wiring = Wiring::new(config.shards, config.channel_capacity, shuffled);
    if input.layout() == InputLayout::Streams {
        wiring.link_commits();
    }
    let placements = choose_placements(config);
    let mut outcome = Outcome::default();
    let mut shard_handles = Vec::new();
    let shard_output = ShardOutput::for_sink(io.sink.as_ref());
    let merger_io = MergerIo {
        state_limit: config.max_state_bytes,
        state_description: plan.state_description(),
        sink: io.sink,
        dead_letters: io.dead_letters,
        limit: io.limit.or(plan.limit),
        line_numbering: input.line_numbering(),
        source_name: input.name().to_string(),
        chunk_inputs: input.chunk_inputs(),
        input_names: input.input_names(),
        live: io.live,
        totals: InputTotals {
            bytes: input.total_bytes(),
            events: input.total_events(),
            unbounded: matches!(input.layout(), InputLayout::Stream | InputLayout::Streams),
        },
        flush_interval: config.output_flush_interval,
        on_interrupt: config.on_interrupt,
        started,
        settles: plan.settling(),
    };
    let mut merger = Some((
        MergerSetup {
            io: merger_io,
            stop: merger_stop,
            broadcast: broadcast.clone(),
            read_slowest_only: !shuffled,
        },
        wiring.take_merger(),
    ));
    // With no core of its own, the merger runs as a task of the shard whose
    // core it shares, rather than as a thread competing with it.
    let merger_host = placements
        .merger
        .and_then(|core| placements.shards.iter().rposition(|c| *c == Some(core)));
    // Every executor says when it runs; the shards start reading (and paced
    // sources count their due times) once all of them do.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let mut start_txs = Vec::with_capacity(config.shards);
    for (shard, stops) in stops.into_iter().enumerate() {
        let (start_tx, start) = tokio::sync::oneshot::channel();
        start_txs.push(start_tx);
        let setup = ShardSetup {
            shard,
            plan: plan.clone(),
            backend: backend.clone(),
            input: input.clone(),
            config: config.clone(),
            stops,
            broadcast: broadcast.clone(),
            output: shard_output.for_another_shard(),
            start,
        };
        let ends = wiring.take_shard(shard);
        let hosted = if merger_host == Some(shard) {
            merger.take()
        } else {
            None
        };
        let name = format!("corestream-shard-{shard}");
        let core = placements.shards[shard];
        let ready = ready_tx.clone();
        match Executor::start(config.executor, &name, core, move || {
            let _ = ready.send(());
            shard_executor(setup, ends, hosted)
        }) {
            Ok(handle) => shard_handles.push((name, handle)),
            Err(e) => {
                broadcast.stop(StopReason::Failed);
                outcome.start_errors.push(e);
            }
        }
    }
    let merger = merger.map(|(setup, ends)| {
        let ready = ready_tx.clone();
        Executor::start(config.executor, "corestream-merger", placements.merger, {
            move || {
                let _ = ready.send(());
                merger_main(setup, ends, false)
            }
        })
    });
    let merger = match merger {
        Some(Ok(handle)) => Some(handle),
        Some(Err(e)) => {
            broadcast.stop(StopReason::Failed);
            outcome.start_errors.push(e);
            None
        }
        None => None,
    };
    drop(ready_tx);
    let started_executors = shard_handles.len() + usize::from(merger.is_some());
    // A sender gone before it said so: an executor died starting; the run fails anyway.
    let _ = (0..started_executors).try_for_each(|_| ready_rx.recv());
    let reading_starts = Instant::now();
    for start in start_txs {
        let _ = start.send(reading_starts);
    }
    let mut merged = merger.map(|handle| handle.join("corestream-merger"));
    drop(broadcast);
    for (name, handle) in shard_handles {
        match handle.join(&name) {
            Ok((stats, result, hosted)) => {
                outcome.shard_ended(stats, result);
                merged = hosted.map(Ok).or(merged);
            }
            Err(e) => outcome.errors.push(e),
        }
    }
    let merged = match merged {
        Some(Ok(Ok(merged))) => Some(merged),
        Some(Ok(Err(failure))) => {
            outcome.failed(failure);
            None
        }
        Some(Err(e)) => {
            outcome.errors.push(e);
            None
        }
        None => None,
    };
    outcome.into_report(merged, started)
}

/// A shard's stop inboxes: one per task.
struct ShardStops {
    source: Stop,
    /// The engine task's (shuffled plans only).
    engine: Option<Stop>,
}

/// The channel ends of a run, handed out to the executors. Every channel is
/// a bounded SPSC use of a tokio mpsc channel; a shard's channel to itself is
/// one like the others.
struct Wiring {
    /// `mesh_out[s][d]`: source s's sender to destination d.
    mesh_out: Vec<Vec<Tx<ShardMsg>>>,
    /// `mesh_in[d][s]`: destination d's receiver from source s.
    mesh_in: Vec<Vec<Rx<ShardMsg>>>,
    /// `back_out[d][s]`: destination d's sender of spent batches to source s.
    back_out: Vec<Vec<Tx<Batch>>>,
    /// `back_in[s][d]`: source s's receiver of spent batches from destination d.
    back_in: Vec<Vec<Rx<Batch>>>,
    to_merger: Vec<Option<Tx<MergeMsg>>>,
    merger_in: Vec<Rx<MergeMsg>>,
    /// Written row blocks, from the merger back to each shard.
    blocks_back_out: Vec<Tx<RowBlock>>,
    blocks_back_in: Vec<Option<Rx<RowBlock>>>,
    /// Per-shard streams: the merger's links to each shard's reader thread.
    commits_out: Vec<CommitOut>,
    commits_in: Vec<Option<CommitIn>>,
}

/// One shard's channel ends.
struct ShardEnds {
    mesh_out: Vec<Tx<ShardMsg>>,
    mesh_in: Vec<Rx<ShardMsg>>,
    back_out: Vec<Tx<Batch>>,
    back_in: Vec<Rx<Batch>>,
    to_merger: Option<Tx<MergeMsg>>,
    blocks_back: Option<Rx<RowBlock>>,
    commits: Option<CommitIn>,
}

/// The merger's channel ends, indexed by shard.
struct MergerEnds {
    inboxes: Vec<Rx<MergeMsg>>,
    blocks_back: Vec<Tx<RowBlock>>,
    commits: Vec<CommitOut>,
}

/// The two sides of an `n` x `n` mesh of channels: `out[from][to]` and `in[to][from]`.
type Mesh<T> = (Vec<Vec<Tx<T>>>, Vec<Vec<Rx<T>>>);

/// An `n` x `n` mesh of bounded channels.
fn mesh<T>(n: usize, capacity: usize) -> Mesh<T> {
    let mut outs: Vec<Vec<Tx<T>>> = (0..n).map(|_| Vec::new()).collect();
    let mut ins: Vec<Vec<Rx<T>>> = (0..n).map(|_| Vec::new()).collect();
    for out in outs.iter_mut() {
        for inbox in ins.iter_mut() {
            let (tx, rx) = bounded(capacity);
            out.push(tx);
            inbox.push(rx);
        }
    }
    (outs, ins)
}

impl Wiring {
    fn new(shards: usize, capacity: usize, shuffled: bool) -> Self {
        let mesh_size = if shuffled { shards } else { 0 };
        let (mesh_out, mesh_in) = mesh(mesh_size, capacity);
        let (back_out, back_in) = mesh(mesh_size, capacity);
        let (to_merger, merger_in) = (0..shards)
            .map(|_| {
                let (tx, rx) = bounded(capacity);
                (Some(tx), rx)
            })
            .unzip();
        let (blocks_back_out, blocks_back_in) = (0..shards)
            .map(|_| {
                let (tx, rx) = bounded(capacity);
                (tx, Some(rx))
            })
            .unzip();
        Wiring {
            mesh_out: pad(mesh_out, shards),
            mesh_in: pad(mesh_in, shards),
            back_out: pad(back_out, shards),
            back_in: pad(back_in, shards),
            to_merger,
            merger_in,
            blocks_back_out,
            blocks_back_in,
            commits_out: Vec::new(),
            commits_in: Vec::new(),
        }
    }

    /// Links the merger with every shard's reader thread (per-shard streams).
    fn link_commits(&mut self) {
        let shards = self.merger_in.len();
        (self.commits_out, self.commits_in) = (0..shards)
            .map(|_| {
                let (out, link) = commit_link();
                (out, Some(link))
            })
            .unzip();
    }

    fn take_shard(&mut self, shard: usize) -> ShardEnds {
        ShardEnds {
            mesh_out: std::mem::take(&mut self.mesh_out[shard]),
            mesh_in: std::mem::take(&mut self.mesh_in[shard]),
            back_out: std::mem::take(&mut self.back_out[shard]),
            back_in: std::mem::take(&mut self.back_in[shard]),
            to_merger: self.to_merger[shard].take(),
            blocks_back: self.blocks_back_in[shard].take(),
            commits: self.commits_in.get_mut(shard).and_then(Option::take),
        }
    }

    fn take_merger(&mut self) -> MergerEnds {
        MergerEnds {
            inboxes: std::mem::take(&mut self.merger_in),
            blocks_back: std::mem::take(&mut self.blocks_back_out),
            commits: std::mem::take(&mut self.commits_out),
        }
    }
}

/// `rows`, or `n` empty rows when there is no mesh.
fn pad<T>(rows: Vec<Vec<T>>, n: usize) -> Vec<Vec<T>> {
    if rows.is_empty() {
        (0..n).map(|_| Vec::new()).collect()
    } else {
        rows
    }
}

/// What a shard executor needs besides its channel ends.
struct ShardSetup<B, I> {
    shard: usize,
    plan: QueryPlan,
    backend: B,
    input: I,
    config: RuntimeConfig,
    stops: ShardStops,
    broadcast: StopBroadcast,
    /// What the shard does with its output rows, as the sink wants them.
    output: ShardOutput,
    /// When every executor runs: the shard starts reading then, and paced
    /// sources count their due times from it.
    start: tokio::sync::oneshot::Receiver<Instant>,
}

async fn shard_main<B: Backend, I: Input>(
    setup: ShardSetup<B, I>,
    ends: ShardEnds,
) -> (ShardStats, std::result::Result<(), Failure>) {
    let shard = setup.shard;
    let (Some(to_merger), Some(blocks_back), Ok(started)) =
        (ends.to_merger, ends.blocks_back, setup.start.await)
    else {
        return (ShardStats::new(shard), Err(Failure::PeerGone));
    };
    let block_pool = Pool::default();
    let block_recycler = spawn_recycler(blocks_back, block_pool.clone());
    let merger = ToMerger::new(to_merger, setup.output, setup.config.batch_rows, block_pool);
    let broadcast = setup.broadcast;
    let (stats, result) = match setup.stops.engine {
        None => {
            let progress = merger.reporter(0);
            let worker = StatelessShard {
                shard,
                shards: setup.config.shards,
                plan: setup.plan,
                backend: setup.backend,
                input: setup.input,
                config: setup.config,
                stop: setup.stops.source,
                started,
                merger,
                progress,
                commits: ends.commits,
            };
            worker.run().await
        }
        Some(engine_stop) => {
            let batch_pool = Pool::default();
            let batch_recyclers: Vec<_> = ends
                .back_in
                .into_iter()
                .map(|spent| spawn_recycler(spent, batch_pool.clone()))
                .collect();
            let mut destination = Destination {
                shard,
                processor: setup.backend.processor_for(&setup.plan, shard),
                layout: setup.input.layout(),
                out_of_orderness_ms: setup.plan.time.max_out_of_orderness_ms,
                has_event_time: setup.plan.event_time_column().is_some(),
                on_interrupt: setup.config.on_interrupt,
                inboxes: ends.mesh_in,
                batches_back: ends.back_out,
                progress: merger.reporter(1),
                merger,
                stop: engine_stop,
                max_event_time: None,
                event_times: EventTimes::new(setup.input.chunk_inputs()),
                frontiers: vec![None; setup.config.shards],
                state_limit: setup.config.max_state_bytes,
                state_description: setup.plan.state_description(),
                watermarks_to_source: None,
            };
            let pre = setup
                .backend
                .pre_aggregator(&setup.plan, setup.config.shards);
            let mut watermarks = None;
            if pre.as_ref().is_some_and(PreAggregator::is_windowed) {
                let (to_source, from_engine) = AlignedWatermarks::link(setup.config.shards);
                destination.watermarks_to_source = Some(to_source);
                watermarks = Some(from_engine);
            }
            let source = ShuffleSource {
                shard,
                progress: destination.merger.reporter(0),
                plan: setup.plan,
                backend: setup.backend,
                input: setup.input,
                config: setup.config,
                stop: setup.stops.source,
                started,
                outboxes: ends.mesh_out,
                batch_pool,
                commits: ends.commits,
                pre,
                watermarks,
            };
            let source = spawn_local(source.run());
            let destination = spawn_local(destination.run());
            let (mut stats, source_result) = source.await;
            let (engine_stats, engine_result) = destination.await;
            // The source's engine counters (what its pre-aggregation's
            // WHERE dropped) and the engine's add up.
            stats.absorb(&engine_stats);
            drop(batch_recyclers);
            (stats, source_result.and(engine_result))
        }
    };
    if matches!(result, Err(Failure::Error(_))) {
        broadcast.stop(StopReason::Failed);
    }
    drop(block_recycler);
    (stats, result)
}

/// What a shard executor ends with: the shard's counters and result, and
/// the merger's result when it ran as one of its tasks.
type ShardOutcome = (
    ShardStats,
    std::result::Result<(), Failure>,
    Option<std::result::Result<MergerResult, Failure>>,
);

/// A shard executor's work: the shard, and the merger when it is hosted here.
async fn shard_executor<B: Backend, I: Input>(
    setup: ShardSetup<B, I>,
    ends: ShardEnds,
    merger: Option<(MergerSetup, MergerEnds)>,
) -> ShardOutcome {
    let merger = merger.map(|(setup, ends)| spawn_local(merger_main(setup, ends, true)));
    let (stats, result) = shard_main(setup, ends).await;
    let merged = match merger {
        Some(task) => Some(task.await),
        None => None,
    };
    (stats, result, merged)
}

/// How long a merger with a core of its own looks for the next message
/// before it parks: under a steady stream it never parks (a wake-up from
/// another core costs tens of microseconds on a virtual machine); on a quiet
/// one it parks after this long.
const MERGER_POLL_BEFORE_PARK: Duration = Duration::from_micros(200);

/// What the merger executor needs besides its channel ends.
struct MergerSetup {
    io: MergerIo,
    stop: Stop,
    broadcast: StopBroadcast,
    read_slowest_only: bool,
}

async fn merger_main(
    setup: MergerSetup,
    ends: MergerEnds,
    hosted: bool,
) -> std::result::Result<MergerResult, Failure> {
    let shards = ends.inboxes.len();
    let merge =
        Merge::new(shards, setup.io, setup.broadcast, ends.blocks_back).committing_to(ends.commits);
    let merger = MergerLoop {
        merge,
        inboxes: ends.inboxes,
        stop: setup.stop,
        read_slowest_only: setup.read_slowest_only,
        poll_before_park: if hosted {
            Duration::ZERO
        } else {
            MERGER_POLL_BEFORE_PARK
        },
    };
    merger.run().await
}

/// What the executors returned, gathered into a report or the error to show.
#[derive(Default)]
struct Outcome {
    shards: Vec<ShardStats>,
    /// Executors that could not start: the root cause when present.
    start_errors: Vec<Error>,
    errors: Vec<Error>,
    peer_gone: bool,
    stopped: Option<StopReason>,
}

impl Outcome {
    fn failed(&mut self, failure: Failure) {
        match failure {
            Failure::Error(e) => self.errors.push(e),
            Failure::PeerGone => self.peer_gone = true,
            Failure::Stopped(reason) => {
                self.stopped.get_or_insert(reason);
            }
        }
    }

    fn shard_ended(&mut self, stats: ShardStats, result: std::result::Result<(), Failure>) {
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
        let Some(merged) = merged else {
            return Err(Error::Runtime(
                "internal error: the merger ended without a result".into(),
            ));
        };
        let stopped = merged.stopped.or(self.stopped);
        if self.peer_gone && stopped.is_none() {
            return Err(Error::Runtime(
                "internal error: a shard stopped unexpectedly".into(),
            ));
        }
        self.shards.sort_by_key(|s| s.shard);
        let mut report = RunReport::new(
            self.shards,
            merged.rows_written,
            started.elapsed(),
            merged.limit_reached || stopped.is_some(),
            merged.latency,
        );
        if let Some(StopReason::Interrupted(signal)) = stopped {
            report.interrupted_by = Some(signal);
            report.open_windows_at_interrupt = merged.open_at_stop;
            report.rows_after_interrupt = merged.rows_after_interrupt;
        }
        Ok(report)
    }
}
