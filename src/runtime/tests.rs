//! Tests of the shard machinery with a fake keyed processor and fake inputs.
//! To run them against the real engine, swap `FakeBackend` for
//! `EngineBackend` and build the plans with the planner.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use super::metrics;
use super::startup::{self, start_error, StartFailure};
use super::*;
use crate::data::{Batch, DataType, Field, Schema, Value};
use crate::engine::{EngineStats, LateRecord, Output, OutputRow, RowOrder};
use crate::io::{Flushed, Malformed};
use crate::plan::{
    AggregatePlan, EmitMode, QueryKind, ScalarExpr, TableDef, TimeSettings, WindowKind, WindowSpec,
};

// ---------------------------------------------------------------- fakes

/// One record of a fake input: a row `[key, value, ts]`, or a malformed line.
#[derive(Debug, Clone)]
enum Rec {
    Row(i64, i64, i64),
    Bad,
}

/// A fake input: chunks of records; position = chunk * 1000 + index,
/// chunk-relative line = index + 1.
#[derive(Debug, Clone)]
struct FakeInput {
    chunks: Vec<Vec<Rec>>,
    stream: bool,
    numbering: LineNumbering,
    /// Paced: record n of a chunk is due `n * pace` after the chunk's first.
    pace: Option<Duration>,
}

impl FakeInput {
    fn chunked(chunks: Vec<Vec<Rec>>) -> Self {
        FakeInput {
            chunks,
            stream: false,
            numbering: LineNumbering::ChunkRelative,
            pace: None,
        }
    }

    /// Record i (counted over the whole input) is due `i * pace` after the start.
    fn paced(mut self, pace: Duration) -> Self {
        self.pace = Some(pace);
        self
    }

    fn total(&self) -> u64 {
        self.chunks.iter().map(|c| c.len() as u64).sum()
    }
}

struct FakeReader {
    records: Vec<(Rec, u64)>,
    next: usize,
    /// With pacing: the due offset of `records[0]`, and the pace.
    pace: Option<(Duration, Duration)>,
}

impl ChunkReader for FakeReader {
    fn fill(
        &mut self,
        batch: &mut Batch,
        malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> crate::error::Result<bool> {
        let mut rows = 0;
        while rows < max_rows && self.next < self.records.len() {
            let (rec, position) = &self.records[self.next];
            self.next += 1;
            match rec {
                Rec::Row(k, v, t) => {
                    batch.push_row(&[Value::Int(*k), Value::Int(*v), Value::Int(*t)], *position);
                    rows += 1;
                }
                Rec::Bad => malformed.push(Malformed {
                    source: "fake".into(),
                    line: Some(*position % 1000 + 1),
                    line_in_split: None,
                    position: *position,
                    reason: "bad".into(),
                    raw: "?".into(),
                    origin: None,
                }),
            }
        }
        Ok(self.next < self.records.len())
    }

    fn lines_read(&self) -> Option<u64> {
        Some(self.next as u64)
    }

    fn next_due(&self) -> Option<Duration> {
        self.pace
            .map(|(first, pace)| first + pace * self.next as u32)
    }
}

impl Input for FakeInput {
    type Reader = FakeReader;
    fn layout(&self) -> InputLayout {
        if self.stream {
            InputLayout::Stream
        } else {
            InputLayout::Chunks(self.chunks.len())
        }
    }
    fn open(&mut self, index: usize) -> crate::error::Result<FakeReader> {
        let records = if self.stream {
            positioned(self.chunks.iter().flatten().cloned().enumerate())
        } else {
            let chunk = self.chunks[index].iter().cloned().enumerate();
            positioned(chunk.map(|(i, r)| (index * 1000 + i, r)))
        };
        let before: usize = self.chunks[..index].iter().map(Vec::len).sum();
        let pace = self.pace.map(|pace| (pace * before as u32, pace));
        Ok(FakeReader {
            records,
            next: 0,
            pace,
        })
    }
    fn line_numbering(&self) -> LineNumbering {
        self.numbering
    }
    fn name(&self) -> &str {
        "fake"
    }
}

fn positioned(records: impl Iterator<Item = (usize, Rec)>) -> Vec<(Rec, u64)> {
    records.map(|(p, r)| (r, p as u64)).collect()
}

/// Keyed and order-dependent: per key a chain `h = h * 31 + value`, one row
/// `[key, h]` per record (EMIT CHANGES style), `[key, h, -1]`-free totals at
/// finish. Negative values are filtered; records older than the watermark
/// (set only by `advance_watermark`) are late. Stateless mode passes rows through.
#[derive(Debug, Default, Clone)]
struct FakeProcessor {
    stateless: bool,
    chains: HashMap<i64, i64>,
    /// At the end of the input: the totals not yet written, largest key first.
    closing: Option<Vec<(i64, i64)>>,
    watermark: i64,
    stats: EngineStats,
}

impl PartitionProcessor for FakeProcessor {
    fn push(&mut self, batch: &Batch, out: &mut Output) {
        for (row, position) in batch.rows() {
            self.stats.records_in += 1;
            let (Some(k), Some(v), Some(t)) = (row[0].as_i64(), row[1].as_i64(), row[2].as_i64())
            else {
                continue;
            };
            if v < 0 {
                self.stats.filtered += 1;
                continue;
            }
            if t < self.watermark {
                self.stats.late += 1;
                out.late.push(LateRecord {
                    position,
                    values: row.to_vec(),
                    event_time: t,
                });
                continue;
            }
            self.stats.processed += 1;
            let values = if self.stateless {
                row.to_vec()
            } else {
                let h = self.chains.entry(k).or_insert(0);
                *h = h.wrapping_mul(31).wrapping_add(v);
                vec![Value::Int(k), Value::Int(*h)]
            };
            self.emit(out, values, RowOrder::Position { position, seq: 0 });
        }
    }

    fn advance_watermark(&mut self, watermark: i64, _out: &mut Output) {
        self.watermark = self.watermark.max(watermark);
    }

    fn finish_piece(&mut self, out: &mut Output, rows: usize) -> bool {
        let mut closing = self.closing.take().unwrap_or_else(|| {
            let mut keys: Vec<_> = self.chains.iter().map(|(k, h)| (*k, *h)).collect();
            keys.sort_by(|a, b| b.cmp(a));
            keys
        });
        for _ in 0..rows {
            let Some((k, h)) = closing.pop() else { break };
            let order = RowOrder::Window {
                end: i64::MAX,
                start: i64::MIN,
                key: vec![Value::Int(k)],
            };
            self.emit(out, vec![Value::Int(k), Value::Int(h), Value::Null], order);
        }
        let more = !closing.is_empty();
        self.closing = Some(closing);
        more
    }

    fn stats(&self) -> EngineStats {
        self.stats
    }

    fn open_groups(&self) -> u64 {
        self.chains.len() as u64
    }
}

impl FakeProcessor {
    fn emit(&mut self, out: &mut Output, values: Vec<Value>, order: RowOrder) {
        self.stats.rows_emitted += 1;
        out.rows.push(OutputRow { values, order });
    }
}

struct FakeRouter;

impl RowRouter for FakeRouter {
    fn partition_of(&mut self, row: &[Value], partitions: usize) -> usize {
        (row[0].as_i64().unwrap_or(0).rem_euclid(partitions as i64)) as usize
    }
}

#[derive(Debug, Clone, Copy)]
struct FakeBackend;

impl Backend for FakeBackend {
    type Processor = FakeProcessor;
    type Router = FakeRouter;
    fn processor(&self, plan: &QueryPlan) -> FakeProcessor {
        FakeProcessor {
            stateless: plan.is_stateless(),
            ..FakeProcessor::default()
        }
    }
    fn router(&self, _plan: &QueryPlan) -> FakeRouter {
        FakeRouter
    }
    fn event_time(&self, _plan: &QueryPlan, row: &[Value]) -> Option<i64> {
        row[2].as_i64()
    }
}

/// Collects rows; sends them to the test when dropped (the run ended).
/// With `interrupt`, sends SIGTERM once `interrupt_after` rows went out.
struct VecSink {
    buffered: Vec<Vec<Value>>,
    rows: Vec<Vec<Value>>,
    done: mpsc::Sender<Vec<Vec<Value>>>,
    interrupt: Option<mpsc::Sender<i32>>,
    interrupt_after: usize,
}

impl RowSink for VecSink {
    fn write_row(&mut self, row: &[Value]) -> crate::error::Result<()> {
        self.buffered.push(row.to_vec());
        Ok(())
    }
    fn buffered_bytes(&self) -> usize {
        self.buffered.len()
    }
    fn flush(&mut self, _give_up: &mut dyn FnMut() -> bool) -> crate::error::Result<Flushed> {
        let rows = self.buffered.len() as u64;
        self.rows.append(&mut self.buffered);
        if self.rows.len() >= self.interrupt_after {
            if let Some(interrupt) = self.interrupt.take() {
                let _ = interrupt.send(15);
            }
        }
        Ok(Flushed {
            rows,
            complete: true,
        })
    }
    fn rows_written(&self) -> u64 {
        self.rows.len() as u64
    }
}

impl Drop for VecSink {
    fn drop(&mut self) {
        let _ = self.done.send(std::mem::take(&mut self.rows));
    }
}

/// Collects dead letters as text lines.
struct VecDeadLetters {
    lines: Vec<String>,
    done: mpsc::Sender<Vec<String>>,
}

impl DeadLetters for VecDeadLetters {
    fn malformed(&mut self, record: &Malformed) -> crate::error::Result<()> {
        self.lines.push(format!(
            "malformed@{} line {:?}",
            record.position, record.line
        ));
        Ok(())
    }
    fn late(&mut self, _source: &str, record: &LateRecord) -> crate::error::Result<()> {
        self.lines.push(format!("late@{}", record.position));
        Ok(())
    }
    fn finish(&mut self) -> crate::error::Result<()> {
        let _ = self.done.send(std::mem::take(&mut self.lines));
        Ok(())
    }
}

fn plan(stateless: bool) -> QueryPlan {
    let schema = Schema::new(vec![
        Field::new("k", DataType::BigInt),
        Field::new("v", DataType::BigInt),
        Field::new("ts", DataType::BigInt),
    ]);
    let kind = if stateless {
        QueryKind::Stateless {
            projections: vec![],
        }
    } else {
        QueryKind::Aggregate(AggregatePlan {
            group_keys: vec![ScalarExpr::column(0, DataType::BigInt)],
            window: Some(WindowSpec {
                kind: WindowKind::Tumbling { size_ms: 10 },
                time_column: 2,
            }),
            aggregates: vec![],
            having: None,
            projections: vec![],
        })
    };
    QueryPlan {
        lookups: Vec::new(),
        source: TableDef {
            name: "fake".into(),
            schema,
            properties: vec![],
        },
        filter: None,
        kind,
        output: Schema::default(),
        emit: EmitMode::Changes,
        changelog: false,
        order_by: Vec::new(),
        limit: None,
        time: TimeSettings {
            max_out_of_orderness_ms: 5,
            allowed_lateness_ms: 0,
            aligned_only: false,
        },
        stream_name: None,
        properties: vec![],
        stage: None,
        union: None,
        join: None,
    }
}

struct Ran {
    report: RunReport,
    rows: Vec<Vec<Value>>,
    dead: Vec<String>,
}

fn run_fake(plan: &QueryPlan, config: &RuntimeConfig, input: FakeInput) -> Ran {
    run_fake_interrupted(plan, config, input, None)
}

/// Runs, interrupting (as SIGTERM would) once `interrupt_after` rows went out.
fn run_fake_interrupted(
    plan: &QueryPlan,
    config: &RuntimeConfig,
    input: FakeInput,
    interrupt_after: Option<usize>,
) -> Ran {
    let (rows_tx, rows_rx) = mpsc::channel();
    let (dead_tx, dead_rx) = mpsc::channel();
    let (interrupt_tx, interrupt_rx) = mpsc::channel();
    let mut io = RunIo::new(Box::new(VecSink {
        buffered: vec![],
        rows: vec![],
        done: rows_tx,
        interrupt: interrupt_after.map(|_| interrupt_tx),
        interrupt_after: interrupt_after.unwrap_or(usize::MAX),
    }));
    io.dead_letters = Some(Box::new(VecDeadLetters {
        lines: vec![],
        done: dead_tx,
    }));
    io.interrupts = Some(Interrupts::from_channel(interrupt_rx));
    let report = match run_with(plan, config, io, FakeBackend, input) {
        Ok(report) => report,
        Err(e) => panic!("run failed: {e}"),
    };
    Ran {
        report,
        rows: rows_rx.recv().unwrap_or_default(),
        dead: dead_rx.recv().unwrap_or_default(),
    }
}

fn config(shards: usize) -> RuntimeConfig {
    RuntimeConfig {
        pin: false,
        batch_rows: 4,
        ..RuntimeConfig::with_shards(shards)
    }
}

/// `chunks` chunks of `per_chunk` records over 7 keys; every 11th value
/// negative (filtered), every 13th record malformed, timestamps rising with
/// a few stragglers far behind (late once a chunk end moved the watermark).
fn workload(chunks: usize, per_chunk: usize) -> FakeInput {
    workload_over_keys(7, chunks, per_chunk)
}

/// [`workload`] over `keys` keys.
fn workload_over_keys(keys: i64, chunks: usize, per_chunk: usize) -> FakeInput {
    let mut n = 0i64;
    let data = (0..chunks)
        .map(|_| {
            (0..per_chunk)
                .map(|_| {
                    n += 1;
                    if n % 13 == 0 {
                        return Rec::Bad;
                    }
                    let value = if n % 11 == 0 { -1 } else { n % 17 };
                    let ts = if n % 29 == 0 { 0 } else { n * 2 };
                    Rec::Row(n % keys, value, ts)
                })
                .collect()
        })
        .collect();
    FakeInput::chunked(data)
}

fn int_rows(rows: &[&[i64]]) -> Vec<Vec<Value>> {
    rows.iter()
        .map(|r| r.iter().map(|v| Value::Int(*v)).collect())
        .collect()
}

// ---------------------------------------------------------------- tests

#[test]
fn hand_computed_keyed_output_in_input_order() {
    // Chunk 0: k1 v2, k2 v3; chunk 1: k1 v5, bad, k2 v-1 (filtered), k2 v4.
    let input = FakeInput::chunked(vec![
        vec![Rec::Row(1, 2, 10), Rec::Row(2, 3, 11)],
        vec![
            Rec::Row(1, 5, 12),
            Rec::Bad,
            Rec::Row(2, -1, 13),
            Rec::Row(2, 4, 14),
        ],
    ]);
    let ran = run_fake(&plan(false), &config(2), input);
    let mut expected = int_rows(&[&[1, 2], &[2, 3], &[1, 2 * 31 + 5], &[2, 3 * 31 + 4]]);
    // finish(): per key totals, ordered by key.
    expected.push(vec![Value::Int(1), Value::Int(67), Value::Null]);
    expected.push(vec![Value::Int(2), Value::Int(97), Value::Null]);
    assert_eq!(ran.rows, expected);
    assert_eq!(ran.dead, vec!["malformed@1001 line Some(4)".to_string()]);
    let r = &ran.report;
    assert_eq!(
        (
            r.records_read,
            r.records_malformed,
            r.records_filtered,
            r.records_processed
        ),
        (6, 1, 1, 4)
    );
    assert_eq!(r.rows_emitted, 6);
}

#[test]
fn output_is_identical_for_one_to_four_shards() {
    let plan = plan(false);
    let first = run_fake(&plan, &config(1), workload(23, 37));
    assert!(
        first.report.records_late > 0,
        "the workload has late records"
    );
    assert!(first.rows.len() > 500);
    for shards in 2..=4 {
        let ran = run_fake(&plan, &config(shards), workload(23, 37));
        assert_eq!(ran.rows, first.rows, "{shards} shards");
        assert_eq!(ran.dead, first.dead, "{shards} shards");
        assert_eq!(ran.report.records_late, first.report.records_late);
    }
}

#[test]
fn final_rows_in_many_small_blocks_merge_into_key_order() {
    let plan = plan(false);
    let input = || workload_over_keys(503, 20, 60);
    let whole = RuntimeConfig {
        batch_rows: 100_000,
        ..config(1)
    };
    let first = run_fake(&plan, &whole, input());
    let totals: Vec<i64> = first
        .rows
        .iter()
        .filter(|row| row.len() == 3)
        .filter_map(|row| row[0].as_i64())
        .collect();
    let keys: std::collections::BTreeSet<i64> = first
        .rows
        .iter()
        .filter(|row| row.len() == 2)
        .filter_map(|row| row[0].as_i64())
        .collect();
    assert!(keys.len() > 400);
    assert_eq!(
        totals,
        Vec::from_iter(keys),
        "one total per key, in key order"
    );
    for executor in [ExecutorKind::Glommio, ExecutorKind::Threads] {
        for shards in 1..=4 {
            for (batch_rows, channel_capacity) in [(1, 1), (3, 2), (64, 64)] {
                let config = RuntimeConfig {
                    executor,
                    batch_rows,
                    channel_capacity,
                    ..config(shards)
                };
                let ran = run_fake(&plan, &config, input());
                let case = format!("{executor:?}, {shards} shards, blocks of {batch_rows}");
                assert_eq!(ran.rows, first.rows, "{case}");
                assert_eq!(ran.report.rows_emitted, first.report.rows_emitted, "{case}");
                assert!(ran.report.accounts_for_every_record(), "{case}");
            }
        }
    }
}

#[test]
fn stateless_output_is_input_order_for_any_shard_count() {
    let plan = plan(true);
    let first = run_fake(&plan, &config(1), workload(10, 9));
    let positions_ok = first
        .rows
        .windows(2)
        .all(|w| w[0][2] <= w[1][2] || w[1][2] == Value::Int(0));
    assert!(positions_ok);
    for shards in 2..=3 {
        let ran = run_fake(&plan, &config(shards), workload(10, 9));
        assert_eq!(ran.rows, first.rows, "{shards} shards");
        assert_eq!(ran.dead, first.dead);
    }
}

#[test]
fn stream_input_gives_the_same_output_as_chunks() {
    let plan = plan(false);
    let mut chunked = workload(6, 20);
    chunked.numbering = LineNumbering::Unknown;
    let mut stream = chunked.clone();
    stream.stream = true;
    // Late decisions depend on where chunks end, so compare streams with streams.
    let one = run_fake(&plan, &config(1), stream.clone());
    let three = run_fake(&plan, &config(3), stream);
    assert_eq!(one.rows, three.rows);
    assert_eq!(one.report.records_read, chunked.total());
    assert!(three.report.accounts_for_every_record());
}

#[test]
fn every_record_is_accounted_for_with_several_shards() {
    let input = workload(17, 31);
    let total = input.total();
    let ran = run_fake(&plan(false), &config(3), input);
    let r = &ran.report;
    assert_eq!(r.records_read, total);
    assert!(r.accounts_for_every_record(), "{r:?}");
    assert_eq!(r.shards.len(), 3);
    let per_shard: u64 = r.shards.iter().map(|s| s.engine.records_in).sum();
    assert_eq!(per_shard, total - r.records_malformed);
    // Every shard read chunks of its own (17 chunks striped over 3).
    assert!(r.shards.iter().all(|s| s.records_in > 0));
    let malformed_lines = ran
        .dead
        .iter()
        .filter(|l| l.starts_with("malformed"))
        .count();
    assert_eq!(malformed_lines as u64, r.records_malformed);
    assert_eq!(r.latency.len(), r.rows_emitted);
}

#[test]
fn tiny_channels_and_many_chunks_finish() {
    for stateless in [false, true] {
        let config = RuntimeConfig {
            channel_capacity: 1,
            batch_rows: 2,
            ..config(4)
        };
        let input = workload(300, 7);
        let total = input.total();
        let ran = run_fake(&plan(stateless), &config, input);
        assert_eq!(ran.report.records_read, total);
        assert!(ran.report.accounts_for_every_record());
        assert!(
            ran.report
                .shards
                .iter()
                .map(|s| s.batches_sent)
                .sum::<u64>()
                > 0
                || stateless
        );
    }
}

#[test]
fn malformed_line_numbers_are_fixed_up_across_chunks() {
    let input = FakeInput::chunked(vec![
        vec![Rec::Row(1, 1, 1), Rec::Bad, Rec::Row(1, 1, 2)],
        vec![Rec::Row(1, 1, 3), Rec::Row(1, 1, 4), Rec::Bad],
    ]);
    let ran = run_fake(&plan(false), &config(2), input);
    // Chunk 0 has 3 lines, so chunk 1's third line is line 6.
    assert_eq!(
        ran.dead,
        vec![
            "malformed@1 line Some(2)".to_string(),
            "malformed@1002 line Some(6)".to_string()
        ]
    );
}

#[test]
fn an_interrupt_leaves_an_exact_prefix_of_the_output() {
    for executor in [ExecutorKind::Glommio, ExecutorKind::Threads] {
        for stateless in [false, true] {
            let input = workload(40, 10).paced(Duration::from_micros(500));
            let config = RuntimeConfig {
                executor,
                ..config(2)
            };
            let full = run_fake(&plan(stateless), &config, input.clone());
            let ran = run_fake_interrupted(&plan(stateless), &config, input.clone(), Some(12));
            let r = &ran.report;
            assert_eq!(r.interrupted_by, Some(15), "{executor:?} {stateless}");
            assert!(r.stopped_early);
            assert!(r.records_read < input.total(), "{}", r.records_read);
            assert!(r.accounts_for_every_record(), "{r:?}");
            assert_eq!(r.rows_emitted as usize, ran.rows.len());
            assert!(ran.rows.len() >= 12 && ran.rows.len() < full.rows.len());
            assert_eq!(ran.rows[..], full.rows[..ran.rows.len()]);
        }
    }
}

#[test]
fn on_interrupt_emit_writes_the_open_windows_after_the_prefix() {
    let input = workload(40, 10).paced(Duration::from_micros(500));
    let config = RuntimeConfig {
        on_interrupt: OnInterrupt::Emit,
        ..config(2)
    };
    let full = run_fake(&plan(false), &config, input.clone());
    let ran = run_fake_interrupted(&plan(false), &config, input, Some(12));
    let r = &ran.report;
    assert_eq!(r.interrupted_by, Some(15));
    assert!(r.open_windows_at_interrupt > 0);
    // The fake closes one group per key at the end: [key, chain, NULL].
    assert_eq!(r.rows_after_interrupt, r.open_windows_at_interrupt);
    let prefix = ran.rows.len() - r.rows_after_interrupt as usize;
    assert_eq!(ran.rows[..prefix], full.rows[..prefix]);
    assert!(ran.rows[prefix..].iter().all(|row| row.len() == 3));
}

#[test]
fn limit_writes_the_first_rows_and_stops_the_sources() {
    let full = run_fake(&plan(true), &config(2), workload(50, 10));
    let mut limited_plan = plan(true);
    limited_plan.limit = Some(5);
    let ran = run_fake(&limited_plan, &config(2), workload(50, 10));
    assert_eq!(ran.rows, full.rows[..5].to_vec());
    assert_eq!(ran.report.rows_emitted, 5);
    assert!(ran.report.stopped_early);
    assert!(ran.report.accounts_for_every_record());
}

#[test]
fn core_lists_parse() {
    assert_eq!(parse_core_list("0-3,8").ok(), Some(vec![0, 1, 2, 3, 8]));
    assert_eq!(parse_core_list(" 5 , 2-2 ").ok(), Some(vec![5, 2]));
    assert_eq!(parse_core_list("1,1,0-1").ok(), Some(vec![1, 0]));
    for bad in ["", "a", "3-1", "1,,2", "1-", "-2", "1-2-3"] {
        assert!(parse_core_list(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn placement_wraps_round_robin_over_the_core_list() {
    let config = RuntimeConfig {
        cores: Some(vec![4, 6]),
        ..RuntimeConfig::with_shards(3)
    };
    let placements = startup::choose_placements(&config);
    assert_eq!(placements.shards, vec![Some(4), Some(6), Some(4)]);
    assert_eq!(placements.merger, Some(6));
    let unpinned = RuntimeConfig {
        pin: false,
        ..config
    };
    let placements = startup::choose_placements(&unpinned);
    assert_eq!(placements.shards, vec![None, None, None]);
    assert_eq!(placements.merger, None);
}

#[test]
fn start_failures_say_what_to_change() {
    let message = |failure: StartFailure| start_error("shard 0", &failure, "detail").to_string();
    assert!(message(StartFailure::Os(38)).contains("Linux 5.8+"));
    assert!(message(StartFailure::Os(1)).contains("seccomp=unconfined"));
    assert!(message(StartFailure::Os(12)).contains("ulimit -l"));
    let memlock = message(StartFailure::MemlockLimit {
        limit: 65536,
        needed: 524288,
    });
    assert!(memlock.contains("ulimit -l") && memlock.contains("65536"));
    assert!(message(StartFailure::BadCore).contains("--cores"));
    assert!(message(StartFailure::Other).starts_with("cannot start shard 0: detail"));
}

#[test]
fn glommio_errors_are_classified_by_cause() {
    use glommio::GlommioError;
    let os = |errno| GlommioError::<()>::IoError(std::io::Error::from_raw_os_error(errno));
    assert_eq!(
        startup::classify_glommio_error(&os(38)),
        StartFailure::Os(38)
    );
    assert_eq!(startup::classify_glommio_error(&os(1)), StartFailure::Os(1));
    // What a failed executor thread's join() yields for the memlock check.
    let joined = std::io::Error::other("MemLockLimit(65536/524288)");
    assert_eq!(
        startup::classify_glommio_error(&GlommioError::<()>::IoError(joined)),
        StartFailure::MemlockLimit {
            limit: 65536,
            needed: 524288
        }
    );
    let denied = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "io_uring_setup");
    assert_eq!(startup::classify_io_error(&denied), StartFailure::Os(1));
    let memlock = GlommioError::<()>::ReactorError(glommio::ReactorErrorKind::MemLockLimit(1, 2));
    assert_eq!(
        startup::classify_glommio_error(&memlock),
        StartFailure::MemlockLimit {
            limit: 1,
            needed: 2
        }
    );
}

#[test]
fn config_validation_rejects_zeros() {
    assert!(RuntimeConfig::with_shards(0).validate().is_err());
    let empty_cores = RuntimeConfig {
        cores: Some(vec![]),
        ..RuntimeConfig::default()
    };
    assert!(empty_cores.validate().is_err());
    assert!(RuntimeConfig::default().validate().is_ok());
}

#[test]
fn hgrm_text_has_the_plotter_format() {
    let mut histogram = metrics::new_latency_histogram();
    for micros in [1000u64, 2000, 3000, 4000] {
        histogram.record(micros).expect("in range");
    }
    let text = percentile_distribution(&histogram, 1000.0);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "       Value     Percentile TotalCount 1/(1-Percentile)"
    );
    assert_eq!(lines[1], "");
    assert_eq!(
        lines[2],
        "       1.000 0.000000000000          1           1.00"
    );
    let last_row = lines[lines.len() - 4];
    // As in Java, rows show each bucket's highest equivalent value: 4000 µs
    // lies in a bucket of width 2 (4000..=4001) at 3 significant digits.
    assert_eq!(
        lines[2 + 6],
        "       3.001 0.550000000000          3           2.22"
    );
    assert_eq!(last_row, "       4.001 1.000000000000          4");
    let n = lines.len();
    assert_eq!(
        lines[n - 3],
        "#[Mean    =        2.501, StdDeviation   =        1.118]"
    );
    assert_eq!(
        lines[n - 2],
        "#[Max     =        4.001, Total count    =            4]"
    );
    assert_eq!(
        lines[n - 1],
        "#[Buckets =           22, SubBuckets     =         2048]"
    );
}

#[test]
fn sixteen_shards_start_with_small_io_memory() {
    // 17 executors: fits the default 8 MiB RLIMIT_MEMLOCK of an ordinary user
    // because each registers only 256 KiB of io memory.
    let input = workload(40, 5);
    let total = input.total();
    let ran = run_fake(&plan(false), &config(16), input);
    assert_eq!(ran.report.records_read, total);
    assert_eq!(ran.report.shards.len(), 16);
}

// ------------------------------------------------------ shared-lock baseline

fn run_baseline(plan: &QueryPlan, config: &RuntimeConfig, input: FakeInput) -> Ran {
    let (rows_tx, rows_rx) = mpsc::channel();
    let (dead_tx, dead_rx) = mpsc::channel();
    let mut io = RunIo::new(Box::new(VecSink {
        buffered: vec![],
        rows: vec![],
        done: rows_tx,
        interrupt: None,
        interrupt_after: usize::MAX,
    }));
    io.dead_letters = Some(Box::new(VecDeadLetters {
        lines: vec![],
        done: dead_tx,
    }));
    let report = match crate::baseline::run_with(plan, config, io, FakeBackend, input) {
        Ok(report) => report,
        Err(e) => panic!("baseline failed: {e}"),
    };
    Ran {
        report,
        rows: rows_rx.recv().unwrap_or_default(),
        dead: dead_rx.recv().unwrap_or_default(),
    }
}

#[test]
fn baseline_with_one_worker_matches_the_sharded_runtime() {
    let plan = plan(false);
    let sharded = run_fake(&plan, &config(3), workload(12, 20));
    let baseline = run_baseline(&plan, &config(1), workload(12, 20));
    assert_eq!(baseline.rows, sharded.rows);
    assert_eq!(baseline.report.records_late, sharded.report.records_late);
    assert!(baseline.report.accounts_for_every_record());
}

#[test]
fn baseline_with_several_workers_accounts_for_every_record() {
    let input = workload(30, 25);
    let total = input.total();
    let sharded = run_fake(&plan(true), &config(3), input.clone());
    let ran = run_baseline(&plan(true), &config(3), input);
    let r = &ran.report;
    assert_eq!(r.records_read, total);
    assert!(r.accounts_for_every_record(), "{r:?}");
    assert_eq!(r.shards.len(), 3);
    // Stateless output: the same rows, in emission order rather than input order.
    let mut rows = ran.rows.clone();
    rows.sort();
    let mut expected = sharded.rows.clone();
    expected.sort();
    assert_eq!(rows, expected);
}
