//! With the `std` feature: conversions between this module's types and std's.
//!
//! Into ours, the std value is switched to non-blocking (`fcntl(F_SETFL, O_NONBLOCK)`);
//! back into std's it stays non-blocking (call std's `set_nonblocking(false)` to undo).

use std::os::fd::IntoRawFd;

use crate::Fd;
use crate::net::socket::set_nonblocking;
use crate::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};

/// Takes ownership of a std socket's descriptor and makes it non-blocking.
fn adopt(socket: impl IntoRawFd) -> Fd {
    // SAFETY: into_raw_fd hands over an open descriptor that nothing else owns.
    let fd = unsafe { Fd::from_raw(socket.into_raw_fd()) };
    // fcntl on an open descriptor we own fails only with EBADF, which cannot happen here.
    let set = set_nonblocking(&fd);
    debug_assert!(set.is_ok(), "O_NONBLOCK on an owned descriptor: {set:?}");
    fd
}

macro_rules! std_conversions {
    ($($ours:ident <=> $std:ty),* $(,)?) => {$(
        impl From<$std> for $ours {
            /// Adopts the std value's descriptor, switching it to non-blocking.
            fn from(socket: $std) -> $ours {
                $ours::from(adopt(socket))
            }
        }

        impl From<$ours> for $std {
            /// Hands the descriptor to std; it stays non-blocking.
            fn from(socket: $ours) -> $std {
                <$std as From<std::os::fd::OwnedFd>>::from(socket.into_fd().into())
            }
        }
    )*};
}

std_conversions! {
    TcpStream <=> std::net::TcpStream,
    TcpListener <=> std::net::TcpListener,
    UdpSocket <=> std::net::UdpSocket,
    UnixStream <=> std::os::unix::net::UnixStream,
    UnixListener <=> std::os::unix::net::UnixListener,
    UnixDatagram <=> std::os::unix::net::UnixDatagram,
}

impl From<Fd> for std::os::fd::OwnedFd {
    /// Hands the descriptor to std's owner.
    fn from(fd: Fd) -> std::os::fd::OwnedFd {
        use std::os::fd::FromRawFd;
        // SAFETY: into_raw gives up our ownership of an open descriptor.
        unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw()) }
    }
}
