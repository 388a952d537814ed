//! Can glommio run on this host? Before any executor starts: a tiny io_uring
//! is set up and closed again (its error says what blocks io_uring), and the
//! locked-memory limit is checked against what the run's executors need.
//! From that, the choice between the glommio runtime and plain threads, with
//! a message that names the cause and the fix.

use std::os::fd::{FromRawFd, OwnedFd};

use serde::Serialize;

pub use super::exec::ExecutorKind;
use super::startup::{IO_MEMORY_BYTES, RING_DEPTH};
use crate::error::{Error, Result};

/// glommio refuses to start an executor when RLIMIT_MEMLOCK is below this.
pub const GLOMMIO_MIN_MEMLOCK: u64 = 512 * 1024;
/// Each glommio executor has a main, a latency and a poll ring, and registers
/// its io memory with each of them.
const RINGS_PER_EXECUTOR: u64 = 3;
const PAGE_BYTES: u64 = 4096;
const SQE_BYTES: u64 = 64;
const CQE_BYTES: u64 = 16;
/// The ring header before the completion entries (an upper bound).
const RING_HEADER_BYTES: u64 = 512;

/// Why io_uring cannot be used, from `io_uring_setup`'s error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IoUringBlock {
    /// ENOSYS: no io_uring in this kernel, or a seccomp filter hides it.
    Missing,
    /// EPERM with `kernel.io_uring_disabled` at this value (1 or 2).
    DisabledBySysctl(u8),
    /// EPERM or EACCES otherwise: seccomp or a security module.
    Denied,
    /// ENOMEM or EAGAIN: no locked memory left for a ring.
    NoLockedMemory,
    /// Any other error number.
    Failed(i32),
}

/// Classifies `io_uring_setup`'s `errno`, given the value of
/// `/proc/sys/kernel/io_uring_disabled` when the kernel has that file.
pub fn classify_setup_error(errno: i32, io_uring_disabled: Option<u8>) -> IoUringBlock {
    match errno {
        libc::ENOSYS => IoUringBlock::Missing,
        libc::EPERM | libc::EACCES => match io_uring_disabled {
            Some(value) if value > 0 => IoUringBlock::DisabledBySysctl(value),
            _ => IoUringBlock::Denied,
        },
        libc::ENOMEM | libc::EAGAIN => IoUringBlock::NoLockedMemory,
        other => IoUringBlock::Failed(other),
    }
}

/// Sets up a one-entry io_uring and closes it: `Ok` when io_uring works here.
pub fn probe_io_uring() -> Result<(), IoUringBlock> {
    // struct io_uring_params: 120 bytes, all zero (no flags, no features asked).
    let mut params = [0u64; 15];
    // SAFETY: io_uring_setup reads and writes exactly sizeof(struct
    // io_uring_params) = 120 bytes at `params`, which owns that many.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 1u32, params.as_mut_ptr()) };
    if fd < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return Err(classify_setup_error(errno, io_uring_disabled_sysctl()));
    }
    // SAFETY: a successful io_uring_setup returns a new descriptor we own.
    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    Ok(())
}

fn io_uring_disabled_sysctl() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The locked-memory limit against what a run's glommio executors lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockedMemory {
    /// RLIMIT_MEMLOCK (soft) in bytes; `None`: unlimited.
    pub limit: Option<u64>,
    /// Executors of the run: the shards and the merger.
    pub executors: usize,
}

/// How the locked-memory limit compares with what the executors need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemlockVerdict {
    Enough,
    /// glommio starts, but skips registering its io buffers (corestream does
    /// no storage I/O through them) and, on kernels before 5.12, which count
    /// rings as locked memory, executors may fail to start.
    BelowWanted,
    /// glommio refuses to start.
    BelowMinimum,
}

impl LockedMemory {
    /// This process's limit, for `executors` executors.
    pub fn of_this_process(executors: usize) -> Self {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit into `limit`.
        let known = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } == 0;
        LockedMemory {
            limit: (known && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur),
            executors,
        }
    }

    /// What glommio needs to start at all (whatever the executor count).
    pub fn minimum(&self) -> u64 {
        GLOMMIO_MIN_MEMLOCK
    }

    /// What the executors' rings and registered io buffers lock in all.
    pub fn wanted(&self) -> u64 {
        self.executors as u64 * executor_locked_bytes()
    }

    pub fn verdict(&self) -> MemlockVerdict {
        match self.limit {
            Some(limit) if limit < self.minimum() => MemlockVerdict::BelowMinimum,
            Some(limit) if limit < self.wanted() => MemlockVerdict::BelowWanted,
            _ => MemlockVerdict::Enough,
        }
    }
}

/// Locked memory of one executor: its io memory registered with each ring,
/// plus the rings themselves.
fn executor_locked_bytes() -> u64 {
    RINGS_PER_EXECUTOR * (IO_MEMORY_BYTES as u64 + ring_bytes(RING_DEPTH as u64))
}

/// The memory of a ring of `depth` submission entries (twice as many
/// completion entries), in whole pages.
fn ring_bytes(depth: u64) -> u64 {
    let pages = |bytes: u64| bytes.div_ceil(PAGE_BYTES) * PAGE_BYTES;
    pages(depth * SQE_BYTES) + pages(RING_HEADER_BYTES + depth * (2 * CQE_BYTES + 4))
}

/// What keeps glommio from running here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlommioBlocker {
    IoUring(IoUringBlock),
    /// The limit, glommio's minimum, and what the run's executors lock.
    LockedMemory {
        limit: u64,
        minimum: u64,
        wanted: u64,
    },
}

impl GlommioBlocker {
    /// What is wrong, in a phrase.
    pub fn cause(&self) -> String {
        match *self {
            GlommioBlocker::IoUring(IoUringBlock::Missing) => {
                "io_uring is not available (ENOSYS): the kernel is too old or built without \
                 it, or a seccomp profile hides it"
                    .into()
            }
            GlommioBlocker::IoUring(IoUringBlock::DisabledBySysctl(value)) => {
                format!("io_uring is disabled by sysctl kernel.io_uring_disabled={value}")
            }
            GlommioBlocker::IoUring(IoUringBlock::Denied) => {
                "io_uring is blocked (EPERM): a seccomp profile (Docker's and many Kubernetes \
                 defaults) or a security module denies it"
                    .into()
            }
            GlommioBlocker::IoUring(IoUringBlock::NoLockedMemory) => {
                "io_uring could not lock memory for a ring (ENOMEM)".into()
            }
            GlommioBlocker::IoUring(IoUringBlock::Failed(errno)) => format!(
                "io_uring could not be set up: {}",
                std::io::Error::from_raw_os_error(errno)
            ),
            GlommioBlocker::LockedMemory { limit, minimum, .. } => format!(
                "the locked-memory limit is {} KiB and glommio needs at least {} KiB",
                limit / 1024,
                minimum / 1024
            ),
        }
    }

    /// What to change on the host to make glommio run.
    pub fn fix(&self) -> String {
        match *self {
            GlommioBlocker::IoUring(IoUringBlock::Missing) => {
                "run on Linux 5.8 or later with io_uring, and allow io_uring_setup, \
                 io_uring_enter and io_uring_register in the seccomp profile"
                    .into()
            }
            GlommioBlocker::IoUring(IoUringBlock::DisabledBySysctl(_)) => {
                "set sysctl kernel.io_uring_disabled=0 (with 1, members of \
                 kernel.io_uring_group may use it)"
                    .into()
            }
            GlommioBlocker::IoUring(IoUringBlock::Denied) => {
                "in a container, run with --security-opt seccomp=unconfined or a profile that \
                 allows io_uring_setup, io_uring_enter and io_uring_register"
                    .into()
            }
            GlommioBlocker::IoUring(IoUringBlock::NoLockedMemory) => raise_memlock("ulimit -l"),
            GlommioBlocker::LockedMemory { wanted, .. } => {
                raise_memlock(&format!("ulimit -l {}", wanted.div_ceil(1024)))
            }
            GlommioBlocker::IoUring(IoUringBlock::Failed(_)) => {
                "check that the kernel supports io_uring (glommio needs Linux 5.8+)".into()
            }
        }
    }
}

fn raise_memlock(ulimit: &str) -> String {
    format!(
        "raise the locked-memory limit ({ulimit}, LimitMEMLOCK= under systemd, \
         --ulimit memlock= in Docker)"
    )
}

/// What the probe found: io_uring and the locked-memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// `Ok`: io_uring works.
    pub io_uring: Result<(), IoUringBlock>,
    pub locked_memory: LockedMemory,
}

impl Readiness {
    /// Probes this host for a run of `executors` executors (shards + merger).
    pub fn of_this_host(executors: usize) -> Self {
        Readiness {
            io_uring: probe_io_uring(),
            locked_memory: LockedMemory::of_this_process(executors),
        }
    }

    /// What keeps glommio from starting, if anything.
    pub fn blocker(&self) -> Option<GlommioBlocker> {
        if let Err(block) = self.io_uring {
            return Some(GlommioBlocker::IoUring(block));
        }
        match (self.locked_memory.verdict(), self.locked_memory.limit) {
            (MemlockVerdict::BelowMinimum, Some(limit)) => Some(GlommioBlocker::LockedMemory {
                limit,
                minimum: self.locked_memory.minimum(),
                wanted: self.locked_memory.wanted(),
            }),
            _ => None,
        }
    }
}

/// The runtime a user asks for with `--runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeRequest {
    /// glommio when the probe passes, plain threads otherwise.
    Auto,
    /// glommio or an error.
    Glommio,
    Threads,
}

/// The runtime a run uses, with the one-line notice to print when it fell
/// back to threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeChoice {
    pub kind: ExecutorKind,
    pub notice: Option<String>,
}

/// Chooses the runtime for `request` given what the probe found; insisting on
/// glommio where it cannot run is an error naming the cause and the fix.
pub fn choose_runtime(request: RuntimeRequest, readiness: &Readiness) -> Result<RuntimeChoice> {
    let blocker = readiness.blocker();
    match (request, blocker) {
        (RuntimeRequest::Threads, _) => Ok(RuntimeChoice {
            kind: ExecutorKind::Threads,
            notice: None,
        }),
        (_, None) => Ok(RuntimeChoice {
            kind: ExecutorKind::Glommio,
            notice: None,
        }),
        (RuntimeRequest::Auto, Some(blocker)) => Ok(RuntimeChoice {
            kind: ExecutorKind::Threads,
            notice: Some(format!(
                "{}; running on plain threads (--runtime threads). \
                 For glommio: {}.",
                blocker.cause(),
                blocker.fix()
            )),
        }),
        (RuntimeRequest::Glommio, Some(blocker)) => Err(Error::Runtime(format!(
            "cannot use the glommio runtime: {}: {}; or run on plain threads with \
             --runtime threads",
            blocker.cause(),
            blocker.fix()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(io_uring: Result<(), IoUringBlock>, limit_kib: Option<u64>) -> Readiness {
        Readiness {
            io_uring,
            locked_memory: LockedMemory {
                limit: limit_kib.map(|kib| kib * 1024),
                executors: 3,
            },
        }
    }

    #[test]
    fn setup_errors_are_classified_by_errno_and_sysctl() {
        use IoUringBlock::*;
        assert_eq!(classify_setup_error(libc::ENOSYS, None), Missing);
        assert_eq!(
            classify_setup_error(libc::EPERM, Some(2)),
            DisabledBySysctl(2)
        );
        assert_eq!(
            classify_setup_error(libc::EPERM, Some(1)),
            DisabledBySysctl(1)
        );
        assert_eq!(classify_setup_error(libc::EPERM, Some(0)), Denied);
        assert_eq!(classify_setup_error(libc::EACCES, None), Denied);
        assert_eq!(classify_setup_error(libc::ENOMEM, None), NoLockedMemory);
        assert_eq!(classify_setup_error(libc::EAGAIN, Some(0)), NoLockedMemory);
        assert_eq!(
            classify_setup_error(libc::EINVAL, None),
            Failed(libc::EINVAL)
        );
    }

    #[test]
    fn executors_lock_their_io_memory_once_per_ring_plus_the_rings() {
        // 32 entries: 2 KiB of submission entries and 1.6 KiB of completion
        // ring, one page each.
        assert_eq!(ring_bytes(32), 8192);
        assert_eq!(ring_bytes(256), 16384 + 12288);
        let per_executor = 3 * (256 * 1024 + 8192);
        let memory = |limit_kib: u64, executors: usize| LockedMemory {
            limit: Some(limit_kib * 1024),
            executors,
        };
        assert_eq!(memory(0, 9).wanted(), 9 * per_executor);
        // The default 8 MiB limit covers 8 shards and the merger, not 16.
        assert_eq!(memory(8192, 9).verdict(), MemlockVerdict::Enough);
        assert_eq!(memory(8192, 17).verdict(), MemlockVerdict::BelowWanted);
        assert_eq!(memory(511, 1).verdict(), MemlockVerdict::BelowMinimum);
        assert_eq!(memory(512, 1).verdict(), MemlockVerdict::BelowWanted);
        let unlimited = LockedMemory {
            limit: None,
            executors: 1000,
        };
        assert_eq!(unlimited.verdict(), MemlockVerdict::Enough);
    }

    #[test]
    fn glommio_is_chosen_where_it_can_run() {
        for request in [RuntimeRequest::Auto, RuntimeRequest::Glommio] {
            let choice = choose_runtime(request, &ready(Ok(()), Some(8192))).expect("choice");
            assert_eq!(choice.kind, ExecutorKind::Glommio);
            assert_eq!(choice.notice, None);
        }
        // Too little for io buffers is not a reason to leave glommio.
        let choice = choose_runtime(RuntimeRequest::Auto, &ready(Ok(()), Some(1024)));
        assert_eq!(choice.map(|c| c.kind).ok(), Some(ExecutorKind::Glommio));
        let choice = choose_runtime(RuntimeRequest::Threads, &ready(Ok(()), None));
        assert_eq!(choice.map(|c| c.kind).ok(), Some(ExecutorKind::Threads));
    }

    #[test]
    fn auto_falls_back_to_threads_with_a_one_line_notice_naming_cause_and_fix() {
        let blocked = ready(Err(IoUringBlock::Denied), Some(8192));
        let choice = choose_runtime(RuntimeRequest::Auto, &blocked).expect("choice");
        assert_eq!(choice.kind, ExecutorKind::Threads);
        let notice = choice.notice.expect("a notice");
        assert!(!notice.contains('\n'), "{notice}");
        for part in ["EPERM", "seccomp=unconfined", "--runtime threads"] {
            assert!(notice.contains(part), "{part} missing: {notice}");
        }
    }

    #[test]
    fn insisting_on_glommio_where_it_cannot_run_names_cause_fix_and_threads() {
        let cases = [
            (ready(Err(IoUringBlock::Missing), None), "Linux 5.8"),
            (
                ready(Err(IoUringBlock::DisabledBySysctl(2)), None),
                "kernel.io_uring_disabled=0",
            ),
            (ready(Err(IoUringBlock::NoLockedMemory), None), "ulimit -l"),
            (
                ready(Err(IoUringBlock::Failed(libc::EINVAL)), None),
                "Invalid argument",
            ),
            (ready(Ok(()), Some(64)), "the locked-memory limit is 64 KiB"),
            (ready(Ok(()), Some(64)), "ulimit -l 2376"),
        ];
        for (readiness, expected) in cases {
            let error = choose_runtime(RuntimeRequest::Glommio, &readiness)
                .expect_err("glommio cannot run");
            let text = error.to_string();
            assert_eq!(error.exit_code(), 1);
            assert!(text.contains(expected), "{expected} missing: {text}");
            assert!(text.contains("--runtime threads"), "{text}");
        }
    }

    #[test]
    fn the_probe_agrees_with_glommio_starting_an_executor_here() {
        let started = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(|| async {})
            .and_then(|executor| executor.join());
        assert_eq!(probe_io_uring().is_ok(), started.is_ok(), "{started:?}");
    }

    #[test]
    fn this_host_reports_the_locked_memory_limit_proc_shows() {
        let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
        let soft = limits
            .lines()
            .find_map(|line| line.strip_prefix("Max locked memory"))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("a locked-memory line");
        let memory = LockedMemory::of_this_process(2);
        assert_eq!(memory.limit, soft.parse().ok(), "/proc says {soft}");
        assert_eq!(memory.executors, 2);
    }
}
