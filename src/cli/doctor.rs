//! `corestream doctor`: what decides latency on this host (io_uring and the
//! runtime a run will use, locked memory, isolated and `nohz_full` CPUs, SMT
//! siblings, NUMA nodes, frequency governors, the placement of `--shards N`),
//! the advice that follows, and a recommended command line; as text or JSON.
//! The facts and the placement come from the runtime; this module words them.

use std::fmt::Write;

use serde::Serialize;

use super::args::DoctorArgs;
use super::{available_cores, placement_config};
use crate::error::{Error, Result};
use crate::runtime::placement::{
    candidate_cpus, physical_core_count, plan_cores, CorePlan, MergerSeat,
};
use crate::runtime::probe::{
    choose_runtime, ExecutorKind, MemlockVerdict, Readiness, RuntimeRequest,
};
use crate::runtime::topology::{format_cpu_list, Topology};
use crate::runtime::RuntimeConfig;

/// Runs `corestream doctor`.
pub fn doctor_command(args: &DoctorArgs) -> Result<()> {
    let (topology, default_shards) = match &args.sysfs_root {
        Some(root) => {
            let topology = Topology::read(root);
            let shards = topology.allowed.len().max(1);
            (topology, shards)
        }
        None => (Topology::of_this_host(), available_cores()),
    };
    let config = placement_config(&args.placement, default_shards)?;
    let readiness = Readiness::of_this_host(config.shards + 1);
    let report = Report::new(
        topology,
        &config,
        &readiness,
        args.placement.shards.is_some(),
    )?;
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Runtime(format!("cannot encode the doctor report: {e}")))?;
        println!("{json}");
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

/// The placement block of `doctor` and `explain --placement`.
pub fn placement_text(topology: &Topology, config: &RuntimeConfig) -> String {
    let plan = plan_cores(topology, config);
    placement_block(topology, config.shards, config.pin, plan.as_ref())
}

/// Why glommio cannot run here, and what would change that.
#[derive(Debug, Serialize)]
struct Blocked {
    cause: String,
    fix: String,
}

#[derive(Debug, Serialize)]
struct LockedMemoryReport {
    /// `None`: unlimited.
    limit_bytes: Option<u64>,
    executors: usize,
    /// glommio does not start below this.
    minimum_bytes: u64,
    /// What the executors' rings and registered io buffers lock.
    wanted_bytes: u64,
    verdict: MemlockVerdict,
}

#[derive(Debug, Serialize)]
struct GovernorGroup {
    governor: String,
    cpus: Vec<usize>,
}

/// Everything `doctor` reports.
#[derive(Debug, Serialize)]
struct Report {
    io_uring_available: bool,
    /// The runtime a run started without `--runtime` uses.
    runtime: ExecutorKind,
    glommio_blocked: Option<Blocked>,
    locked_memory: LockedMemoryReport,
    topology: Topology,
    smt_groups: Vec<Vec<usize>>,
    governors: Vec<GovernorGroup>,
    shards: usize,
    /// Whether executors are pinned (`--no-pin`: false).
    pin: bool,
    /// `None`: not pinned.
    placement: Option<CorePlan>,
    advice: Vec<String>,
    recommended: String,
}

impl Report {
    fn new(
        topology: Topology,
        config: &RuntimeConfig,
        readiness: &Readiness,
        shards_given: bool,
    ) -> Result<Self> {
        let runtime = choose_runtime(RuntimeRequest::Auto, readiness)?.kind;
        let memory = readiness.locked_memory;
        let placement = plan_cores(&topology, config);
        let mut report = Report {
            io_uring_available: readiness.io_uring.is_ok(),
            runtime,
            glommio_blocked: readiness.blocker().map(|b| Blocked {
                cause: b.cause(),
                fix: b.fix(),
            }),
            locked_memory: LockedMemoryReport {
                limit_bytes: memory.limit,
                executors: memory.executors,
                minimum_bytes: memory.minimum(),
                wanted_bytes: memory.wanted(),
                verdict: memory.verdict(),
            },
            smt_groups: topology.smt_groups(),
            governors: governors(&topology),
            shards: config.shards,
            pin: config.pin,
            placement,
            advice: Vec::new(),
            recommended: recommended(&topology, config, shards_given, runtime),
            topology,
        };
        report.advice = report.advice(config);
        Ok(report)
    }

    fn to_text(&self) -> String {
        let mut s =
            String::from("corestream doctor: what decides latency on this host\n\nruntime\n");
        let t = &self.topology;
        line(&mut s, "io_uring", &self.io_uring_text());
        line(&mut s, "a run uses", &self.runtime_text());
        line(&mut s, "locked memory", &self.memory_text());
        s.push_str("cpus\n");
        line(&mut s, "online", &cpu_list_or(&t.online, "unknown"));
        line(&mut s, "allowed", &cpu_list_or(&t.allowed, "unknown"));
        line(
            &mut s,
            "isolated",
            &cpu_list_or(&t.isolated, "none (isolcpus)"),
        );
        line(&mut s, "nohz_full", &cpu_list_or(&t.nohz_full, "none"));
        line(&mut s, "SMT siblings", &self.smt_text());
        line(&mut s, "NUMA nodes", &self.nodes_text());
        line(&mut s, "governor", &self.governor_text());
        s.push_str(&placement_block(
            t,
            self.shards,
            self.pin,
            self.placement.as_ref(),
        ));
        s.push_str("advice\n");
        for advice in &self.advice {
            let _ = writeln!(s, "  - {advice}");
        }
        let _ = writeln!(s, "recommended\n  {}", self.recommended);
        s
    }

    fn io_uring_text(&self) -> String {
        match (&self.glommio_blocked, self.io_uring_available) {
            (Some(blocked), false) => format!("unavailable: {}", blocked.cause),
            _ => "available".into(),
        }
    }

    fn runtime_text(&self) -> String {
        match self.runtime {
            ExecutorKind::Glommio => "glommio (one io_uring executor per core)".into(),
            ExecutorKind::Threads => "plain threads (--runtime threads): glommio cannot run".into(),
        }
    }

    fn memory_text(&self) -> String {
        let m = &self.locked_memory;
        let limit = m
            .limit_bytes
            .map_or("unlimited".into(), |bytes| format!("{} KiB", bytes / 1024));
        let verdict = match m.verdict {
            MemlockVerdict::Enough => "enough",
            MemlockVerdict::BelowWanted => "below what they lock (see advice)",
            MemlockVerdict::BelowMinimum => "too low for glommio",
        };
        format!(
            "limit {limit}; {} executors (shards and merger) lock up to {} KiB, glommio needs {} KiB to start: {verdict}",
            m.executors,
            m.wanted_bytes.div_ceil(1024),
            m.minimum_bytes / 1024
        )
    }

    fn smt_text(&self) -> String {
        let groups = self.smt_groups.iter().map(|g| format_cpu_list(g));
        joined_or(groups, " ", "none: one thread per core")
    }

    fn nodes_text(&self) -> String {
        let nodes = self
            .topology
            .nodes
            .iter()
            .map(|n| format!("node {}: {}", n.id, format_cpu_list(&n.cpus)));
        joined_or(nodes, "; ", "unknown (no /sys/devices/system/node)")
    }

    fn governor_text(&self) -> String {
        let groups = self
            .governors
            .iter()
            .map(|g| format!("{} on {}", g.governor, format_cpu_list(&g.cpus)));
        joined_or(
            groups,
            "; ",
            "unknown (no cpufreq: frequency is up to the hypervisor or firmware)",
        )
    }

    /// What to change, most important first; "nothing to change" when all is well.
    fn advice(&self, config: &RuntimeConfig) -> Vec<String> {
        let t = &self.topology;
        let mut advice = Vec::new();
        if let Some(blocked) = &self.glommio_blocked {
            advice.push(format!(
                "{}: {}; until then runs use plain threads (--runtime threads)",
                blocked.cause, blocked.fix
            ));
        }
        if self.locked_memory.verdict == MemlockVerdict::BelowWanted {
            let wanted_kib = self.locked_memory.wanted_bytes.div_ceil(1024);
            advice.push(format!(
                "the locked-memory limit is below the {wanted_kib} KiB that {} executors lock: \
                 glommio skips registering its io buffers (corestream does no storage I/O \
                 through them) and, on kernels before 5.12, executors may fail to start; \
                 ulimit -l {wanted_kib} avoids both",
                self.locked_memory.executors
            ));
        }
        for group in self
            .governors
            .iter()
            .filter(|g| g.governor != "performance")
        {
            advice.push(format!(
                "CPUs {} use the '{}' frequency governor: clock changes add latency; \
                 cpupower frequency-set -g performance keeps them at speed",
                format_cpu_list(&group.cpus),
                group.governor
            ));
        }
        advice.extend(isolation_advice(t));
        if let Some(cores) = &config.cores {
            let offline: Vec<usize> = cores
                .iter()
                .copied()
                .filter(|c| !t.online.contains(c))
                .collect();
            if !offline.is_empty() && !t.online.is_empty() {
                advice.push(format!(
                    "--cores lists CPUs {} that are not online here",
                    format_cpu_list(&offline)
                ));
            }
        }
        if let Some(plan) = &self.placement {
            advice.extend(placement_advice(t, plan));
        }
        if advice.is_empty() {
            advice.push("nothing to change".into());
        }
        advice
    }
}

fn line(s: &mut String, label: &str, value: &str) {
    let _ = writeln!(s, "  {label:<18}{value}");
}

/// `parts` joined by `separator`, or `empty` when there are none.
fn joined_or(parts: impl Iterator<Item = String>, separator: &str, empty: &str) -> String {
    let parts: Vec<String> = parts.collect();
    if parts.is_empty() {
        empty.into()
    } else {
        parts.join(separator)
    }
}

fn cpu_list_or(cpus: &[usize], empty: &str) -> String {
    if cpus.is_empty() {
        empty.into()
    } else {
        format_cpu_list(cpus)
    }
}

/// The online CPUs grouped by frequency governor (CPUs without one left out).
fn governors(topology: &Topology) -> Vec<GovernorGroup> {
    let mut groups: Vec<GovernorGroup> = Vec::new();
    for cpu in &topology.cpus {
        let Some(governor) = &cpu.governor else {
            continue;
        };
        match groups.iter_mut().find(|g| &g.governor == governor) {
            Some(group) => group.cpus.push(cpu.id),
            None => groups.push(GovernorGroup {
                governor: governor.clone(),
                cpus: vec![cpu.id],
            }),
        }
    }
    groups
}

/// Isolating CPUs (and stopping their tick) is what takes the kernel's
/// scheduler out of the shards' way.
fn isolation_advice(t: &Topology) -> Vec<String> {
    if t.isolated.is_empty() {
        let first_core = t.online.first().map(|&cpu| t.physical_core(cpu));
        let spare: Vec<usize> = t
            .online
            .iter()
            .copied()
            .filter(|&cpu| Some(t.physical_core(cpu)) != first_core)
            .collect();
        if spare.is_empty() {
            return Vec::new();
        }
        let list = format_cpu_list(&spare);
        return vec![format!(
            "no CPUs are isolated: for the least jitter, boot with isolcpus={list} \
             nohz_full={list} rcu_nocbs={list} (the first core stays with the system) \
             and run with --cores {list}"
        )];
    }
    let ticking: Vec<usize> = t
        .isolated
        .iter()
        .copied()
        .filter(|cpu| !t.nohz_full.contains(cpu))
        .collect();
    if ticking.is_empty() {
        return Vec::new();
    }
    let list = format_cpu_list(&ticking);
    vec![format!(
        "isolated CPUs {list} still take the scheduler tick: add nohz_full={list} to the kernel command line"
    )]
}

/// Shards sharing CPUs or cores, the merger sharing a CPU, shards spread
/// over NUMA nodes.
fn placement_advice(t: &Topology, plan: &CorePlan) -> Vec<String> {
    let shards = plan.shards.len();
    let mut distinct = plan.shards.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let cores = physical_core_count(t, &plan.shards);
    let mut advice = Vec::new();
    if distinct.len() < shards {
        advice.push(format!(
            "{shards} shards on {} CPUs: shards take turns on the same CPU; \
             use at most --shards {}",
            distinct.len(),
            distinct.len()
        ));
    } else if cores < shards {
        advice.push(format!(
            "{shards} shards on {cores} physical cores: some shards share a core with an SMT \
             sibling (about half a core each)"
        ));
    }
    if let MergerSeat::SharedWith(shard) = plan.merger_seat {
        if shards > 1 {
            advice.push(format!(
                "the merger shares CPU {} with shard {shard}: with --shards {} it gets a CPU of its own",
                plan.merger,
                shards - 1
            ));
        }
    }
    let mut nodes: Vec<usize> = plan.shards.iter().filter_map(|&c| t.node_of(c)).collect();
    nodes.sort_unstable();
    nodes.dedup();
    if nodes.len() > 1 {
        advice.push(format!(
            "the shards span NUMA nodes {}: they do not fit on one node's physical cores",
            format_cpu_list(&nodes)
        ));
    }
    advice
}

/// The command line doctor suggests: the isolated CPUs when there are some,
/// one shard per physical core but one (the merger's), plain threads when
/// glommio cannot run.
fn recommended(
    topology: &Topology,
    config: &RuntimeConfig,
    shards_given: bool,
    runtime: ExecutorKind,
) -> String {
    let isolated = topology.online_among(&topology.isolated);
    let cores = config
        .cores
        .clone()
        .or_else(|| (!isolated.is_empty()).then_some(isolated));
    let shards = if shards_given {
        config.shards
    } else {
        let usable = candidate_cpus(topology, cores.as_deref());
        physical_core_count(topology, &usable)
            .saturating_sub(1)
            .max(1)
    };
    let mut command = format!("corestream run --shards {shards}");
    if let Some(cores) = cores {
        let _ = write!(command, " --cores {}", format_cpu_list(&cores));
    }
    if runtime == ExecutorKind::Threads {
        command.push_str(" --runtime threads");
    }
    command.push_str(" QUERY.sql");
    command
}

fn placement_block(
    topology: &Topology,
    shards: usize,
    pin: bool,
    plan: Option<&CorePlan>,
) -> String {
    let mut s = format!("placement of {shards} shard(s)\n");
    let Some(plan) = plan else {
        let why = if pin { "no CPU is known" } else { "--no-pin" };
        line(&mut s, "all", &format!("not pinned ({why})"));
        return s;
    };
    for (shard, &cpu) in plan.shards.iter().enumerate() {
        line(
            &mut s,
            &format!("shard {shard}"),
            &describe_cpu(topology, cpu),
        );
    }
    let seat = match plan.merger_seat {
        MergerSeat::SpareCore => "a core of its own".to_string(),
        MergerSeat::SiblingOf(shard) => format!("SMT sibling of shard {shard}"),
        MergerSeat::SharedWith(shard) => format!("shared with shard {shard}: no CPU left"),
    };
    line(
        &mut s,
        "merger",
        &format!("{}, {seat}", describe_cpu(topology, plan.merger)),
    );
    s
}

/// `CPU 4 (package 0, core 0, node 0)`, with what the topology knows.
fn describe_cpu(topology: &Topology, id: usize) -> String {
    let Some(cpu) = topology.cpu(id) else {
        return if topology.cpus.is_empty() {
            format!("CPU {id}")
        } else {
            format!("CPU {id} (not online)")
        };
    };
    let parts: Vec<String> = [
        ("package", cpu.package_id),
        ("core", cpu.core_id),
        ("node", cpu.node),
    ]
    .iter()
    .filter_map(|(name, value)| value.map(|v| format!("{name} {v}")))
    .collect();
    if parts.is_empty() {
        format!("CPU {id}")
    } else {
        format!("CPU {id} ({})", parts.join(", "))
    }
}
