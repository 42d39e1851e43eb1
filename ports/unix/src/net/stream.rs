//! [`Stream`]: the byte-stream calls, written once, that `TcpStream`, `UnixStream` and
//! the pipe ends wrap (in the spirit of mio's `IoSource`), and the three macros that
//! give each of those types its public stream methods, documented once:
//! [`readable_stream!`] (`try_read`, `try_read_buf`), [`writable_stream!`] (`try_write`,
//! `try_write_buf`) and [`socket_stream!`] (both, plus `shutdown`, `take_error` and the
//! linger option).
//!
//! Sockets and pipes differ in one thing only, which call moves the bytes: a [`Kind`].
//!
//! | kind | read | write, one region | write, two regions |
//! |---|---|---|---|
//! | [`Socket`] | `recv` / `readv` | `send` with `MSG_NOSIGNAL` | `sendmsg` with `MSG_NOSIGNAL` |
//! | [`Pipe`] | `read` / `readv` | `write` | `writev` |

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use statio_core::OsError;
use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::net::socket::{self, c_int_of, set_opt};
use crate::net::{Result, Shutdown, bufio};

/// Which calls move a stream's bytes: the one place sockets and pipes differ.
pub(crate) trait Kind {
    /// One contiguous read.
    fn read(fd: &Fd, buf: &mut [u8]) -> Result<Option<usize>>;
    /// One contiguous write.
    fn write(fd: &Fd, buf: &[u8]) -> Result<Option<usize>>;
    /// One write of `first` then `second`.
    fn write_vectored(fd: &Fd, first: &[u8], second: &[u8]) -> Result<Option<usize>>;
}

/// A stream socket: `recv`, and the send calls, which take `MSG_NOSIGNAL` (a write to a
/// reset peer fails with `EPIPE` instead of raising `SIGPIPE`).
pub(crate) enum Socket {}

/// A pipe end: `read`/`write`, as a pipe takes no send flags.
pub(crate) enum Pipe {}

impl Kind for Socket {
    #[inline]
    fn read(fd: &Fd, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::recv(fd, buf)
    }
    #[inline]
    fn write(fd: &Fd, buf: &[u8]) -> Result<Option<usize>> {
        socket::send(fd, buf)
    }
    fn write_vectored(fd: &Fd, first: &[u8], second: &[u8]) -> Result<Option<usize>> {
        bufio::sendmsg(fd, first, second)
    }
}

impl Kind for Pipe {
    #[inline]
    fn read(fd: &Fd, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::read(fd, buf)
    }
    #[inline]
    fn write(fd: &Fd, buf: &[u8]) -> Result<Option<usize>> {
        socket::write(fd, buf)
    }
    fn write_vectored(fd: &Fd, first: &[u8], second: &[u8]) -> Result<Option<usize>> {
        bufio::writev(fd, first, second)
    }
}

/// An owned, non-blocking stream descriptor of kind `K`.
pub(crate) struct Stream<K> {
    fd: Fd,
    kind: PhantomData<K>,
}

/// A stream is its descriptor for every call but the stream calls: `peer_addr`, options.
impl<K> Deref for Stream<K> {
    type Target = Fd;

    fn deref(&self) -> &Fd {
        &self.fd
    }
}

impl<K> From<Fd> for Stream<K> {
    fn from(fd: Fd) -> Stream<K> {
        Stream {
            fd,
            kind: PhantomData,
        }
    }
}

impl<K> From<Stream<K>> for Fd {
    fn from(stream: Stream<K>) -> Fd {
        stream.fd
    }
}

impl<K> fmt::Debug for Stream<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fd.fmt(f)
    }
}

impl<K: Kind> Stream<K> {
    #[inline]
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        if buf.is_empty() {
            return Err(socket::no_room());
        }
        K::read(&self.fd, buf)
    }

    #[inline]
    pub(crate) fn try_write(&self, buf: &[u8]) -> Result<Option<usize>> {
        K::write(&self.fd, buf)
    }

    pub(crate) fn try_read_buf<B: MutBuf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        bufio::read_buf::<K, B>(&self.fd, buf)
    }

    pub(crate) fn try_write_buf<B: Buf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        bufio::write_buf::<K, B>(&self.fd, buf)
    }
}

/// `SO_LINGER` counts seconds everywhere but on Darwin, whose `SO_LINGER` counts clock
/// ticks: there `SO_LINGER_SEC` is the option in seconds.
#[cfg(any(target_os = "macos", target_os = "ios"))]
const LINGER: libc::c_int = libc::SO_LINGER_SEC;
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
const LINGER: libc::c_int = libc::SO_LINGER;

impl Stream<Socket> {
    pub(crate) fn shutdown(&self, how: Shutdown) -> Result<()> {
        socket::shutdown(&self.fd, how)
    }

    pub(crate) fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }

    pub(crate) fn set_linger(&self, secs: Option<u32>) -> Result<()> {
        let value = libc::linger {
            l_onoff: libc::c_int::from(secs.is_some()),
            l_linger: c_int_of(secs.unwrap_or(0))?,
        };
        set_opt(&self.fd, libc::SOL_SOCKET, LINGER, value)
    }

    pub(crate) fn linger(&self) -> Result<Option<u32>> {
        let value: libc::linger = socket::get_opt(&self.fd, libc::SOL_SOCKET, LINGER)?;
        // A negative count cannot be set through this API; read as 0 should one appear.
        Ok((value.l_onoff != 0).then(|| u32::try_from(value.l_linger).unwrap_or(0)))
    }
}

/// Gives `$ty`, whose `fd` field is a [`Stream`], the public reading methods, the
/// sealed [`TryRead`](crate::net::TryRead) and embedded-io's `ReadReady`.
macro_rules! readable_stream {
    ($ty:ty) => {
        impl $ty {
            /// Reads into `buf`: `Ok(Some(n))` bytes with `n > 0`, `Ok(Some(0))` at end of
            /// stream and only then, `Ok(None)` when nothing is available yet (would block).
            ///
            /// A read shorter than `buf` proves the stream drained (no need for the read
            /// that would return `Ok(None)`): see [the read rule](crate::net#the-read-rule)
            /// for when that holds on each port. Which call is made:
            /// [the stream table](crate::net#streams).
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) for an empty `buf`, without a call: an empty
            /// read could only return 0, which would read as end of stream (see
            /// [no room](crate::net#no-room-is-an-error)). `ConnectionReset`, `TimedOut`
            /// (TCP keep-alive), `NotConnected` (a socket whose connect has not
            /// completed, on some systems), and what else the call refused.
            #[doc(alias = "recv", alias = "read")]
            #[inline]
            pub fn try_read(&self, buf: &mut [u8]) -> $crate::net::Result<Option<usize>> {
                self.fd.try_read(buf)
            }

            /// Reads straight into `buf`'s free space and commits what arrived, as
            /// [`try_read`](Self::try_read) does into a slice: one `recv`/`read` when
            /// the free space is one region, one `readv` when a ring's free space wraps.
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) when `buf` is full, without a call (see
            /// [no room](crate::net#no-room-is-an-error)); otherwise as
            /// [`try_read`](Self::try_read).
            #[doc(alias = "readv")]
            pub fn try_read_buf<B: statio_core::buf::MutBuf + ?Sized>(
                &self,
                buf: &mut B,
            ) -> $crate::net::Result<Option<usize>> {
                self.fd.try_read_buf(buf)
            }
        }

        impl $crate::net::TryRead for $ty {
            #[inline]
            fn try_read(&self, buf: &mut [u8]) -> $crate::net::Result<Option<usize>> {
                <$ty>::try_read(self, buf)
            }

            fn try_read_buf<B: statio_core::buf::MutBuf + ?Sized>(
                &self,
                buf: &mut B,
            ) -> $crate::net::Result<Option<usize>> {
                <$ty>::try_read_buf(self, buf)
            }
        }

        impl embedded_io::ReadReady for $ty {
            /// Whether a read would return at once (data, EOF, hang-up or an error
            /// pending): `poll(2)` for `POLLIN` with a zero timeout.
            fn read_ready(&mut self) -> $crate::net::Result<bool> {
                $crate::net::blocking::ready_now(self.fd.raw(), libc::POLLIN)
            }
        }
    };
}

/// Gives `$ty`, whose `fd` field is a [`Stream`], the public writing methods, the
/// sealed [`TryWrite`](crate::net::TryWrite) and embedded-io's `WriteReady`.
macro_rules! writable_stream {
    ($ty:ty) => {
        impl $ty {
            /// Writes from `buf`: `Ok(Some(n))` bytes taken, possibly fewer than
            /// `buf.len()` (and 0 for an empty `buf`), `Ok(None)` when there is no room
            /// (would block). Which call is made: [the stream table](crate::net#streams).
            ///
            /// # Errors
            /// `BrokenPipe` (`EPIPE`) once the peer closed or reset, or after this side
            /// shut down writing; `ConnectionReset`, and what else the call refused. A
            /// socket never raises `SIGPIPE`; a pipe does: see
            /// [`pipe::Sender`](crate::net::pipe::Sender).
            #[doc(alias = "send", alias = "write")]
            #[inline]
            pub fn try_write(&self, buf: &[u8]) -> $crate::net::Result<Option<usize>> {
                self.fd.try_write(buf)
            }

            /// Writes straight from `buf`'s filled space and consumes what was taken, as
            /// [`try_write`](Self::try_write) does from a slice: `Ok(Some(0))` for an
            /// empty `buf` (no call is made); one `send`/`write` when the filled space is
            /// one region, one `sendmsg`/`writev` when a ring's filled space wraps.
            ///
            /// # Errors
            /// As [`try_write`](Self::try_write).
            #[doc(alias = "sendmsg", alias = "writev")]
            pub fn try_write_buf<B: statio_core::buf::Buf + ?Sized>(
                &self,
                buf: &mut B,
            ) -> $crate::net::Result<Option<usize>> {
                self.fd.try_write_buf(buf)
            }
        }

        impl $crate::net::TryWrite for $ty {
            #[inline]
            fn try_write(&self, buf: &[u8]) -> $crate::net::Result<Option<usize>> {
                <$ty>::try_write(self, buf)
            }

            fn try_write_buf<B: statio_core::buf::Buf + ?Sized>(
                &self,
                buf: &mut B,
            ) -> $crate::net::Result<Option<usize>> {
                <$ty>::try_write_buf(self, buf)
            }
        }

        impl embedded_io::WriteReady for $ty {
            /// Whether a write would return at once (room in the send buffer, or an
            /// error pending): `poll(2)` for `POLLOUT` with a zero timeout.
            fn write_ready(&mut self) -> $crate::net::Result<bool> {
                $crate::net::blocking::ready_now(self.fd.raw(), libc::POLLOUT)
            }
        }
    };
}

/// Gives `$ty`, whose `fd` field is a `Stream<Socket>`, both directions and the calls
/// only a connected socket has.
macro_rules! socket_stream {
    ($ty:ty) => {
        $crate::net::stream::readable_stream!($ty);
        $crate::net::stream::writable_stream!($ty);

        impl $ty {
            /// Shuts down reading, writing or both (`shutdown`); after
            /// [`Shutdown::Write`](crate::net::Shutdown::Write) the peer reads end of
            /// stream once it has read everything sent before.
            ///
            /// # Errors
            /// `NotConnected` (`ENOTCONN`) on a stream that is not (or no longer)
            /// connected.
            pub fn shutdown(&self, how: $crate::net::Shutdown) -> $crate::net::Result<()> {
                self.fd.shutdown(how)
            }

            /// Takes the pending socket error (`SO_ERROR`), clearing it: after a
            /// non-blocking connect turned writable, `Some(ECONNREFUSED)` and the like
            /// mean it failed.
            ///
            /// # Errors
            /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
            #[doc(alias = "SO_ERROR")]
            pub fn take_error(&self) -> $crate::net::Result<Option<statio_core::OsError>> {
                self.fd.take_error()
            }

            /// Sets what `close` does with unsent data (`SO_LINGER`): `None`, the
            /// default, sends it in the background; `Some(0)` discards it and resets the
            /// connection (a TCP peer sees `ECONNRESET`); `Some(secs)` is for blocking
            /// sockets only, where `close` waits up to `secs` seconds.
            ///
            /// Platform notes: macOS/iOS use `SO_LINGER_SEC`, as their `SO_LINGER`
            /// counts clock ticks. Unix domain sockets take and report the option, but
            /// no kernel acts on it for them.
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) above `i32::MAX` seconds; what `setsockopt`
            /// refused.
            #[doc(alias = "SO_LINGER")]
            pub fn set_linger(&self, secs: Option<u32>) -> $crate::net::Result<()> {
                self.fd.set_linger(secs)
            }

            /// What [`set_linger`](Self::set_linger) set: `None` when lingering is off.
            ///
            /// # Errors
            /// What `getsockopt` refused.
            pub fn linger(&self) -> $crate::net::Result<Option<u32>> {
                self.fd.linger()
            }
        }
    };
}

pub(crate) use {readable_stream, socket_stream, writable_stream};

#[cfg(test)]
mod tests {
    use embedded_io::ErrorKind;
    use statio_core::buf::{Buf, MutBuf, MutSliceBuf, RingBuf, SliceBuf};

    use crate::net::test_util::*;
    use crate::net::{Shutdown, TcpListener, TcpStream, TryRead, TryWrite, UnixStream, pipe};

    /// The one contract of every stream (issue 10 item 7, issue 12): the same calls
    /// behave the same on `TcpStream`, `UnixStream` and a pipe, whose inner is shared.
    /// `close` ends the writing side (shutdown or drop).
    fn stream_contract<R: TryRead, W: TryWrite>(reader: R, writer: W, close: impl FnOnce(W)) {
        let fd = reader.fd();
        // No room is an error made without a call, never a 0 that reads as EOF.
        let err = reader.try_read(&mut []).unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            (libc::EINVAL, ErrorKind::InvalidInput)
        );
        let mut full: RingBuf<2> = RingBuf::new();
        full.write_truncating(b"xx");
        let err = reader.try_read_buf(&mut full).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            reader.try_read(&mut [0; 4]).unwrap(),
            None,
            "nothing sent yet"
        );

        // One region: send/write; the short read proves the stream drained.
        assert_eq!(
            writer.try_write_buf(&mut SliceBuf::new(b"hello")).unwrap(),
            Some(5)
        );
        let mut buf = [0u8; 16];
        let n = when_readable(fd, || reader.try_read(&mut buf));
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(
            reader.try_read(&mut buf).unwrap(),
            None,
            "short read, not drained"
        );

        // Two regions each way: sendmsg/writev from a wrapped ring, readv into one.
        let mut out = ring_with_wrapped_data();
        assert_eq!(writer.try_write_buf(&mut out).unwrap(), Some(6));
        let mut inn = ring_with_wrapped_room();
        let n = when_readable(fd, || reader.try_read_buf(&mut inn));
        assert_eq!(n, 6);
        assert_eq!(inn.chunks(), (&b"efef"[..], &b"ghij"[..]));
        assert_eq!(
            writer.try_write_buf(&mut out).unwrap(),
            Some(0),
            "empty: no call"
        );

        // End of stream is the only Some(0).
        close(writer);
        let mut storage = [0u8; 4];
        let eof = when_readable(fd, || {
            reader.try_read_buf(&mut MutSliceBuf::new(&mut storage))
        });
        assert_eq!(eof, 0);
        assert_eq!(reader.try_read(&mut buf).unwrap(), Some(0));
    }

    #[test]
    fn tcp_streams_keep_the_contract() {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        wait_writable(client.as_raw_fd());
        stream_contract(&server, &client, |w| w.shutdown(Shutdown::Write).unwrap());
    }

    #[test]
    fn unix_streams_keep_the_contract() {
        let (a, b) = UnixStream::pair().unwrap();
        stream_contract(a, b, drop);
    }

    #[test]
    fn pipes_keep_the_contract() {
        let (rx, tx) = pipe().unwrap();
        stream_contract(rx, tx, drop);
    }
}
