//! [`pipe()`]: a one-way byte channel, as a [`Receiver`] and a [`Sender`].

use crate::Fd;
use crate::error::check;
use crate::net::stream::{Pipe, Stream, readable_stream, writable_stream};
use crate::net::{Result, fd_type};

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
        crate::net::socket::set_cloexec(fd)?;
        crate::net::socket::set_nonblocking(fd)?;
    }
    Ok((Receiver::from(read), Sender::from(write)))
}

/// The reading end of a [`pipe()`]: its reads are those of every stream here
/// ([the stream table](crate::net#streams)); end of stream once every [`Sender`] is
/// closed and the pipe is empty.
#[derive(Debug)]
pub struct Receiver {
    fd: Stream<Pipe>,
}

fd_type!(Receiver);
readable_stream!(Receiver);

/// The writing end of a [`pipe()`]: its writes are those of every stream here
/// ([the stream table](crate::net#streams)). Writes of at most `PIPE_BUF` bytes are
/// atomic: all or nothing.
///
/// # `SIGPIPE`
/// Writing after the [`Receiver`] closed fails with `BrokenPipe` (`EPIPE`), and, unlike
/// a socket's write, a pipe has no `MSG_NOSIGNAL`: that write also raises `SIGPIPE`,
/// which kills the process unless it ignores or blocks the signal (Rust's std runtime
/// ignores it; a `no_std` program must do so itself, e.g. `signal(SIGPIPE, SIG_IGN)` at
/// start).
#[derive(Debug)]
pub struct Sender {
    fd: Stream<Pipe>,
}

fd_type!(Sender);
writable_stream!(Sender);

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
        assert_cloexec_nonblocking(rx.as_raw_fd(), "rx");
        assert_cloexec_nonblocking(tx.as_raw_fd(), "tx");
        assert_drop_closes(rx, Receiver::into_fd);
        assert_drop_closes(tx, Sender::into_fd);
    }
}
