//! Shared helpers of the `net` unit tests: bounded waits (no test may hang), the drop
//! check, wrapped rings; the descriptor flag check and unique socket names are
//! statio-test-support's, re-exported.

use std::time::Duration;

use statio_core::buf::{Buf, MutBuf, RingBuf};
pub use statio_test_support::fd::assert_cloexec_nonblocking;
use statio_test_support::fd::wait_fd;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use statio_test_support::names::abstract_name;
pub use statio_test_support::names::temp_path;

use crate::{Fd, RawFd};

use super::Result;

/// How long any single wait may take before the test fails.
const WAIT_MS: libc::c_int = 5_000;

/// Waits (at most [`WAIT_MS`]) for `events` on `fd`: the `revents`, never 0.
fn poll_one(fd: RawFd, events: libc::c_short) -> libc::c_short {
    let revents = wait_fd(fd, events, WAIT_MS);
    assert_ne!(
        revents, 0,
        "fd {fd} not ready for {events:#x} within {WAIT_MS} ms"
    );
    revents
}

/// Waits (at most [`WAIT_MS`]) until `fd` is readable or hung up.
pub fn wait_readable(fd: RawFd) {
    poll_one(fd, libc::POLLIN);
}

/// Waits (at most [`WAIT_MS`]) until `fd` is writable, or failed; returns the `revents`.
pub fn wait_writable(fd: RawFd) -> libc::c_short {
    poll_one(fd, libc::POLLOUT)
}

/// Calls `op` after each readability of `fd` until it yields a value (bounded).
pub fn when_readable<T>(fd: RawFd, mut op: impl FnMut() -> Result<Option<T>>) -> T {
    for _ in 0..100 {
        wait_readable(fd);
        if let Some(value) = op().expect("operation failed") {
            return value;
        }
        // Readable yet would-block (a spurious wake-up): give the peer a moment.
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("fd {fd} stayed readable without data");
}

/// Asserts that dropping a `T` closes its descriptor.
///
/// Tests run on parallel threads that open descriptors, so a freed low number can be
/// taken again before `fcntl` looks at it. The value is therefore moved to a number far
/// above those in use (`F_DUPFD_CLOEXEC` from 900) before the drop, one check at a time.
pub fn assert_drop_closes<T: From<Fd>>(value: T, into_fd: impl FnOnce(T) -> Fd) {
    // One check at a time: two checks in parallel would both take numbers from 900
    // up, and one could reuse the other's just-closed number before it is looked at.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let fd = into_fd(value);
    // SAFETY: `fd` is open; F_DUPFD_CLOEXEC takes the lowest number to use.
    let high = unsafe { libc::fcntl(fd.raw(), libc::F_DUPFD_CLOEXEC, 900) };
    assert!(
        high >= 900,
        "F_DUPFD_CLOEXEC failed: {:?}",
        crate::error::last_error()
    );
    drop(fd);
    // SAFETY: `high` is a new descriptor that only this value owns.
    let value = T::from(unsafe { Fd::from_raw(high) });
    drop(value);
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let ret = unsafe { libc::fcntl(high, libc::F_GETFD) };
    assert_eq!(ret, -1, "fd {high} still open after drop");
    assert_eq!(crate::error::last_error().code(), libc::EBADF);
}

/// A ring of 8 holding "ef" at offsets 4..6: its free space wraps (6..8, then 0..4).
pub fn ring_with_wrapped_room() -> RingBuf<8> {
    let mut ring = RingBuf::new();
    ring.write_truncating(b"abcdef");
    ring.advance(4);
    let (first, second) = ring.chunks_mut();
    assert_eq!((first.len(), second.len()), (2, 4));
    ring
}

/// A ring of 8 holding "efghij" from offset 4: its filled space wraps ("efgh", "ij").
pub fn ring_with_wrapped_data() -> RingBuf<8> {
    let mut ring = RingBuf::new();
    ring.write_truncating(b"abcdefgh");
    ring.advance(4);
    ring.write_truncating(b"ij");
    assert_eq!(ring.chunks(), (&b"efgh"[..], &b"ij"[..]));
    ring
}
