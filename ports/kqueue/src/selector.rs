//! [`Kqueue`]: statio's [`Selector`] over one kqueue.

use core::fmt;
use core::time::Duration;

use statio_core::{Events, Interest, OsError, PollOpt, Ready, Selector, Token};
use statio_unix::RawFd;
use statio_unix::clock::MonotonicClock;

use crate::registration::Registrations;
use crate::sys::{KEvent, KqueueFd};
use crate::translate::ready_from;
use crate::waker::KqueueWaker;

/// A kqueue watching up to `N` descriptors: the [`Selector`] of FreeBSD, macOS, NetBSD,
/// OpenBSD and DragonFly.
///
/// `N` sizes the set of registered descriptors that `Kqueue` keeps next to the kernel's
/// own filters, because kqueue cannot refuse a descriptor registered twice (see
/// [`register`](Selector::register)): a power of two from 2 to 65,536 (the set is
/// heapless' `IndexMap` of descriptor to token; another `N` fails to build), 20 bytes a
/// descriptor on 64-bit targets (16 on 32-bit), so 20 KiB at the default 1,024. A
/// registration beyond `N` is refused `OutOfMemory` (`ENOSPC`). Another capacity: `GenericEventLoop<H, Kqueue<N>, ...>` in the
/// facade, or `Kqueue::<N>::new()` here.
///
/// Tokens travel in `kevent.udata`, a pointer-sized field, whole: the generation the
/// [`EventLoop`](statio_core::EventLoop) keeps in a token's high half survives the
/// round trip. See the [crate docs](crate) for how interest, options and readiness map
/// to kqueue's filters and flags, and which changes share one `kevent` call.
///
/// A registration lasts until deregistered or until its descriptor is closed: closing
/// a descriptor removes its filters from every kqueue (kqueue(2) of FreeBSD, macOS,
/// NetBSD and OpenBSD), unlike epoll, where a `dup` keeps it alive. Deregister before
/// closing all the same (as the event loop asks): `Kqueue` still counts a closed
/// descriptor as registered, so its number, once reused, is refused `AlreadyExists`
/// until deregistered, or until the loop [`release`](statio_core::EventLoop::release)s
/// its token ([`forget`](Selector::forget)).
///
/// Dropping the `Kqueue` closes its descriptor; the kqueue itself, and with it the
/// filters of descriptors still open, lives on while a [`KqueueWaker`] (which owns a
/// `dup` of it, as mio's waker does) is alive: a kqueue is closed on its last
/// descriptor's close (kqueue_close, from FreeBSD's fdrop). A channel's waker lives
/// until the loop it was made for drops: the channel then detaches and drops it, once
/// no sender is calling it, and the kqueue closes.
///
/// After `fork(2)` the child has no kqueue (kqueue(2): "not inherited by a child
/// created with fork"; FreeBSD's kqueue is not `DFLAG_PASSABLE`, XNU's is
/// `FG_CONFINED`), and the `Kqueue`'s descriptor number may name another file there:
/// a child must neither use nor drop the loop (`mem::forget` it, or `exec`).
#[doc(alias = "kqueue", alias = "kevent")]
pub struct Kqueue<const N: usize = 1024> {
    kq: KqueueFd,
    registered: Registrations<N>,
    /// OpenBSD's waker pipe, once [`waker`](Selector::waker) made it: `select` drains
    /// its read end after a wake-up (see [`KqueueWaker`]).
    #[cfg(target_os = "openbsd")]
    wake_pipe: Option<crate::waker::WakePipe>,
}

impl<const N: usize> fmt::Debug for Kqueue<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kqueue")
            .field("kq", &self.kq.raw())
            .field("registered", &self.registered.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

impl<const N: usize> Kqueue<N> {
    /// Opens a new kqueue, close-on-exec.
    ///
    /// # Errors
    /// What `kqueue(2)` or `fcntl(2)` refused: `OutOfMemory` for `EMFILE`/`ENFILE` (out of
    /// descriptors) and `ENOMEM`.
    #[doc(alias = "kqueue")]
    pub fn new() -> Result<Kqueue<N>, OsError> {
        Ok(Kqueue {
            kq: KqueueFd::open()?,
            registered: Registrations::new(),
            #[cfg(target_os = "openbsd")]
            wake_pipe: None,
        })
    }

    /// The kqueue descriptor, still owned by `self`: to nest this kqueue in another
    /// selector (it reports readable while events are pending; for reading only), or to
    /// inspect it.
    pub fn raw_fd(&self) -> RawFd {
        self.kq.raw()
    }

    /// The kqueue itself, for the filters of the system sources (`Children`).
    pub(crate) fn kq(&self) -> &KqueueFd {
        &self.kq
    }
}

impl<const N: usize> Selector for Kqueue<N> {
    type Handle = RawFd;
    type Event = KEvent;
    type Clock = MonotonicClock;
    type Waker = KqueueWaker;
    const NATIVE_EDGES: bool = true;

    /// As [`Kqueue::new`].
    fn new() -> Result<Kqueue<N>, OsError> {
        Kqueue::new()
    }

    /// Adds a filter per wanted direction (`EVFILT_READ`, `EVFILT_WRITE`), both in one
    /// `kevent` call with `EV_RECEIPT`, and records `handle` as registered.
    ///
    /// A pipe whose reader is gone is registered although FreeBSD refuses its write
    /// filter (`EPIPE`, as epoll accepts the pipe; mio and polling do the same): no
    /// `WRITABLE` event comes for it there, and the next write fails with `BrokenPipe`.
    /// Current macOS adds the filter and reports `WRITABLE | WRITE_CLOSED`.
    ///
    /// # Errors
    /// - `AlreadyExists` (`EEXIST`) when `handle` is registered already, under any token:
    ///   kqueue would silently modify the first registration, so `Kqueue` checks its own
    ///   set first.
    /// - `OutOfMemory` (`ENOSPC`) when `N` descriptors are registered.
    /// - `InvalidInput` (`EBADF`) when `handle` is not open; `InvalidInput` (`EINVAL`)
    ///   when it cannot be polled (a kqueue for writing); `OutOfMemory` (`ENOMEM`) when
    ///   the kernel is out of memory for filters.
    /// - `Unsupported` (`ENOSYS`) when the kernel does not answer each change with a
    ///   receipt (NetBSD before 10).
    ///
    /// After an error nothing stays registered: a filter added before the failing one
    /// is deleted again.
    #[doc(alias = "kevent")]
    #[doc(alias = "EV_ADD")]
    fn register(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        self.registered
            .register(&self.kq, handle, token, interest, opt)
    }

    /// Replaces the token, interest and options of `handle`; re-arms a oneshot
    /// registration. One `kevent` call deletes both filters and adds the wanted ones,
    /// so the new options apply and an unwanted direction stops reporting. A filter
    /// the kernel dropped on its own (FreeBSD: a pipe writer's, once the reader closed)
    /// is simply added again.
    ///
    /// The re-added filters check readiness at once, so a source that is ready now is
    /// reported by the next [`select`](Self::select), even edge-triggered. Events of
    /// the old registration already in an [`Events`] buffer stay there; the event loop's
    /// token generations make them stale.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` is not registered; `InvalidInput` (`EBADF`)
    /// when it is not open; as [`register`](Self::register) for the adds. After an
    /// error `handle` has no filter but stays registered: reregister or deregister it.
    #[doc(alias = "kevent")]
    fn reregister(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        self.registered
            .reregister(&self.kq, handle, token, interest, opt)
    }

    /// Deletes both filters of `handle` in one `kevent` call and forgets it. A filter
    /// already gone (`ENOENT`: never added, or dropped by the kernel) is not an error.
    ///
    /// Events of `handle` already copied into an [`Events`] buffer stay there; the
    /// event loop's token generations make them stale.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` is not registered; `InvalidInput` (`EBADF`)
    /// when it was closed first, on FreeBSD, NetBSD and OpenBSD (macOS says nothing).
    /// `handle` is forgotten all the same: its filters went with its close.
    #[doc(alias = "kevent")]
    #[doc(alias = "EV_DELETE")]
    fn deregister(&mut self, handle: RawFd) -> Result<(), OsError> {
        self.registered.deregister(&self.kq, handle)
    }

    /// Forgets `handle` if it is still registered under `token` (the loop released the
    /// token of a source dropped while registered; its close took the filters): no
    /// syscall, and the number registers afresh. Under another token it stays.
    fn forget(&mut self, handle: RawFd, token: Token) {
        self.registered.forget(handle, token);
    }

    /// Waits for events with `kevent(kq, NULL, 0, events, E, timeout)`, which writes
    /// them straight into `events`.
    ///
    /// `timeout` is passed in nanoseconds, seconds capped at `i32::MAX` (68 years);
    /// `None` passes NULL and waits without limit. The kernel sleeps to its own timer
    /// resolution (a tick on NetBSD and OpenBSD). When more than `E` events are
    /// pending, the rest stay queued for the next call.
    ///
    /// A descriptor registered for both directions may yield two events in one call,
    /// one per filter: the loop then dispatches its token twice in one turn, as mio
    /// does on kqueue. See the [crate docs](crate).
    ///
    /// `E` must be positive: with no room for events, `kevent` returns at once and the
    /// wait would spin. `E == 0` fails to build (a post-monomorphization error, reported
    /// by `cargo build`, not by `cargo check`).
    ///
    /// # Errors
    /// `Interrupted` (`EINTR`) when a signal handler ran before any event arrived. It is
    /// not retried, so the caller can react to the signal (the event loop calls
    /// [`Handler::interrupted`](statio_core::Handler::interrupted)). `InvalidInput`
    /// (`EBADF`, `EINVAL`) should not happen with an open `Kqueue`. `events` is empty
    /// on error.
    ///
    /// # Panics
    /// Never.
    #[doc(alias = "kevent")]
    fn select<const E: usize>(
        &mut self,
        events: &mut Events<KEvent, E>,
        timeout: Option<Duration>,
    ) -> Result<(), OsError> {
        const {
            assert!(
                E > 0,
                "an Events buffer for kqueue must hold at least one event"
            );
        };
        let result = self.kq.wait(events, timeout);
        #[cfg(target_os = "openbsd")]
        if let Some(pipe) = &self.wake_pipe
            && events
                .as_slice()
                .iter()
                .any(|e| Self::token(e) == Token::WAKER)
        {
            pipe.drain();
        }
        result
    }

    /// A waker under [`Token::WAKER`]: an `EVFILT_USER` event triggered with
    /// `NOTE_TRIGGER`, or on OpenBSD a pipe (see [`KqueueWaker`]).
    ///
    /// # Errors
    /// What `fcntl(2)` (duplicating the kqueue), `pipe2(2)` or `kevent(2)` refused (out
    /// of descriptors, ...).
    fn waker(&mut self) -> Result<KqueueWaker, OsError> {
        #[cfg(not(target_os = "openbsd"))]
        {
            KqueueWaker::new(&self.kq)
        }
        // One pipe serves every waker of this kqueue: made by the first call.
        #[cfg(target_os = "openbsd")]
        {
            let pipe = match self.wake_pipe.take() {
                Some(pipe) => pipe,
                None => crate::waker::WakePipe::new(&self.kq)?,
            };
            let waker = pipe.waker();
            self.wake_pipe = Some(pipe);
            waker
        }
    }

    /// `CLOCK_MONOTONIC`, the clock `kevent`'s relative timeout is measured on.
    fn clock(&self) -> &MonotonicClock {
        &MonotonicClock
    }

    /// The token stored in `kevent.udata` at registration.
    fn token(event: &KEvent) -> Token {
        event.token()
    }

    /// The readiness of one filter's event, as the crate's table says.
    #[allow(
        clippy::unnecessary_cast,
        reason = "the field types differ per OS: a cast that widens on one is the identity on another"
    )]
    fn ready(event: &KEvent) -> Ready {
        let event = &event.0;
        // Widening to translate.rs's integer types (see there).
        ready_from(event.filter as i32, event.flags as u32, event.fflags as u32)
    }
}
