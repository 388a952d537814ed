//! Watchers of a running query: one plain thread that receives the runtime's
//! [`LiveSnapshot`]s and owns what shows them, the progress display and the
//! metrics endpoint. The runtime hands snapshots over with `try_send` and
//! never waits for the watcher; the watcher keeps only the latest.

use std::io::IsTerminal;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::args::OutputArgs;
use super::metrics_server::MetricsServer;
use super::progress::ProgressView;
use crate::error::{Error, Result};
use crate::runtime::LiveSnapshot;

/// How long the watcher waits for a snapshot before it looks at metrics
/// requests and the finish signal: bounds the endpoint's answer time.
const POLL: Duration = Duration::from_millis(20);

/// Snapshots the runtime may queue before it starts dropping them.
const QUEUED_SNAPSHOTS: usize = 2;

/// What to watch a run with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Show the progress display on standard error.
    pub progress: bool,
    /// Serve metrics at this `HOST:PORT`.
    pub metrics_address: Option<String>,
}

impl WatchOptions {
    /// Progress shows when standard error is a terminal, unless `--quiet`, or
    /// the result rows go to that terminal (the bar would tear through them).
    pub fn from_args(output: &OutputArgs, rows_to_stdout: bool) -> Self {
        let rows_on_terminal = rows_to_stdout && std::io::stdout().is_terminal();
        WatchOptions {
            progress: !output.quiet && std::io::stderr().is_terminal() && !rows_on_terminal,
            metrics_address: output.metrics_address.clone(),
        }
    }
}

/// The watcher thread of one run; [`Watchers::finish`] ends it.
pub struct Watchers {
    running: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Watchers {
    /// Binds the metrics endpoint (announcing its address on standard error)
    /// and starts the watcher thread. Returns the sender the runtime sends its
    /// snapshots through, or `None` when nothing watches the run.
    pub fn start(options: &WatchOptions) -> Result<(Option<SyncSender<LiveSnapshot>>, Watchers)> {
        let server = options
            .metrics_address
            .as_deref()
            .map(MetricsServer::bind)
            .transpose()?;
        if let Some(server) = &server {
            eprintln!("corestream: metrics at http://{}/metrics", server.address());
        }
        let progress = options.progress.then(ProgressView::on_stderr);
        if server.is_none() && progress.is_none() {
            return Ok((None, Watchers { running: None }));
        }
        Self::spawn(Watch::new(progress, server))
    }

    fn spawn(watch: Watch) -> Result<(Option<SyncSender<LiveSnapshot>>, Watchers)> {
        let (snapshots, received) = mpsc::sync_channel(QUEUED_SNAPSHOTS);
        let (finish, finished) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("corestream-watch".into())
            .spawn(move || watch.run(&received, &finished))
            .map_err(|e| Error::Runtime(format!("cannot start the watcher thread: {e}")))?;
        Ok((
            Some(snapshots),
            Watchers {
                running: Some((finish, thread)),
            },
        ))
    }

    /// Shows the snapshots still queued, clears the progress display (so the
    /// summary that follows starts on a clean line) and closes the endpoint.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some((finish, thread)) = self.running.take() {
            drop(finish);
            // A watcher that panicked has nothing left to show or clear.
            let _ = thread.join();
        }
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The watcher thread's state: the latest snapshot and what shows it.
struct Watch {
    progress: Option<ProgressView>,
    server: Option<MetricsServer>,
    latest: Option<LiveSnapshot>,
}

impl Watch {
    fn new(progress: Option<ProgressView>, server: Option<MetricsServer>) -> Self {
        Watch {
            progress,
            server,
            latest: None,
        }
    }

    /// Follows the run until `finished` disconnects.
    fn run(mut self, snapshots: &Receiver<LiveSnapshot>, finished: &Receiver<()>) {
        let mut run_open = true;
        loop {
            if run_open {
                run_open = self.wait_for_snapshot(snapshots);
            } else if finished.recv_timeout(POLL) != Err(RecvTimeoutError::Timeout) {
                break;
            }
            self.answer_requests();
            if finished.try_recv() != Err(TryRecvError::Empty) {
                break;
            }
        }
        snapshots.try_iter().for_each(|s| self.observe(s));
        if let Some(progress) = &mut self.progress {
            progress.clear();
        }
    }

    /// Takes the next snapshot if one comes within [`POLL`]; false once the
    /// runtime has dropped its sender.
    fn wait_for_snapshot(&mut self, snapshots: &Receiver<LiveSnapshot>) -> bool {
        match snapshots.recv_timeout(POLL) {
            Ok(snapshot) => {
                self.observe(snapshot);
                true
            }
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    fn observe(&mut self, snapshot: LiveSnapshot) {
        if let Some(progress) = &mut self.progress {
            progress.update(&snapshot);
        }
        self.latest = Some(snapshot);
    }

    fn answer_requests(&self) {
        if let Some(server) = &self.server {
            server.answer_pending(self.latest.as_ref());
        }
    }
}

/// A snapshot `elapsed_ms` into a run that has read `records_read` records
/// and nothing else yet.
#[cfg(test)]
pub(crate) fn test_snapshot(elapsed_ms: u64, records_read: u64) -> LiveSnapshot {
    LiveSnapshot {
        elapsed: Duration::from_millis(elapsed_ms),
        records_read,
        records_processed: 0,
        records_filtered: 0,
        records_late: 0,
        records_malformed: 0,
        rows_emitted: 0,
        bytes_read: 0,
        bytes_total: None,
        events_total: None,
        unbounded: false,
        shards: Vec::new(),
        latency: crate::runtime::new_latency_histogram(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::LiveShard;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};

    fn get(address: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("send request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read response");
        response
    }

    /// Waits (30 s at most, a bound no healthy run comes near) for `done`.
    fn eventually(mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "gave up waiting");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Scrapes `/metrics` until a response satisfies `wanted`.
    fn get_until(address: SocketAddr, wanted: impl Fn(&str) -> bool) -> String {
        let mut response = String::new();
        eventually(|| {
            response = get(address, "/metrics");
            wanted(&response)
        });
        response
    }

    fn counter(response: &str, series: &str) -> u64 {
        response
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{response}"))
    }

    /// A fake run: the snapshot after `step` steps of 1,000 records.
    fn step_snapshot(step: u64) -> LiveSnapshot {
        let mut s = test_snapshot(100 * step, 1_000 * step);
        s.records_processed = 900 * step;
        s.rows_emitted = 10 * step;
        s.shards = vec![LiveShard {
            shard: 0,
            records_read: 1_000 * step,
            records_in: 1_000 * step,
            busy: Duration::from_millis(50 * step),
            channel_full_waits: step,
            watermark_ms: Some(1_000 * step as i64),
        }];
        s.latency.record_n(250, step).expect("latency in range");
        s
    }

    /// Sends snapshots like a runtime does (try_send) until told to stop.
    fn fake_run(snapshots: SyncSender<LiveSnapshot>, stop: Receiver<()>) -> JoinHandle<u64> {
        std::thread::spawn(move || {
            let mut step = 1;
            while stop.recv_timeout(Duration::from_millis(10)) == Err(RecvTimeoutError::Timeout) {
                let _ = snapshots.try_send(step_snapshot(step));
                step += 1;
            }
            step
        })
    }

    #[test]
    fn quiet_and_a_piped_standard_error_turn_progress_off() {
        let output = |quiet| OutputArgs {
            output: None,
            format: None,
            dead_letter: None,
            stats_json: None,
            latency_histogram: None,
            quiet,
            metrics_address: Some("127.0.0.1:0".into()),
        };
        let quiet = WatchOptions::from_args(&output(true), false);
        assert!(!quiet.progress);
        assert_eq!(quiet.metrics_address.as_deref(), Some("127.0.0.1:0"));
        let loud = WatchOptions::from_args(&output(false), false);
        assert_eq!(loud.progress, std::io::stderr().is_terminal());
    }

    #[test]
    fn nothing_to_watch_starts_nothing() {
        let (sender, watchers) = Watchers::start(&WatchOptions::default()).expect("start");
        assert!(sender.is_none());
        assert!(watchers.running.is_none());
        watchers.finish();
    }

    #[test]
    fn the_endpoint_answers_during_a_run_with_values_that_grow() {
        let server = MetricsServer::bind("127.0.0.1:0").expect("bind port 0");
        let address = server.address();
        assert_ne!(address.port(), 0);
        let (sender, watchers) = Watchers::spawn(Watch::new(None, Some(server))).expect("start");
        let (stop, stopped) = mpsc::channel();
        let run = fake_run(sender.expect("a sender"), stopped);

        let first = get_until(address, |r| r.contains("corestream_records_read_total"));
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        assert!(first.contains("text/plain; version=0.0.4"), "{first}");
        let series = [
            "corestream_records_read_total",
            "corestream_records_processed_total",
            "corestream_rows_emitted_total",
            "corestream_shard_records_in_total{shard=\"0\"}",
            "corestream_shard_channel_full_waits_total{shard=\"0\"}",
            "corestream_sink_latency_seconds_count",
        ];
        let before: Vec<u64> = series.iter().map(|s| counter(&first, s)).collect();
        let second = get_until(address, |r| counter(r, series[0]) > before[0]);
        for (name, old) in series.iter().zip(&before) {
            let new = counter(&second, name);
            assert!(new > *old, "{name}: {old} then {new}");
        }
        assert!(get(address, "/other").starts_with("HTTP/1.1 404"));

        drop(stop);
        let steps = run.join().expect("fake run");
        assert!(steps > 2);
        watchers.finish();
    }

    #[test]
    fn finish_clears_the_progress_display_before_the_summary() {
        let term = indicatif::InMemoryTerm::new(4, 160);
        let target = indicatif::ProgressDrawTarget::term_like(Box::new(term.clone()));
        let progress = ProgressView::with_target(target);
        let (sender, watchers) = Watchers::spawn(Watch::new(Some(progress), None)).expect("start");
        let mut snapshot = step_snapshot(20);
        snapshot.unbounded = true;
        sender.expect("a sender").send(snapshot).expect("queued");
        eventually(|| term.contents().contains("20,000 records read"));
        watchers.finish();
        assert_eq!(term.contents().trim(), "");
    }
}
