//! [`Epoll`]: statio's [`Selector`] over one epoll instance.

use core::mem::MaybeUninit;
use core::ptr;
use core::time::Duration;

use libc::{c_int, epoll_event};
use statio_core::{Events, Interest, OsError, PollOpt, Ready, Selector, Token};
use statio_unix::clock::MonotonicClock;
use statio_unix::error::check;
use statio_unix::{Fd, RawFd};

use crate::translate::{interest_flags, ready_from, timeout_ms};
use crate::waker::EventFdWaker;

/// An epoll instance: the Linux and Android [`Selector`].
///
/// Tokens travel in `epoll_event.u64`, whole: the generation the
/// [`EventLoop`](statio_core::EventLoop) keeps in a token's high half survives the
/// round trip on 32- and 64-bit targets alike. See the [crate docs](crate) for how
/// interest, options and readiness map to epoll's flags.
///
/// The instance is closed on drop; registrations are the kernel's, so dropping the
/// `Epoll` needs no deregistration first. A registration lasts until deregistered or
/// until every descriptor referring to its open file is closed ([epoll(7)], Q6): close
/// a source only after deregistering it, or a `dup` of it keeps reporting.
///
/// [epoll(7)]: https://man7.org/linux/man-pages/man7/epoll.7.html
#[derive(Debug)]
#[doc(alias = "epoll", alias = "epoll_ctl", alias = "epoll_wait")]
pub struct Epoll {
    epoll: Fd,
}

impl Epoll {
    /// Opens a new epoll instance, close-on-exec.
    ///
    /// # Errors
    /// What `epoll_create1(2)` refused: `OutOfMemory` for `EMFILE`/`ENFILE` (out of
    /// descriptors) and `ENOMEM`.
    #[doc(alias = "epoll_create1")]
    pub fn new() -> Result<Epoll, OsError> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new
        // descriptor that nothing else owns.
        let epoll = unsafe { Fd::from_syscall(libc::epoll_create1(libc::EPOLL_CLOEXEC)) }?;
        Ok(Epoll { epoll })
    }

    /// The epoll descriptor, still owned by `self`: to nest this instance in another
    /// selector (it reports readable while events are pending), or to inspect it.
    pub fn raw_fd(&self) -> RawFd {
        self.epoll.raw()
    }

    fn ctl(
        &self,
        op: c_int,
        fd: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        let mut event = epoll_event {
            events: interest_flags(interest, opt),
            // usize is at most 64 bits on every target epoll runs on: no truncation.
            u64: token.0 as u64,
        };
        // SAFETY: `event` is a valid epoll_event for the duration of the call; the
        // kernel only reads it for ADD and MOD.
        check(unsafe { libc::epoll_ctl(self.epoll.raw(), op, fd, &raw mut event) })?;
        Ok(())
    }
}

impl Selector for Epoll {
    type Handle = RawFd;
    type Event = epoll_event;
    type Clock = MonotonicClock;
    type Waker = EventFdWaker;
    const NATIVE_EDGES: bool = true;

    /// As [`Epoll::new`].
    fn new() -> Result<Epoll, OsError> {
        Epoll::new()
    }

    /// Adds `handle` to the interest list (`epoll_ctl(EPOLL_CTL_ADD)`).
    ///
    /// # Errors
    /// `AlreadyExists` (`EEXIST`) when `handle` is registered already;
    /// `PermissionDenied` (`EPERM`) when it cannot be polled, e.g. a regular file or a
    /// directory ([epoll_ctl(2)]); `InvalidInput` (`EBADF`) when it is not open;
    /// `OutOfMemory` for `ENOMEM` and `ENOSPC` (the `max_user_watches` limit).
    ///
    /// [epoll_ctl(2)]: https://man7.org/linux/man-pages/man2/epoll_ctl.2.html
    #[doc(alias = "epoll_ctl")]
    #[doc(alias = "EPOLL_CTL_ADD")]
    fn register(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        self.ctl(libc::EPOLL_CTL_ADD, handle, token, interest, opt)
    }

    /// Replaces the token, interest and options of `handle`
    /// (`epoll_ctl(EPOLL_CTL_MOD)`); re-arms a oneshot registration.
    ///
    /// The kernel re-checks readiness on modification, so a source that is ready now
    /// is reported by the next [`select`](Self::select), even edge-triggered.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` is not registered; `InvalidInput` (`EBADF`)
    /// when it is not open.
    #[doc(alias = "epoll_ctl")]
    #[doc(alias = "EPOLL_CTL_MOD")]
    fn reregister(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        self.ctl(libc::EPOLL_CTL_MOD, handle, token, interest, opt)
    }

    /// Removes `handle` from the interest list (`epoll_ctl(EPOLL_CTL_DEL)`).
    ///
    /// Events of `handle` already copied into an [`Events`] buffer stay there; the
    /// event loop's token generations make them stale.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` is not registered; `InvalidInput` (`EBADF`)
    /// when it is not open (a closed descriptor was removed by the kernel already).
    #[doc(alias = "epoll_ctl")]
    #[doc(alias = "EPOLL_CTL_DEL")]
    fn deregister(&mut self, handle: RawFd) -> Result<(), OsError> {
        // SAFETY: DEL ignores the event argument, and NULL has been accepted since
        // Linux 2.6.9 (epoll_ctl(2), BUGS); Rust's std requires 3.2 or later.
        let ret = unsafe {
            libc::epoll_ctl(
                self.epoll.raw(),
                libc::EPOLL_CTL_DEL,
                handle,
                ptr::null_mut(),
            )
        };
        check(ret)?;
        Ok(())
    }

    /// Waits for events with `epoll_wait(2)`, which writes them straight into `events`.
    ///
    /// `timeout` is rounded up to whole milliseconds (1 µs waits 1 ms, never 0) and
    /// capped at `i32::MAX` ms, about 24.8 days; `None` waits without limit. The kernel
    /// may sleep longer than asked, never shorter ([epoll_wait(2)]). When more than `N`
    /// sources are ready, successive calls round-robin through them ([epoll_wait(2)],
    /// NOTES), so none starves.
    ///
    /// `epoll_pwait2(2)` (nanosecond timeouts, Linux 5.11) is not used: where it is
    /// missing a seccomp filter may refuse it with `EPERM` rather than `ENOSYS`, so no
    /// fallback could be told apart from a real error, and rounding up to a millisecond
    /// already keeps every timer from firing early.
    ///
    /// `N` must be positive: `epoll_wait` refuses a `maxevents` of 0 (`EINVAL`), and a
    /// buffer that can hold no event would make every wait pointless. `N == 0` fails to
    /// build (a post-monomorphization error, reported by `cargo build`, not by
    /// `cargo check`).
    ///
    /// # Errors
    /// `Interrupted` (`EINTR`) when a signal handler ran before any event arrived. It is
    /// not retried, so the caller can react to the signal (the event loop calls
    /// [`Handler::interrupted`](statio_core::Handler::interrupted)); `epoll_wait` is
    /// never restarted by `SA_RESTART` either ([signal(7)]). `InvalidInput` (`EBADF`, `EINVAL`)
    /// should not happen with an open `Epoll`. `events` is empty on error.
    ///
    /// # Panics
    /// Never.
    ///
    /// [epoll_wait(2)]: https://man7.org/linux/man-pages/man2/epoll_wait.2.html
    /// [signal(7)]: https://man7.org/linux/man-pages/man7/signal.7.html
    #[doc(alias = "epoll_wait")]
    fn select<const N: usize>(
        &mut self,
        events: &mut Events<epoll_event, N>,
        timeout: Option<Duration>,
    ) -> Result<(), OsError> {
        const {
            assert!(
                N > 0,
                "an Events buffer for epoll must hold at least one event"
            );
        };
        let epoll = self.epoll.raw();
        let timeout = timeout_ms(timeout);
        let mut result = Ok(());
        let wait = |slots: &mut [MaybeUninit<epoll_event>]| {
            let max = c_int::try_from(slots.len()).unwrap_or(c_int::MAX);
            // SAFETY: `slots` is writable memory for `slots.len() >= max` events, and
            // MaybeUninit<epoll_event> has epoll_event's layout (packed on x86_64, as
            // the kernel's struct is).
            let ret = unsafe { libc::epoll_wait(epoll, slots.as_mut_ptr().cast(), max, timeout) };
            match check(ret) {
                // Non-negative and at most `max`, so it fits a usize.
                Ok(n) => n as usize,
                Err(err) => {
                    result = Err(err);
                    0
                }
            }
        };
        // SAFETY: `wait` returns the count epoll_wait reported, at most
        // `max <= slots.len() == N`, and the kernel has written each of those first
        // entries whole; on error it returns 0.
        unsafe { events.fill_with(wait) };
        result
    }

    /// An `eventfd`, registered readable and edge-triggered under [`Token::WAKER`].
    ///
    /// # Errors
    /// What `eventfd(2)` or `epoll_ctl(2)` refused (out of descriptors, ...).
    fn waker(&mut self) -> Result<EventFdWaker, OsError> {
        let waker = EventFdWaker::new()?;
        self.ctl(
            libc::EPOLL_CTL_ADD,
            waker.fd().raw(),
            Token::WAKER,
            Interest::READABLE,
            PollOpt::edge(),
        )?;
        Ok(waker)
    }

    /// `CLOCK_MONOTONIC`, the clock `epoll_wait`'s timeout is measured on.
    fn clock(&self) -> &MonotonicClock {
        &MonotonicClock
    }

    /// The token stored in `epoll_event.u64` at registration.
    #[inline]
    fn token(event: &epoll_event) -> Token {
        // Only ever holds a usize (see `ctl`): no truncation. The braces copy the field
        // out of the (on x86_64) packed struct rather than borrow it unaligned.
        Token({ event.u64 } as usize)
    }

    /// The readiness of `event`'s flags, as the crate's table says.
    #[inline]
    fn ready(event: &epoll_event) -> Ready {
        ready_from(event.events)
    }
}
