//! Exact decimals as scaled 64-bit integers: `units / 10^scale`.
//!
//! Arithmetic runs in i128 and is checked: a result that does not fit in i64
//! units at its scale is `None` (the engine turns that into an error or NULL).

use std::cmp::Ordering;
use std::fmt;

/// The largest scale a DECIMAL may have (10^18 still fits in an i64).
pub const MAX_SCALE: u8 = 18;

#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    pub units: i64,
    pub scale: u8,
}

fn pow10(exp: u8) -> i128 {
    10i128.pow(exp as u32)
}

impl Decimal {
    pub fn new(units: i64, scale: u8) -> Self {
        Decimal { units, scale }
    }

    pub fn from_i64(v: i64) -> Self {
        Decimal { units: v, scale: 0 }
    }

    pub fn to_f64(self) -> f64 {
        self.units as f64 / pow10(self.scale) as f64
    }

    /// The value as an integer, when it has no fractional part.
    pub fn to_integral(self) -> Option<i64> {
        let p = pow10(self.scale) as i64;
        (self.units % p == 0).then(|| self.units / p)
    }

    /// The same value at another scale; rounds half away from zero when the
    /// scale shrinks. `None` on overflow.
    pub fn rescale(self, scale: u8) -> Option<Decimal> {
        let units = rescale_units(self.units as i128, self.scale, scale)?;
        Some(Decimal {
            units: i64::try_from(units).ok()?,
            scale,
        })
    }

    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = rescale_units(self.units as i128, self.scale, scale)?;
        let b = rescale_units(other.units as i128, other.scale, scale)?;
        from_i128(a + b, scale)
    }

    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(Decimal::new(other.units.checked_neg()?, other.scale))
    }

    /// Exact product; the result's scale is the sum of the scales (capped at
    /// [`MAX_SCALE`], rounding).
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let raw = (self.units as i128).checked_mul(other.units as i128)?;
        let scale = self.scale + other.scale;
        let target = scale.min(MAX_SCALE);
        from_i128(rescale_units(raw, scale, target)?, target)
    }

    /// Quotient at the given result scale, rounded half away from zero.
    /// `None` on division by zero or overflow.
    pub fn checked_div(self, other: Decimal, result_scale: u8) -> Option<Decimal> {
        if other.units == 0 {
            return None;
        }
        // a/10^sa / (b/10^sb) = (a * 10^(sb + rs - sa)) / b at scale rs.
        let shift = other.scale as i32 + result_scale as i32 - self.scale as i32;
        let (num, den) = if shift >= 0 {
            (
                (self.units as i128).checked_mul(10i128.checked_pow(shift as u32)?)?,
                other.units as i128,
            )
        } else {
            (
                self.units as i128,
                (other.units as i128).checked_mul(10i128.checked_pow((-shift) as u32)?)?,
            )
        };
        from_i128(div_round(num, den), result_scale)
    }

    /// Parses `-12.345` style text. More fractional digits than `scale` round.
    pub fn parse(text: &str, scale: u8) -> Option<Decimal> {
        let text = text.trim();
        let (negative, digits) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || !all_digits(frac_part) || frac_part.len() > 36 {
            return None;
        }
        let mut units: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            units = units.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        let parsed_scale = u8::try_from(frac_part.len()).ok()?;
        let units = if negative { -units } else { units };
        from_i128(rescale_units(units, parsed_scale, scale)?, scale)
    }

    /// The number of digits after the point in `text` (for typing literals).
    pub fn scale_of_literal(text: &str) -> u8 {
        text.split_once('.')
            .map(|(_, f)| f.len().min(MAX_SCALE as usize) as u8)
            .unwrap_or(0)
    }

    pub fn from_f64(v: f64, scale: u8) -> Option<Decimal> {
        let scaled = (v * pow10(scale) as f64).round();
        if scaled.is_finite() && scaled.abs() < 9.2e18 {
            Some(Decimal::new(scaled as i64, scale))
        } else {
            None
        }
    }
}

fn from_i128(units: i128, scale: u8) -> Option<Decimal> {
    Some(Decimal {
        units: i64::try_from(units).ok()?,
        scale,
    })
}

fn div_round(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if r.abs() * 2 >= den.abs() {
        if (num < 0) != (den < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

fn rescale_units(units: i128, from: u8, to: u8) -> Option<i128> {
    match to.cmp(&from) {
        Ordering::Equal => Some(units),
        Ordering::Greater => units.checked_mul(pow10(to - from)),
        Ordering::Less => Some(div_round(units, pow10(from - to))),
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        // Scales are at most 18 and units fit in i64, so this fits in i128.
        let a = self.units as i128 * pow10(scale - self.scale);
        let b = other.units as i128 * pow10(scale - other.scale);
        a.cmp(&b)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let p = pow10(self.scale);
        let abs = (self.units as i128).abs();
        let sign = if self.units < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / p,
            abs % p,
            width = self.scale as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(Decimal::parse("12.5", 2).unwrap().to_string(), "12.50");
        assert_eq!(Decimal::parse("-0.005", 2).unwrap().to_string(), "-0.01");
        assert_eq!(Decimal::parse("7", 0).unwrap().to_string(), "7");
        assert!(Decimal::parse("1.2.3", 2).is_none());
        assert!(Decimal::parse("abc", 2).is_none());
        assert!(Decimal::parse("", 2).is_none());
    }

    #[test]
    fn arithmetic_is_exact() {
        let a = Decimal::parse("0.1", 1).unwrap();
        let b = Decimal::parse("0.2", 1).unwrap();
        assert_eq!(a.checked_add(b).unwrap().to_string(), "0.3");
        let p = Decimal::parse("0.908", 3).unwrap();
        let price = Decimal::from_i64(1234);
        assert_eq!(p.checked_mul(price).unwrap().to_string(), "1120.472");
        let q = Decimal::from_i64(1).checked_div(Decimal::from_i64(3), 4);
        assert_eq!(q.unwrap().to_string(), "0.3333");
        assert!(Decimal::from_i64(1)
            .checked_div(Decimal::from_i64(0), 2)
            .is_none());
    }

    #[test]
    fn compares_across_scales() {
        assert_eq!(Decimal::new(150, 2), Decimal::new(15, 1));
        assert!(Decimal::new(-1, 0) < Decimal::new(5, 3));
    }
}
