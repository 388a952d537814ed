//! The built-in `trades` generator: a deterministic stream of stock trades
//! `(symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP)`.
//!
//! Event `n` depends only on `(seed, n)` (a splitmix64 hash), so any range of
//! event numbers can be generated on its own and splits agree with a single
//! reader. A row's position is its event number.
//!
//! - `symbol`: one of `keys` names `SYM0001`, `SYM0002`, ... (zero-padded to
//!   at least 4 digits), chosen by hash. The names are allocated once per
//!   thread (every chunk a shard reads shares them, and no other core touches
//!   their reference counts), so generating a record allocates nothing.
//! - `price`: in `[10.00, 999.99]`, two decimals, chosen by hash (no walk).
//! - `qty`: in `[1, 1000]`, chosen by hash.
//! - `ts`: `2026-01-01T00:00:00Z + n * 1000 / events_per_second_time` ms, so
//!   event time advances 1 ms per event by default, independently of `rate`.
//!
//! Pacing (`rate` events per second of wall clock): event `n` is due
//! `n / rate` seconds after the start of the run, whichever split generates
//! it; the generator reports when (see [`BatchSource::scheduled_offset`]) and
//! never sleeps itself.

use super::bind::generator_columns;
use super::properties::TradesConfig;
use super::{BatchSource, Malformed};
use crate::data::{Batch, DataType, Field, Schema, Value};
use crate::error::Result;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

/// `2026-01-01T00:00:00Z` in epoch milliseconds: the first event's time.
pub const TRADES_BASE_TIME_MS: i64 = 1_767_225_600_000;

/// The generator's columns.
pub fn trades_schema() -> Schema {
    Schema::new(vec![
        Field::new("symbol", DataType::Varchar),
        Field::new("price", DataType::Double),
        Field::new("qty", DataType::BigInt),
        Field::new("ts", DataType::Timestamp),
    ])
}

/// Generates the events `first, first + stride, ...` below `last`.
pub struct TradesGenerator {
    config: TradesConfig,
    next: u64,
    last: u64,
    stride: u64,
    symbols: SymbolNames,
    /// For each output column, its index in [`trades_schema`].
    projection: Vec<usize>,
}

impl TradesGenerator {
    /// A generator of all four columns in [`trades_schema`] order.
    pub fn new(config: &TradesConfig, first: u64, last: u64, stride: u64) -> Self {
        TradesGenerator {
            config: *config,
            next: first,
            last: last.min(config.events),
            stride: stride.max(1),
            symbols: pooled_symbol_names(config.keys),
            projection: (0..4).collect(),
        }
    }

    /// A generator of the columns of `schema` (a table declared over the
    /// generator), bound by name with their types checked; an empty schema
    /// means all columns.
    pub fn with_schema(
        name: &str,
        schema: &Schema,
        config: &TradesConfig,
        first: u64,
        last: u64,
        stride: u64,
    ) -> Result<Self> {
        let mut generator = Self::new(config, first, last, stride);
        if let Some(projection) = generator_columns(name, "trades", &trades_schema(), schema)? {
            generator.projection = projection;
        }
        Ok(generator)
    }

    /// The four values of event `n`, in [`trades_schema`] order.
    pub fn event(&self, n: u64) -> [Value; 4] {
        let h = splitmix64(self.config.seed.wrapping_add(splitmix64(n)));
        let symbol = self.symbols[(h % self.symbols.len() as u64) as usize].clone();
        let cents = 1000 + splitmix64(h ^ 1) % 99_000;
        let qty = 1 + splitmix64(h ^ 2) % 1000;
        let offset_ms = event_offset_ms(n, self.config.events_per_second_time);
        [
            Value::Str(symbol),
            Value::Double(cents as f64 / 100.0),
            Value::Int(qty as i64),
            Value::Timestamp(TRADES_BASE_TIME_MS.saturating_add(offset_ms)),
        ]
    }
}

/// `n * 1000 / per_second` ms (saturating), in 64 bits unless that overflows.
fn event_offset_ms(n: u64, per_second: u64) -> i64 {
    let per_second = per_second.max(1);
    let millis = match n.checked_mul(1000) {
        Some(scaled) => scaled / per_second,
        None => u64::try_from(n as u128 * 1000 / per_second as u128).unwrap_or(u64::MAX),
    };
    i64::try_from(millis).unwrap_or(i64::MAX)
}

/// Symbol names, shared by the generators of one thread.
type SymbolNames = Arc<[Arc<str>]>;

thread_local! {
    /// The symbol names last made on this thread, with their key count.
    static SYMBOL_POOL: RefCell<Option<(u32, SymbolNames)>> = const { RefCell::new(None) };
}

/// [`symbol_names`], made once per thread and key count: a shard opens a
/// generator per chunk, and its chunks then share one set of names.
fn pooled_symbol_names(keys: u32) -> SymbolNames {
    SYMBOL_POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        match pool.as_ref() {
            Some((pooled_keys, names)) if *pooled_keys == keys => names.clone(),
            _ => {
                let names: SymbolNames = symbol_names(keys).into();
                *pool = Some((keys, names.clone()));
                names
            }
        }
    })
}

fn symbol_names(keys: u32) -> Vec<Arc<str>> {
    let keys = keys.max(1);
    let width = keys.to_string().len().max(4);
    (1..=keys)
        .map(|i| Arc::from(format!("SYM{i:0width$}").as_str()))
        .collect()
}

/// Sebastiano Vigna's splitmix64 finalizer: a fast, well-mixed 64-bit hash.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl BatchSource for TradesGenerator {
    fn fill(
        &mut self,
        batch: &mut Batch,
        _malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        for _ in 0..max_rows {
            if self.next >= self.last {
                return Ok(false);
            }
            let mut values = self.event(self.next);
            let projection = &self.projection;
            batch.push_row_with(self.next, |row| {
                row.extend(projection.iter().map(|&i| std::mem::take(&mut values[i])));
            });
            self.next = self.next.saturating_add(self.stride);
        }
        Ok(self.next < self.last)
    }

    fn scheduled_offset(&self) -> Option<Duration> {
        let rate = self.config.rate?;
        // Saturates: a slow rate puts late events beyond any real wait.
        (self.next < self.last)
            .then(|| Duration::try_from_secs_f64(self.next as f64 / rate).unwrap_or(Duration::MAX))
    }

    fn due_rows(&self, elapsed: Duration) -> usize {
        let Some(rate) = self.config.rate else {
            return usize::MAX;
        };
        if self.next >= self.last {
            return 0;
        }
        // Events n with n / rate <= elapsed.
        let last_due = (elapsed.as_secs_f64() * rate).floor();
        if last_due < self.next as f64 {
            return 0;
        }
        let last_due = (last_due as u64).min(self.last - 1);
        usize::try_from((last_due - self.next) / self.stride + 1).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TradesConfig {
        TradesConfig {
            events: 1000,
            keys: 10,
            ..TradesConfig::default()
        }
    }

    fn generate(first: u64, last: u64, stride: u64) -> Batch {
        let mut g = TradesGenerator::new(&config(), first, last, stride);
        let mut batch = Batch::new(4);
        while g.fill(&mut batch, &mut Vec::new(), 64).unwrap() {}
        batch
    }

    #[test]
    fn deterministic_and_splittable() {
        let whole = generate(0, 1000, 1);
        assert_eq!(whole.len(), 1000);
        assert_eq!(whole, generate(0, 1000, 1));
        let mut joined = generate(0, 500, 1);
        for (row, pos) in generate(500, 1000, 1).rows() {
            joined.push_row(row, pos);
        }
        assert_eq!(joined, whole);
        // Interleaved splits hold the same events at the same positions.
        let even = generate(0, 1000, 2);
        let odd = generate(1, 1000, 2);
        assert_eq!(even.len(), 500);
        assert_eq!(odd.row(10), whole.row(21));
        assert_eq!(odd.position(10), 21);
    }

    #[test]
    fn values_are_in_range() {
        let batch = generate(0, 1000, 1);
        for (row, n) in batch.rows() {
            let symbol = row[0].as_str().unwrap();
            assert!(symbol.len() == 7 && symbol.starts_with("SYM"), "{symbol}");
            let price = row[1].as_f64().unwrap();
            assert!((10.0..1000.0).contains(&price));
            assert_eq!((price * 100.0).round() / 100.0, price);
            let qty = row[2].as_i64().unwrap();
            assert!((1..=1000).contains(&qty));
            assert_eq!(row[3], Value::Timestamp(TRADES_BASE_TIME_MS + n as i64));
        }
        assert_eq!(batch.row(0)[3].to_string(), "2026-01-01T00:00:00.000Z");
        let symbols: std::collections::HashSet<_> =
            batch.rows().map(|(r, _)| r[0].clone()).collect();
        assert_eq!(symbols.len(), 10);
        assert_eq!(symbol_names(10_000)[9_999].as_ref(), "SYM10000");
    }

    #[test]
    fn pacing_and_projection() {
        let paced = TradesConfig {
            rate: Some(100.0),
            ..config()
        };
        let mut g = TradesGenerator::new(&paced, 0, 1000, 2);
        assert_eq!(g.scheduled_offset(), Some(Duration::ZERO));
        // Events 0, 2, ..., 50 are due by 0.5 s.
        assert_eq!(g.due_rows(Duration::from_millis(500)), 26);
        let mut batch = Batch::new(4);
        g.fill(&mut batch, &mut Vec::new(), 26).unwrap();
        assert_eq!(g.scheduled_offset(), Some(Duration::from_millis(520)));
        assert_eq!(g.due_rows(Duration::from_millis(500)), 0);

        let schema = Schema::new(vec![
            Field::new("TS", DataType::Timestamp),
            Field::new("symbol", DataType::Varchar),
        ]);
        let mut g = TradesGenerator::with_schema("t", &schema, &config(), 0, 1, 1).unwrap();
        let mut batch = Batch::new(2);
        g.fill(&mut batch, &mut Vec::new(), 10).unwrap();
        let full = generate(0, 1, 1);
        assert_eq!(
            batch.row(0),
            &[full.row(0)[3].clone(), full.row(0)[0].clone()]
        );
        let bad = Schema::new(vec![Field::new("venue", DataType::Varchar)]);
        assert!(TradesGenerator::with_schema("t", &bad, &config(), 0, 1, 1).is_err());
        let wrong_type = Schema::new(vec![Field::new("price", DataType::BigInt)]);
        let err = TradesGenerator::with_schema("t", &wrong_type, &config(), 0, 1, 1)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "source 't': column 'price' of the trades generator is DOUBLE, not BIGINT"
        );
    }

    #[test]
    fn the_slowest_rate_schedules_far_events_without_overflow() {
        let slow = TradesConfig {
            rate: Some(0.001),
            events: u64::MAX,
            ..config()
        };
        let g = TradesGenerator::new(&slow, u64::MAX / 2, u64::MAX, 1);
        assert_eq!(g.scheduled_offset(), Some(Duration::MAX));
        assert_eq!(g.due_rows(Duration::from_secs(1)), 0);
    }
}
