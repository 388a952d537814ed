//! The single-partition engine over in-memory, already-parsed batches.
//!
//! Targets (issue: engine): >= 10M records/s for filter + projection, >= 5M
//! records/s for a tumbling-window GROUP BY over 10,000 keys with COUNT, SUM,
//! AVG, MIN, MAX. Throughput is reported by criterion as elements/s.

use corestream::data::{Batch, DataType, Field, Schema, Value};
use corestream::engine::{Output, PartitionEngine};
use corestream::plan::{plan_query, Catalog, PlanSettings, QueryPlan, TableDef};
use corestream::sql::{parse_sql, Statement};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;

const ROWS: usize = 1 << 20;
const BATCH_ROWS: usize = 1024;
const KEYS: usize = 10_000;

fn trades_table() -> TableDef {
    TableDef {
        name: "trades".into(),
        schema: Schema::new(vec![
            Field::new("symbol", DataType::Varchar),
            Field::new("price", DataType::Double),
            Field::new("qty", DataType::BigInt),
            Field::new("ts", DataType::Timestamp),
        ]),
        properties: Vec::new(),
    }
}

fn plan(sql: &str) -> QueryPlan {
    let mut catalog = Catalog::default();
    catalog.add(trades_table());
    let statements = parse_sql(sql).expect("benchmark SQL parses");
    let query = match statements.into_iter().next() {
        Some(Statement::Query(q)) => q,
        _ => panic!("benchmark SQL is a query"),
    };
    plan_query(&query, &catalog, &PlanSettings::default()).expect("benchmark SQL plans")
}

/// Trades with 10,000 symbols, one millisecond apart, in batches of 1024.
fn batches() -> Vec<Batch> {
    let symbols: Vec<Value> = (0..KEYS)
        .map(|k| Value::Str(Arc::from(format!("SYM{k:05}"))))
        .collect();
    let mut out = Vec::new();
    let mut batch = Batch::with_capacity(4, BATCH_ROWS);
    for n in 0..ROWS {
        let mix = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let row = [
            symbols[(mix >> 40) as usize % KEYS].clone(),
            Value::Double(10.0 + (mix % 99_000) as f64 / 100.0),
            Value::Int(1 + (mix >> 20) as i64 % 1000),
            Value::Timestamp(1_767_225_600_000 + n as i64),
        ];
        batch.push_row(&row, n as u64);
        if batch.len() == BATCH_ROWS {
            out.push(batch.take());
        }
    }
    out
}

fn run_engine(plan: &QueryPlan, input: &[Batch]) -> usize {
    let mut engine = PartitionEngine::new(plan);
    let mut out = Output::default();
    let mut rows = 0;
    for batch in input {
        engine.push(batch, &mut out);
        rows += out.rows.len();
        out.rows.clear();
    }
    engine.finish(&mut out);
    rows + out.rows.len()
}

fn bench_engine(c: &mut Criterion) {
    let input = batches();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);

    let filter_project =
        plan("SELECT symbol, price * qty AS notional, ts FROM trades WHERE price > 500");
    group.bench_function("filter_project", |b| {
        b.iter_batched(
            || (),
            |_| black_box(run_engine(&filter_project, &input)),
            BatchSize::PerIteration,
        )
    });

    let tumbling = plan(
        "SELECT symbol, COUNT(*), SUM(qty), AVG(price), MIN(price), MAX(price) \
         FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)",
    );
    group.bench_function("tumbling_groupby_10k_keys", |b| {
        b.iter_batched(
            || (),
            |_| black_box(run_engine(&tumbling, &input)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
