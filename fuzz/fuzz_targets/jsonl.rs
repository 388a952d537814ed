//! Fuzz target `jsonl`: reading any JSON-lines text never panics and keeps the reading invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corestream_fuzz::checks::jsonl(data));
