//! The host's CPU topology as sysfs and procfs describe it: online, allowed,
//! isolated and `nohz_full` CPUs, SMT siblings, physical core and package
//! ids, NUMA nodes and frequency governors.
//!
//! Read from a root directory (`/` for this host, a fake tree in tests). A VM
//! or container may lack any of the files: a missing or unreadable file
//! leaves its fact unknown (an empty list, `None`) instead of failing.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::config::parse_core_list;

/// One online CPU (a hardware thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpu {
    pub id: usize,
    /// The CPUs sharing this CPU's physical core, itself included, ascending
    /// (`[id]` when sysfs does not say).
    pub siblings: Vec<usize>,
    pub core_id: Option<usize>,
    pub package_id: Option<usize>,
    pub node: Option<usize>,
    /// The cpufreq scaling governor (`performance`, `powersave`, ...).
    pub governor: Option<String>,
}

/// A NUMA node and its CPUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumaNode {
    pub id: usize,
    pub cpus: Vec<usize>,
}

/// What the host's CPUs look like to this process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Topology {
    pub online: Vec<usize>,
    /// The CPUs this process may run on (its affinity mask).
    pub allowed: Vec<usize>,
    /// CPUs kept away from the scheduler (`isolcpus=`).
    pub isolated: Vec<usize>,
    /// CPUs without a periodic scheduler tick (`nohz_full=`).
    pub nohz_full: Vec<usize>,
    /// One entry per online CPU, ascending.
    pub cpus: Vec<Cpu>,
    pub nodes: Vec<NumaNode>,
}

impl Topology {
    /// This host, with the allowed CPUs from `sched_getaffinity`.
    pub fn of_this_host() -> Topology {
        let allowed = core_affinity::get_core_ids()
            .unwrap_or_default()
            .into_iter()
            .map(|core| core.id)
            .collect();
        Topology::read_with_allowed(Path::new("/"), allowed)
    }

    /// The tree under `root`, with the allowed CPUs from its
    /// `proc/self/status` (all online CPUs when that is missing).
    pub fn read(root: &Path) -> Topology {
        let status = std::fs::read_to_string(root.join("proc/self/status")).unwrap_or_default();
        Topology::read_with_allowed(root, allowed_from_status(&status))
    }

    fn read_with_allowed(root: &Path, allowed: Vec<usize>) -> Topology {
        let sysfs = SysfsCpus::new(root);
        let nodes = sysfs.nodes();
        let online = [sysfs.list("online"), sysfs.cpu_dirs(), allowed.clone()]
            .into_iter()
            .find(|cpus| !cpus.is_empty())
            .unwrap_or_default();
        let cpus = online
            .iter()
            .map(|&id| sysfs.cpu(id, node_of(&nodes, id)))
            .collect();
        Topology {
            allowed: if allowed.is_empty() {
                online.clone()
            } else {
                allowed
            },
            online,
            isolated: sysfs.list("isolated"),
            nohz_full: sysfs.list("nohz_full"),
            cpus,
            nodes,
        }
    }

    pub fn cpu(&self, id: usize) -> Option<&Cpu> {
        self.cpus.iter().find(|cpu| cpu.id == id)
    }

    /// The physical core `cpu` belongs to, named by its lowest SMT sibling
    /// (a CPU sysfs does not describe is a core of its own).
    pub fn physical_core(&self, cpu: usize) -> usize {
        self.cpu(cpu)
            .and_then(|c| c.siblings.iter().copied().min())
            .unwrap_or(cpu)
    }

    /// The CPUs of `cpus` that are online, in their order.
    pub fn online_among(&self, cpus: &[usize]) -> Vec<usize> {
        cpus.iter()
            .copied()
            .filter(|cpu| self.online.contains(cpu))
            .collect()
    }

    pub fn node_of(&self, cpu: usize) -> Option<usize> {
        self.cpu(cpu).and_then(|c| c.node)
    }

    /// The SMT sibling groups of two or more online CPUs, in CPU order.
    pub fn smt_groups(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for cpu in self.cpus.iter().filter(|c| c.siblings.len() > 1) {
            if !groups.contains(&cpu.siblings) {
                groups.push(cpu.siblings.clone());
            }
        }
        groups
    }
}

/// `Cpus_allowed_list:` of a `/proc/<pid>/status` text.
fn allowed_from_status(status: &str) -> Vec<usize> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(parse_sysfs_list)
        .unwrap_or_default()
}

fn node_of(nodes: &[NumaNode], cpu: usize) -> Option<usize> {
    nodes
        .iter()
        .find(|node| node.cpus.contains(&cpu))
        .map(|node| node.id)
}

/// A sysfs CPU list (`0-3,8`); empty when blank or unreadable (`(null)`).
fn parse_sysfs_list(text: &str) -> Vec<usize> {
    parse_core_list(text.trim()).unwrap_or_default()
}

/// Formats CPUs the way sysfs does: ascending, runs as ranges (`0-3,8`).
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for cpu in sorted {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == cpu => *last = cpu,
            _ => runs.push((cpu, cpu)),
        }
    }
    runs.iter()
        .map(|&(first, last)| match last - first {
            0 => first.to_string(),
            1 => format!("{first},{last}"),
            _ => format!("{first}-{last}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The files under `<root>/sys/devices/system/{cpu,node}`.
struct SysfsCpus {
    cpu_dir: PathBuf,
    node_dir: PathBuf,
}

impl SysfsCpus {
    fn new(root: &Path) -> Self {
        let system = root.join("sys/devices/system");
        SysfsCpus {
            cpu_dir: system.join("cpu"),
            node_dir: system.join("node"),
        }
    }

    fn text(path: &Path) -> Option<String> {
        std::fs::read_to_string(path)
            .ok()
            .map(|text| text.trim().to_string())
    }

    fn number(path: &Path) -> Option<usize> {
        SysfsCpus::text(path)?.parse().ok()
    }

    /// A CPU list file directly under the cpu directory.
    fn list(&self, name: &str) -> Vec<usize> {
        SysfsCpus::text(&self.cpu_dir.join(name))
            .map(|text| parse_sysfs_list(&text))
            .unwrap_or_default()
    }

    /// The CPUs that have a `cpuN` directory, ascending.
    fn cpu_dirs(&self) -> Vec<usize> {
        numbered_entries(&self.cpu_dir, "cpu")
    }

    fn cpu(&self, id: usize, node: Option<usize>) -> Cpu {
        let dir = self.cpu_dir.join(format!("cpu{id}"));
        let topology = dir.join("topology");
        let siblings = ["core_cpus_list", "thread_siblings_list"]
            .iter()
            .filter_map(|name| SysfsCpus::text(&topology.join(name)))
            .map(|text| parse_sysfs_list(&text))
            .find(|list| !list.is_empty())
            .unwrap_or_else(|| vec![id]);
        Cpu {
            id,
            siblings,
            core_id: SysfsCpus::number(&topology.join("core_id")),
            package_id: SysfsCpus::number(&topology.join("physical_package_id")),
            node,
            governor: SysfsCpus::text(&dir.join("cpufreq/scaling_governor")),
        }
    }

    fn nodes(&self) -> Vec<NumaNode> {
        numbered_entries(&self.node_dir, "node")
            .into_iter()
            .map(|id| NumaNode {
                id,
                cpus: SysfsCpus::text(&self.node_dir.join(format!("node{id}/cpulist")))
                    .map(|text| parse_sysfs_list(&text))
                    .unwrap_or_default(),
            })
            .filter(|node| !node.cpus.is_empty())
            .collect()
    }
}

/// The numbers N of the entries named `<prefix>N` in `dir`, ascending.
fn numbered_entries(dir: &Path, prefix: &str) -> Vec<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut numbers: Vec<usize> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()?
                .strip_prefix(prefix)?
                .parse()
                .ok()
        })
        .collect();
    numbers.sort_unstable();
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Topology {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sysfs");
        Topology::read(&root.join(name))
    }

    #[test]
    fn cpu_lists_format_like_sysfs() {
        assert_eq!(format_cpu_list(&[3, 0, 1, 2, 8, 10, 11]), "0-3,8,10,11");
        assert_eq!(format_cpu_list(&[5]), "5");
        assert_eq!(format_cpu_list(&[]), "");
        for text in ["0-3,8,10,11", "0", "2,4-7"] {
            assert_eq!(format_cpu_list(&parse_sysfs_list(text)), text);
        }
    }

    #[test]
    fn blank_and_null_lists_are_empty() {
        assert!(parse_sysfs_list("\n").is_empty());
        assert!(parse_sysfs_list("(null)\n").is_empty());
        assert_eq!(parse_sysfs_list("0-1\n"), vec![0, 1]);
    }

    #[test]
    fn allowed_cpus_come_from_the_status_file() {
        let status = "Name:\tcat\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1,4\n";
        assert_eq!(allowed_from_status(status), vec![0, 1, 4]);
        assert!(allowed_from_status("Name:\tcat\n").is_empty());
    }

    #[test]
    fn smt_pairs_cores_packages_and_governors_are_read() {
        let t = fixture("smt4");
        assert_eq!(t.online, (0..8).collect::<Vec<_>>());
        assert_eq!(t.allowed, t.online);
        assert_eq!(t.smt_groups(), vec![[0, 4], [1, 5], [2, 6], [3, 7]]);
        assert_eq!(t.physical_core(6), 2);
        let cpu5 = t.cpu(5).expect("cpu 5");
        assert_eq!((cpu5.core_id, cpu5.package_id), (Some(1), Some(0)));
        assert_eq!(cpu5.governor.as_deref(), Some("powersave"));
        assert_eq!(t.nodes.len(), 1);
        assert_eq!(t.node_of(7), Some(0));
    }

    #[test]
    fn two_numa_nodes_are_read() {
        let t = fixture("numa2");
        let nodes: Vec<_> = t.nodes.iter().map(|n| (n.id, n.cpus.clone())).collect();
        assert_eq!(
            nodes,
            vec![
                (0, vec![0, 1, 2, 3, 8, 9, 10, 11]),
                (1, vec![4, 5, 6, 7, 12, 13, 14, 15])
            ]
        );
        assert_eq!(t.node_of(13), Some(1));
        assert_eq!(t.cpu(12).and_then(|c| c.package_id), Some(1));
        assert_eq!(t.physical_core(12), 4);
    }

    #[test]
    fn isolated_nohz_full_and_the_affinity_mask_are_read() {
        let t = fixture("isolated");
        assert_eq!(t.isolated, vec![4, 5, 6, 7]);
        assert_eq!(t.nohz_full, vec![4, 5, 6, 7]);
        assert_eq!(t.allowed, vec![0, 1, 2, 3]);
        assert!(t.smt_groups().is_empty());
    }

    #[test]
    fn a_vm_without_cpufreq_reads_like_this_machine() {
        let t = fixture("vm2");
        assert_eq!(t.online, vec![0, 1]);
        assert!(t.isolated.is_empty() && t.nohz_full.is_empty());
        assert!(t.smt_groups().is_empty());
        assert_eq!(t.cpu(1).and_then(|c| c.governor.clone()), None);
        assert_eq!(t.cpu(1).and_then(|c| c.core_id), Some(1));
    }

    #[test]
    fn an_empty_tree_degrades_to_unknowns() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = Topology::read(dir.path());
        assert_eq!(t, Topology::default());
    }

    #[test]
    fn cpus_without_online_or_topology_files_are_found_and_stand_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cpu_dir = dir.path().join("sys/devices/system/cpu");
        for id in [0, 1, 2] {
            std::fs::create_dir_all(cpu_dir.join(format!("cpu{id}"))).expect("mkdir");
        }
        std::fs::create_dir_all(cpu_dir.join("cpufreq")).expect("mkdir");
        let t = Topology::read(dir.path());
        assert_eq!(t.online, vec![0, 1, 2]);
        assert_eq!(t.allowed, vec![0, 1, 2]);
        assert_eq!(t.cpu(2).map(|c| c.siblings.clone()), Some(vec![2]));
        assert_eq!(t.node_of(2), None);
    }

    #[test]
    fn this_host_has_an_allowed_online_cpu() {
        let t = Topology::of_this_host();
        assert!(!t.allowed.is_empty());
        assert!(t.allowed.iter().any(|cpu| t.online.contains(cpu)));
    }
}
