//! TCP: the [`TcpSocket`] builder, [`TcpListener`] and [`TcpStream`].

use core::net::SocketAddr;

use statio_core::OsError;

use crate::Fd;
use crate::net::options::{buffer_options, inet_options};
use crate::net::socket::{self, set_flag};
use crate::net::stream::{self, Stream};
use crate::net::{Result, fd_type};

/// The address family of `addr`, for `socket`.
pub(crate) fn domain_of(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// A TCP socket not yet listening or connected, for setting options first (mio 0.2's
/// and tokio's `TcpSocket`): [`v4`](Self::v4) or [`v6`](Self::v6), options,
/// [`bind`](Self::bind) if needed, then [`listen`](Self::listen) with a backlog of your
/// choice or [`connect`](Self::connect).
///
/// ```no_run
/// use statio_unix::net::TcpSocket;
///
/// let socket = TcpSocket::v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.set_reuseport(true)?; // several listeners on one port: one loop per core
/// socket.bind("127.0.0.1:8080".parse().unwrap())?;
/// let listener = socket.listen(4096)?;
/// # Ok::<(), statio_core::OsError>(())
/// ```
///
/// It is a [`Source`](statio_core::Source) like every socket here, and
/// [`connect`](Self::connect) keeps its descriptor: a socket registered before it
/// connects stays registered as the stream.
#[derive(Debug)]
pub struct TcpSocket {
    fd: Fd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (`socket(AF_INET, SOCK_STREAM)`), close-on-exec and
    /// non-blocking.
    ///
    /// # Errors
    /// What `socket` refused: `EMFILE`/`ENFILE` (out of descriptors), `EAFNOSUPPORT`.
    #[doc(alias = "socket")]
    pub fn v4() -> Result<TcpSocket> {
        socket::new_socket(libc::AF_INET, libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    /// A new IPv6 TCP socket (`socket(AF_INET6, SOCK_STREAM)`), close-on-exec and
    /// non-blocking.
    ///
    /// # Errors
    /// As [`v4`](Self::v4); `EAFNOSUPPORT` when the host has no IPv6.
    pub fn v6() -> Result<TcpSocket> {
        socket::new_socket(libc::AF_INET6, libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    fn for_addr(addr: &SocketAddr) -> Result<TcpSocket> {
        socket::new_socket(domain_of(addr), libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    /// Disables (`true`) or enables Nagle's algorithm (`TCP_NODELAY`) for the stream
    /// [`connect`](Self::connect) makes. On a listener, whether accepted streams
    /// inherit it is the system's choice (Linux and FreeBSD copy it): set it on each
    /// with [`TcpStream::set_nodelay`] to be sure.
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "TCP_NODELAY")]
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, on)
    }

    /// Sends keep-alive probes on an idle connection (`SO_KEEPALIVE`), so that a peer
    /// that vanished shows as `TimedOut` instead of silence; the timing is the system's
    /// (`net.ipv4.tcp_keepalive_time`, two hours by default on Linux).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "SO_KEEPALIVE")]
    pub fn set_keepalive(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, on)
    }

    /// Binds to `addr` (port 0: the kernel picks one).
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied` (a port below 1024),
    /// `InvalidInput` (a family other than the socket's).
    pub fn bind(&self, addr: SocketAddr) -> Result<()> {
        socket::bind_inet(&self.fd, &addr)
    }

    /// Starts listening, with room for `backlog` connections that completed the
    /// handshake and wait for [`accept`](TcpListener::accept) (`listen`). The kernel
    /// caps it at the system's maximum (`net.core.somaxconn` on Linux,
    /// `kern.ipc.soacceptqueue` on FreeBSD), which a negative `backlog` also asks for.
    ///
    /// # Errors
    /// What `listen` refused, e.g. `EADDRINUSE` when an unbound socket's automatic
    /// port collides.
    pub fn listen(self, backlog: i32) -> Result<TcpListener> {
        socket::listen(&self.fd, backlog)?;
        Ok(TcpListener { fd: self.fd })
    }

    /// Starts connecting to `addr` and returns the stream at once (non-blocking
    /// `connect`, same descriptor): the connection is established when the stream turns
    /// writable, and a failure then shows in [`TcpStream::take_error`].
    ///
    /// # Errors
    /// What `connect` refused at once (`EINPROGRESS` is success): `ENETUNREACH`,
    /// `EADDRNOTAVAIL`, and on some systems `ECONNREFUSED` for a local address.
    pub fn connect(self, addr: SocketAddr) -> Result<TcpStream> {
        socket::connect_inet(&self.fd, &addr)?;
        Ok(TcpStream::from(self.fd))
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
inet_options!(TcpSocket);
buffer_options!(TcpSocket);

/// A listening TCP socket.
#[derive(Debug)]
pub struct TcpListener {
    fd: Fd,
}

impl TcpListener {
    /// Binds to `addr` with `SO_REUSEADDR` on and listens with a backlog of 1024; a
    /// [`TcpSocket`] chooses otherwise.
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
        Ok(socket::accept_inet(&self.fd)?.map(|(fd, addr)| (TcpStream::from(fd), addr)))
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

/// A TCP connection. Its reads, writes, shutdown, pending error and linger option are
/// those of every stream here ([the stream table](crate::net#streams)).
#[derive(Debug)]
pub struct TcpStream {
    fd: Stream<stream::Socket>,
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
}

fd_type!(TcpStream);
stream::socket_stream!(TcpStream);

#[cfg(test)]
mod tests {
    use core::net::SocketAddr;

    use embedded_io::ErrorKind;

    use super::*;
    use crate::RawFd;
    use crate::net::Shutdown;
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

    fn int_opt(fd: RawFd, level: libc::c_int, name: libc::c_int) -> libc::c_int {
        // SAFETY: the test's own descriptor, an int option.
        let fd = core::mem::ManuallyDrop::new(unsafe { Fd::from_raw(fd) });
        socket::get_int(&fd, level, name).unwrap()
    }

    /// Issue 14, item 1: the builder's options reach the socket, and the stream or
    /// listener it becomes.
    #[test]
    fn builder_options_reach_the_socket() {
        let socket = TcpSocket::v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.set_reuseport(true).unwrap();
        socket.set_nodelay(true).unwrap();
        socket.set_keepalive(true).unwrap();
        socket.set_send_buffer_size(64 * 1024).unwrap();
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        let too_big = socket.set_send_buffer_size(u32::MAX).unwrap_err();
        assert_eq!(too_big.kind(), ErrorKind::InvalidInput);
        let fd = socket.as_raw_fd();
        assert_eq!(int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR), 1);
        assert_eq!(int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT), 1);
        assert_eq!(int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY), 1);
        assert_eq!(int_opt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
        assert!(int_opt(fd, libc::SOL_SOCKET, libc::SO_SNDBUF) >= 64 * 1024);
        socket.bind(localhost()).unwrap();
        let addr = socket.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let listener = socket.listen(16).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
        assert_eq!(listener.take_error().unwrap(), None);

        let client = TcpSocket::v4().unwrap();
        client.set_keepalive(true).unwrap();
        client.set_nodelay(true).unwrap();
        let client = client.connect(addr).unwrap();
        assert!(client.nodelay().unwrap());
        assert_eq!(
            int_opt(client.as_raw_fd(), libc::SOL_SOCKET, libc::SO_KEEPALIVE),
            1
        );
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        let (server, _) = when_readable(listener.as_raw_fd(), || listener.accept());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    }

    #[test]
    fn reuseport_lets_two_listeners_share_a_port() {
        let first = TcpSocket::v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind(localhost()).unwrap();
        let addr = first.local_addr().unwrap();
        let _first = first.listen(8).unwrap();
        let second = TcpSocket::v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let _second = second.listen(8).unwrap();
        let third = TcpSocket::v4().unwrap();
        assert_eq!(third.bind(addr).unwrap_err().kind(), ErrorKind::AddrInUse);
    }

    #[test]
    fn only_v6_frees_the_v4_port() {
        // The kernel picks a v6-only socket's port among those free for IPv6 alone: it
        // may be one an IPv4 socket of another test or process holds, so a few tries.
        for _ in 0..8 {
            let Ok(v6) = TcpSocket::v6() else {
                std::eprintln!("no IPv6 here: skipped");
                return;
            };
            v6.set_only_v6(true).unwrap();
            assert_eq!(
                int_opt(v6.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY),
                1
            );
            if v6.bind("[::]:0".parse().unwrap()).is_err() {
                std::eprintln!("no IPv6 address to bind here: skipped");
                return;
            }
            let port = v6.local_addr().unwrap().port();
            let _listener = v6.listen(8).unwrap();
            let v4 = TcpSocket::v4().unwrap();
            match v4.bind(SocketAddr::from(([0, 0, 0, 0], port))) {
                Ok(()) => {
                    // An IPv4 socket has no IPv6 options: a typed error, not a panic.
                    assert!(TcpSocket::v4().unwrap().set_only_v6(true).is_err());
                    return;
                }
                Err(err) => assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}"),
            }
        }
        panic!("the IPv4 port stayed taken by 8 v6-only listeners: IPV6_V6ONLY not applied");
    }

    /// Linux reports a listener's backlog as `tcpi_sacked` (tcp_get_info).
    #[cfg(target_os = "linux")]
    /// The listen backlog Linux reports in `tcpi_sacked`, or `None` where `TCP_INFO`
    /// comes back unfilled (qemu-user does not translate it: the state reads 0, not
    /// `TCP_LISTEN`).
    fn backlog_of(listener: &TcpListener) -> Option<u32> {
        // SAFETY: tcp_info is plain integers: all-zero is valid; getsockopt writes at
        // most `len` bytes into it.
        unsafe {
            let mut info: libc::tcp_info = core::mem::zeroed();
            let mut len = crate::net::addr::socklen_of::<libc::tcp_info>();
            let info_ptr = (&mut info as *mut libc::tcp_info).cast();
            let ret = libc::getsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                info_ptr,
                &mut len,
            );
            assert_eq!(ret, 0, "TCP_INFO: {:?}", crate::error::last_error());
            const TCP_LISTEN: u8 = 10;
            // qemu-user fills the struct partly or not at all (state 0, or LISTEN with a
            // zero backlog): unfilled. No caller listens with a backlog of 0.
            (info.tcpi_state == TCP_LISTEN && info.tcpi_sacked != 0).then_some(info.tcpi_sacked)
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn listen_takes_the_backlog_given() {
        let socket = TcpSocket::v4().unwrap();
        socket.bind(localhost()).unwrap();
        let Some(backlog) = backlog_of(&socket.listen(7).unwrap()) else {
            std::eprintln!("TCP_INFO is not filled in here (qemu-user?): backlog not checked");
            return;
        };
        assert_eq!(backlog, 7);
        let default = TcpListener::bind(localhost()).unwrap();
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .map_or(1024, |s| s.trim().parse().unwrap());
        assert_eq!(backlog_of(&default), Some(1024.min(somaxconn)));
    }

    #[test]
    fn linger_round_trips() {
        let (_listener, client, _server) = connected(localhost());
        assert_eq!(client.linger().unwrap(), None);
        client.set_linger(Some(3)).unwrap();
        assert_eq!(client.linger().unwrap(), Some(3));
        client.set_linger(Some(0)).unwrap();
        assert_eq!(client.linger().unwrap(), Some(0));
        client.set_linger(None).unwrap();
        assert_eq!(client.linger().unwrap(), None);
        assert_eq!(
            client.set_linger(Some(u32::MAX)).unwrap_err().kind(),
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
            assert_cloexec_nonblocking(fd, "fd");
        }
        assert_cloexec_nonblocking(
            TcpSocket::v4().unwrap().as_raw_fd(),
            "TcpSocket::v4().unwrap()",
        );
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
        assert_cloexec_nonblocking(listener.as_raw_fd(), "listener");
        assert_eq!(listener.local_addr().unwrap(), addr);
        assert_eq!(listener.accept().unwrap().map(|_| ()), None);
        assert_eq!(listener.as_fd().as_raw_fd(), AsRawFd::as_raw_fd(&listener));
        let back = std::net::TcpListener::from(listener);
        assert_eq!(back.local_addr().unwrap(), addr);
        let client = TcpStream::from(std::net::TcpStream::connect(addr).unwrap());
        assert_cloexec_nonblocking(client.as_raw_fd(), "client");
        let raw = client.into_raw_fd();
        // SAFETY: into_raw_fd handed over the open descriptor.
        drop(unsafe { Fd::from_raw(raw) });
    }
}
