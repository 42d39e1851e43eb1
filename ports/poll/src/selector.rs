//! [`Poll`]: statio's [`Selector`] over `poll(2)`, with fixed arrays.

use core::time::Duration;

use libc::{c_short, pollfd};
use statio_core::{Event, Events, Interest, OsError, PollOpt, Ready, Selector, Token};
use statio_unix::clock::MonotonicClock;
use statio_unix::error::{check, from_errno};
use statio_unix::{Fd, RawFd};

use crate::index::FdIndex;
use crate::translate::{ALWAYS, interest_events, ready_from, timeout_ms};
use crate::waker::{self, PipeWaker};

/// One registration, at the same position as its `pollfd`.
#[derive(Copy, Clone, Debug)]
struct Entry {
    fd: RawFd,
    token: Token,
    /// `pollfd.events` for the interest (`POLLIN | POLLRDHUP`, `POLLOUT`).
    interest: c_short,
    edge: bool,
    oneshot: bool,
    /// Oneshot: an event was delivered; silent until `reregister`.
    fired: bool,
    /// Edge: the conditions already reported and not seen clear since. They are left
    /// out of the blocking `poll` (which would otherwise return at once while they
    /// last) and re-armed when a refresh `poll` sees them clear.
    stale: c_short,
}

const NO_FD: pollfd = pollfd {
    fd: -1,
    events: 0,
    revents: 0,
};

const NO_ENTRY: Entry = Entry {
    fd: -1,
    token: Token(0),
    interest: 0,
    edge: false,
    oneshot: false,
    fired: false,
    stale: 0,
};

impl Entry {
    /// The `pollfd` the blocking `poll` gets for this entry.
    ///
    /// A negative `fd` is skipped by poll(2) ("the events field is ignored and the
    /// revents field returns zero"), the only way to silence `POLLHUP`/`POLLERR`,
    /// which poll reports unasked. `!fd` keeps the number recoverable (0 becomes -1).
    fn blocking_view(&self) -> pollfd {
        let silent = self.fired || self.stale & (libc::POLLHUP | libc::POLLNVAL) != 0;
        pollfd {
            fd: if silent { !self.fd } else { self.fd },
            events: self.interest & !self.stale,
            revents: 0,
        }
    }

    /// The `pollfd` a refresh `poll` gets: every condition of the interest, so that
    /// conditions no longer present are seen clear.
    fn full_view(&self) -> pollfd {
        pollfd {
            fd: if self.fired { !self.fd } else { self.fd },
            events: self.interest,
            revents: 0,
        }
    }
}

/// A `poll(2)` set of up to `N` descriptors: the [`Selector`] for any POSIX system.
///
/// The capacity is a const generic because [`Selector::new`] takes no arguments and
/// nothing is allocated: `Poll` holds a `[pollfd; N]` (passed to `poll` as it is), an
/// entry per descriptor (token, interest, mode), and an index from descriptor number to
/// position, about 48 bytes per descriptor in all (48 KiB at the default 1,024). The
/// [waker](Selector::waker) takes one of the `N` places.
///
/// Costs: `register` appends and `deregister` swap-removes, both O(1) through the index
/// (see the [crate docs](crate#the-descriptor-index)); `select` is one `poll` call,
/// O(N) in the kernel, plus one pass over the ready part of the array. Edge-triggered
/// registrations whose conditions persist add a second, non-blocking `poll` per call
/// (see [Edge-triggered](crate#edge-triggered-emulated)).
///
/// Registrations are this value's, not the kernel's: dropping the `Poll` forgets them
/// (and closes the waker's read end); the sources stay open.
#[doc(alias = "poll")]
pub struct Poll<const N: usize = 1024> {
    fds: [pollfd; N],
    entries: [Entry; N],
    index: FdIndex<N>,
    len: usize,
    /// How many entries have `stale` conditions (edge-triggered, reported, persisting).
    stale_entries: usize,
    /// Where the next scan of the array starts: after the entry that did not fit the
    /// events buffer last time, so no source starves.
    cursor: usize,
    /// The read end of the waker's pipe, registered under `Token::WAKER`.
    waker: Option<Fd>,
}

impl<const N: usize> core::fmt::Debug for Poll<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Poll")
            .field("capacity", &N)
            .field("len", &self.len)
            .field("stale_entries", &self.stale_entries)
            .field("waker", &self.waker)
            .finish_non_exhaustive()
    }
}

impl<const N: usize> Poll<N> {
    const CAPACITY: usize = {
        assert!(N > 0, "a Poll must hold at least one descriptor");
        // poll(2) takes an int count on some systems and nfds_t elsewhere.
        assert!(
            N <= i32::MAX as usize,
            "poll(2) cannot take more descriptors"
        );
        N
    };

    /// An empty poll set. Opens nothing: it cannot fail, and costs no syscall.
    pub const fn new() -> Poll<N> {
        let _ = Self::CAPACITY;
        Poll {
            fds: [NO_FD; N],
            entries: [NO_ENTRY; N],
            index: FdIndex::new(),
            len: 0,
            stale_entries: 0,
            cursor: 0,
            waker: None,
        }
    }

    /// How many descriptors are registered, the waker's included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no descriptor is registered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most descriptors the set holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    fn entry(fd: RawFd, token: Token, interest: Interest, opt: PollOpt) -> Entry {
        Entry {
            fd,
            token,
            interest: interest_events(interest),
            edge: opt.is_edge(),
            oneshot: opt.is_oneshot(),
            fired: false,
            stale: 0,
        }
    }

    /// Replaces entry `at` and its `pollfd`, keeping the stale count.
    fn store(&mut self, at: usize, entry: Entry) {
        let was = self.entries[at].stale != 0;
        self.stale_entries = self.stale_entries + usize::from(entry.stale != 0) - usize::from(was);
        self.entries[at] = entry;
        self.fds[at] = entry.blocking_view();
    }

    /// One `poll(2)` over the registered part of the array.
    fn poll(&mut self, timeout: libc::c_int) -> Result<usize, OsError> {
        // SAFETY: `fds[..len]` is initialised, writable memory for `len` pollfds, and
        // `len <= N <= i32::MAX` fits nfds_t.
        let ret = unsafe { libc::poll(self.fds.as_mut_ptr(), self.len as libc::nfds_t, timeout) };
        // Non-negative and at most `len`.
        check(ret).map(|n| n as usize)
    }

    /// Reports what the last `poll` found, starting at the cursor, into `events`.
    ///
    /// `refreshed`: the last `poll` saw every entry's full interest, so a stale
    /// condition now clear is re-armed. Otherwise only entries with `revents` matter,
    /// and the scan stops after the `ready` of them that `poll` counted.
    fn collect<const E: usize>(
        &mut self,
        events: &mut Events<Event, E>,
        refreshed: bool,
        ready: usize,
    ) {
        let len = self.len;
        let start = if self.cursor < len { self.cursor } else { 0 };
        let mut seen = 0;
        let mut resume = None;
        for step in 0..len {
            if !refreshed && seen == ready {
                break;
            }
            let at = if start + step < len {
                start + step
            } else {
                start + step - len
            };
            let revents = self.fds[at].revents;
            if revents == 0 && !refreshed {
                continue;
            }
            seen += usize::from(revents != 0);
            let mut entry = self.entries[at];
            if refreshed {
                // Conditions seen clear are re-armed: the next change is an edge.
                entry.stale &= revents;
            }
            let new = if entry.edge {
                revents & !entry.stale
            } else {
                revents
            };
            if new != 0 && !entry.fired {
                if events.len() == E {
                    // No room: left as it is, reported first by the next call.
                    resume.get_or_insert(at);
                } else {
                    if self.waker.as_ref().is_some_and(|w| w.raw() == entry.fd) {
                        waker::drain(entry.fd);
                    }
                    let ready = ready_from(revents);
                    // Cannot fail: checked for room above.
                    let _ = events.push(Event {
                        token: entry.token,
                        ready,
                    });
                    if entry.edge {
                        entry.stale |= revents & (entry.interest | ALWAYS);
                    }
                    entry.fired = entry.oneshot;
                }
            }
            self.store(at, entry);
        }
        self.cursor = resume.unwrap_or(0);
    }

    fn register_entry(&mut self, entry: Entry) -> Result<(), OsError> {
        if entry.fd < 0 {
            return Err(from_errno(libc::EBADF));
        }
        if self.index.get(entry.fd).is_some() {
            return Err(from_errno(libc::EEXIST));
        }
        if self.len == N {
            return Err(from_errno(libc::ENOSPC));
        }
        // poll(2) would report a closed descriptor as POLLNVAL on every call; refuse it
        // now, as epoll_ctl does (EBADF), at the cost of one cheap syscall.
        // SAFETY: F_GETFD takes no pointers and only reads the descriptor's flags.
        check(unsafe { libc::fcntl(entry.fd, libc::F_GETFD) })?;
        let at = self.len;
        self.index.insert(entry.fd, at);
        self.len += 1;
        self.entries[at] = NO_ENTRY;
        self.store(at, entry);
        Ok(())
    }
}

impl<const N: usize> Default for Poll<N> {
    fn default() -> Self {
        Poll::new()
    }
}

impl<const N: usize> Selector for Poll<N> {
    type Handle = RawFd;
    type Event = Event;
    type Clock = MonotonicClock;
    type Waker = PipeWaker;
    const NATIVE_EDGES: bool = false;

    /// As [`Poll::new`]: never fails.
    fn new() -> Result<Poll<N>, OsError> {
        Ok(Poll::new())
    }

    /// Appends `handle` to the set: O(1).
    ///
    /// # Errors
    /// `AlreadyExists` (`EEXIST`) when `handle` is registered already; `OutOfMemory`
    /// (`ENOSPC`) when `N` descriptors are; `InvalidInput` (`EBADF`) when `handle` is
    /// negative or not open.
    fn register(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        self.register_entry(Self::entry(handle, token, interest, opt))
    }

    /// Replaces the token, interest and options of `handle`: O(1). Re-arms a oneshot
    /// registration, and forgets what an edge-triggered one reported, so a condition
    /// present now is reported by the next [`select`](Self::select), as
    /// `EPOLL_CTL_MOD` does. An edge-triggered user who must not miss an arrival
    /// racing its drain reregisters after the drain (see the crate docs).
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` is not registered.
    fn reregister(
        &mut self,
        handle: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        let at = self
            .index
            .get(handle)
            .ok_or_else(|| from_errno(libc::ENOENT))?;
        self.store(at, Self::entry(handle, token, interest, opt));
        Ok(())
    }

    /// Removes `handle` from the set: O(1), by moving the last entry into its place.
    ///
    /// An entry moved this way keeps its `revents` of the last `poll` but is not
    /// reported from them: the next `select` polls again first.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `handle` is not registered.
    fn deregister(&mut self, handle: RawFd) -> Result<(), OsError> {
        let at = self
            .index
            .remove(handle)
            .ok_or_else(|| from_errno(libc::ENOENT))?;
        self.stale_entries -= usize::from(self.entries[at].stale != 0);
        let last = self.len - 1;
        if at != last {
            self.entries[at] = self.entries[last];
            self.fds[at] = self.fds[last];
            self.index.set(self.entries[at].fd, at);
        }
        self.entries[last] = NO_ENTRY;
        self.fds[last] = NO_FD;
        self.len = last;
        Ok(())
    }

    /// Drops the entry of `handle` if it still carries `token` (the loop released the
    /// token, its source gone): O(1), no syscall. An entry of the same number under
    /// another token belongs to a new file and stays.
    fn forget(&mut self, handle: RawFd, token: Token) {
        let ours = self
            .index
            .get(handle)
            .is_some_and(|at| self.entries[at].token == token);
        if ours {
            // Cannot fail: the index holds `handle`.
            let _ = self.deregister(handle);
        }
    }

    /// Waits with `poll(2)` and reports up to `E` ready registrations.
    ///
    /// `timeout` is rounded up to whole milliseconds (1 µs waits 1 ms, never 0) and
    /// capped at `i32::MAX` ms; `None` waits without limit. When more registrations are
    /// ready than `E`, the next call starts its scan at the first one left over, so
    /// successive calls go round the set and none starves.
    ///
    /// While an edge-triggered registration has a reported condition that persists, a
    /// non-blocking `poll` with the full interest comes first, to see which of those
    /// conditions cleared (re-arming them); if it finds nothing to report, the blocking
    /// `poll` leaves the persisting conditions out.
    ///
    /// `E` must be positive (a post-monomorphization error otherwise).
    ///
    /// # Errors
    /// `Interrupted` (`EINTR`) when a signal handler ran before any event arrived: not
    /// retried, so the caller can react (`poll` is never restarted after a signal
    /// handler, whatever `SA_RESTART` says, signal(7)). `OutOfMemory` (`ENOMEM`).
    /// `events` is empty on error.
    ///
    /// # Panics
    /// Never.
    #[doc(alias = "poll")]
    fn select<const E: usize>(
        &mut self,
        events: &mut Events<Event, E>,
        timeout: Option<Duration>,
    ) -> Result<(), OsError> {
        const {
            assert!(E > 0, "an Events buffer must hold at least one event");
        };
        events.clear();
        if self.stale_entries > 0 {
            for at in 0..self.len {
                if self.entries[at].stale != 0 {
                    self.fds[at] = self.entries[at].full_view();
                }
            }
            let ready = match self.poll(0) {
                Ok(ready) => ready,
                Err(err) => {
                    // revents are unspecified after a failed poll: keep every state,
                    // and leave the array as the blocking poll expects it.
                    for at in 0..self.len {
                        self.fds[at] = self.entries[at].blocking_view();
                    }
                    return Err(err);
                }
            };
            self.collect(events, true, ready);
            if !events.is_empty() {
                return Ok(());
            }
        }
        let ready = self.poll(timeout_ms(timeout))?;
        self.collect(events, false, ready);
        Ok(())
    }

    /// A self-pipe: its read end joins the set under [`Token::WAKER`], level-triggered,
    /// and is drained whenever it is reported.
    ///
    /// # Errors
    /// `AlreadyExists` (`EEXIST`) when this `Poll` has a waker already; `OutOfMemory`
    /// when the set is full or the process is out of descriptors.
    fn waker(&mut self) -> Result<PipeWaker, OsError> {
        if self.waker.is_some() {
            return Err(from_errno(libc::EEXIST));
        }
        let (waker, read) = PipeWaker::new()?;
        let entry = Self::entry(
            read.raw(),
            Token::WAKER,
            Interest::READABLE,
            PollOpt::level(),
        );
        self.register_entry(entry)?;
        self.waker = Some(read);
        Ok(waker)
    }

    /// `CLOCK_MONOTONIC`, the clock poll(2)'s timeout is measured on (Linux; POSIX
    /// leaves it unspecified, and a wall-clock step cannot shorten a relative wait).
    fn clock(&self) -> &MonotonicClock {
        &MonotonicClock
    }

    fn token(event: &Event) -> Token {
        event.token
    }

    fn ready(event: &Event) -> Ready {
        event.ready
    }
}
