//! The kqueue filters behind [`Signals`](crate::Signals) and
//! [`Children`](crate::Children): the change that adds each, how its receipt is read,
//! and what their events say.
//!
//! Generic over [`Kevent`], like the registration logic, so it is built and
//! unit-tested on any host against the scripted kqueue (`fake.rs`).

use libc::c_int;
use statio_core::{OsError, Token};
use statio_unix::signal::{SignalError, SignalSet};

use crate::registration::{Kevent, apply};
use crate::translate::{Change, Changes, EVFILT_PROC, EVFILT_SIGNAL, NOTE_EXIT};

/// Adds one `EVFILT_SIGNAL` filter per signal of `set` to `kq` (a kqueue of the
/// `Signals`' own): one `kevent` per signal, on setup only.
///
/// # Errors
/// The first refused change's `errno` (`EINVAL` for a signal the kernel does not have);
/// the filters added before it stay, for the caller to close with the kqueue.
pub(crate) fn add_signal_filters(kq: &impl Kevent, set: SignalSet) -> Result<(), SignalError> {
    for signal in set {
        // A signal filter's identifier is the signal number, positive.
        add(kq, signal as usize, Token(0), Change::add_signal())?;
    }
    Ok(())
}

/// What adding a child's exit filter found.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ExitFilter {
    /// The filter is added: its event comes when the child exits (at once for a
    /// zombie on FreeBSD, whose filt_procattach fires immediately).
    Added,
    /// `ESRCH`: the kernel has no live process by that pid to attach to, though it is
    /// an unreaped child: it is exiting, or a zombie (XNU's filt_procattach looks the
    /// process up with proc_find, which skips zombies). The caller reaps it itself.
    Exiting,
}

/// Adds an `EVFILT_PROC` filter with `NOTE_EXIT` for the child `pid` to `kq`, its
/// events under `Token(slot)`.
///
/// # Errors
/// The change's `errno` other than `ESRCH` (`ENOMEM`, ...).
pub(crate) fn add_exit_filter(
    kq: &impl Kevent,
    pid: libc::pid_t,
    slot: usize,
) -> Result<ExitFilter, OsError> {
    // A watched pid is positive (checked by `Watched::insert`).
    match add(kq, pid as usize, Token(slot), Change::add_exit()) {
        Ok(()) => Ok(ExitFilter::Added),
        Err(err) if err.code() == libc::ESRCH => Ok(ExitFilter::Exiting),
        Err(err) => Err(err),
    }
}

/// Submits one add with a receipt, read as every registration's are.
fn add(kq: &impl Kevent, ident: usize, token: Token, change: Change) -> Result<(), OsError> {
    let mut changes = Changes::new();
    changes.push(change);
    apply(kq, ident, token, &changes)
}

/// What one event of a system source's kqueue says.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum SystemEvent {
    /// This signal arrived (at least once) since its last event.
    Signal(c_int),
    /// The child watched under this slot exited.
    Exit(usize),
    /// Anything else (the watcher's own wake-up).
    Other,
}

/// Reads one event, from its filter, identifier, `fflags` and token.
pub(crate) fn system_event(filter: i32, ident: usize, fflags: u32, token: Token) -> SystemEvent {
    match filter {
        // Identifiers of signal filters are signal numbers, which fit a c_int.
        EVFILT_SIGNAL => SystemEvent::Signal(c_int::try_from(ident).unwrap_or(0)),
        EVFILT_PROC if fflags & NOTE_EXIT != 0 => SystemEvent::Exit(token.0),
        _ => SystemEvent::Other,
    }
}

#[cfg(test)]
mod tests {
    use std::vec;

    use super::*;
    use crate::fake::FakeKqueue;
    use crate::translate::{EV_ADD, EV_RECEIPT, EVFILT_READ, EVFILT_USER};

    #[test]
    fn a_signal_filter_per_signal_identified_by_its_number() {
        let kq = FakeKqueue::default();
        let set = SignalSet::new().with(libc::SIGTERM).with(libc::SIGHUP);
        add_signal_filters(&kq, set).unwrap();
        let add = Change {
            filter: EVFILT_SIGNAL,
            flags: EV_ADD | EV_RECEIPT,
            fflags: 0,
        };
        assert_eq!(kq.calls(), vec![vec![add], vec![add]]);
        for signal in set {
            assert!(
                kq.knote(signal as usize, EVFILT_SIGNAL).is_some(),
                "{signal}"
            );
        }
    }

    #[test]
    fn a_refused_signal_filter_is_an_error() {
        let kq = FakeKqueue::refusing(EVFILT_SIGNAL, libc::EINVAL);
        let err = add_signal_filters(&kq, SignalSet::new().with(libc::SIGTERM)).unwrap_err();
        assert_eq!(
            err,
            SignalError::Os(statio_unix::error::from_errno(libc::EINVAL))
        );
    }

    #[test]
    fn an_exit_filter_carries_note_exit_and_the_slot() {
        let kq = FakeKqueue::default();
        assert_eq!(add_exit_filter(&kq, 4242, 7), Ok(ExitFilter::Added));
        let knote = kq.knote(4242, EVFILT_PROC).expect("an exit filter");
        assert_eq!(knote.token, Token(7));
        assert_eq!(kq.calls()[0][0].fflags, NOTE_EXIT);
        assert_eq!(kq.calls()[0][0].flags, EV_ADD | EV_RECEIPT);
    }

    #[test]
    fn esrch_means_exiting_and_other_errors_are_errors() {
        let exiting = FakeKqueue::refusing(EVFILT_PROC, libc::ESRCH);
        assert_eq!(add_exit_filter(&exiting, 4242, 0), Ok(ExitFilter::Exiting));
        let refused = FakeKqueue::refusing(EVFILT_PROC, libc::ENOMEM);
        assert_eq!(
            add_exit_filter(&refused, 4242, 0).unwrap_err().code(),
            libc::ENOMEM
        );
    }

    #[test]
    fn events_read_as_signals_exits_or_nothing() {
        let table = [
            (EVFILT_SIGNAL, 15, 0, Token(0), SystemEvent::Signal(15)),
            (EVFILT_PROC, 4242, NOTE_EXIT, Token(3), SystemEvent::Exit(3)),
            // EV_EOF's companion data and other notes are not an exit.
            (EVFILT_PROC, 4242, 0, Token(3), SystemEvent::Other),
            (EVFILT_USER, 0, 0, Token::WAKER, SystemEvent::Other),
            (EVFILT_READ, 5, 0, Token(1), SystemEvent::Other),
        ];
        for (filter, ident, fflags, token, want) in table {
            assert_eq!(
                system_event(filter, ident, fflags, token),
                want,
                "filter {filter}"
            );
        }
    }
}
