//! Fuzz target `sql`: parsing and planning any SQL script never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corestream_fuzz::checks::sql(data));
