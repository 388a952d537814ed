//! The `corestream` binary: see `corestream --help`.

fn main() {
    std::process::exit(corestream::cli::main_entry());
}
