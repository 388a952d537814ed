//! The metrics endpoint (`--metrics-address`): Prometheus text exposition of
//! a run's latest [`LiveSnapshot`] at `/metrics`, encoded with
//! `prometheus-client` and answered by a small blocking HTTP server
//! (`tiny_http`). The watcher thread that owns the snapshot answers the
//! requests, so nothing is shared with the runtime.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::error::{Error, Result};
use crate::runtime::{LiveShard, LiveSnapshot};

/// Upper bounds (seconds) of the sink latency histogram's buckets, from
/// 50 µs to 10 s (a `+Inf` bucket follows).
const LATENCY_BUCKETS_SECONDS: [f64; 17] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

const MICROS_PER_SECOND: f64 = 1_000_000.0;

/// The metrics of one snapshot, taken at one moment (`now_ms`, for watermark lag).
#[derive(Debug)]
struct SnapshotMetrics {
    totals: Vec<(&'static str, &'static str, u64)>,
    shards: Vec<LiveShard>,
    now_ms: i64,
    latency: LatencyBuckets,
}

impl SnapshotMetrics {
    fn new(snapshot: &LiveSnapshot, now_ms: i64) -> Self {
        SnapshotMetrics {
            totals: vec![
                (
                    "records_read",
                    "Records read from the sources, malformed ones included.",
                    snapshot.records_read,
                ),
                (
                    "records_processed",
                    "Records the query processed.",
                    snapshot.records_processed,
                ),
                (
                    "records_filtered",
                    "Records the query's WHERE dropped.",
                    snapshot.records_filtered,
                ),
                (
                    "records_late",
                    "Records that arrived behind the watermark.",
                    snapshot.records_late,
                ),
                (
                    "records_malformed",
                    "Records that did not parse.",
                    snapshot.records_malformed,
                ),
                (
                    "rows_emitted",
                    "Rows handed to the operating system by the sink.",
                    snapshot.rows_emitted,
                ),
                (
                    "input_bytes_read",
                    "Bytes of input files read.",
                    snapshot.bytes_read,
                ),
            ],
            shards: snapshot.shards.clone(),
            now_ms,
            latency: LatencyBuckets::of(&snapshot.latency),
        }
    }

    fn encode_totals(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        for (name, help, value) in &self.totals {
            let counter = ConstCounter::new(*value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }

    fn encode_shards(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        self.encode_per_shard(
            encoder,
            (
                "shard_records_read",
                "Records read by each shard's sources.",
            ),
            None,
            |s| Some(Value::Count(s.records_read)),
        )?;
        self.encode_per_shard(
            encoder,
            (
                "shard_records_in",
                "Records that reached each shard's engine.",
            ),
            None,
            |s| Some(Value::Count(s.records_in)),
        )?;
        self.encode_per_shard(
            encoder,
            (
                "shard_busy",
                "Time each shard spent reading, parsing, routing and in its engine.",
            ),
            Some(Unit::Seconds),
            |s| Some(Value::Seconds(s.busy.as_secs_f64())),
        )?;
        self.encode_per_shard(
            encoder,
            (
                "shard_channel_full_waits",
                "Sends of each shard that found their channel full and waited.",
            ),
            None,
            |s| Some(Value::Count(s.channel_full_waits)),
        )?;
        self.encode_per_shard(
            encoder,
            (
                "shard_watermark_lag",
                "Wall clock minus each shard's event-time watermark.",
            ),
            Some(Unit::Seconds),
            |s| {
                s.watermark_ms
                    .map(|w| Value::Gauge((self.now_ms - w) as f64 / 1000.0))
            },
        )
    }

    /// One metric family with a `shard` label per shard that has a value.
    fn encode_per_shard(
        &self,
        encoder: &mut DescriptorEncoder,
        (name, help): (&str, &str),
        unit: Option<Unit>,
        value: impl Fn(&LiveShard) -> Option<Value>,
    ) -> std::fmt::Result {
        let values: Vec<(String, Value)> = self
            .shards
            .iter()
            .filter_map(|s| value(s).map(|v| (s.shard.to_string(), v)))
            .collect();
        let Some((_, first)) = values.first() else {
            return Ok(());
        };
        let mut family = encoder.encode_descriptor(name, help, unit.as_ref(), first.kind())?;
        for (shard, value) in &values {
            value.encode(family.encode_family(&[("shard", shard.as_str())])?)?;
        }
        Ok(())
    }

    fn encode_latency(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let mut metric = encoder.encode_descriptor(
            "sink_latency",
            "From a record being read to the row it caused reaching the operating system.",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        let l = &self.latency;
        metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            l.sum_seconds,
            l.count,
            &l.buckets,
            None,
        )
    }
}

impl Collector for SnapshotMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        self.encode_totals(&mut encoder)?;
        self.encode_shards(&mut encoder)?;
        self.encode_latency(&mut encoder)
    }
}

/// A per-shard value and the metric type it is exposed as.
#[derive(Debug, Clone, Copy)]
enum Value {
    Count(u64),
    Seconds(f64),
    Gauge(f64),
}

impl Value {
    fn kind(self) -> MetricType {
        match self {
            Value::Count(_) | Value::Seconds(_) => MetricType::Counter,
            Value::Gauge(_) => MetricType::Gauge,
        }
    }

    fn encode(self, encoder: prometheus_client::encoding::MetricEncoder) -> std::fmt::Result {
        match self {
            Value::Count(v) => ConstCounter::new(v).encode(encoder),
            Value::Seconds(v) => ConstCounter::new(v).encode(encoder),
            Value::Gauge(v) => ConstGauge::new(v).encode(encoder),
        }
    }
}

/// An hdrhistogram of microseconds as Prometheus buckets of seconds.
#[derive(Debug, PartialEq)]
struct LatencyBuckets {
    sum_seconds: f64,
    count: u64,
    /// (upper bound in seconds, values in this bucket only), ending with `+Inf`.
    buckets: Vec<(f64, u64)>,
}

impl LatencyBuckets {
    fn of(histogram: &Histogram<u64>) -> Self {
        let bounds: Vec<f64> = LATENCY_BUCKETS_SECONDS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .collect();
        let mut counts = vec![0u64; bounds.len()];
        for recorded in histogram.iter_recorded() {
            let lowest = histogram.lowest_equivalent(recorded.value_iterated_to());
            let seconds = lowest as f64 / MICROS_PER_SECOND;
            let bucket = bounds.partition_point(|&bound| bound < seconds);
            counts[bucket] += recorded.count_at_value();
        }
        LatencyBuckets {
            sum_seconds: histogram.mean() * histogram.len() as f64 / MICROS_PER_SECOND,
            count: histogram.len(),
            buckets: bounds.into_iter().zip(counts).collect(),
        }
    }
}

fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The Prometheus text exposition of `snapshot` (no metrics before the first).
fn exposition(snapshot: Option<&LiveSnapshot>, now_ms: i64) -> String {
    let mut registry = Registry::with_prefix("corestream");
    if let Some(snapshot) = snapshot {
        registry.register_collector(Box::new(SnapshotMetrics::new(snapshot, now_ms)));
    }
    let mut text = String::new();
    // Writing into a String cannot fail; the encoder's own checks do not apply
    // to the names used here.
    if prometheus_text::encode(&mut text, &registry).is_err() {
        text.clear();
    }
    text
}

/// The listening endpoint. Requests are answered by whoever holds the latest
/// snapshot, through [`MetricsServer::answer_pending`].
pub(crate) struct MetricsServer {
    server: Server,
    address: SocketAddr,
}

impl MetricsServer {
    /// Listens on `address` (`HOST:PORT`; port 0 picks a free port).
    pub(crate) fn bind(address: &str) -> Result<Self> {
        let cannot = |why: String| {
            Error::Usage(format!(
                "--metrics-address {address}: cannot serve metrics there: {why}"
            ))
        };
        let server = Server::http(address).map_err(|e| cannot(e.to_string()))?;
        let bound = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| cannot("not a TCP address".into()))?;
        Ok(MetricsServer {
            server,
            address: bound,
        })
    }

    /// The address actually bound (the chosen port when asked for port 0).
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Answers every request that has arrived, without waiting for more.
    pub(crate) fn answer_pending(&self, snapshot: Option<&LiveSnapshot>) {
        while let Ok(Some(request)) = self.server.try_recv() {
            answer(request, snapshot);
        }
    }
}

fn answer(request: Request, snapshot: Option<&LiveSnapshot>) {
    let path = request.url().split('?').next().unwrap_or("");
    let response = match (request.method(), path) {
        (Method::Get | Method::Head, "/metrics") => {
            Response::from_string(exposition(snapshot, unix_now_ms()))
                .with_header(content_type(prometheus_text::CONTENT_TYPE))
        }
        (Method::Get | Method::Head, _) => {
            Response::from_string("not found: metrics are at /metrics\n").with_status_code(404)
        }
        _ => Response::from_string("only GET /metrics\n").with_status_code(405),
    };
    // A scraper that hung up early is no concern of the run.
    let _ = request.respond(response);
}

fn content_type(value: &str) -> Header {
    Header::from_bytes("Content-Type", value).expect("a constant content type is a valid header")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::watch::test_snapshot;
    use std::time::Duration;

    fn value_of<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
    }

    fn assert_series(text: &str, expected: &[(&str, &str)]) {
        for (series, value) in expected {
            assert_eq!(value_of(text, series), Some(*value), "{series} in\n{text}");
        }
    }

    fn snapshot_with_shards() -> LiveSnapshot {
        let mut s = test_snapshot(3_000, 900);
        s.records_processed = 800;
        s.records_filtered = 60;
        s.records_late = 30;
        s.records_malformed = 10;
        s.rows_emitted = 700;
        s.shards = vec![
            LiveShard {
                shard: 0,
                records_read: 500,
                records_in: 450,
                busy: Duration::from_millis(1_250),
                channel_full_waits: 4,
                watermark_ms: Some(1_000_000),
            },
            LiveShard {
                shard: 1,
                records_read: 400,
                records_in: 450,
                busy: Duration::from_millis(500),
                channel_full_waits: 0,
                watermark_ms: None,
            },
        ];
        for us in [40, 90, 1_000, 1_001, 30_000] {
            s.latency.record(us).expect("in range");
        }
        s
    }

    #[test]
    fn totals_are_counters() {
        let text = exposition(Some(&snapshot_with_shards()), 1_005_000);
        assert!(
            text.contains("# TYPE corestream_records_read_total counter"),
            "{text}"
        );
        assert_series(
            &text,
            &[
                ("corestream_records_read_total", "900"),
                ("corestream_records_processed_total", "800"),
                ("corestream_records_filtered_total", "60"),
                ("corestream_records_late_total", "30"),
                ("corestream_records_malformed_total", "10"),
                ("corestream_rows_emitted_total", "700"),
            ],
        );
    }

    #[test]
    fn shards_are_labelled_and_lag_is_now_minus_watermark() {
        let text = exposition(Some(&snapshot_with_shards()), 1_005_000);
        assert_series(
            &text,
            &[
                ("corestream_shard_records_read_total{shard=\"1\"}", "400"),
                ("corestream_shard_records_in_total{shard=\"0\"}", "450"),
                ("corestream_shard_busy_seconds_total{shard=\"0\"}", "1.25"),
                (
                    "corestream_shard_channel_full_waits_total{shard=\"0\"}",
                    "4",
                ),
                ("corestream_shard_watermark_lag_seconds{shard=\"0\"}", "5.0"),
            ],
        );
        assert!(
            !text.contains("corestream_shard_watermark_lag_seconds{shard=\"1\"}"),
            "a shard without a watermark has no lag:\n{text}"
        );
    }

    #[test]
    fn latency_is_a_cumulative_histogram_in_seconds() {
        let text = exposition(Some(&snapshot_with_shards()), 0);
        assert!(
            text.contains("# TYPE corestream_sink_latency_seconds histogram"),
            "{text}"
        );
        assert_series(
            &text,
            &[
                ("corestream_sink_latency_seconds_bucket{le=\"5e-05\"}", "1"),
                ("corestream_sink_latency_seconds_bucket{le=\"0.0001\"}", "2"),
                ("corestream_sink_latency_seconds_bucket{le=\"0.001\"}", "3"),
                ("corestream_sink_latency_seconds_bucket{le=\"0.0025\"}", "4"),
                ("corestream_sink_latency_seconds_bucket{le=\"0.025\"}", "4"),
                ("corestream_sink_latency_seconds_bucket{le=\"0.05\"}", "5"),
                ("corestream_sink_latency_seconds_bucket{le=\"+Inf\"}", "5"),
                ("corestream_sink_latency_seconds_count", "5"),
            ],
        );
        let sum: f64 = value_of(&text, "corestream_sink_latency_seconds_sum")
            .and_then(|v| v.parse().ok())
            .expect("a sum");
        assert!((sum - 0.032_131).abs() < 0.000_1, "sum {sum}");
    }

    #[test]
    fn before_the_first_snapshot_there_are_no_metrics() {
        let text = exposition(None, 0);
        assert!(!text.contains("corestream_"), "{text}");
    }

    #[test]
    fn a_taken_address_is_a_usage_error_naming_it() {
        let first = MetricsServer::bind("127.0.0.1:0").expect("bind");
        let taken = first.address().to_string();
        let error = MetricsServer::bind(&taken)
            .err()
            .expect("second bind fails");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains(&taken), "{error}");
        let error = MetricsServer::bind("no-such-host.invalid:1")
            .err()
            .expect("fails");
        assert!(error.to_string().contains("--metrics-address"), "{error}");
    }
}
