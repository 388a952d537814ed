//! Inputs opened once. A regular file is opened when its table is planned;
//! the descriptor is kept ([`SharedFile`]) and every reader of the table
//! reads it with positional reads (`pread`), so no reader moves another's
//! offset, no lock is needed, and a file deleted or renamed after planning is
//! still read whole. Anything that cannot seek (a FIFO, a process
//! substitution, a character device, standard input) or that is followed is
//! read once, in order, as a stream ([`StreamInput`]).
//!
//! A file is read as it was when planned: bytes appended later are not read
//! (unless followed), and a file that shrinks while being read is an error
//! naming the path and both sizes.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A regular file opened once, with its length when it was opened. Cloning
/// shares the descriptor.
#[derive(Debug, Clone)]
pub struct SharedFile {
    file: Arc<File>,
    label: String,
    len: u64,
}

impl SharedFile {
    /// Wraps an opened regular file of `len` bytes; `label` names it in
    /// messages.
    pub fn new(file: File, label: impl Into<String>, len: u64) -> SharedFile {
        SharedFile {
            file: Arc::new(file),
            label: label.into(),
            len,
        }
    }

    /// The file's length when it was opened: readers stop there.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How messages name the file (its path).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A reader of the bytes from `start` to the file's planned length.
    pub fn reader_at(&self, start: u64) -> FileReader {
        FileReader {
            file: self.clone(),
            at: start,
        }
    }

    /// Reads up to `buf.len()` bytes at `offset` (never past the planned
    /// length); 0 only at that length. A file that ends before it has shrunk:
    /// that is an error.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let left = self.len.saturating_sub(offset);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        loop {
            match self.file.read_at(&mut buf[..want], offset) {
                Ok(0) => return Err(self.shrunk()),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The error for a file found shorter than planned (its size now from
    /// `fstat` on the kept descriptor).
    fn shrunk(&self) -> io::Error {
        let now = match self.file.metadata() {
            Ok(meta) => format!("{} bytes", meta.len()),
            Err(e) => format!("an unknown size ({e})"),
        };
        io::Error::other(format!(
            "the file shrank while being read, from {} bytes to {now}",
            self.len
        ))
    }
}

/// Reads a [`SharedFile`] from an offset to its planned length.
#[derive(Debug)]
pub struct FileReader {
    file: SharedFile,
    at: u64,
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// An input read once, in order, by one reader.
#[derive(Debug, Clone)]
pub enum StreamInput {
    /// The process's standard input.
    Stdin,
    /// A FIFO, a process substitution or a device, opened once.
    Pipe { file: Arc<File>, label: String },
    /// A regular file read to its end and then followed as it grows (and is
    /// rotated or truncated): see [`super::follow`].
    Follow { file: Arc<File>, path: PathBuf },
}

/// A path opened for reading: a regular file, or a stream.
#[derive(Debug)]
pub enum Opened {
    File(SharedFile),
    Stream(StreamInput),
}

/// Opens `path` once. A regular file becomes a [`SharedFile`] (or, with
/// `follow`, a followed stream); anything else that can be read is a
/// stream. A directory, or `follow` on something other than a regular
/// file, is a usage error naming `source`.
pub fn open_path(source: &str, path: &Path, follow: bool) -> Result<Opened> {
    let label = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(label.clone(), e))?;
    let meta = file.metadata().map_err(|e| Error::io(label.clone(), e))?;
    if meta.is_dir() {
        return Err(Error::Usage(format!(
            "source '{source}': {label} is a directory, not a file"
        )));
    }
    match (meta.is_file(), follow) {
        (true, false) => Ok(Opened::File(SharedFile::new(file, label, meta.len()))),
        (true, true) => Ok(Opened::Stream(StreamInput::Follow {
            file: Arc::new(file),
            path: path.to_path_buf(),
        })),
        (false, false) => Ok(Opened::Stream(StreamInput::Pipe {
            file: Arc::new(file),
            label,
        })),
        (false, true) => Err(Error::Usage(format!(
            "source '{source}': 'follow' needs a regular file, and {label} is a pipe or device \
             (which is read live without it)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn opened_file(text: &[u8]) -> (tempfile::NamedTempFile, SharedFile) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text).unwrap();
        let Opened::File(shared) = open_path("t", f.path(), false).unwrap() else {
            panic!("a regular file is not a stream")
        };
        (f, shared)
    }

    #[test]
    fn a_deleted_file_is_still_read_whole_through_its_descriptor() {
        let (f, shared) = opened_file(b"0123456789");
        let path = f.path().to_path_buf();
        drop(f);
        assert!(!path.exists());
        let mut text = String::new();
        shared.reader_at(3).read_to_string(&mut text).unwrap();
        assert_eq!(text, "3456789");
    }

    #[test]
    fn bytes_appended_after_opening_are_not_read() {
        let (mut f, shared) = opened_file(b"abc");
        f.write_all(b"def").unwrap();
        let mut text = String::new();
        shared.reader_at(0).read_to_string(&mut text).unwrap();
        assert_eq!(text, "abc");
    }

    #[test]
    fn a_file_that_shrinks_is_an_error_naming_both_sizes() {
        let (f, shared) = opened_file(&[b'x'; 100]);
        f.as_file().set_len(40).unwrap();
        let mut buf = Vec::new();
        let err = shared.reader_at(0).read_to_end(&mut buf).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file shrank while being read, from 100 bytes to 40 bytes"
        );
        assert_eq!(buf.len(), 40);
    }

    #[test]
    fn pipes_and_devices_are_streams_and_directories_are_refused() {
        assert!(matches!(
            open_path("t", Path::new("/dev/null"), false).unwrap(),
            Opened::Stream(StreamInput::Pipe { .. })
        ));
        let err = open_path("t", Path::new("/dev/null"), true).unwrap_err();
        assert!(err.to_string().contains("'follow' needs a regular file"));
        let dir = tempfile::tempdir().unwrap();
        let err = open_path("t", dir.path(), false).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().ends_with("is a directory, not a file"));
        let err = open_path("t", Path::new("/nonexistent/x.csv"), false).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/x.csv: "), "{err}");
    }

    #[test]
    fn a_followed_file_is_a_stream() {
        let (f, _) = opened_file(b"a\n");
        assert!(matches!(
            open_path("t", f.path(), true).unwrap(),
            Opened::Stream(StreamInput::Follow { .. })
        ));
    }
}
