//! statio's Unix layer, shared by the epoll, kqueue and poll(2) ports: owned
//! descriptors ([`Fd`]), errno classification ([`error`]), non-blocking TCP, UDP and
//! Unix domain sockets and pipes ([`net`]), and what the ports' signal sources and
//! child watchers share ([`signal`], [`process`]), accepting that pauses when descriptors
//! run out ([`accept`]) and the descriptor limit ([`limits`]). `#![no_std]` and allocation-free;
//! its only dependency beyond the core is `libc`.
//!
//! The `std` feature adds conversions only: std's sockets into and out of [`net`]'s
//! types, and `AsFd`/`AsRawFd`/`IntoRawFd` on them.
#![no_std]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod accept;
pub mod clock;
pub mod error;
mod fd;
pub mod limits;
pub mod net;
pub mod process;
pub mod signal;

pub use fd::{Fd, RawFd};
