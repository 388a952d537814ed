//! The built-in Nexmark event generator (connector `nexmark`).
//!
//! Owns the three Nexmark tables (`person`, `auction`, `bid`), their schemas,
//! the generator's settings read from WITH properties, and [`NexmarkSource`],
//! a [`BatchSource`] yielding the rows of one table over a range of event
//! numbers.
//!
//! The generator follows Apache Beam's Nexmark generator (also the base of
//! Flink's `nexmark/nexmark` repository and RisingWave's `nexmark-rs`):
//!
//! - Events are numbered 0, 1, 2, ...; `n % 50` decides the kind: 0 a person,
//!   1 to 3 an auction, 4 to 49 a bid.
//! - Ids start at 1000; the last person and auction ids at event `n` follow
//!   from the epoch `n / 50` and the offset in it, so any range of event
//!   numbers can be generated alone, on any core, with the same result.
//! - Randomness is a splitmix64 chain seeded from `(seed, n)`: the same event
//!   number always yields the same event.
//! - Event time is `2026-01-01T00:00:00Z + n * 1000 / events_per_second_time` ms
//!   (integer division), in order, with no disorder.
//! - Strings come from preallocated pools and prices from a table
//!   ([`PriceTable`]: the same prices as the `powf` formula), built once per
//!   shard and source and kept across chunks in a [`SourceState`].
//!
//! Where it differs from Beam (deliberately):
//!
//! - Bidders get the first person id added **once** (as Beam and nexmark-rs
//!   do; Flink's generator adds it twice).
//! - No id *lead*: Beam may pick a "recent" auction or person up to 10 ids
//!   beyond the last one generated; here every referenced auction, seller and
//!   bidder already exists at that event (ids are at most the last ones). For
//!   the same reason the hot bidder (last person id rounded down to a multiple
//!   of 100, plus 1) is capped at the last person id.
//! - Random strings come from our own generator, not `java.util.Random`, so
//!   values differ from Beam's while the distributions match.
//! - `extra` is not a fresh random string per event: it is drawn from a pool of
//!   preallocated padding strings, [`EXTRA_VARIANTS`] per length, so a bid
//!   costs no allocation. Its *length* follows Beam's `nextExtra` exactly: the
//!   event's size (Beam's accounting: 8 bytes per number and timestamp plus
//!   the text lengths; for a bid 32) is padded to an average of 200 (person),
//!   500 (auction) or 100 (bid) bytes, varying by up to 20%. So a bid's `extra`
//!   averages 68 characters, as in Beam and Flink.
//! - A channel's url is fixed per channel number and seed (Beam caches it per
//!   channel too, but with a process-random base).

use super::bind::generator_columns;
use super::source::{BatchSource, Malformed};
use super::SourceState;
use crate::data::{Batch, DataType, Field, Schema, Value};
use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// `2026-01-01T00:00:00Z` in milliseconds since the epoch: event 0's time.
pub const BASE_TIME_MS: i64 = 1_767_225_600_000;

const FIRST_PERSON_ID: u64 = 1000;
const FIRST_AUCTION_ID: u64 = 1000;
const FIRST_CATEGORY_ID: u64 = 10;
const NUM_CATEGORIES: u64 = 5;

/// Out of every [`TOTAL_PROPORTION`] events: 1 person, 3 auctions, 46 bids.
const PERSON_PROPORTION: u64 = 1;
const AUCTION_PROPORTION: u64 = 3;
const TOTAL_PROPORTION: u64 = 50;

/// "Recent" people and auctions a non-hot reference picks from.
const NUM_ACTIVE_PEOPLE: u64 = 1000;
const NUM_IN_FLIGHT_AUCTIONS: u64 = 100;

/// A reference is hot with probability `1 - 1 / ratio`.
const HOT_AUCTION_RATIO: u64 = 2;
const HOT_BIDDER_RATIO: u64 = 4;
const HOT_SELLER_RATIO: u64 = 4;
const HOT_CHANNEL_RATIO: u64 = 2;
/// Hot ids are the last id rounded down to a multiple of this.
const HOT_ID_GROUP: u64 = 100;

const CHANNELS: u64 = 10_000;
const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

const AVG_PERSON_BYTES: usize = 200;
const AVG_AUCTION_BYTES: usize = 500;
const AVG_BID_BYTES: usize = 100;
/// Beam's size of a bid before `extra`: auction, bidder, price, date_time.
const BID_FIXED_BYTES: usize = 32;
/// Beam's size of an auction's numbers and timestamps.
const AUCTION_FIXED_BYTES: usize = 48;
/// Beam's size of a person's id.
const PERSON_FIXED_BYTES: usize = 8;

/// Distinct preallocated `extra` strings per length.
pub const EXTRA_VARIANTS: usize = 4;

const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];
const US_STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES: [&str; 10] = [
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];

/// One of the three Nexmark tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NexmarkTable {
    Person,
    Auction,
    Bid,
}

impl NexmarkTable {
    /// The number of columns of [`NexmarkTable::schema`], without building it.
    pub fn width(self) -> usize {
        match self {
            NexmarkTable::Person => 8,
            NexmarkTable::Auction => 10,
            NexmarkTable::Bid => 7,
        }
    }

    /// The table's columns, in the order rows carry them.
    pub fn schema(self) -> Schema {
        use DataType::{BigInt, Timestamp, Varchar};
        let columns: &[(&str, DataType)] = match self {
            NexmarkTable::Person => &[
                ("id", BigInt),
                ("name", Varchar),
                ("email_address", Varchar),
                ("credit_card", Varchar),
                ("city", Varchar),
                ("state", Varchar),
                ("date_time", Timestamp),
                ("extra", Varchar),
            ],
            NexmarkTable::Auction => &[
                ("id", BigInt),
                ("item_name", Varchar),
                ("description", Varchar),
                ("initial_bid", BigInt),
                ("reserve", BigInt),
                ("date_time", Timestamp),
                ("expires", Timestamp),
                ("seller", BigInt),
                ("category", BigInt),
                ("extra", Varchar),
            ],
            NexmarkTable::Bid => &[
                ("auction", BigInt),
                ("bidder", BigInt),
                ("price", BigInt),
                ("channel", Varchar),
                ("url", Varchar),
                ("date_time", Timestamp),
                ("extra", Varchar),
            ],
        };
        Schema::new(
            columns
                .iter()
                .map(|(name, data_type)| Field::new(*name, *data_type))
                .collect(),
        )
    }

    /// The table's name as SQL and the `table` WITH key spell it.
    pub fn name(self) -> &'static str {
        match self {
            NexmarkTable::Person => "person",
            NexmarkTable::Auction => "auction",
            NexmarkTable::Bid => "bid",
        }
    }

    /// The kind of event number `n`.
    pub fn of_event(n: u64) -> NexmarkTable {
        match n % TOTAL_PROPORTION {
            0 => NexmarkTable::Person,
            1..=3 => NexmarkTable::Auction,
            _ => NexmarkTable::Bid,
        }
    }

    /// The first event number `>= n` of this kind.
    pub fn next_event(self, n: u64) -> u64 {
        let epoch_start = n - n % TOTAL_PROPORTION;
        let offset = n % TOTAL_PROPORTION;
        match self {
            NexmarkTable::Person if offset == 0 => n,
            NexmarkTable::Person => epoch_start + TOTAL_PROPORTION,
            NexmarkTable::Auction if offset == 0 => n + 1,
            NexmarkTable::Auction if offset <= AUCTION_PROPORTION => n,
            NexmarkTable::Auction => epoch_start + TOTAL_PROPORTION + PERSON_PROPORTION,
            NexmarkTable::Bid if offset < PERSON_PROPORTION + AUCTION_PROPORTION => {
                epoch_start + PERSON_PROPORTION + AUCTION_PROPORTION
            }
            NexmarkTable::Bid => n,
        }
    }

    /// How many of the events `0..n` are of this kind.
    pub fn events_below(self, n: u64) -> u64 {
        let epoch = n / TOTAL_PROPORTION;
        let offset = n % TOTAL_PROPORTION;
        let persons = epoch * PERSON_PROPORTION + offset.min(PERSON_PROPORTION);
        let auctions = epoch * AUCTION_PROPORTION
            + offset
                .saturating_sub(PERSON_PROPORTION)
                .min(AUCTION_PROPORTION);
        match self {
            NexmarkTable::Person => persons,
            NexmarkTable::Auction => auctions,
            NexmarkTable::Bid => n - persons - auctions,
        }
    }
}

impl FromStr for NexmarkTable {
    type Err = Error;

    fn from_str(text: &str) -> Result<NexmarkTable> {
        match text.trim().to_ascii_lowercase().as_str() {
            "person" => Ok(NexmarkTable::Person),
            "auction" => Ok(NexmarkTable::Auction),
            "bid" => Ok(NexmarkTable::Bid),
            _ => Err(Error::Usage(format!(
                "unknown nexmark table '{text}' (known: person, auction, bid)"
            ))),
        }
    }
}

/// The generator's settings (WITH keys `events`, `events_per_second_time`,
/// `seed`, `rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NexmarkConfig {
    /// Events in the whole stream, of all kinds: event numbers `0..events`.
    pub events: u64,
    /// Events per second of *event time*: event `n` happens at
    /// `BASE_TIME_MS + n * 1000 / rate` ms. Always at least 1.
    pub rate: u64,
    pub seed: u64,
    /// Wall-clock events (of all kinds) per second; `None` = as fast as
    /// possible.
    pub pacing_rate: Option<u64>,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        NexmarkConfig {
            events: 10_000_000,
            rate: 10_000_000,
            seed: 42,
            pacing_rate: None,
        }
    }
}

impl NexmarkConfig {
    /// Event time of event `n`, ms since the epoch.
    pub fn event_time_ms(&self, n: u64) -> i64 {
        let rate = self.rate.max(1);
        // 64-bit division where it cannot overflow (128-bit division is slow).
        let offset = match n.checked_mul(1000) {
            Some(scaled) => scaled / rate,
            None => u64::try_from(u128::from(n) * 1000 / u128::from(rate)).unwrap_or(u64::MAX),
        };
        BASE_TIME_MS.saturating_add(as_i64(offset))
    }
}

/// Cuts event numbers `0..events` into `parts` contiguous ranges of nearly
/// equal length (the first ones one longer), one per split.
pub fn split_events(events: u64, parts: usize) -> Vec<Range<u64>> {
    let parts = parts.max(1) as u64;
    let (size, rest) = (events / parts, events % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let end = start + size + u64::from(i < rest);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// The rows of one Nexmark table for the events of a range, in event order,
/// each row's position its event number.
pub struct NexmarkSource {
    table: NexmarkTable,
    config: NexmarkConfig,
    /// The next event number of this table's kind to emit.
    next: u64,
    /// One past the range's last event number.
    end: u64,
    pools: Pools,
    /// Reused buffer for a generated row that is projected.
    row: Vec<Value>,
    /// For each declared column, its index in [`NexmarkTable::schema`];
    /// `None` when rows are pushed as generated.
    projection: Option<Vec<usize>>,
    /// Reused buffer for a projected row.
    projected: Vec<Value>,
    /// Reused buffer for generated text.
    text: String,
}

impl NexmarkSource {
    /// A source of `table`'s rows for the event numbers in `range`, cut to
    /// the stream's `config.events`.
    pub fn new(table: NexmarkTable, config: &NexmarkConfig, range: Range<u64>) -> NexmarkSource {
        NexmarkSource::with_pools(table, config, range, Pools::new(config.seed))
    }

    fn with_pools(
        table: NexmarkTable,
        config: &NexmarkConfig,
        range: Range<u64>,
        pools: Pools,
    ) -> NexmarkSource {
        let end = range.end.min(config.events);
        let first = range.start.min(end);
        NexmarkSource {
            table,
            config: *config,
            next: table.next_event(first),
            end,
            pools,
            row: Vec::with_capacity(table.width()),
            text: String::new(),
            projection: None,
            projected: Vec::new(),
        }
    }

    /// A source of the columns `declared` for table `source` (a table
    /// declared over the generator), bound by name with their types checked;
    /// an empty declaration means all columns. It reuses the pools an earlier
    /// chunk's source left in `state` (see [`BatchSource::save_state`]).
    pub fn with_schema(
        source: &str,
        declared: &Schema,
        table: NexmarkTable,
        config: &NexmarkConfig,
        range: Range<u64>,
        state: &mut SourceState,
    ) -> Result<NexmarkSource> {
        let generator = format!("nexmark {}", table.name());
        let pools = state
            .nexmark
            .take()
            .filter(|pools| pools.seed == config.seed)
            .unwrap_or_else(|| Pools::new(config.seed));
        let mut nexmark = NexmarkSource::with_pools(table, config, range, pools);
        nexmark.projection = generator_columns(source, &generator, &table.schema(), declared)?;
        Ok(nexmark)
    }

    /// The number of columns of the rows this source pushes.
    fn width(&self) -> usize {
        self.projection
            .as_ref()
            .map_or(self.table.width(), Vec::len)
    }

    /// Pushes the row that `write` generates (projected when declared so)
    /// as event `n`.
    fn push_row(&mut self, batch: &mut Batch, n: u64, write: impl FnOnce(&mut Vec<Value>)) {
        let Some(projection) = &self.projection else {
            batch.push_row_with(n, write);
            return;
        };
        write(&mut self.row);
        self.projected
            .extend(projection.iter().map(|&i| std::mem::take(&mut self.row[i])));
        self.row.clear();
        batch.push_row_from(&mut self.projected, n);
    }

    pub fn table(&self) -> NexmarkTable {
        self.table
    }

    /// Under `pacing_rate`: how long after the start of the run the next row
    /// is due (event `first + k` of the range is due at `k / pacing_rate`
    /// seconds). `None` when unpaced or exhausted.
    pub fn pace_offset(&self) -> Option<Duration> {
        let rate = self.config.pacing_rate?;
        if self.next >= self.end {
            return None;
        }
        let nanos = u128::from(self.next) * 1_000_000_000 / u128::from(rate);
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// Under `pacing_rate`: how many more rows are due by `elapsed` since the
    /// start of the run; `usize::MAX` when unpaced.
    pub fn due_rows(&self, elapsed: Duration) -> usize {
        let Some(rate) = self.config.pacing_rate else {
            return usize::MAX;
        };
        let due_events = elapsed.as_nanos() * u128::from(rate) / 1_000_000_000 + 1;
        let due_end = u64::try_from(due_events).unwrap_or(u64::MAX).min(self.end);
        let due = self.table.events_below(due_end);
        let done = self.table.events_below(self.next.min(self.end));
        usize::try_from(due.saturating_sub(done)).unwrap_or(usize::MAX)
    }

    fn fill_rows(&mut self, batch: &mut Batch, max_rows: usize) {
        let mut emitted = 0;
        while emitted < max_rows && self.next < self.end {
            let n = self.next;
            match self.table {
                NexmarkTable::Person => self.push_person(n, batch),
                NexmarkTable::Auction => self.push_auction(n, batch),
                NexmarkTable::Bid => self.push_bid(n, batch),
            }
            self.next = self.table.next_event(n + 1);
            emitted += 1;
        }
    }

    fn push_bid(&mut self, n: u64, batch: &mut Batch) {
        let mut rng = EventRng::new(self.pools.seed_mix, n);
        let last_auction = last_base0_auction_id(n);
        let auction = if rng.below(HOT_AUCTION_RATIO) > 0 {
            last_auction / HOT_ID_GROUP * HOT_ID_GROUP
        } else {
            recent_auction(&mut rng, last_auction)
        } + FIRST_AUCTION_ID;
        let last_person = last_base0_person_id(n);
        let bidder = if rng.below(HOT_BIDDER_RATIO) > 0 {
            (last_person / HOT_ID_GROUP * HOT_ID_GROUP + 1).min(last_person)
        } else {
            recent_person(&mut rng, last_person)
        } + FIRST_PERSON_ID;
        let price = self.pools.prices.price(rng.unit());
        let (channel, url) = self.pools.channel(&mut rng);
        let extra = self.pools.extra(&mut rng, BID_FIXED_BYTES, AVG_BID_BYTES);
        let date_time = self.config.event_time_ms(n);
        self.push_row(batch, n, |row| {
            row.push(Value::Int(as_i64(auction)));
            row.push(Value::Int(as_i64(bidder)));
            row.push(Value::Int(price));
            row.push(Value::Str(channel));
            row.push(Value::Str(url));
            row.push(Value::Timestamp(date_time));
            row.push(Value::Str(extra));
        });
    }

    fn push_auction(&mut self, n: u64, batch: &mut Batch) {
        let mut rng = EventRng::new(self.pools.seed_mix, n);
        let id = last_base0_auction_id(n) + FIRST_AUCTION_ID;
        let last_person = last_base0_person_id(n);
        let seller = if rng.below(HOT_SELLER_RATIO) > 0 {
            last_person / HOT_ID_GROUP * HOT_ID_GROUP
        } else {
            recent_person(&mut rng, last_person)
        } + FIRST_PERSON_ID;
        let category = FIRST_CATEGORY_ID + rng.below(NUM_CATEGORIES);
        let initial_bid = self.pools.prices.price(rng.unit());
        let date_time = self.config.event_time_ms(n);
        let expires = date_time + self.auction_length_ms(n, &mut rng);
        let item_name = self.random_text(&mut rng, 20);
        let description = self.random_text(&mut rng, 100);
        let reserve = initial_bid + self.pools.prices.price(rng.unit());
        let size = AUCTION_FIXED_BYTES + item_name.len() + description.len();
        let extra = self.pools.extra(&mut rng, size, AVG_AUCTION_BYTES);
        self.push_row(batch, n, |row| {
            row.push(Value::Int(as_i64(id)));
            row.push(Value::Str(item_name));
            row.push(Value::Str(description));
            row.push(Value::Int(initial_bid));
            row.push(Value::Int(reserve));
            row.push(Value::Timestamp(date_time));
            row.push(Value::Timestamp(expires));
            row.push(Value::Int(as_i64(seller)));
            row.push(Value::Int(as_i64(category)));
            row.push(Value::Str(extra));
        });
    }

    fn push_person(&mut self, n: u64, batch: &mut Batch) {
        let mut rng = EventRng::new(self.pools.seed_mix, n);
        let id = last_base0_person_id(n) + FIRST_PERSON_ID;
        let name = self.pools.person_name(&mut rng);
        let email = self.random_email(&mut rng);
        let credit_card = self.random_credit_card(&mut rng);
        let city = self.pools.cities[rng.below_usize(US_CITIES.len())].clone();
        let state = self.pools.states[rng.below_usize(US_STATES.len())].clone();
        let size = PERSON_FIXED_BYTES
            + name.len()
            + email.len()
            + credit_card.len()
            + city.len()
            + state.len();
        let extra = self.pools.extra(&mut rng, size, AVG_PERSON_BYTES);
        let date_time = self.config.event_time_ms(n);
        self.push_row(batch, n, |row| {
            row.push(Value::Int(as_i64(id)));
            row.push(Value::Str(name));
            row.push(Value::Str(email));
            row.push(Value::Str(credit_card));
            row.push(Value::Str(city));
            row.push(Value::Str(state));
            row.push(Value::Timestamp(date_time));
            row.push(Value::Str(extra));
        });
    }

    /// Beam's `nextAuctionLengthMs`: 1 ms plus up to twice the time until the
    /// auction `NUM_IN_FLIGHT_AUCTIONS` ahead is generated.
    fn auction_length_ms(&self, n: u64, rng: &mut EventRng) -> i64 {
        let events_ahead = NUM_IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION / AUCTION_PROPORTION;
        let horizon_ms = self.config.event_time_ms(n + events_ahead) - self.config.event_time_ms(n);
        let span = u64::try_from(horizon_ms.saturating_mul(2))
            .unwrap_or(0)
            .max(1);
        1 + as_i64(rng.below(span))
    }

    /// Beam's `nextString(maxLength)`: 3 to `max_len - 1` characters, letters
    /// with about one in 13 a space, trimmed.
    fn random_text(&mut self, rng: &mut EventRng, max_len: u64) -> Arc<str> {
        self.text.clear();
        push_random_word(&mut self.text, rng, max_len, ' ');
        Arc::from(self.text.trim())
    }

    /// Beam's `nextEmail`: `nextString(7) + "@" + nextString(5) + ".com"`.
    fn random_email(&mut self, rng: &mut EventRng) -> Arc<str> {
        self.text.clear();
        push_trimmed_word(&mut self.text, rng, 7);
        self.text.push('@');
        push_trimmed_word(&mut self.text, rng, 5);
        self.text.push_str(".com");
        Arc::from(self.text.as_str())
    }

    fn random_credit_card(&mut self, rng: &mut EventRng) -> Arc<str> {
        self.text.clear();
        for group in 0..4 {
            if group > 0 {
                self.text.push(' ');
            }
            // Writing to a String cannot fail.
            let _ = write!(self.text, "{:04}", rng.below(10_000));
        }
        Arc::from(self.text.as_str())
    }
}

impl BatchSource for NexmarkSource {
    fn fill(
        &mut self,
        batch: &mut Batch,
        _malformed: &mut Vec<Malformed>,
        max_rows: usize,
    ) -> Result<bool> {
        let width = self.width();
        if batch.width() != width {
            return Err(Error::Runtime(format!(
                "nexmark source '{}': batch of width {} for a table of {width} columns",
                self.table.name(),
                batch.width()
            )));
        }
        self.fill_rows(batch, max_rows);
        Ok(self.next < self.end)
    }

    fn scheduled_offset(&self) -> Option<Duration> {
        self.pace_offset()
    }

    fn due_rows(&self, elapsed: Duration) -> usize {
        NexmarkSource::due_rows(self, elapsed)
    }

    /// Hands the pools to the next chunk's source.
    fn save_state(self: Box<Self>, state: &mut SourceState) {
        state.nexmark = Some(self.pools);
    }
}

/// The last person generated at or before event `n`, counted from 0.
fn last_base0_person_id(n: u64) -> u64 {
    // The epoch's one person comes first, so it exists at every offset.
    n / TOTAL_PROPORTION * PERSON_PROPORTION
}

/// The last auction generated at or before event `n`, counted from 0 (the
/// auction event `n` itself when it is one). Meaningful once an auction
/// exists (`n >= 1`); 0 before.
fn last_base0_auction_id(n: u64) -> u64 {
    let epoch = n / TOTAL_PROPORTION;
    let offset = n % TOTAL_PROPORTION;
    if offset < PERSON_PROPORTION {
        (epoch * AUCTION_PROPORTION).saturating_sub(1)
    } else if offset >= PERSON_PROPORTION + AUCTION_PROPORTION {
        epoch * AUCTION_PROPORTION + AUCTION_PROPORTION - 1
    } else {
        epoch * AUCTION_PROPORTION + offset - PERSON_PROPORTION
    }
}

/// Uniform among the last `NUM_IN_FLIGHT_AUCTIONS + 1` auctions (Beam's
/// `nextBase0AuctionId` without the lead).
fn recent_auction(rng: &mut EventRng, last: u64) -> u64 {
    let min = last.saturating_sub(NUM_IN_FLIGHT_AUCTIONS);
    min + rng.below(last - min + 1)
}

/// Uniform among the last `NUM_ACTIVE_PEOPLE` people (Beam's
/// `nextBase0PersonId` without the lead).
fn recent_person(rng: &mut EventRng, last: u64) -> u64 {
    let people = last + 1;
    let active = people.min(NUM_ACTIVE_PEOPLE);
    people - active + rng.below(active)
}

/// `round(10^(unit * 6) * 100)` cents: log-uniform from 1 to 1,000,000
/// dollars, by `powf`. [`PriceTable::price`] gives the same prices faster.
fn powf_price(unit: f64) -> i64 {
    // Java's `Math.round` (floor of x + 0.5); x is positive, so the cast
    // floors (and avoids a libm call).
    (10f64.powf(unit * 6.0) * 100.0 + 0.5) as i64
}

/// Table steps per power of ten of the price.
const PRICE_STEPS_PER_DECADE: f64 = 256.0;
/// Powers of ten a price spans (1 to 1,000,000 dollars).
const PRICE_DECADES: usize = 6;
/// How far (relative) [`PriceTable::price`]'s estimate may be from the
/// `powf` formula's value before rounding: ample for both (a few ulps each,
/// below 1e-15); closer than this to a rounding boundary, `powf` decides.
const PRICE_ROUNDING_MARGIN: f64 = 1e-13;

/// [`powf_price`] without a `powf` per price: `10^e * 100` is a table entry
/// `10^(i / 256) * 100` times `exp(r * ln 10)` for the rest `r < 1/256`,
/// by a short series. The estimate is within [`PRICE_ROUNDING_MARGIN`] of
/// `powf`'s value, so when no rounding boundary lies that close, both round
/// to the same cent; otherwise (about one price in a million) it calls
/// [`powf_price`]. Every seed's prices are therefore exactly the `powf`
/// formula's (the tests compare millions of draws).
pub(crate) struct PriceTable {
    /// `10^(i / 256) * 100` for `i` in `0..=6 * 256`.
    steps: Vec<f64>,
}

impl PriceTable {
    fn new() -> PriceTable {
        let steps = (0..=PRICE_DECADES * PRICE_STEPS_PER_DECADE as usize)
            .map(|i| 10f64.powf(i as f64 / PRICE_STEPS_PER_DECADE) * 100.0)
            .collect();
        PriceTable { steps }
    }

    /// The price of the uniform draw `unit` in `[0, 1)`, as [`powf_price`].
    fn price(&self, unit: f64) -> i64 {
        // The same exponent as `powf_price` computes, rounding included.
        let exponent = unit * PRICE_DECADES as f64;
        // Multiplying by a power of two is exact, and so is the rest: it is 0
        // or `exponent` minus a number within a factor of two of it.
        let step = (exponent * PRICE_STEPS_PER_DECADE) as usize;
        let rest = exponent - step as f64 / PRICE_STEPS_PER_DECADE;
        let Some(base) = self.steps.get(step) else {
            return powf_price(unit);
        };
        let estimate = base * exp_small(rest * std::f64::consts::LN_10) + 0.5;
        let margin = estimate * PRICE_ROUNDING_MARGIN;
        // Positive, so the casts floor (as `powf_price`'s does), with no
        // libm call.
        let (low, high) = ((estimate - margin) as i64, (estimate + margin) as i64);
        if low == high {
            low
        } else {
            powf_price(unit)
        }
    }
}

/// `exp(x)` for `0 <= x < ln(10) / 256` (below 0.009) by its Taylor series
/// to `x^6`: the first term left out is below 1e-18, far under an ulp.
fn exp_small(x: f64) -> f64 {
    // Horner's rule: 1 + x(1 + x(1/2 + x(1/6 + x(1/24 + x(1/120 + x/720))))).
    let tail = 1.0 / 120.0 + x * (1.0 / 720.0);
    let tail = 1.0 / 24.0 + x * tail;
    let tail = 1.0 / 6.0 + x * tail;
    let tail = 1.0 / 2.0 + x * tail;
    1.0 + x * (1.0 + x * tail)
}

fn push_random_word(out: &mut String, rng: &mut EventRng, max_len: u64, special: char) {
    let len = 3 + rng.below(max_len - 3);
    for _ in 0..len {
        if rng.below(13) == 0 {
            out.push(special);
        } else {
            out.push(char::from(b'a' + rng.below(26) as u8));
        }
    }
}

/// [`push_random_word`] with spaces, without the spaces at its ends.
fn push_trimmed_word(out: &mut String, rng: &mut EventRng, max_len: u64) {
    let start = out.len();
    push_random_word(out, rng, max_len, ' ');
    let trailing = out[start..].len() - out[start..].trim_end().len();
    out.truncate(out.len() - trailing);
    let leading = out[start..].len() - out[start..].trim_start().len();
    out.drain(start..start + leading);
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Preallocated strings and the price table, one set per shard and source
/// (kept across chunks in a [`SourceState`]) so that cores never share the
/// reference counts of the `Arc<str>`s they clone.
pub(crate) struct Pools {
    /// The seed they were made for.
    seed: u64,
    seed_mix: u64,
    prices: PriceTable,
    /// `FIRST_NAMES[i] + " " + LAST_NAMES[j]` at `i * LAST_NAMES.len() + j`.
    names: Vec<Arc<str>>,
    cities: Vec<Arc<str>>,
    states: Vec<Arc<str>>,
    hot_channels: Vec<(Arc<str>, Arc<str>)>,
    /// `channel-<k>` and its url, made on first use.
    channels: Vec<Option<(Arc<str>, Arc<str>)>>,
    /// Padding of length `l`, variant `v` at `l * EXTRA_VARIANTS + v`, made on
    /// first use.
    extras: Vec<Option<Arc<str>>>,
}

impl Pools {
    fn new(seed: u64) -> Pools {
        let seed_mix = mix(seed ^ 0x6e65_786d_6172_6b00);
        let names = FIRST_NAMES
            .iter()
            .flat_map(|first| LAST_NAMES.iter().map(move |last| format!("{first} {last}")))
            .map(|name| Arc::from(name.as_str()))
            .collect();
        let hot_channels = HOT_CHANNELS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut rng = EventRng::new(seed_mix, CHANNELS + i as u64);
                (Arc::from(*name), Arc::from(base_url(&mut rng).as_str()))
            })
            .collect();
        Pools {
            seed,
            seed_mix,
            prices: PriceTable::new(),
            names,
            cities: US_CITIES.iter().map(|c| Arc::from(*c)).collect(),
            states: US_STATES.iter().map(|s| Arc::from(*s)).collect(),
            hot_channels,
            channels: Vec::new(),
            extras: Vec::new(),
        }
    }

    fn person_name(&self, rng: &mut EventRng) -> Arc<str> {
        let first = rng.below_usize(FIRST_NAMES.len());
        let last = rng.below_usize(LAST_NAMES.len());
        self.names[first * LAST_NAMES.len() + last].clone()
    }

    /// Half the bids use a hot channel, the rest `channel-<k>`, `k < 10000`.
    fn channel(&mut self, rng: &mut EventRng) -> (Arc<str>, Arc<str>) {
        if rng.below(HOT_CHANNEL_RATIO) > 0 {
            return self.hot_channels[rng.below_usize(HOT_CHANNELS.len())].clone();
        }
        let k = rng.below(CHANNELS);
        if self.channels.is_empty() {
            self.channels.resize(CHANNELS as usize, None);
        }
        let seed_mix = self.seed_mix;
        self.channels[k as usize]
            .get_or_insert_with(|| channel_and_url(seed_mix, k))
            .clone()
    }

    /// Beam's `nextExtra`: pads an event of `size` bytes to an average of
    /// `average`, varying by up to 20%.
    fn extra(&mut self, rng: &mut EventRng, size: usize, average: usize) -> Arc<str> {
        let len = if size > average {
            0
        } else {
            let wanted = average - size;
            // round(wanted * 0.2), never a tie for an integer `wanted`.
            let delta = ((wanted * 2 + 5) / 10) as u64;
            let jitter = if delta == 0 { 0 } else { rng.below(2 * delta) };
            wanted - delta as usize + jitter as usize
        };
        let variant = rng.below_usize(EXTRA_VARIANTS);
        let index = len * EXTRA_VARIANTS + variant;
        if self.extras.len() <= index {
            self.extras.resize(index + 1, None);
        }
        let seed_mix = self.seed_mix;
        self.extras[index]
            .get_or_insert_with(|| padding(seed_mix, len, variant))
            .clone()
    }
}

/// `channel-<k>` and its url: the base url, with `&channel_id=` and the
/// reversed bits of `k` nine times in ten (as Beam).
fn channel_and_url(seed_mix: u64, k: u64) -> (Arc<str>, Arc<str>) {
    let mut rng = EventRng::new(seed_mix ^ 0x6368_616e_6e65_6c00, k);
    let mut url = base_url(&mut rng);
    if rng.below(10) > 0 {
        let reversed = (k as i32).reverse_bits().unsigned_abs();
        let _ = write!(url, "&channel_id={reversed}");
    }
    (
        Arc::from(format!("channel-{k}").as_str()),
        Arc::from(url.as_str()),
    )
}

fn base_url(rng: &mut EventRng) -> String {
    let mut url = String::from("https://www.nexmark.com/");
    for _ in 0..3 {
        push_random_word(&mut url, rng, 5, '_');
        url.push('/');
    }
    url.push_str("item.htm?query=1");
    url
}

/// `len` random lowercase letters, fixed by `(seed, len, variant)`.
fn padding(seed_mix: u64, len: usize, variant: usize) -> Arc<str> {
    let mut rng = EventRng::new(
        seed_mix ^ 0x6578_7472_6100_0000,
        (len * EXTRA_VARIANTS + variant) as u64,
    );
    let text: String = (0..len)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect();
    Arc::from(text.as_str())
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A splitmix64 chain seeded from the seed and one event number.
struct EventRng(u64);

impl EventRng {
    fn new(seed_mix: u64, n: u64) -> EventRng {
        EventRng(mix(seed_mix ^ n.wrapping_mul(GOLDEN_GAMMA)))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        mix(self.0)
    }

    /// Uniform in `0..bound` (`bound >= 1`), by multiply-shift.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn below_usize(&mut self, bound: usize) -> usize {
        self.below(bound as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(events: u64) -> NexmarkConfig {
        NexmarkConfig {
            events,
            ..NexmarkConfig::default()
        }
    }

    /// All rows of `table` for `range`, filled `chunk` rows at a time.
    fn generate(table: NexmarkTable, config: &NexmarkConfig, range: Range<u64>) -> Batch {
        let mut source = NexmarkSource::new(table, config, range);
        let mut batch = Batch::new(table.schema().len());
        let mut malformed = Vec::new();
        while source.fill(&mut batch, &mut malformed, 7).unwrap() {}
        assert!(malformed.is_empty());
        batch
    }

    fn int(row: &[Value], column: usize) -> i64 {
        row[column].as_i64().unwrap()
    }

    fn text(row: &[Value], column: usize) -> &str {
        row[column].as_str().unwrap()
    }

    fn timestamp(row: &[Value], column: usize) -> i64 {
        match row[column] {
            Value::Timestamp(ms) => ms,
            ref other => panic!("not a timestamp: {other:?}"),
        }
    }

    const TABLES: [NexmarkTable; 3] = [
        NexmarkTable::Person,
        NexmarkTable::Auction,
        NexmarkTable::Bid,
    ];

    #[test]
    fn width_is_the_schema_length() {
        for table in [
            NexmarkTable::Person,
            NexmarkTable::Auction,
            NexmarkTable::Bid,
        ] {
            assert_eq!(table.width(), table.schema().len());
        }
    }

    #[test]
    fn schemas_have_the_spec_columns() {
        let names = |t: NexmarkTable| t.schema().names().collect::<Vec<_>>().join(",");
        assert_eq!(
            names(NexmarkTable::Person),
            "id,name,email_address,credit_card,city,state,date_time,extra"
        );
        assert_eq!(
            names(NexmarkTable::Auction),
            "id,item_name,description,initial_bid,reserve,date_time,expires,seller,category,extra"
        );
        assert_eq!(
            names(NexmarkTable::Bid),
            "auction,bidder,price,channel,url,date_time,extra"
        );
        assert_eq!(
            NexmarkTable::Bid.schema().to_string(),
            "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, \
             date_time TIMESTAMP, extra VARCHAR"
        );
        assert_eq!(
            NexmarkTable::Auction.schema().fields[6].data_type,
            DataType::Timestamp
        );
    }

    #[test]
    fn table_names_parse() {
        assert_eq!("bid".parse::<NexmarkTable>().unwrap(), NexmarkTable::Bid);
        assert_eq!(
            " Person ".parse::<NexmarkTable>().unwrap(),
            NexmarkTable::Person
        );
        assert_eq!(
            "auction".parse::<NexmarkTable>().unwrap(),
            NexmarkTable::Auction
        );
        let err = "bids".parse::<NexmarkTable>().unwrap_err().to_string();
        assert!(
            err.contains("'bids'") && err.contains("person, auction, bid"),
            "{err}"
        );
    }

    #[test]
    fn kinds_and_their_event_numbers() {
        assert_eq!(NexmarkTable::of_event(0), NexmarkTable::Person);
        assert_eq!(NexmarkTable::of_event(3), NexmarkTable::Auction);
        assert_eq!(NexmarkTable::of_event(4), NexmarkTable::Bid);
        assert_eq!(NexmarkTable::of_event(100), NexmarkTable::Person);
        assert_eq!(NexmarkTable::Person.next_event(1), 50);
        assert_eq!(NexmarkTable::Person.next_event(50), 50);
        assert_eq!(NexmarkTable::Auction.next_event(0), 1);
        assert_eq!(NexmarkTable::Auction.next_event(3), 3);
        assert_eq!(NexmarkTable::Auction.next_event(4), 51);
        assert_eq!(NexmarkTable::Bid.next_event(50), 54);
        assert_eq!(NexmarkTable::Bid.next_event(49), 49);
        assert_eq!(NexmarkTable::Person.events_below(51), 2);
        assert_eq!(NexmarkTable::Auction.events_below(2), 1);
        assert_eq!(NexmarkTable::Auction.events_below(53), 5);
        assert_eq!(NexmarkTable::Bid.events_below(50), 46);
        assert_eq!(NexmarkTable::Bid.events_below(55), 47);
    }

    #[test]
    fn last_ids_follow_from_the_event_number() {
        assert_eq!(last_base0_person_id(0), 0);
        assert_eq!(last_base0_person_id(49), 0);
        assert_eq!(last_base0_person_id(50), 1);
        assert_eq!(last_base0_auction_id(1), 0);
        assert_eq!(last_base0_auction_id(3), 2);
        assert_eq!(last_base0_auction_id(4), 2);
        assert_eq!(last_base0_auction_id(50), 2);
        assert_eq!(last_base0_auction_id(52), 4);
        assert_eq!(last_base0_auction_id(99), 5);
    }

    #[test]
    fn event_time_follows_the_formula() {
        let fast = config(100);
        assert_eq!(fast.event_time_ms(9_999), BASE_TIME_MS);
        assert_eq!(fast.event_time_ms(10_000), BASE_TIME_MS + 1);
        assert_eq!(fast.event_time_ms(25_000_000), BASE_TIME_MS + 2500);
        let slow = NexmarkConfig { rate: 3, ..fast };
        assert_eq!(slow.event_time_ms(1), BASE_TIME_MS + 333);
        assert_eq!(slow.event_time_ms(2), BASE_TIME_MS + 666);
        assert_eq!(slow.event_time_ms(3), BASE_TIME_MS + 1000);
        // 2026-01-01T00:00:00Z
        assert_eq!(BASE_TIME_MS, 1_767_225_600_000);
    }

    #[test]
    fn rows_carry_the_formula_time_and_their_event_number() {
        let c = NexmarkConfig {
            rate: 400,
            ..config(2000)
        };
        for table in TABLES {
            let column = table.schema().index_of("date_time").unwrap();
            let batch = generate(table, &c, 0..2000);
            for (row, n) in batch.rows() {
                assert_eq!(NexmarkTable::of_event(n), table);
                assert_eq!(
                    timestamp(row, column),
                    BASE_TIME_MS + (n as i64) * 1000 / 400
                );
            }
        }
    }

    #[test]
    fn same_range_gives_the_same_rows_and_ranges_compose() {
        let c = config(2000);
        for table in TABLES {
            let whole = generate(table, &c, 0..2000);
            assert_eq!(whole, generate(table, &c, 0..2000));
            let mut halves = generate(table, &c, 0..1000);
            for (row, n) in generate(table, &c, 1000..2000).rows() {
                halves.push_row(row, n);
            }
            assert_eq!(whole, halves, "{table:?}");
            // An odd cut inside an epoch composes too.
            let mut thirds = generate(table, &c, 0..777);
            for (row, n) in generate(table, &c, 777..2000).rows() {
                thirds.push_row(row, n);
            }
            assert_eq!(whole, thirds, "{table:?}");
        }
    }

    #[test]
    fn chunks_sharing_one_state_give_the_rows_of_fresh_sources() {
        let c = config(3000);
        let mut state = SourceState::new();
        for seed in [42, 7] {
            let c = NexmarkConfig { seed, ..c };
            for table in TABLES {
                let mut joined = Batch::new(table.width());
                for first in (0..3000).step_by(333) {
                    let range = first..first + 333;
                    let mut source = NexmarkSource::with_schema(
                        "t",
                        &Schema::default(),
                        table,
                        &c,
                        range,
                        &mut state,
                    )
                    .unwrap();
                    while source.fill(&mut joined, &mut Vec::new(), 50).unwrap() {}
                    Box::new(source).save_state(&mut state);
                }
                assert_eq!(
                    joined,
                    generate(table, &c, 0..3000),
                    "{table:?} seed {seed}"
                );
            }
        }
    }

    /// Uniform draws as the generator makes them, from many event numbers.
    fn draws(seed: u64, count: u64) -> impl Iterator<Item = f64> {
        let seed_mix = mix(seed);
        (0..count).map(move |n| EventRng::new(seed_mix, n).unit())
    }

    #[test]
    fn table_prices_equal_powf_prices_over_millions_of_draws() {
        let table = PriceTable::new();
        for seed in [0, 42, u64::MAX] {
            for unit in draws(seed, 2_000_000) {
                assert_eq!(table.price(unit), powf_price(unit), "unit {unit:e}");
            }
        }
    }

    #[test]
    fn table_prices_equal_powf_prices_at_steps_and_rounding_boundaries() {
        let table = PriceTable::new();
        let around = |unit: f64| {
            let mut below = unit;
            let mut above = unit;
            let mut near = vec![unit];
            for _ in 0..4 {
                (below, above) = (below.next_down(), above.next_up());
                near.extend([below, above]);
            }
            near.into_iter().filter(|u| (0.0..1.0).contains(u))
        };
        // Every table step, and the units where the price in cents turns
        // over (x + 0.5 crosses an integer), with their neighbours.
        let steps = (0..=PRICE_DECADES * 256).map(|i| i as f64 / 256.0 / PRICE_DECADES as f64);
        let cents = draws(1, 200_000).map(|u| (10f64.powf(u * 6.0) * 100.0).round());
        let turns = cents.map(|c| ((c - 0.5) / 100.0).log10() / PRICE_DECADES as f64);
        let mut checked = 0;
        for unit in steps.chain(turns).flat_map(around) {
            assert_eq!(table.price(unit), powf_price(unit), "unit {unit:e}");
            checked += 1;
        }
        assert!(checked > 1_000_000, "{checked}");
    }

    #[test]
    fn the_seed_changes_the_events() {
        let a = generate(NexmarkTable::Bid, &config(200), 0..200);
        let other = NexmarkConfig {
            seed: 43,
            ..config(200)
        };
        let b = generate(NexmarkTable::Bid, &other, 0..200);
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b);
    }

    #[test]
    fn proportions_over_5000_events() {
        let c = config(5000);
        let counts: Vec<usize> = TABLES
            .iter()
            .map(|t| generate(*t, &c, 0..5000).len())
            .collect();
        assert_eq!(counts, vec![100, 300, 4600]);
        // The stream's end cuts the range.
        assert_eq!(
            generate(NexmarkTable::Bid, &config(60), 0..5000).len(),
            46 + 6
        );
    }

    #[test]
    fn person_and_auction_ids_are_consecutive_from_1000() {
        let c = config(5000);
        let persons = generate(NexmarkTable::Person, &c, 0..5000);
        let ids: Vec<i64> = persons.rows().map(|(r, _)| int(r, 0)).collect();
        assert_eq!(ids, (1000..1100).collect::<Vec<_>>());
        let auctions = generate(NexmarkTable::Auction, &c, 0..5000);
        let ids: Vec<i64> = auctions.rows().map(|(r, _)| int(r, 0)).collect();
        assert_eq!(ids, (1000..1300).collect::<Vec<_>>());
    }

    #[test]
    fn references_point_at_existing_people_and_auctions() {
        let c = config(5000);
        for (row, n) in generate(NexmarkTable::Bid, &c, 0..5000).rows() {
            let last_auction = 1000 + (n / 50 * 3 + 2) as i64;
            let last_person = 1000 + (n / 50) as i64;
            assert!((1000..=last_auction).contains(&int(row, 0)), "event {n}");
            assert!((1000..=last_person).contains(&int(row, 1)), "event {n}");
        }
        for (row, n) in generate(NexmarkTable::Auction, &c, 0..5000).rows() {
            let last_person = 1000 + (n / 50) as i64;
            assert!((1000..=last_person).contains(&int(row, 7)), "event {n}");
            assert!((10..=14).contains(&int(row, 8)), "event {n}");
        }
    }

    #[test]
    fn hot_auctions_and_bidders_dominate() {
        let batch = generate(NexmarkTable::Bid, &config(50_000), 0..50_000);
        let bids = batch.len() as f64;
        let hot_auctions = batch
            .rows()
            .filter(|(r, n)| int(r, 0) == 1000 + ((n / 50 * 3 + 2) / 100 * 100) as i64);
        let share = hot_auctions.count() as f64 / bids;
        // 1/2 hot, plus the uniform picks that land on it.
        assert!((0.49..0.53).contains(&share), "{share}");
        let hot_bidders = batch.rows().filter(|(r, n)| {
            let last = n / 50;
            int(r, 1) == 1000 + (last / 100 * 100 + 1).min(last) as i64
        });
        let share = hot_bidders.count() as f64 / bids;
        assert!((0.74..0.78).contains(&share), "{share}");
    }

    #[test]
    fn prices_are_cents_from_one_to_a_million_dollars() {
        let c = config(20_000);
        let bids = generate(NexmarkTable::Bid, &c, 0..20_000);
        let prices: Vec<i64> = bids.rows().map(|(r, _)| int(r, 2)).collect();
        assert!(prices.iter().all(|p| (100..=100_000_000).contains(p)));
        // Log-uniform: a sixth of the draws per decade.
        let below_10_dollars = prices.iter().filter(|p| **p < 1000).count() as f64;
        let share = below_10_dollars / prices.len() as f64;
        assert!((0.15..0.18).contains(&share), "{share}");
        for (row, _) in generate(NexmarkTable::Auction, &c, 0..20_000).rows() {
            let (initial, reserve) = (int(row, 3), int(row, 4));
            assert!((100..=100_000_000).contains(&initial));
            assert!(reserve >= initial + 100 && reserve <= initial + 100_000_000);
            assert!(timestamp(row, 6) > timestamp(row, 5));
        }
    }

    #[test]
    fn channels_and_urls() {
        let batch = generate(NexmarkTable::Bid, &config(20_000), 0..20_000);
        let mut hot = 0;
        let mut urls = std::collections::HashMap::new();
        for (row, _) in batch.rows() {
            let (channel, url) = (text(row, 3), text(row, 4));
            assert!(url.starts_with("https://www.nexmark.com/"), "{url}");
            if HOT_CHANNELS.contains(&channel) {
                hot += 1;
            } else {
                let k: u64 = channel.strip_prefix("channel-").unwrap().parse().unwrap();
                assert!(k < 10_000);
            }
            // A channel always has the same url.
            assert_eq!(*urls.entry(channel.to_string()).or_insert(url), url);
        }
        let share = hot as f64 / batch.len() as f64;
        assert!((0.48..0.52).contains(&share), "{share}");
    }

    #[test]
    fn people_have_names_cities_states_emails_and_cards() {
        for (row, _) in generate(NexmarkTable::Person, &config(5000), 0..5000).rows() {
            let (first, last) = text(row, 1).split_once(' ').unwrap();
            assert!(FIRST_NAMES.contains(&first) && LAST_NAMES.contains(&last));
            let email = text(row, 2);
            assert!(email.ends_with(".com") && email.contains('@'), "{email}");
            assert!(!email.contains(" @") && !email.contains("@ "), "{email}");
            let card = text(row, 3);
            assert_eq!(card.len(), 19, "{card}");
            assert!(card
                .split(' ')
                .all(|g| g.len() == 4 && g.parse::<u32>().is_ok()));
            assert!(US_CITIES.contains(&text(row, 4)));
            assert!(US_STATES.contains(&text(row, 5)));
        }
    }

    /// Average event size in Beam's accounting: 8 bytes per number and
    /// timestamp, the length of each text.
    fn average_size(batch: &Batch) -> f64 {
        let total: usize = batch
            .rows()
            .map(|(row, _)| {
                row.iter()
                    .map(|v| v.as_str().map_or(8, str::len))
                    .sum::<usize>()
            })
            .sum();
        total as f64 / batch.len() as f64
    }

    #[test]
    fn extra_pads_events_to_their_average_sizes() {
        let c = config(20_000);
        let person = generate(NexmarkTable::Person, &c, 0..20_000);
        let auction = generate(NexmarkTable::Auction, &c, 0..20_000);
        let bid = generate(NexmarkTable::Bid, &c, 0..20_000);
        // Beam's bid size leaves out channel and url: 32 + extra.
        let bid_sizes: Vec<usize> = bid.rows().map(|(r, _)| 32 + text(r, 6).len()).collect();
        let bid_average = bid_sizes.iter().sum::<usize>() as f64 / bid_sizes.len() as f64;
        assert!((95.0..105.0).contains(&bid_average), "{bid_average}");
        // Extra is 68 +- 14 (20% of 68, rounded).
        assert!(bid
            .rows()
            .all(|(r, _)| (54..82).contains(&text(r, 6).len())));
        let person_average = average_size(&person);
        assert!((160.0..240.0).contains(&person_average), "{person_average}");
        let auction_average = average_size(&auction);
        assert!(
            (400.0..600.0).contains(&auction_average),
            "{auction_average}"
        );
        // Padding is letters, and varies.
        let distinct: std::collections::HashSet<&str> =
            bid.rows().map(|(r, _)| text(r, 6)).collect();
        assert!(distinct.len() > 50, "{}", distinct.len());
        assert!(distinct
            .iter()
            .all(|e| e.bytes().all(|b| b.is_ascii_lowercase())));
    }

    #[test]
    fn fill_stops_at_max_rows_and_reports_exhaustion() {
        let c = config(100);
        let mut source = NexmarkSource::new(NexmarkTable::Bid, &c, 0..100);
        let mut batch = Batch::new(7);
        let mut malformed = Vec::new();
        assert!(source.fill(&mut batch, &mut malformed, 40).unwrap());
        assert_eq!(batch.len(), 40);
        assert_eq!(batch.position(0), 4);
        assert_eq!(batch.position(39), 43);
        assert!(!source.fill(&mut batch, &mut malformed, 100).unwrap());
        assert_eq!(batch.len(), 92);
        assert_eq!(batch.position(91), 99);
        assert!(!source.fill(&mut batch, &mut malformed, 100).unwrap());
        assert_eq!(batch.len(), 92);
        let mut wrong = Batch::new(8);
        let mut fresh = NexmarkSource::new(NexmarkTable::Bid, &c, 0..100);
        let err = fresh.fill(&mut wrong, &mut malformed, 1).unwrap_err();
        assert!(err.to_string().contains("width 8"), "{err}");
        // An empty range is exhausted at once.
        let mut empty = NexmarkSource::new(NexmarkTable::Person, &c, 1..50);
        let mut batch = Batch::new(8);
        assert!(!empty.fill(&mut batch, &mut malformed, 10).unwrap());
        assert!(batch.is_empty());
    }

    #[test]
    fn pacing_spreads_the_range_over_wall_clock_time() {
        let c = NexmarkConfig {
            pacing_rate: Some(1000),
            ..config(1000)
        };
        let mut source = NexmarkSource::new(NexmarkTable::Bid, &c, 100..200);
        // Event n is due n / rate after the run's start, whichever range holds
        // it: the first bid of the range is event 104, due at 104 ms.
        assert_eq!(source.pace_offset(), Some(Duration::from_millis(104)));
        // By 110 ms, events up to 110 are due: bids 104..=110.
        assert_eq!(source.due_rows(Duration::from_millis(110)), 7);
        assert_eq!(source.due_rows(Duration::from_millis(103)), 0);
        let mut batch = Batch::new(7);
        source.fill(&mut batch, &mut Vec::new(), 7).unwrap();
        assert_eq!(source.pace_offset(), Some(Duration::from_millis(111)));
        assert_eq!(source.due_rows(Duration::from_millis(110)), 0);
        assert_eq!(source.due_rows(Duration::from_secs(10)), 92 - 7);
        source.fill(&mut batch, &mut Vec::new(), 1000).unwrap();
        assert_eq!(source.pace_offset(), None);
        assert_eq!(source.due_rows(Duration::from_secs(10)), 0);
        let unpaced = NexmarkSource::new(NexmarkTable::Bid, &config(10), 0..10);
        assert_eq!(unpaced.pace_offset(), None);
        assert_eq!(unpaced.due_rows(Duration::ZERO), usize::MAX);
    }

    /// The benchmark queries under `benches/nexmark/`.
    const QUERIES: [(&str, &str); 16] = [
        ("q0", include_str!("../../benches/nexmark/q0.sql")),
        ("q1", include_str!("../../benches/nexmark/q1.sql")),
        ("q2", include_str!("../../benches/nexmark/q2.sql")),
        ("q3", include_str!("../../benches/nexmark/q3.sql")),
        ("q20", include_str!("../../benches/nexmark/q20.sql")),
        (
            "q20_interval",
            include_str!("../../benches/nexmark/q20_interval.sql"),
        ),
        (
            "q4_closing_price",
            include_str!("../../benches/nexmark/q4_closing_price.sql"),
        ),
        ("q4", include_str!("../../benches/nexmark/q4.sql")),
        ("q5", include_str!("../../benches/nexmark/q5.sql")),
        ("q9", include_str!("../../benches/nexmark/q9.sql")),
        ("q5_hot", include_str!("../../benches/nexmark/q5_hot.sql")),
        ("q7", include_str!("../../benches/nexmark/q7.sql")),
        ("q11", include_str!("../../benches/nexmark/q11.sql")),
        ("q14", include_str!("../../benches/nexmark/q14.sql")),
        ("q15", include_str!("../../benches/nexmark/q15.sql")),
        ("q17", include_str!("../../benches/nexmark/q17.sql")),
    ];

    #[test]
    fn benchmark_queries_parse_and_declare_the_generator_schema() {
        use crate::sql::{EmitClause, Statement};
        for (name, text) in QUERIES {
            let statements = crate::sql::parse_sql(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let Some((Statement::Query(query), sources)) = statements.split_last() else {
                panic!("{name}: expected CREATE TABLEs and a query");
            };
            assert!(!sources.is_empty(), "{name}");
            for source in sources {
                let Statement::CreateSource(source) = source else {
                    panic!("{name}: expected a CREATE TABLE");
                };
                assert_declares_the_generator_schema(name, source);
            }
            let windowed = ["q5", "q7", "q11"].contains(&name);
            let emit = windowed.then_some(EmitClause::Final);
            assert_eq!(query.emit, emit, "{name}");
        }
    }

    /// `source` declares a Nexmark table of 10M events with the generator's columns.
    fn assert_declares_the_generator_schema(name: &str, source: &crate::sql::CreateSource) {
        let table = crate::plan::TableDef {
            name: source.name.clone(),
            schema: Schema::default(),
            properties: source.properties.clone(),
        };
        let config = crate::io::SourceConfig::from_table(&table).unwrap();
        let crate::io::Connector::Nexmark(generated_table, config) = config.connector else {
            panic!("{name}: {} is not a nexmark table", source.name);
        };
        assert_eq!(config.events, 10_000_000, "{name}");
        let declared: Vec<(&str, DataType)> = source
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type))
            .collect();
        let schema = generated_table.schema();
        let generated: Vec<(&str, DataType)> = schema
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.data_type))
            .collect();
        assert_eq!(declared, generated, "{name}: {}", source.name);
    }

    #[test]
    fn split_events_covers_the_stream() {
        assert_eq!(split_events(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(split_events(2, 3), vec![0..1, 1..2, 2..2]);
        assert_eq!(split_events(5, 0), vec![0..5]);
    }
}
