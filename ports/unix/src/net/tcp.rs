//! TCP: the [`TcpSocket`] builder, [`TcpListener`] and [`TcpStream`].

use core::net::SocketAddr;

use statio_core::OsError;

use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::net::socket::{self, c_int_of, set_flag, set_opt};
use crate::net::{Result, Shutdown, bufio, fd_type};

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
    #[inline]
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

#[cfg(test)]
mod tests {
    use core::net::SocketAddr;

    use embedded_io::ErrorKind;

    use super::*;
    use crate::net::test_util::*;

    fn localhost() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    /// A connected (client, server) pair on `addr`'s loopback.
    fn connected(addr: SocketAddr) -> (TcpListener, TcpStream, TcpStream) {
        let listener = TcpListener::bind(addr).unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = when_readable(listener.as_raw_fd(), || listener.accept());
        wait_writable(client.as_raw_fd());
        assert_eq!(client.take_error().unwrap(), None);
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
        (listener, client, server)
    }

    fn echo(client: &TcpStream, server: &TcpStream) {
        assert_eq!(client.try_write(b"hello").unwrap(), Some(5));
        let mut buf = [0u8; 16];
        let n = when_readable(server.as_raw_fd(), || server.try_read(&mut buf));
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(server.try_write(&buf[..n]).unwrap(), Some(n));
        let mut back = [0u8; 16];
        let m = when_readable(client.as_raw_fd(), || client.try_read(&mut back));
        assert_eq!(&back[..m], b"hello");
    }

    #[test]
    fn connect_accept_echo_v4() {
        let (_listener, client, server) = connected(localhost());
        echo(&client, &server);
    }

    #[test]
    fn connect_accept_echo_v6_if_available() {
        let addr: SocketAddr = "[::1]:0".parse().unwrap();
        if TcpListener::bind(addr).is_err() {
            std::eprintln!("no IPv6 loopback here: skipped");
            return;
        }
        let (_listener, client, server) = connected(addr);
        assert!(client.local_addr().unwrap().is_ipv6());
        echo(&client, &server);
    }

    #[test]
    fn would_block_is_none() {
        let (listener, client, server) = connected(localhost());
        assert_eq!(listener.accept().unwrap().map(|_| ()), None);
        let mut buf = [0u8; 8];
        assert_eq!(server.try_read(&mut buf).unwrap(), None);
        // Fill the send and receive buffers until the kernel says would-block.
        let chunk = [7u8; 64 * 1024];
        let full = (0..10_000).any(|_| client.try_write(&chunk).unwrap().is_none());
        assert!(full, "send never blocked");
    }

    #[test]
    fn shutdown_write_is_eof_for_the_peer() {
        let (_listener, client, server) = connected(localhost());
        client.try_write(b"last").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0u8; 16];
        let n = when_readable(server.as_raw_fd(), || server.try_read(&mut buf));
        assert_eq!(&buf[..n], b"last");
        let eof = when_readable(server.as_raw_fd(), || server.try_read(&mut buf));
        assert_eq!(eof, 0);
        // The other direction still works.
        server.try_write(b"reply").unwrap();
        let n = when_readable(client.as_raw_fd(), || client.try_read(&mut buf));
        assert_eq!(&buf[..n], b"reply");
    }

    #[test]
    fn close_is_eof() {
        let (_listener, client, server) = connected(localhost());
        drop(client);
        let mut buf = [0u8; 4];
        assert_eq!(
            when_readable(server.as_raw_fd(), || server.try_read(&mut buf)),
            0
        );
    }

    #[test]
    fn refused_connect_shows_in_take_error() {
        let addr = TcpListener::bind(localhost())
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is dropped: nothing listens on `addr` now.
        let err = match TcpStream::connect(addr) {
            // Some kernels refuse a loopback connect at once.
            Err(err) => err,
            Ok(stream) => {
                wait_writable(stream.as_raw_fd());
                let err = stream
                    .take_error()
                    .unwrap()
                    .expect("connect should have failed");
                assert_eq!(
                    stream.take_error().unwrap(),
                    None,
                    "SO_ERROR clears on read"
                );
                err
            }
        };
        assert_eq!(err.code(), libc::ECONNREFUSED);
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    }

    #[test]
    fn reset_peer_gives_an_error_and_no_sigpipe() {
        let (_listener, client, server) = connected(localhost());
        server.set_linger(Some(0)).unwrap();
        drop(server);
        // Block SIGPIPE on this thread so that one raised would stay pending, visible.
        // SAFETY: sigset_t is plain data that sigemptyset initialises; the masks are
        // this thread's own.
        let pending = unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            let mut old: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            // The first send after the RST may see ECONNRESET; the next ones EPIPE, the
            // case that raises SIGPIPE without MSG_NOSIGNAL.
            let mut err = None;
            for _ in 0..100 {
                match client.try_write(b"into the void") {
                    Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                        err = Some(e);
                        break;
                    }
                    Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e:?}"),
                    Ok(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
            let mut pending: libc::sigset_t = core::mem::zeroed();
            libc::sigpending(&mut pending);
            let sigpipe = libc::sigismember(&pending, libc::SIGPIPE) == 1;
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, core::ptr::null_mut());
            assert_eq!(
                err.map(OsError::code),
                Some(libc::EPIPE),
                "no EPIPE after the reset"
            );
            sigpipe
        };
        assert!(!pending, "a send raised SIGPIPE");
    }

    #[test]
    fn builder_options() {
        let socket = TcpSocket::v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.set_reuseport(true).unwrap();
        socket.set_nodelay(true).unwrap();
        socket.set_send_buffer_size(64 * 1024).unwrap();
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        let too_big = socket.set_send_buffer_size(u32::MAX).unwrap_err();
        assert_eq!(too_big.kind(), ErrorKind::InvalidInput);
        socket.bind(localhost()).unwrap();
        let addr = socket.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let listener = socket.listen(16).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
        assert_eq!(listener.take_error().unwrap(), None);

        let client = TcpSocket::v4().unwrap().connect(addr).unwrap();
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        server.set_linger(None).unwrap();
        assert_eq!(
            server.set_linger(Some(u32::MAX)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn bind_in_use_is_typed() {
        let listener = TcpListener::bind(localhost()).unwrap();
        let socket = TcpSocket::v4().unwrap();
        let err = socket.bind(listener.local_addr().unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    }

    #[test]
    fn descriptors_are_cloexec_and_nonblocking() {
        let (listener, client, server) = connected(localhost());
        for fd in [listener.as_raw_fd(), client.as_raw_fd(), server.as_raw_fd()] {
            assert_cloexec_nonblocking(fd);
        }
        assert_cloexec_nonblocking(TcpSocket::v4().unwrap().as_raw_fd());
    }

    #[test]
    fn drop_closes() {
        let (listener, client, server) = connected(localhost());
        assert_drop_closes(listener, TcpListener::into_fd);
        assert_drop_closes(client, TcpStream::into_fd);
        assert_drop_closes(server, TcpStream::into_fd);
        assert_drop_closes(TcpSocket::v4().unwrap(), TcpSocket::into_fd);
    }

    #[test]
    fn source_handle_is_the_fd() {
        use statio_core::Source;
        let listener = TcpListener::bind(localhost()).unwrap();
        assert_eq!(listener.handle(), listener.as_raw_fd());
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_conversions() {
        use std::os::fd::{AsFd, AsRawFd, IntoRawFd};
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from(std_listener);
        assert_cloexec_nonblocking(listener.as_raw_fd());
        assert_eq!(listener.local_addr().unwrap(), addr);
        assert_eq!(listener.accept().unwrap().map(|_| ()), None);
        assert_eq!(listener.as_fd().as_raw_fd(), AsRawFd::as_raw_fd(&listener));
        let back = std::net::TcpListener::from(listener);
        assert_eq!(back.local_addr().unwrap(), addr);
        let client = TcpStream::from(std::net::TcpStream::connect(addr).unwrap());
        assert_cloexec_nonblocking(client.as_raw_fd());
        let raw = client.into_raw_fd();
        // SAFETY: into_raw_fd handed over the open descriptor.
        drop(unsafe { Fd::from_raw(raw) });
    }
}
