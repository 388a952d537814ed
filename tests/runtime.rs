//! End-to-end tests of the thread-per-core runtime through the binary:
//! determinism across shard counts, accounting with several shards, bounded
//! memory on a large input, shutdown by signal, and start-up failures.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_success, corestream, output_with_memlock_limit, run, send_signal, stderr, stdout,
};

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read stats")).expect("json")
}

fn u64_of(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Every record read is processed, filtered, late or malformed.
fn assert_accounting(stats: &serde_json::Value) {
    assert_eq!(
        u64_of(stats, "records_read"),
        u64_of(stats, "records_processed")
            + u64_of(stats, "records_filtered")
            + u64_of(stats, "records_late")
            + u64_of(stats, "records_malformed")
            + stats["records_discarded"].as_u64().unwrap_or(0),
        "{stats}"
    );
}

/// A deterministic trades file: 3000 rows over 50 symbols, event time rising
/// by 0 to 49 ms per row, so no row is late.
fn write_trades_file(dir: &Path) -> PathBuf {
    let path = dir.join("trades.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(file, "symbol,price,qty,ts").expect("write");
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut ts: i64 = 1_767_225_600_000;
    for _ in 0..3000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ts += (state % 50) as i64;
        let symbol = format!("S{:02}", (state >> 8) % 50);
        let price = ((state >> 16) % 100_000) as f64 / 100.0;
        let qty = (state >> 40) % 500 + 1;
        writeln!(file, "{symbol},{price},{qty},{ts}").expect("write");
    }
    file.flush().expect("flush");
    path
}

const QUERIES: [&str; 7] = [
    "SELECT symbol, price * qty AS notional FROM trades WHERE qty > 100",
    "SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume, AVG(price) AS avg_price, \
     MIN(price) AS low, MAX(price) AS high FROM trades GROUP BY symbol \
     WINDOW TUMBLING(ts, INTERVAL '1' SECOND)",
    "SELECT symbol, window_start, window_end, COUNT(*) AS n FROM trades GROUP BY symbol \
     WINDOW SLIDING(ts, 2s, 500ms)",
    "SELECT symbol, window_start, window_end, COUNT(*) AS n, MAX(price) AS high FROM trades \
     GROUP BY symbol WINDOW SESSION(ts, 300ms)",
    "SELECT symbol, COUNT(*) AS n, SUM(qty) AS volume FROM trades GROUP BY symbol EMIT CHANGES",
    "SELECT window_start, COUNT(DISTINCT symbol) AS symbols, STDDEV_POP(price) AS sd FROM trades \
     GROUP BY TUMBLE(ts, INTERVAL '2' SECOND)",
    // Pre-aggregated at 2 shards and more: each shard's chunks fold into
    // states per symbol, merged on the symbol's shard.
    "SELECT symbol, COUNT(*) AS n, SUM(qty) AS volume, AVG(price) AS avg_price, \
     MIN(price) AS low, MAX(ts) AS last FROM trades WHERE qty > 50 GROUP BY symbol \
     HAVING COUNT(*) > 30 EMIT FINAL",
];

/// Runs `sql` over `file` with `shards` shards and small chunks (so that every
/// shard reads several) and returns the output bytes.
fn output_with(sql: &str, file: &Path, shards: usize, runtime: &str) -> Vec<u8> {
    let source = format!("trades={}", file.display());
    let shards = shards.to_string();
    let o = run(&[
        "run",
        "-q",
        "-e",
        sql,
        "--source",
        &source,
        "--shards",
        &shards,
        "--chunk-bytes",
        "2000",
        "--batch-rows",
        "64",
        "--runtime",
        runtime,
    ]);
    assert_success(&o);
    o.stdout
}

/// The two executor backends of the thread-per-core runtime.
const BACKENDS: [&str; 2] = ["glommio", "threads"];

#[test]
fn output_is_byte_identical_for_1_to_4_shards_on_both_backends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_trades_file(dir.path());
    for sql in QUERIES {
        let one = output_with(sql, &file, 1, "glommio");
        assert!(!one.is_empty(), "{sql} produced nothing");
        for backend in BACKENDS {
            for shards in 1..=4 {
                let many = output_with(sql, &file, shards, backend);
                assert!(one == many, "{sql}: {shards} {backend} shards differ");
            }
        }
    }
}

#[test]
fn the_shared_lock_baseline_gives_the_same_results() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_trades_file(dir.path());
    for sql in QUERIES {
        let reference = output_with(sql, &file, 1, "thread-per-core");
        let baseline = output_with(sql, &file, 3, "shared-lock");
        assert!(reference == baseline, "{sql}: shared-lock differs");
    }
}

#[test]
fn accounting_adds_up_with_several_shards_on_both_backends() {
    for backend in BACKENDS {
        accounting_adds_up(backend);
    }
}

fn accounting_adds_up(backend: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let dead = dir.path().join("dead.jsonl");
    let o = run(&[
        "run",
        "-q",
        "-e",
        "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP) \
         WITH ('path' = 'tests/data/bad.csv'); \
         SELECT symbol, COUNT(*) AS n FROM trades WHERE qty > 1 GROUP BY symbol EMIT FINAL",
        "--shards",
        "3",
        "--chunk-bytes",
        "16",
        "--stats-json",
        stats.to_str().expect("utf-8 path"),
        "--dead-letter",
        dead.to_str().expect("utf-8 path"),
        "--runtime",
        backend,
    ]);
    assert_success(&o);
    // Good rows: A (qty 10), D (qty 1, filtered), F (qty 2).
    assert_eq!(
        stdout(&o),
        "{\"symbol\":\"A\",\"n\":1}\n{\"symbol\":\"F\",\"n\":1}\n"
    );
    let s = read_json(&stats);
    assert_eq!(u64_of(&s, "records_read"), 6);
    assert_eq!(u64_of(&s, "records_malformed"), 3);
    assert_eq!(u64_of(&s, "records_filtered"), 1);
    assert_accounting(&s);
    let shards = s["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 3);
    let read: u64 = shards.iter().map(|x| u64_of(x, "records_read")).sum();
    assert_eq!(read, 6, "every shard's reads add up to the total");
    // Line numbers stay exact although the file was read in many chunks.
    let lines: Vec<u64> = std::fs::read_to_string(&dead)
        .expect("dead letters")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["line"]
                .as_u64()
                .expect("line")
        })
        .collect();
    assert_eq!(lines, vec![3, 4, 6]);
}

#[test]
fn stats_carry_per_shard_metrics_and_latency() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let hgrm = dir.path().join("latency.hgrm");
    let o = run(&[
        "run",
        "-q",
        "-e",
        "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING(ts, 1s)",
        "--source",
        "trades=generator:trades",
        "--source-option",
        "trades.events=50000",
        "--format",
        "blackhole",
        "--shards",
        "2",
        "--stats-json",
        stats.to_str().expect("utf-8 path"),
        "--latency-histogram",
        hgrm.to_str().expect("utf-8 path"),
    ]);
    assert_success(&o);
    let s = read_json(&stats);
    assert_accounting(&s);
    assert_eq!(u64_of(&s, "records_read"), 50_000);
    let shards = s["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 2);
    let into_engines: u64 = shards.iter().map(|x| u64_of(x, "records_in")).sum();
    assert_eq!(into_engines, 50_000);
    for shard in shards {
        for key in ["rows_out", "batches", "channel_full_waits"] {
            assert!(shard[key].is_u64(), "{key} in {shard}");
        }
        assert!(shard["busy_seconds"].is_f64());
    }
    let latency = &s["latency_us"];
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(latency[key].is_u64(), "{key} in {latency}");
    }
    assert!(u64_of(latency, "p50") <= u64_of(latency, "p99"));
    assert!(u64_of(latency, "p99") <= u64_of(latency, "max"));
    let text = std::fs::read_to_string(&hgrm).expect("hgrm");
    assert!(
        text.contains("Value     Percentile TotalCount 1/(1-Percentile)"),
        "{text}"
    );
    assert!(text.contains("#[Max "), "{text}");
}

/// Runs `command` to its end and returns its exit status and its own peak
/// resident memory in MiB (wait4 reports the usage of that one child).
fn run_measuring_peak_memory(command: &mut Command) -> (i32, i64) {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to a status int and a rusage struct; pid is our child,
    // which `child` will not wait for again (it is dropped without wait()).
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    drop(child);
    (libc::WEXITSTATUS(status), usage.ru_maxrss / 1024)
}

#[test]
fn a_large_input_passes_through_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    // 6 million records, 10,000 keys, one-minute windows: state and in-flight
    // data must stay bounded while the input streams through.
    let (status, rss_mib) = run_measuring_peak_memory(corestream().args([
        "run",
        "-q",
        "-e",
        "SELECT symbol, window_start, COUNT(*) AS n, AVG(price) AS avg_price FROM trades \
         GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)",
        "--source",
        "trades=generator:trades",
        "--source-option",
        "trades.events=6000000",
        "--source-option",
        "trades.keys=10000",
        "--format",
        "blackhole",
        "--shards",
        "3",
        "--stats-json",
        stats.to_str().expect("utf-8 path"),
    ]));
    assert_eq!(status, 0);
    let s = read_json(&stats);
    assert_eq!(u64_of(&s, "records_read"), 6_000_000);
    assert_eq!(u64_of(&s, "records_processed"), 6_000_000);
    // Buffering the whole input would take well over a gigabyte.
    assert!(rss_mib < 256, "peak RSS {rss_mib} MiB");
}

/// Generated trades: `events` in all (paced at `rate` per second if given).
fn generator_args(events: u64, rate: Option<u64>) -> Vec<String> {
    let mut args = vec![
        "--source".to_string(),
        "trades=generator:trades".to_string(),
        "--source-option".to_string(),
        format!("trades.events={events}"),
        "--source-option".to_string(),
        "trades.keys=50".to_string(),
    ];
    if let Some(rate) = rate {
        args.extend(["--source-option".to_string(), format!("trades.rate={rate}")]);
    }
    args
}

/// Starts `corestream run` of `sql` on `shards` shards over `source`, its
/// rows going to the file `out` and its stats to `stats`.
fn spawn_run(
    sql: &str,
    shards: &str,
    source: &[&str],
    out: &std::path::Path,
    stats: &std::path::Path,
) -> std::process::Child {
    corestream()
        .args(["run", "-q", "-e", sql, "--shards", shards])
        .args(source)
        .args(["--output", out.to_str().expect("utf-8 path")])
        .args(["--stats-json", stats.to_str().expect("utf-8 path")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start")
}

/// Waits until the file `out` holds `bytes` bytes, or `limit` has passed.
fn wait_for_output(out: &std::path::Path, bytes: u64, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit && std::fs::metadata(out).map_or(0, |m| m.len()) < bytes {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `sql` over paced generated trades, interrupts it with `signal` once
/// it has written output, and checks that the output is an exact prefix of
/// an uninterrupted run over as many events as were read, plus a margin.
fn interrupted_run(sql: &str, signal: libc::c_int) {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let out = dir.path().join("out.jsonl");
    // Paced at 50,000 events/s, 100 million events would take over half an hour.
    let source = generator_args(100_000_000, Some(50_000));
    let child = spawn_run(sql, "2", &strs(&source), &out, &stats);
    wait_for_output(&out, 2_000, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    send_signal(child.id(), signal);
    let signalled = Instant::now();
    let o = child.wait_with_output().expect("wait");
    let took = signalled.elapsed();
    assert_eq!(o.status.code(), Some(128 + signal), "{}", stderr(&o));
    assert!(took < Duration::from_secs(2), "took {took:?} to stop");
    let text = std::fs::read_to_string(&out).expect("output");
    assert!(text.ends_with('\n'), "no half-written line");
    let s = read_json(&stats);
    assert_eq!(s["interrupted"], true);
    assert_accounting(&s);
    let read = u64_of(&s, "records_read");
    assert!(read < 100_000_000);
    assert_eq!(u64_of(&s, "rows_emitted"), text.lines().count() as u64);
    let full = run(&[
        &["run", "-q", "-e", sql, "--shards", "2"][..],
        &strs(&generator_args(read + 200_000, None)),
    ]
    .concat());
    assert_success(&full);
    let full = stdout(&full);
    assert!(
        full.starts_with(&text),
        "not a prefix: {} of {} lines",
        text.lines().count(),
        full.lines().count()
    );
    assert!(text.lines().count() > 10, "it ran a while");
}

/// Ctrl-C while the shards pre-aggregate (an unwindowed grouping at 2
/// shards, nothing written before the end): exit 130, and every record read
/// is accounted for, the states not yet merged on their key's shard
/// counted as discarded.
#[test]
fn ctrl_c_while_shards_pre_aggregate_accounts_for_every_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let out = dir.path().join("out.jsonl");
    let sql = "SELECT symbol, COUNT(*) AS n, SUM(qty) AS volume FROM trades WHERE qty > 10 \
               GROUP BY symbol EMIT FINAL";
    // Chunks of half a second of events, read a batch at a time as they are
    // due: the interrupt lands inside a chunk whose states are held on the
    // shard that read it. It comes half-way through the third chunk, so
    // that start-up time cannot move it onto a chunk's end (a run
    // interrupted at exactly the 15th end of 0.1 s chunks held no states).
    let mut source = generator_args(100_000_000, Some(200_000));
    source.extend(["--chunk-events".to_string(), "100000".to_string()]);
    let child = spawn_run(sql, "2", &strs(&source), &out, &stats);
    std::thread::sleep(Duration::from_millis(1250));
    send_signal(child.id(), libc::SIGINT);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let s = read_json(&stats);
    assert_eq!(s["interrupted"], true);
    assert!(u64_of(&s, "records_read") > 0, "{s}");
    assert!(u64_of(&s, "records_filtered") > 0, "{s}");
    assert!(u64_of(&s, "records_discarded") > 0, "{s}");
    assert_accounting(&s);
}

/// Ctrl-C while the final rows of millions of groups go out stops them
/// between blocks: exit 130, the output an exact prefix of the whole run's,
/// and the groups not written counted as open at the interrupt.
#[test]
fn ctrl_c_while_final_rows_go_out_stops_them_and_leaves_an_exact_prefix() {
    let sql = "SELECT symbol, price, COUNT(*) AS n FROM trades GROUP BY symbol, price EMIT FINAL";
    let source = [
        "--source",
        "trades=generator:trades",
        "--source-option",
        "trades.events=3000000",
        "--source-option",
        "trades.keys=2000",
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let stats = dir.path().join("stats.json");
    let out = dir.path().join("out.jsonl");
    let child = spawn_run(sql, "1", &source, &out, &stats);
    // An unwindowed grouping writes nothing before its final rows.
    wait_for_output(&out, 1, Duration::from_secs(60));
    send_signal(child.id(), libc::SIGINT);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("output");
    assert!(text.ends_with('\n'), "no half-written line");
    let s = read_json(&stats);
    assert_eq!(s["interrupted"], true);
    assert_accounting(&s);
    assert_eq!(u64_of(&s, "records_read"), 3_000_000);
    assert_eq!(u64_of(&s, "rows_emitted"), text.lines().count() as u64);
    let full = run(&[&["run", "-q", "-e", sql, "--shards", "1"][..], &source[..]].concat());
    assert_success(&full);
    let full = stdout(&full);
    let (written, all) = (text.lines().count(), full.lines().count());
    assert!(
        full.starts_with(&text),
        "not a prefix: {written} of {all} lines"
    );
    assert!(
        written < all,
        "the interrupt stopped the final rows: {written} of {all}"
    );
    let open = u64_of(&s, "open_windows_at_interrupt");
    assert!(
        open > 0 && open <= (all - written) as u64,
        "{open} open, {written} of {all} written"
    );
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

const STATELESS_SQL: &str = "SELECT symbol, price, ts FROM trades";
const TUMBLING_SQL: &str = "SELECT symbol, window_start, COUNT(*) AS n, SUM(qty) AS volume \
     FROM trades GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' SECOND) EMIT FINAL";

#[test]
fn sigterm_leaves_an_exact_prefix_and_exits_143() {
    interrupted_run(STATELESS_SQL, libc::SIGTERM);
    interrupted_run(TUMBLING_SQL, libc::SIGTERM);
}

#[test]
fn ctrl_c_leaves_an_exact_prefix_and_exits_130() {
    interrupted_run(STATELESS_SQL, libc::SIGINT);
    interrupted_run(TUMBLING_SQL, libc::SIGINT);
}

fn run_with_memlock_limit(limit_kib: u64, shards: &str, runtime: &str) -> Output {
    let mut command = corestream();
    command.args([
        "run",
        "-q",
        "-e",
        "SELECT symbol FROM trades",
        "--source",
        "trades=tests/data/trades.csv",
        "--shards",
        shards,
        "--runtime",
        runtime,
    ]);
    output_with_memlock_limit(&mut command, limit_kib)
}

#[test]
fn a_locked_memory_limit_too_small_for_io_uring_is_named_with_the_fix() {
    let o = run_with_memlock_limit(64, "2", "glommio");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("locked-memory limit"), "{err}");
    assert!(err.contains("ulimit -l"), "{err}");
    assert_eq!(stdout(&o), "");
}

#[test]
fn where_glommio_cannot_start_the_run_falls_back_to_plain_threads_with_a_notice() {
    let normal = run_with_memlock_limit(8192, "2", "glommio");
    assert_success(&normal);
    let o = run_with_memlock_limit(64, "2", "thread-per-core");
    assert_success(&o);
    let err = stderr(&o);
    assert!(err.contains("--runtime threads"), "{err}");
    assert!(err.contains("locked-memory limit"), "{err}");
    assert_eq!(stdout(&o), stdout(&normal));
}

#[test]
fn eight_shards_start_under_the_default_8_mib_locked_memory_limit() {
    let o = run_with_memlock_limit(8192, "8", "glommio");
    assert_success(&o);
    assert_eq!(stdout(&o).lines().count(), 8);
}

#[test]
fn more_shards_than_cores_work_pinned_or_not() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/trades.csv");
    let source = format!("trades={file}");
    let sql = "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT FINAL";
    let pinned = run(&["run", "-q", "-e", sql, "--source", &source, "--shards", "5"]);
    let unpinned = run(&[
        "run", "-q", "-e", sql, "--source", &source, "--shards", "5", "--no-pin",
    ]);
    let listed = run(&[
        "run", "-q", "-e", sql, "--source", &source, "--cores", "0,0-1",
    ]);
    for o in [&pinned, &unpinned, &listed] {
        assert_success(o);
        assert_eq!(
            stdout(o),
            "{\"symbol\":\"AAPL\",\"n\":4}\n{\"symbol\":\"GOOG\",\"n\":2}\n{\"symbol\":\"MSFT\",\"n\":2}\n"
        );
    }
}

#[test]
fn a_bad_core_list_is_a_usage_error() {
    let o = run(&[
        "run",
        "-e",
        "SELECT 1 FROM t",
        "--source",
        "t=tests/data/trades.csv",
        "--cores",
        "3-1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("3-1"), "{}", stderr(&o));
}

/// The body of `GET /metrics` at `address`.
fn scrape(address: &str) -> String {
    use std::io::Read;
    let mut stream =
        std::net::TcpStream::connect(address).expect("connect to the metrics endpoint");
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {address}\r\n\r\n").expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response
}

/// The value of the sample line `name value` in a Prometheus text body (0 when absent).
fn sample(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

#[test]
fn the_metrics_endpoint_answers_during_a_run_with_growing_counters() {
    use std::io::BufRead;
    let mut child = corestream()
        .args([
            "run",
            "-q",
            "-e",
            STATELESS_SQL,
            "--shards",
            "2",
            "--format",
            "blackhole",
        ])
        .args(generator_args(100_000_000, Some(20_000)))
        .args(["--metrics-address", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let stderr_pipe = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr_pipe).lines();
    let address = lines
        .by_ref()
        .map_while(|line| line.ok())
        .find_map(|line| {
            let rest = line.split("http://").nth(1)?;
            Some(rest.trim_end_matches("/metrics").to_string())
        })
        .expect("the endpoint's address on standard error");
    // The first snapshot comes once the run has started; then they keep coming.
    let started = Instant::now();
    let names = [
        "corestream_records_read_total",
        "corestream_rows_emitted_total",
    ];
    let mut first = scrape(&address);
    while names.iter().any(|name| sample(&first, name) == 0.0)
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(100));
        first = scrape(&address);
    }
    std::thread::sleep(Duration::from_millis(500));
    let second = scrape(&address);
    send_signal(child.id(), libc::SIGTERM);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143));
    for name in [
        "corestream_records_read_total",
        "corestream_rows_emitted_total",
    ] {
        let (before, after) = (sample(&first, name), sample(&second, name));
        assert!(
            0.0 < before && before < after,
            "{name}: {before} then {after}"
        );
    }
}
