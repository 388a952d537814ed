//! An exact sum of doubles: SUM and AVG over DOUBLE add their inputs without
//! rounding and round once, when the result is read. The result is the
//! correctly rounded value of the true sum, so it does not depend on the
//! order the inputs were added in, nor on how they were split into partial
//! sums and combined: the same at every shard count, batch size and chunk
//! size, and when shards pre-aggregate what they read before sending it to
//! the key's owner.
//!
//! A double is `m * 2^e` with an integer `m` of at most 53 bits and
//! `-1074 <= e <= 971`, so every sum of doubles is an integer multiple of
//! `2^-1074`. [`ExactSum`] keeps it as `units * 2^exp` in an `i128` (the
//! common case: inputs whose exponents span up to about 70 binary orders of
//! magnitude, such as prices, temperatures or amounts); when a sum no longer
//! fits, it moves to a fixed-point integer over the whole range of doubles
//! ([`WideSum`], 280 bytes on the heap, rare). Infinities and NaN are kept
//! aside and decide the result as IEEE addition would (NaN, or +inf and
//! -inf together, give NaN). A finite sum beyond the largest double rounds
//! to an infinity.

/// The largest magnitude `units` may hold: two such values add without
/// overflowing an `i128`.
const UNITS_LIMIT: u128 = 1 << 125;

/// The exact sum of the doubles added so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactSum {
    /// The sum is `units * 2^exp` while `wide` is `None`. `units` is kept in
    /// two halves so that the state stays 8-byte aligned (as `Wide` sums are).
    units_hi: i64,
    units_lo: u64,
    exp: i16,
    /// Infinities and NaN seen (bits: [`POS_INF`], [`NEG_INF`], [`NAN`]).
    special: u8,
    wide: Option<Box<WideSum>>,
}

const POS_INF: u8 = 1;
const NEG_INF: u8 = 2;
const NAN: u8 = 4;

impl ExactSum {
    fn units(&self) -> i128 {
        ((self.units_hi as i128) << 64) | self.units_lo as i128
    }

    fn set_units(&mut self, units: i128) {
        self.units_hi = (units >> 64) as i64;
        self.units_lo = units as u64;
    }

    /// Adds `x`; returns the heap bytes this took (non-zero only when the
    /// sum moves to its wide form).
    #[inline]
    pub fn add(&mut self, x: f64) -> usize {
        if !x.is_finite() {
            self.special |= match x {
                f64::INFINITY => POS_INF,
                f64::NEG_INFINITY => NEG_INF,
                _ => NAN,
            };
            return 0;
        }
        let (m, e) = decompose(x);
        // The common case, inline: no smaller exponent than the sum's, and
        // `m * 2^shift` below 2^124 (`|m| < 2^53`), so that the sum of two
        // values below 2^125 cannot overflow.
        let (units, shift) = (self.units(), e - i32::from(self.exp));
        if self.wide.is_none() && units != 0 && (0..=71).contains(&shift) {
            let sum = units + ((m as i128) << shift);
            if sum.unsigned_abs() < UNITS_LIMIT {
                self.set_units(sum);
                return 0;
            }
        }
        self.add_scaled(m as i128, e)
    }

    /// Adds everything `other` holds; returns the heap bytes this took.
    pub fn merge(&mut self, other: &ExactSum) -> usize {
        self.special |= other.special;
        match &other.wide {
            Some(wide) => {
                let heap = self.widen();
                if let Some(mine) = self.wide.as_mut() {
                    mine.add_wide(wide);
                }
                heap
            }
            None => self.add_scaled(other.units(), i32::from(other.exp)),
        }
    }

    /// The sum, correctly rounded to a double.
    pub fn value(&self) -> f64 {
        if self.special & NAN != 0 || self.special == POS_INF | NEG_INF {
            return f64::NAN;
        }
        if self.special == POS_INF {
            return f64::INFINITY;
        }
        if self.special == NEG_INF {
            return f64::NEG_INFINITY;
        }
        match &self.wide {
            Some(wide) => wide.value(),
            // Rounding happens once, in the conversion of `units`; scaling by a
            // power of two is then exact (see `scale`).
            None => scale(self.units() as f64, i32::from(self.exp)),
        }
    }

    /// The heap bytes this sum holds.
    pub fn heap(&self) -> usize {
        self.wide
            .as_ref()
            .map_or(0, |_| std::mem::size_of::<WideSum>())
    }

    /// Adds `m * 2^e`, where `|m| < 2^125` and `e >= -1074`.
    fn add_scaled(&mut self, m: i128, e: i32) -> usize {
        if m == 0 {
            return 0;
        }
        if let Some(wide) = self.wide.as_mut() {
            wide.add(m, e);
            return 0;
        }
        let units = self.units();
        if units == 0 {
            self.set_units(m);
            self.exp = e as i16;
            return 0;
        }
        let exp = i32::from(self.exp);
        let aligned = match e >= exp {
            true => shifted(m, e - exp).map(|m| (units, m, exp)),
            false => shifted(units, exp - e).map(|units| (units, m, e)),
        };
        if let Some((a, b, exp)) = aligned {
            let sum = a + b; // both below 2^125: no overflow
            if sum.unsigned_abs() < UNITS_LIMIT {
                self.set_units(sum);
                self.exp = exp as i16;
                return 0;
            }
        }
        let heap = self.widen();
        if let Some(wide) = self.wide.as_mut() {
            wide.add(m, e);
        }
        heap
    }

    /// Moves the sum to its wide form (if it is not there yet); returns the
    /// heap bytes this took.
    fn widen(&mut self) -> usize {
        if self.wide.is_some() {
            return 0;
        }
        let mut wide = Box::new(WideSum::default());
        wide.add(self.units(), i32::from(self.exp));
        self.set_units(0);
        self.exp = 0;
        self.wide = Some(wide);
        std::mem::size_of::<WideSum>()
    }
}

/// `x` (finite) as `(m, e)` with `x == m * 2^e`, `|m| < 2^53`, `e >= -1074`.
fn decompose(x: f64) -> (i64, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = (bits & ((1 << 52) - 1)) as i64;
    let (m, e) = match biased {
        0 => (fraction, -1074),
        _ => (fraction | (1 << 52), biased - 1075),
    };
    match bits >> 63 {
        1 => (-m, e),
        _ => (m, e),
    }
}

/// `m * 2^shift` when its magnitude stays below [`UNITS_LIMIT`].
fn shifted(m: i128, shift: i32) -> Option<i128> {
    let room = m.unsigned_abs().leading_zeros() as i32 - 3;
    (shift <= room).then(|| m << shift)
}

/// `x * 2^k` for `k >= -1074`. Exact whenever the result is a double: the
/// factor `2^k` is itself a double for `-1074 <= k <= 1023` (larger `k` is
/// applied in two steps, which can only overflow to an infinity, as the
/// exact result would round to).
fn scale(x: f64, k: i32) -> f64 {
    if k > 1023 {
        return x * power_of_two(1023) * power_of_two(k - 1023);
    }
    x * power_of_two(k)
}

/// `2^k` for `-1074 <= k <= 1023`.
fn power_of_two(k: i32) -> f64 {
    match k {
        k if k >= -1022 => f64::from_bits(((k + 1023) as u64) << 52),
        k => f64::from_bits(1u64 << (k + 1074)),
    }
}

/// 64-bit words of [`WideSum`]: 2,240 bits, enough for any sum of up to
/// 2^64 doubles in units of `2^-1074` (2,098 bits of range, 64 of count,
/// and a sign).
const WIDE_WORDS: usize = 35;

/// A two's-complement fixed-point integer in units of `2^-1074`.
#[derive(Debug, Clone, PartialEq)]
pub struct WideSum {
    words: [u64; WIDE_WORDS],
}

impl Default for WideSum {
    fn default() -> Self {
        WideSum {
            words: [0; WIDE_WORDS],
        }
    }
}

impl WideSum {
    /// Adds `m * 2^e` (`|m| < 2^127`, `e >= -1074`).
    fn add(&mut self, m: i128, e: i32) {
        let bit = (e + 1074) as usize;
        let (word, offset) = (bit / 64, bit % 64);
        let magnitude = m.unsigned_abs();
        // The magnitude shifted by `offset` spans three words.
        let parts = [
            (magnitude << offset) as u64,
            ((magnitude << offset) >> 64) as u64,
            match offset {
                0 => 0,
                _ => (magnitude >> (128 - offset)) as u64,
            },
        ];
        match m < 0 {
            false => self.carry_into(word, &parts, u64::overflowing_add),
            true => self.carry_into(word, &parts, u64::overflowing_sub),
        }
    }

    fn add_wide(&mut self, other: &WideSum) {
        self.carry_into(0, &other.words, u64::overflowing_add);
    }

    /// Applies `step` (an overflowing add or subtract) to the words from
    /// `from` on and `parts`, carrying (or borrowing) upwards as far as needed.
    fn carry_into(&mut self, from: usize, parts: &[u64], step: fn(u64, u64) -> (u64, bool)) {
        let mut carry = false;
        for i in from..WIDE_WORDS {
            if i >= from + parts.len() && !carry {
                break;
            }
            let part = parts.get(i - from).copied().unwrap_or(0);
            let (word, c1) = step(self.words[i], part);
            let (word, c2) = step(word, u64::from(carry));
            self.words[i] = word;
            carry = c1 || c2;
        }
    }

    /// The sum, correctly rounded to a double.
    fn value(&self) -> f64 {
        let negative = self.words[WIDE_WORDS - 1] >> 63 == 1;
        let mut magnitude = self.clone();
        if negative {
            magnitude.negate();
        }
        let rounded = magnitude.magnitude_value();
        match negative {
            true => -rounded,
            false => rounded,
        }
    }

    fn negate(&mut self) {
        let mut carry = true;
        for word in &mut self.words {
            let (sum, c) = (!*word).overflowing_add(u64::from(carry));
            *word = sum;
            carry = c;
        }
    }

    /// The (non-negative) value rounded to a double: its top 64 bits with
    /// every lower bit folded into the last one (a sticky bit, which keeps
    /// round-to-nearest-even exact), converted, then scaled.
    fn magnitude_value(&self) -> f64 {
        let Some(top) = self.words.iter().rposition(|&w| w != 0) else {
            return 0.0;
        };
        let highest_bit = top * 64 + 63 - self.words[top].leading_zeros() as usize;
        if highest_bit < 64 {
            return scale(self.words[0] as f64, -1074);
        }
        let low = highest_bit - 63;
        let (word, offset) = (low / 64, low % 64);
        let mut bits = self.words[word] >> offset;
        if offset > 0 {
            bits |= self.words[word + 1] << (64 - offset);
        }
        let dropped_in_word = offset > 0 && self.words[word] << (64 - offset) != 0;
        let dropped_below = self.words[..word].iter().any(|&w| w != 0);
        if dropped_in_word || dropped_below {
            bits |= 1;
        }
        scale(bits as f64, low as i32 - 1074)
    }
}

/// The correctly rounded sum of `values` by another algorithm, as a
/// reference for tests: Shewchuk's exact partials, rounded as Python's
/// `math.fsum` rounds them. Every partial sum must stay below the largest
/// double.
#[cfg(test)]
pub(crate) fn correctly_rounded_sum(values: &[f64]) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for &value in values {
        let mut x = value;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    let Some(mut hi) = partials.pop() else {
        return 0.0;
    };
    let mut lo = 0.0;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    // Half-way cases: round towards the rest of the partials.
    if let Some(&next) = partials.last() {
        if (lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
    }
    match hi == 0.0 {
        true => 0.0,
        false => hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(values: &[f64]) -> ExactSum {
        let mut sum = ExactSum::default();
        for &v in values {
            sum.add(v);
        }
        sum
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn sums_that_rounding_in_order_gets_wrong() {
        assert_eq!(exact(&[1e16, 1.0, -1e16]).value(), 1.0);
        assert_eq!(exact(&[0.1; 10]).value(), 1.0);
        assert_eq!(exact(&[0.1, 0.2]).value(), 0.30000000000000004);
        assert_eq!(exact(&[1e308, 1e308, -1e308]).value(), 1e308);
        assert_eq!(exact(&[f64::MAX, f64::MAX]).value(), f64::INFINITY);
        assert_eq!(exact(&[-f64::MAX, -f64::MAX]).value(), f64::NEG_INFINITY);
        assert_eq!(exact(&[5e-324, 5e-324]).value(), 1e-323);
        assert_eq!(exact(&[1e300, 1e-300, -1e300]).value(), 1e-300);
        assert_eq!(exact(&[]).value(), 0.0);
        assert!(exact(&[-0.0]).value().is_sign_positive());
    }

    #[test]
    fn infinities_and_nan_as_ieee_addition() {
        assert_eq!(exact(&[1.0, f64::INFINITY]).value(), f64::INFINITY);
        assert_eq!(exact(&[f64::NEG_INFINITY, 1.0]).value(), f64::NEG_INFINITY);
        assert!(exact(&[f64::INFINITY, f64::NEG_INFINITY]).value().is_nan());
        assert!(exact(&[1.0, f64::NAN]).value().is_nan());
    }

    #[test]
    fn a_wide_sum_takes_heap_and_says_so() {
        let mut sum = ExactSum::default();
        assert_eq!(sum.add(1e300), 0);
        assert_eq!(sum.add(1e-300), std::mem::size_of::<WideSum>());
        assert_eq!(sum.heap(), std::mem::size_of::<WideSum>());
        assert_eq!(sum.add(-1e300), 0);
        assert_eq!(sum.value(), 1e-300);
    }

    fn any_double() -> impl Strategy<Value = f64> {
        prop_oneof![
            // Everyday values: one or two decimals, as read from text.
            (-100_000i64..100_000).prop_map(|v| v as f64 / 10.0),
            (-10_000_000i64..10_000_000).prop_map(|v| v as f64 / 100.0),
            // Any double up to 1e300, subnormals included.
            any::<u64>()
                .prop_map(f64::from_bits)
                .prop_filter("up to 1e300", |v| v.abs() <= 1e300),
            // Huge and tiny together, to force the wide form (the reference
            // cannot take sums beyond the largest double on the way).
            prop_oneof![Just(1e300), Just(-1e300), Just(5e-324), Just(-2.5e-310)],
        ]
    }

    proptest! {
        #[test]
        fn equals_the_correctly_rounded_sum(values in prop::collection::vec(any_double(), 0..60)) {
            let mine = exact(&values).value();
            let theirs = correctly_rounded_sum(&values);
            prop_assert!(same(mine, theirs), "{mine:e} != {theirs:e} for {values:?}");
        }

        #[test]
        fn any_split_and_order_gives_the_same_sum(
            values in prop::collection::vec(any_double(), 0..60),
            cut in 0usize..60,
            seed in any::<u64>(),
        ) {
            let whole = exact(&values).value();
            let cut = cut.min(values.len());
            let mut shuffled = values.clone();
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let (first, second) = shuffled.split_at(cut);
            let mut merged = exact(second);
            merged.merge(&exact(first));
            prop_assert!(same(merged.value(), whole));
        }
    }
}
