//! [`pipe()`]: a one-way byte channel, as a [`Receiver`] and a [`Sender`].

use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::error::check;
use crate::net::socket;
use crate::net::{Result, bufio, fd_type};

/// Opens a pipe, both ends close-on-exec and non-blocking.
///
/// Platform notes: `pipe2(O_CLOEXEC | O_NONBLOCK)` on Linux, Android and the BSDs;
/// `pipe` and `fcntl` on macOS/iOS (see [the module notes](crate::net#platforms)).
///
/// # Errors
/// `EMFILE`/`ENFILE` when out of descriptors.
#[doc(alias = "pipe2")]
pub fn pipe() -> Result<(Receiver, Sender)> {
    let mut fds = [-1; 2];
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    // SAFETY: `fds` has room for the two descriptors pipe2(2) writes.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    // SAFETY: on success both descriptors are new and owned by nobody else.
    let (read, write) = unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) };
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    for fd in [&read, &write] {
        socket::set_cloexec(fd)?;
        socket::set_nonblocking(fd)?;
    }
    Ok((Receiver { fd: read }, Sender { fd: write }))
}

/// The reading end of a [`pipe()`].
#[derive(Debug)]
pub struct Receiver {
    fd: Fd,
}

impl Receiver {
    /// Reads into `buf`: `Ok(Some(n))` bytes, `Ok(Some(0))` once every [`Sender`] is
    /// closed and the pipe is empty, `Ok(None)` when it is empty but open (`read`).
    ///
    /// # Errors
    /// What `read` refused.
    #[inline]
    pub fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::read(&self.fd, buf)
    }

    /// Reads straight into `buf`'s free space and commits what arrived: as
    /// [`try_read`](Self::try_read), with `Ok(Some(0))` also when `buf` is full (no call
    /// is made then); `readv` when a ring's free space wraps.
    ///
    /// # Errors
    /// What `read`/`readv` refused.
    #[doc(alias = "readv")]
    pub fn try_read_buf<B: MutBuf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        bufio::read_buf(&self.fd, buf)
    }
}

fd_type!(Receiver);

/// The writing end of a [`pipe()`].
#[derive(Debug)]
pub struct Sender {
    fd: Fd,
}

impl Sender {
    /// Writes from `buf`: `Ok(Some(n))` bytes taken, `Ok(None)` when the pipe is full
    /// (`write`). Writes of at most `PIPE_BUF` bytes are atomic: all or nothing.
    ///
    /// # Errors
    /// `BrokenPipe` (`EPIPE`) once the [`Receiver`] is closed. Unlike sockets, a pipe
    /// has no `MSG_NOSIGNAL`: that write also raises `SIGPIPE`, which kills the process
    /// unless it ignores or blocks the signal (Rust's std runtime ignores it; a
    /// `no_std` program must do so itself, e.g. `signal(SIGPIPE, SIG_IGN)` at start).
    #[inline]
    pub fn try_write(&self, buf: &[u8]) -> Result<Option<usize>> {
        socket::write(&self.fd, buf)
    }

    /// Writes straight from `buf`'s filled space and consumes what was taken: as
    /// [`try_write`](Self::try_write), with `Ok(Some(0))` for an empty `buf` (no call is
    /// made); `writev` when a ring's filled space wraps.
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write), `SIGPIPE` included.
    #[doc(alias = "writev")]
    pub fn try_write_buf<B: Buf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        bufio::write_buf(&self.fd, buf)
    }
}

fd_type!(Sender);

#[cfg(test)]
mod tests {
    use embedded_io::ErrorKind;

    use super::*;
    use crate::net::test_util::*;

    #[test]
    fn read_write_would_block_eof() {
        let (rx, tx) = pipe().unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(rx.try_read(&mut buf).unwrap(), None);
        assert_eq!(tx.try_write(b"through").unwrap(), Some(7));
        let n = when_readable(rx.as_raw_fd(), || rx.try_read(&mut buf));
        assert_eq!(&buf[..n], b"through");
        // Fill the pipe until it would block.
        let chunk = [1u8; 4096];
        let full = (0..10_000).any(|_| tx.try_write(&chunk).unwrap().is_none());
        assert!(full, "pipe never filled");
        drop(tx);
        let mut big = [0u8; 4096];
        let eof = (0..10_000).any(|_| rx.try_read(&mut big).unwrap() == Some(0));
        assert!(eof, "no end of file after the sender closed");
    }

    #[test]
    fn closed_receiver_is_broken_pipe() {
        // The test harness (std) ignores SIGPIPE, so the write reports EPIPE.
        let (rx, tx) = pipe().unwrap();
        drop(rx);
        assert_eq!(
            tx.try_write(b"x").unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
    }

    #[test]
    fn descriptors_are_cloexec_nonblocking_and_close_on_drop() {
        let (rx, tx) = pipe().unwrap();
        assert_cloexec_nonblocking(rx.as_raw_fd());
        assert_cloexec_nonblocking(tx.as_raw_fd());
        assert_drop_closes(rx, Receiver::into_fd);
        assert_drop_closes(tx, Sender::into_fd);
    }
}
