//! `corestream doctor` and `explain --placement`: on this machine, against
//! the fake sysfs trees under tests/data/sysfs, and under a locked-memory
//! limit too small for glommio.

mod common;

use common::{assert_success, corestream, output_with_memlock_limit, run, stderr, stdout};

/// The report's text for the fixture tree `name`.
fn doctor_text(name: &str, extra: &[&str]) -> String {
    let root = format!("tests/data/sysfs/{name}");
    let mut args = vec!["doctor", "--sysfs-root", &root];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_success(&o);
    stdout(&o)
}

fn doctor_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert_success(&o);
    serde_json::from_str(&stdout(&o)).expect("doctor --json prints JSON")
}

/// The placement block's lines, whitespace collapsed: `shard 0 CPU 0 (...)`.
fn placement_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|line| !line.starts_with("placement of"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn doctor_on_this_machine_reports_every_fact_and_exits_0() {
    let o = run(&["doctor", "--shards", "2"]);
    assert_success(&o);
    let text = stdout(&o);
    for label in [
        "io_uring",
        "a run uses",
        "locked memory",
        "online",
        "isolated",
        "nohz_full",
        "SMT siblings",
        "NUMA nodes",
        "governor",
        "placement of 2 shard(s)",
        "shard 1",
        "merger",
        "advice",
        "recommended",
        "corestream run --shards 2",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    let io_uring_works = corestream::runtime::probe::probe_io_uring().is_ok();
    let json = doctor_json(&["--shards", "2"]);
    assert_eq!(json["io_uring_available"], io_uring_works);
    assert_eq!(
        json["placement"]["shards"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(json["locked_memory"]["executors"], 3);
}

#[test]
fn smt_pairs_give_shards_physical_cores_and_the_merger_a_sibling() {
    let text = doctor_text("smt4", &["--shards", "4"]);
    assert_eq!(
        placement_lines(&text),
        [
            "shard 0 CPU 0 (package 0, core 0, node 0)",
            "shard 1 CPU 1 (package 0, core 1, node 0)",
            "shard 2 CPU 2 (package 0, core 2, node 0)",
            "shard 3 CPU 3 (package 0, core 3, node 0)",
            "merger CPU 4 (package 0, core 0, node 0), SMT sibling of shard 0",
        ]
    );
    assert!(text.contains("SMT siblings      0,4 1,5 2,6 3,7"), "{text}");
    assert!(text.contains("'powersave' frequency governor"), "{text}");
}

#[test]
fn two_numa_nodes_keep_the_shards_on_one_node() {
    let text = doctor_text("numa2", &["--shards", "3"]);
    assert_eq!(
        placement_lines(&text),
        [
            "shard 0 CPU 0 (package 0, core 0, node 0)",
            "shard 1 CPU 1 (package 0, core 1, node 0)",
            "shard 2 CPU 2 (package 0, core 2, node 0)",
            "merger CPU 3 (package 0, core 3, node 0), a core of its own",
        ]
    );
    assert!(
        text.contains("node 0: 0-3,8-11; node 1: 4-7,12-15"),
        "{text}"
    );
    let spread = doctor_text("numa2", &["--shards", "6"]);
    assert!(
        spread.contains("the shards span NUMA nodes 0,1"),
        "{spread}"
    );
}

#[test]
fn isolated_cpus_are_left_alone_unless_listed_and_recommended() {
    let text = doctor_text("isolated", &["--shards", "2"]);
    assert_eq!(
        placement_lines(&text),
        [
            "shard 0 CPU 0 (package 0, core 0, node 0)",
            "shard 1 CPU 1 (package 0, core 1, node 0)",
            "merger CPU 2 (package 0, core 2, node 0), a core of its own",
        ]
    );
    assert!(text.contains("isolated          4-7"), "{text}");
    assert!(text.contains("--cores 4-7"), "{text}");
    let listed = doctor_text("isolated", &["--cores", "4-7"]);
    assert_eq!(
        placement_lines(&listed),
        [
            "shard 0 CPU 4 (package 0, core 4, node 0)",
            "shard 1 CPU 5 (package 0, core 5, node 0)",
            "shard 2 CPU 6 (package 0, core 6, node 0)",
            "shard 3 CPU 7 (package 0, core 7, node 0)",
            "merger CPU 4 (package 0, core 4, node 0), shared with shard 0: no CPU left",
        ]
    );
}

#[test]
fn fewer_cpus_than_shards_wrap_and_say_so() {
    let text = doctor_text("vm2", &["--shards", "3"]);
    let lines = placement_lines(&text);
    let cpus: Vec<&str> = lines
        .iter()
        .map(|line| line.split(" (").next().unwrap_or(""))
        .collect();
    assert_eq!(
        cpus,
        [
            "shard 0 CPU 0",
            "shard 1 CPU 1",
            "shard 2 CPU 0",
            "merger CPU 1"
        ]
    );
    assert!(text.contains("3 shards on 2 CPUs"), "{text}");
    assert!(text.contains("governor          unknown"), "{text}");
}

#[test]
fn json_placement_matches_the_fixture() {
    let json = doctor_json(&["--sysfs-root", "tests/data/sysfs/smt4", "--shards", "6"]);
    let placement = &json["placement"];
    assert_eq!(placement["shards"], serde_json::json!([0, 1, 2, 3, 4, 5]));
    assert_eq!(placement["merger"], 6);
    assert_eq!(
        placement["merger_seat"],
        serde_json::json!({"sibling_of": 2})
    );
    assert_eq!(json["smt_groups"].as_array().map(Vec::len), Some(4));
    assert_eq!(json["recommended"], "corestream run --shards 6 QUERY.sql");
}

#[test]
fn a_missing_tree_degrades_to_unknowns_and_leaves_executors_unpinned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_string_lossy().into_owned();
    let o = run(&["doctor", "--sysfs-root", &root, "--shards", "2"]);
    assert_success(&o);
    let text = stdout(&o);
    assert!(text.contains("online            unknown"), "{text}");
    assert!(text.contains("not pinned (no CPU is known)"), "{text}");
}

#[test]
fn bad_doctor_options_are_usage_errors() {
    for args in [
        &["doctor", "--shards", "0"][..],
        &["doctor", "--cores", "3-1"][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

/// `corestream ARGS` under an RLIMIT_MEMLOCK of `kib` KiB.
fn run_with_memlock_limit(kib: u64, args: &[&str]) -> std::process::Output {
    output_with_memlock_limit(corestream().args(args), kib)
}

#[test]
fn doctor_under_a_tiny_locked_memory_limit_names_the_cause_and_recommends_threads() {
    let o = run_with_memlock_limit(64, &["doctor", "--json", "--shards", "2"]);
    assert_success(&o);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(json["runtime"], "threads");
    assert_eq!(json["locked_memory"]["limit_bytes"], 64 * 1024);
    assert_eq!(json["locked_memory"]["verdict"], "below_minimum");
    let cause = json["glommio_blocked"]["cause"].as_str().unwrap_or("");
    assert!(cause.contains("locked-memory limit is 64 KiB"), "{json}");
    let recommended = json["recommended"].as_str().unwrap_or("");
    assert!(recommended.contains("--runtime threads"), "{recommended}");
}

#[test]
fn a_run_glommio_cannot_start_fails_before_touching_its_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "keep me\n").expect("write");
    let out_arg = out.to_string_lossy().into_owned();
    let o = run_with_memlock_limit(
        64,
        &[
            "run",
            "-e",
            "SELECT symbol FROM t",
            "--source",
            "t=tests/data/trades.csv",
            "--output",
            &out_arg,
            "--runtime",
            "glommio",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for part in [
        "locked-memory limit is 64 KiB",
        "ulimit -l",
        "--runtime threads",
    ] {
        assert!(err.contains(part), "{part} missing: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "keep me\n",
        "the output file was opened for writing"
    );
}

#[test]
fn explain_placement_shows_the_cores_the_run_uses() {
    let query = [
        "-e",
        "SELECT symbol FROM t",
        "--source",
        "t=tests/data/trades.csv",
        "--shards",
        "2",
    ];
    let mut explain = vec!["explain", "--placement"];
    explain.extend_from_slice(&query);
    let o = run(&explain);
    assert_success(&o);
    let lines = placement_lines(&stdout(&o));
    assert_eq!(lines.len(), 3, "{lines:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let stats_arg = stats.to_string_lossy().into_owned();
    let mut run_args = vec!["run", "-q", "--stats-json", &stats_arg];
    run_args.extend_from_slice(&query);
    assert_success(&run(&run_args));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats")).expect("JSON");
    for shard in 0..2 {
        let core = &summary["shards"][shard]["core"];
        let expected = format!("shard {shard} CPU {core} ");
        assert!(
            lines[shard].starts_with(&expected),
            "{expected} vs {lines:?}"
        );
    }
    let unpinned = run(&[
        "explain",
        "--no-pin",
        "-e",
        "SELECT symbol FROM t",
        "--source",
        "t=tests/data/trades.csv",
    ]);
    assert_success(&unpinned);
    assert!(stdout(&unpinned).contains("not pinned (--no-pin)"));
    let plain = run(&[
        "explain",
        "-e",
        "SELECT symbol FROM t",
        "--source",
        "t=tests/data/trades.csv",
    ]);
    assert_success(&plain);
    assert!(
        !stdout(&plain).contains("placement of"),
        "{}",
        stdout(&plain)
    );
}
