//! statio's Linux and Android port: [`Epoll`], a [`Selector`](statio_core::Selector)
//! over `epoll(7)`. `#![no_std]`, no allocation; its only OS dependency is `libc`.
//!
//! ```
//! use core::time::Duration;
//! use statio_core::{Events, Interest, PollOpt, Selector, Token};
//! use statio_epoll::Epoll;
//!
//! let mut epoll = Epoll::new()?;
//! let mut fds = [0; 2];
//! // SAFETY: `fds` has room for the two descriptors pipe2 writes.
//! assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) }, 0);
//! // SAFETY: pipe2 returned two new descriptors that nothing else owns.
//! let (reader, writer) = unsafe { (statio_unix::Fd::from_raw(fds[0]), statio_unix::Fd::from_raw(fds[1])) };
//!
//! epoll.register(reader.raw(), Token(7), Interest::READABLE, PollOpt::edge())?;
//! // SAFETY: writes one byte from a live buffer.
//! unsafe { libc::write(writer.raw(), b"x".as_ptr().cast(), 1) };
//!
//! let mut events: Events<_, 16> = Events::new();
//! epoll.select(&mut events, Some(Duration::from_secs(1)))?;
//! let event = &events.as_slice()[0];
//! assert_eq!(Epoll::token(event), Token(7));
//! assert!(Epoll::ready(event).is_readable());
//! epoll.deregister(reader.raw())?;
//! # Ok::<(), statio_core::OsError>(())
//! ```
//!
//! # Flags
//!
//! What [`register`](statio_core::Selector::register) asks `epoll_ctl(2)` for:
//!
//! | statio | epoll | why |
//! |---|---|---|
//! | `Interest::READABLE` | `EPOLLIN \| EPOLLRDHUP` | `EPOLLRDHUP` is the only report of a peer's `shutdown(SHUT_WR)` |
//! | `Interest::WRITABLE` | `EPOLLOUT` | |
//! | `PollOpt::level()` | (none) | epoll's default |
//! | `PollOpt::edge()` | `EPOLLET` | |
//! | `PollOpt::oneshot()` | `EPOLLONESHOT` | disarmed after one event until `EPOLL_CTL_MOD` |
//! | (always) | `EPOLLERR`, `EPOLLHUP` | the kernel reports them unasked ([epoll_ctl(2)]) |
//! | (never) | `EPOLLPRI` | see below |
//!
//! What an event's flags report as [`Ready`](statio_core::Ready) (several may combine):
//!
//! | epoll | `Ready` | when (Linux) |
//! |---|---|---|
//! | `EPOLLIN` | `READABLE` | data, EOF, or a connection to accept |
//! | `EPOLLOUT` | `WRITABLE` | room in the send buffer |
//! | `EPOLLRDHUP` | `READ_CLOSED` | a stream socket's peer shut down writing, or closed |
//! | `EPOLLHUP` | `HUP \| READ_CLOSED \| WRITE_CLOSED` | both directions closed: the peer closed a socket, the last writer closed a pipe; also an unconnected TCP socket (state `TCP_CLOSE` in `tcp_poll`) |
//! | `EPOLLERR` | `ERROR` | a pending socket error (read it with `SO_ERROR`); the write end of a pipe whose reader closed |
//! | `EPOLLPRI` | `PRIORITY` | only if registered by other means: never asked for |
//!
//! `WRITE_CLOSED` comes from `EPOLLHUP` alone. epoll has no flag for "the writing side
//! is closed": `EPOLLERR` also marks sockets that can still write (a connected UDP
//! socket after an ICMP error, a timestamp on the error queue), and
//! [`Ready`](statio_core::Ready) promises `READ_CLOSED` and `WRITE_CLOSED` without
//! false positives. So the write end of a pipe whose reader closed reports `ERROR`
//! (`EPOLLERR`, plus `EPOLLOUT` when the pipe has room), and writing to it fails with
//! `EPIPE`; a socket we shut down ourselves (`SHUT_WR`) reports nothing new.
//!
//! `EPOLLPRI` is not asked for because the interest set cannot say so: a TCP peer that
//! sends one urgent byte (`MSG_OOB`) leaves `EPOLLPRI` set, and `EPOLLIN` clear, until
//! the byte is read with `MSG_OOB`, so a level-triggered reader that ignores it would
//! wake forever. Watching priority data needs an `Interest` of its own in the core.
//!
//! # Signals and child processes
//!
//! [`Signals`] reads a `signalfd(2)`: its signals must be blocked in every thread
//! (`Signals::block` first thing in `main`), and then never interrupt a wait.
//! [`Children`] watches child exits through pidfds (`pidfd_open(2)`, Linux 5.3) in an
//! epoll instance of its own, falling back to `SIGCHLD` through a self-pipe where
//! pidfds are missing. Both are sources to register like sockets; the semantics,
//! shared with the other ports, are in `statio_unix::signal` and `statio_unix::process`.
//!
//! # Kernel notes
//!
//! - Registrations belong to the open file, not the descriptor number: deregister
//!   before closing, since a `dup`ed or inherited descriptor keeps the registration
//!   alive and reporting ([epoll(7)], Q6).
//! - Timeouts have millisecond resolution and are rounded up, never down.
//! - `EINTR` from `epoll_wait` is returned, not retried: see
//!   [`select`](statio_core::Selector::select) on [`Epoll`].
//! - On other operating systems this crate is empty, so a workspace build succeeds.
//!
//! [epoll_ctl(2)]: https://man7.org/linux/man-pages/man2/epoll_ctl.2.html
//! [epoll(7)]: https://man7.org/linux/man-pages/man7/epoll.7.html
#![no_std]
#![warn(missing_docs)]

#[cfg(any(target_os = "linux", target_os = "android"))]
mod children;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod selector;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod signals;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod translate;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod waker;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub use children::Children;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use selector::Epoll;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use signals::Signals;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use waker::EventFdWaker;

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests;
