//! statio's Unix layer, shared by the epoll, kqueue and poll(2) ports: owned
//! descriptors, errno classification, and (in the modules added by later work) sockets
//! and pipes. `#![no_std]`; its only dependency beyond the core is `libc`.
#![no_std]
#![warn(missing_docs)]

pub mod error;
mod fd;

pub use fd::{Fd, RawFd};
