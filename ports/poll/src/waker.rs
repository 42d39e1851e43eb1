//! [`PipeWaker`]: wakes a [`Poll`](crate::Poll) from another thread through a
//! self-pipe whose read end the selector watches under
//! [`Token::WAKER`](statio_core::Token::WAKER).

use statio_core::{OsError, Wake};
use statio_unix::error::check_retry;
use statio_unix::{Fd, RawFd};

/// The write end of a non-blocking, close-on-exec pipe whose read end sits in a
/// [`Poll`](crate::Poll) set: writing one byte makes the current or next `poll` return.
///
/// The waker also keeps a duplicate of the read end open, so the pipe always has a
/// reader while the waker lives: a wake-up after the selector was dropped fills the pipe
/// (then `EAGAIN`, a pending wake-up, success) instead of failing with `EPIPE` and
/// raising `SIGPIPE`, which would kill a program that does not ignore it (pipe(7)).
#[derive(Debug)]
#[doc(alias = "self-pipe")]
pub struct PipeWaker {
    write: Fd,
    _reader: Fd,
}

impl PipeWaker {
    /// A new pipe: the waker, and the read end for the selector to own and watch.
    pub(crate) fn new() -> Result<(PipeWaker, Fd), OsError> {
        let (rx, tx) = statio_unix::net::pipe()?;
        let read = rx.into_fd();
        // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes no pointers; a non-negative result is a
        // new descriptor (POSIX.1-2008) that nothing else owns.
        let reader =
            unsafe { Fd::from_syscall(libc::fcntl(read.raw(), libc::F_DUPFD_CLOEXEC, 0)) }?;
        Ok((
            PipeWaker {
                write: tx.into_fd(),
                _reader: reader,
            },
            read,
        ))
    }

    /// The pipe's write end, still owned (and closed) by the waker: for diagnostics. The
    /// waker lives in the channel it is attached to, and is closed, with its duplicate of
    /// the read end, when that channel's receiver (its loop) drops.
    pub fn raw_fd(&self) -> RawFd {
        self.write.raw()
    }
}

impl Wake for PipeWaker {
    /// Writes one byte to the pipe (`write(2)`).
    ///
    /// # Errors
    /// None in practice: `EAGAIN` (the pipe is full) means a wake-up is pending
    /// already, which is success; `EINTR` is retried.
    fn wake(&self) -> Result<(), OsError> {
        let written = check_retry(|| {
            // SAFETY: writes one byte from a live static buffer.
            unsafe { libc::write(self.write.raw(), b"w".as_ptr().cast(), 1) }
        });
        match written {
            Err(err) if err.code() == libc::EAGAIN || err.code() == libc::EWOULDBLOCK => Ok(()),
            other => other.map(drop),
        }
    }
}

/// Reads the pipe's read end until it would block, so a level-triggered registration
/// stops reporting; the bytes carry no meaning.
pub(crate) fn drain(read: RawFd) {
    let mut buf = [0u8; 64];
    // Bounded: a pipe holds at most 64 KiB on Linux (pipe(7)), 1,024 reads of 64 bytes.
    for _ in 0..1024 {
        // SAFETY: reads at most `buf.len()` bytes into a live buffer.
        let n = unsafe { libc::read(read, buf.as_mut_ptr().cast(), buf.len()) };
        // 0 cannot happen while the waker holds a writer; < 0 is EAGAIN (drained),
        // EINTR (the next wake-up or the next turn drains the rest) or a bug.
        if n < buf.len() as isize {
            return;
        }
    }
}
