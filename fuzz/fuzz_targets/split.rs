//! Fuzz target `split`: reading a file in chunks of any size gives what reading it whole gives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corestream_fuzz::checks::split(data));
