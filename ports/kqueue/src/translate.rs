//! Pure translations between statio's types and kqueue's: which changes to submit for
//! a registration, what their receipts say, what a returned `kevent` reports, and how
//! long `kevent` may sleep.
//!
//! Kept free of syscalls and of kqueue-only libc items, so the crate's tables are
//! unit-tested on the Linux host too (`cargo test -p statio-kqueue`). The few constants
//! it needs come from `constants`: libc's own on the kqueue systems, FreeBSD's documented
//! values (sys/sys/event.h) everywhere else, where only the unit tests build this module.
//! Filters are handled as `i32` and flags as `u32`: wide enough for every system's field
//! types (`i16`/`u16` on FreeBSD, macOS, OpenBSD and DragonFly; `u32` on NetBSD), and
//! `sys.rs` narrows them again when it fills a `kevent`. `errno` values are libc's, which
//! names them on every Unix.

use core::time::Duration;

use statio_core::{Interest, PollOpt, Ready};

pub(crate) use constants::{
    EV_ADD, EV_CLEAR, EV_DELETE, EV_DISPATCH, EV_ENABLE, EV_EOF, EV_ERROR, EV_RECEIPT, EVFILT_PROC,
    EVFILT_READ, EVFILT_SIGNAL, EVFILT_USER, EVFILT_WRITE, NOTE_EXIT,
};

/// The kqueue constants of the target, widened to this module's integer types.
#[cfg(kqueue)]
#[allow(
    clippy::unnecessary_cast,
    reason = "the field types differ per OS: a cast that widens on one is the identity on another"
)]
mod constants {
    // Widening casts only (`i16`/`u32` filters, `u16`/`u32` flags): `From` is not const.
    pub(crate) const EVFILT_READ: i32 = libc::EVFILT_READ as i32;
    pub(crate) const EVFILT_WRITE: i32 = libc::EVFILT_WRITE as i32;
    pub(crate) const EVFILT_USER: i32 = libc::EVFILT_USER as i32;
    pub(crate) const EVFILT_SIGNAL: i32 = libc::EVFILT_SIGNAL as i32;
    pub(crate) const EVFILT_PROC: i32 = libc::EVFILT_PROC as i32;
    pub(crate) const NOTE_EXIT: u32 = libc::NOTE_EXIT as u32;
    pub(crate) const EV_ADD: u32 = libc::EV_ADD as u32;
    pub(crate) const EV_DELETE: u32 = libc::EV_DELETE as u32;
    pub(crate) const EV_ENABLE: u32 = libc::EV_ENABLE as u32;
    pub(crate) const EV_CLEAR: u32 = libc::EV_CLEAR as u32;
    pub(crate) const EV_RECEIPT: u32 = libc::EV_RECEIPT as u32;
    pub(crate) const EV_DISPATCH: u32 = libc::EV_DISPATCH as u32;
    pub(crate) const EV_ERROR: u32 = libc::EV_ERROR as u32;
    pub(crate) const EV_EOF: u32 = libc::EV_EOF as u32;
}

/// FreeBSD's values (sys/sys/event.h), for the host's unit tests: the logic under test
/// is the same on every kqueue system, only the numbers differ.
#[cfg(not(kqueue))]
mod constants {
    pub(crate) const EVFILT_READ: i32 = -1;
    pub(crate) const EVFILT_WRITE: i32 = -2;
    pub(crate) const EVFILT_USER: i32 = -11;
    pub(crate) const EVFILT_SIGNAL: i32 = -6;
    pub(crate) const EVFILT_PROC: i32 = -5;
    pub(crate) const NOTE_EXIT: u32 = 0x8000_0000;
    pub(crate) const EV_ADD: u32 = 0x0001;
    pub(crate) const EV_DELETE: u32 = 0x0002;
    pub(crate) const EV_ENABLE: u32 = 0x0004;
    pub(crate) const EV_CLEAR: u32 = 0x0020;
    pub(crate) const EV_RECEIPT: u32 = 0x0040;
    pub(crate) const EV_DISPATCH: u32 = 0x0080;
    pub(crate) const EV_ERROR: u32 = 0x4000;
    pub(crate) const EV_EOF: u32 = 0x8000;
}

/// One change to submit: a filter, the `EV_*` flags to apply and the filter's `fflags`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// `EVFILT_READ`, `EVFILT_WRITE`, the waker's `EVFILT_USER`, or the system
    /// sources' `EVFILT_SIGNAL` and `EVFILT_PROC`.
    pub(crate) filter: i32,
    /// `EV_ADD ...` or `EV_DELETE ...`; a registration's always with `EV_RECEIPT`.
    pub(crate) flags: u32,
    /// 0, the waker's `NOTE_TRIGGER`, or `EVFILT_PROC`'s `NOTE_EXIT`.
    pub(crate) fflags: u32,
}

impl Change {
    const fn new(filter: i32, flags: u32) -> Change {
        Change {
            filter,
            flags,
            fflags: 0,
        }
    }

    /// Adds the signal filter of a `Signals` (the identifier is the signal number),
    /// with a receipt. `EVFILT_SIGNAL` clears itself once reported (kqueue(2):
    /// "implicitly uses EV_CLEAR"): each event says "arrived since the last report".
    pub(crate) const fn add_signal() -> Change {
        Change::new(EVFILT_SIGNAL, EV_ADD | EV_RECEIPT)
    }

    /// Adds the exit filter of a watched child (the identifier is its pid), with a
    /// receipt. The kernel marks it `EV_EOF | EV_ONESHOT` when it fires (filt_proc),
    /// so it is gone once reported.
    pub(crate) const fn add_exit() -> Change {
        Change {
            filter: EVFILT_PROC,
            flags: EV_ADD | EV_RECEIPT,
            fflags: NOTE_EXIT,
        }
    }

    /// Deletes `filter`, with a receipt.
    pub(crate) const fn delete(filter: i32) -> Change {
        Change::new(filter, EV_DELETE | EV_RECEIPT)
    }

    pub(crate) fn is_add(self) -> bool {
        self.flags & EV_ADD != 0
    }

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
    pub(crate) const fn new() -> Changes {
        Changes {
            list: [Change::new(0, 0); MAX_CHANGES],
            len: 0,
        }
    }

    /// Appends a change. The constructors below push at most two deletes and two adds,
    /// `MAX_CHANGES`, and an undo at most one delete per add of a submission, so the
    /// index is always in bounds.
    pub(crate) fn push(&mut self, change: Change) {
        self.list[self.len] = change;
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
/// event, so a fired oneshot registration could no longer be told from none at all;
/// `EV_DISPATCH` only disables it, which is what `EPOLLONESHOT` does.
/// Oneshot drops `EV_CLEAR`, edge or not: NetBSD's kqueue_scan (kern_event.c 1.140)
/// handles `EV_ONESHOT`, `EV_CLEAR` and `EV_DISPATCH` as an `else if` chain, so with
/// both flags the knote is cleared and never disabled; and `EV_CLEAR` adds nothing to a
/// oneshot filter, which fires once and is re-armed by a fresh add (`reregister`).
const fn add_flags(opt: PollOpt) -> u32 {
    let flags = EV_ADD | EV_ENABLE | EV_RECEIPT;
    if opt.is_oneshot() {
        flags | EV_DISPATCH
    } else if opt.is_edge() {
        flags | EV_CLEAR
    } else {
        flags
    }
}

fn push_adds(changes: &mut Changes, interest: Interest, opt: PollOpt) {
    if interest.is_readable() {
        changes.push(Change::new(EVFILT_READ, add_flags(opt)));
    }
    if interest.is_writable() {
        changes.push(Change::new(EVFILT_WRITE, add_flags(opt)));
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
/// as after `EPOLL_CTL_MOD`.
pub(crate) fn reregister_changes(interest: Interest, opt: PollOpt) -> Changes {
    let mut changes = deregister_changes();
    push_adds(&mut changes, interest, opt);
    changes
}

/// A deregistration: delete both filters; the one never added answers `ENOENT`.
pub(crate) fn deregister_changes() -> Changes {
    let mut changes = Changes::new();
    changes.push(Change::delete(EVFILT_READ));
    changes.push(Change::delete(EVFILT_WRITE));
    changes
}

/// One entry `kevent` returned for a submission: its `flags` and `data`, widened.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Receipt {
    /// `EV_ERROR` on a receipt; on macOS with the change's own flags kept.
    pub(crate) flags: u32,
    /// The change's `errno`, 0 on success.
    pub(crate) data: i64,
}

/// The `errno` of each of `changes` changes, 0 for success, in submission order; `None`
/// unless every change got its receipt.
///
/// With `EV_RECEIPT`, each change comes back as one entry, in order, with `EV_ERROR` set
/// and `data` holding its `errno` (kqueue(2) of FreeBSD, macOS, NetBSD 10, OpenBSD).
/// FreeBSD's kqueue_kevent overwrites the entry's flags with `EV_ERROR` and XNU's
/// kevent_register ORs it in, so only that bit is read. A kernel without `EV_RECEIPT`
/// (NetBSD before 10: kevent1 in kern_event.c 1.76 answers failed changes only, then
/// scans pending events into the rest of the list) returns fewer entries, or events
/// without `EV_ERROR`: refused here, rather than misread as receipts.
pub(crate) fn receipt_errnos(changes: usize, receipts: &[Receipt]) -> Option<[i32; MAX_CHANGES]> {
    if receipts.len() != changes || changes > MAX_CHANGES {
        return None;
    }
    let mut errnos = [0; MAX_CHANGES];
    for (errno, receipt) in errnos.iter_mut().zip(receipts) {
        if receipt.flags & EV_ERROR == 0 {
            return None;
        }
        // errno values are small positive ints; anything else is not one.
        *errno = i32::try_from(receipt.data).unwrap_or(i32::MAX);
    }
    Some(errnos)
}

/// What one change's receipt means for the registration.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The change took effect.
    Applied,
    /// It failed in a way that leaves the registration as asked (see `verdict`).
    Ignored,
    /// It failed: the call reports this `errno`.
    Failed,
}

/// Reads one change's `errno` (from `receipt_errnos`).
///
/// - `ENOENT` from a delete: that filter is gone already. It was never added (a
///   reader-only registration has no write filter), or the kernel dropped it: FreeBSD's
///   pipeclose (sys_pipe.c) clears a pipe writer's knote when the reader closes
///   (knlist_clear; knlist_cleardel marks it `EV_ONESHOT`, and kqueue_scan drops it once
///   delivered), and closing a descriptor drops its knotes everywhere. mio ignores it too.
/// - `EPIPE` from adding the write filter: FreeBSD's pipe_kqfilter (and macOS 10.10 and
///   10.11's) refuses it on a pipe whose reader is gone, where epoll accepts the pipe.
///   Ignored, as mio (tokio-rs/mio#582) and polling do: the registration stands without
///   a write filter, so no `WRITABLE` event comes for it, and the next write fails with
///   `BrokenPipe` (current macOS adds the filter and reports `WRITE_CLOSED` instead).
pub(crate) fn verdict(change: Change, errno: i32) -> Verdict {
    match errno {
        0 => Verdict::Applied,
        libc::ENOENT if change.is_delete() => Verdict::Ignored,
        libc::EPIPE if change.is_add() && change.filter == EVFILT_WRITE => Verdict::Ignored,
        _ => Verdict::Failed,
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

    const ADD: u32 = EV_ADD | EV_ENABLE | EV_RECEIPT;

    #[test]
    fn register_adds_one_filter_per_wanted_direction() {
        let table = [
            (
                Interest::READABLE,
                PollOpt::level(),
                &[Change::new(EVFILT_READ, ADD)][..],
            ),
            (
                Interest::WRITABLE,
                PollOpt::edge(),
                &[Change::new(EVFILT_WRITE, ADD | EV_CLEAR)][..],
            ),
            (
                Interest::BOTH,
                PollOpt::oneshot(),
                &[
                    Change::new(EVFILT_READ, ADD | EV_DISPATCH),
                    Change::new(EVFILT_WRITE, ADD | EV_DISPATCH),
                ][..],
            ),
            // Issue 16 B3: no EV_CLEAR next to EV_DISPATCH (NetBSD lets it win).
            (
                Interest::READABLE,
                PollOpt::edge().with_oneshot(),
                &[Change::new(EVFILT_READ, ADD | EV_DISPATCH)][..],
            ),
        ];
        for (interest, opt, want) in table {
            let changes = register_changes(interest, opt);
            assert_eq!(changes.as_slice(), want, "{interest:?} {opt:?}");
        }
    }

    #[test]
    fn reregister_deletes_both_then_adds_the_wanted() {
        let delete_both = [Change::delete(EVFILT_READ), Change::delete(EVFILT_WRITE)];
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
    fn receipts_are_one_ev_error_entry_per_change() {
        // FreeBSD, NetBSD and OpenBSD overwrite the flags; XNU ORs EV_ERROR in.
        let freebsd = |data| Receipt {
            flags: EV_ERROR,
            data,
        };
        let xnu = |data| Receipt {
            flags: ADD | EV_ERROR,
            data,
        };
        // An event scanned into the list by a kernel without EV_RECEIPT.
        let event = Receipt {
            flags: EV_CLEAR,
            data: 5,
        };
        type Errnos = Option<[i32; MAX_CHANGES]>;
        let table: [(usize, &[Receipt], Errnos); 7] = [
            (2, &[freebsd(0), freebsd(2)], Some([0, 2, 0, 0])),
            (2, &[xnu(0), xnu(9)], Some([0, 9, 0, 0])),
            (1, &[freebsd(i64::MAX)], Some([i32::MAX, 0, 0, 0])),
            // Issue 16 R1: too few entries, or an entry that is not a receipt.
            (2, &[freebsd(0)], None),
            (1, &[], None),
            (2, &[freebsd(0), event], None),
            (1, &[event], None),
        ];
        for (changes, receipts, want) in table {
            assert_eq!(receipt_errnos(changes, receipts), want, "{receipts:?}");
        }
    }

    #[test]
    fn verdicts_ignore_a_missing_filter_and_a_refused_pipe_writer_only() {
        let read = Change::new(EVFILT_READ, ADD);
        let write = Change::new(EVFILT_WRITE, ADD);
        let delete = Change::delete(EVFILT_WRITE);
        let table = [
            (read, 0, Verdict::Applied),
            (delete, 0, Verdict::Applied),
            // Issue 16 B5: a filter never added, or dropped by the kernel.
            (delete, libc::ENOENT, Verdict::Ignored),
            (delete, libc::EBADF, Verdict::Failed),
            // Issue 16 B4: the write filter of a pipe whose reader is gone.
            (write, libc::EPIPE, Verdict::Ignored),
            (read, libc::EPIPE, Verdict::Failed),
            (write, libc::EINVAL, Verdict::Failed),
            // ENOENT from an add is a real error (not that an add can say it).
            (write, libc::ENOENT, Verdict::Failed),
        ];
        for (change, errno, want) in table {
            assert_eq!(verdict(change, errno), want, "{change:?} errno {errno}");
        }
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
