//! The estimate of how many bytes an engine's state holds, kept up to date
//! as the state changes so that reading it after every push costs nothing.
//!
//! Counted: hash tables of groups, windows and DISTINCT sets by their
//! capacity, group keys and aggregate states with the strings they hold, and
//! the allocator's overhead on each allocation. Scratch buffers that do not
//! grow with the input are not counted.

use crate::data::Value;
use std::mem::size_of;

/// A running total of state bytes. Changes are signed so that what one part
/// of the state adds and another releases always nets out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    bytes: i64,
}

impl Footprint {
    pub fn bytes(self) -> usize {
        usize::try_from(self.bytes).unwrap_or(0)
    }

    #[inline]
    pub fn change(&mut self, delta: isize) {
        self.bytes += delta as i64;
    }

    pub fn grow(&mut self, bytes: usize) {
        self.bytes += bytes as i64;
    }

    pub fn shrink(&mut self, bytes: usize) {
        self.bytes -= bytes as i64;
    }

    /// Records that something measured `before` bytes now measures `after`.
    #[inline]
    pub fn resize(&mut self, before: usize, after: usize) {
        self.bytes += after as i64 - before as i64;
    }
}

/// What an allocation of `bytes` takes from the allocator: glibc adds an
/// 8-byte header, rounds to 16 bytes and hands out at least 32.
pub fn allocation(bytes: usize) -> usize {
    match bytes {
        0 => 0,
        n => (n + 8).next_multiple_of(16).max(32),
    }
}

/// Heap bytes a value owns: a string's shared allocation (two counters and
/// the text); other values own none.
#[inline]
pub fn value_heap(value: &Value) -> usize {
    match value {
        Value::Str(s) => allocation(2 * size_of::<usize>() + s.len()),
        _ => 0,
    }
}

/// The storage of a hash table (hashbrown) with room for `capacity` entries
/// of type `T`: a power of two of buckets, one control byte per bucket plus
/// a group's worth, in one allocation.
pub fn table<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    allocation(buckets * (size_of::<T>() + 1) + 16)
}

/// The storage of a vector with room for `capacity` elements of type `T`.
pub fn vec<T>(capacity: usize) -> usize {
    allocation(capacity * size_of::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_up_to_powers_of_two_buckets() {
        assert_eq!(table::<u64>(0), 0);
        // 3 entries fit 4 buckets: 4 * 9 + 16 bytes.
        assert_eq!(table::<u64>(3), allocation(4 * 9 + 16));
        // 14 entries need 16 buckets at a 7/8 load.
        assert_eq!(table::<u64>(14), allocation(16 * 9 + 16));
        assert_eq!(table::<u64>(15), allocation(32 * 9 + 16));
    }

    #[test]
    fn only_strings_own_heap_and_changes_net_out() {
        assert_eq!(value_heap(&Value::Int(1)), 0);
        assert_eq!(value_heap(&Value::str("abc")), 32);
        assert_eq!(value_heap(&Value::str(&"x".repeat(100))), allocation(116));
        let mut f = Footprint::default();
        f.grow(100);
        f.resize(40, 10);
        f.change(-20);
        assert_eq!(f.bytes(), 50);
        f.shrink(60);
        assert_eq!(f.bytes(), 0, "never below zero");
    }
}
