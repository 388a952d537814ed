//! Helpers the binary's end-to-end test files share: running `corestream`,
//! reading what it printed, and limiting its locked memory.
#![allow(dead_code)] // each test file uses a different part

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

/// `corestream` run from the repository root.
pub fn corestream() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_corestream"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

pub fn run(args: &[&str]) -> Output {
    corestream().args(args).output().expect("run corestream")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        stderr(o)
    );
}

/// Explains `script` and checks the plan's text holds each of `lines`.
pub fn assert_explains(script: &str, lines: &[&str]) {
    let o = run(&["explain", "-e", script]);
    assert_success(&o);
    let text = stdout(&o);
    for line in lines {
        assert!(text.contains(line), "{line}\n{text}");
    }
}

/// Runs `script` and checks it is refused as bad SQL (exit 2) with a
/// message holding `fragment`.
pub fn assert_refused(script: &str, fragment: &str) {
    let o = run(&["run", "-q", "-e", script]);
    assert_eq!(o.status.code(), Some(2), "{script}: {}", stderr(&o));
    assert!(stderr(&o).contains(fragment), "{script}: {}", stderr(&o));
}

/// Runs `command` under an RLIMIT_MEMLOCK of `limit_kib` KiB.
pub fn output_with_memlock_limit(command: &mut Command, limit_kib: u64) -> Output {
    let bytes = limit_kib * 1024;
    // SAFETY: setrlimit is async-signal-safe and only touches the child's limits.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().expect("run corestream")
}

/// Sends `signal` to the child process `pid`.
pub fn send_signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill has no memory effects; pid is our own child.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill");
}

/// What `with` prints with each set of options that must not change a
/// query's output: 1 to 4 shards, tiny chunks, and the shared-lock runtime.
/// Asserts they all agree; the output.
pub fn same_everywhere(what: &str, with: impl Fn(&[&str]) -> String) -> String {
    let first = with(&["--shards", "1"]);
    for extra in [
        &["--shards", "2"][..],
        &["--shards", "3", "--chunk-bytes", "64"],
        &["--shards", "4", "--chunk-bytes", "200"],
        &["--runtime", "shared-lock", "--shards", "2"],
    ] {
        assert_eq!(with(extra), first, "{what} with {extra:?}");
    }
    first
}
