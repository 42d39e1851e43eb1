//! [`EventFdWaker`]: wakes an [`Epoll`](crate::Epoll) from another thread through an
//! `eventfd(2)` watched edge-triggered under [`Token::WAKER`](statio_core::Token::WAKER).

use statio_core::{OsError, Wake};
use statio_unix::error::check_retry;
use statio_unix::{Fd, RawFd};

/// An `eventfd` counter registered with an epoll instance: a write makes the epoll
/// instance's current or next `epoll_wait` return.
///
/// Registered edge-triggered, so the counter is never read: each write is a new edge,
/// and reading it back would cost a syscall per wake-up. The counter saturates only
/// after 2^64 - 2 writes.
#[derive(Debug)]
#[doc(alias = "eventfd")]
pub struct EventFdWaker {
    fd: Fd,
}

impl EventFdWaker {
    /// A new `eventfd`, close-on-exec and non-blocking, for the epoll port to register.
    pub(crate) fn new() -> Result<EventFdWaker, OsError> {
        // SAFETY: eventfd takes no pointers; a non-negative result is a new descriptor
        // that nothing else owns.
        let fd =
            unsafe { Fd::from_syscall(libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)) }?;
        Ok(EventFdWaker { fd })
    }

    pub(crate) fn fd(&self) -> &Fd {
        &self.fd
    }

    /// The eventfd's number, still owned (and closed) by the waker: for diagnostics. The
    /// waker lives in the channel it is attached to, and is closed when that channel's
    /// receiver (its loop) drops.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

impl Wake for EventFdWaker {
    /// Adds 1 to the counter (`write(2)` of 8 bytes).
    ///
    /// # Errors
    /// None in practice: `EAGAIN` (a saturated counter) means a wake-up is pending
    /// already, which is success; `EINTR` is retried.
    fn wake(&self) -> Result<(), OsError> {
        let one: u64 = 1;
        let written = check_retry(|| {
            // SAFETY: `one` is 8 readable bytes for the duration of the call.
            unsafe { libc::write(self.fd.raw(), (&raw const one).cast(), 8) }
        });
        match written {
            Err(err) if err.code() == libc::EAGAIN => Ok(()),
            other => other.map(drop),
        }
    }
}
