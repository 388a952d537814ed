//! Stopping a run: why it stops ([`StopReason`]), how every task hears of it
//! (a [`StopBroadcast`] sends the reason to one inbox per task; each task owns
//! its [`Stop`]), and the waits that give way to it ([`Stop::until`]).
//!
//! Every wait of a runtime task (a source read, a full channel, a pacing
//! sleep, the merger's next message) races the task's stop inbox, so a stop
//! is observed as soon as it is sent, whatever the task waits on. Nothing is
//! shared: the broadcast holds the sending ends of the tasks' inboxes, and a
//! task that already stopped simply has a full inbox.

use std::future::Future;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// Why a run stops before the end of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT or SIGTERM (the signal number).
    Interrupted(i32),
    /// The query's LIMIT (or the caller's row limit) was reached.
    Limit,
    /// A task failed; its error is the run's result.
    Failed,
}

/// Sends a stop to every task of a run. Cloned into every task that may
/// decide to stop the run (the merger, every shard, the signal relay).
#[derive(Clone, Default)]
pub(crate) struct StopBroadcast {
    inboxes: Vec<mpsc::Sender<StopReason>>,
}

impl StopBroadcast {
    /// A new task inbox: the task keeps the [`Stop`].
    pub fn subscribe(&mut self) -> Stop {
        let (tx, rx) = mpsc::channel(1);
        self.inboxes.push(tx);
        Stop { rx, reason: None }
    }

    /// Tells every task to stop. The first reason a task hears is the one it keeps.
    pub fn stop(&self, reason: StopReason) {
        for inbox in &self.inboxes {
            // Full: the task has a stop waiting already. Closed: it ended.
            let _ = inbox.try_send(reason);
        }
    }
}

/// One task's stop inbox.
pub(crate) struct Stop {
    rx: mpsc::Receiver<StopReason>,
    reason: Option<StopReason>,
}

impl Stop {
    /// The stop, if one was sent. Never waits.
    pub fn check(&mut self) -> Option<StopReason> {
        if self.reason.is_none() {
            self.reason = self.rx.try_recv().ok();
        }
        self.reason
    }

    pub fn is_stopped(&mut self) -> bool {
        self.check().is_some()
    }

    /// Waits for a stop.
    pub async fn wait(&mut self) -> StopReason {
        if let Some(reason) = self.check() {
            return reason;
        }
        let reason = self.rx.recv().await.unwrap_or(StopReason::Failed);
        self.reason = Some(reason);
        reason
    }

    /// Runs `work` until it completes (`Ok`) or a stop arrives first (`Err`).
    /// `work` is dropped on a stop, so it must be cancel-safe.
    pub async fn until<T>(
        &mut self,
        work: impl Future<Output = T>,
    ) -> std::result::Result<T, StopReason> {
        if let Some(reason) = self.check() {
            return Err(reason);
        }
        let done = async { Ok(work.await) };
        let stopped = async { Err(self.wait().await) };
        futures_lite::future::or(done, stopped).await
    }
}

/// SIGINT and SIGTERM, delivered to a run as [`StopReason::Interrupted`].
/// Create it before the run (the CLI does); the run relays the first signal
/// to every task, and a second one ends the process at once.
pub struct Interrupts {
    source: InterruptSource,
}

enum InterruptSource {
    Signals(Signals),
    /// Signal numbers sent by the caller (tests, embedding programs).
    Channel(std::sync::mpsc::Receiver<i32>),
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM.
    pub fn signals() -> Result<Interrupts> {
        let signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| {
            Error::Runtime(format!("cannot install the Ctrl-C/SIGTERM handler: {e}"))
        })?;
        Ok(Interrupts {
            source: InterruptSource::Signals(signals),
        })
    }

    /// Interrupts when a signal number arrives on `signals` (no process
    /// signal is caught; a second one does not end the process).
    pub fn from_channel(signals: std::sync::mpsc::Receiver<i32>) -> Interrupts {
        Interrupts {
            source: InterruptSource::Channel(signals),
        }
    }

    /// Relays interrupts to `broadcast` on a thread of its own until the
    /// returned guard is dropped.
    pub(crate) fn relay(self, broadcast: StopBroadcast) -> Result<RelayGuard> {
        self.on_interrupt(move |signal| broadcast.stop(StopReason::Interrupted(signal)))
    }

    /// Calls `interrupted` with the first interrupt, on a thread of its own,
    /// until the returned guard is dropped. After it, a second SIGINT or
    /// SIGTERM ends the process at once.
    pub(crate) fn on_interrupt(
        self,
        interrupted: impl FnOnce(i32) + Send + 'static,
    ) -> Result<RelayGuard> {
        let (name, handle, relay): (_, _, Box<dyn FnOnce() + Send>) = match self.source {
            InterruptSource::Signals(mut signals) => {
                let handle = signals.handle();
                let relay = move || {
                    let mut signals = signals.forever();
                    if let Some(signal) = signals.next() {
                        interrupted(signal);
                    }
                    if let Some(signal) = signals.next() {
                        // The user insists: no more waiting for a clean end.
                        std::process::exit(exit_status_for_signal(signal));
                    }
                };
                ("corestream-signals", Some(handle), Box::new(relay))
            }
            InterruptSource::Channel(rx) => {
                let relay = move || {
                    if let Ok(signal) = rx.recv() {
                        interrupted(signal);
                    }
                };
                ("corestream-interrupts", None, Box::new(relay))
            }
        };
        std::thread::Builder::new()
            .name(name.into())
            .spawn(relay)
            .map_err(|e| Error::Runtime(format!("cannot start the signal relay: {e}")))?;
        Ok(RelayGuard { handle })
    }
}

/// Stops relaying signals when dropped.
pub(crate) struct RelayGuard {
    handle: Option<Handle>,
}

impl Drop for RelayGuard {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.close();
        }
    }
}

/// The conventional exit status of a process ended by `signal` (130 for
/// SIGINT, 143 for SIGTERM).
pub fn exit_status_for_signal(signal: i32) -> i32 {
    128 + signal
}
