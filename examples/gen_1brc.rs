//! Generates a billion-row-challenge input file: `station;temperature` lines,
//! temperature with one decimal, no header, deterministic for a given seed.
//!
//! ```sh
//! cargo run --release --example gen_1brc -- ROWS PATH [SEED]
//! ```
//!
//! 400 stations with plausible mean temperatures (a smooth spread from polar
//! to desert climates); each reading is the station's mean plus a triangular
//! deviation of up to +-15 degrees, clamped to the challenge's -99.9..99.9.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

const STATIONS: usize = 400;
const DEFAULT_SEED: u64 = 1;

/// Real place names; the list is cycled with a numeric suffix up to 400.
const PLACES: &[(&str, f64)] = &[
    ("Abha", 18.0),
    ("Abidjan", 26.0),
    ("Accra", 26.4),
    ("Addis Ababa", 16.0),
    ("Adelaide", 17.3),
    ("Almaty", 10.0),
    ("Amsterdam", 10.2),
    ("Anchorage", 2.8),
    ("Athens", 19.2),
    ("Auckland", 15.2),
    ("Baghdad", 22.8),
    ("Bangkok", 28.6),
    ("Barcelona", 18.2),
    ("Beijing", 12.9),
    ("Berlin", 10.3),
    ("Bogota", 13.6),
    ("Boston", 10.9),
    ("Brisbane", 21.4),
    ("Budapest", 11.3),
    ("Buenos Aires", 17.6),
    ("Cairo", 21.4),
    ("Cape Town", 16.2),
    ("Chicago", 9.8),
    ("Copenhagen", 9.1),
    ("Dakar", 24.0),
    ("Delhi", 25.0),
    ("Dubai", 26.9),
    ("Dublin", 9.8),
    ("Edinburgh", 9.3),
    ("Helsinki", 5.9),
    ("Hong Kong", 23.3),
    ("Honolulu", 25.4),
    ("Istanbul", 13.9),
    ("Jakarta", 26.7),
    ("Johannesburg", 15.5),
    ("Kathmandu", 18.3),
    ("Lagos", 26.8),
    ("Lima", 19.2),
    ("Lisbon", 17.5),
    ("London", 11.3),
    ("Madrid", 15.0),
    ("Melbourne", 15.1),
    ("Mexico City", 17.5),
    ("Moscow", 5.8),
    ("Mumbai", 27.1),
    ("Nairobi", 17.8),
    ("Nuuk", -1.4),
    ("Oslo", 5.7),
    ("Paris", 12.3),
    ("Reykjavik", 4.3),
    ("Riyadh", 26.0),
    ("Rome", 15.2),
    ("Santiago", 14.7),
    ("Seoul", 12.5),
    ("Singapore", 27.0),
    ("Stockholm", 6.6),
    ("Sydney", 17.7),
    ("Tokyo", 15.4),
    ("Toronto", 9.4),
    ("Vancouver", 10.4),
    ("Vienna", 10.4),
    ("Yakutsk", -8.8),
];

/// A small, fast, deterministic generator (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// 400 stations: the real places, then the same places with a suffix and a
/// shifted mean.
fn stations() -> Vec<(String, i32)> {
    (0..STATIONS)
        .map(|i| {
            let (place, mean) = PLACES[i % PLACES.len()];
            let round = i / PLACES.len();
            let name = if round == 0 {
                place.to_string()
            } else {
                format!("{place} {}", round + 1)
            };
            let shift = if round == 0 {
                0.0
            } else {
                (round as f64 * 1.7) % 6.0 - 3.0
            };
            (name, ((mean + shift) * 10.0).round() as i32)
        })
        .collect()
}

/// Appends `tenths` as a decimal with one digit after the point.
fn push_temperature(line: &mut Vec<u8>, tenths: i32) {
    if tenths < 0 {
        line.push(b'-');
    }
    let t = tenths.unsigned_abs();
    let whole = t / 10;
    if whole >= 10 {
        line.push(b'0' + (whole / 10) as u8);
    }
    line.push(b'0' + (whole % 10) as u8);
    line.push(b'.');
    line.push(b'0' + (t % 10) as u8);
}

fn generate(rows: u64, path: &str, seed: u64) -> std::io::Result<()> {
    let stations = stations();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = SplitMix(seed);
    let mut line = Vec::with_capacity(64);
    for _ in 0..rows {
        let r = rng.next();
        let (name, mean) = &stations[(r % STATIONS as u64) as usize];
        // Triangular deviation in tenths: the sum of two uniforms in 0..=150, centred.
        let a = ((r >> 16) & 0xFFFF) % 151;
        let b = ((r >> 32) & 0xFFFF) % 151;
        let tenths = (mean + a as i32 + b as i32 - 150).clamp(-999, 999);
        line.clear();
        line.extend_from_slice(name.as_bytes());
        line.push(b';');
        push_temperature(&mut line, tenths);
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_1brc ROWS PATH [SEED]";
    let (rows, path) = match (
        args.first().map(|r| r.replace('_', "").parse::<u64>()),
        args.get(1),
    ) {
        (Some(Ok(rows)), Some(path)) => (rows, path.as_str()),
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => DEFAULT_SEED,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("{usage}: SEED must be a number");
            return ExitCode::from(2);
        }
    };
    match generate(rows, path, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_1brc: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
