//! Ctrl-C and SIGTERM: turned into per-shard stop checks.
//!
//! Each shard gets its own self-pipe that signal-hook writes a byte into when
//! SIGINT or SIGTERM arrives; the shard polls its pipe without blocking. No
//! state is shared between shards.

use crate::error::{Error, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io::Read;
use std::os::unix::net::UnixStream;

/// A stop check for one reader: true once a stop signal has arrived.
pub type StopCheck = Box<dyn FnMut() -> bool + Send>;

/// Registers SIGINT and SIGTERM and returns `count` independent stop checks.
pub fn stop_checks(count: usize) -> Result<Vec<StopCheck>> {
    (0..count).map(|_| stop_check()).collect()
}

fn stop_check() -> Result<StopCheck> {
    let (mut read_end, write_end) = UnixStream::pair().map_err(signal_error)?;
    read_end.set_nonblocking(true).map_err(signal_error)?;
    for signal in [SIGINT, SIGTERM] {
        let writer = write_end.try_clone().map_err(signal_error)?;
        signal_hook::low_level::pipe::register(signal, writer).map_err(signal_error)?;
    }
    let mut stopped = false;
    Ok(Box::new(move || {
        if !stopped {
            let mut byte = [0u8; 16];
            stopped = matches!(read_end.read(&mut byte), Ok(n) if n > 0);
        }
        stopped
    }))
}

fn signal_error(e: std::io::Error) -> Error {
    Error::Runtime(format!("cannot install the Ctrl-C/SIGTERM handler: {e}"))
}
