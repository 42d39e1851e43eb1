//! statio's port for FreeBSD, macOS, NetBSD, OpenBSD and DragonFly: `Kqueue`, a
//! [`Selector`](statio_core::Selector) over `kqueue(2)`. `#![no_std]`, no allocation; its
//! only OS dependency is `libc`.
//!
//! ```
//! # #[cfg(any(target_os = "freebsd", target_os = "macos", target_os = "netbsd",
//! #     target_os = "openbsd", target_os = "dragonfly"))]
//! # fn main() -> Result<(), statio_core::OsError> {
//! use core::time::Duration;
//! use statio_core::{Events, Interest, PollOpt, Selector, Token};
//! use statio_kqueue::Kqueue;
//!
//! let mut kqueue = Kqueue::new()?;
//! let mut fds = [0; 2];
//! // SAFETY: `fds` has room for the two descriptors pipe writes.
//! assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
//! // SAFETY: pipe returned two new descriptors that nothing else owns.
//! let (reader, writer) = unsafe { (statio_unix::Fd::from_raw(fds[0]), statio_unix::Fd::from_raw(fds[1])) };
//!
//! kqueue.register(reader.raw(), Token(7), Interest::READABLE, PollOpt::edge())?;
//! // SAFETY: writes one byte from a live buffer.
//! unsafe { libc::write(writer.raw(), b"x".as_ptr().cast(), 1) };
//!
//! let mut events: Events<_, 16> = Events::new();
//! kqueue.select(&mut events, Some(Duration::from_secs(1)))?;
//! let event = &events.as_slice()[0];
//! assert_eq!(Kqueue::token(event), Token(7));
//! assert!(Kqueue::ready(event).is_readable());
//! kqueue.deregister(reader.raw())?;
//! # Ok(())
//! # }
//! # #[cfg(not(any(target_os = "freebsd", target_os = "macos", target_os = "netbsd",
//! #     target_os = "openbsd", target_os = "dragonfly")))]
//! # fn main() {}
//! ```
//!
//! # Flags
//!
//! What [`register`](statio_core::Selector::register) submits, one change per filter:
//!
//! | statio | kqueue | why |
//! |---|---|---|
//! | `Interest::READABLE` | `EVFILT_READ` | |
//! | `Interest::WRITABLE` | `EVFILT_WRITE` | |
//! | `PollOpt::level()` | (none) | kqueue's default |
//! | `PollOpt::edge()` | `EV_CLEAR` | the filter's state resets once its event is retrieved |
//! | `PollOpt::oneshot()` | `EV_DISPATCH` | disabled, not deleted, after one event, as `EPOLLONESHOT`; re-enabled by `reregister` |
//! | (always) | `EV_ADD \| EV_ENABLE \| EV_RECEIPT`; `udata` = the token | one receipt per change carries its own `errno` |
//!
//! Oneshot is `EV_DISPATCH` rather than `EV_ONESHOT`: `EV_ONESHOT` deletes the filter
//! after its event, so a fired oneshot registration could not be told from no
//! registration, and [`deregister`](statio_core::Selector::deregister) could not say
//! `NotFound` truthfully. A registration for both directions disarms each filter on its
//! own: after a readable event the write filter still reports (epoll disarms the whole
//! descriptor).
//!
//! What an event reports as [`Ready`](statio_core::Ready). kqueue reports each filter as
//! its own event, so one event speaks for one direction:
//!
//! | kqueue event | `Ready` | when |
//! |---|---|---|
//! | `EVFILT_READ` | `READABLE` | data, EOF, or a connection to accept |
//! | `EVFILT_READ` + `EV_EOF` | `READABLE \| READ_CLOSED` | the peer shut down writing or closed; the last writer of a pipe or FIFO closed |
//! | `EVFILT_WRITE` | `WRITABLE` | room in the send buffer |
//! | `EVFILT_WRITE` + `EV_EOF` | `WRITABLE \| WRITE_CLOSED` | the socket can send no more (shut down for writing, or the connection is gone); the pipe's reader closed |
//! | `EV_EOF`, `fflags` ≠ 0 | `ERROR` as well | `fflags` is the socket's pending error, e.g. `ECONNRESET` after a reset |
//! | `EV_ERROR` | `ERROR` only | a failed change; `select` submits none, so a safeguard |
//! | `EVFILT_USER` | `READABLE` | the `KqueueWaker` (under `Token::WAKER`) |
//!
//! `WRITE_CLOSED` is never a false positive: the write filter sets `EV_EOF` exactly when
//! a write would fail (`SBS_CANTSENDMORE`/`SS_CANTSENDMORE` in FreeBSD's and macOS'
//! filt_sowrite, the reader's absence in filt_pipewrite), unlike epoll's `EPOLLERR`. A
//! half-close by the peer is `READ_CLOSED` on the read filter only. `HUP` ("both
//! directions closed") is never reported: no single filter knows both directions, and
//! a socket we shut down for writing ourselves reports `WRITE_CLOSED` while it still reads.
//! `PRIORITY` is never reported either.
//!
//! # Two events for one descriptor
//!
//! A descriptor registered for both directions and ready both ways yields two events in
//! one [`select`](statio_core::Selector::select), one per filter, and the event loop
//! dispatches its token twice in that turn (mio does the same on kqueue). They are not
//! merged: finding the partner of an event costs a search of the batch on every turn,
//! and the default [`Handler::ready`](statio_core::Handler::ready) calls `readable` for
//! one and `writable` for the other, as it would for one merged event.
//!
//! # Batching
//!
//! Every registration call is one `kevent` syscall, whatever the interest:
//!
//! | call | changes in the one `kevent` |
//! |---|---|
//! | `register` | `EV_ADD` per wanted filter (1 or 2) |
//! | `reregister` | `EV_DELETE` read, `EV_DELETE` write, then `EV_ADD` per wanted filter (3 or 4) |
//! | `deregister` | `EV_DELETE` read, `EV_DELETE` write |
//! | `select` | none: `kevent(kq, NULL, 0, events, N, timeout)` |
//!
//! Each change carries `EV_RECEIPT`, so the kernel applies all of them and answers each
//! with its own `errno` (kqueue(2)): `ENOENT` from deleting the filter that was never
//! added is ignored, `ENOENT` from both deletes is `NotFound`, and the first other error
//! is returned. `reregister` deletes before adding because re-adding an existing filter
//! keeps its old `EV_CLEAR`/`EV_DISPATCH` on FreeBSD. Changes are not deferred to the
//! next `select`: an error must reach the call that caused it, and the event loop relies
//! on a deregistration being complete when `deregister` returns.
//!
//! # Kernel notes
//!
//! - kqueue cannot add a filter only if it is absent, so registering a descriptor twice
//!   modifies the first registration instead of failing with `AlreadyExists` as epoll
//!   does; see `Kqueue`'s `register`.
//! - Closing a descriptor removes its filters from every kqueue (kqueue(2)); a `dup`
//!   does not keep them alive.
//! - Timeouts are nanoseconds; the kernel sleeps to its own timer resolution.
//! - `EINTR` from `kevent` in `select` is returned, not retried.
//! - NetBSD needs version 10 or later (`EV_RECEIPT`, `EVFILT_USER`, `void *udata`).
//! - On other operating systems this crate is empty, so a workspace build succeeds; its
//!   flag translation is unit-tested on any host (`cargo test -p statio-kqueue`).
//!
//! Sources: kqueue(2) of [FreeBSD], [macOS], [NetBSD] and [OpenBSD].
//!
//! [FreeBSD]: https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2
//! [macOS]: https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/kqueue.2.html
//! [NetBSD]: https://man.netbsd.org/kqueue.2
//! [OpenBSD]: https://man.openbsd.org/kqueue.2
#![no_std]
#![warn(missing_docs)]

/// Keeps each item only on the systems that have kqueue: the one place naming them.
macro_rules! on_kqueue_systems {
    ($($item:item)*) => {$(
        #[cfg(any(
            target_os = "freebsd",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly"
        ))]
        $item
    )*};
}

on_kqueue_systems! {
    mod selector;
    mod waker;
    pub use selector::{KEvent, Kqueue};
    pub use waker::KqueueWaker;
}

// Also built for the unit tests on any host: it needs no kqueue-only libc item.
#[cfg(any(
    test,
    target_os = "freebsd",
    target_os = "macos",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod translate;
