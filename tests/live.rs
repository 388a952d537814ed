//! Live streams through the binary: rows reach the reader while the input is
//! still open (standard input, a followed file), idle streams close their
//! windows after the idle timeout, and an interrupt ends a run that waits on
//! an idle input at once, with exit 130.
//!
//! Time bounds here are generous (the promise is milliseconds; the bounds
//! are hundreds of them) so that a busy machine cannot make them flake.

mod common;

use common::{corestream, stderr};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DDL: &str = "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
                   WITH ('path' = '-', 'format' = 'csv', 'header' = 'false');";

/// A run reading `sql` from standard input, with lines of its standard
/// output arriving on a channel, each with the instant it was read.
struct LiveRun {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl LiveRun {
    fn start(sql: &str, extra: &[&str]) -> LiveRun {
        let mut child = corestream()
            .args(["run", "-q", "-e", sql, "--shards", "2"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start corestream");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        LiveRun {
            lines: lines_of(stdout),
            stdin,
            child,
        }
    }

    fn send(&mut self, line: &str) -> Instant {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write a line");
        stdin.flush().expect("flush");
        Instant::now()
    }

    /// The next output line, waiting at most `within`.
    fn next_line(&self, within: Duration) -> Option<(Instant, String)> {
        self.lines.recv_timeout(within).ok()
    }

    fn close_input(&mut self) {
        self.stdin = None;
    }
}

/// Lines of `out` as they arrive, stamped with when they were read.
fn lines_of(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx
}

fn trade(symbol: &str, qty: u64, second: u32) -> String {
    format!(
        "{symbol},1.5,{qty},2026-01-01T00:{:02}:{:02}Z",
        second / 60,
        second % 60
    )
}

fn send_signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill has no memory effects; pid is our own child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill");
}

/// A slow producer (a line every 200 ms): each line's rows are on standard
/// output long before the producer closes its end, for a stateless query,
/// EMIT CHANGES, a window closed by a later record (EMIT FINAL), the
/// window's Top-N ranked on the merger (a second stage) and an OVER
/// window (a row goes out once a later record moves the watermark past it).
#[test]
fn a_slow_producer_sees_each_row_while_the_stream_is_open() {
    let queries = [
        ("stateless", format!("{DDL} SELECT symbol, qty FROM trades")),
        (
            "changes",
            format!("{DDL} SELECT symbol, SUM(qty) AS q FROM trades GROUP BY symbol EMIT CHANGES"),
        ),
        (
            "final",
            format!(
                "{DDL} SELECT symbol, window_start, SUM(qty) AS q FROM trades GROUP BY symbol \
                 WINDOW TUMBLING(ts, INTERVAL '1' SECOND) EMIT FINAL"
            ),
        ),
        (
            "window top-n",
            format!(
                "{DDL} SELECT symbol, q FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY \
                 window_start, window_end ORDER BY q DESC) AS rn FROM (SELECT window_start, \
                 window_end, symbol, SUM(qty) AS q FROM TABLE(TUMBLE(TABLE trades, \
                 DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end, \
                 symbol)) WHERE rn = 1"
            ),
        ),
        (
            "over",
            format!(
                "{DDL} SELECT symbol, SUM(qty) OVER (PARTITION BY symbol ORDER BY ts) AS q \
                 FROM trades"
            ),
        ),
    ];
    for (mode, sql) in queries {
        let mut run = LiveRun::start(&sql, &[]);
        let mut worst = Duration::ZERO;
        for second in 0..5 {
            let written = run.send(&trade("A", 1, second));
            if matches!(mode, "final" | "window top-n" | "over") && second == 0 {
                // The first window closes (the first row's time passes)
                // when the second record arrives.
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            let (seen, line) = run.next_line(Duration::from_secs(10)).unwrap_or_else(|| {
                panic!("{mode}: no row for line {second} while the input is open")
            });
            assert!(line.starts_with("{\"symbol\":\"A\""), "{mode}: {line}");
            worst = worst.max(seen.duration_since(written));
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            worst < Duration::from_millis(500),
            "{mode}: a row took {worst:?}"
        );
        run.close_input();
        let status = run.child.wait().expect("wait");
        assert!(status.success(), "{mode}: exit {status:?}");
        eprintln!("{mode}: slowest row reached the reader {worst:?} after its line");
    }
}

/// A tumbling EMIT FINAL query over a stream that goes quiet emits its last
/// window once the idle timeout has passed, with the input still open.
#[test]
fn an_idle_stream_closes_its_windows_after_the_idle_timeout() {
    let sql = format!(
        "{DDL} SELECT symbol, window_start, SUM(qty) AS q FROM trades GROUP BY symbol \
         WINDOW TUMBLING(ts, INTERVAL '1' SECOND) EMIT FINAL"
    );
    let mut run = LiveRun::start(&sql, &["--idle-timeout", "300ms"]);
    let sent = run.send(&trade("A", 7, 0));
    let (seen, line) = run
        .next_line(Duration::from_secs(10))
        .expect("the quiet stream's window is emitted");
    assert_eq!(
        line,
        "{\"symbol\":\"A\",\"window_start\":\"2026-01-01T00:00:00.000Z\",\"q\":7}"
    );
    let waited = seen.duration_since(sent);
    assert!(
        waited >= Duration::from_millis(300),
        "emitted before the timeout: {waited:?}"
    );
    // Without an idle timeout nothing comes while the stream is quiet.
    let mut quiet = LiveRun::start(&sql, &[]);
    quiet.send(&trade("A", 7, 0));
    assert!(quiet.next_line(Duration::from_millis(1500)).is_none());
    quiet.close_input();
    let (_, last) = quiet
        .next_line(Duration::from_secs(10))
        .expect("emitted at the end");
    assert_eq!(last, line);
    run.close_input();
    assert!(run.child.wait().expect("wait").success());
    assert!(quiet.child.wait().expect("wait").success());
}

/// SIGINT while standard input is idle ends the run at once: exit 130, the
/// stats say interrupted, and what was written is complete.
#[test]
fn an_interrupt_while_standard_input_is_idle_ends_the_run_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let sql = format!("{DDL} SELECT symbol, qty FROM trades");
    let mut run = LiveRun::start(&sql, &["--stats-json", stats.to_str().expect("utf-8")]);
    run.send(&trade("A", 1, 0));
    run.next_line(Duration::from_secs(10))
        .expect("the first row");
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    send_signal(run.child.id(), libc::SIGINT);
    let status = run.child.wait().expect("wait");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(130));
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    eprintln!("stopped {took:?} after SIGINT on idle standard input");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats")).expect("json");
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["rows_emitted"], 1);
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

/// Follow mode: records appended, after a rotation (rename and recreate) and
/// after a truncation are each processed exactly once while the run is live;
/// SIGINT ends it with 130.
#[test]
fn a_followed_file_is_read_through_appends_rotation_and_truncation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trades.csv");
    let header = "symbol,price,qty,ts\n";
    std::fs::write(&path, format!("{header}{}\n", trade("A", 1, 0))).expect("write");
    let mut child = corestream()
        .args([
            "run",
            "-q",
            "-e",
            "SELECT symbol, qty FROM trades",
            "--follow",
        ])
        .args([
            "--source",
            &format!("trades={}", path.display()),
            "--shards",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let lines = lines_of(child.stdout.take().expect("stdout"));
    let expect = |symbol: &str, qty: u64| {
        let (_, line) = lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no row for {symbol}"));
        assert_eq!(line, format!("{{\"symbol\":\"{symbol}\",\"qty\":{qty}}}"));
    };
    expect("A", 1);
    append(&path, &format!("{}\n", trade("B", 2, 1)));
    expect("B", 2);
    std::fs::rename(&path, dir.path().join("trades.csv.1")).expect("rotate");
    std::fs::write(&path, format!("{header}{}\n", trade("C", 3, 2))).expect("recreate");
    expect("C", 3);
    // Truncated in place (as logrotate's copytruncate does), then written anew.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(0))
        .expect("truncate");
    std::thread::sleep(Duration::from_millis(300));
    append(&path, &format!("{header}{}\n", trade("D", 4, 3)));
    expect("D", 4);
    append(&path, &format!("{}\n", trade("E", 5, 4)));
    expect("E", 5);
    assert!(
        lines.recv_timeout(Duration::from_millis(500)).is_err(),
        "a record read twice"
    );
    send_signal(child.id(), libc::SIGINT);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
}
