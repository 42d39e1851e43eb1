//! Pure translations between statio's types and kqueue's: which changes to submit for
//! a registration, what their receipts say, what a returned `kevent` reports, and how
//! long `kevent` may sleep.
//!
//! Kept free of syscalls and of kqueue-only libc items, so the crate's tables are
//! unit-tested on the Linux host too (`cargo test -p statio-kqueue`). The few constants
//! it needs come from `sys`: libc's own on the kqueue systems, FreeBSD's documented
//! values (sys/sys/event.h) everywhere else, where only the unit tests build this module.
//! Filters are handled as `i32` and flags as `u32`: wide enough for every system's field
//! types (`i16`/`u16` on FreeBSD, macOS, OpenBSD and DragonFly; `u32` on NetBSD), and
//! the selector narrows them again when it fills a `kevent`.

use core::time::Duration;

use statio_core::{Interest, PollOpt, Ready};

// Also used by the waker, which registers with the same flags.
use sys::{ENOENT, EV_DELETE, EV_DISPATCH, EV_ENABLE, EV_EOF, EV_ERROR, EV_RECEIPT, EVFILT_WRITE};
pub(crate) use sys::{EV_ADD, EV_CLEAR, EVFILT_READ, EVFILT_USER};

/// The kqueue constants of the target, widened to this module's integer types.
#[cfg(any(
    target_os = "freebsd",
    target_os = "macos",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
#[allow(
    clippy::unnecessary_cast,
    reason = "the field types differ per OS: a cast that widens on one is the identity on another"
)]
mod sys {
    // Widening casts only (`i16`/`u32` filters, `u16`/`u32` flags): `From` is not const.
    pub(crate) const EVFILT_READ: i32 = libc::EVFILT_READ as i32;
    pub(crate) const EVFILT_WRITE: i32 = libc::EVFILT_WRITE as i32;
    pub(crate) const EVFILT_USER: i32 = libc::EVFILT_USER as i32;
    pub(crate) const EV_ADD: u32 = libc::EV_ADD as u32;
    pub(crate) const EV_DELETE: u32 = libc::EV_DELETE as u32;
    pub(crate) const EV_ENABLE: u32 = libc::EV_ENABLE as u32;
    pub(crate) const EV_CLEAR: u32 = libc::EV_CLEAR as u32;
    pub(crate) const EV_RECEIPT: u32 = libc::EV_RECEIPT as u32;
    pub(crate) const EV_DISPATCH: u32 = libc::EV_DISPATCH as u32;
    pub(crate) const EV_ERROR: u32 = libc::EV_ERROR as u32;
    pub(crate) const EV_EOF: u32 = libc::EV_EOF as u32;
    pub(crate) const ENOENT: i32 = libc::ENOENT;
}

/// FreeBSD's values (sys/sys/event.h, sys/sys/errno.h), for the host's unit tests: the
/// logic under test is the same on every kqueue system, only the numbers differ.
#[cfg(not(any(
    target_os = "freebsd",
    target_os = "macos",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
mod sys {
    pub(crate) const EVFILT_READ: i32 = -1;
    pub(crate) const EVFILT_WRITE: i32 = -2;
    pub(crate) const EVFILT_USER: i32 = -11;
    pub(crate) const EV_ADD: u32 = 0x0001;
    pub(crate) const EV_DELETE: u32 = 0x0002;
    pub(crate) const EV_ENABLE: u32 = 0x0004;
    pub(crate) const EV_CLEAR: u32 = 0x0020;
    pub(crate) const EV_RECEIPT: u32 = 0x0040;
    pub(crate) const EV_DISPATCH: u32 = 0x0080;
    pub(crate) const EV_ERROR: u32 = 0x4000;
    pub(crate) const EV_EOF: u32 = 0x8000;
    pub(crate) const ENOENT: i32 = 2;
}

/// One change to submit for a descriptor: a filter and the `EV_*` flags to apply.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// `EVFILT_READ` or `EVFILT_WRITE`.
    pub(crate) filter: i32,
    /// `EV_ADD ...` or `EV_DELETE ...`, always with `EV_RECEIPT`.
    pub(crate) flags: u32,
}

impl Change {
    fn is_delete(self) -> bool {
        self.flags & EV_DELETE != 0
    }
}

/// The most changes one submission holds: a reregistration's two deletes and two adds.
pub(crate) const MAX_CHANGES: usize = 4;

/// The changes of one registration call, submitted together in one `kevent`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Changes {
    list: [Change; MAX_CHANGES],
    len: usize,
}

impl Changes {
    const fn new() -> Changes {
        Changes {
            list: [Change {
                filter: 0,
                flags: 0,
            }; MAX_CHANGES],
            len: 0,
        }
    }

    /// Appends a change. The constructors below push at most two deletes and two adds,
    /// `MAX_CHANGES`, so the index is always in bounds.
    fn push(&mut self, filter: i32, flags: u32) {
        self.list[self.len] = Change { filter, flags };
        self.len += 1;
    }

    /// The changes, in submission order.
    pub(crate) fn as_slice(&self) -> &[Change] {
        &self.list[..self.len]
    }
}

/// The flags that add (or re-add) a filter for `opt`, with a receipt.
///
/// `EV_ENABLE` is explicit although `EV_ADD` implies it (kqueue(2) of FreeBSD and macOS:
/// "Adding an event automatically enables it"): a oneshot filter disabled by
/// `EV_DISPATCH` must come back on re-registration on every system alike.
/// Oneshot is `EV_DISPATCH`, not `EV_ONESHOT`: `EV_ONESHOT` deletes the filter after its
/// event, so a fired oneshot registration could no longer be told from none at all
/// (`deregister` would have to report `NotFound` or lie); `EV_DISPATCH` only disables it,
/// which is what `EPOLLONESHOT` does.
const fn add_flags(opt: PollOpt) -> u32 {
    let mut flags = EV_ADD | EV_ENABLE | EV_RECEIPT;
    if opt.is_edge() {
        flags |= EV_CLEAR;
    }
    if opt.is_oneshot() {
        flags |= EV_DISPATCH;
    }
    flags
}

const DELETE: u32 = EV_DELETE | EV_RECEIPT;

fn push_adds(changes: &mut Changes, interest: Interest, opt: PollOpt) {
    if interest.is_readable() {
        changes.push(EVFILT_READ, add_flags(opt));
    }
    if interest.is_writable() {
        changes.push(EVFILT_WRITE, add_flags(opt));
    }
}

/// A first registration: one add per wanted filter.
pub(crate) fn register_changes(interest: Interest, opt: PollOpt) -> Changes {
    let mut changes = Changes::new();
    push_adds(&mut changes, interest, opt);
    changes
}

/// A reregistration: delete both filters, then add the wanted ones afresh.
///
/// Deleting first is what makes a new `PollOpt` take effect: re-adding an existing
/// filter updates its `udata` and filter data but not its `EV_CLEAR`/`EV_DISPATCH`
/// flags on FreeBSD (kqueue_register in sys/kern/kern_event.c). A filter added again
/// checks readiness at once, so a source ready now is reported by the next `select`,
/// as after `EPOLL_CTL_MOD`. The deletes also tell whether the descriptor was
/// registered at all (see `outcome`).
pub(crate) fn reregister_changes(interest: Interest, opt: PollOpt) -> Changes {
    let mut changes = deregister_changes();
    push_adds(&mut changes, interest, opt);
    changes
}

/// A deregistration: delete both filters; the one never added answers `ENOENT`.
pub(crate) fn deregister_changes() -> Changes {
    let mut changes = Changes::new();
    changes.push(EVFILT_READ, DELETE);
    changes.push(EVFILT_WRITE, DELETE);
    changes
}

/// What the receipts of one submission say.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every change applied.
    Done,
    /// Every delete answered `ENOENT`: the descriptor had no filter in this kqueue.
    NotRegistered,
    /// The first change that failed for a real reason, with its `errno`.
    Failed(i32),
}

/// Reads the receipts of `changes`, one `(flags, data)` per change in submission order.
///
/// With `EV_RECEIPT`, each change comes back as an entry with `EV_ERROR` set and `data`
/// holding its `errno`, 0 on success (kqueue(2) of FreeBSD, macOS, NetBSD, OpenBSD).
/// FreeBSD overwrites the receipt's flags with `EV_ERROR` alone, so the kind of change
/// is taken from `changes`, by position. `ENOENT` from a delete means that filter was not
/// added (a reader-only registration has no write filter): not an error, unless every
/// delete says so.
pub(crate) fn outcome(
    changes: &[Change],
    receipts: impl IntoIterator<Item = (u32, i64)>,
) -> Outcome {
    let mut deletes = 0;
    let mut missing = 0;
    for (change, (flags, data)) in changes.iter().zip(receipts) {
        let errno = if flags & EV_ERROR != 0 { data } else { 0 };
        // errno values are small positive ints; anything else is not one.
        let errno = i32::try_from(errno).unwrap_or(i32::MAX);
        if change.is_delete() {
            deletes += 1;
            if errno == ENOENT {
                missing += 1;
                continue;
            }
        }
        if errno != 0 {
            return Outcome::Failed(errno);
        }
    }
    if deletes > 0 && missing == deletes {
        Outcome::NotRegistered
    } else {
        Outcome::Done
    }
}

/// The readiness one returned `kevent` reports, from its filter, flags and `fflags`.
///
/// kqueue reports each filter on its own, so one event says one direction:
///
/// - `EVFILT_READ`: `READABLE`; with `EV_EOF`, `READ_CLOSED` (the peer shut down
///   writing, or closed; the last writer of a pipe or FIFO closed).
/// - `EVFILT_WRITE`: `WRITABLE`; with `EV_EOF`, `WRITE_CLOSED` (the socket can send no
///   more, the pipe's reader closed): a write fails, so never a false positive.
/// - `EV_EOF` with a non-zero `fflags`: also `ERROR`; `fflags` holds the socket's pending
///   error (`so_error` in filt_soread/filt_sowrite), e.g. `ECONNRESET`.
/// - `EV_ERROR`: `ERROR` alone (a failed change; `select` submits none, so only as a
///   safeguard).
/// - `EVFILT_USER`: `READABLE`, the waker's trigger.
///
/// `HUP` is never reported: no single event knows that both directions are closed.
pub(crate) fn ready_from(filter: i32, flags: u32, fflags: u32) -> Ready {
    if flags & EV_ERROR != 0 {
        return Ready::ERROR;
    }
    let eof = flags & EV_EOF != 0;
    let error = Ready::ERROR.when(eof && fflags != 0);
    match filter {
        EVFILT_READ => Ready::READABLE | Ready::READ_CLOSED.when(eof) | error,
        EVFILT_WRITE => Ready::WRITABLE | Ready::WRITE_CLOSED.when(eof) | error,
        EVFILT_USER => Ready::READABLE,
        _ => Ready::EMPTY,
    }
}

/// The `kevent` timeout for `timeout` as `(tv_sec, tv_nsec)`: `None` (a NULL pointer, no
/// limit) for `None`, else the exact nanoseconds, seconds capped at `i32::MAX` (68
/// years) so they fit every system's `time_t`.
pub(crate) fn timeout_timespec(timeout: Option<Duration>) -> Option<(i32, i32)> {
    timeout.map(|d| {
        let secs = i32::try_from(d.as_secs()).unwrap_or(i32::MAX);
        // Below 10^9, so it fits.
        let nanos = d.subsec_nanos() as i32;
        (secs, nanos)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_OPTS: [PollOpt; 4] = [
        PollOpt::level(),
        PollOpt::edge(),
        PollOpt::oneshot(),
        PollOpt::edge().with_oneshot(),
    ];

    fn change(filter: i32, flags: u32) -> Change {
        Change { filter, flags }
    }

    const ADD: u32 = EV_ADD | EV_ENABLE | EV_RECEIPT;

    /// A receipt's `(flags, data)`.
    type Receipt = (u32, i64);

    #[test]
    fn register_adds_one_filter_per_wanted_direction() {
        let table = [
            (
                Interest::READABLE,
                PollOpt::level(),
                &[change(EVFILT_READ, ADD)][..],
            ),
            (
                Interest::WRITABLE,
                PollOpt::edge(),
                &[change(EVFILT_WRITE, ADD | EV_CLEAR)][..],
            ),
            (
                Interest::BOTH,
                PollOpt::oneshot(),
                &[
                    change(EVFILT_READ, ADD | EV_DISPATCH),
                    change(EVFILT_WRITE, ADD | EV_DISPATCH),
                ][..],
            ),
            (
                Interest::READABLE,
                PollOpt::edge().with_oneshot(),
                &[change(EVFILT_READ, ADD | EV_CLEAR | EV_DISPATCH)][..],
            ),
        ];
        for (interest, opt, want) in table {
            let changes = register_changes(interest, opt);
            assert_eq!(changes.as_slice(), want, "{interest:?} {opt:?}");
        }
    }

    #[test]
    fn reregister_deletes_both_then_adds_the_wanted() {
        let delete_both = [change(EVFILT_READ, DELETE), change(EVFILT_WRITE, DELETE)];
        for opt in ALL_OPTS {
            for interest in [Interest::READABLE, Interest::WRITABLE, Interest::BOTH] {
                let changes = reregister_changes(interest, opt);
                let (deletes, adds) = changes.as_slice().split_at(2);
                assert_eq!(deletes, delete_both);
                assert_eq!(adds, register_changes(interest, opt).as_slice());
            }
        }
        assert_eq!(deregister_changes().as_slice(), delete_both);
    }

    #[test]
    fn every_change_asks_for_a_receipt() {
        for opt in ALL_OPTS {
            for interest in [Interest::READABLE, Interest::WRITABLE, Interest::BOTH] {
                for c in reregister_changes(interest, opt).as_slice() {
                    assert_ne!(c.flags & EV_RECEIPT, 0, "{c:?}");
                }
            }
        }
    }

    #[test]
    fn receipts_ignore_a_missing_filter_but_not_a_missing_registration() {
        let dereg = deregister_changes();
        let rereg = reregister_changes(Interest::READABLE, PollOpt::level());
        let ok = (EV_ERROR, 0);
        let enoent = (EV_ERROR, i64::from(ENOENT));
        let ebadf = (EV_ERROR, 9);
        let table: [(&Changes, &[Receipt], Outcome); 8] = [
            (&dereg, &[ok, ok], Outcome::Done),
            // A reader-only registration has no write filter.
            (&dereg, &[ok, enoent], Outcome::Done),
            (&dereg, &[enoent, ok], Outcome::Done),
            (&dereg, &[enoent, enoent], Outcome::NotRegistered),
            // A closed descriptor: the first real error wins.
            (&dereg, &[ebadf, ebadf], Outcome::Failed(9)),
            (&rereg, &[ok, enoent, ok], Outcome::Done),
            (&rereg, &[enoent, enoent, ok], Outcome::NotRegistered),
            // ENOENT from an add is a real error (not that an add can say it).
            (&rereg, &[ok, ok, enoent], Outcome::Failed(ENOENT)),
        ];
        for (changes, receipts, want) in table {
            let got = outcome(changes.as_slice(), receipts.iter().copied());
            assert_eq!(got, want, "{receipts:?}");
        }
        // Adds alone never mean "not registered".
        let reg = register_changes(Interest::BOTH, PollOpt::level());
        assert_eq!(outcome(reg.as_slice(), [ok, ok]), Outcome::Done);
        assert_eq!(
            outcome(reg.as_slice(), [ok, (EV_ERROR, 12)]),
            Outcome::Failed(12)
        );
    }

    #[test]
    fn events_to_readiness() {
        const ECONNRESET: u32 = 54;
        let table = [
            (EVFILT_READ, 0, 0, Ready::READABLE),
            (EVFILT_WRITE, 0, 0, Ready::WRITABLE),
            // A peer's shutdown(SHUT_WR) or close; a pipe's last writer closed.
            (EVFILT_READ, EV_EOF, 0, Ready::READABLE | Ready::READ_CLOSED),
            // A pipe whose reader closed; a socket that can send no more.
            (
                EVFILT_WRITE,
                EV_EOF,
                0,
                Ready::WRITABLE | Ready::WRITE_CLOSED,
            ),
            // A reset connection: EV_EOF with the socket error in fflags.
            (
                EVFILT_READ,
                EV_EOF,
                ECONNRESET,
                Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR,
            ),
            (
                EVFILT_WRITE,
                EV_EOF,
                ECONNRESET,
                Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR,
            ),
            // Registration flags echoed back are not readiness.
            (
                EVFILT_READ,
                EV_ADD | EV_CLEAR | EV_DISPATCH,
                0,
                Ready::READABLE,
            ),
            (EVFILT_READ, EV_ERROR, 9, Ready::ERROR),
            (EVFILT_USER, EV_CLEAR, 0, Ready::READABLE),
            (-5, 0, 0, Ready::EMPTY),
        ];
        for (filter, flags, fflags, want) in table {
            assert_eq!(
                ready_from(filter, flags, fflags),
                want,
                "filter {filter} flags {flags:#x} fflags {fflags}"
            );
        }
    }

    #[test]
    fn one_event_never_reports_the_other_direction_or_a_hang_up() {
        for flags in [0, EV_EOF] {
            for fflags in [0, 54] {
                let read = ready_from(EVFILT_READ, flags, fflags);
                let write = ready_from(EVFILT_WRITE, flags, fflags);
                assert!(!read.intersects(Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::HUP));
                assert!(!write.intersects(Ready::READABLE | Ready::READ_CLOSED | Ready::HUP));
            }
        }
    }

    #[test]
    fn timeouts_keep_nanoseconds_and_cap_seconds() {
        let table = [
            (None, None),
            (Some(Duration::ZERO), Some((0, 0))),
            (Some(Duration::from_nanos(1)), Some((0, 1))),
            (Some(Duration::new(3, 999_999_999)), Some((3, 999_999_999))),
            (
                Some(Duration::from_secs(i32::MAX as u64)),
                Some((i32::MAX, 0)),
            ),
            (
                Some(Duration::new(i32::MAX as u64 + 1, 5)),
                Some((i32::MAX, 5)),
            ),
            (Some(Duration::MAX), Some((i32::MAX, 999_999_999))),
        ];
        for (timeout, want) in table {
            assert_eq!(timeout_timespec(timeout), want, "{timeout:?}");
        }
    }
}
