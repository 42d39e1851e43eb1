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
//! - End of stream is `Ok(Some(0))` from `try_read`.
//! - Everything else is an [`OsError`] with the `errno` and its portable kind. A
//!   non-blocking `connect` reports its failure later: writability, then
//!   `take_error()` gives `Some(ECONNREFUSED)` and the like.
//! - `EINTR` is retried inside every call but `close`, which never is.
//! - Writing to a reset peer gives `EPIPE` (`BrokenPipe`), never `SIGPIPE`, for sockets.
//!   Pipes cannot opt out: see [`pipe::Sender::try_write`].
//!
//! # Buffers and embedded-io
//! Streams and pipe ends read straight into a [`MutBuf`](statio_core::buf::MutBuf)'s
//! free space (`try_read_buf`) and write straight from a [`Buf`](statio_core::buf::Buf)'s
//! filled space (`try_write_buf`), with `readv`/`sendmsg`/`writev` when a ring's region
//! wraps. They implement embedded-io's `ReadReady`/`WriteReady`; its blocking
//! `Read`/`Write` come with the explicit [`Blocking`] wrapper (see there for why).
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
pub mod pipe;
mod socket;
#[cfg(feature = "std")]
mod std_conv;
mod tcp;
mod udp;
mod unix;

#[cfg(test)]
mod test_util;

use statio_core::OsError;

pub use addr::UnixAddr;
pub use blocking::{Blocking, TryRead, TryWrite};
pub use pipe::pipe;
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

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

/// The methods and conversions every descriptor-owning type here shares.
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
                self.fd
            }
        }

        impl From<$crate::Fd> for $ty {
            /// Adopts `fd`, which must already be of this kind and non-blocking (see
            /// [the module notes](crate::net#adopting-descriptors)).
            fn from(fd: $crate::Fd) -> $ty {
                $ty { fd }
            }
        }

        impl statio_core::Source<$crate::RawFd> for $ty {
            fn handle(&self) -> $crate::RawFd {
                self.fd.raw()
            }
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
                self.fd.into_raw()
            }
        }
    };
}
use fd_type;
