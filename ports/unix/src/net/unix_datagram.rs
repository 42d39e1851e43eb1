//! [`UnixDatagram`]: a Unix domain datagram socket, with truncation reported and buffer
//! I/O, named as the stream sockets are (see [`UnixAddr`]).

use statio_core::OsError;
use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::net::addr::UnixAddr;
use crate::net::datagram::{self, Received, datagram_socket};
use crate::net::options::buffer_options;
use crate::net::socket;
use crate::net::unix::{bind, connect, local_addr, peer_addr};
use crate::net::{Result, fd_type};

/// A Unix datagram socket: message boundaries are kept and delivery is reliable.
///
/// Every receive reports whether the datagram was truncated ([`Received`]), and a
/// receive into no room is refused without consuming anything (see
/// [no room](crate::net#no-room-is-an-error)). It needs no builder: no option must
/// precede its `bind`, and its buffer sizes can be set at any time.
#[derive(Debug)]
pub struct UnixDatagram {
    fd: Fd,
}

impl UnixDatagram {
    /// A socket bound to the filesystem `path`.
    ///
    /// # Errors
    /// As [`UnixAddr::from_pathname`] (`InvalidInput` for an empty or too long path);
    /// `AddrInUse` when the file exists; what else `socket` or `bind` refused.
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
        let datagram = UnixDatagram::unbound()?;
        bind(&datagram.fd, addr)?;
        Ok(datagram)
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
    /// As [`UnixAddr::from_pathname`]; `NotFound`, `ConnectionRefused` when nothing is
    /// bound there.
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

    /// Sends one datagram to the socket bound at `path`; `Ok(None)` when its queue is
    /// full.
    ///
    /// # Errors
    /// As [`UnixAddr::from_pathname`]; `NotFound`, `ConnectionRefused` when nothing is
    /// bound there; `EMSGSIZE`.
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

    /// Sends `buf`'s filled space as one datagram to `addr` and consumes it, as
    /// [`send_buf`](Self::send_buf) does.
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub fn send_to_buf<B: Buf + ?Sized>(
        &self,
        buf: &mut B,
        addr: &UnixAddr,
    ) -> Result<Option<usize>> {
        let (ptr, len) = addr.as_raw();
        // SAFETY: `ptr` points at a sockaddr_un of at least `len` bytes, borrowed from `addr`.
        unsafe { datagram::send_from(&self.fd, buf, ptr, len) }
    }

    /// Receives one datagram into `buf`'s free space with its sender's address, as
    /// [`recv_buf`](Self::recv_buf) does.
    ///
    /// # Errors
    /// As [`recv_buf`](Self::recv_buf).
    pub fn recv_from_buf<B: MutBuf + ?Sized>(
        &self,
        buf: &mut B,
    ) -> Result<Option<(Received, UnixAddr)>> {
        let received = UnixAddr::fill(|ptr, len| {
            // SAFETY: `fill` passes room for `*len` bytes.
            unsafe { datagram::recv_into(&self.fd, buf, ptr, len) }
        })?;
        Ok(match received {
            (Some(received), from) => Some((received, from)),
            (None, _) => None,
        })
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
datagram_socket!(UnixDatagram, UnixAddr);
buffer_options!(UnixDatagram);

#[cfg(test)]
mod tests {
    use embedded_io::ErrorKind;
    use statio_core::buf::{RingBuf, SliceBuf};

    use super::*;
    use crate::net::test_util::*;

    fn whole(len: usize) -> Received {
        Received {
            len,
            truncated: false,
        }
    }

    #[test]
    fn datagram_by_path() {
        let (pa, pb) = (temp_path("dgram-a"), temp_path("dgram-b"));
        let a = UnixDatagram::bind(&pa.0).unwrap();
        let b = UnixDatagram::bind(&pb.0).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(b.recv_from(&mut buf).unwrap().map(|_| ()), None);
        assert_eq!(a.send_to(b"one", &pb.0).unwrap(), Some(3));
        let (got, from) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
        assert_eq!((got, &buf[..3]), (whole(3), &b"one"[..]));
        assert_eq!(from.as_pathname(), Some(&pa.0[..]));
        assert_eq!(from, a.local_addr().unwrap());
        // Reply to the address recv_from returned.
        b.send_to_addr(b"two", &from).unwrap();
        let got = when_readable(a.as_raw_fd(), || a.recv(&mut buf));
        assert_eq!((got, &buf[..3]), (whole(3), &b"two"[..]));

        let c = UnixDatagram::unbound().unwrap();
        c.connect(&pb.0).unwrap();
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(&pb.0[..]));
        assert_eq!(c.send(b"three").unwrap(), Some(5));
        let (got, from) = when_readable(b.as_raw_fd(), || b.recv_from(&mut buf));
        assert_eq!((got, &buf[..5]), (whole(5), &b"three"[..]));
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
        let got = when_readable(a.as_raw_fd(), || a.recv(&mut buf));
        assert_eq!((got, &buf[..3]), (whole(3), &b"abs"[..]));
        assert_eq!(a.local_addr().unwrap(), addr);
    }

    #[test]
    fn pair_keeps_boundaries() {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"first").unwrap();
        a.send(b"second").unwrap();
        let mut buf = [0u8; 16];
        let got = when_readable(b.as_raw_fd(), || b.recv(&mut buf));
        assert_eq!((got, &buf[..5]), (whole(5), &b"first"[..]));
        let got = when_readable(b.as_raw_fd(), || b.recv(&mut buf));
        assert_eq!((got, &buf[..6]), (whole(6), &b"second"[..]));
        assert_eq!(b.recv(&mut buf).unwrap(), None);
    }

    /// Issue 14, item 2: a 2,000-byte datagram read into 1,000 bytes looked like a
    /// 1,000-byte one, and an empty buffer consumed a datagram and returned 0.
    #[test]
    fn truncation_is_reported_and_no_room_consumes_nothing() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 1000];
        for (len, truncated) in [(2000, true), (1000, false), (0, false)] {
            assert_eq!(a.send(&[7; 2000][..len]).unwrap(), Some(len));
            let got = when_readable(b.as_raw_fd(), || b.recv(&mut buf));
            assert_eq!(
                got,
                Received {
                    len: len.min(1000),
                    truncated
                }
            );
        }
        a.send(b"kept").unwrap();
        wait_readable(b.as_raw_fd());
        let err = b.recv(&mut []).unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            (libc::EINVAL, ErrorKind::InvalidInput)
        );
        assert_eq!(
            b.recv_from(&mut []).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let mut full: RingBuf<4> = RingBuf::new();
        full.write_truncating(b"full");
        assert_eq!(
            b.recv_buf(&mut full).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            b.recv(&mut buf).unwrap(),
            Some(whole(4)),
            "the datagram was lost"
        );
    }

    #[test]
    fn buffers_send_and_receive_whole_datagrams_across_the_wrap() {
        let (pa, pb) = (temp_path("dgram-buf-a"), temp_path("dgram-buf-b"));
        let a = UnixDatagram::bind(&pa.0).unwrap();
        let b = UnixDatagram::bind(&pb.0).unwrap();
        a.set_send_buffer_size(64 * 1024).unwrap();
        a.set_recv_buffer_size(64 * 1024).unwrap();
        // One datagram from two regions, into two regions.
        let mut out = ring_with_wrapped_data();
        let to = b.local_addr().unwrap();
        assert_eq!(a.send_to_buf(&mut out, &to).unwrap(), Some(6));
        assert!(out.is_empty());
        let mut inn = ring_with_wrapped_room();
        let (got, from) = when_readable(b.as_raw_fd(), || b.recv_from_buf(&mut inn));
        assert_eq!((got, from), (whole(6), a.local_addr().unwrap()));
        assert_eq!(inn.chunks(), (&b"efef"[..], &b"ghij"[..]));
        inn.advance(8);
        // Connected: send_buf and recv_buf, and an empty buffer is an empty datagram.
        b.connect(&pa.0).unwrap();
        assert_eq!(b.send_buf(&mut SliceBuf::new(b"")).unwrap(), Some(0));
        let got = when_readable(a.as_raw_fd(), || a.recv_buf(&mut inn));
        assert_eq!(got, whole(0));
        let mut long = SliceBuf::new(b"0123456789");
        assert_eq!(b.send_buf(&mut long).unwrap(), Some(10));
        let mut small: RingBuf<4> = RingBuf::new();
        let got = when_readable(a.as_raw_fd(), || a.recv_buf(&mut small));
        assert_eq!(
            got,
            Received {
                len: 4,
                truncated: true
            }
        );
        assert_eq!(small.chunks().0, b"0123");
    }

    #[test]
    fn empty_path_is_refused() {
        let unbound = UnixDatagram::unbound().unwrap();
        for err in [
            UnixDatagram::bind(b"").unwrap_err(),
            unbound.connect(b"").unwrap_err(),
            unbound.send_to(b"x", b"").unwrap_err(),
        ] {
            assert_eq!(
                (err.code(), err.kind()),
                (libc::EINVAL, ErrorKind::InvalidInput)
            );
        }
    }

    #[test]
    fn descriptors_are_cloexec_nonblocking_and_close_on_drop() {
        let (d1, d2) = UnixDatagram::pair().unwrap();
        let unbound = UnixDatagram::unbound().unwrap();
        for fd in [d1.as_raw_fd(), d2.as_raw_fd(), unbound.as_raw_fd()] {
            assert_cloexec_nonblocking(fd, "fd");
        }
        assert_drop_closes(d1, UnixDatagram::into_fd);
    }
}
