//! Ingest hot paths outside the engine: CSV parsing into batches, routing rows
//! to partitions by key, and moving batches between two executors over a
//! glommio `shared_channel`.
//!
//! Throughput is reported by criterion as elements/s (rows/s). Each group is
//! kept short (10 samples, a few seconds) so `cargo bench --bench ingest`
//! finishes in well under a minute.

use corestream::data::{Batch, DataType, Field, Schema, Value};
use corestream::engine::KeyRouter;
use corestream::io::{open_source, Malformed};
use corestream::plan::{plan_query, Catalog, PlanSettings, QueryPlan, TableDef};
use corestream::sql::{parse_sql, Statement};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use glommio::channels::shared_channel;
use glommio::{LocalExecutorBuilder, Placement};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CSV_ROWS: usize = 1_000_000;
const ROUTE_ROWS: usize = 1 << 18;
const BATCH_ROWS: usize = 1024;
const KEYS: usize = 10_000;
const PARTITIONS: usize = 4;
/// Batches sent per criterion iteration of the channel benchmark.
const BATCHES_PER_ITER: usize = 256;
/// Batches in flight (the runtime's default channel capacity is 64).
const CHANNEL_CAPACITY: usize = 64;
/// Batch buffers cycled between the two executors (forward, then back).
const POOL: usize = 2 * CHANNEL_CAPACITY;

fn trades_schema() -> Schema {
    Schema::new(vec![
        Field::new("symbol", DataType::Varchar),
        Field::new("price", DataType::Double),
        Field::new("qty", DataType::BigInt),
        Field::new("ts", DataType::Timestamp),
    ])
}

fn csv_table(path: &Path) -> TableDef {
    TableDef {
        name: "trades".into(),
        schema: trades_schema(),
        properties: vec![
            ("path".into(), path.display().to_string()),
            ("format".into(), "csv".into()),
        ],
    }
}

/// The `n`th generated trade's mixing value (deterministic).
fn mix(n: usize) -> u64 {
    (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Writes `rows` trades (symbol,price,qty,ts with a header) to `path`.
fn write_trades_csv(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "symbol,price,qty,ts")?;
    for n in 0..rows {
        let m = mix(n);
        writeln!(
            out,
            "SYM{:05},{:.2},{},{}",
            (m >> 40) as usize % KEYS,
            10.0 + (m % 99_000) as f64 / 100.0,
            1 + (m >> 20) % 1000,
            1_767_225_600_000 + n as u64
        )?;
    }
    out.flush()
}

/// Reads the whole file through `open_source`, returning the rows read.
fn read_all_csv(table: &TableDef) -> usize {
    let mut source = open_source(table).expect("the benchmark CSV opens");
    let mut batch = Batch::with_capacity(4, BATCH_ROWS);
    let mut malformed: Vec<Malformed> = Vec::new();
    let mut rows = 0;
    loop {
        let more = source
            .fill(&mut batch, &mut malformed, BATCH_ROWS)
            .expect("the benchmark CSV reads");
        rows += batch.len();
        black_box(&batch);
        batch.clear();
        if !more {
            break;
        }
    }
    assert!(malformed.is_empty(), "generated CSV has no malformed rows");
    rows
}

fn bench_csv(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("trades.csv");
    write_trades_csv(&path, CSV_ROWS).expect("the benchmark CSV is written");
    let table = csv_table(&path);
    assert_eq!(read_all_csv(&table), CSV_ROWS);

    let mut group = c.benchmark_group("ingest_csv");
    group.throughput(Throughput::Elements(CSV_ROWS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("trades_4_columns", |b| {
        b.iter(|| black_box(read_all_csv(&table)))
    });
    group.finish();
}

/// Trades in batches of 1024, 10,000 symbols.
fn trade_batches(rows: usize) -> Vec<Batch> {
    let symbols: Vec<Value> = (0..KEYS)
        .map(|k| Value::Str(Arc::from(format!("SYM{k:05}"))))
        .collect();
    let mut out = Vec::new();
    let mut batch = Batch::with_capacity(4, BATCH_ROWS);
    for n in 0..rows {
        let m = mix(n);
        let row = [
            symbols[(m >> 40) as usize % KEYS].clone(),
            Value::Double(10.0 + (m % 99_000) as f64 / 100.0),
            Value::Int(1 + (m >> 20) as i64 % 1000),
            Value::Timestamp(1_767_225_600_000 + n as i64),
        ];
        batch.push_row(&row, n as u64);
        if batch.len() == BATCH_ROWS {
            out.push(batch.take());
        }
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    out
}

fn grouped_plan() -> QueryPlan {
    let mut catalog = Catalog::default();
    catalog.add(TableDef {
        name: "trades".into(),
        schema: trades_schema(),
        properties: Vec::new(),
    });
    let sql = "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol \
               WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)";
    let query = match parse_sql(sql)
        .expect("benchmark SQL parses")
        .into_iter()
        .next()
    {
        Some(Statement::Query(q)) => q,
        _ => panic!("benchmark SQL is a query"),
    };
    plan_query(&query, &catalog, &PlanSettings::default()).expect("benchmark SQL plans")
}

fn bench_routing(c: &mut Criterion) {
    let input = trade_batches(ROUTE_ROWS);
    let mut router = KeyRouter::new(&grouped_plan());
    let mut group = c.benchmark_group("routing");
    group.throughput(Throughput::Elements(ROUTE_ROWS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("key_router_4_partitions", |b| {
        b.iter(|| {
            let mut counts = [0usize; PARTITIONS];
            for batch in &input {
                for (row, _) in batch.rows() {
                    counts[router.partition_of(row, PARTITIONS)] += 1;
                }
            }
            black_box(counts)
        })
    });
    group.finish();
}

/// Sends `batches` batches from one executor to another, cycling a pool of
/// buffers back over a second channel; returns the consumer's time from the
/// first batch received to the last.
fn transfer(pool: Vec<Batch>, batches: usize) -> Duration {
    let (forward_tx, forward_rx) = shared_channel::new_bounded::<Batch>(CHANNEL_CAPACITY);
    let (back_tx, back_rx) = shared_channel::new_bounded::<Batch>(POOL);
    let producer = LocalExecutorBuilder::new(Placement::Unbound)
        .name("bench-producer")
        .io_memory(256 * 1024)
        .spawn(move || async move {
            let forward = forward_tx.connect().await;
            let back = back_rx.connect().await;
            let mut sent = 0;
            for batch in pool {
                if sent == batches {
                    break;
                }
                forward.send(batch).await.expect("consumer is alive");
                sent += 1;
            }
            while sent < batches {
                let batch = back.recv().await.expect("consumer returns buffers");
                forward.send(batch).await.expect("consumer is alive");
                sent += 1;
            }
        })
        .expect("producer executor starts");
    let consumer = LocalExecutorBuilder::new(Placement::Unbound)
        .name("bench-consumer")
        .io_memory(256 * 1024)
        .spawn(move || async move {
            let forward = forward_rx.connect().await;
            let back = back_tx.connect().await;
            let mut rows = 0;
            let mut start = None;
            for _ in 0..batches {
                let batch = forward.recv().await.expect("producer sends every batch");
                start.get_or_insert_with(Instant::now);
                rows += batch.len();
                // The producer stops listening once it has sent everything:
                // the last buffers are dropped here.
                let _ = back.send(batch).await;
            }
            black_box(rows);
            start.map(|s| s.elapsed()).unwrap_or_default()
        })
        .expect("consumer executor starts");
    producer.join().expect("producer finishes");
    consumer.join().expect("consumer finishes")
}

fn bench_channel(c: &mut Criterion) {
    let template = trade_batches(BATCH_ROWS).remove(0);
    let mut group = c.benchmark_group("channel");
    group.throughput(Throughput::Elements((BATCHES_PER_ITER * BATCH_ROWS) as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("spsc_batches_of_1024_rows", |b| {
        b.iter_custom(|iters| {
            let pool = vec![template.clone(); POOL];
            transfer(pool, iters as usize * BATCHES_PER_ITER)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_csv, bench_routing, bench_channel);
criterion_main!(benches);
