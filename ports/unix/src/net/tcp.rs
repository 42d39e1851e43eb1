//! TCP: the [`TcpSocket`] builder, [`TcpListener`] and [`TcpStream`].

use core::net::SocketAddr;

use statio_core::OsError;

use crate::Fd;
use crate::net::socket::{self, c_int_of, set_flag, set_opt};
use crate::net::{Result, Shutdown, fd_type};

fn domain_of(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// A TCP socket not yet listening or connected, for setting options first (as in mio
/// 0.2): `TcpSocket::v4()?`, options, [`bind`](Self::bind), then [`listen`](Self::listen)
/// or [`connect`](Self::connect).
#[derive(Debug)]
pub struct TcpSocket {
    fd: Fd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (`socket(AF_INET, SOCK_STREAM)`).
    ///
    /// # Errors
    /// What `socket` refused: `EMFILE`/`ENFILE` (out of descriptors), `EAFNOSUPPORT`.
    #[doc(alias = "socket")]
    pub fn v4() -> Result<TcpSocket> {
        socket::new_socket(libc::AF_INET, libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    /// A new IPv6 TCP socket (`socket(AF_INET6, SOCK_STREAM)`).
    ///
    /// # Errors
    /// As [`v4`](Self::v4); `EAFNOSUPPORT` when the host has no IPv6.
    pub fn v6() -> Result<TcpSocket> {
        socket::new_socket(libc::AF_INET6, libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    fn for_addr(addr: &SocketAddr) -> Result<TcpSocket> {
        socket::new_socket(domain_of(addr), libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    /// Allows binding to an address still in `TIME_WAIT` (`SO_REUSEADDR`).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "SO_REUSEADDR")]
    pub fn set_reuseaddr(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, on)
    }

    /// Allows several sockets to bind the same address and port (`SO_REUSEPORT`).
    ///
    /// Linux and Android balance incoming connections across them; the BSDs and macOS
    /// deliver to the last bound (FreeBSD's balancing variant is `SO_REUSEPORT_LB`).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "SO_REUSEPORT")]
    pub fn set_reuseport(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, on)
    }

    /// Disables (`true`) or enables Nagle's algorithm (`TCP_NODELAY`).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "TCP_NODELAY")]
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, on)
    }

    /// Asks for a send buffer of `size` bytes (`SO_SNDBUF`); the kernel may round it
    /// (Linux doubles it, socket(7)) and caps it (`net.core.wmem_max`).
    ///
    /// # Errors
    /// `InvalidInput` (`EINVAL`) above `i32::MAX`; what `setsockopt` refused.
    #[doc(alias = "SO_SNDBUF")]
    pub fn set_send_buffer_size(&self, size: u32) -> Result<()> {
        set_opt(&self.fd, libc::SOL_SOCKET, libc::SO_SNDBUF, c_int_of(size)?)
    }

    /// Asks for a receive buffer of `size` bytes (`SO_RCVBUF`), rounded and capped as
    /// for [`set_send_buffer_size`](Self::set_send_buffer_size).
    ///
    /// # Errors
    /// `InvalidInput` (`EINVAL`) above `i32::MAX`; what `setsockopt` refused.
    #[doc(alias = "SO_RCVBUF")]
    pub fn set_recv_buffer_size(&self, size: u32) -> Result<()> {
        set_opt(&self.fd, libc::SOL_SOCKET, libc::SO_RCVBUF, c_int_of(size)?)
    }

    /// Binds to `addr` (port 0: the kernel picks one).
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied` (a port below 1024),
    /// `InvalidInput` (a family other than the socket's).
    pub fn bind(&self, addr: SocketAddr) -> Result<()> {
        socket::bind_inet(&self.fd, &addr)
    }

    /// Starts listening, with room for `backlog` pending connections (`listen`).
    ///
    /// # Errors
    /// What `listen` refused, e.g. `EADDRINUSE` when an unbound socket's automatic
    /// port collides.
    pub fn listen(self, backlog: i32) -> Result<TcpListener> {
        socket::listen(&self.fd, backlog)?;
        Ok(TcpListener { fd: self.fd })
    }

    /// Starts connecting to `addr` and returns the stream at once (non-blocking
    /// `connect`): the connection is established when the stream turns writable, and
    /// a failure then shows in [`TcpStream::take_error`].
    ///
    /// # Errors
    /// What `connect` refused at once (`EINPROGRESS` is success): `ENETUNREACH`,
    /// `EADDRNOTAVAIL`, and on some systems `ECONNREFUSED` for a local address.
    pub fn connect(self, addr: SocketAddr) -> Result<TcpStream> {
        socket::connect_inet(&self.fd, &addr)?;
        Ok(TcpStream { fd: self.fd })
    }

    /// The address the socket is bound to (`getsockname`).
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        socket::local_addr_inet(&self.fd)
    }
}

fd_type!(TcpSocket);

/// A listening TCP socket.
#[derive(Debug)]
pub struct TcpListener {
    fd: Fd,
}

impl TcpListener {
    /// Binds to `addr` with `SO_REUSEADDR` on and listens with a backlog of 1024.
    ///
    /// # Errors
    /// What `socket`, `setsockopt`, `bind` or `listen` refused, e.g. `AddrInUse`.
    pub fn bind(addr: SocketAddr) -> Result<TcpListener> {
        let socket = TcpSocket::for_addr(&addr)?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(1024)
    }

    /// Accepts one pending connection: the new stream (close-on-exec, non-blocking)
    /// and the peer's address; `Ok(None)` when none is pending.
    ///
    /// Platform notes: `accept4` with `SOCK_CLOEXEC | SOCK_NONBLOCK`; `accept` and
    /// `fcntl` on macOS/iOS (see [the module notes](crate::net#platforms)).
    ///
    /// # Errors
    /// What `accept` refused: `EMFILE`/`ENFILE` (out of descriptors; the connection
    /// stays pending), `ECONNABORTED` (the peer gave up before the accept).
    #[doc(alias = "accept4")]
    pub fn accept(&self) -> Result<Option<(TcpStream, SocketAddr)>> {
        Ok(socket::accept_inet(&self.fd)?.map(|(fd, addr)| (TcpStream { fd }, addr)))
    }

    /// The address the listener is bound to (`getsockname`): how to learn the port the
    /// kernel picked for port 0.
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        socket::local_addr_inet(&self.fd)
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
    pub fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }
}

fd_type!(TcpListener);

/// A TCP connection.
#[derive(Debug)]
pub struct TcpStream {
    fd: Fd,
}

impl TcpStream {
    /// Starts connecting to `addr` (see [`TcpSocket::connect`] for what "started"
    /// means and how a failure is reported).
    ///
    /// # Errors
    /// What `socket` or `connect` refused at once.
    pub fn connect(addr: SocketAddr) -> Result<TcpStream> {
        TcpSocket::for_addr(&addr)?.connect(addr)
    }

    /// Reads into `buf`: `Ok(Some(n))` bytes, `Ok(Some(0))` at end of stream (or for an
    /// empty `buf`), `Ok(None)` when nothing is available yet (`recv`).
    ///
    /// # Errors
    /// `ConnectionReset`, `TimedOut` (keep-alive), `NotConnected` (before the connect
    /// completed on some systems), and what else `recv` refused.
    #[doc(alias = "recv")]
    pub fn try_read(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        socket::recv(&self.fd, buf)
    }

    /// Writes from `buf`: `Ok(Some(n))` bytes taken (possibly fewer than `buf.len()`),
    /// `Ok(None)` when the send buffer is full (`send` with `MSG_NOSIGNAL`).
    ///
    /// # Errors
    /// `BrokenPipe` (`EPIPE`) after the peer reset or this side shut down writing,
    /// `ConnectionReset`, and what else `send` refused. Never raises `SIGPIPE`.
    #[doc(alias = "send")]
    pub fn try_write(&self, buf: &[u8]) -> Result<Option<usize>> {
        socket::send(&self.fd, buf)
    }

    /// Shuts down reading, writing or both (`shutdown`); after [`Shutdown::Write`] the
    /// peer reads end of stream once it has read everything sent before.
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) on a stream that is not (or no longer) connected.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        socket::shutdown(&self.fd, how)
    }

    /// Disables (`true`) or enables Nagle's algorithm (`TCP_NODELAY`).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "TCP_NODELAY")]
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, on)
    }

    /// Whether Nagle's algorithm is disabled (`TCP_NODELAY`).
    ///
    /// # Errors
    /// What `getsockopt` refused.
    pub fn nodelay(&self) -> Result<bool> {
        socket::get_flag(&self.fd, libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    /// Sets what `close` does with unsent data (`SO_LINGER`): `None`, the default,
    /// sends it in the background; `Some(0)` discards it and resets the connection
    /// (the peer sees `ECONNRESET`); `Some(secs)` is for blocking sockets only, where
    /// `close` waits up to `secs` seconds.
    ///
    /// Platform notes: macOS/iOS use `SO_LINGER_SEC`, as their `SO_LINGER` counts in
    /// clock ticks.
    ///
    /// # Errors
    /// `InvalidInput` (`EINVAL`) above `i32::MAX` seconds; what `setsockopt` refused.
    #[doc(alias = "SO_LINGER")]
    pub fn set_linger(&self, linger: Option<u32>) -> Result<()> {
        let value = libc::linger {
            l_onoff: libc::c_int::from(linger.is_some()),
            l_linger: c_int_of(linger.unwrap_or(0))?,
        };
        #[cfg(any(target_os = "macos", target_os = "ios"))]
        let name = libc::SO_LINGER_SEC;
        #[cfg(not(any(target_os = "macos", target_os = "ios")))]
        let name = libc::SO_LINGER;
        set_opt(&self.fd, libc::SOL_SOCKET, name, value)
    }

    /// The address of the connected peer (`getpeername`).
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) while connecting or after a failed connect.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        socket::peer_addr_inet(&self.fd)
    }

    /// The local address of the connection (`getsockname`).
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        socket::local_addr_inet(&self.fd)
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it: after a non-blocking
    /// connect turned writable, `Some(ECONNREFUSED)` and the like mean it failed.
    ///
    /// # Errors
    /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
    #[doc(alias = "SO_ERROR")]
    pub fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }
}

fd_type!(TcpStream);
