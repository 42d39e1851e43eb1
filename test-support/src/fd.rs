//! Descriptors outside any selector: a bounded poll(2) wait and a flag check.

use std::os::fd::RawFd;

/// Waits up to `timeout_ms` for `events` on `fd` with poll(2); returns the `revents`
/// (0 when the wait timed out). Panics when poll(2) itself fails.
#[track_caller]
pub fn wait_fd(fd: RawFd, events: libc::c_short, timeout_ms: libc::c_int) -> libc::c_short {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&raw mut pfd, 1, timeout_ms) };
    assert!(
        n >= 0,
        "poll on fd {fd} failed: {}",
        std::io::Error::last_os_error()
    );
    pfd.revents
}

/// Asserts the descriptor is close-on-exec (`F_GETFD`) and non-blocking (`F_GETFL`).
#[track_caller]
pub fn assert_cloexec_nonblocking(fd: RawFd, what: &str) {
    // SAFETY: F_GETFD and F_GETFL take no argument and only read the flags.
    let (fd_flags, status) = unsafe {
        (
            libc::fcntl(fd, libc::F_GETFD),
            libc::fcntl(fd, libc::F_GETFL),
        )
    };
    assert!(
        fd_flags >= 0 && status >= 0,
        "{what}: fcntl on fd {fd} failed: {}",
        std::io::Error::last_os_error()
    );
    assert_ne!(
        fd_flags & libc::FD_CLOEXEC,
        0,
        "{what}: fd {fd} lacks FD_CLOEXEC"
    );
    assert_ne!(
        status & libc::O_NONBLOCK,
        0,
        "{what}: fd {fd} lacks O_NONBLOCK"
    );
}
