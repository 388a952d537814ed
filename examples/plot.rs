//! Draws the benchmark plots as SVG from `scripts/bench.sh`'s results.
//!
//! ```sh
//! cargo run --release --example plot -- target/bench/results.json target/bench [NAME=FILE.hgrm ...]
//! ```
//!
//! Writes `OUT_DIR/throughput_vs_shards.svg` (records/s against shard count,
//! one line per runtime, from the `scaling` suite) and, when histograms are
//! given, `OUT_DIR/latency_percentiles.svg` (end-to-end latency against
//! percentile on the usual HdrHistogram axis, 1/(1-p) log-scaled).

use plotters::prelude::*;
use serde_json::Value as Json;
use std::error::Error;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const SIZE: (u32, u32) = (900, 560);
/// The smallest latency drawn (1 us), so that the log axis has a floor.
const MIN_MS: f64 = 0.001;
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// One line of a plot: a name and its points.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// The `scaling` suite's medians, one series per runtime, by shard count.
fn scaling_series(results: &Json) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    let rows = results["results"].as_array().cloned().unwrap_or_default();
    for row in rows.iter().filter(|r| r["suite"] == "scaling") {
        let (Some(runtime), Some(shards), Some(rate)) = (
            row["runtime"].as_str(),
            row["shards"].as_f64(),
            row["records_per_second"].as_f64(),
        ) else {
            continue;
        };
        let point = (shards, rate / 1e6);
        match series.iter_mut().find(|s| s.name == runtime) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                name: runtime.to_string(),
                points: vec![point],
            }),
        }
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    series
}

fn plot_scaling(series: &[Series], machine: &str, out: &Path) -> Result<()> {
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let max_y = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let root = SVGBackend::new(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Throughput vs shards (tumbling GROUP BY, 10k keys) - {machine}"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.5..max_x + 0.5, 0.0..max_y * 1.15 + 0.01)?;
    chart
        .configure_mesh()
        .x_desc("shards")
        .y_desc("million records/s (median of runs)")
        .x_labels((max_x as usize + 1).min(17))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(s.points.clone(), color.stroke_width(2)))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The (1/(1-p), latency ms) points of an HdrHistogram percentile file
/// (corestream writes its `.hgrm` values in milliseconds).
fn read_hgrm(path: &Path) -> Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut points = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let fields: Vec<f64> = line
            .split_whitespace()
            .map_while(|f| f.parse::<f64>().ok())
            .collect();
        if let [value, percentile, _count, ..] = fields[..] {
            if percentile < 1.0 {
                points.push((1.0 / (1.0 - percentile), value));
            }
        }
    }
    if points.is_empty() {
        return Err(format!("{}: no percentile lines", path.display()).into());
    }
    Ok(points)
}

fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let text = format!("{p:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

fn plot_latency(series: &[Series], machine: &str, out: &Path) -> Result<()> {
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(10.0, f64::max);
    let values = || series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let max_y = values().fold(MIN_MS, f64::max);
    let min_y = values().fold(max_y, f64::min).max(MIN_MS);
    let root = SVGBackend::new(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("End-to-end latency by percentile - {machine}"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1.0..max_x * 1.5).log_scale(),
            (min_y / 1.5..max_y * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_label_formatter(&|x| percentile_label(*x))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|&(x, y)| (x, y.max(MIN_MS))),
                color.stroke_width(2),
            ))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

/// `NAME=PATH` or a bare path (named after its file stem).
fn histogram_arg(arg: &str) -> (String, PathBuf) {
    match arg.split_once('=') {
        Some((name, path)) => (name.to_string(), PathBuf::from(path)),
        None => {
            let path = PathBuf::from(arg);
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| arg.to_string());
            (name, path)
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let [results_path, out_dir, histograms @ ..] = args else {
        return Err("usage: plot RESULTS.json OUT_DIR [NAME=FILE.hgrm ...]".into());
    };
    let out_dir = Path::new(out_dir);
    std::fs::create_dir_all(out_dir)?;
    let text = std::fs::read_to_string(results_path).map_err(|e| format!("{results_path}: {e}"))?;
    let results: Json = serde_json::from_str(&text).map_err(|e| format!("{results_path}: {e}"))?;
    let machine = results["machine"].as_str().unwrap_or("this machine");

    let scaling = scaling_series(&results);
    if scaling.is_empty() {
        eprintln!("plot: no scaling results in {results_path}; skipping throughput_vs_shards.svg");
    } else {
        let out = out_dir.join("throughput_vs_shards.svg");
        plot_scaling(&scaling, machine, &out)?;
        println!("wrote {}", out.display());
    }

    let mut latency = Vec::new();
    for arg in histograms {
        let (name, path) = histogram_arg(arg);
        latency.push(Series {
            name,
            points: read_hgrm(&path)?,
        });
    }
    if !latency.is_empty() {
        let out = out_dir.join("latency_percentiles.svg");
        plot_latency(&latency, machine, &out)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plot: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
