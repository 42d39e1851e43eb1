//! Non-blocking sockets and pipes: TCP, UDP, Unix domain, and `pipe()`.
//!
//! ```no_run
//! use statio_unix::net::{TcpListener, TcpStream};
//!
//! let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//! let client = TcpStream::connect(listener.local_addr()?)?;
//! // ... wait for the listener to be readable (a selector), then:
//! if let Some((server, peer)) = listener.accept()? {
//!     let mut buf = [0u8; 512];
//!     match server.try_read(&mut buf)? {
//!         None => {}          // nothing yet: wait for readability again
//!         Some(0) => {}       // the peer closed its write side
//!         Some(n) => { let _ = client.try_write(&buf[..n])?; }
//!     }
//! }
//! # Ok::<(), statio_core::OsError>(())
//! ```
//!
//! Every descriptor is created close-on-exec and non-blocking (see the table under
//! [Platforms](#platforms)), closes when its owner is dropped, and is a
//! [`Source<RawFd>`](statio_core::Source) for any selector port.
//!
//! # Failure modes
//! - *Would block* is not an error: `try_read`, `try_write`, `accept`, `send`, `recv`, ...
//!   return `Ok(None)`; wait for readiness and call again.
//! - End of stream is `Ok(Some(0))` from `try_read`/`try_read_buf`, and nothing else
//!   is: a read offered no room is refused (see [no room](#no-room-is-an-error)).
//! - A datagram longer than the room offered is truncated, and says so
//!   ([`Received::truncated`]).
//! - Everything else is an [`OsError`] with the `errno` and its portable kind. A
//!   non-blocking `connect` reports its failure later: writability, then
//!   `take_error()` gives `Some(ECONNREFUSED)` and the like.
//! - `EINTR` is retried inside every call but `close`, which never is.
//! - Writing to a reset peer gives `EPIPE` (`BrokenPipe`), never `SIGPIPE`, for sockets.
//!   Pipes cannot opt out: see [`pipe::Sender`].
//! - An empty Unix path is refused (`InvalidInput`): the abstract namespace is reached
//!   only through its own calls ([`UnixAddr::from_abstract_name`]).
//!
//! # Streams
//! [`TcpStream`], [`UnixStream`] and the [`pipe()`] ends wrap one inner, so their
//! `try_read`, `try_write`, `try_read_buf`, `try_write_buf` (and, for the sockets,
//! `shutdown`, `take_error`, `set_linger`/`linger`) are one implementation, documented
//! once; the [`TryRead`]/[`TryWrite`] traits name them for generic code. They differ in
//! the call that moves the bytes:
//!
//! | type | read: one region / a wrapped ring | write: one region / a wrapped ring |
//! |---|---|---|
//! | `TcpStream`, `UnixStream` | `recv` / `readv` | `send` / `sendmsg`, with `MSG_NOSIGNAL` |
//! | `pipe::Receiver` | `read` / `readv` | (none) |
//! | `pipe::Sender` | (none) | `write` / `writev` |
//!
//! A slice is one region; a [`MutBuf`](statio_core::buf::MutBuf) or
//! [`Buf`](statio_core::buf::Buf) is one region unless a ring's space wraps around its
//! end, and a ring that empties restarts at offset 0. So the vectored calls, which cost
//! the kernel an `iovec` copy, are made only for a wrapped ring.
//!
//! # No room is an error
//! `try_read` into an empty slice and `try_read_buf` into a full buffer fail with
//! `InvalidInput` (`EINVAL`) without a call; so do the datagram receives (`recv`,
//! `recv_from`, `recv_buf`, `recv_from_buf`), which leave the datagram queued. A read
//! into no room could only return 0, which a stream reader takes for end of stream (and
//! closes a connection that is alive), and which for a datagram would consume it
//! unseen. mio and std return that ambiguous 0 (std's `Read` documents it); here a 0 from
//! a read means end of stream, or an empty datagram, and nothing else. Check
//! `has_remaining_mut()` before reading into a buffer that can fill.
//!
//! Writes keep the usual meaning: an empty slice or buffer writes nothing, `Ok(Some(0))`
//! (a datagram socket sends an empty datagram).
//!
//! # The read rule
//! On a **stream socket** (TCP, Unix stream) and a **pipe**, a read that returns fewer
//! bytes than the room offered, and more than 0, means the receive queue was empty when
//! the call returned: the kernel copies all it holds up to the room (epoll(7): "if you
//! call read(2) by asking to read a certain amount of data and read(2) returns a lower
//! number of bytes, you can be sure of having exhausted the read I/O space"; POSIX
//! read() for pipes). So a reader may stop there instead of making the read that would
//! return `Ok(None)`: one syscall fewer per wake-up. Whether anything is lost by
//! stopping depends on the port and mode, exactly as for a reader that stopped at
//! `Ok(None)`:
//!
//! | port, mode | after a short read, the next byte to arrive ... |
//! |---|---|
//! | epoll, edge (`EPOLLET`) | wakes the selector: every arrival is a new edge |
//! | kqueue, edge (`EV_CLEAR`) | fires the filter again: every arrival re-triggers it |
//! | epoll, kqueue, poll(2): level | is reported by the next select, as anything left would be |
//! | any port, oneshot | is reported once the registration is re-armed (`reregister`), as always |
//! | poll(2), edge (emulated) | is reported unless it arrives before the next select has seen the socket empty: the port's own limit, the same after a read that returned `Ok(None)` (see `statio-poll`); use level or oneshot there |
//!
//! A short read does **not** prove the queue empty:
//! - on **datagram sockets** (UDP, Unix datagram): each receive returns one datagram,
//!   however many are queued; receive until `Ok(None)` (or a budget of your choice);
//! - when a TCP peer sends **urgent data** (`MSG_OOB`): a read stops at the urgent mark
//!   (tcp(7));
//! - when a Unix stream peer passes **descriptors or credentials** (`SCM_RIGHTS`,
//!   `SO_PASSCRED`): Linux ends a read at the message that carries them;
//! - when another thread or process reads the same descriptor.
//!
//! A read of 0 is end of stream, not a short read: nothing more will arrive.
//!
//! # Datagrams
//! [`UdpSocket`] and [`UnixDatagram`] receive with `recvmsg` and report
//! [`Received`]: how many bytes landed and whether the datagram was longer (the rest is
//! discarded, never delivered by a later read), from `MSG_TRUNC` in `msg_flags`, which
//! every supported OS sets. They read into and write from the buffer traits
//! (`recv_buf`, `recv_from_buf`, `send_buf`, `send_to_buf`), one datagram per call.
//!
//! # Builders
//! A builder is a socket not yet bound, listening or connected, for the options that
//! must come first (mio 0.2's `TcpSocket::v4()`, `UdpSocket::v4()`,
//! `UnixSocket::stream()`):
//!
//! | builder | becomes | options |
//! |---|---|---|
//! | [`TcpSocket`] (`v4`, `v6`) | [`TcpListener`] (`listen(backlog)`), [`TcpStream`] (`connect`) | `SO_REUSEADDR`, `SO_REUSEPORT`, `SO_REUSEPORT_LB` (FreeBSD), `IPV6_V6ONLY`, `SO_SNDBUF`/`SO_RCVBUF`, `TCP_NODELAY`, `SO_KEEPALIVE` |
//! | [`UdpBuilder`] (`v4`, `v6`) | [`UdpSocket`] (`bind`) | `SO_REUSEADDR`, `SO_REUSEPORT`, `SO_REUSEPORT_LB` (FreeBSD), `IPV6_V6ONLY`, `SO_SNDBUF`/`SO_RCVBUF` |
//! | [`UnixSocket`] (`stream`) | [`UnixListener`] (`listen(backlog)`), [`UnixStream`] (`connect`) | `SO_SNDBUF`/`SO_RCVBUF`; `bind` before either |
//!
//! A stream builder is an unconnected socket: it is a `Source`, so it may be registered
//! before it connects, and `connect` keeps its descriptor (and so the registration).
//! `connect` and `listen` consume the builder, and one refused at once (a Unix path
//! with no listener, an unreachable network) closes it: a socket registered before
//! then leaves its token held, as any source dropped while registered does. Connect
//! first where that matters: a Unix connect completes or fails at once anyway.
//!
//! [`UnixDatagram`] has no builder: no option must precede its `bind`, and it sets its
//! buffer sizes at any time. The convenience constructors (`TcpListener::bind`,
//! `UnixListener::bind`: `SO_REUSEADDR` for TCP, a backlog of 1,024) are builders with
//! those choices made.
//!
//! # Buffers and embedded-io
//! Streams and pipe ends read straight into a [`MutBuf`](statio_core::buf::MutBuf)'s
//! free space (`try_read_buf`) and write straight from a [`Buf`](statio_core::buf::Buf)'s
//! filled space (`try_write_buf`): see [Streams](#streams) for the calls. They
//! implement embedded-io's `ReadReady`/`WriteReady`; its blocking `Read`/`Write` come
//! with the explicit [`Blocking`] wrapper (see there for why).
//!
//! # Platforms
//! | OS | creation | accept | no `SIGPIPE` |
//! |---|---|---|---|
//! | Linux, Android, FreeBSD, NetBSD, OpenBSD, DragonFly | `SOCK_CLOEXEC \| SOCK_NONBLOCK`, `pipe2` | `accept4` | `MSG_NOSIGNAL` |
//! | macOS, iOS | `socket`/`pipe` + `fcntl` | `accept` + `fcntl` | `SO_NOSIGPIPE` |
//!
//! # Adopting descriptors
//! Each type converts from an owned [`Fd`](crate::Fd) with `From`. The descriptor must
//! already be a socket (or pipe end) of the right kind and non-blocking: a blocking one
//! makes `try_*` calls block, which is never unsafe but defeats the loop. With the `std`
//! feature, the std types convert both ways (and are switched to non-blocking on the way
//! in).

mod addr;
pub mod blocking;
mod bufio;
mod datagram;
mod options;
pub mod pipe;
mod socket;
#[cfg(feature = "std")]
mod std_conv;
mod stream;
mod tcp;
mod udp;
mod unix;
mod unix_datagram;

#[cfg(test)]
mod test_util;

use statio_core::OsError;

pub use addr::UnixAddr;
pub use blocking::{Blocking, TryRead, TryWrite};
pub use datagram::Received;
pub use pipe::pipe;
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::{UdpBuilder, UdpSocket};
pub use unix::{UnixListener, UnixSocket, UnixStream};
pub use unix_datagram::UnixDatagram;

/// The result of every call in this module.
pub type Result<T> = core::result::Result<T, OsError>;

/// Which directions of a connection [`TcpStream::shutdown`] and
/// [`UnixStream::shutdown`] close.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// No more reads: further reads see end of stream (`SHUT_RD`).
    Read,
    /// No more writes: the peer reads end of stream (`SHUT_WR`).
    Write,
    /// Both (`SHUT_RDWR`).
    Both,
}

/// The methods and conversions every descriptor-owning type here shares. `$ty`'s one
/// field, `fd`, is an [`Fd`](crate::Fd) or a [`Stream`](stream::Stream), which both
/// convert from and into an `Fd` and give `raw()`.
macro_rules! fd_type {
    ($ty:ident) => {
        impl $ty {
            /// The descriptor number, still owned by `self`: for registering with a
            /// selector, or for calls this type does not wrap.
            pub fn as_raw_fd(&self) -> $crate::RawFd {
                self.fd.raw()
            }

            /// Gives up the type, keeping the open descriptor.
            pub fn into_fd(self) -> $crate::Fd {
                $crate::Fd::from(self.fd)
            }
        }

        impl From<$crate::Fd> for $ty {
            /// Adopts `fd`, which must already be of this kind and non-blocking (see
            /// [the module notes](crate::net#adopting-descriptors)).
            fn from(fd: $crate::Fd) -> $ty {
                $ty { fd: From::from(fd) }
            }
        }

        impl statio_core::Source<$crate::RawFd> for $ty {
            fn handle(&self) -> $crate::RawFd {
                self.fd.raw()
            }
        }

        impl $crate::net::blocking::Sealed for $ty {
            fn fd(&self) -> $crate::RawFd {
                self.fd.raw()
            }
        }

        impl embedded_io::ErrorType for $ty {
            type Error = statio_core::OsError;
        }

        #[cfg(feature = "std")]
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.fd.raw()
            }
        }

        #[cfg(feature = "std")]
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                // SAFETY: `self` owns the open descriptor for at least the borrow.
                unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd.raw()) }
            }
        }

        #[cfg(feature = "std")]
        impl std::os::fd::IntoRawFd for $ty {
            fn into_raw_fd(self) -> std::os::fd::RawFd {
                $crate::Fd::from(self.fd).into_raw()
            }
        }
    };
}
use fd_type;
