//! CLI: argument parsing, wiring of sql, plan, runtime and io, exit codes and
//! the run summary. It holds no logic a library user would need.

mod args;
mod catalog;
mod signals;
mod summary;

pub use args::{Cli, Command};
pub use summary::{LatencySummary, RunSummary, ShardSummary};

use crate::data::parse_duration;
use crate::error::{Error, Result};
use crate::plan::{plan_query, PlanSettings, QueryPlan};
use args::{DemoArgs, ExecutionArgs, OutputArgs, QueryArgs, RunArgs};
use catalog::{build_catalog, split_script, SourceOverrides};
use clap::Parser;

/// Parses the process arguments, runs the command and returns the exit status:
/// 0 on success, 2 for a usage or SQL error, 1 for a failure while running.
pub fn main_entry() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("corestream: error: {e}");
            e.exit_code()
        }
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => run_command(&args),
        Command::Explain(args) => {
            let plan = plan_from_args(&args)?;
            print!("{}", plan.explain());
            Ok(())
        }
        Command::Demo(args) => demo_command(&args),
    }
}

fn run_command(args: &RunArgs) -> Result<()> {
    let plan = plan_from_args(&args.query)?;
    execute(&plan, &args.execution, &args.output)
}

/// The demo: per-minute OHLC-style statistics per symbol over generated trades.
fn demo_command(args: &DemoArgs) -> Result<()> {
    let sql = demo_sql(args.events, args.keys);
    eprintln!("corestream demo: running\n{sql}\n");
    let text_args = QueryArgs {
        query_file: None,
        execute: Some(sql),
        sources: Vec::new(),
        source_options: Vec::new(),
        max_out_of_orderness: None,
        allowed_lateness: None,
    };
    let plan = plan_from_args(&text_args)?;
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

/// Reads, parses and plans the query the arguments name.
fn plan_from_args(args: &QueryArgs) -> Result<QueryPlan> {
    let text = match (&args.execute, &args.query_file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| Error::io(path.display().to_string(), e))?,
        (None, None) => return Err(Error::Usage("give a QUERY.sql file or -e 'SQL'".into())),
    };
    let script = split_script(crate::sql::parse_sql(&text)?)?;
    let overrides = SourceOverrides::parse(&args.sources, &args.source_options)?;
    let catalog = build_catalog(&script.sources, &overrides)?;
    plan_query(&script.query, &catalog, &plan_settings(args)?)
}

fn plan_settings(args: &QueryArgs) -> Result<PlanSettings> {
    let duration = |option: &str, value: &Option<String>| -> Result<Option<i64>> {
        value
            .as_deref()
            .map(|v| parse_duration(v).map_err(|e| Error::Usage(format!("--{option}: {e}"))))
            .transpose()
    };
    Ok(PlanSettings {
        max_out_of_orderness_ms: duration("max-out-of-orderness", &args.max_out_of_orderness)?,
        allowed_lateness_ms: duration("allowed-lateness", &args.allowed_lateness)?,
    })
}

/// Runs a planned query: opens the sources (so a missing file fails before any
/// output), the sink and the dead-letter file, runs, and reports.
fn execute(plan: &QueryPlan, execution: &ExecutionArgs, output: &OutputArgs) -> Result<()> {
    let _ = (plan, execution, output);
    Err(Error::Runtime("not wired yet".into()))
}
