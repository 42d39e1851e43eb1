//! [`Kqueue`]: statio's [`Selector`] over one kqueue.

use core::mem::{self, MaybeUninit};
use core::ptr;
use core::time::Duration;

use libc::{c_int, kevent, timespec};
use statio_core::{Events, Interest, OsError, PollOpt, Ready, Selector, Token};
use statio_unix::clock::MonotonicClock;
use statio_unix::error::{check, check_retry, from_errno};
use statio_unix::{Fd, RawFd};

use crate::translate::{
    Changes, MAX_CHANGES, Outcome, deregister_changes, outcome, ready_from, register_changes,
    reregister_changes, timeout_timespec,
};
use crate::waker::KqueueWaker;

/// A kqueue: the [`Selector`] of FreeBSD, macOS, NetBSD, OpenBSD and DragonFly.
///
/// Tokens travel in `kevent.udata`, a pointer-sized field, whole: the generation the
/// [`EventLoop`](statio_core::EventLoop) keeps in a token's high half survives the
/// round trip. See the [crate docs](crate) for how interest, options and readiness map
/// to kqueue's filters and flags, and which changes share one `kevent` call.
///
/// The kqueue is closed on drop, which removes every registration. A registration
/// lasts until deregistered or until its descriptor is closed: closing a descriptor
/// removes its filters from every kqueue (kqueue(2) of FreeBSD, macOS, NetBSD and
/// OpenBSD), unlike epoll, where a `dup` keeps it alive.
#[derive(Debug)]
#[doc(alias = "kqueue", alias = "kevent")]
pub struct Kqueue {
    kq: Fd,
    /// OpenBSD's waker pipe, once [`waker`](Selector::waker) made it: `select` drains
    /// its read end after a wake-up (see [`KqueueWaker`]).
    #[cfg(target_os = "openbsd")]
    wake_pipe: Option<crate::waker::WakePipe>,
}

/// One event as `kevent(2)` writes it: a `kevent` whose `udata` pointer only ever
/// carries a token (an integer, never dereferenced), so, unlike libc's `kevent`, it may
/// cross threads, and a loop over kqueue can live in a `static`.
#[derive(Copy, Clone, Debug)]
#[repr(transparent)]
pub struct KEvent(pub kevent);

// SAFETY: the only non-`Send` field is `udata`, which statio fills with a token's
// integer value and never dereferences; the rest is integers.
unsafe impl Send for KEvent {}
// SAFETY: as above: shared access reads integers only.
unsafe impl Sync for KEvent {}

/// A `kevent` for `ident`, all other fields zero or as given.
pub(crate) fn new_kevent(
    ident: usize,
    filter: i32,
    flags: u32,
    fflags: u32,
    token: Token,
) -> kevent {
    // SAFETY: `kevent` holds only integers and a raw pointer (plus FreeBSD's `ext`
    // integers), for which all-zero bytes are valid values.
    let mut event: kevent = unsafe { mem::zeroed() };
    event.ident = ident;
    // Narrowing back to the system's field types: the values are libc's own constants
    // (see translate.rs), so nothing is lost.
    event.filter = filter as _;
    event.flags = flags as _;
    event.fflags = fflags as _;
    // The token as an address without provenance: it is never dereferenced, only read
    // back with `addr()`. `udata` is `void *` on every target (NetBSD's was `intptr_t`
    // before NetBSD 10; libc 0.2.191 declares `*mut c_void` for all five).
    event.udata = ptr::without_provenance_mut(token.0);
    event
}

impl Kqueue {
    /// Opens a new kqueue, close-on-exec.
    ///
    /// # Errors
    /// What `kqueue(2)` or `fcntl(2)` refused: `OutOfMemory` for `EMFILE`/`ENFILE` (out of
    /// descriptors) and `ENOMEM`.
    #[doc(alias = "kqueue")]
    pub fn new() -> Result<Kqueue, OsError> {
        // SAFETY: kqueue takes no arguments; a non-negative result is a new descriptor
        // that nothing else owns.
        let kq = unsafe { Fd::from_syscall(libc::kqueue()) }?;
        // kqueue1(O_CLOEXEC) is in libc for NetBSD only, so one path for all: set the
        // flag right after. A kqueue is not inherited across fork(2) anyway (kqueue(2) of
        // FreeBSD, macOS and OpenBSD), so the window before it matters little.
        // SAFETY: F_SETFD takes an int argument and touches no memory.
        check(unsafe { libc::fcntl(kq.raw(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
        Ok(Kqueue {
            kq,
            #[cfg(target_os = "openbsd")]
            wake_pipe: None,
        })
    }

    /// The kqueue descriptor, still owned by `self`: to nest this kqueue in another
    /// selector (it reports readable while events are pending), or to inspect it.
    pub fn raw_fd(&self) -> RawFd {
        self.kq.raw()
    }

    /// Submits `changes` for `fd` in one `kevent` call and reads their receipts.
    ///
    /// The receipt list holds exactly one entry per change and the timeout is zero, so
    /// the call returns once the changes are applied and can never consume a pending
    /// event (kqueue(2): with `EV_RECEIPT` each change yields an `EV_ERROR` entry).
    #[allow(
        clippy::unnecessary_cast,
        reason = "the field types differ per OS: a cast that widens on one is the identity on another"
    )]
    fn submit(&self, fd: RawFd, token: Token, changes: &Changes) -> Result<Outcome, OsError> {
        // A negative descriptor cannot be registered; kevent would say EBADF for it too.
        let ident = usize::try_from(fd).map_err(|_| from_errno(libc::EBADF))?;
        let changes = changes.as_slice();
        let mut list = [new_kevent(0, 0, 0, 0, Token(0)); MAX_CHANGES];
        for (slot, change) in list.iter_mut().zip(changes) {
            *slot = new_kevent(ident, change.filter, change.flags, 0, token);
        }
        let mut receipts = list;
        let zero = timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // Retried on EINTR: every change is idempotent (a repeated delete answers ENOENT,
        // which is read as "already gone", a repeated add re-adds).
        let got = check_retry(|| {
            // SAFETY: `list` holds `changes.len() <= MAX_CHANGES` initialised entries to
            // read, `receipts` room for as many to write; `zero` is a valid timespec.
            // Both lengths are at most 4, so the `as _` (to int or size_t) is lossless.
            unsafe {
                libc::kevent(
                    self.kq.raw(),
                    list.as_ptr(),
                    changes.len() as _,
                    receipts.as_mut_ptr(),
                    changes.len() as _,
                    &raw const zero,
                )
            }
        })?;
        // Non-negative and at most `changes.len()`.
        let receipts = &receipts[..got as usize];
        // `data` is intptr_t or int64_t: widening into i64.
        Ok(outcome(
            changes,
            receipts.iter().map(|r| (r.flags as u32, r.data as i64)),
        ))
    }
}

impl Selector for Kqueue {
    type Handle = RawFd;
    type Event = KEvent;
    type Clock = MonotonicClock;
    type Waker = KqueueWaker;

    /// As [`Kqueue::new`].
    fn new() -> Result<Kqueue, OsError> {
        Kqueue::new()
    }

    /// Adds a filter per wanted direction (`EVFILT_READ`, `EVFILT_WRITE`), both in one
    /// `kevent` call with `EV_RECEIPT`.
    ///
    /// kqueue cannot add "only if absent": adding a filter that exists modifies it.
    /// Registering a descriptor that is registered already therefore succeeds and
    /// replaces its token and options for the directions asked, where epoll says
    /// `AlreadyExists`; the [`EventLoop`](statio_core::EventLoop) refuses a second
    /// registration under one token itself, not one descriptor under two tokens.
    ///
    /// # Errors
    /// The first change's error from its receipt: `InvalidInput` (`EBADF`) when `handle`
    /// is not open; `InvalidInput` (`EINVAL`) when it cannot be polled;
    /// `OutOfMemory` (`ENOMEM`) when the kernel is out of memory for filters. A filter added
    /// before the failing one stays added: deregister to clean up.
    #[doc(alias = "kevent")]
    #[doc(alias = "EV_ADD")]
    fn register(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        match self.submit(handle, token, &register_changes(interest, opt))? {
            Outcome::Failed(errno) => Err(from_errno(errno)),
            Outcome::Done | Outcome::NotRegistered => Ok(()),
        }
    }

    /// Replaces the token, interest and options of `handle`; re-arms a oneshot
    /// registration. One `kevent` call deletes both filters and adds the wanted ones,
    /// so the new options apply and an unwanted direction stops reporting.
    ///
    /// The re-added filters check readiness at once, so a source that is ready now is
    /// reported by the next [`select`](Self::select), even edge-triggered. Events of
    /// the old registration already in an [`Events`] buffer stay there; the event loop's
    /// token generations make them stale.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` had no filter in this kqueue (the filters
    /// just added are deleted again); `InvalidInput` (`EBADF`) when it is not open;
    /// what else the first failing change's receipt says. After an error other than
    /// `NotFound` the registration may be gone: register it again.
    #[doc(alias = "kevent")]
    fn reregister(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        match self.submit(handle, token, &reregister_changes(interest, opt))? {
            Outcome::Done => Ok(()),
            Outcome::NotRegistered => {
                // Undo the adds, so that reregister never registers: the error is
                // what the caller must hear, whatever this cleanup meets.
                let _ = self.submit(handle, token, &deregister_changes());
                Err(from_errno(libc::ENOENT))
            }
            Outcome::Failed(errno) => Err(from_errno(errno)),
        }
    }

    /// Deletes both filters of `handle` in one `kevent` call; the one never added
    /// answers `ENOENT`, which is ignored.
    ///
    /// Events of `handle` already copied into an [`Events`] buffer stay there; the
    /// event loop's token generations make them stale.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` has no filter in this kqueue;
    /// `InvalidInput` (`EBADF`) when it is not open (closing it removed its filters
    /// already).
    #[doc(alias = "kevent")]
    #[doc(alias = "EV_DELETE")]
    fn deregister(&mut self, handle: RawFd) -> Result<(), OsError> {
        match self.submit(handle, Token(0), &deregister_changes())? {
            Outcome::Done => Ok(()),
            Outcome::NotRegistered => Err(from_errno(libc::ENOENT)),
            Outcome::Failed(errno) => Err(from_errno(errno)),
        }
    }

    /// Waits for events with `kevent(kq, NULL, 0, events, N, timeout)`, which writes
    /// them straight into `events`.
    ///
    /// `timeout` is passed in nanoseconds, seconds capped at `i32::MAX` (68 years);
    /// `None` passes NULL and waits without limit. The kernel sleeps to its own timer
    /// resolution (a tick on NetBSD and OpenBSD). When more than `N` events are
    /// pending, the rest stay queued for the next call.
    ///
    /// A descriptor registered for both directions may yield two events in one call,
    /// one per filter: the loop then dispatches its token twice in one turn, as mio
    /// does on kqueue. See the [crate docs](crate).
    ///
    /// `N` must be positive: with no room for events, `kevent` returns at once and the
    /// wait would spin. `N == 0` fails to build (a post-monomorphization error, reported
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
    fn select<const N: usize>(
        &mut self,
        events: &mut Events<KEvent, N>,
        timeout: Option<Duration>,
    ) -> Result<(), OsError> {
        const {
            assert!(
                N > 0,
                "an Events buffer for kqueue must hold at least one event"
            );
        };
        let kq = self.kq.raw();
        let timeout = timeout_timespec(timeout).map(|(secs, nanos)| timespec {
            tv_sec: secs.into(),
            tv_nsec: nanos.into(),
        });
        let timeout_ptr = timeout.as_ref().map_or(ptr::null(), ptr::from_ref);
        let mut result = Ok(());
        let wait = |slots: &mut [MaybeUninit<KEvent>]| {
            let max = c_int::try_from(slots.len()).unwrap_or(c_int::MAX);
            // SAFETY: no changes are read; `slots` is writable memory for
            // `slots.len() >= max` events, and MaybeUninit<KEvent> has kevent's layout
            // (`KEvent` is `repr(transparent)`);
            // `timeout_ptr` is NULL or points to `timeout`, alive for the call. `max` is
            // positive, so the `as _` (to int or size_t) is lossless.
            let ret = unsafe {
                libc::kevent(
                    kq,
                    ptr::null(),
                    0,
                    slots.as_mut_ptr().cast(),
                    max as _,
                    timeout_ptr,
                )
            };
            match check(ret) {
                // Non-negative and at most `max`, so it fits a usize.
                Ok(n) => n as usize,
                Err(err) => {
                    result = Err(err);
                    0
                }
            }
        };
        // SAFETY: `wait` returns the count kevent reported, at most
        // `max <= slots.len() == N`, and the kernel has written each of those first
        // entries whole; on error it returns 0.
        unsafe { events.fill_with(wait) };
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
        Token(event.0.udata.addr())
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
