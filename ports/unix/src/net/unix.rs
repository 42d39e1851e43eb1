//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and [`UnixDatagram`], named by
//! filesystem path (bytes, as the kernel sees them) or, on Linux and Android, by
//! abstract name.
//!
//! Binding a path creates a socket file that outlives the socket: remove it (`unlink`)
//! when done; binding fails with `AddrInUse` while it exists.

use statio_core::OsError;

use crate::Fd;
use crate::error::check;
use crate::net::addr::UnixAddr;
use crate::net::socket::{self, would_block};
use crate::net::{Result, Shutdown, fd_type};

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
    pub fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::recv(&self.fd, buf)
    }

    /// Writes from `buf`: `Ok(Some(n))` bytes taken, `Ok(None)` when the buffer is full
    /// (`send` with `MSG_NOSIGNAL`).
    ///
    /// # Errors
    /// `BrokenPipe` (`EPIPE`) once the peer is closed; never raises `SIGPIPE`.
    pub fn try_write(&self, buf: &[u8]) -> Result<Option<usize>> {
        socket::send(&self.fd, buf)
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
