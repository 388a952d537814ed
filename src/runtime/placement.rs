//! Which CPU each executor of a run is pinned to, chosen from the host's
//! topology.
//!
//! The rules, in order:
//! - Candidates: the `--cores` list when given (isolated CPUs included: listing
//!   them is how a user hands them to corestream); otherwise the online CPUs
//!   the process may run on, leaving out isolated ones (`isolcpus=` reserves
//!   them for what is listed on them explicitly), unless every allowed CPU is
//!   isolated (then the process was started on them on purpose).
//! - When the candidates span NUMA nodes and the shards fit on the physical
//!   cores of one node, they stay on that node (a node with a core to spare
//!   for the merger first, then the node with the most cores).
//! - Shards take distinct physical cores before any second SMT sibling, and
//!   wrap round-robin when there are more shards than CPUs.
//! - The merger gets a physical core no shard uses when there is one, else
//!   the free SMT sibling of the least busy shard's core, else the CPU with
//!   the fewest shards (shared with a shard).

use std::cmp::Reverse;

use serde::Serialize;

use super::topology::Topology;
use super::RuntimeConfig;

/// Where the merger sits, and why there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergerSeat {
    /// A physical core that no shard runs on.
    SpareCore,
    /// The free SMT sibling of this shard's core.
    SiblingOf(usize),
    /// The same CPU as this shard: no CPU was free.
    SharedWith(usize),
}

/// The CPUs a run's executors are pinned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorePlan {
    /// `shards[i]`: the CPU of shard i.
    pub shards: Vec<usize>,
    pub merger: usize,
    pub merger_seat: MergerSeat,
}

/// The placement of `config`'s shards and merger on `topology`; `None` when
/// not pinning (`--no-pin`) or when no CPU is known.
pub fn plan_cores(topology: &Topology, config: &RuntimeConfig) -> Option<CorePlan> {
    if !config.pin || config.shards == 0 {
        return None;
    }
    let candidates = candidate_cpus(topology, config.cores.as_deref());
    if candidates.is_empty() {
        return None;
    }
    let local = one_node_that_fits(topology, &candidates, config.shards);
    let local_order = spread_over_cores(topology, &local);
    let shards: Vec<usize> = (0..config.shards)
        .map(|shard| local_order[shard % local_order.len()])
        .collect();
    let elsewhere: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|cpu| !local.contains(cpu))
        .collect();
    let merger_order = [local_order, spread_over_cores(topology, &elsewhere)].concat();
    let (merger, merger_seat) = seat_merger(topology, &shards, &merger_order);
    Some(CorePlan {
        shards,
        merger,
        merger_seat,
    })
}

/// `--cores` as listed, else the allowed online CPUs that are not isolated
/// (all allowed online CPUs when every one of them is isolated).
pub fn candidate_cpus(topology: &Topology, listed: Option<&[usize]>) -> Vec<usize> {
    if let Some(listed) = listed {
        return listed.to_vec();
    }
    let usable = topology.online_among(&topology.allowed);
    let quiet: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|cpu| !topology.isolated.contains(cpu))
        .collect();
    if quiet.is_empty() {
        usable
    } else {
        quiet
    }
}

/// `cpus` grouped by NUMA node, nodes in order of first appearance.
fn by_node(topology: &Topology, cpus: &[usize]) -> Vec<(Option<usize>, Vec<usize>)> {
    let mut nodes: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    for &cpu in cpus {
        let node = topology.node_of(cpu);
        match nodes.iter_mut().find(|(id, _)| *id == node) {
            Some((_, members)) => members.push(cpu),
            None => nodes.push((node, vec![cpu])),
        }
    }
    nodes
}

/// How many physical cores `cpus` are on.
pub fn physical_core_count(topology: &Topology, cpus: &[usize]) -> usize {
    let mut cores: Vec<usize> = cpus.iter().map(|&c| topology.physical_core(c)).collect();
    cores.sort_unstable();
    cores.dedup();
    cores.len()
}

/// The candidates of the node the shards fit on (one with a core to spare
/// first, then the most cores, then the first), or all of them.
fn one_node_that_fits(topology: &Topology, candidates: &[usize], shards: usize) -> Vec<usize> {
    by_node(topology, candidates)
        .into_iter()
        .enumerate()
        .map(|(index, (_, cpus))| (physical_core_count(topology, &cpus), index, cpus))
        .filter(|(cores, _, _)| *cores >= shards)
        .min_by_key(|(cores, index, _)| (Reverse(*cores > shards), Reverse(*cores), *index))
        .map_or_else(|| candidates.to_vec(), |(_, _, cpus)| cpus)
}

/// `cpus` reordered so that each physical core comes once before any core
/// comes a second time (SMT siblings last) and, within a round, each NUMA
/// node's CPUs stay together; otherwise in the given order.
fn spread_over_cores(topology: &Topology, cpus: &[usize]) -> Vec<usize> {
    let nodes: Vec<Option<usize>> = by_node(topology, cpus)
        .into_iter()
        .map(|(node, _)| node)
        .collect();
    let mut ranked: Vec<(usize, usize, usize)> = Vec::with_capacity(cpus.len());
    for (index, &cpu) in cpus.iter().enumerate() {
        let core = topology.physical_core(cpu);
        let round = cpus[..index]
            .iter()
            .filter(|&&earlier| topology.physical_core(earlier) == core)
            .count();
        let node = nodes
            .iter()
            .position(|&n| n == topology.node_of(cpu))
            .unwrap_or(0);
        ranked.push((round, node, cpu));
    }
    ranked.sort_by_key(|&(round, node, _)| (round, node));
    ranked.into_iter().map(|(_, _, cpu)| cpu).collect()
}

/// The merger's CPU among `cpus` (in order of preference), given the shards'.
fn seat_merger(topology: &Topology, shards: &[usize], cpus: &[usize]) -> (usize, MergerSeat) {
    let core_of = |cpu: usize| topology.physical_core(cpu);
    let shards_on_core = |core: usize| shards.iter().filter(|&&s| core_of(s) == core).count();
    let first_shard_on =
        |pred: &dyn Fn(usize) -> bool| shards.iter().position(|&s| pred(s)).unwrap_or(0);
    if let Some(&spare) = cpus.iter().find(|&&cpu| shards_on_core(core_of(cpu)) == 0) {
        return (spare, MergerSeat::SpareCore);
    }
    let free_sibling = cpus
        .iter()
        .copied()
        .filter(|cpu| !shards.contains(cpu))
        .min_by_key(|&cpu| shards_on_core(core_of(cpu)));
    if let Some(sibling) = free_sibling {
        let shard = first_shard_on(&|s| core_of(s) == core_of(sibling));
        return (sibling, MergerSeat::SiblingOf(shard));
    }
    let shards_on_cpu = |cpu: usize| shards.iter().filter(|&&s| s == cpu).count();
    let shared = shards
        .iter()
        .copied()
        .min_by_key(|&cpu| shards_on_cpu(cpu))
        .unwrap_or(cpus[0]);
    (
        shared,
        MergerSeat::SharedWith(first_shard_on(&|s| s == shared)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::topology::{Cpu, NumaNode};
    use std::path::Path;

    fn fixture(name: &str) -> Topology {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sysfs");
        Topology::read(&root.join(name))
    }

    fn plan(topology: &Topology, shards: usize, cores: Option<Vec<usize>>) -> CorePlan {
        let config = RuntimeConfig {
            cores,
            ..RuntimeConfig::with_shards(shards)
        };
        plan_cores(topology, &config).expect("a pinned placement")
    }

    fn seats(plan: &CorePlan) -> (Vec<usize>, usize, MergerSeat) {
        (plan.shards.clone(), plan.merger, plan.merger_seat)
    }

    #[test]
    fn smt_pairs_fill_physical_cores_before_siblings() {
        let t = fixture("smt4");
        use MergerSeat::*;
        assert_eq!(seats(&plan(&t, 2, None)), (vec![0, 1], 2, SpareCore));
        assert_eq!(seats(&plan(&t, 3, None)), (vec![0, 1, 2], 3, SpareCore));
        assert_eq!(
            seats(&plan(&t, 4, None)),
            (vec![0, 1, 2, 3], 4, SiblingOf(0))
        );
        assert_eq!(
            seats(&plan(&t, 6, None)),
            (vec![0, 1, 2, 3, 4, 5], 6, SiblingOf(2))
        );
        assert_eq!(
            seats(&plan(&t, 8, None)),
            ((0..8).collect(), 0, SharedWith(0))
        );
    }

    #[test]
    fn a_listed_core_set_is_spread_over_physical_cores_too() {
        let t = fixture("smt4");
        let p = plan(&t, 2, Some(vec![0, 4, 1, 5]));
        assert_eq!(seats(&p), (vec![0, 1], 4, MergerSeat::SiblingOf(0)));
    }

    #[test]
    fn shards_that_fit_one_numa_node_stay_on_it() {
        let t = fixture("numa2");
        use MergerSeat::*;
        assert_eq!(seats(&plan(&t, 3, None)), (vec![0, 1, 2], 3, SpareCore));
        // Four shards fill node 0's cores: the merger takes a spare core on node 1.
        assert_eq!(seats(&plan(&t, 4, None)), (vec![0, 1, 2, 3], 4, SpareCore));
        let listed = plan(&t, 2, Some(vec![4, 0, 5, 1, 6]));
        assert_eq!(seats(&listed), (vec![4, 5], 6, SpareCore));
    }

    #[test]
    fn shards_that_fit_no_node_use_every_physical_core_first() {
        let t = fixture("numa2");
        let p = plan(&t, 10, None);
        assert_eq!(p.shards, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!((p.merger, p.merger_seat), (10, MergerSeat::SiblingOf(2)));
    }

    #[test]
    fn isolated_cpus_are_used_only_when_listed() {
        let t = fixture("isolated");
        use MergerSeat::*;
        assert_eq!(seats(&plan(&t, 2, None)), (vec![0, 1], 2, SpareCore));
        let listed = Some(vec![4, 5, 6, 7]);
        assert_eq!(
            seats(&plan(&t, 3, listed.clone())),
            (vec![4, 5, 6], 7, SpareCore)
        );
        assert_eq!(
            seats(&plan(&t, 4, listed)),
            (vec![4, 5, 6, 7], 4, SharedWith(0))
        );
    }

    #[test]
    fn a_process_started_on_isolated_cpus_stays_on_them() {
        let t = Topology {
            allowed: vec![4, 5],
            ..fixture("isolated")
        };
        assert_eq!(
            seats(&plan(&t, 1, None)),
            (vec![4], 5, MergerSeat::SpareCore)
        );
    }

    #[test]
    fn more_shards_than_cpus_wrap_and_share_the_least_loaded_cpu() {
        let t = fixture("vm2");
        use MergerSeat::*;
        assert_eq!(seats(&plan(&t, 1, None)), (vec![0], 1, SpareCore));
        assert_eq!(seats(&plan(&t, 2, None)), (vec![0, 1], 0, SharedWith(0)));
        assert_eq!(seats(&plan(&t, 3, None)), (vec![0, 1, 0], 1, SharedWith(1)));
    }

    #[test]
    fn cpus_the_topology_does_not_know_are_cores_of_their_own() {
        let p = plan(&Topology::default(), 3, Some(vec![4, 6]));
        assert_eq!(seats(&p), (vec![4, 6, 4], 6, MergerSeat::SharedWith(1)));
    }

    #[test]
    fn four_way_smt_gives_the_merger_the_sibling_of_the_least_busy_core() {
        let cpu = |id: usize, siblings: Vec<usize>| Cpu {
            id,
            siblings,
            core_id: None,
            package_id: None,
            node: Some(0),
            governor: None,
        };
        let mut cpus: Vec<Cpu> = (0..4).map(|id| cpu(id, vec![0, 1, 2, 3])).collect();
        cpus.extend((4..8).map(|id| cpu(id, vec![4, 5, 6, 7])));
        let t = Topology {
            online: (0..8).collect(),
            allowed: (0..8).collect(),
            cpus,
            nodes: vec![NumaNode {
                id: 0,
                cpus: (0..8).collect(),
            }],
            ..Topology::default()
        };
        // Cores 0 and 4 take shards 0, 1 and 2: core 4 has one, so its sibling.
        let p = plan(&t, 3, None);
        assert_eq!(seats(&p), (vec![0, 4, 1], 5, MergerSeat::SiblingOf(1)));
    }

    #[test]
    fn nothing_is_pinned_without_pinning_or_cpus() {
        let t = fixture("smt4");
        let unpinned = RuntimeConfig {
            pin: false,
            ..RuntimeConfig::with_shards(2)
        };
        assert_eq!(plan_cores(&t, &unpinned), None);
        assert_eq!(
            plan_cores(&Topology::default(), &RuntimeConfig::with_shards(2)),
            None
        );
    }
}
