//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and [`UnixDatagram`], named by
//! filesystem path (bytes, as the kernel sees them) or, on Linux and Android, by
//! abstract name.
//!
//! Binding a path creates a socket file that outlives the socket: remove it (`unlink`)
//! when done; binding fails with `AddrInUse` while it exists.

use statio_core::OsError;
use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::error::check;
use crate::net::addr::UnixAddr;
use crate::net::socket::{self, would_block};
use crate::net::{Result, Shutdown, bufio, fd_type};

fn bind(ty: libc::c_int, addr: &UnixAddr) -> Result<Fd> {
    let fd = socket::new_socket(libc::AF_UNIX, ty)?;
    let (ptr, len) = addr.as_raw();
    // SAFETY: `ptr` points at a sockaddr_un of at least `len` bytes, borrowed from `addr`.
    check(unsafe { libc::bind(fd.raw(), ptr, len) })?;
    Ok(fd)
}

fn connect(fd: &Fd, addr: &UnixAddr) -> Result<()> {
    let (ptr, len) = addr.as_raw();
    // SAFETY: `ptr` points at a sockaddr_un of at least `len` bytes, borrowed from `addr`.
    unsafe { socket::connect_raw(fd, ptr, len) }
}

fn local_addr(fd: &Fd) -> Result<UnixAddr> {
    UnixAddr::fill(|ptr, len| {
        // SAFETY: `fill` passes room for `*len` bytes.
        check(unsafe { libc::getsockname(fd.raw(), ptr, len) }).map(drop)
    })
    .map(|((), addr)| addr)
}

fn peer_addr(fd: &Fd) -> Result<UnixAddr> {
    UnixAddr::fill(|ptr, len| {
        // SAFETY: `fill` passes room for `*len` bytes.
        check(unsafe { libc::getpeername(fd.raw(), ptr, len) }).map(drop)
    })
    .map(|((), addr)| addr)
}

/// A listening Unix stream socket.
#[derive(Debug)]
pub struct UnixListener {
    fd: Fd,
}

impl UnixListener {
    /// Binds to the filesystem `path` and listens with a backlog of 1024.
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `path` does not fit in `sun_path` (it is
    /// never truncated); `AddrInUse` when the file exists; what else `socket`, `bind`
    /// or `listen` refused.
    pub fn bind(path: &[u8]) -> Result<UnixListener> {
        UnixListener::bind_addr(&UnixAddr::from_pathname(path)?)
    }

    /// Binds to the abstract `name` (Linux and Android; no file is created) and listens
    /// with a backlog of 1024.
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `name` is too long; `AddrInUse` when the
    /// name is taken.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_abstract(name: &[u8]) -> Result<UnixListener> {
        UnixListener::bind_addr(&UnixAddr::from_abstract_name(name)?)
    }

    /// Binds to `addr` and listens with a backlog of 1024.
    ///
    /// # Errors
    /// What `socket`, `bind` or `listen` refused.
    pub fn bind_addr(addr: &UnixAddr) -> Result<UnixListener> {
        let fd = bind(libc::SOCK_STREAM, addr)?;
        socket::listen(&fd, 1024)?;
        Ok(UnixListener { fd })
    }

    /// Accepts one pending connection: the new stream (close-on-exec, non-blocking) and
    /// the peer's address (usually unnamed); `Ok(None)` when none is pending.
    ///
    /// Platform notes: `accept4` with `SOCK_CLOEXEC | SOCK_NONBLOCK`; `accept` and
    /// `fcntl` on macOS/iOS.
    ///
    /// # Errors
    /// What `accept` refused: `EMFILE`/`ENFILE` (out of descriptors), `ECONNABORTED`.
    #[doc(alias = "accept4")]
    pub fn accept(&self) -> Result<Option<(UnixStream, UnixAddr)>> {
        let accepted = UnixAddr::fill(|ptr, len| {
            // SAFETY: `fill` passes room for `*len` bytes.
            unsafe { socket::accept(&self.fd, ptr, len) }
        });
        Ok(would_block(accepted)?.map(|(fd, addr)| (UnixStream { fd }, addr)))
    }

    /// The address the listener is bound to (`getsockname`).
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<UnixAddr> {
        local_addr(&self.fd)
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
    pub fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }
}

fd_type!(UnixListener);

/// A Unix stream connection.
#[derive(Debug)]
pub struct UnixStream {
    fd: Fd,
}

impl UnixStream {
    /// Connects to the listener at the filesystem `path`.
    ///
    /// A Unix connect completes at once or fails at once on most systems; where it
    /// returns `EINPROGRESS` it is treated as for TCP (writability, then
    /// [`take_error`](Self::take_error)).
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `path` is too long; `NotFound` (no such
    /// file), `ConnectionRefused` (no listener), `EAGAIN` as an error on Linux when the
    /// listener's backlog is full (unix(7): not would-block, the connect did not start).
    pub fn connect(path: &[u8]) -> Result<UnixStream> {
        UnixStream::connect_addr(&UnixAddr::from_pathname(path)?)
    }

    /// Connects to the listener bound to the abstract `name` (Linux and Android).
    ///
    /// # Errors
    /// As [`connect`](Self::connect); `ConnectionRefused` when no one is bound to `name`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn connect_abstract(name: &[u8]) -> Result<UnixStream> {
        UnixStream::connect_addr(&UnixAddr::from_abstract_name(name)?)
    }

    /// Connects to the listener at `addr`.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_addr(addr: &UnixAddr) -> Result<UnixStream> {
        let fd = socket::new_socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
        connect(&fd, addr)?;
        Ok(UnixStream { fd })
    }

    /// A pair of connected, unnamed streams (`socketpair`).
    ///
    /// # Errors
    /// What `socketpair` refused: `EMFILE`/`ENFILE`.
    #[doc(alias = "socketpair")]
    pub fn pair() -> Result<(UnixStream, UnixStream)> {
        let (a, b) = socket::socketpair(libc::SOCK_STREAM)?;
        Ok((UnixStream { fd: a }, UnixStream { fd: b }))
    }

    /// Reads into `buf`: `Ok(Some(n))` bytes, `Ok(Some(0))` at end of stream (or for an
    /// empty `buf`), `Ok(None)` when nothing is available yet (`recv`).
    ///
    /// # Errors
    /// `ConnectionReset` and what else `recv` refused.
    #[inline]
    pub fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::recv(&self.fd, buf)
    }

    /// Writes from `buf`: `Ok(Some(n))` bytes taken, `Ok(None)` when the buffer is full
    /// (`send` with `MSG_NOSIGNAL`).
    ///
    /// # Errors
    /// `BrokenPipe` (`EPIPE`) once the peer is closed; never raises `SIGPIPE`.
    #[inline]
    pub fn try_write(&self, buf: &[u8]) -> Result<Option<usize>> {
        socket::send(&self.fd, buf)
    }

    /// Reads straight into `buf`'s free space and commits what arrived: `Ok(Some(n))`
    /// bytes, `Ok(Some(0))` at end of stream or when `buf` is full (no call is made
    /// then: check [`MutBuf::has_remaining_mut`] first), `Ok(None)` when nothing is
    /// available yet (`read`, or `readv` when a ring's free space wraps).
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    #[doc(alias = "readv")]
    pub fn try_read_buf<B: MutBuf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        bufio::read_buf(&self.fd, buf)
    }

    /// Writes straight from `buf`'s filled space and consumes what was taken:
    /// `Ok(Some(n))`, `Ok(Some(0))` for an empty `buf` (no call is made), `Ok(None)`
    /// when the send buffer is full (`sendmsg` with `MSG_NOSIGNAL`, two `iovec`s when a
    /// ring's filled space wraps).
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write); never raises `SIGPIPE`.
    #[doc(alias = "sendmsg")]
    pub fn try_write_buf<B: Buf + ?Sized>(&self, buf: &mut B) -> Result<Option<usize>> {
        bufio::send_buf(&self.fd, buf)
    }

    /// Shuts down reading, writing or both (`shutdown`); after [`Shutdown::Write`] the
    /// peer reads end of stream.
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) when not connected.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        socket::shutdown(&self.fd, how)
    }

    /// This end's address (`getsockname`): unnamed unless bound.
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<UnixAddr> {
        local_addr(&self.fd)
    }

    /// The peer's address (`getpeername`): the listener's path or name for a
    /// connected client; unnamed for an accepted stream or a pair.
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) when not connected.
    pub fn peer_addr(&self) -> Result<UnixAddr> {
        peer_addr(&self.fd)
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
    pub fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }
}

fd_type!(UnixStream);

/// A Unix datagram socket: message boundaries are kept and delivery is reliable.
#[derive(Debug)]
pub struct UnixDatagram {
    fd: Fd,
}

impl UnixDatagram {
    /// A socket bound to the filesystem `path`.
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `path` is too long; `AddrInUse` when the
    /// file exists; what else `socket` or `bind` refused.
    pub fn bind(path: &[u8]) -> Result<UnixDatagram> {
        UnixDatagram::bind_addr(&UnixAddr::from_pathname(path)?)
    }

    /// A socket bound to the abstract `name` (Linux and Android).
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `name` is too long; `AddrInUse` when taken.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn bind_abstract(name: &[u8]) -> Result<UnixDatagram> {
        UnixDatagram::bind_addr(&UnixAddr::from_abstract_name(name)?)
    }

    /// A socket bound to `addr`.
    ///
    /// # Errors
    /// What `socket` or `bind` refused.
    pub fn bind_addr(addr: &UnixAddr) -> Result<UnixDatagram> {
        bind(libc::SOCK_DGRAM, addr).map(|fd| UnixDatagram { fd })
    }

    /// A socket bound to no address: it can send, but only a connected peer (or a
    /// [`pair`](Self::pair)) can answer it.
    ///
    /// # Errors
    /// What `socket` refused.
    pub fn unbound() -> Result<UnixDatagram> {
        socket::new_socket(libc::AF_UNIX, libc::SOCK_DGRAM).map(|fd| UnixDatagram { fd })
    }

    /// A pair of connected, unnamed datagram sockets (`socketpair`).
    ///
    /// # Errors
    /// What `socketpair` refused: `EMFILE`/`ENFILE`.
    #[doc(alias = "socketpair")]
    pub fn pair() -> Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = socket::socketpair(libc::SOCK_DGRAM)?;
        Ok((UnixDatagram { fd: a }, UnixDatagram { fd: b }))
    }

    /// Sets the default destination for [`send`](Self::send) and keeps only datagrams
    /// from it for [`recv`](Self::recv) (`connect`).
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `path` is too long; `NotFound`,
    /// `ConnectionRefused` when nothing is bound there.
    pub fn connect(&self, path: &[u8]) -> Result<()> {
        connect(&self.fd, &UnixAddr::from_pathname(path)?)
    }

    /// Like [`connect`](Self::connect), to any address (e.g. an abstract name).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_addr(&self, addr: &UnixAddr) -> Result<()> {
        connect(&self.fd, addr)
    }

    /// Sends one datagram to the connected peer; `Ok(None)` when the peer's queue is
    /// full.
    ///
    /// # Errors
    /// `NotConnected` before [`connect`](Self::connect); `ConnectionRefused` once the
    /// peer is closed.
    pub fn send(&self, buf: &[u8]) -> Result<Option<usize>> {
        socket::send(&self.fd, buf)
    }

    /// Receives one datagram, truncated to `buf.len()`; `Ok(None)` when none is queued.
    ///
    /// # Errors
    /// What `recv` refused.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::recv(&self.fd, buf)
    }

    /// Sends one datagram to the socket bound at `path`; `Ok(None)` when its queue is
    /// full.
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `path` is too long; `NotFound`,
    /// `ConnectionRefused` when nothing is bound there; `EMSGSIZE`.
    #[doc(alias = "sendto")]
    pub fn send_to(&self, buf: &[u8], path: &[u8]) -> Result<Option<usize>> {
        self.send_to_addr(buf, &UnixAddr::from_pathname(path)?)
    }

    /// Like [`send_to`](Self::send_to), to any address (e.g. an abstract name, or the
    /// address [`recv_from`](Self::recv_from) returned).
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub fn send_to_addr(&self, buf: &[u8], addr: &UnixAddr) -> Result<Option<usize>> {
        let (ptr, len) = addr.as_raw();
        // SAFETY: `ptr` points at a sockaddr_un of at least `len` bytes, borrowed from `addr`.
        unsafe { socket::send_to_raw(&self.fd, buf, ptr, len) }
    }

    /// Receives one datagram, truncated to `buf.len()`, with its sender's address
    /// (unnamed when the sender is not bound); `Ok(None)` when none is queued.
    ///
    /// # Errors
    /// What `recvfrom` refused.
    #[doc(alias = "recvfrom")]
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<Option<(usize, UnixAddr)>> {
        would_block(UnixAddr::fill(|ptr, len| {
            // SAFETY: `fill` passes room for `*len` bytes.
            unsafe { socket::recv_from_raw(&self.fd, buf, ptr, len) }
        }))
    }

    /// The address the socket is bound to (`getsockname`).
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<UnixAddr> {
        local_addr(&self.fd)
    }

    /// The connected peer's address (`getpeername`).
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) when not connected.
    pub fn peer_addr(&self) -> Result<UnixAddr> {
        peer_addr(&self.fd)
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
    pub fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }
}

fd_type!(UnixDatagram);

#[cfg(test)]
mod tests {
    use embedded_io::ErrorKind;

    use super::*;
    use crate::net::test_util::*;

    fn echo(a: &UnixStream, b: &UnixStream) {
        assert_eq!(a.try_write(b"hello").unwrap(), Some(5));
        let mut buf = [0u8; 16];
        let n = when_readable(b.as_raw_fd(), || b.try_read(&mut buf));
        assert_eq!(&buf[..n], b"hello");
    }

    #[test]
    fn stream_by_path() {
        let path = TempPath::new("stream");
        let listener = UnixListener::bind(&path.0).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(&path.0[..])
        );
        assert_eq!(listener.accept().unwrap().map(|_| ()), None);
        let client = UnixStream::connect(&path.0).unwrap();
        let (server, peer) = when_readable(listener.as_raw_fd(), || listener.accept());
        assert!(peer.is_unnamed());
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(&path.0[..]));
        assert!(client.local_addr().unwrap().is_unnamed());
        assert_eq!(client.take_error().unwrap(), None);
        echo(&client, &server);
        echo(&server, &client);
        let mut buf = [0u8; 4];
        assert_eq!(server.try_read(&mut buf).unwrap(), None);
        // The socket file outlives the socket: binding again fails until it is removed.
        drop(listener);
        assert_eq!(
            UnixListener::bind(&path.0).unwrap_err().kind(),
            ErrorKind::AddrInUse
        );
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn stream_by_abstract_name() {
        let name = abstract_name("stream");
        let listener = UnixListener::bind_abstract(&name).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_abstract_name(),
            Some(&name[..])
        );
        let client = UnixStream::connect_abstract(&name).unwrap();
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        assert_eq!(
            client.peer_addr().unwrap().as_abstract_name(),
            Some(&name[..])
        );
        echo(&client, &server);
        drop(listener);
        let refused = UnixStream::connect_abstract(&name).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    }

    #[test]
    fn shutdown_write_and_close_are_eof() {
        let (a, b) = UnixStream::pair().unwrap();
        echo(&a, &b);
        a.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(when_readable(b.as_raw_fd(), || b.try_read(&mut buf)), 0);
        echo(&b, &a);
        drop(a);
        let err = b.try_write(b"gone").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    }

    #[test]
    fn too_long_path_is_an_error() {
        let long = [b'x'; 300];
        for err in [
            UnixListener::bind(&long).unwrap_err(),
            UnixStream::connect(&long).unwrap_err(),
            UnixDatagram::bind(&long).unwrap_err(),
            UnixDatagram::unbound()
                .unwrap()
                .send_to(b"x", &long)
                .unwrap_err(),
        ] {
            assert_eq!(err.code(), libc::ENAMETOOLONG);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
        let missing = TempPath::new("missing");
        assert_eq!(
            UnixStream::connect(&missing.0).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn datagram_by_path() {
        let (pa, pb) = (TempPath::new("dgram-a"), TempPath::new("dgram-b"));
        let a = UnixDatagram::bind(&pa.0).unwrap();
        let b = UnixDatagram::bind(&pb.0).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(b.recv_from(&mut buf).unwrap().map(|_| ()), None);
        assert_eq!(a.send_to(b"one", &pb.0).unwrap(), Some(3));
        let (n, from) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
        assert_eq!(&buf[..n], b"one");
        assert_eq!(from.as_pathname(), Some(&pa.0[..]));
        assert_eq!(from, a.local_addr().unwrap());
        // Reply to the address recv_from returned.
        b.send_to_addr(b"two", &from).unwrap();
        let n = when_readable(a.as_raw_fd(), || a.recv(&mut buf));
        assert_eq!(&buf[..n], b"two");

        let c = UnixDatagram::unbound().unwrap();
        c.connect(&pb.0).unwrap();
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(&pb.0[..]));
        assert_eq!(c.send(b"three").unwrap(), Some(5));
        let (n, from) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
        assert_eq!(&buf[..n], b"three");
        assert!(from.is_unnamed());
        assert_eq!(c.take_error().unwrap(), None);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn datagram_by_abstract_name() {
        let name = abstract_name("dgram");
        let a = UnixDatagram::bind_abstract(&name).unwrap();
        let b = UnixDatagram::unbound().unwrap();
        let addr = UnixAddr::from_abstract_name(&name).unwrap();
        b.connect_addr(&addr).unwrap();
        b.send(b"abs").unwrap();
        let mut buf = [0u8; 8];
        let n = when_readable(a.as_raw_fd(), || a.recv(&mut buf));
        assert_eq!(&buf[..n], b"abs");
        assert_eq!(a.local_addr().unwrap(), addr);
    }

    #[test]
    fn datagram_pair_keeps_boundaries() {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"first").unwrap();
        a.send(b"second").unwrap();
        let mut buf = [0u8; 16];
        let n = when_readable(b.as_raw_fd(), || b.recv(&mut buf));
        assert_eq!(&buf[..n], b"first");
        let n = when_readable(b.as_raw_fd(), || b.recv(&mut buf));
        assert_eq!(&buf[..n], b"second");
        assert_eq!(b.recv(&mut buf).unwrap(), None);
    }

    #[test]
    fn descriptors_are_cloexec_nonblocking_and_close_on_drop() {
        let path = TempPath::new("flags");
        let listener = UnixListener::bind(&path.0).unwrap();
        let client = UnixStream::connect(&path.0).unwrap();
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        let (s1, s2) = UnixStream::pair().unwrap();
        let (d1, d2) = UnixDatagram::pair().unwrap();
        let unbound = UnixDatagram::unbound().unwrap();
        for fd in [
            listener.as_raw_fd(),
            client.as_raw_fd(),
            server.as_raw_fd(),
            s1.as_raw_fd(),
            s2.as_raw_fd(),
            d1.as_raw_fd(),
            d2.as_raw_fd(),
            unbound.as_raw_fd(),
        ] {
            assert_cloexec_nonblocking(fd);
        }
        assert_drop_closes(listener, UnixListener::into_fd);
        assert_drop_closes(server, UnixStream::into_fd);
        assert_drop_closes(d1, UnixDatagram::into_fd);
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_conversions() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (a, b) = (UnixStream::from(a), UnixStream::from(b));
        assert_cloexec_nonblocking(a.as_raw_fd());
        echo(&a, &b);
        let _std: std::os::unix::net::UnixStream = a.into();
        let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
        assert_cloexec_nonblocking(UnixDatagram::from(d).as_raw_fd());
        let path = TempPath::new("std");
        let std_listener =
            std::os::unix::net::UnixListener::bind(std::str::from_utf8(&path.0).unwrap()).unwrap();
        let listener = UnixListener::from(std_listener);
        assert_eq!(listener.accept().unwrap().map(|_| ()), None);
    }
}
