//! UDP: the [`UdpBuilder`] and [`UdpSocket`], with truncation reported, buffer I/O,
//! multicast membership and broadcast.

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use statio_core::OsError;
use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::net::addr::{self, RawAddr};
use crate::net::datagram::{self, Received, datagram_socket};
use crate::net::options::{buffer_options, inet_options};
use crate::net::socket::{self, set_flag, set_opt};
use crate::net::tcp::domain_of;
use crate::net::{Result, fd_type};

/// The C type of `IP_MULTICAST_LOOP` and `IP_MULTICAST_TTL`: a `u_char` on the BSDs
/// (OpenBSD rejects anything else, ip(4)); an `int` on Linux, Android and Darwin.
#[cfg(any(
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd"
))]
type MulticastV4Opt = libc::c_uchar;
#[cfg(not(any(
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
type MulticastV4Opt = libc::c_int;

/// Joining and leaving an IPv6 group: RFC 3493's names, which Linux spells
/// `IPV6_ADD_MEMBERSHIP`/`IPV6_DROP_MEMBERSHIP`.
#[cfg(any(target_os = "linux", target_os = "android"))]
const IPV6_JOIN: libc::c_int = libc::IPV6_ADD_MEMBERSHIP;
#[cfg(any(target_os = "linux", target_os = "android"))]
const IPV6_LEAVE: libc::c_int = libc::IPV6_DROP_MEMBERSHIP;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const IPV6_JOIN: libc::c_int = libc::IPV6_JOIN_GROUP;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const IPV6_LEAVE: libc::c_int = libc::IPV6_LEAVE_GROUP;

/// A UDP socket not yet bound, for the options that must precede `bind` (mio 0.2's
/// unbound `UdpSocket::v4()`): [`v4`](Self::v4) or [`v6`](Self::v6), options, then
/// [`bind`](Self::bind).
///
/// ```no_run
/// use statio_unix::net::UdpBuilder;
///
/// let builder = UdpBuilder::v4()?;
/// builder.set_reuseaddr(true)?;
/// builder.set_recv_buffer_size(1 << 20)?;
/// let socket = builder.bind("0.0.0.0:5353".parse().unwrap())?;
/// # Ok::<(), statio_core::OsError>(())
/// ```
#[derive(Debug)]
pub struct UdpBuilder {
    fd: Fd,
}

impl UdpBuilder {
    /// A new IPv4 UDP socket (`socket(AF_INET, SOCK_DGRAM)`), close-on-exec and
    /// non-blocking.
    ///
    /// # Errors
    /// What `socket` refused: `EMFILE`/`ENFILE` (out of descriptors), `EAFNOSUPPORT`.
    #[doc(alias = "socket")]
    pub fn v4() -> Result<UdpBuilder> {
        socket::new_socket(libc::AF_INET, libc::SOCK_DGRAM).map(|fd| UdpBuilder { fd })
    }

    /// A new IPv6 UDP socket (`socket(AF_INET6, SOCK_DGRAM)`), close-on-exec and
    /// non-blocking.
    ///
    /// # Errors
    /// As [`v4`](Self::v4); `EAFNOSUPPORT` when the host has no IPv6.
    pub fn v6() -> Result<UdpBuilder> {
        socket::new_socket(libc::AF_INET6, libc::SOCK_DGRAM).map(|fd| UdpBuilder { fd })
    }

    fn for_addr(addr: &SocketAddr) -> Result<UdpBuilder> {
        socket::new_socket(domain_of(addr), libc::SOCK_DGRAM).map(|fd| UdpBuilder { fd })
    }

    /// Binds to `addr` (port 0: the kernel picks one) and gives the socket.
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied` (a port below 1024),
    /// `InvalidInput` (a family other than the socket's).
    pub fn bind(self, addr: SocketAddr) -> Result<UdpSocket> {
        socket::bind_inet(&self.fd, &addr)?;
        Ok(UdpSocket { fd: self.fd })
    }
}

fd_type!(UdpBuilder);
inet_options!(UdpBuilder);
buffer_options!(UdpBuilder);

/// A UDP socket.
///
/// Every receive reports whether the datagram was truncated ([`Received`]), and a
/// receive into no room is refused without consuming anything (see
/// [no room](crate::net#no-room-is-an-error)).
#[derive(Debug)]
pub struct UdpSocket {
    fd: Fd,
}

impl UdpSocket {
    /// A socket bound to `addr` (port 0: the kernel picks one); a [`UdpBuilder`] sets
    /// options first.
    ///
    /// # Errors
    /// What `socket` or `bind` refused: `AddrInUse`, `AddrNotAvailable`, ...
    pub fn bind(addr: SocketAddr) -> Result<UdpSocket> {
        UdpBuilder::for_addr(&addr)?.bind(addr)
    }

    /// Sets the default destination for [`send`](Self::send) and keeps only datagrams
    /// from `addr` for [`recv`](Self::recv) (`connect`; no packet is sent).
    ///
    /// # Errors
    /// What `connect` refused: `ENETUNREACH`, `EAFNOSUPPORT` (the other family), ...
    pub fn connect(&self, addr: SocketAddr) -> Result<()> {
        socket::connect_inet(&self.fd, &addr)
    }

    /// Sends one datagram to `target`; `Ok(None)` when the send buffer is full.
    ///
    /// # Errors
    /// `EMSGSIZE` (too big for one datagram), `ENETUNREACH`, `EACCES` (a broadcast
    /// address without [`set_broadcast`](Self::set_broadcast)), ...
    #[doc(alias = "sendto")]
    pub fn send_to(&self, buf: &[u8], target: SocketAddr) -> Result<Option<usize>> {
        let (raw, len) = RawAddr::new(&target);
        // SAFETY: `raw` holds a sockaddr of `len` bytes.
        unsafe { socket::send_to_raw(&self.fd, buf, raw.as_ptr(), len) }
    }

    /// Sends `buf`'s filled space as one datagram to `target` and consumes it, as
    /// [`send_buf`](Self::send_buf) does.
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub fn send_to_buf<B: Buf + ?Sized>(
        &self,
        buf: &mut B,
        target: SocketAddr,
    ) -> Result<Option<usize>> {
        let (raw, len) = RawAddr::new(&target);
        // SAFETY: `raw` holds a sockaddr of `len` bytes.
        unsafe { datagram::send_from(&self.fd, buf, raw.as_ptr(), len) }
    }

    /// Receives one datagram into `buf`'s free space with its sender's address, as
    /// [`recv_buf`](Self::recv_buf) does.
    ///
    /// # Errors
    /// As [`recv_buf`](Self::recv_buf).
    pub fn recv_from_buf<B: MutBuf + ?Sized>(
        &self,
        buf: &mut B,
    ) -> Result<Option<(Received, SocketAddr)>> {
        let (mut storage, mut len) = addr::empty_storage();
        let storage_ptr = (&mut storage as *mut libc::sockaddr_storage).cast();
        // SAFETY: `storage` has room for the `len` bytes the call may write.
        match unsafe { datagram::recv_into(&self.fd, buf, storage_ptr, &mut len) }? {
            Some(received) => Ok(Some((received, addr::decode(&storage, len)?))),
            None => Ok(None),
        }
    }

    /// Joins the IPv4 multicast `group` on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the kernel chooses) (`IP_ADD_MEMBERSHIP`).
    ///
    /// # Errors
    /// `AddrNotAvailable` (no interface with that address; already a member on
    /// Linux), `ENODEV` (no route for multicast), `InvalidInput` (not a multicast address).
    #[doc(alias = "IP_ADD_MEMBERSHIP")]
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> Result<()> {
        set_opt(
            &self.fd,
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            ip_mreq(group, interface),
        )
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](Self::join_multicast_v4) (`IP_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    /// `AddrNotAvailable` when not a member.
    #[doc(alias = "IP_DROP_MEMBERSHIP")]
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> Result<()> {
        set_opt(
            &self.fd,
            libc::IPPROTO_IP,
            libc::IP_DROP_MEMBERSHIP,
            ip_mreq(group, interface),
        )
    }

    /// Joins the IPv6 multicast `group` on the interface with index `interface` (0: the
    /// kernel chooses) (`IPV6_JOIN_GROUP`; `IPV6_ADD_MEMBERSHIP` on Linux/Android).
    ///
    /// # Errors
    /// `ENODEV` (no such interface), `InvalidInput` (not a multicast address), ...
    #[doc(alias = "IPV6_JOIN_GROUP", alias = "IPV6_ADD_MEMBERSHIP")]
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> Result<()> {
        set_opt(
            &self.fd,
            libc::IPPROTO_IPV6,
            IPV6_JOIN,
            ipv6_mreq(group, interface),
        )
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](Self::join_multicast_v6) (`IPV6_LEAVE_GROUP`;
    /// `IPV6_DROP_MEMBERSHIP` on Linux/Android).
    ///
    /// # Errors
    /// `AddrNotAvailable` (or `InvalidInput`, by system) when not a member.
    #[doc(alias = "IPV6_LEAVE_GROUP", alias = "IPV6_DROP_MEMBERSHIP")]
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> Result<()> {
        set_opt(
            &self.fd,
            libc::IPPROTO_IPV6,
            IPV6_LEAVE,
            ipv6_mreq(group, interface),
        )
    }

    /// Whether this host receives its own IPv4 multicast datagrams (`IP_MULTICAST_LOOP`;
    /// on by default).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "IP_MULTICAST_LOOP")]
    pub fn set_multicast_loop_v4(&self, on: bool) -> Result<()> {
        let value = MulticastV4Opt::from(on);
        set_opt(&self.fd, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, value)
    }

    /// The time-to-live of outgoing IPv4 multicast datagrams (`IP_MULTICAST_TTL`; 1 by
    /// default: the local network only).
    ///
    /// # Errors
    /// `InvalidInput` (`EINVAL`) above 255; what `setsockopt` refused.
    #[doc(alias = "IP_MULTICAST_TTL")]
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> Result<()> {
        let ttl = u8::try_from(ttl).map_err(|_| crate::error::from_errno(libc::EINVAL))?;
        let value = MulticastV4Opt::from(ttl);
        set_opt(&self.fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, value)
    }

    /// Allows sending to broadcast addresses (`SO_BROADCAST`).
    ///
    /// # Errors
    /// What `setsockopt` refused.
    #[doc(alias = "SO_BROADCAST")]
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_BROADCAST, on)
    }

    /// Whether sending to broadcast addresses is allowed (`SO_BROADCAST`).
    ///
    /// # Errors
    /// What `getsockopt` refused.
    pub fn broadcast(&self) -> Result<bool> {
        socket::get_flag(&self.fd, libc::SOL_SOCKET, libc::SO_BROADCAST)
    }

    /// The address the socket is bound to (`getsockname`).
    ///
    /// # Errors
    /// What `getsockname` refused.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        socket::local_addr_inet(&self.fd)
    }

    /// The address set with [`connect`](Self::connect) (`getpeername`).
    ///
    /// # Errors
    /// `NotConnected` (`ENOTCONN`) when not connected.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        socket::peer_addr_inet(&self.fd)
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it: e.g. the
    /// `ECONNREFUSED` of an ICMP port unreachable.
    ///
    /// # Errors
    /// What `getsockopt` refused (not the pending error: that is the `Ok` value).
    pub fn take_error(&self) -> Result<Option<OsError>> {
        socket::take_error(&self.fd)
    }
}

fd_type!(UdpSocket);
datagram_socket!(UdpSocket, SocketAddr);

fn ip_mreq(group: Ipv4Addr, interface: Ipv4Addr) -> libc::ip_mreq {
    libc::ip_mreq {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from_ne_bytes(group.octets()),
        },
        imr_interface: libc::in_addr {
            s_addr: u32::from_ne_bytes(interface.octets()),
        },
    }
}

fn ipv6_mreq(group: Ipv6Addr, interface: u32) -> libc::ipv6_mreq {
    libc::ipv6_mreq {
        ipv6mr_multiaddr: libc::in6_addr {
            s6_addr: group.octets(),
        },
        ipv6mr_interface: interface as _,
    }
}

#[cfg(test)]
mod tests {
    use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

    use embedded_io::ErrorKind;
    use statio_core::buf::{RingBuf, SliceBuf};

    use super::*;
    use crate::net::test_util::*;

    fn localhost() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    fn whole(len: usize) -> Received {
        Received {
            len,
            truncated: false,
        }
    }

    #[test]
    fn send_to_recv_from() {
        let a = UdpSocket::bind(localhost()).unwrap();
        let b = UdpSocket::bind(localhost()).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(b.recv_from(&mut buf).unwrap(), None);
        assert_eq!(
            a.send_to(b"ping", b.local_addr().unwrap()).unwrap(),
            Some(4)
        );
        let (got, from) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
        assert_eq!((got, &buf[..4]), (whole(4), &b"ping"[..]));
        assert_eq!(from, a.local_addr().unwrap());
        // A datagram longer than the buffer is truncated, never split.
        b.send_to(b"0123456789", from).unwrap();
        let mut small = [0u8; 4];
        let (got, _) = when_readable(a.as_raw_fd(), || a.recv_from(&mut small));
        assert_eq!((got.len, got.truncated, &small), (4, true, b"0123"));
        assert_eq!(a.recv_from(&mut small).unwrap(), None);
    }

    #[test]
    fn connect_send_recv() {
        let a = UdpSocket::bind(localhost()).unwrap();
        let b = UdpSocket::bind(localhost()).unwrap();
        assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        let mut buf = [0u8; 16];
        assert_eq!(a.recv(&mut buf).unwrap(), None);
        assert_eq!(a.send(b"hi").unwrap(), Some(2));
        let got = when_readable(b.as_raw_fd(), || b.recv(&mut buf));
        assert_eq!((got, &buf[..2]), (whole(2), &b"hi"[..]));
        assert_eq!(a.take_error().unwrap(), None);
    }

    #[test]
    fn v6_if_available() {
        let Ok(a) = UdpSocket::bind("[::1]:0".parse().unwrap()) else {
            std::eprintln!("no IPv6 loopback here: skipped");
            return;
        };
        let b = UdpSocket::bind("[::1]:0".parse().unwrap()).unwrap();
        a.send_to(b"six", b.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 8];
        let (got, from) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
        assert_eq!((got, &buf[..3]), (whole(3), &b"six"[..]));
        assert_eq!(from, a.local_addr().unwrap());
    }

    /// A sandbox may have no multicast route on loopback: then the call must fail with
    /// a typed error, not panic.
    fn joined_or_typed_error(result: Result<()>) -> bool {
        match result {
            Ok(()) => true,
            Err(err) => {
                assert!(
                    matches!(
                        err.code(),
                        libc::ENODEV | libc::EADDRNOTAVAIL | libc::EINVAL
                    ),
                    "{err:?}"
                );
                std::eprintln!("multicast unavailable here: {err}");
                false
            }
        }
    }

    #[test]
    fn multicast_v4_join_leave() {
        let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap()).unwrap();
        let group = Ipv4Addr::new(224, 0, 0, 123);
        socket.set_multicast_loop_v4(true).unwrap();
        socket.set_multicast_ttl_v4(1).unwrap();
        assert_eq!(
            socket.set_multicast_ttl_v4(256).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        if joined_or_typed_error(socket.join_multicast_v4(group, Ipv4Addr::LOCALHOST)) {
            socket
                .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
                .unwrap();
            // Leaving twice: not a member any more.
            let err = socket
                .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrNotAvailable);
        }
        // Not a multicast address: a typed error.
        let err = socket
            .join_multicast_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::LOCALHOST)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn multicast_v6_join_leave() {
        let Ok(socket) = UdpSocket::bind("[::]:0".parse().unwrap()) else {
            std::eprintln!("no IPv6 here: skipped");
            return;
        };
        let group: Ipv6Addr = "ff02::123".parse().unwrap();
        // SAFETY: the name is a NUL-terminated string.
        let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        if joined_or_typed_error(socket.join_multicast_v6(group, lo)) {
            socket.leave_multicast_v6(group, lo).unwrap();
        }
    }

    #[test]
    fn broadcast_round_trip() {
        let socket = UdpSocket::bind(localhost()).unwrap();
        assert!(!socket.broadcast().unwrap());
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_broadcast(false).unwrap();
        assert!(!socket.broadcast().unwrap());
    }

    /// Issue 14, item 2: a 2,000-byte datagram read into 1,000 bytes looked like a
    /// 1,000-byte one, and an empty buffer consumed a datagram and returned 0.
    #[test]
    fn truncation_is_reported_and_no_room_consumes_nothing() {
        let a = UdpSocket::bind(localhost()).unwrap();
        let b = UdpSocket::bind(localhost()).unwrap();
        let to = b.local_addr().unwrap();
        let mut buf = [0u8; 1000];
        for (len, truncated) in [(2000, true), (1000, false), (0, false)] {
            assert_eq!(a.send_to(&[7; 2000][..len], to).unwrap(), Some(len));
            let (got, _) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
            let len = len.min(1000);
            assert_eq!(got, Received { len, truncated });
        }
        a.send_to(b"kept", to).unwrap();
        wait_readable(b.as_raw_fd());
        let err = b.recv_from(&mut []).unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            (libc::EINVAL, ErrorKind::InvalidInput)
        );
        let mut full: RingBuf<2> = RingBuf::new();
        full.write_truncating(b"xx");
        let err = b.recv_from_buf(&mut full).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let (got, _) = b
            .recv_from(&mut buf)
            .unwrap()
            .expect("the datagram was lost");
        assert_eq!((got, &buf[..4]), (whole(4), &b"kept"[..]));
    }

    #[test]
    fn buffers_send_and_receive_whole_datagrams_across_the_wrap() {
        let a = UdpSocket::bind(localhost()).unwrap();
        let b = UdpSocket::bind(localhost()).unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        // One datagram from two regions, into two regions.
        let mut out = ring_with_wrapped_data();
        assert_eq!(a.send_to_buf(&mut out, b_addr).unwrap(), Some(6));
        assert!(out.is_empty());
        let mut inn = ring_with_wrapped_room();
        let (got, from) = when_readable(b.as_raw_fd(), || b.recv_from_buf(&mut inn));
        assert_eq!((got, from), (whole(6), a_addr));
        assert_eq!(inn.chunks(), (&b"efef"[..], &b"ghij"[..]));
        inn.advance(8);
        // Connected: an empty buffer sends an empty datagram.
        b.connect(a_addr).unwrap();
        assert_eq!(b.send_buf(&mut SliceBuf::new(b"")).unwrap(), Some(0));
        assert_eq!(
            when_readable(a.as_raw_fd(), || a.recv_buf(&mut inn)),
            whole(0)
        );
        assert_eq!(
            b.send_buf(&mut SliceBuf::new(b"0123456789")).unwrap(),
            Some(10)
        );
        let mut small: RingBuf<4> = RingBuf::new();
        let got = when_readable(a.as_raw_fd(), || a.recv_buf(&mut small));
        assert_eq!(
            (got.len, got.truncated, small.chunks().0),
            (4, true, &b"0123"[..])
        );
    }

    /// Issue 14, item 1: `SO_REUSEADDR` on UDP, through the builder.
    #[test]
    fn builder_reuseaddr_lets_two_sockets_share_a_port() {
        let first = UdpBuilder::v4().unwrap();
        first.set_reuseaddr(true).unwrap();
        first.set_recv_buffer_size(64 * 1024).unwrap();
        first.set_send_buffer_size(64 * 1024).unwrap();
        let first = first.bind(localhost()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = UdpBuilder::v4().unwrap();
        second.set_reuseaddr(true).unwrap();
        let second = second.bind(addr).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
        let third = UdpBuilder::v4().unwrap().bind(addr).unwrap_err();
        assert_eq!(third.kind(), ErrorKind::AddrInUse);
        let reuseport = UdpBuilder::v4().unwrap();
        reuseport.set_reuseport(true).unwrap();
        assert!(reuseport.bind(localhost()).is_ok());
    }

    #[test]
    fn builder_only_v6() {
        // As for TCP: a v6-only port may be one an IPv4 socket elsewhere holds.
        for _ in 0..8 {
            let Ok(builder) = UdpBuilder::v6() else {
                std::eprintln!("no IPv6 here: skipped");
                return;
            };
            builder.set_only_v6(true).unwrap();
            let Ok(v6) = builder.bind("[::]:0".parse().unwrap()) else {
                std::eprintln!("no IPv6 address to bind here: skipped");
                return;
            };
            let port = v6.local_addr().unwrap().port();
            // IPv6 only: the same port is free for IPv4.
            match UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], port))) {
                Ok(_) => return,
                Err(err) => assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}"),
            }
        }
        panic!("the IPv4 port stayed taken by 8 v6-only sockets: IPV6_V6ONLY not applied");
    }

    #[test]
    fn descriptors_are_cloexec_nonblocking_and_close_on_drop() {
        let socket = UdpSocket::bind(localhost()).unwrap();
        assert_cloexec_nonblocking(socket.as_raw_fd(), "socket");
        assert_drop_closes(socket, UdpSocket::into_fd);
        let builder = UdpBuilder::v4().unwrap();
        assert_cloexec_nonblocking(builder.as_raw_fd(), "builder");
        assert_drop_closes(builder, UdpBuilder::into_fd);
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_conversions() {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_socket.local_addr().unwrap();
        let socket = UdpSocket::from(std_socket);
        assert_cloexec_nonblocking(socket.as_raw_fd(), "socket");
        assert_eq!(socket.local_addr().unwrap(), addr);
        assert_eq!(
            std::net::UdpSocket::from(socket).local_addr().unwrap(),
            addr
        );
    }
}
