//! corestream: a thread-per-core, shared-nothing streaming SQL engine.
//!
//! Data flows through the modules top to bottom: [`sql`] parses, [`plan`]
//! resolves and type-checks, [`engine`] runs one partition, [`runtime`] spreads
//! partitions over cores, [`io`] reads sources and writes sinks, and [`cli`] wires
//! it together. [`baseline`] is the shared-lock design corestream is measured
//! against. [`data`] holds the values and batches they all share.

pub mod baseline;
pub mod cli;
pub mod data;
pub mod engine;
pub mod error;
pub mod io;
pub mod plan;
pub mod runtime;
pub mod sql;

pub use cli::plan_script;
pub use error::{Error, Result};
