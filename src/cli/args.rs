//! Command-line arguments (clap): the `run`, `explain`, `demo` and `doctor`
//! subcommands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// corestream: a thread-per-core, shared-nothing streaming SQL engine.
///
/// Runs windowed SQL aggregations over CSV and JSON-lines files, standard
/// input and built-in generators, one pinned executor per core.
#[derive(Debug, Parser)]
#[command(name = "corestream", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a query and write its results.
    ///
    /// Example: corestream run -e "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol"
    /// --source trades=trades.csv
    Run(RunArgs),
    /// Print the typed plan of a query without running it.
    Explain(ExplainArgs),
    /// Run a tumbling-window aggregation over the built-in trades generator.
    Demo(DemoArgs),
    /// Report what decides latency on this host: io_uring and the runtime a
    /// run will use, locked memory, isolated CPUs, SMT siblings, NUMA nodes,
    /// frequency governors, and the placement --shards N would choose.
    Doctor(DoctorArgs),
}

/// Where the SQL comes from and what the sources are.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// File with the SQL script (source DDL and one query). Relative paths in
    /// it ('path', 'output', 'dead_letter') are relative to the script's directory.
    #[arg(value_name = "QUERY.sql", required_unless_present = "execute")]
    pub query_file: Option<PathBuf>,

    /// The SQL script given inline instead of a file (it may start with a
    /// `-- comment`). Relative paths in it are relative to the working directory.
    #[arg(
        short = 'e',
        long = "execute",
        value_name = "SQL",
        conflicts_with = "query_file",
        allow_hyphen_values = true
    )]
    pub execute: Option<String>,

    /// A source table: NAME=PATH. The format comes from the extension (.csv,
    /// .jsonl, .ndjson, .json) or --source-option NAME.format=csv|jsonl; without
    /// DDL the schema is inferred from the file. PATH `-` is standard input, whose
    /// schema must be declared with CREATE TABLE. PATH `generator:trades` is the
    /// built-in trades generator, `generator:nexmark` the Nexmark generator (with
    /// --source-option NAME.table=person|auction|bid). Repeatable.
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,

    /// A WITH property of a source: NAME.KEY=VALUE (e.g. trades.delimiter=;
    /// or trades.events=1000000). Repeatable; overrides the DDL's WITH.
    #[arg(long = "source-option", value_name = "NAME.KEY=VALUE")]
    pub source_options: Vec<String>,

    /// Follow every file source like `tail -F`: read to the end, then keep
    /// reading what is appended (surviving rotation and truncation) until
    /// interrupted. Same as WITH ('follow' = 'true').
    #[arg(long)]
    pub follow: bool,

    /// Watermark delay: how far event time may run out of order (e.g. 5s).
    /// Overrides the query's WITH ('max_out_of_orderness' = ..). Default 0.
    #[arg(long, value_name = "DURATION")]
    pub max_out_of_orderness: Option<String>,

    /// Write the output as a changelog: a first column `op` with the row kind
    /// (`+I` insert, `-U`/`+U` the old and new row of an update, `-D` delete),
    /// so that applying it gives the EMIT FINAL result. Same as WITH
    /// ('changelog.mode' = 'retract'); implied by --format debezium-json.
    #[arg(long)]
    pub changelog: bool,

    /// How long a window stays open after the watermark passes its end
    /// (e.g. 2s). Overrides WITH ('allowed_lateness' = ..). Default 0.
    #[arg(long, value_name = "DURATION")]
    pub allowed_lateness: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeKind {
    /// One pinned executor per shard, shared nothing (the default): glommio
    /// where io_uring is available, plain pinned threads where it is not.
    ThreadPerCore,
    /// Thread-per-core on glommio executors (fails if io_uring is blocked).
    Glommio,
    /// Thread-per-core on plain pinned threads (no io_uring needed).
    Threads,
    /// For comparison, a shared-lock design like Velostream's V2: partitions
    /// share one engine behind a read-write lock, copying state out and back per batch.
    SharedLock,
}

/// What an interrupted run does with windows that had not closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InterruptMode {
    /// Drop them: the output is an exact prefix of the uninterrupted output.
    Drop,
    /// Write them after that prefix, as they stood (partial results).
    Emit,
}

/// How many shards, and which cores they are pinned to.
#[derive(Debug, Args)]
pub struct PlacementArgs {
    /// Number of shards (partitions), each with its own executor and engine.
    /// Default: the number of cores available to the process.
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,

    /// Cores to pin shards and the merger to, like 0-3,8 (isolated CPUs are
    /// used only when listed here). Default: the available cores that are not
    /// isolated, shards on distinct physical cores first, within one NUMA node
    /// when they fit.
    #[arg(long, value_name = "LIST")]
    pub cores: Option<String>,

    /// Do not pin executors to cores.
    #[arg(long)]
    pub no_pin: bool,
}

/// How the query is spread over cores.
#[derive(Debug, Args)]
pub struct ExecutionArgs {
    #[command(flatten)]
    pub placement: PlacementArgs,

    /// The runtime that drives the engines.
    #[arg(long, value_enum, default_value = "thread-per-core")]
    pub runtime: RuntimeKind,

    /// Rows per batch moved between cores.
    #[arg(long, value_name = "ROWS", default_value_t = 1024)]
    pub batch_rows: usize,

    /// Bytes of a file per input chunk. Chunks are dealt out to the shards in
    /// turn; the merger writes a chunk's output once every shard is done with it.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub chunk_bytes: u64,

    /// The longest a result row waits in the output buffer before it is
    /// written (e.g. 5ms). Rows go out at once when the stream is slow, in
    /// large writes under load.
    #[arg(long, value_name = "DURATION")]
    pub flush_interval: Option<String>,

    /// When a stream (standard input, a pipe, a followed file) has had no
    /// record for this long, its watermark moves on with the wall clock, so
    /// windows close on a quiet stream (e.g. 5s). Default: off.
    #[arg(long, value_name = "DURATION")]
    pub idle_timeout: Option<String>,

    /// On SIGINT/SIGTERM: drop the windows that had not closed (the output
    /// is an exact prefix of the uninterrupted output), or emit them as
    /// they stood. The run exits 130 (SIGINT) or 143 (SIGTERM).
    #[arg(long, value_enum, default_value = "drop")]
    pub on_interrupt: InterruptMode,

    /// Generator events per input chunk (default: 65536, or 0.25 ms worth of
    /// events when the generator is paced by 'rate', for low latency).
    #[arg(long, value_name = "EVENTS")]
    pub chunk_events: Option<u64>,

    /// End the run with an error once the query's state (groups, windows,
    /// strings and DISTINCT sets held) would exceed SIZE, e.g. 512MiB or 2G
    /// (G = 10^9 bytes, GiB = 2^30). Default: no limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_byte_size)]
    pub max_state_bytes: Option<u64>,
}

/// `512MiB`, `2G`, `1.5 GiB`, `1000000`: a positive number of bytes.
fn parse_byte_size(text: &str) -> Result<u64, String> {
    let bytes = text
        .trim()
        .parse::<bytesize::ByteSize>()
        .map_err(|e| format!("'{text}' is not a size like 512MiB or 2G ({e})"))?
        .as_u64();
    if bytes == 0 {
        return Err("the size must be more than 0 bytes".into());
    }
    Ok(bytes)
}

/// Where results, rejects and statistics go.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output file. Default: standard output.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format: jsonl (one JSON object per row, keys in SELECT order),
    /// csv (with a header line), debezium-json (a changelog in Debezium's
    /// envelope: {"before":..,"after":..,"op":"c"|"d"}), or blackhole (count
    /// rows, write nothing). Default: from the output's extension, else jsonl.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Write malformed and late records here, one JSON object per line.
    #[arg(long, value_name = "PATH")]
    pub dead_letter: Option<PathBuf>,

    /// Write the run summary as JSON here.
    #[arg(long, value_name = "PATH")]
    pub stats_json: Option<PathBuf>,

    /// Write the end-to-end latency distribution here, in HdrHistogram's
    /// percentile text format (.hgrm).
    #[arg(long, value_name = "PATH")]
    pub latency_histogram: Option<PathBuf>,

    /// Do not print the run summary or the progress display on standard error.
    #[arg(short, long)]
    pub quiet: bool,

    /// Serve Prometheus metrics of the running query at
    /// http://HOST:PORT/metrics (e.g. 127.0.0.1:9464; port 0 picks a free
    /// port). The address is printed on standard error.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_address: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    #[command(flatten)]
    pub execution: ExecutionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub query: QueryArgs,

    /// Also show the cores a run with the same --shards, --cores and --no-pin
    /// would pin its shards and merger to (implied by any of those three).
    #[arg(long)]
    pub placement: bool,

    #[command(flatten)]
    pub cores: PlacementArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub placement: PlacementArgs,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,

    /// Read the CPU topology from this tree instead of / (for tests).
    #[arg(long, value_name = "PATH", hide = true)]
    pub sysfs_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of generated trades.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,

    /// Distinct symbols in the generated trades.
    #[arg(long, default_value_t = 5)]
    pub keys: u64,

    #[command(flatten)]
    pub execution: ExecutionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
