//! Executors: one thread per shard (and one for the merger), pinned to a
//! core, running the shard's async tasks. Two backends run the very same
//! tasks: a glommio `LocalExecutor` where io_uring is available, and a plain
//! thread driving a single-threaded tokio runtime (timers only, no I/O
//! driver) where it is not. Tasks reach their executor's backend through
//! [`spawn_local`], [`sleep`] and [`yield_now`]; channels between executors
//! ([`super::channel`]) do not depend on the backend.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::startup::{classify_glommio_error, executor_builder, start_error};
use crate::error::{Error, Result};

/// Which backend drives the executors of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    /// glommio: io_uring-based executors (needs io_uring and locked memory).
    Glommio,
    /// Plain pinned threads, each with a single-threaded tokio scheduler.
    Threads,
}

impl ExecutorKind {
    pub fn name(self) -> &'static str {
        match self {
            ExecutorKind::Glommio => "glommio",
            ExecutorKind::Threads => "threads",
        }
    }
}

thread_local! {
    /// The backend of the executor running on this thread.
    static CURRENT: Cell<Option<ExecutorKind>> = const { Cell::new(None) };
}

fn current() -> ExecutorKind {
    CURRENT
        .with(Cell::get)
        .expect("runtime tasks run inside an executor started by exec::start")
}

/// A started executor thread; [`Executor::join`] waits for its result.
pub(crate) enum Executor<T: Send + 'static> {
    Glommio(glommio::ExecutorJoinHandle<T>),
    Threads(std::thread::JoinHandle<T>),
}

impl<T: Send + 'static> Executor<T> {
    /// Starts an executor named `name` on `core` (unpinned when `None`) that
    /// runs the future `make` builds, on the executor's own thread.
    pub fn start<F, Fut>(
        kind: ExecutorKind,
        name: &str,
        core: Option<usize>,
        make: F,
    ) -> Result<Executor<T>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        match kind {
            ExecutorKind::Glommio => start_glommio(name, core, make),
            ExecutorKind::Threads => start_thread(name, core, make),
        }
    }

    /// Waits for the executor's future to finish; an error if it panicked.
    pub fn join(self, name: &str) -> Result<T> {
        match self {
            Executor::Glommio(handle) => handle
                .join()
                .map_err(|e| start_error(name, &classify_glommio_error(&e), &e.to_string())),
            Executor::Threads(handle) => handle.join().map_err(|panic| {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Error::Runtime(format!("internal error: {name} panicked: {text}"))
            }),
        }
    }
}

fn start_glommio<T, F, Fut>(name: &str, core: Option<usize>, make: F) -> Result<Executor<T>>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
{
    let spawned = executor_builder(name, core).spawn(move || async move {
        CURRENT.with(|c| c.set(Some(ExecutorKind::Glommio)));
        make().await
    });
    spawned
        .map(Executor::Glommio)
        .map_err(|e| start_error(name, &classify_glommio_error(&e), &e.to_string()))
}

fn start_thread<T, F, Fut>(name: &str, core: Option<usize>, make: F) -> Result<Executor<T>>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
{
    let thread_name = name.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start {name}: {e}")))?;
    if let Some(core) = core {
        if !core_exists(core) {
            return Err(Error::Runtime(format!(
                "cannot start {name}: core {core} does not exist or is not allowed: check --cores"
            )));
        }
    }
    let handle = std::thread::Builder::new()
        .name(thread_name)
        .spawn(move || {
            if let Some(id) = core {
                // Checked above that the core exists; pinning is best effort
                // beyond that (as with glommio's placement).
                core_affinity::set_for_current(core_affinity::CoreId { id });
            }
            CURRENT.with(|c| c.set(Some(ExecutorKind::Threads)));
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, make())
        })
        .map_err(|e| Error::Runtime(format!("cannot start {name}: {e}")))?;
    Ok(Executor::Threads(handle))
}

/// True when `core` is one this process may run on.
fn core_exists(core: usize) -> bool {
    core_affinity::get_core_ids().is_some_and(|ids| ids.iter().any(|c| c.id == core))
}

/// A task of the current executor. Dropping it cancels the task.
pub(crate) enum LocalTask<T> {
    Glommio(glommio::Task<T>),
    Threads(tokio::task::JoinHandle<T>),
}

/// Runs `future` as a task of the current executor.
pub(crate) fn spawn_local<T: 'static>(future: impl Future<Output = T> + 'static) -> LocalTask<T> {
    match current() {
        ExecutorKind::Glommio => LocalTask::Glommio(glommio::spawn_local(future)),
        ExecutorKind::Threads => LocalTask::Threads(tokio::task::spawn_local(future)),
    }
}

impl<T> Future for LocalTask<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match &mut *self {
            LocalTask::Glommio(task) => Pin::new(task).poll(cx),
            LocalTask::Threads(handle) => match Pin::new(handle).poll(cx) {
                Poll::Ready(Ok(value)) => Poll::Ready(value),
                // A task panicked: carry the panic to whoever awaits it, as
                // glommio does.
                Poll::Ready(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Poll::Ready(Err(_)) => Poll::Pending,
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<T> Drop for LocalTask<T> {
    fn drop(&mut self) {
        if let LocalTask::Threads(handle) = self {
            handle.abort();
        }
    }
}

/// Waits `duration` on the current executor's timer.
pub(crate) async fn sleep(duration: Duration) {
    match current() {
        ExecutorKind::Glommio => glommio::timer::sleep(duration).await,
        ExecutorKind::Threads => tokio::time::sleep(duration).await,
    }
}

/// How much of a precise wait plain threads spend awake: tokio's timer
/// ticks in milliseconds.
const AWAKE_BEFORE_DEADLINE: Duration = Duration::from_millis(2);

/// Waits until `deadline` (a paced source's next record). glommio's timers
/// are exact. On plain threads the wait is on tokio's timer until shortly
/// before, then lets the executor's other tasks run until the deadline, so
/// the record is taken on time instead of up to a millisecond late (this
/// costs CPU for waits shorter than a couple of milliseconds). glommio must
/// not wait that way: a task that keeps yielding holds off the processing of
/// wake-ups from other cores until its preemption timer fires.
pub(crate) async fn sleep_until_precisely(deadline: Instant) {
    let wait = deadline.saturating_duration_since(Instant::now());
    if current() == ExecutorKind::Glommio {
        return glommio::timer::sleep(wait).await;
    }
    if let Some(coarse) = wait.checked_sub(AWAKE_BEFORE_DEADLINE) {
        tokio::time::sleep(coarse).await;
    }
    while Instant::now() < deadline {
        yield_now().await;
    }
}

/// Lets the other tasks of this executor run once.
pub(crate) fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

pub(crate) struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
