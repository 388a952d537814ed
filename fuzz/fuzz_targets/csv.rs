//! Fuzz target `csv`: reading any CSV text with a declared schema never panics and keeps the reading invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corestream_fuzz::checks::csv(data));
