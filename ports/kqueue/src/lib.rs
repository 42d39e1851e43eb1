//! statio's port for FreeBSD, macOS, NetBSD, OpenBSD and DragonFly: `Kqueue`, a
//! [`Selector`](statio_core::Selector) over `kqueue(2)`. `#![no_std]`, no allocation; its
//! dependencies are `libc` and heapless (the set of registered descriptors).
//!
//! ```
//! # #[cfg(kqueue)]
//! # fn main() -> Result<(), statio_core::OsError> {
//! use core::time::Duration;
//! use statio_core::{Events, Interest, PollOpt, Selector, Token};
//! use statio_kqueue::Kqueue;
//!
//! // Up to 64 registered descriptors (the default is 1,024).
//! let mut kqueue: Kqueue<64> = Kqueue::new()?;
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
//! assert_eq!(Kqueue::<64>::token(event), Token(7));
//! assert!(Kqueue::<64>::ready(event).is_readable());
//! kqueue.deregister(reader.raw())?;
//! # Ok(())
//! # }
//! # #[cfg(not(kqueue))]
//! # fn main() {}
//! ```
//!
//! # What has run, and where
//!
//! **Nothing in this crate has run on a kqueue kernel yet**: no FreeBSD, macOS, NetBSD,
//! OpenBSD or DragonFly machine is reachable from where it is developed. What is checked:
//!
//! - On the Linux host (`cargo test -p statio-kqueue`): the flag and readiness tables,
//!   and the registration logic (which changes are sent, how receipts are read and
//!   validated, duplicates, a full set, the undo of a half-failed call) against a
//!   scripted `kevent` that answers as FreeBSD's kern_event.c does, plus the quirks
//!   read in the kernels' sources: FreeBSD's `EPIPE` from a pipe's write filter and its
//!   dropped pipe-writer filters, a nested kqueue's `EINVAL`, NetBSD's scan order for
//!   `EV_CLEAR | EV_DISPATCH`, NetBSD 9's missing `EV_RECEIPT`. The fake is a reading of
//!   the kernels, not the kernels.
//! - In CI: the workspace, the conformance suite (tests/conformance) included,
//!   type-checks and passes clippy for FreeBSD, macOS and NetBSD; for OpenBSD and
//!   DragonFly (nightly, `-Zbuild-std`) it type-checks, and its libraries pass clippy.
//!
//! The syscalls themselves (`sys.rs`), the waker, the readiness of real sources, and
//! `Signals` and `Children` have only been read against the kernels, never executed
//! (their filters' changes, receipts and events are tested against the fake). On a BSD or macOS machine,
//! `cargo test --workspace` runs the conformance suite for this port.
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
//! | `PollOpt::oneshot()`, edge or not | `EV_DISPATCH` alone | disabled, not deleted, after one event, as `EPOLLONESHOT`; re-enabled by `reregister` |
//! | (always) | `EV_ADD \| EV_ENABLE \| EV_RECEIPT`; `udata` = the token | one receipt per change carries its own `errno` |
//!
//! Oneshot is `EV_DISPATCH` rather than `EV_ONESHOT`: `EV_ONESHOT` deletes the filter
//! after its event, so a fired oneshot registration could not be told from no
//! registration. Edge + oneshot is `EV_DISPATCH` without `EV_CLEAR`: NetBSD lets
//! `EV_CLEAR` win and would never disarm it (see translate.rs), and a oneshot filter
//! fires once whatever its mode. A registration for both directions disarms each filter
//! on its own (`EV_DISPATCH` acts per knote in every kqueue_scan): after a readable
//! event the write filter still reports, where `EPOLLONESHOT` disarms the descriptor,
//! so one arm may dispatch twice.
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
//! The same situations on epoll and here (interest both ways), for code that tests
//! `is_hup()` alone, as mio 0.2 code often does: test `is_read_closed()` as well.
//!
//! | situation | epoll | kqueue: read event / write event |
//! |---|---|---|
//! | peer `shutdown(SHUT_WR)` or TCP close | `READABLE \| READ_CLOSED` | `READABLE \| READ_CLOSED` / `WRITABLE` |
//! | socketpair peer closes | `HUP \| WRITE_CLOSED` as well | `READABLE \| READ_CLOSED` / `WRITABLE \| WRITE_CLOSED` |
//! | TCP reset | `READABLE \| READ_CLOSED \| WRITE_CLOSED \| HUP \| ERROR` | `READABLE \| READ_CLOSED \| ERROR` / `WRITABLE \| WRITE_CLOSED \| ERROR` |
//! | pipe: last writer closed | `HUP \| READ_CLOSED \| WRITE_CLOSED` | `READABLE \| READ_CLOSED` |
//! | pipe: reader closed | `WRITABLE \| ERROR` | `WRITABLE \| WRITE_CLOSED` once; FreeBSD then drops the filter |
//! | UDP error (ICMP) pending | `ERROR` | `READABLE` or `WRITABLE`, no `ERROR` |
//!
//! The last row cannot be aligned: FreeBSD's and macOS' filt_soread and filt_sowrite
//! report a pending `so_error` without `EV_EOF` and put it in `fflags` only with
//! `EV_EOF`, so the event does not say it. The read or write that follows returns it.
//!
//! Edge-triggered reads of a pipe may report again after a partial read with nothing
//! new written: FreeBSD's pipe_read wakes the reader's own knote (pipeselwakeup). Read
//! until `WouldBlock`, as with any edge-triggered source.
//!
//! # Signals and child processes
//!
//! Both are a kqueue of their own, registered in the loop's kqueue for reading (a
//! kqueue is readable while it holds events), so no core change is needed:
//!
//! | source | filters in its kqueue | while it lives |
//! |---|---|---|
//! | `Signals` | `EVFILT_SIGNAL` per signal (identifier: the number; implicitly `EV_CLEAR`) | its signals `SIG_IGN` (`SIGCHLD`: `SIG_DFL`), restored on drop: the filter records ignored signals, the default action would end the process |
//! | `Children<N>` | `EVFILT_PROC` with `NOTE_EXIT` per child (identifier: the pid; `udata`: its slot), and a waker | `SIGCHLD` untouched; each exit reaped with `waitpid(pid, WNOHANG)` |
//!
//! `ESRCH` when adding a child's filter (XNU does not attach to a zombie) and a
//! `NOTE_EXIT` before the child is waitable (FreeBSD posts it in exit1) are both
//! retried on the watcher's own wake-up. Semantics shared with the other ports:
//! `statio_unix::signal` and `statio_unix::process`.
//!
//! # Two events for one descriptor
//!
//! A descriptor registered for both directions and ready both ways yields two events in
//! one [`select`](statio_core::Selector::select), one per filter, and the event loop
//! dispatches its token twice in that turn (mio does the same on kqueue). They are not
//! merged: finding the partner of an event costs a search of the batch on every turn,
//! and the default [`Handler::ready`](statio_core::Handler::ready) calls `readable` for
//! one and `writable` for the other, as it would for one merged event. Size the loop's
//! `EVENTS` for it: such a source takes two places in the events buffer (what does not
//! fit waits for the next turn).
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
//! A call that fails after adding a filter makes a second `kevent`, deleting what it
//! added, so that no filter outlives a failed registration. A duplicate, a full set, or
//! an unknown descriptor for `reregister`/`deregister` is refused without a syscall.
//!
//! Each change carries `EV_RECEIPT`, so the kernel applies all of them and answers each
//! with its own `errno` (kqueue(2)). A kernel that does not return exactly one receipt
//! per change (no `EV_RECEIPT`: NetBSD before 10) is refused with `Unsupported` rather
//! than misread. `ENOENT` from a delete (a filter never added, or dropped by the kernel)
//! and `EPIPE` from adding a pipe's write filter (see `Kqueue`'s `register`) are not
//! errors; the first other error is returned. `reregister` deletes before adding
//! because re-adding an existing filter keeps its old `EV_CLEAR`/`EV_DISPATCH`.
//! Changes are not deferred to the next `select`: an error must reach the call that
//! caused it, and the event loop relies on a deregistration being complete when
//! `deregister` returns.
//!
//! # Kernel notes
//!
//! - kqueue cannot add a filter only if it is absent (adding one that exists modifies
//!   it), so `Kqueue` keeps its own set of registered descriptors, sized by its const
//!   generic, to refuse a descriptor registered twice with `AlreadyExists` as epoll does.
//! - Closing a descriptor removes its filters from every kqueue (kqueue(2)); a `dup`
//!   does not keep them alive. Deregister first all the same (see `Kqueue`).
//! - Timeouts are nanoseconds; the kernel sleeps to its own timer resolution.
//! - `EINTR` from `kevent` in `select` is returned, not retried.
//! - NetBSD needs version 10 or later (`EV_RECEIPT`, `EVFILT_USER`, `void *udata`).
//! - DragonFly's kernel was not read, only its headers through libc: a kernel that does
//!   not answer each change with a receipt is refused with `Unsupported`, never misread.
//! - A kqueue is not inherited by `fork(2)`: see `Kqueue`.
//! - On other operating systems this crate is empty, so a workspace build succeeds.
//!
//! Sources: kqueue(2) of [FreeBSD], [macOS], [NetBSD] and [OpenBSD]; the kernels' own
//! sources where the code cites a function (FreeBSD's main branch of 2025, XNU
//! 11417.101.15, NetBSD kern_event.c 1.140, OpenBSD kern_event.c 1.205).
//!
//! [FreeBSD]: https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2
//! [macOS]: https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/kqueue.2.html
//! [NetBSD]: https://man.netbsd.org/kqueue.2
//! [OpenBSD]: https://man.openbsd.org/kqueue.2
#![no_std]
#![warn(missing_docs)]

// `cfg(kqueue)`: FreeBSD, macOS, NetBSD, OpenBSD and DragonFly, named in build.rs.
#[cfg(kqueue)]
mod children;
#[cfg(kqueue)]
mod selector;
#[cfg(kqueue)]
mod signals;
#[cfg(kqueue)]
mod sys;
#[cfg(kqueue)]
mod waker;
#[cfg(kqueue)]
pub use children::Children;
#[cfg(kqueue)]
pub use selector::Kqueue;
#[cfg(kqueue)]
pub use signals::Signals;
#[cfg(kqueue)]
pub use sys::KEvent;
#[cfg(kqueue)]
pub use waker::KqueueWaker;

// Also built for the unit tests on any host: they need no kqueue-only libc item.
#[cfg(test)]
mod fake;
#[cfg(any(test, kqueue))]
mod registration;
#[cfg(any(test, kqueue))]
mod system;
#[cfg(any(test, kqueue))]
mod translate;

#[cfg(test)]
extern crate std;
