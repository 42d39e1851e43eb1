//! Shared helpers of the `net` unit tests: bounded waits (no test may hang), descriptor
//! flag checks, unique socket paths.

use std::format;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use std::vec::Vec;

use statio_core::buf::{Buf, MutBuf, RingBuf};

use crate::{Fd, RawFd};

use super::Result;

/// How long any single wait may take before the test fails.
const WAIT_MS: libc::c_int = 5_000;

fn poll_one(fd: RawFd, events: libc::c_short) -> libc::c_short {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the call.
    let n = unsafe { libc::poll(&mut pfd, 1, WAIT_MS) };
    assert!(n >= 0, "poll failed: {:?}", crate::error::last_error());
    assert_eq!(
        n, 1,
        "fd {fd} not ready for {events:#x} within {WAIT_MS} ms"
    );
    pfd.revents
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

/// Asserts the descriptor is close-on-exec and non-blocking.
pub fn assert_cloexec_nonblocking(fd: RawFd) {
    // SAFETY: F_GETFD/F_GETFL take no argument and only read the descriptor's flags.
    let (fd_flags, status) = unsafe {
        (
            libc::fcntl(fd, libc::F_GETFD),
            libc::fcntl(fd, libc::F_GETFL),
        )
    };
    assert!(fd_flags >= 0 && status >= 0, "fcntl on fd {fd} failed");
    assert_ne!(
        fd_flags & libc::FD_CLOEXEC,
        0,
        "fd {fd} is not close-on-exec"
    );
    assert_ne!(status & libc::O_NONBLOCK, 0, "fd {fd} is blocking");
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

/// A unique socket path in the temporary directory, removed (if created) on drop.
pub struct TempPath(pub Vec<u8>);

impl TempPath {
    /// A path that no other test (or test run) uses.
    pub fn new(tag: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        // Relaxed: the counter only needs distinct values, it orders nothing.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = format!("/tmp/statio-{}-{tag}-{n}.sock", std::process::id());
        let _ = std::fs::remove_file(&path);
        TempPath(path.into_bytes())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(std::str::from_utf8(&self.0).unwrap());
    }
}

/// A unique abstract socket name.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn abstract_name(tag: &str) -> Vec<u8> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Relaxed: as for TempPath.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("statio-{}-{tag}-{n}", std::process::id()).into_bytes()
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
