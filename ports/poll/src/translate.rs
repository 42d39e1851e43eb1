//! Pure translations between statio's types and poll(2)'s: what to put in
//! `pollfd.events`, what a `revents` reports, and how long `poll` may sleep.
//!
//! Kept free of syscalls so the tables in the crate docs are unit-tested on their own.

use core::time::Duration;

use libc::{c_int, c_short};
use statio_core::{Interest, Ready};

/// `POLLRDHUP` where it exists (Linux 2.6.17+, Android): the only report of a peer's
/// `shutdown(SHUT_WR)`. Elsewhere 0: no half-close is reported (a false negative,
/// which [`Ready`] allows), never a false positive.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const POLLRDHUP: c_short = libc::POLLRDHUP;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const POLLRDHUP: c_short = 0;

/// What poll(2) reports whether asked or not (poll(2): "ignored in events").
pub(crate) const ALWAYS: c_short = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;

/// The `pollfd.events` mask for `interest`.
///
/// `POLLPRI` is never asked for, for the epoll port's reason: a TCP peer's urgent byte
/// keeps `POLLPRI` set and `POLLIN` clear until read with `MSG_OOB`, so a level
/// registration that reads normally would wake forever.
pub(crate) fn interest_events(interest: Interest) -> c_short {
    let mut events = 0;
    if interest.is_readable() {
        events |= libc::POLLIN | POLLRDHUP;
    }
    if interest.is_writable() {
        events |= libc::POLLOUT;
    }
    events
}

/// The readiness a `revents` mask reports, as the epoll port's table says.
///
/// `WRITE_CLOSED` comes from `POLLHUP` only, never from `POLLERR`: a pipe's write end
/// whose reader closed reports `POLLERR` (the write then fails with `EPIPE`), and so
/// do sockets that can still write (a connected UDP socket after an ICMP error).
/// `POLLNVAL` (the descriptor is not open: closed while registered) reports `ERROR`:
/// the registration is dead and should be removed.
pub(crate) fn ready_from(revents: c_short) -> Ready {
    let has = |flag: c_short| flag != 0 && revents & flag != 0;
    Ready::READABLE.when(has(libc::POLLIN))
        | Ready::WRITABLE.when(has(libc::POLLOUT))
        | Ready::PRIORITY.when(has(libc::POLLPRI))
        | Ready::ERROR.when(has(libc::POLLERR) || has(libc::POLLNVAL))
        | (Ready::HUP | Ready::READ_CLOSED | Ready::WRITE_CLOSED).when(has(libc::POLLHUP))
        | Ready::READ_CLOSED.when(has(POLLRDHUP))
}

/// The `poll` timeout for `timeout`: `-1` (no limit) for `None`, else whole
/// milliseconds rounded up and saturated at `c_int::MAX` (about 24.8 days).
///
/// Rounding up keeps a positive timeout positive: truncating 1 µs to 0 would turn the
/// wait into a busy poll until a timer expires.
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> c_int {
    match timeout {
        None => -1,
        Some(d) => c_int::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(c_int::MAX),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use libc::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI};

    #[test]
    fn interest_to_events() {
        assert_eq!(interest_events(Interest::READABLE), POLLIN | POLLRDHUP);
        assert_eq!(interest_events(Interest::WRITABLE), POLLOUT);
        assert_eq!(
            interest_events(Interest::BOTH),
            POLLIN | POLLRDHUP | POLLOUT
        );
        for interest in [Interest::READABLE, Interest::WRITABLE, Interest::BOTH] {
            assert_eq!(interest_events(interest) & (ALWAYS | POLLPRI), 0);
        }
    }

    #[test]
    fn revents_to_readiness() {
        let closed = Ready::HUP | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        let mut table = std::vec![
            (0, Ready::EMPTY),
            (POLLIN, Ready::READABLE),
            (POLLOUT, Ready::WRITABLE),
            (POLLPRI, Ready::PRIORITY),
            (POLLERR, Ready::ERROR),
            (POLLNVAL, Ready::ERROR),
            (POLLHUP, closed),
            // A pipe's write end after the reader closed: not WRITE_CLOSED.
            (POLLOUT | POLLERR, Ready::WRITABLE | Ready::ERROR),
            (
                POLLIN | POLLHUP | POLLERR,
                Ready::READABLE | Ready::ERROR | closed
            ),
        ];
        if POLLRDHUP != 0 {
            table.push((POLLRDHUP, Ready::READ_CLOSED));
            // A peer's shutdown(SHUT_WR): no HUP, no WRITE_CLOSED.
            table.push((POLLIN | POLLRDHUP, Ready::READABLE | Ready::READ_CLOSED));
        }
        for (revents, want) in table {
            assert_eq!(ready_from(revents), want, "revents {revents:#x}");
        }
    }

    #[test]
    fn timeouts_round_up_to_whole_milliseconds() {
        let table = [
            (None, -1),
            (Some(Duration::ZERO), 0),
            (Some(Duration::from_nanos(1)), 1),
            (Some(Duration::from_micros(999)), 1),
            (Some(Duration::from_millis(1)), 1),
            (Some(Duration::from_millis(1) + Duration::from_nanos(1)), 2),
            (
                Some(Duration::from_millis(c_int::MAX as u64 + 1)),
                c_int::MAX,
            ),
            (Some(Duration::MAX), c_int::MAX),
        ];
        for (timeout, want) in table {
            assert_eq!(timeout_ms(timeout), want, "{timeout:?}");
        }
    }
}
