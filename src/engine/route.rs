//! Routing: which partition a record belongs to (by its GROUP BY key, hashed
//! with fixed seeds so runs are reproducible), and a record's event time.

use super::eval::eval;
pub use crate::data::time_value;
use crate::data::Value;
use crate::plan::{QueryKind, QueryPlan, ScalarExpr};

/// Fixed seeds: the same key goes to the same partition in every run.
const SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

/// Maps source rows to partitions by their evaluated GROUP BY key (for a
/// join of two streams: the join key of the row's side).
#[derive(Debug, Clone)]
pub struct KeyRouter {
    keys: Vec<ScalarExpr>,
    /// A join of two streams: the side column, and the right rows' key
    /// (`keys` is then the left rows'). Equal keys of one type hash alike.
    right_keys: Option<(usize, Vec<ScalarExpr>)>,
    /// Set when the key is one column: it is then hashed in place, not cloned.
    single_key_column: Option<usize>,
    scratch: Vec<Value>,
    hasher: ahash::RandomState,
}

impl KeyRouter {
    pub fn new(plan: &QueryPlan) -> Self {
        if let Some(join) = &plan.join {
            let [left, right] = join.keys.clone();
            return KeyRouter {
                right_keys: Some((join.side_column(), right)),
                ..KeyRouter::by(left)
            };
        }
        let keys = match &plan.kind {
            QueryKind::Aggregate(a) => a.group_keys.clone(),
            QueryKind::Over(over) => over.partition_keys.clone(),
            QueryKind::TopN(top) => top.partition_keys.clone(),
            QueryKind::Stateless { .. } => Vec::new(),
        };
        KeyRouter::by(keys)
    }

    fn by(keys: Vec<ScalarExpr>) -> Self {
        let single_key_column = ScalarExpr::single_column(&keys);
        KeyRouter {
            right_keys: None,
            single_key_column,
            scratch: Vec::with_capacity(keys.len()),
            keys,
            hasher: ahash::RandomState::with_seeds(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]),
        }
    }

    /// True when every row goes to partition 0 (stateless or global aggregate).
    pub fn is_keyless(&self) -> bool {
        self.keys.is_empty()
    }

    /// The partition (`0..partitions`) of `row`; 0 when there is no key.
    pub fn partition_of(&mut self, row: &[Value], partitions: usize) -> usize {
        if self.keys.is_empty() || partitions <= 1 {
            return 0;
        }
        if let Some((side, right)) = &self.right_keys {
            if matches!(row.get(*side), Some(Value::Bool(true))) {
                self.scratch.clear();
                self.scratch.extend(right.iter().map(|k| eval(k, row)));
                let hash = self.hasher.hash_one(&self.scratch[..]);
                return (hash % partitions as u64) as usize;
            }
        }
        let hash = match self.single_key_column.and_then(|i| row.get(i)) {
            // The same hash as the evaluated one-value key.
            Some(value) => self.hasher.hash_one(std::slice::from_ref(value)),
            None => {
                self.scratch.clear();
                self.scratch.extend(self.keys.iter().map(|k| eval(k, row)));
                self.hasher.hash_one(&self.scratch[..])
            }
        };
        (hash % partitions as u64) as usize
    }
}

impl KeyRouter {
    /// The partition of a group whose evaluated key is `key`: the one its
    /// rows are routed to by [`KeyRouter::partition_of`].
    pub fn partition_of_key(&self, key: &[Value], partitions: usize) -> usize {
        if self.keys.is_empty() || partitions <= 1 {
            return 0;
        }
        (self.hasher.hash_one(key) % partitions as u64) as usize
    }
}

/// Event time (ms) of `row` under `plan`: its window's time column as a
/// TIMESTAMP, BIGINT epoch millis, or timestamp text. `None` when the plan has
/// no window or the value is NULL or not a time.
pub fn event_time(plan: &QueryPlan, row: &[Value]) -> Option<i64> {
    time_value(row.get(plan.event_time_column()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataType;
    use crate::engine::test_plans::*;
    use crate::plan::{AggregateFunction, WindowKind};

    #[test]
    fn same_key_same_partition_reproducibly() {
        let types = [DataType::Varchar, DataType::BigInt];
        let plan = GroupedPlan::new(
            &types,
            vec![col(0, DataType::Varchar)],
            vec![agg(AggregateFunction::Count, None, DataType::BigInt)],
        )
        .build();
        let mut a = KeyRouter::new(&plan);
        let mut b = KeyRouter::new(&plan);
        let mut seen = [false; 4];
        for i in 0..100 {
            let row = [Value::str(&format!("k{}", i % 10)), Value::Int(i)];
            let p = a.partition_of(&row, 4);
            assert!(p < 4);
            seen[p] = true;
            assert_eq!(p, b.partition_of(&row, 4));
            let same_key = [Value::str(&format!("k{}", i % 10)), Value::Int(-1)];
            assert_eq!(p, a.partition_of(&same_key, 4));
        }
        assert!(seen.iter().filter(|s| **s).count() >= 2);
        // Numbers equal across types route alike (they group alike).
        let r1 = a.partition_of(&[Value::Int(3), Value::Null], 7);
        let r2 = a.partition_of(&[Value::Double(3.0), Value::Null], 7);
        assert_eq!(r1, r2);
    }

    #[test]
    fn one_column_keys_route_as_their_evaluated_key() {
        let types = [DataType::BigInt, DataType::Varchar];
        let plan = GroupedPlan::new(
            &types,
            vec![col(1, DataType::Varchar)],
            vec![agg(AggregateFunction::Count, None, DataType::BigInt)],
        )
        .build();
        let mut router = KeyRouter::new(&plan);
        let hasher = ahash::RandomState::with_seeds(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]);
        for i in 0..50 {
            let row = [Value::Int(i), Value::str(&format!("k{i}"))];
            let evaluated = [row[1].clone()];
            let expected = (hasher.hash_one(&evaluated[..]) % 5) as usize;
            assert_eq!(router.partition_of(&row, 5), expected);
        }
    }

    #[test]
    fn keyless_plans_route_to_zero() {
        let plan = stateless_plan(&[DataType::BigInt], None, vec![col(0, DataType::BigInt)]);
        let mut r = KeyRouter::new(&plan);
        assert!(r.is_keyless());
        assert_eq!(r.partition_of(&[Value::Int(5)], 8), 0);
    }

    #[test]
    fn event_time_reads_the_window_column() {
        let types = [DataType::BigInt, DataType::Timestamp];
        let plan = GroupedPlan::new(
            &types,
            vec![],
            vec![agg(AggregateFunction::Count, None, DataType::BigInt)],
        )
        .window(WindowKind::Tumbling { size_ms: 10 }, 1)
        .build();
        assert_eq!(
            event_time(&plan, &[Value::Int(1), Value::Timestamp(42)]),
            Some(42)
        );
        assert_eq!(event_time(&plan, &[Value::Int(1), Value::Null]), None);
        let stateless = stateless_plan(&types, None, vec![]);
        assert_eq!(
            event_time(&stateless, &[Value::Int(1), Value::Timestamp(42)]),
            None
        );
    }
}
