//! Prints a server's marks ([`statio::Stats`]) to stderr as one block, for the
//! examples' SIGUSR1 and shutdown reports. Shared by echo, http and kv (each server
//! includes it with `#[path]`); not an example itself (no `main.rs` here).
//!
//! No heap allocation: the block is formatted into a fixed buffer on the stack and
//! leaves in one `write(2)` to stderr, so on a pipe (at most `PIPE_BUF` bytes, 4 KiB on
//! Linux, are written at once) another thread's log line cannot land inside it.

use core::fmt::{self, Write as _};
use std::io::Write as _;

use statio::Stats;

/// Room for the block: a label line and at most 8 rows of under 90 bytes each.
const BLOCK: usize = 1024;

/// Writes `label`, a newline and `stats`'s block to stderr in one write.
///
/// A block that does not fit [`BLOCK`] bytes (a label of hundreds of bytes) is cut
/// at the last piece that fits and ends with a line `(cut)`; a failed write (stderr closed)
/// is ignored: the marks are a report, the server goes on either way.
pub fn print(label: fmt::Arguments<'_>, stats: &Stats) {
    let mut text = heapless::String::<BLOCK>::new();
    if write!(text, "{label}\n{stats}").is_err() {
        const CUT: &str = "\n(cut)\n";
        while text.len() > BLOCK - CUT.len() {
            text.pop();
        }
        let _ = text.push_str(CUT);
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
