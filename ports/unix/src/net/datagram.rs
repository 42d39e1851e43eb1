//! The datagram calls `UdpSocket` and `UnixDatagram` share: one datagram received into
//! a [`MutBuf`]'s free space with its truncation reported ([`Received`]), one sent from
//! a [`Buf`]'s filled space.
//!
//! Every receive is one `recvmsg`, whatever the buffer: `msg_flags` carries `MSG_TRUNC`
//! on every supported OS (recvmsg(2), POSIX), so truncation is known without the
//! Linux-only `MSG_TRUNC` input flag, and a wrapped ring takes a datagram in one call.

use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::error::check_retry;
use crate::net::Result;
use crate::net::bufio::iovecs;
use crate::net::socket::{IO_MAX, SEND_FLAGS, no_room, would_block};

/// What receiving one datagram gave: how many of its bytes landed in the buffer, and
/// whether it was longer than the room offered (the rest is discarded: a datagram is
/// never split across reads).
///
/// A 2,000-byte datagram read into 1,000 bytes is `Received { len: 1000, truncated:
/// true }`; a 1,000-byte one, `Received { len: 1000, truncated: false }`; an empty
/// datagram, `Received { len: 0, truncated: false }`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Received {
    /// Bytes written into the buffer: the datagram's length, or the room offered when it
    /// was truncated.
    pub len: usize,
    /// Whether the datagram was longer than the room offered (`MSG_TRUNC`).
    pub truncated: bool,
}

/// Receives one datagram into `buf`'s free space and commits what landed; the sender's
/// address goes to `name` (`*name_len` bytes of room, updated), unless `name` is null.
///
/// # Errors
/// `InvalidInput` when `buf` is full (no call is made: the datagram stays queued); what
/// `recvmsg` refused.
///
/// # Safety
/// A non-null `name` must be valid for writes of `*name_len` bytes, and `name_len`
/// valid for reads and writes.
pub(crate) unsafe fn recv_into<B: MutBuf + ?Sized>(
    fd: &Fd,
    buf: &mut B,
    name: *mut libc::sockaddr,
    name_len: *mut libc::socklen_t,
) -> Result<Option<Received>> {
    if !buf.has_remaining_mut() {
        return Err(no_room());
    }
    let (first, second) = buf.chunks_mut();
    let (mut vecs, count) = iovecs(
        (first.as_mut_ptr(), first.len()),
        (second.as_mut_ptr(), second.len()),
    );
    let room = vecs[0].iov_len + vecs[1].iov_len;
    // SAFETY: msghdr is plain data; all-zero is a valid empty header (no name, no
    // control data), and only its name and iovec fields are set below.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = vecs.as_mut_ptr();
    // size_t on glibc, int on musl: `count` is 1 or 2 either way.
    msg.msg_iovlen = count as _;
    if !name.is_null() {
        msg.msg_name = name.cast();
        // SAFETY: the caller vouches for `name_len` with a non-null `name`.
        msg.msg_namelen = unsafe { *name_len };
    }
    // SAFETY: the first `count` iovecs span `buf`'s free space, borrowed mutably for the
    // call (the borrows end before `commit`); the caller vouches for the name.
    let n = would_block(check_retry(|| unsafe {
        libc::recvmsg(fd.raw(), &mut msg, 0)
    }))?;
    let Some(n) = n else { return Ok(None) };
    if !name.is_null() {
        // SAFETY: as above.
        unsafe { *name_len = msg.msg_namelen };
    }
    let len = (n as usize).min(room);
    buf.commit(len);
    Ok(Some(Received {
        len,
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
    }))
}

/// Sends `buf`'s filled space as one datagram with [`SEND_FLAGS`] and consumes it, to
/// `name` (`name_len` bytes) or, when `name` is null, to the connected peer. An empty
/// `buf` sends an empty datagram.
///
/// # Errors
/// `EMSGSIZE` when the datagram is too large (nothing is consumed); what `sendmsg`
/// refused.
///
/// # Safety
/// A non-null `name` must be valid for reads of `name_len` bytes.
pub(crate) unsafe fn send_from<B: Buf + ?Sized>(
    fd: &Fd,
    buf: &mut B,
    name: *const libc::sockaddr,
    name_len: libc::socklen_t,
) -> Result<Option<usize>> {
    let (first, second) = buf.chunks();
    if first.len() + second.len() > IO_MAX {
        // Clamping would cut the datagram: refuse it whole, as the kernel would.
        return Err(crate::error::from_errno(libc::EMSGSIZE));
    }
    // The kernel only reads through these pointers: *mut is what iovec's type demands.
    let (mut vecs, count) = iovecs(
        (first.as_ptr().cast_mut(), first.len()),
        (second.as_ptr().cast_mut(), second.len()),
    );
    // SAFETY: msghdr is plain data; all-zero is a valid empty header, and only its name
    // and iovec fields are set below.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = vecs.as_mut_ptr();
    msg.msg_iovlen = count as _;
    msg.msg_name = name.cast_mut().cast();
    msg.msg_namelen = if name.is_null() { 0 } else { name_len };
    // SAFETY: the iovecs span `buf`'s filled space, borrowed for the call; the caller
    // vouches for the name; sendmsg(2) only reads through every pointer.
    let n = would_block(check_retry(|| unsafe {
        libc::sendmsg(fd.raw(), &msg, SEND_FLAGS)
    }))?;
    Ok(n.map(|n| buf.advance(n as usize)))
}

/// Gives `$ty`, a datagram socket whose `fd` field is an [`Fd`] and whose own
/// `recv_from_buf` gives the sender as a `$addr`, the calls that do not name an address,
/// documented once: `send`, `recv`, `recv_from`, `send_buf`, `recv_buf`.
macro_rules! datagram_socket {
    ($ty:ty, $addr:ty) => {
        impl $ty {
            /// Sends one datagram to the connected peer (`send`); `Ok(None)` when there is
            /// no room (the send buffer, or a Unix peer's queue, is full).
            ///
            /// # Errors
            /// `NotConnected` (`EDESTADDRREQ` on some systems) before `connect`;
            /// `ConnectionRefused` once the peer is gone (UDP: an earlier datagram drew
            /// an ICMP port unreachable); `EMSGSIZE` when too big for one datagram.
            pub fn send(&self, buf: &[u8]) -> $crate::net::Result<Option<usize>> {
                $crate::net::socket::send(&self.fd, buf)
            }

            /// Receives one datagram into `buf` (`recvmsg`): how much landed and
            /// whether it was truncated; `Ok(None)` when none is queued. On a connected
            /// socket, only datagrams from its peer arrive.
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) for an empty `buf`, without a call: the
            /// datagram stays queued (see [no room](crate::net#no-room-is-an-error)).
            /// `ConnectionRefused` on a connected UDP socket whose earlier datagram drew
            /// an ICMP port unreachable; what else `recvmsg` refused.
            #[doc(alias = "recvmsg", alias = "MSG_TRUNC")]
            pub fn recv(
                &self,
                buf: &mut [u8],
            ) -> $crate::net::Result<Option<$crate::net::Received>> {
                self.recv_buf(&mut statio_core::buf::MutSliceBuf::new(buf))
            }

            /// Receives one datagram into `buf` with its sender's address, as
            /// [`recv`](Self::recv) does.
            ///
            /// # Errors
            /// As [`recv`](Self::recv).
            #[doc(alias = "recvfrom")]
            pub fn recv_from(
                &self,
                buf: &mut [u8],
            ) -> $crate::net::Result<Option<($crate::net::Received, $addr)>> {
                self.recv_from_buf(&mut statio_core::buf::MutSliceBuf::new(buf))
            }

            /// Sends `buf`'s filled space as one datagram to the connected peer and
            /// consumes it (`sendmsg`, two `iovec`s when a ring's filled space wraps);
            /// an empty `buf` sends an empty datagram.
            ///
            /// # Errors
            /// As [`send`](Self::send); on `EMSGSIZE` nothing is consumed.
            pub fn send_buf<B: statio_core::buf::Buf + ?Sized>(
                &self,
                buf: &mut B,
            ) -> $crate::net::Result<Option<usize>> {
                // SAFETY: a null name sends to the connected peer.
                unsafe { $crate::net::datagram::send_from(&self.fd, buf, core::ptr::null(), 0) }
            }

            /// Receives one datagram into `buf`'s free space and commits what landed, as
            /// [`recv`](Self::recv) does into a slice (one `recvmsg`, two `iovec`s when
            /// a ring's free space wraps).
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) for a full `buf`, without a call; otherwise as
            /// [`recv`](Self::recv).
            pub fn recv_buf<B: statio_core::buf::MutBuf + ?Sized>(
                &self,
                buf: &mut B,
            ) -> $crate::net::Result<Option<$crate::net::Received>> {
                let (name, name_len) = (core::ptr::null_mut(), core::ptr::null_mut());
                // SAFETY: a null name asks for no address.
                unsafe { $crate::net::datagram::recv_into(&self.fd, buf, name, name_len) }
            }
        }
    };
}

pub(crate) use datagram_socket;
