//! Starting executors: which core each one gets, glommio's builder settings
//! (small io memory so N+1 executors fit the default locked-memory limit),
//! and turning a failed start into an error that says what to change.

use glommio::{GlommioError, LocalExecutorBuilder, Placement};

use super::placement::plan_cores;
use super::topology::Topology;
use super::RuntimeConfig;
use crate::error::Error;

/// io_uring registered-buffer memory per executor. The runtime does no
/// storage I/O through glommio, so a little is enough, and N+1 executors stay
/// well under the default 8 MiB RLIMIT_MEMLOCK.
pub(super) const IO_MEMORY_BYTES: usize = 256 * 1024;
/// Entries per io_uring ring (each executor has three rings).
pub(super) const RING_DEPTH: usize = 32;

/// Where each executor runs: shards `0..shards`, then the merger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placements {
    pub shards: Vec<Option<usize>>,
    pub merger: Option<usize>,
}

/// Chooses cores from this host's topology (see [`super::placement`]); no
/// core at all when not pinning.
pub(crate) fn choose_placements(config: &RuntimeConfig) -> Placements {
    let plan = config
        .pin
        .then(|| plan_cores(&Topology::of_this_host(), config))
        .flatten();
    match plan {
        Some(plan) => Placements {
            shards: plan.shards.into_iter().map(Some).collect(),
            merger: Some(plan.merger),
        },
        None => Placements {
            shards: vec![None; config.shards],
            merger: None,
        },
    }
}

/// A glommio builder for one executor.
pub(crate) fn executor_builder(name: &str, core: Option<usize>) -> LocalExecutorBuilder {
    let placement = match core {
        Some(core) => Placement::Fixed(core),
        None => Placement::Unbound,
    };
    LocalExecutorBuilder::new(placement)
        .name(name)
        .io_memory(IO_MEMORY_BYTES)
        .ring_depth(RING_DEPTH)
}

/// The facts about a failed executor start that decide the advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartFailure {
    /// glommio's own check: RLIMIT_MEMLOCK below what it needs.
    MemlockLimit {
        limit: u64,
        needed: u64,
    },
    /// An OS error code (from io_uring_setup or registration).
    Os(i32),
    /// A core that does not exist (or is not allowed).
    BadCore,
    /// The executor's code panicked (a bug, not a start failure).
    Panicked,
    Other,
}

pub(crate) fn classify_glommio_error<T>(error: &GlommioError<T>) -> StartFailure {
    use glommio::BuilderErrorKind;
    match error {
        GlommioError::ReactorError(glommio::ReactorErrorKind::MemLockLimit(limit, needed)) => {
            StartFailure::MemlockLimit {
                limit: *limit,
                needed: *needed,
            }
        }
        GlommioError::IoError(e) | GlommioError::EnhancedIoError { source: e, .. } => {
            classify_io_error(e)
        }
        GlommioError::BuilderError(BuilderErrorKind::ThreadPanic(_)) => StartFailure::Panicked,
        GlommioError::BuilderError(_) => StartFailure::BadCore,
        _ => StartFailure::Other,
    }
}

/// An executor thread's start error arrives as an `io::Error` (glommio
/// converts on the way out of the thread): by OS code when it kept one, else
/// by glommio's text for the memlock check, else by kind.
pub(crate) fn classify_io_error(error: &std::io::Error) -> StartFailure {
    use std::io::ErrorKind;
    if let Some(code) = error.raw_os_error() {
        return StartFailure::Os(code);
    }
    let text = error.to_string();
    if let Some(failure) = parse_memlock_text(&text) {
        return failure;
    }
    match error.kind() {
        ErrorKind::PermissionDenied => StartFailure::Os(EPERM),
        ErrorKind::Unsupported => StartFailure::Os(ENOSYS),
        ErrorKind::OutOfMemory => StartFailure::Os(ENOMEM),
        _ if text.contains("panicked") => StartFailure::Panicked,
        _ => StartFailure::Other,
    }
}

/// glommio's `MemLockLimit(limit/needed)` text.
fn parse_memlock_text(text: &str) -> Option<StartFailure> {
    let rest = &text[text.find("MemLockLimit(")? + "MemLockLimit(".len()..];
    let (limit, rest) = rest.split_once('/')?;
    let needed = rest.split(')').next()?;
    Some(StartFailure::MemlockLimit {
        limit: limit.trim().parse().ok()?,
        needed: needed.trim().parse().ok()?,
    })
}

const ENOSYS: i32 = 38;
const EPERM: i32 = 1;
const EACCES: i32 = 13;
const ENOMEM: i32 = 12;
const EINVAL: i32 = 22;

/// The runtime error for a failed executor start: `what` names the executor,
/// `detail` is the underlying error text.
pub(crate) fn start_error(what: &str, failure: &StartFailure, detail: &str) -> Error {
    if *failure == StartFailure::Panicked {
        return Error::Runtime(format!("internal error: {what} panicked: {detail}"));
    }
    let advice = match failure {
        StartFailure::MemlockLimit { limit, needed } => format!(
            "the locked-memory limit is {limit} bytes and glommio needs at least {needed}: \
             raise it (ulimit -l, or LimitMEMLOCK= / --ulimit memlock=)"
        ),
        StartFailure::Os(ENOMEM) => "io_uring could not lock memory: raise the locked-memory \
             limit (ulimit -l) or run fewer shards"
            .to_string(),
        StartFailure::Os(ENOSYS) => {
            "io_uring is not available: the kernel is too old (glommio needs Linux 5.8+) \
             or was built without io_uring"
                .to_string()
        }
        StartFailure::Os(EPERM) | StartFailure::Os(EACCES) => {
            "io_uring is blocked (seccomp or kernel.io_uring_disabled): in a container run \
             with --security-opt seccomp=unconfined, or set sysctl kernel.io_uring_disabled=0"
                .to_string()
        }
        StartFailure::Os(EINVAL) => {
            "io_uring rejected the setup: the kernel is too old (glommio needs Linux 5.8+)"
                .to_string()
        }
        StartFailure::BadCore => {
            "a core in the core list does not exist or is not allowed: check --cores".to_string()
        }
        StartFailure::Os(_) | StartFailure::Other | StartFailure::Panicked => {
            "the executor could not start (glommio needs io_uring, Linux 5.8+)".to_string()
        }
    };
    Error::Runtime(format!("cannot start {what}: {detail}: {advice}"))
}
