//! The house rule of the data path: no locks and no shared atomic state in
//! `engine`, `runtime` and `io`. The shared-lock baseline (the one module that
//! exists to be compared against) lives outside them, in `src/baseline`.

use std::path::{Path, PathBuf};

const FORBIDDEN: [&str; 6] = [
    "Mutex",
    "RwLock",
    "AtomicBool",
    "AtomicU",
    "AtomicI",
    "std::sync::atomic",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines that use a forbidden name, ignoring comments.
fn violations(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for module in ["src/engine", "src/runtime", "src/io"] {
        rust_files(&root.join(module), &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("read source file");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if FORBIDDEN.iter().any(|word| code.contains(word)) {
                found.push(format!("{relative}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn no_locks_or_shared_atomics_in_the_data_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = violations(root);
    assert!(
        found.is_empty(),
        "locks or atomics in the data path:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_a_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = dir.path().join("src/engine");
    std::fs::create_dir_all(&engine).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("src/runtime")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("src/io")).expect("mkdir");
    std::fs::write(
        engine.join("bad.rs"),
        "use std::sync::Mutex; // shared state\n",
    )
    .expect("write");
    std::fs::write(engine.join("fine.rs"), "// a Mutex in a comment is fine\n").expect("write");
    let found = violations(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("bad.rs:1"));
}
