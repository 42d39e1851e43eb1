//! Unix domain stream sockets: the [`UnixSocket`] builder, [`UnixListener`] and
//! [`UnixStream`], named by filesystem path (bytes, as the kernel sees them) or, on
//! Linux and Android, by abstract name through [`UnixAddr::from_abstract_name`] and the
//! `*_abstract` calls only: an empty path is refused, never taken for the abstract name
//! "" (see [`UnixAddr::from_pathname`]).
//!
//! Binding a path creates a socket file that outlives the socket: remove it (`unlink`)
//! when done; binding fails with `AddrInUse` while it exists.

use statio_core::OsError;

use crate::Fd;
use crate::error::check;
use crate::net::addr::UnixAddr;
use crate::net::options::buffer_options;
use crate::net::socket::{self, would_block};
use crate::net::stream::{self, Stream};
use crate::net::{Result, fd_type};

/// Binds `fd` to `addr` (bind(2)).
pub(crate) fn bind(fd: &Fd, addr: &UnixAddr) -> Result<()> {
    let (ptr, len) = addr.as_raw();
    // SAFETY: `ptr` points at a sockaddr_un of at least `len` bytes, borrowed from `addr`.
    check(unsafe { libc::bind(fd.raw(), ptr, len) }).map(drop)
}

/// Connects `fd` to `addr` (connect(2), non-blocking: see [`socket::connect_raw`]).
pub(crate) fn connect(fd: &Fd, addr: &UnixAddr) -> Result<()> {
    let (ptr, len) = addr.as_raw();
    // SAFETY: `ptr` points at a sockaddr_un of at least `len` bytes, borrowed from `addr`.
    unsafe { socket::connect_raw(fd, ptr, len) }
}

/// The socket's own address (getsockname(2)).
pub(crate) fn local_addr(fd: &Fd) -> Result<UnixAddr> {
    UnixAddr::fill(|ptr, len| {
        // SAFETY: `fill` passes room for `*len` bytes.
        check(unsafe { libc::getsockname(fd.raw(), ptr, len) }).map(drop)
    })
    .map(|((), addr)| addr)
}

/// The connected peer's address (getpeername(2)).
pub(crate) fn peer_addr(fd: &Fd) -> Result<UnixAddr> {
    UnixAddr::fill(|ptr, len| {
        // SAFETY: `fill` passes room for `*len` bytes.
        check(unsafe { libc::getpeername(fd.raw(), ptr, len) }).map(drop)
    })
    .map(|((), addr)| addr)
}

/// A Unix stream socket not yet listening or connected (mio 0.2's
/// `UnixSocket::stream()`): options, [`bind`](Self::bind) if needed, then
/// [`listen`](Self::listen) with a backlog of your choice or [`connect`](Self::connect).
///
/// It is a [`Source`](statio_core::Source), so it may be registered before it
/// connects; [`connect`](Self::connect) keeps its descriptor, and the registration with
/// it. A Unix connect completes or fails at once on every supported system (Linux
/// never returns `EINPROGRESS` for it), so the stream is writable as soon as a select
/// looks; until it connects, the socket reports hang-up (Linux: `EPOLLHUP` for an
/// unconnected stream socket).
///
/// ```no_run
/// use statio_unix::net::UnixSocket;
///
/// let socket = UnixSocket::stream()?;
/// // ... register `socket` for writability, then:
/// let stream = socket.connect(b"/run/app.sock")?;
/// # Ok::<(), statio_core::OsError>(())
/// ```
#[derive(Debug)]
pub struct UnixSocket {
    fd: Fd,
}

impl UnixSocket {
    /// A new Unix stream socket (`socket(AF_UNIX, SOCK_STREAM)`), close-on-exec and
    /// non-blocking.
    ///
    /// # Errors
    /// What `socket` refused: `EMFILE`/`ENFILE` (out of descriptors).
    #[doc(alias = "socket")]
    pub fn stream() -> Result<UnixSocket> {
        socket::new_socket(libc::AF_UNIX, libc::SOCK_STREAM).map(|fd| UnixSocket { fd })
    }

    /// Binds to the filesystem `path` (a client bound this way shows as that path to
    /// its peer).
    ///
    /// # Errors
    /// As [`UnixAddr::from_pathname`] (`InvalidInput` for an empty or too long path);
    /// `AddrInUse` when the file exists; what else `bind` refused.
    pub fn bind(&self, path: &[u8]) -> Result<()> {
        self.bind_addr(&UnixAddr::from_pathname(path)?)
    }

    /// Binds to `addr` (e.g. an abstract name).
    ///
    /// # Errors
    /// What `bind` refused, e.g. `AddrInUse`.
    pub fn bind_addr(&self, addr: &UnixAddr) -> Result<()> {
        bind(&self.fd, addr)
    }

    /// Starts listening, with room for `backlog` connections waiting for
    /// [`accept`](UnixListener::accept) (`listen`); the kernel caps it at the system's
    /// maximum (`net.core.somaxconn` on Linux), which a negative `backlog` also asks
    /// for. On Linux a connect to a listener whose queue holds more than `backlog`
    /// fails with `EAGAIN` (unix(7)).
    ///
    /// # Errors
    /// What `listen` refused: `EINVAL` for a socket never bound.
    pub fn listen(self, backlog: i32) -> Result<UnixListener> {
        socket::listen(&self.fd, backlog)?;
        Ok(UnixListener { fd: self.fd })
    }

    /// Connects to the listener at the filesystem `path` and gives the stream (same
    /// descriptor).
    ///
    /// A connect refused at once closes the socket with the builder: a socket
    /// registered before `connect` then keeps its token held (see
    /// [the module notes](crate::net#builders)).
    ///
    /// # Errors
    /// As [`UnixAddr::from_pathname`]; `NotFound` (no such file), `ConnectionRefused`
    /// (no listener), and on Linux `EAGAIN` as an error when the listener's backlog is
    /// full (unix(7): not would-block, the connect did not start).
    pub fn connect(self, path: &[u8]) -> Result<UnixStream> {
        self.connect_addr(&UnixAddr::from_pathname(path)?)
    }

    /// Connects to the listener at `addr` (e.g. an abstract name), as
    /// [`connect`](Self::connect) does.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_addr(self, addr: &UnixAddr) -> Result<UnixStream> {
        connect(&self.fd, addr)?;
        Ok(UnixStream::from(self.fd))
    }

    /// The address the socket is bound to (`getsockname`): unnamed unless bound.
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<UnixAddr> {
        local_addr(&self.fd)
    }
}

fd_type!(UnixSocket);
buffer_options!(UnixSocket);

/// A listening Unix stream socket.
#[derive(Debug)]
pub struct UnixListener {
    fd: Fd,
}

impl UnixListener {
    /// Binds to the filesystem `path` and listens with a backlog of 1024; a
    /// [`UnixSocket`] chooses otherwise.
    ///
    /// # Errors
    /// As [`UnixAddr::from_pathname`] (`InvalidInput` for an empty or too long path: it
    /// is never truncated); `AddrInUse` when the file exists; what else `socket`,
    /// `bind` or `listen` refused.
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
        let socket = UnixSocket::stream()?;
        socket.bind_addr(addr)?;
        socket.listen(1024)
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
        Ok(would_block(accepted)?.map(|(fd, addr)| (UnixStream::from(fd), addr)))
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

/// A Unix stream connection. Its reads, writes, shutdown, pending error and linger
/// option are those of every stream here ([the stream table](crate::net#streams)).
#[derive(Debug)]
pub struct UnixStream {
    fd: Stream<stream::Socket>,
}

impl UnixStream {
    /// Connects to the listener at the filesystem `path` (see [`UnixSocket::connect`]).
    ///
    /// # Errors
    /// As [`UnixSocket::connect`].
    pub fn connect(path: &[u8]) -> Result<UnixStream> {
        UnixSocket::stream()?.connect(path)
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
        UnixSocket::stream()?.connect_addr(addr)
    }

    /// A pair of connected, unnamed streams (`socketpair`).
    ///
    /// # Errors
    /// What `socketpair` refused: `EMFILE`/`ENFILE`.
    #[doc(alias = "socketpair")]
    pub fn pair() -> Result<(UnixStream, UnixStream)> {
        let (a, b) = socket::socketpair(libc::SOCK_STREAM)?;
        Ok((UnixStream::from(a), UnixStream::from(b)))
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
}

fd_type!(UnixStream);
stream::socket_stream!(UnixStream);

#[cfg(test)]
mod tests {
    use embedded_io::ErrorKind;

    use super::*;
    use crate::net::Shutdown;
    use crate::net::test_util::*;

    fn echo(a: &UnixStream, b: &UnixStream) {
        assert_eq!(a.try_write(b"hello").unwrap(), Some(5));
        let mut buf = [0u8; 16];
        let n = when_readable(b.as_raw_fd(), || b.try_read(&mut buf));
        assert_eq!(&buf[..n], b"hello");
    }

    #[test]
    fn stream_by_path() {
        let path = temp_path("stream");
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
            UnixSocket::stream().unwrap().bind(&long).unwrap_err(),
        ] {
            assert_eq!(err.code(), libc::ENAMETOOLONG);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
        let missing = temp_path("missing");
        assert_eq!(
            UnixStream::connect(&missing.0).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    /// Issue 14, item 3: `bind(b"")` bound the abstract name "" on Linux, and
    /// `connect(b"")` reached whoever held it.
    #[test]
    fn empty_path_is_refused_not_the_abstract_name() {
        let socket = UnixSocket::stream().unwrap();
        for err in [
            UnixListener::bind(b"").unwrap_err(),
            UnixStream::connect(b"").unwrap_err(),
            socket.bind(b"").unwrap_err(),
            UnixSocket::stream().unwrap().connect(b"").unwrap_err(),
        ] {
            assert_eq!(
                (err.code(), err.kind()),
                (libc::EINVAL, ErrorKind::InvalidInput)
            );
        }
        assert!(socket.local_addr().unwrap().is_unnamed(), "bound anyway");
    }

    #[test]
    fn builder_listens_with_the_backlog_given() {
        let path = temp_path("backlog");
        let socket = UnixSocket::stream().unwrap();
        socket.set_send_buffer_size(64 * 1024).unwrap();
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        socket.bind(&path.0).unwrap();
        assert_eq!(
            socket.local_addr().unwrap().as_pathname(),
            Some(&path.0[..])
        );
        let listener = socket.listen(2).unwrap();
        // Linux refuses a connect once more than `backlog` wait (unix(7)): 3 fit.
        let mut waiting = std::vec::Vec::new();
        let refused = (0..64).find_map(|_| match UnixStream::connect(&path.0) {
            Ok(stream) => {
                waiting.push(stream);
                None
            }
            Err(err) => Some(err),
        });
        if cfg!(any(target_os = "linux", target_os = "android")) {
            assert_eq!(waiting.len(), 3, "connections queued with a backlog of 2");
            assert_eq!(refused.map(OsError::code), Some(libc::EAGAIN));
        }
        assert!(listener.accept().unwrap().is_some());
    }

    /// Issue 14, item 1: the builder is an unconnected stream (so it can be registered
    /// before it connects), and connecting keeps its descriptor (so the registration
    /// carries over: tests/unix_builders.rs runs it through the loop).
    #[test]
    fn unconnected_socket_connects_on_its_own_descriptor() {
        let path = temp_path("unconnected");
        let listener = UnixListener::bind(&path.0).unwrap();
        let client = UnixSocket::stream().unwrap();
        assert_eq!(
            peer_addr(&client.fd).unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        let watched = client.as_raw_fd();
        let client = client.connect(&path.0).unwrap();
        assert_eq!(client.as_raw_fd(), watched, "connect kept the descriptor");
        wait_writable(watched);
        assert_eq!(client.take_error().unwrap(), None);
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        echo(&client, &server);
    }

    #[test]
    fn linger_round_trips() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(a.linger().unwrap(), None);
        a.set_linger(Some(7)).unwrap();
        assert_eq!(a.linger().unwrap(), Some(7));
        a.set_linger(None).unwrap();
        assert_eq!(a.linger().unwrap(), None);
    }

    #[test]
    fn descriptors_are_cloexec_nonblocking_and_close_on_drop() {
        let path = temp_path("flags");
        let listener = UnixListener::bind(&path.0).unwrap();
        let client = UnixStream::connect(&path.0).unwrap();
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        let (s1, s2) = UnixStream::pair().unwrap();
        let socket = UnixSocket::stream().unwrap();
        for fd in [
            listener.as_raw_fd(),
            client.as_raw_fd(),
            server.as_raw_fd(),
            s1.as_raw_fd(),
            s2.as_raw_fd(),
            socket.as_raw_fd(),
        ] {
            assert_cloexec_nonblocking(fd, "fd");
        }
        assert_drop_closes(listener, UnixListener::into_fd);
        assert_drop_closes(server, UnixStream::into_fd);
        assert_drop_closes(socket, UnixSocket::into_fd);
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_conversions() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (a, b) = (UnixStream::from(a), UnixStream::from(b));
        assert_cloexec_nonblocking(a.as_raw_fd(), "a");
        echo(&a, &b);
        let _std: std::os::unix::net::UnixStream = a.into();
        let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
        assert_cloexec_nonblocking(
            crate::net::UnixDatagram::from(d).as_raw_fd(),
            "UnixDatagram::from(d)",
        );
        let path = temp_path("std");
        let std_listener =
            std::os::unix::net::UnixListener::bind(std::str::from_utf8(&path.0).unwrap()).unwrap();
        let listener = UnixListener::from(std_listener);
        assert_eq!(listener.accept().unwrap().map(|_| ()), None);
    }
}
