//! corestream's fuzz targets: each one in `fuzz_targets/` hands its input to
//! a check in [`checks`], the file `tests/hostile_input.rs` also runs on every
//! saved input.

pub mod checks;
