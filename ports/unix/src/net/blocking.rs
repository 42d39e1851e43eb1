//! [embedded-io] for statio's streams: [`Blocking`], which makes `Read`/`Write` block
//! as that crate's contract demands, and `ReadReady`/`WriteReady` on the streams
//! themselves.
//!
//! ```no_run
//! use embedded_io::{Read, Write};
//! use statio_unix::net::{Blocking, TcpStream};
//!
//! let stream = TcpStream::connect("127.0.0.1:7878".parse().unwrap())?;
//! let mut io = Blocking::new(&stream); // borrows: the stream may stay registered
//! io.write_all(b"ping\n")?;
//! let mut reply = [0u8; 5];
//! let n = io.read(&mut reply)?; // waits for at least one byte
//! # let _ = n;
//! # Ok::<(), statio_core::OsError>(())
//! ```
//!
//! # The mapping, and why
//! embedded-io has no *would block*: its `Read::read` waits until at least one byte
//! (or EOF) is there, its `Write::write` until at least one byte is taken, and
//! `ReadReady`/`WriteReady` say, without waiting, whether the next call would wait.
//! statio's streams are non-blocking, so:
//!
//! | trait | implemented on | behaviour |
//! |---|---|---|
//! | `ErrorType` | every socket and pipe type of [`net`](crate::net), and [`Blocking`] | `Error = OsError`, which implements `embedded_io::Error` with the errno's kind |
//! | `ReadReady` | `TcpStream`, `UnixStream`, `pipe::Receiver`, [`Blocking`] | `poll(2)` for `POLLIN` with a zero timeout: `true` when data, EOF, hang-up or an error is pending (a read returns at once) |
//! | `WriteReady` | `TcpStream`, `UnixStream`, `pipe::Sender`, [`Blocking`] | `poll(2)` for `POLLOUT` with a zero timeout: `true` when a write returns at once (with bytes taken, or an error) |
//! | `Read`, `Write` | [`Blocking`] only | try the non-blocking call; on would-block wait with `poll(2)` on that one descriptor (no selector, no loop), then try again |
//!
//! `Read`/`Write` are not implemented on the streams themselves: they would have to
//! block inside an event loop's handler, stalling every other connection, or report
//! would-block as an error, which the traits' contracts forbid. Wrapping a stream in
//! [`Blocking`] is the explicit, visible choice to wait. The descriptor stays
//! non-blocking throughout, so the same stream can go back to the loop afterwards.
//!
//! # Failure modes
//! - A [`Blocking`] with a timeout returns `TimedOut` (`ETIMEDOUT`) when one wait for
//!   readiness outlasts it; without one it waits for as long as it takes.
//! - `EINTR` during a wait is retried with the time left.
//! - `flush` returns at once: statio's streams keep no bytes in user space.
//! - A write the kernel answers with 0 bytes taken is `WriteZero`.
//!
//! # Version
//! This implements embedded-io **0.7**, the current release and the one statio's core
//! already uses for `ErrorKind`. 0.6 is still common (postcard, for one, offers 0.4 and
//! 0.6 only); the 0.6 and 0.7 blocking traits have the same shape, so a crate on 0.6
//! needs a newtype or an adapter crate, not a different mapping.
//!
//! [embedded-io]: https://docs.rs/embedded-io/0.7

use core::time::Duration;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
use statio_core::buf::{Buf, MutBuf};
use statio_core::{Clock, Instant, OsError};

use crate::RawFd;
use crate::clock::MonotonicClock;
use crate::error::{check, from_errno};
use crate::net::Result;

mod sealed {
    /// Keeps [`TryRead`](super::TryRead) and [`TryWrite`](super::TryWrite) to this
    /// crate's types (`fd_type!` implements it for each), and gives their descriptor.
    pub trait Sealed {
        fn fd(&self) -> crate::RawFd;
    }
}
pub(crate) use sealed::Sealed;

/// A statio stream that reads without blocking: `TcpStream`, `UnixStream`,
/// `pipe::Receiver`, or a reference to one; what a [`Blocking`] reads from, and what
/// generic code over every stream takes. Sealed.
///
/// The methods are the types' own, documented there (e.g.
/// [`TcpStream::try_read`](crate::net::TcpStream::try_read)).
pub trait TryRead: Sealed {
    /// The stream's non-blocking read: `Ok(None)` on would-block, `Ok(Some(0))` at end
    /// of stream only.
    ///
    /// # Errors
    /// `InvalidInput` for an empty `buf`; what the read refused.
    fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>>;

    /// The stream's non-blocking read into `buf`'s free space. Generic, so not part of
    /// `dyn TryRead`, which keeps [`try_read`](Self::try_read) for code that erases the type.
    ///
    /// # Errors
    /// `InvalidInput` for a full `buf`; what the read refused.
    fn try_read_buf<B: MutBuf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>>
    where
        Self: Sized;
}

/// A statio stream that writes without blocking: `TcpStream`, `UnixStream`,
/// `pipe::Sender`, or a reference to one; what a [`Blocking`] writes to. Sealed.
///
/// The methods are the types' own, documented there (e.g.
/// [`TcpStream::try_write`](crate::net::TcpStream::try_write)).
pub trait TryWrite: Sealed {
    /// The stream's non-blocking write: `Ok(None)` on would-block.
    ///
    /// # Errors
    /// What the write refused.
    fn try_write(&self, buf: &[u8]) -> Result<Option<usize>>;

    /// The stream's non-blocking write from `buf`'s filled space. Generic, so not part
    /// of `dyn TryWrite`.
    ///
    /// # Errors
    /// What the write refused.
    fn try_write_buf<B: Buf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>>
    where
        Self: Sized;
}

impl<T: Sealed + ?Sized> Sealed for &T {
    fn fd(&self) -> RawFd {
        (**self).fd()
    }
}

impl<T: TryRead> TryRead for &T {
    fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        (**self).try_read(buf)
    }

    fn try_read_buf<B: MutBuf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        (**self).try_read_buf(buf)
    }
}

impl<T: TryWrite> TryWrite for &T {
    fn try_write(&self, buf: &[u8]) -> Result<Option<usize>> {
        (**self).try_write(buf)
    }

    fn try_write_buf<B: Buf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        (**self).try_write_buf(buf)
    }
}

/// A statio stream whose embedded-io `Read`/`Write` block until they can make
/// progress, waiting with `poll(2)` on the stream's one descriptor (see the
/// [module docs](crate::net::blocking) for the mapping).
///
/// Holds the stream or a reference to it (`Blocking::new(&stream)`), so a stream
/// registered with a loop can be used blocking for a moment and stay registered. Costs
/// nothing when the stream is ready: one `recv`/`send`; `poll` only on would-block.
#[derive(Debug)]
pub struct Blocking<T> {
    inner: T,
    timeout: Option<Duration>,
}

impl<T> Blocking<T> {
    /// Wraps `inner`; its reads and writes wait as long as it takes.
    pub const fn new(inner: T) -> Self {
        Blocking {
            inner,
            timeout: None,
        }
    }

    /// Wraps `inner`; a read or write that waits longer than `timeout` for readiness
    /// fails with `TimedOut`.
    pub const fn with_timeout(inner: T, timeout: Duration) -> Self {
        Blocking {
            inner,
            timeout: Some(timeout),
        }
    }

    /// Sets how long one read or write may wait; `None`: as long as it takes.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> ErrorType for Blocking<T> {
    type Error = OsError;
}

impl<T: TryRead> Read for Blocking<T> {
    /// Reads at least one byte, waiting for it; `Ok(0)` at end of stream, or at once
    /// for an empty `buf`.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = deadline(self.timeout);
        loop {
            if let Some(n) = self.inner.try_read(buf)? {
                return Ok(n);
            }
            wait(self.inner.fd(), libc::POLLIN, deadline)?;
        }
    }
}

impl<T: TryWrite> Write for Blocking<T> {
    /// Writes at least one byte of a non-empty `buf`, waiting for room.
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = deadline(self.timeout);
        loop {
            match self.inner.try_write(buf)? {
                Some(0) => return Err(OsError::new(0, ErrorKind::WriteZero)),
                Some(n) => return Ok(n),
                None => wait(self.inner.fd(), libc::POLLOUT, deadline)?,
            }
        }
    }

    /// Nothing to do: the bytes written are in the kernel already.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<T: TryRead> ReadReady for Blocking<T> {
    fn read_ready(&mut self) -> Result<bool> {
        ready_now(self.inner.fd(), libc::POLLIN)
    }
}

impl<T: TryWrite> WriteReady for Blocking<T> {
    fn write_ready(&mut self) -> Result<bool> {
        ready_now(self.inner.fd(), libc::POLLOUT)
    }
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| MonotonicClock.now() + t)
}

/// One `poll(2)` of `fd` for `events` with `timeout_ms`; the `revents`, 0 on timeout.
fn poll_once(fd: RawFd, events: libc::c_short, timeout_ms: libc::c_int) -> Result<libc::c_short> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid, writable pollfd for the call.
    let n = check(unsafe { libc::poll(&mut pfd, 1, timeout_ms) })?;
    if n == 0 {
        return Ok(0);
    }
    if pfd.revents & libc::POLLNVAL != 0 {
        return Err(from_errno(libc::EBADF));
    }
    Ok(pfd.revents)
}

/// Whether `fd` is ready for `events` now (zero-timeout poll). Hang-up and error
/// count as ready: the next call returns at once, with EOF or the error.
pub(crate) fn ready_now(fd: RawFd, events: libc::c_short) -> Result<bool> {
    loop {
        match poll_once(fd, events, 0) {
            Ok(revents) => return Ok(revents != 0),
            Err(err) if err.is_interrupted() => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Waits until `fd` is ready for `events` (or hung up, or failed), or until `deadline`.
fn wait(fd: RawFd, events: libc::c_short, deadline: Option<Instant>) -> Result<()> {
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.duration_since(MonotonicClock.now());
                if left.is_zero() {
                    return Err(from_errno(libc::ETIMEDOUT));
                }
                // Round up, so a wait never ends before the deadline and 0.5 ms is
                // not a busy zero-timeout poll.
                let ms = left.as_nanos().div_ceil(1_000_000);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        };
        match poll_once(fd, events, timeout_ms) {
            // Timed out: the loop above sees the deadline has passed.
            Ok(0) => continue,
            Ok(_) => return Ok(()),
            Err(err) if err.is_interrupted() => continue,
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use embedded_io::{ErrorKind, Read, ReadReady, Write, WriteReady};

    use super::Blocking;
    use crate::net::{Shutdown, UnixStream, pipe};

    #[test]
    fn ready_answers_without_waiting() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        assert!(!a.read_ready().unwrap());
        assert!(a.write_ready().unwrap());
        b.try_write(b"x").unwrap();
        assert!(a.read_ready().unwrap());
        // EOF counts as ready: the read returns at once.
        let mut buf = [0u8; 4];
        assert_eq!(a.try_read(&mut buf).unwrap(), Some(1));
        b.shutdown(Shutdown::Write).unwrap();
        assert!(a.read_ready().unwrap());
        assert!(b.write_ready().unwrap());
    }

    #[test]
    fn read_waits_for_data_and_times_out() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut reader = Blocking::with_timeout(&a, Duration::from_millis(20));
        let mut buf = [0u8; 8];
        assert_eq!(
            reader.read(&mut buf).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
        assert_eq!(reader.read(&mut []).unwrap(), 0, "empty buf: at once");
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            Blocking::new(&b).write_all(b"late").unwrap();
            b
        });
        reader.set_timeout(Some(Duration::from_secs(10)));
        let mut got = [0u8; 4];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"late");
        drop(writer.join().unwrap());
        assert_eq!(reader.read(&mut buf).unwrap(), 0, "EOF");
        assert!(reader.read_ready().unwrap());
    }

    #[test]
    fn write_waits_for_room() {
        let (rx, tx) = pipe().unwrap();
        let mut writer = Blocking::with_timeout(tx, Duration::from_millis(20));
        // Fill the pipe, then one more write times out.
        let chunk = [7u8; 4096];
        while writer.get_ref().try_write(&chunk).unwrap().is_some() {}
        assert!(!writer.write_ready().unwrap());
        assert_eq!(
            writer.write(&chunk).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
        // A reader draining it lets a blocking write of more than the pipe holds through.
        let drain = std::thread::spawn(move || {
            let mut reader = Blocking::with_timeout(rx, Duration::from_secs(10));
            let mut buf = [0u8; 4096];
            let mut total = 0;
            loop {
                match reader.read(&mut buf).unwrap() {
                    0 => return total,
                    n => total += n,
                }
            }
        });
        writer.set_timeout(Some(Duration::from_secs(10)));
        let big = [9u8; 256 * 1024];
        writer.write_all(&big).unwrap();
        writer.flush().unwrap();
        drop(writer.into_inner());
        assert!(drain.join().unwrap() >= big.len());
    }
}
