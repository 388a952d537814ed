//! The files a run writes (`--output`, `--dead-letter`, `--stats-json`,
//! `--latency-histogram` and the query's WITH ('output' / 'dead_letter')):
//! checked before anything is opened for writing. None may be the source
//! file or another output (compared by canonical path and by device and
//! inode, so symbolic and hard links count), and each must be writable; files
//! created by the check are removed again if the run fails before writing them.

use super::args::OutputArgs;
use crate::error::{Error, Result};
use crate::plan::QueryPlan;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One file the run will write, and the option or WITH key that names it.
#[derive(Debug, Clone)]
pub struct OutputFile {
    pub option: &'static str,
    pub path: PathBuf,
}

/// The output files the options and the query name (standard output, `-`,
/// and Kafka topics, `kafka://..`, excluded).
pub fn output_files(plan: &QueryPlan, output: &OutputArgs) -> Vec<OutputFile> {
    let file = |option: &'static str, path: PathBuf| {
        let kafka = path.to_string_lossy().starts_with("kafka://");
        (path.as_os_str() != "-" && !kafka).then_some(OutputFile { option, path })
    };
    // An option wins over the query's WITH key for the same file.
    let option_or_with = |option, given: &Option<PathBuf>, key: &str, with_label| {
        let declared = plan.properties.iter().find(|(k, _)| k == key);
        match (given, declared) {
            (Some(path), _) => file(option, path.clone()),
            (None, Some((_, path))) => file(with_label, PathBuf::from(path)),
            (None, None) => None,
        }
    };
    [
        option_or_with("--output", &output.output, "output", "WITH ('output' = ..)"),
        option_or_with(
            "--dead-letter",
            &output.dead_letter,
            "dead_letter",
            "WITH ('dead_letter' = ..)",
        ),
        output
            .stats_json
            .clone()
            .and_then(|p| file("--stats-json", p)),
        output
            .latency_histogram
            .clone()
            .and_then(|p| file("--latency-histogram", p)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What identifies a file: its canonical path (for a file not yet there,
/// its directory's canonical path and its name) and, when it exists, its
/// device and inode. `None` for what is not a regular file (`/dev/null`, a
/// pipe): writing there destroys nothing.
#[derive(Debug, PartialEq, Eq)]
struct FileIdentity {
    canonical: Option<PathBuf>,
    inode: Option<(u64, u64)>,
}

fn identity(path: &Path) -> Option<FileIdentity> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => None,
        Ok(meta) => Some(FileIdentity {
            canonical: std::fs::canonicalize(path).ok(),
            inode: Some((meta.dev(), meta.ino())),
        }),
        Err(_) => Some(FileIdentity {
            canonical: canonical_location(path),
            inode: None,
        }),
    }
}

/// Where a file that does not exist yet would be created.
fn canonical_location(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::canonicalize(parent).ok().map(|p| p.join(name))
}

impl FileIdentity {
    fn same_file(&self, other: &FileIdentity) -> bool {
        let same_inode = self.inode.is_some() && self.inode == other.inode;
        let same_path = self.canonical.is_some() && self.canonical == other.canonical;
        same_inode || same_path
    }
}

/// Where standard input can be looked at as a file.
const STDIN_PATH: &str = "/dev/stdin";

/// Refuses outputs that are the source file (`source_path`, if a file) or
/// each other: writing one would truncate the other before it is read.
pub fn check_distinct(
    outputs: &[OutputFile],
    source: &str,
    source_path: Option<&str>,
) -> Result<()> {
    // Standard input may be redirected from the very file an output names.
    let source_identity = source_path
        .map(|p| if p == "-" { STDIN_PATH } else { p })
        .and_then(|p| identity(Path::new(p)));
    let identities: Vec<Option<FileIdentity>> = outputs.iter().map(|o| identity(&o.path)).collect();
    for (i, (output, id)) in outputs.iter().zip(&identities).enumerate() {
        let Some(id) = id else { continue };
        if let (Some(input), Some(path)) = (&source_identity, source_path) {
            if id.same_file(input) {
                let path = if path == "-" { "standard input" } else { path };
                return Err(Error::Usage(format!(
                    "{} {} is the input file of source '{source}' ({path}); writing it would \
                     destroy the input: choose another output path",
                    output.option,
                    output.path.display()
                )));
            }
        }
        let earlier = outputs[..i].iter().zip(&identities[..i]);
        for (other, other_id) in earlier {
            if other_id.as_ref().is_some_and(|o| o.same_file(id)) {
                return Err(Error::Usage(format!(
                    "{} {} and {} {} are the same file; give each output its own path",
                    other.option,
                    other.path.display(),
                    output.option,
                    output.path.display()
                )));
            }
        }
    }
    Ok(())
}

/// Files that [`prepare`] created. Unless [`CreatedFiles::keep`] is called,
/// dropping this removes those that are still empty, so that a run that
/// fails to start leaves no empty files behind.
#[derive(Debug, Default)]
pub struct CreatedFiles {
    paths: Vec<PathBuf>,
}

impl CreatedFiles {
    /// The run went through: the files stay, empty or not.
    pub fn keep(mut self) {
        self.paths.clear();
    }
}

impl Drop for CreatedFiles {
    fn drop(&mut self) {
        for path in &self.paths {
            if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
                // Best effort: a file that cannot be removed is merely left empty.
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Checks that every output can be written before any input is read, so a
/// bad path fails at once (exit 1 naming it) rather than after the run. An
/// existing file is opened without truncating it; a missing one is created.
/// Devices and pipes are left alone: opening a pipe to try it would end its
/// reader's input.
pub fn prepare(outputs: &[OutputFile]) -> Result<CreatedFiles> {
    let mut created = CreatedFiles::default();
    for output in outputs {
        let path = &output.path;
        let checked = match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => OpenOptions::new().append(true).open(path).map(drop),
            Ok(meta) if meta.is_dir() => Err(std::io::Error::from(ErrorKind::IsADirectory)),
            Ok(_) => Ok(()),
            Err(_) => create_new(path).map(|_| created.paths.push(path.clone())),
        };
        checked.map_err(|e| Error::io(format!("{} {}", output.option, path.display()), e))?;
    }
    Ok(created)
}

fn create_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(path: PathBuf) -> OutputFile {
        OutputFile {
            option: "--output",
            path,
        }
    }

    #[test]
    fn files_created_for_a_run_that_fails_to_start_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, removed) = (dir.path().join("kept"), dir.path().join("removed"));
        prepare(&[output(kept.clone())]).unwrap().keep();
        assert!(kept.exists());
        let created = prepare(&[output(removed.clone())]).unwrap();
        assert!(removed.exists());
        drop(created);
        assert!(!removed.exists());
    }

    #[test]
    fn existing_files_are_not_truncated_and_directories_refused() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing");
        std::fs::write(&existing, "data").unwrap();
        drop(prepare(&[output(existing.clone())]).unwrap());
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "data");
        let err = prepare(&[output(dir.path().to_path_buf())]).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[test]
    fn pipes_are_not_opened_to_check_them() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // Opening a pipe that has no reader for writing would block here.
        prepare(&[output(fifo)]).unwrap().keep();
    }

    #[test]
    fn links_to_the_input_are_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "a\n1\n").unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&input, &hard).unwrap();
        let input_text = input.to_str().unwrap();
        let err = check_distinct(&[output(hard)], "t", Some(input_text)).unwrap_err();
        assert!(
            err.to_string().contains("input file of source 't'"),
            "{err}"
        );
        let other = dir.path().join("sub").join("..").join("other.csv");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(check_distinct(&[output(other)], "t", Some(input_text)).is_ok());
        let dev_null = [output("/dev/null".into()), output("/dev/null".into())];
        assert!(check_distinct(&dev_null, "t", Some(input_text)).is_ok());
    }
}
