//! CLI: argument parsing, wiring of sql, plan, runtime and io, exit codes and
//! the run summary. It holds no logic a library user would need.

mod args;
mod catalog;
mod doctor;
mod metrics_server;
mod object_keys;
mod outputs;
mod progress;
mod summary;
mod watch;

pub use args::{Cli, Command};
pub use summary::{LatencySummary, RunSummary, ShardSummary};
pub use watch::{WatchOptions, Watchers};

use crate::data::parse_duration;
use crate::error::{Error, Result};
use crate::io::kafka::{self, KafkaSink, KafkaSinkConfig};
use crate::io::{open_sink, DeadLetterWriter, OutputFormat, RowSink};
use crate::plan::{plan_query, PlanSettings, QueryPlan};
use crate::runtime::probe::{choose_runtime, Readiness, RuntimeRequest};
use crate::runtime::{
    self, exit_status_for_signal, parse_core_list, DeadLetterFile, DeadLetters, EngineBackend,
    ExecutorKind, Interrupts, OnInterrupt, RunIo, RunReport, RuntimeConfig, TableInput,
};
use args::{
    DemoArgs, ExecutionArgs, ExplainArgs, InterruptMode, OutputArgs, PlacementArgs, QueryArgs,
    RunArgs, RuntimeKind,
};
use catalog::{build_catalog, resolve_script_paths, split_script, SourceOverrides};
use clap::Parser;

/// Parses the process arguments, runs the command and returns the exit status:
/// 0 on success, 2 for a usage or SQL error, 1 for a failure while running.
/// 130 after SIGINT, 143 after SIGTERM (the run's output is then an exact
/// prefix of the uninterrupted output).
pub fn main_entry() -> i32 {
    ignore_file_size_signal();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("corestream: error: {e}");
            e.exit_code()
        }
    }
}

/// A write past the file-size limit (`ulimit -f`) fails with EFBIG instead of
/// killing the process with SIGXFSZ, so the run ends like on a full disk: an
/// error naming the output, exit status 1, the file cut back to a whole row.
fn ignore_file_size_signal() {
    // SAFETY: sets the disposition of one signal to SIG_IGN before any thread
    // starts; no handler runs, so nothing can be unsound.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Runs `command`; its exit status.
fn dispatch(command: Command) -> Result<i32> {
    match command {
        Command::Run(args) => run_command(&args),
        Command::Explain(args) => explain_command(&args),
        Command::Demo(args) => demo_command(&args),
        Command::Doctor(args) => doctor::doctor_command(&args).map(|()| 0),
    }
}

/// The typed plan and, with `--placement` (implied by `--shards`, `--cores`
/// and `--no-pin`), the cores a run would use.
fn explain_command(args: &ExplainArgs) -> Result<i32> {
    let plan = plan_from_args(&args.query, false)?;
    print!("{}", plan.explain());
    let cores = &args.cores;
    if args.placement || cores.shards.is_some() || cores.cores.is_some() || cores.no_pin {
        let config = placement_config(&args.cores, available_cores())?;
        let topology = runtime::topology::Topology::of_this_host();
        print!("\n{}", doctor::placement_text(&topology, &config));
    }
    Ok(0)
}

fn run_command(args: &RunArgs) -> Result<i32> {
    let plan = plan_from_args(&args.query, format_writes_changelog(&args.output))?;
    execute(&plan, &args.execution, &args.output)
}

/// The demo: per-minute OHLC-style statistics per symbol over generated trades.
fn demo_command(args: &DemoArgs) -> Result<i32> {
    let sql = demo_sql(args.events, args.keys);
    eprintln!("corestream demo: running\n{sql}\n");
    let text_args = QueryArgs {
        query_file: None,
        execute: Some(sql),
        sources: Vec::new(),
        source_options: Vec::new(),
        max_out_of_orderness: None,
        allowed_lateness: None,
        follow: false,
        changelog: false,
    };
    let plan = plan_from_args(&text_args, format_writes_changelog(&args.output))?;
    execute(&plan, &args.execution, &args.output)
}

pub fn demo_sql(events: u64, keys: u64) -> String {
    format!(
        "CREATE TABLE trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP)\n  \
         WITH ('connector' = 'trades', 'events' = '{events}', 'keys' = '{keys}');\n\
         SELECT symbol, window_start, window_end, COUNT(*) AS trades,\n  \
         ROUND(AVG(price), 2) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(qty) AS volume\n\
         FROM trades\nGROUP BY symbol\nWINDOW TUMBLING(ts, INTERVAL '1' MINUTE)\nEMIT FINAL"
    )
}

/// True when `--format` names a format that writes a changelog (which it
/// then implies); a format that does not parse is reported later.
fn format_writes_changelog(output: &OutputArgs) -> bool {
    let format = output.format.as_deref().map(str::parse::<OutputFormat>);
    matches!(format, Some(Ok(f)) if f.writes_changelog())
}

/// Reads, parses and plans the query the arguments name; `changelog`: the
/// output is a changelog whatever the arguments say.
fn plan_from_args(args: &QueryArgs, changelog: bool) -> Result<QueryPlan> {
    let script = match (&args.execute, &args.query_file) {
        (Some(sql), _) => split_script(crate::sql::parse_sql(sql)?)?,
        (None, Some(path)) => {
            let mut script = split_script(crate::sql::parse_sql(&read_script(path)?)?)?;
            if let Some(dir) = path.parent() {
                resolve_script_paths(&mut script, dir);
            }
            script
        }
        (None, None) => return Err(Error::Usage("give a QUERY.sql file or -e 'SQL'".into())),
    };
    let mut overrides = SourceOverrides::parse(&args.sources, &args.source_options)?;
    overrides.add_named_sources(&script.named_sources);
    overrides.follow = args.follow;
    let catalog = build_catalog(&script.sources, &overrides)?;
    plan_query(&script.query, &catalog, &plan_settings(args, changelog)?)
}

/// The text of a SQL script file; bytes that are not UTF-8 are a usage
/// error naming the file, as the same bytes given with `-e` are.
fn read_script(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    String::from_utf8(bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: the SQL script is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parses and plans a script (source declarations and one query) with no
/// command-line sources or settings; reads no file. What the SQL fuzz target
/// runs.
pub fn plan_script(text: &str) -> Result<QueryPlan> {
    let script = split_script(crate::sql::parse_sql(text)?)?;
    let catalog = build_catalog(&script.sources, &SourceOverrides::default())?;
    plan_query(&script.query, &catalog, &PlanSettings::default())
}

/// The command line's plan settings; `changelog` as in [`plan_from_args`].
fn plan_settings(args: &QueryArgs, changelog: bool) -> Result<PlanSettings> {
    let duration = |option: &str, value: &Option<String>| -> Result<Option<i64>> {
        value
            .as_deref()
            .map(|v| parse_duration(v).map_err(|e| Error::Usage(format!("--{option}: {e}"))))
            .transpose()
    };
    Ok(PlanSettings {
        max_out_of_orderness_ms: duration("max-out-of-orderness", &args.max_out_of_orderness)?,
        allowed_lateness_ms: duration("allowed-lateness", &args.allowed_lateness)?,
        changelog: changelog || args.changelog,
    })
}

/// Runs a planned query: checks the output paths (none may be the input or
/// another output), plans the input (so a missing file fails before any
/// output), makes sure every output can be written, starts the watchers
/// (progress, metrics endpoint), opens the sink and the dead-letter file,
/// runs, and reports. The exit status: 0, or 128 + the signal that
/// interrupted the run.
fn execute(plan: &QueryPlan, execution: &ExecutionArgs, output: &OutputArgs) -> Result<i32> {
    check_stream_properties(plan)?;
    let config = runtime_config(execution, plan)?;
    let files = outputs::output_files(plan, output);
    for source in plan.sources() {
        outputs::check_distinct(&files, &source.name, source.property("path"))?;
    }
    let input = TableInput::plan(plan, &config)?;
    let created = outputs::prepare(&files)?;
    let sink_path = sink_path(plan, output);
    let format = output_format(output, plan, sink_path.as_deref())?;
    let kafka_sink = kafka_sink_config(plan, sink_path.as_deref())?;
    let rows_to_stdout = format != OutputFormat::Blackhole
        && kafka_sink.is_none()
        && matches!(sink_path.as_deref(), None | Some("-"));
    let (live, watchers) = Watchers::start(&WatchOptions::from_args(output, rows_to_stdout))?;
    let sink = match &kafka_sink {
        Some(kafka) => Box::new(KafkaSink::open(kafka, format, &plan.output)?),
        None => open_sink(sink_path.as_deref(), format, &plan.output)?,
    };
    let mut io = open_outputs(plan, output, sink)?;
    io.live = live;
    let read = input.for_commit();
    let result = match execution.runtime {
        RuntimeKind::SharedLock => {
            crate::baseline::run_with(plan, &config, io, EngineBackend, input)
        }
        _ => runtime::run_with(plan, &config, io, EngineBackend, input),
    };
    watchers.finish();
    let report = result?;
    // At-least-once: a run that stopped early (LIMIT, a signal) commits
    // nothing, so a restart reads again what it may not have written.
    if report.interrupted_by.is_none() && !report.stopped_early {
        read.commit_read()?;
    }
    let summary = summarize(&report, &config, execution.runtime);
    report_run(&summary, &report, output)?;
    created.keep();
    Ok(report.interrupted_by.map_or(0, exit_status_for_signal))
}

/// The CREATE STREAM WITH keys corestream understands (and `properties.*`,
/// librdkafka settings of a Kafka sink).
const STREAM_KEYS: [&str; 11] = [
    "output",
    "output.format",
    "changelog.mode",
    "dead_letter",
    "max_out_of_orderness",
    "watermark.max_out_of_orderness",
    "allowed_lateness",
    "connector",
    "topic",
    "format",
    "key.fields",
];

fn check_stream_properties(plan: &QueryPlan) -> Result<()> {
    for (key, _) in &plan.properties {
        let client = key.starts_with("properties.");
        if !client && !STREAM_KEYS.contains(&key.as_str()) {
            return Err(Error::Usage(format!(
                "unknown WITH key '{key}' of CREATE STREAM (known: {})",
                STREAM_KEYS.join(", ")
            )));
        }
    }
    Ok(())
}

fn stream_property<'a>(plan: &'a QueryPlan, key: &str) -> Option<&'a str> {
    plan.properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Generator events per chunk: as asked, else a quarter millisecond of a paced
/// generator's events (the merger writes a chunk once it is complete, so a
/// chunk's span bounds latency), else the runtime's default.
fn chunk_events(execution: &ExecutionArgs, plan: &QueryPlan) -> Result<u64> {
    if let Some(events) = execution.chunk_events {
        return Ok(events);
    }
    let mut fastest: Option<f64> = None;
    for source in plan.sources() {
        if let Some(rate) = crate::io::pacing_rate(source)? {
            fastest = Some(fastest.map_or(rate, |f| f.max(rate)));
        }
    }
    Ok(match fastest {
        Some(rate) => ((rate / 4000.0) as u64).max(1),
        None => RuntimeConfig::default().chunk_events,
    })
}

/// The run's settings from the command line; for thread-per-core runs, the
/// executor backend the io_uring probe allows (a one-line notice when it
/// falls back to plain threads).
fn runtime_config(execution: &ExecutionArgs, plan: &QueryPlan) -> Result<RuntimeConfig> {
    let defaults = placement_config(&execution.placement, available_cores())?;
    let config = RuntimeConfig {
        batch_rows: execution.batch_rows,
        chunk_bytes: execution.chunk_bytes,
        chunk_events: chunk_events(execution, plan)?,
        max_state_bytes: execution.max_state_bytes,
        output_flush_interval: duration_option("flush-interval", &execution.flush_interval)?
            .unwrap_or(defaults.output_flush_interval),
        idle_timeout: duration_option("idle-timeout", &execution.idle_timeout)?,
        on_interrupt: match execution.on_interrupt {
            InterruptMode::Drop => OnInterrupt::Drop,
            InterruptMode::Emit => OnInterrupt::Emit,
        },
        executor: executor_kind(execution.runtime, defaults.shards)?,
        ..defaults
    };
    config.validate()?;
    Ok(config)
}

/// A non-negative duration option (`--NAME 5ms`).
fn duration_option(name: &str, value: &Option<String>) -> Result<Option<std::time::Duration>> {
    value
        .as_deref()
        .map(|v| match parse_duration(v) {
            Ok(ms) if ms >= 0 => Ok(std::time::Duration::from_millis(ms as u64)),
            Ok(_) => Err(Error::Usage(format!("--{name}: '{v}' is negative"))),
            Err(e) => Err(Error::Usage(format!("--{name}: {e}"))),
        })
        .transpose()
}

/// The shard count, cores and pinning of `args`: `--shards`, else one shard
/// per listed core, else `default_shards`.
fn placement_config(args: &PlacementArgs, default_shards: usize) -> Result<RuntimeConfig> {
    let cores = args.cores.as_deref().map(parse_core_list).transpose()?;
    let config = RuntimeConfig {
        shards: args
            .shards
            .unwrap_or_else(|| cores.as_ref().map_or(default_shards, Vec::len)),
        cores,
        pin: !args.no_pin,
        ..RuntimeConfig::default()
    };
    config.validate()?;
    Ok(config)
}

/// The executors a `--runtime` choice starts: glommio where the io_uring
/// and locked-memory probe passes (before any output is opened), else plain
/// threads (thread-per-core) or an error naming the cause (glommio).
fn executor_kind(runtime: RuntimeKind, shards: usize) -> Result<ExecutorKind> {
    let request = match runtime {
        RuntimeKind::Threads => return Ok(ExecutorKind::Threads),
        RuntimeKind::SharedLock => return Ok(ExecutorKind::Threads),
        RuntimeKind::ThreadPerCore => RuntimeRequest::Auto,
        RuntimeKind::Glommio => RuntimeRequest::Glommio,
    };
    let choice = choose_runtime(request, &Readiness::of_this_host(shards + 1))?;
    if let Some(notice) = &choice.notice {
        eprintln!("corestream: {notice}");
    }
    Ok(choice.kind)
}

/// Where the rows go: `--output`, else the stream's `output` (`None`: standard output).
fn sink_path(plan: &QueryPlan, output: &OutputArgs) -> Option<String> {
    match &output.output {
        Some(p) => Some(p.display().to_string()),
        None => stream_property(plan, "output").map(str::to_string),
    }
}

/// The Kafka sink's settings when the rows go to Kafka: an output
/// `kafka://HOST:PORT/TOPIC`, or a stream WITH ('connector' = 'kafka').
fn kafka_sink_config(plan: &QueryPlan, sink_path: Option<&str>) -> Result<Option<KafkaSinkConfig>> {
    let url = sink_path.filter(|p| p.starts_with("kafka://"));
    match stream_property(plan, "connector") {
        Some(c) if c.eq_ignore_ascii_case("kafka") => {}
        Some(c) if url.is_none() => {
            return Err(Error::Usage(format!(
                "unknown output connector '{c}' of CREATE STREAM (known: kafka)"
            )))
        }
        _ if url.is_none() => return Ok(None),
        _ => {}
    }
    kafka::sink_config(&plan.properties, url).map(Some)
}

/// Where late records go, named by the columns of the source they came from.
fn dead_letter_file(plan: &QueryPlan, writer: DeadLetterWriter) -> DeadLetterFile {
    match (&plan.join, &plan.union) {
        (Some(join), Some(union)) if union.branches.len() == 2 => {
            let sides = [0, 1].map(|b| union.branches[b].source.schema.clone());
            DeadLetterFile::of_join(writer, sides, join)
        }
        _ => DeadLetterFile::new(writer, plan.source.schema.clone()),
    }
}

/// The dead-letter file and the signals that interrupt the run, with `sink`.
fn open_outputs(
    plan: &QueryPlan,
    output: &OutputArgs,
    sink: Box<dyn RowSink + Send>,
) -> Result<RunIo> {
    let dead_letter_path = match &output.dead_letter {
        Some(p) => Some(p.clone()),
        None => stream_property(plan, "dead_letter").map(std::path::PathBuf::from),
    };
    let dead_letters = match dead_letter_path {
        Some(p) => Some(
            Box::new(dead_letter_file(plan, DeadLetterWriter::create(&p)?))
                as Box<dyn DeadLetters + Send>,
        ),
        None => None,
    };
    Ok(RunIo {
        sink,
        dead_letters,
        limit: None,
        interrupts: Some(Interrupts::signals()?),
        live: None,
    })
}

/// `--format`, else the stream's `output.format`, else the output's extension, else jsonl.
fn output_format(
    output: &OutputArgs,
    plan: &QueryPlan,
    path: Option<&str>,
) -> Result<OutputFormat> {
    let named = output
        .format
        .as_deref()
        .or_else(|| stream_property(plan, "output.format"))
        .or_else(|| stream_property(plan, "format"));
    if let Some(name) = named {
        return name.parse();
    }
    let extension = path
        .and_then(|p| std::path::Path::new(p).extension())
        .and_then(|e| e.to_str());
    Ok(match extension {
        Some(e) if e.eq_ignore_ascii_case("csv") => OutputFormat::Csv,
        _ => OutputFormat::Jsonl,
    })
}

fn summarize(report: &RunReport, config: &RuntimeConfig, runtime: RuntimeKind) -> RunSummary {
    let placements = match runtime {
        RuntimeKind::SharedLock => Vec::new(),
        _ => crate::runtime::placement_cores(config),
    };
    RunSummary {
        records_read: report.records_read,
        records_processed: report.records_processed,
        records_filtered: report.records_filtered,
        records_late: report.records_late,
        records_malformed: report.records_malformed,
        records_discarded: report.records_discarded,
        rows_emitted: report.rows_emitted,
        elapsed_seconds: report.elapsed_seconds,
        records_per_second: report.records_per_second,
        runtime: match runtime {
            RuntimeKind::SharedLock => "shared-lock".into(),
            _ => format!("thread-per-core ({})", config.executor.name()),
        },
        shards: report
            .shards
            .iter()
            .map(|s| ShardSummary {
                shard: s.shard,
                core: placements.get(s.shard).copied().flatten(),
                records_read: s.records_in,
                records_in: s.engine.records_in,
                rows_out: s.rows_out,
                batches: s.batches_received,
                channel_full_waits: s.channel_full_waits,
                busy_seconds: s.busy.as_secs_f64(),
            })
            .collect(),
        latency_us: LatencySummary {
            p50: report.latency_p50_us(),
            p90: report.latency_p90_us(),
            p99: report.latency_p99_us(),
            p999: report.latency_p999_us(),
            max: report.latency_max_us(),
            count: report.latency.len(),
        },
        interrupted: report.interrupted_by.is_some(),
        signal: report.interrupted_by.map(signal_name),
        open_windows_at_interrupt: report.open_windows_at_interrupt,
        open_windows_emitted: report.interrupted_by.is_some()
            && config.on_interrupt == OnInterrupt::Emit,
        rows_after_interrupt: report.rows_after_interrupt,
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}

/// Prints the summary and writes `--stats-json` and `--latency-histogram`.
fn report_run(summary: &RunSummary, report: &RunReport, output: &OutputArgs) -> Result<()> {
    if !output.quiet {
        eprint!("{}", summary.to_text());
    }
    if let Some(path) = &output.stats_json {
        let json = serde_json::to_string_pretty(summary)
            .map_err(|e| Error::Runtime(format!("cannot encode the summary: {e}")))?;
        write_file(path, json.as_bytes())?;
    }
    if let Some(path) = &output.latency_histogram {
        write_file(path, report.latency_hgrm().as_bytes())?;
    }
    Ok(())
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path.display().to_string(), e))
}
