//! A librdkafka mock cluster for scripts: creates the topics named on the
//! command line (`NAME:PARTITIONS`), prints the bootstrap servers on one
//! line, and serves until standard input closes.
//!
//!   cargo run --release --example kafka_mock -- in:16 out:4

use rdkafka::mocking::MockCluster;
use std::io::{Read, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cluster = MockCluster::new(1)?;
    for arg in std::env::args().skip(1) {
        let (name, partitions) = arg.split_once(':').unwrap_or((arg.as_str(), "1"));
        cluster.create_topic(name, partitions.parse()?, 1)?;
    }
    let mut out = std::io::stdout();
    writeln!(out, "{}", cluster.bootstrap_servers())?;
    out.flush()?;
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    Ok(())
}
