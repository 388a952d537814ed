//! The shared-lock baseline (`--runtime shared-lock`): what corestream is
//! measured against. It reproduces the seed's simplified `process_job()`:
//! N OS threads read their chunks (striped as in the sharded runtime) and
//! share ONE engine behind an `RwLock`. For every batch a worker takes the
//! read lock and clones the engine, processes the batch on its copy, then
//! takes the write lock and writes the copy back if nobody wrote since it
//! read (a version counter), else retries on a fresh copy.
//!
//! Unlike the seed, which applied batches in whatever order the workers got
//! the lock (so state and watermarks, and with them late records, depended on
//! timing), batches are applied in input order: a worker waits for its chunk's
//! turn before it pushes, so the results, the late records and the output
//! order equal the thread-per-core runtime's. Parsing still runs in parallel;
//! the engine's work is serialized, which is what one shared engine costs.
//! Watermark advances (at every chunk end, to the largest event time seen so
//! far) and `finish()` run in place under the write lock.
//! It lives outside `runtime` because it is the one module of corestream with
//! locks and atomics (tests/house_rules.rs keeps them out of the data path).

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::data::Batch;
use crate::engine::Output;
use crate::error::{Error, Result};
use crate::io::Malformed;
use crate::plan::QueryPlan;
use crate::runtime::{
    chunks_of, new_latency_histogram, EventTimes, RunIo, RunReport, RuntimeConfig, ShardStats,
};
use crate::runtime::{
    Backend, ChunkReader, DeadLetters, EngineBackend, Input, InputLayout, PartitionProcessor,
    RowSink, TableInput,
};

/// The one engine, with a version bumped at every write-back.
struct Shared<P> {
    version: u64,
    engine: P,
    /// The event time the watermark follows, per input (a UNION ALL reads several).
    event_times: EventTimes,
}

/// The one output writer.
struct Writer {
    sink: Box<dyn RowSink + Send>,
    dead_letters: Option<Box<dyn DeadLetters + Send>>,
    source_name: String,
    limit: Option<u64>,
    /// Rows handed to the sink (flushed or not), counted against LIMIT.
    rows_accepted: u64,
    latency: Histogram<u64>,
    error: Option<Error>,
}

impl Writer {
    /// Writes what one engine call produced; true once LIMIT is reached.
    fn deliver(&mut self, out: &mut Output, caused_at: Instant, malformed: &[Malformed]) -> bool {
        if let Err(e) = self.try_deliver(out, caused_at, malformed) {
            self.error.get_or_insert(e);
        }
        out.rows.clear();
        out.late.clear();
        self.limit_reached() || self.error.is_some()
    }

    fn limit_reached(&self) -> bool {
        self.limit.is_some_and(|l| self.rows_accepted >= l)
    }

    fn try_deliver(
        &mut self,
        out: &Output,
        caused_at: Instant,
        malformed: &[Malformed],
    ) -> Result<()> {
        for row in &out.rows {
            if self.limit_reached() {
                break;
            }
            self.sink.write_row(&row.values)?;
            self.rows_accepted += 1;
        }
        // One engine closes each window in one call.
        self.sink.end_of_chunk()?;
        // Latency is taken where the thread-per-core runtime takes it: when
        // the rows are handed to the operating system.
        let flushed = self.sink.flush(&mut || false)?;
        let micros = u64::try_from(caused_at.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _ = self
            .latency
            .record_n(micros.min(self.latency.high()), flushed.rows);
        if let Some(dead_letters) = self.dead_letters.as_mut() {
            for record in malformed {
                dead_letters.malformed(record)?;
            }
            for record in &out.late {
                dead_letters.late(&self.source_name, record)?;
            }
        }
        Ok(())
    }
}

/// Everything the worker threads share.
struct Common<P> {
    engine: RwLock<Shared<P>>,
    writer: Mutex<Writer>,
    stop: AtomicBool,
    /// The chunk whose batches may be applied now (input order).
    turn: Mutex<u64>,
    turn_passed: Condvar,
    /// `--max-state-bytes`, and what the state is, for the message.
    state_limit: Option<u64>,
    state_description: Option<String>,
}

fn poisoned() -> Error {
    Error::Runtime("shared-lock baseline: a worker panicked".into())
}

impl<P: PartitionProcessor + Clone> Common<P> {
    /// Blocks until `chunk` may be applied (or the run is stopping).
    fn wait_for_turn(&self, chunk: u64) -> Result<()> {
        let mut turn = self.turn.lock().map_err(|_| poisoned())?;
        while *turn < chunk && !self.stop.load(Ordering::Relaxed) {
            (turn, _) = self
                .turn_passed
                .wait_timeout(turn, Duration::from_millis(10))
                .map_err(|_| poisoned())?;
        }
        Ok(())
    }

    /// An error once the engine's state outgrows `--max-state-bytes`.
    fn check_state_limit(&self, engine: &P) -> Result<()> {
        let held = engine.state_bytes() as u64;
        match self.state_limit {
            Some(limit) if held > limit => Err(crate::runtime::state_limit_error(
                held,
                limit,
                self.state_description.as_deref(),
            )),
            _ => Ok(()),
        }
    }

    /// Hands the turn to the chunk after `chunk`.
    fn pass_turn(&self, chunk: u64) -> Result<()> {
        let mut turn = self.turn.lock().map_err(|_| poisoned())?;
        *turn = (*turn).max(chunk + 1);
        self.turn_passed.notify_all();
        Ok(())
    }

    /// Optimistic copy-out / write-back of one batch of `chunk`, in its turn;
    /// its rows' latency counts from `read_at`, as the thread-per-core
    /// runtime's does.
    fn push(
        &self,
        chunk: u64,
        batch: &Batch,
        read_at: Instant,
        malformed: &[Malformed],
        stats: &mut ShardStats,
    ) -> Result<()> {
        self.wait_for_turn(chunk)?;
        loop {
            let (version, mut copy) = {
                let shared = self.engine.read().map_err(|_| poisoned())?;
                (shared.version, shared.engine.clone())
            };
            let mut out = Output::default();
            let began = Instant::now();
            copy.push(batch, &mut out);
            stats.busy += began.elapsed();
            self.check_state_limit(&copy)?;
            let mut shared = self.engine.write().map_err(|_| poisoned())?;
            if shared.version != version {
                stats.lock_retries += 1;
                continue;
            }
            shared.engine = copy;
            shared.version += 1;
            // Deliver under the engine lock, so output is in emission order.
            self.deliver(&mut out, read_at, malformed)?;
            return Ok(());
        }
    }

    /// Advances the shared engine's watermark in place (rows measured from
    /// `read_at`, the read of the chunk's last batch).
    fn chunk_ended(
        &self,
        chunk: u64,
        max_event_time: Option<i64>,
        out_of_orderness: i64,
        read_at: Instant,
    ) -> Result<()> {
        let mut shared = self.engine.write().map_err(|_| poisoned())?;
        let Some(max) = shared.event_times.note(chunk, max_event_time) else {
            return Ok(());
        };
        let mut out = Output::default();
        shared
            .engine
            .advance_watermark(max.saturating_sub(out_of_orderness), &mut out);
        shared.version += 1;
        self.deliver(&mut out, read_at, &[])
    }

    fn deliver(&self, out: &mut Output, caused_at: Instant, malformed: &[Malformed]) -> Result<()> {
        let mut writer = self.writer.lock().map_err(|_| poisoned())?;
        if writer.deliver(out, caused_at, malformed) {
            self.stop.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Runs `plan` on the real engine over the table's input with the baseline.
pub fn run(plan: &QueryPlan, config: &RuntimeConfig, io: RunIo) -> Result<RunReport> {
    let input = TableInput::plan(plan, config)?;
    run_with(plan, config, io, EngineBackend, input)
}

/// Runs `plan` over `input` on `config.shards` threads sharing one engine.
/// The engine must be `Clone` (copied out for every batch).
pub fn run_with<B, I>(
    plan: &QueryPlan,
    config: &RuntimeConfig,
    io: RunIo,
    backend: B,
    input: I,
) -> Result<RunReport>
where
    B: Backend + Sync,
    B::Processor: Clone + Send + Sync,
    I: Input + Sync,
{
    config.validate()?;
    let started = Instant::now();
    let mut plan = plan.clone();
    // As in the thread-per-core runtime: the engine's watermark moves only
    // when a chunk ends.
    plan.time.aligned_only = true;
    let io = crate::runtime::sorted_output(&mut plan, io, input.never_ends())?;
    let io = crate::runtime::staged_output(&mut plan, io, input.never_ends())?;
    let plan = &plan;
    let common = Common {
        engine: RwLock::new(Shared {
            version: 0,
            engine: backend.processor(plan),
            event_times: EventTimes::new(input.chunk_inputs()),
        }),
        writer: Mutex::new(Writer {
            sink: io.sink,
            dead_letters: io.dead_letters,
            source_name: input.name().to_string(),
            limit: io.limit.or(plan.limit),
            rows_accepted: 0,
            latency: new_latency_histogram(),
            error: None,
        }),
        stop: AtomicBool::new(false),
        turn: Mutex::new(0),
        turn_passed: Condvar::new(),
        state_limit: config.max_state_bytes,
        state_description: plan.state_description(),
    };
    // The interrupting signal's number, 0 until one arrives.
    let interrupted = Arc::new(AtomicI32::new(0));
    let flag = interrupted.clone();
    let _relay = io
        .interrupts
        .map(|i| i.on_interrupt(move |signal| flag.store(signal, Ordering::Relaxed)))
        .transpose()?;
    let shared = &common;
    let results: Vec<Result<ShardStats>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..config.shards)
            .map(|worker| {
                let check = interrupted.clone();
                let job = Worker {
                    worker,
                    plan,
                    config,
                    backend: &backend,
                    // Each worker's own clone: its own reader state.
                    input: input.clone(),
                    common: shared,
                    check,
                    started,
                };
                scope.spawn(move || {
                    let result = job.run();
                    if result.is_err() {
                        // The others must not wait for this worker's turns.
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(poisoned())))
            .collect()
    });
    let mut shards = Vec::with_capacity(results.len());
    for result in results {
        shards.push(result?);
    }
    let mut report = finish(common, shards, started)?;
    let signal = interrupted.load(Ordering::Relaxed);
    report.interrupted_by = (signal != 0).then_some(signal);
    Ok(report)
}

fn finish<P: PartitionProcessor + Clone>(
    common: Common<P>,
    mut shards: Vec<ShardStats>,
    started: Instant,
) -> Result<RunReport> {
    let stopped = common.stop.load(Ordering::Relaxed) || shards.iter().any(|s| s.stopped);
    let mut shared = common.engine.into_inner().map_err(|_| poisoned())?;
    let mut writer = common.writer.into_inner().map_err(|_| poisoned())?;
    let mut out = Output::default();
    let began = Instant::now();
    while shared.engine.finish_piece(&mut out, usize::MAX) {}
    writer.deliver(&mut out, began, &[]);
    if let Some(e) = writer.error.take() {
        return Err(e);
    }
    if !stopped {
        writer.sink.input_complete()?;
    }
    writer.sink.flush(&mut || false)?;
    writer.sink.finish()?;
    if let Some(dead_letters) = writer.dead_letters.as_mut() {
        dead_letters.finish()?;
    }
    // One engine: its counters are reported on worker 0.
    if let Some(first) = shards.first_mut() {
        first.engine = shared.engine.stats();
        first.rows_out = first.engine.rows_emitted;
    }
    Ok(RunReport::new(
        shards,
        writer.sink.rows_written(),
        started.elapsed(),
        stopped,
        writer.latency,
    ))
}

/// One worker thread: reads its chunks and pushes every batch through the
/// shared engine.
struct Worker<'a, B, I, P> {
    worker: usize,
    plan: &'a QueryPlan,
    config: &'a RuntimeConfig,
    backend: &'a B,
    input: I,
    common: &'a Common<P>,
    /// The interrupting signal, once the run is interrupted (else 0).
    check: Arc<AtomicI32>,
    started: Instant,
}

impl<B, I, P> Worker<'_, B, I, P>
where
    B: Backend<Processor = P>,
    I: Input,
    P: PartitionProcessor + Clone,
{
    fn run(mut self) -> Result<ShardStats> {
        let mut stats = ShardStats::new(self.worker);
        let layout = self.input.layout();
        // A stream is one chunk, read by worker 0; per-worker streams are
        // one chunk each, read by their worker.
        let streams = match layout {
            InputLayout::Stream if self.worker == 0 => Some(0),
            InputLayout::Streams => Some(self.worker as u64),
            _ => None,
        };
        let chunks = chunks_of(layout, self.worker, self.config.shards).chain(streams);
        for chunk in chunks {
            if self.should_stop() {
                break;
            }
            self.read_chunk(chunk, &mut stats)?;
        }
        stats.stopped = self.should_stop();
        Ok(stats)
    }

    fn should_stop(&mut self) -> bool {
        if !self.common.stop.load(Ordering::Relaxed) && self.check.load(Ordering::Relaxed) != 0 {
            self.common.stop.store(true, Ordering::Relaxed);
        }
        self.common.stop.load(Ordering::Relaxed)
    }

    /// Reads one chunk (a stream: all of it), advancing the watermark at the
    /// chunk's end (a stream: after every batch).
    fn read_chunk(&mut self, chunk: u64, stats: &mut ShardStats) -> Result<()> {
        let mut reader = self.input.open(chunk as usize)?;
        let width = self.plan.row_width();
        let stream = matches!(
            self.input.layout(),
            InputLayout::Stream | InputLayout::Streams
        );
        let mut batch = Batch::with_capacity(width, self.config.batch_rows);
        let mut malformed = Vec::new();
        let mut max_event_time = None;
        loop {
            let due = reader.next_due().map(|offset| self.started + offset);
            if let Some(due) = due {
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            batch.clear();
            malformed.clear();
            let began = Instant::now();
            let read_at = due.unwrap_or(began);
            let more = reader.fill(&mut batch, &mut malformed, self.config.batch_rows)?;
            let batch_max = batch
                .rows()
                .filter_map(|(row, _)| self.backend.event_time(self.plan, row))
                .max();
            max_event_time = max_event_time.max(batch_max);
            stats.busy += began.elapsed();
            let filtered = reader.take_filtered();
            stats.records_in += (batch.len() + malformed.len()) as u64 + filtered;
            stats.filtered_on_read += filtered;
            stats.records_malformed += malformed.len() as u64;
            stats.batches_received += 1;
            self.common
                .push(chunk, &batch, read_at, &malformed, stats)?;
            let end = !more || self.should_stop();
            if stream || end {
                self.advance_watermark(chunk, max_event_time, read_at)?;
            }
            if end {
                self.input.close(reader);
                return self.common.pass_turn(chunk);
            }
        }
    }

    fn advance_watermark(
        &self,
        chunk: u64,
        max_event_time: Option<i64>,
        read_at: Instant,
    ) -> Result<()> {
        if self.plan.event_time_column().is_none() {
            return Ok(());
        }
        let ooo = self.plan.time.max_out_of_orderness_ms;
        self.common.chunk_ended(chunk, max_event_time, ooo, read_at)
    }
}
