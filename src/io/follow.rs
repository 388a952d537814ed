//! Follow mode (`'follow' = 'true'`, `--follow`): [`Follow`] reads a file to
//! its end and then waits for what is appended, like `tail -F`. It never
//! reports the end of input; it is meant to be read on a thread of its own
//! (every `read` may block until there is something to return).
//!
//! - **Appends** are read as they come: a watch on the file's directory
//!   (inotify, through `notify`) wakes the reader within milliseconds; where
//!   no watch can be set up it polls every [`POLL_INTERVAL`]. With a watch it
//!   still checks every [`CHECK_INTERVAL`], in case an event is missed.
//! - **Rotation** (the path renamed away and a new file created under it):
//!   the old file is read to its end, then the new one from its start. Until
//!   a new file appears, the old one is still followed.
//! - **Truncation** (the file now shorter than what was read): reading goes
//!   on from the new start of the file, so lines written after the
//!   truncation are read. (A file truncated and refilled past the old length
//!   between two checks cannot be told from one that grew.)
//! - At a switch of file (rotation or truncation), a last line left without
//!   its line break is ended with one, so it is not glued to the next file's
//!   first line; with `skip_headers`, the first line of the next file (a CSV
//!   header written again) is skipped.
//!
//! `Follow` delivers bytes, not records: a line still being written is
//! delivered in part, and the record reader above keeps it until its line
//! break arrives.

use memchr::memchr;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often a reader without a directory watch looks for new bytes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How often a reader with a directory watch looks even without an event.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// A never-ending reader of a file that grows, is rotated or is truncated.
pub struct Follow {
    path: PathBuf,
    file: File,
    /// The file's device and inode, to see the path name another file.
    identity: (u64, u64),
    /// Bytes of `file` read so far.
    offset: u64,
    /// Whether the last byte delivered was inside a line (not `'\n'`).
    line_open: bool,
    /// A `'\n'` to deliver before the next file's bytes.
    newline_due: bool,
    /// Skip the first line of every file switched to.
    skip_headers: bool,
    /// Skipping the rest of the current file's first line.
    skipping_line: bool,
    wake: Wake,
}

impl Follow {
    /// Follows `path`, whose file is `file` (opened by the caller, read from
    /// its current offset). With `skip_headers`, files switched to start
    /// with a header line, which is skipped.
    pub fn new(path: &Path, mut file: File, skip_headers: bool) -> io::Result<Follow> {
        let meta = file.metadata()?;
        let offset = file.stream_position()?;
        Ok(Follow {
            path: path.to_path_buf(),
            file,
            identity: (meta.dev(), meta.ino()),
            offset,
            line_open: false,
            newline_due: false,
            skip_headers,
            skipping_line: false,
            wake: Wake::watch(path),
        })
    }

    /// Reads what the current file has past `offset` (skipping a header line
    /// when asked); 0 when it has nothing more for now.
    fn read_current(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = read_retrying(&mut self.file, buf)?;
            self.offset += n as u64;
            if n == 0 {
                return Ok(0);
            }
            let start = if self.skipping_line {
                match memchr(b'\n', &buf[..n]) {
                    Some(end) => {
                        self.skipping_line = false;
                        end + 1
                    }
                    None => continue,
                }
            } else {
                0
            };
            if start < n {
                buf.copy_within(start..n, 0);
                let len = n - start;
                self.line_open = buf[len - 1] != b'\n';
                return Ok(len);
            }
        }
    }

    /// After the current file has been read to its end: switches to the
    /// file's new start if it was truncated, or to the new file under the
    /// path if it was rotated. Whether it switched.
    fn switch_if_replaced(&mut self) -> io::Result<bool> {
        if self.file.metadata()?.len() < self.offset {
            self.file.seek(SeekFrom::Start(0))?;
            self.begin_next_file();
            return Ok(true);
        }
        let replaced = std::fs::metadata(&self.path)
            .is_ok_and(|meta| (meta.dev(), meta.ino()) != self.identity);
        if !replaced {
            return Ok(false);
        }
        // Renamed again or removed since: keep following the old one.
        let Ok(file) = File::open(&self.path) else {
            return Ok(false);
        };
        let meta = file.metadata()?;
        self.file = file;
        self.identity = (meta.dev(), meta.ino());
        self.begin_next_file();
        Ok(true)
    }

    fn begin_next_file(&mut self) {
        self.offset = 0;
        self.newline_due = self.line_open;
        self.line_open = false;
        self.skipping_line = self.skip_headers;
    }
}

impl Read for Follow {
    /// Blocks until there are bytes to return; never returns 0 for a
    /// non-empty `buf`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.newline_due {
                self.newline_due = false;
                buf[0] = b'\n';
                return Ok(1);
            }
            let n = self.read_current(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if !self.switch_if_replaced()? {
                self.wake.wait();
            }
        }
    }
}

fn read_retrying(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// What wakes a reader that has read everything: events of a watch on the
/// file's directory, or a timer.
enum Wake {
    Watch {
        // Kept alive for as long as its events are wanted.
        _watcher: RecommendedWatcher,
        events: Receiver<notify::Result<notify::Event>>,
    },
    Poll,
}

impl Wake {
    /// A watch on the directory of `path` (which sees appends, renames and
    /// new files in it), or polling where none can be set up.
    fn watch(path: &Path) -> Wake {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let (sender, events) = mpsc::channel();
        let Ok(mut watcher) = notify::recommended_watcher(sender) else {
            return Wake::Poll;
        };
        match watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => Wake::Watch {
                _watcher: watcher,
                events,
            },
            Err(_) => Wake::Poll,
        }
    }

    /// Waits for a change in the directory, or until it is time to look
    /// anyway.
    fn wait(&mut self) {
        let Wake::Watch { events, .. } = self else {
            std::thread::sleep(POLL_INTERVAL);
            return;
        };
        match events.recv_timeout(CHECK_INTERVAL) {
            Err(RecvTimeoutError::Disconnected) => *self = Wake::Poll,
            _ => while events.try_recv().is_ok() {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc::Receiver;
    use std::time::Instant;

    /// Plenty for a wake-up that takes milliseconds; a hang fails the test.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// Reads `path` in follow mode on a thread of its own; the bytes come
    /// through the channel.
    fn follow(path: &Path, skip_headers: bool) -> Receiver<Vec<u8>> {
        let file = File::open(path).unwrap();
        read_on_a_thread(Follow::new(path, file, skip_headers).unwrap())
    }

    fn read_on_a_thread(mut follow: Follow) -> Receiver<Vec<u8>> {
        let (sender, bytes) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 7];
            loop {
                let n = follow.read(&mut buf).unwrap();
                assert!(n > 0);
                if sender.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        });
        bytes
    }

    /// Collects bytes until they hold `expected`, then checks nothing more
    /// came with them.
    fn expect(bytes: &Receiver<Vec<u8>>, got: &mut Vec<u8>, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        while got.len() < expected.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            match bytes.recv_timeout(left) {
                Ok(chunk) => got.extend(chunk),
                Err(_) => break,
            }
        }
        assert_eq!(String::from_utf8_lossy(got), expected);
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn reads_to_the_end_then_what_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        append(&path, "1\n2\n");
        let bytes = follow(&path, false);
        let mut got = Vec::new();
        expect(&bytes, &mut got, "1\n2\n");
        append(&path, "3\n4");
        expect(&bytes, &mut got, "1\n2\n3\n4");
        append(&path, "5\n");
        expect(&bytes, &mut got, "1\n2\n3\n45\n");
        assert!(bytes.recv_timeout(CHECK_INTERVAL * 2).is_err());
    }

    #[test]
    fn a_rotated_file_is_finished_then_the_new_one_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        append(&path, "h\na\n");
        let bytes = follow(&path, true);
        let mut got = Vec::new();
        expect(&bytes, &mut got, "h\na\n");
        let rotated = dir.path().join("log.csv.1");
        std::fs::rename(&path, &rotated).unwrap();
        append(&rotated, "b\nunfinished");
        append(&path, "h\nc\n");
        expect(&bytes, &mut got, "h\na\nb\nunfinished\nc\n");
        append(&path, "d\n");
        expect(&bytes, &mut got, "h\na\nb\nunfinished\nc\nd\n");
    }

    #[test]
    fn a_truncated_file_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        append(&path, "first line\nsecond line\n");
        let bytes = follow(&path, false);
        let mut got = Vec::new();
        expect(&bytes, &mut got, "first line\nsecond line\n");
        File::create(&path).unwrap();
        append(&path, "x\n");
        expect(&bytes, &mut got, "first line\nsecond line\nx\n");
        append(&path, "y\n");
        expect(&bytes, &mut got, "first line\nsecond line\nx\ny\n");
    }

    #[test]
    fn polling_alone_also_sees_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        append(&path, "");
        let mut follow = Follow::new(&path, File::open(&path).unwrap(), false).unwrap();
        follow.wake = Wake::Poll;
        let bytes = read_on_a_thread(follow);
        append(&path, "late\n");
        let mut got = Vec::new();
        expect(&bytes, &mut got, "late\n");
    }
}
