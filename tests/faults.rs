//! Faults around a run, through the binary: outputs that fail (a full disk,
//! a file-size limit, a reader that goes away, a reader that stops reading)
//! and interrupts while a run waits (a paced generator, a blocked sink). A
//! run must end promptly with a clear error or its interrupt status, and
//! leave output that ends at a whole row.
//!
//! Time bounds are generous (the promise is 100 ms) so a busy machine cannot
//! make them flake; the tests print what they measured.

mod common;

use common::{corestream, stderr};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BACKENDS: [&str; 2] = ["glommio", "threads"];

/// `SELECT` over an effectively endless generator (100M events; `rate` per
/// second if given) with `shards` shards on `backend`.
fn endless(shards: usize, backend: &str, rate: Option<&str>) -> Command {
    let mut command = corestream();
    command.args(["run", "-q", "-e", "SELECT symbol, price, ts FROM trades"]);
    command.args(["--source", "trades=generator:trades"]);
    command.args(["--source-option", "trades.events=100000000"]);
    if let Some(rate) = rate {
        command.args(["--source-option", &format!("trades.rate={rate}")]);
    }
    command.args(["--shards", &shards.to_string(), "--runtime", backend]);
    command
}

fn send_signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill has no memory effects; pid is our own child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill");
}

/// Waits for `child` at most `limit`; its exit code and how long it took.
fn wait_within(child: &mut std::process::Child, limit: Duration) -> (Option<i32>, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status.code(), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} later");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What `child` wrote to its piped standard error.
fn stderr_of(child: &mut std::process::Child) -> String {
    let mut err = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut err).expect("read standard error");
    }
    err
}

fn is_whole_json_lines(text: &str) -> bool {
    text.is_empty()
        || (text.ends_with('\n')
            && text
                .lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()))
}

#[test]
fn a_full_disk_ends_the_run_with_the_path_and_the_os_error() {
    for backend in BACKENDS {
        for shards in [1, 3] {
            let mut child = endless(shards, backend, None)
                .args(["--output", "/dev/full"])
                .stderr(Stdio::piped())
                .spawn()
                .expect("start");
            let (code, took) = wait_within(&mut child, Duration::from_secs(10));
            let err = stderr_of(&mut child);
            assert_eq!(code, Some(1), "{backend} {shards}: {err}");
            assert!(err.contains("/dev/full: No space left on device"), "{err}");
            eprintln!("{backend}, {shards} shards: ended {took:?} after start on ENOSPC");
        }
    }
}

/// The file-size limit of the files `command` writes, as `ulimit -f` sets
/// it (SIGXFSZ keeps its default action, which would end the process mid-row).
fn limit_file_size(command: &mut Command, bytes: u64) {
    // SAFETY: setrlimit is async-signal-safe and only changes the child.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// What a write cut short by a 100,000-byte file limit left in `path`:
/// most of the limit, in whole JSON lines.
fn assert_cut_back_to_whole_lines(path: &std::path::Path, what: &str) {
    let text = std::fs::read_to_string(path).expect("output");
    assert!(
        text.len() > 50_000 && text.len() <= 100_000,
        "{what}: {} bytes",
        text.len()
    );
    assert!(is_whole_json_lines(&text), "{what}: the file ends mid-line");
}

/// A file-size limit (RLIMIT_FSIZE) makes writes fail part-way, like a disk
/// filling up: the output file is cut back to its last whole row.
#[test]
fn a_write_that_fails_part_way_leaves_the_file_at_a_whole_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    for backend in BACKENDS {
        let out = dir.path().join(format!("out-{backend}.jsonl"));
        let mut command = endless(2, backend, None);
        command.args(["--output", out.to_str().expect("utf-8")]);
        limit_file_size(&mut command, 100_000);
        let o = command.output().expect("run");
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("File too large"), "{}", stderr(&o));
        assert_cut_back_to_whole_lines(&out, backend);
    }
}

/// The dead-letter file is an output like the others: a write to it that
/// fails part-way leaves it at its last whole line.
#[test]
fn a_dead_letter_write_that_fails_part_way_leaves_whole_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("malformed.csv");
    let mut text = String::from("symbol,price\n");
    for i in 0..20_000 {
        text.push_str(&format!("S{i},not a number\n"));
    }
    std::fs::write(&input, text).expect("write input");
    for backend in BACKENDS {
        let dead = dir.path().join(format!("dead-{backend}.jsonl"));
        let mut command = corestream();
        command.args(["run", "-q", "--format", "blackhole", "--runtime", backend]);
        command.args([
            "-e",
            "CREATE TABLE t (symbol VARCHAR, price DOUBLE) WITH ('format' = 'csv'); \
             SELECT symbol FROM t",
        ]);
        command.args(["--source", &format!("t={}", input.display())]);
        command.args(["--dead-letter", dead.to_str().expect("utf-8")]);
        limit_file_size(&mut command, 100_000);
        let o = command.output().expect("run");
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("File too large"), "{}", stderr(&o));
        assert_cut_back_to_whole_lines(&dead, backend);
    }
}

/// `corestream ... | head -1`: once the reader is gone every shard stops.
#[test]
fn a_closed_pipe_ends_the_run_promptly_at_any_shard_count() {
    for backend in BACKENDS {
        for shards in [1, 2, 4] {
            let mut child = endless(shards, backend, None)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start");
            let mut stdout = child.stdout.take().expect("stdout");
            let mut first = [0u8; 64];
            stdout.read_exact(&mut first).expect("some output");
            drop(stdout);
            let (code, took) = wait_within(&mut child, Duration::from_secs(5));
            let err = stderr_of(&mut child);
            assert_eq!(code, Some(1), "{backend} {shards}: {err}");
            assert!(err.contains("<stdout>: Broken pipe"), "{err}");
            eprintln!("{backend}, {shards} shards: ended {took:?} after the reader left");
        }
    }
}

/// SIGTERM while the only source waits for its next paced event (one every
/// 10 s): the wait gives way at once.
#[test]
fn an_interrupt_ends_a_paced_generator_waiting_for_its_next_event() {
    for backend in BACKENDS {
        let mut child = endless(2, backend, Some("0.1"))
            .stdout(Stdio::null())
            .spawn()
            .expect("start");
        std::thread::sleep(Duration::from_millis(500));
        send_signal(child.id(), libc::SIGTERM);
        let (code, took) = wait_within(&mut child, Duration::from_secs(5));
        assert_eq!(code, Some(143), "{backend}");
        assert!(took < Duration::from_secs(3), "{backend}: took {took:?}");
        eprintln!("{backend}: stopped {took:?} after SIGTERM while pacing");
    }
}

/// SIGTERM while the sink waits on a reader that has stopped reading (and
/// does not read again until the run has ended): the run ends promptly and
/// what the reader gets ends at a whole row.
#[test]
fn an_interrupt_ends_a_run_blocked_on_a_reader_that_stopped_reading() {
    for backend in BACKENDS {
        // Small chunks, so that output flows early even on a slow machine.
        let mut child = endless(2, backend, None)
            .args(["--chunk-events", "1000"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start");
        // Nobody reads: the pipe fills and the merger's writes wait.
        std::thread::sleep(Duration::from_millis(1500));
        send_signal(child.id(), libc::SIGTERM);
        let (code, took) = wait_within(&mut child, Duration::from_secs(5));
        assert_eq!(code, Some(143), "{backend}");
        assert!(took < Duration::from_secs(3), "{backend}: took {took:?}");
        let mut text = String::new();
        let mut stdout = child.stdout.take().expect("stdout");
        stdout.read_to_string(&mut text).expect("read");
        assert!(
            !text.is_empty() && is_whole_json_lines(&text),
            "{backend}: {} bytes, ends {:?}",
            text.len(),
            &text[text.len().saturating_sub(80)..]
        );
        eprintln!("{backend}: stopped {took:?} after SIGTERM with a blocked sink");
    }
}

/// Runs `args` with io_uring_setup refused (EPERM) by a seccomp filter, as
/// Docker's default profile and many Kubernetes nodes do.
fn run_without_io_uring(args: &[&str]) -> std::process::Output {
    let mut command = corestream();
    command.args(args);
    // SAFETY: prctl only changes the child about to exec; the filter program
    // lives until exec (the kernel copies it when installed).
    unsafe {
        command.pre_exec(|| {
            const IO_URING_SETUP: u32 = 425;
            let filter = [
                // Load the syscall number (offset 0 of seccomp_data).
                libc::BPF_STMT((libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16, 0),
                libc::BPF_JUMP(
                    (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                    IO_URING_SETUP,
                    0,
                    1,
                ),
                libc::BPF_STMT(
                    (libc::BPF_RET | libc::BPF_K) as u16,
                    libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
                ),
                libc::BPF_STMT(
                    (libc::BPF_RET | libc::BPF_K) as u16,
                    libc::SECCOMP_RET_ALLOW,
                ),
            ];
            let program = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().expect("run corestream")
}

#[test]
fn where_io_uring_is_blocked_runs_use_plain_threads_and_glommio_is_refused_clearly() {
    let query = [
        "run",
        "-q",
        "-e",
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL",
        "--source",
        "trades=tests/data/trades.csv",
        "--shards",
        "2",
    ];
    let normal = corestream().args(query).output().expect("run");
    assert!(normal.status.success());
    let fallback = run_without_io_uring(&query);
    assert!(fallback.status.success(), "{}", stderr(&fallback));
    assert_eq!(fallback.stdout, normal.stdout);
    let notice = stderr(&fallback);
    assert!(
        notice.contains("io_uring") && notice.contains("--runtime threads"),
        "{notice}"
    );
    let refused = run_without_io_uring(&[&query[..], &["--runtime", "glommio"]].concat());
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("seccomp") && message.contains("--runtime threads"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert!(refused.stdout.is_empty());
}

/// GROUP BY over ever more distinct keys under `--max-state-bytes`: the run
/// ends with exit 1 and a message naming the query's state, on every runtime.
#[test]
fn state_over_max_state_bytes_ends_the_run_naming_the_state() {
    let args = |runtime: &str, limit: &str| {
        let o = corestream()
            .args(["run", "-q", "--format", "blackhole", "-e"])
            .arg("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL")
            .args(["--source", "trades=generator:trades"])
            .args(["--source-option", "trades.events=400000"])
            .args(["--source-option", "trades.keys=400000"])
            .args([
                "--shards",
                "2",
                "--runtime",
                runtime,
                "--max-state-bytes",
                limit,
            ])
            .output()
            .expect("run");
        (o.status.code(), stderr(&o))
    };
    for runtime in ["glommio", "threads", "shared-lock"] {
        let (code, err) = args(runtime, "8MiB");
        assert_eq!(code, Some(1), "{runtime}: {err}");
        assert!(
            err.contains("over --max-state-bytes 8388608 (8.0 MiB)"),
            "{runtime}: {err}"
        );
        assert!(
            err.contains("the query's state (GROUP BY symbol)"),
            "{runtime}: {err}"
        );
        assert!(!err.contains("panicked"), "{runtime}: {err}");
    }
    let (code, err) = args("glommio", "4GiB");
    assert_eq!(code, Some(0), "{err}");
}
