//! Pure translations between statio's types and epoll's: what to ask `epoll_ctl` for,
//! what an `epoll_event` reports, and how long `epoll_wait` may sleep.
//!
//! Kept free of syscalls so the tables in the crate docs are unit-tested on their own.

use core::time::Duration;

use libc::c_int;
use statio_core::{Interest, PollOpt, Ready};

/// The `epoll_event.events` mask to register for `interest`, reported as `opt` says.
///
/// Readable interest also asks for `EPOLLRDHUP`, the only way epoll reports a peer's
/// half-close (`shutdown(SHUT_WR)`): without it, such a peer shows up as a readable
/// event whose read returns 0. `EPOLLERR` and `EPOLLHUP` are not asked for: the kernel
/// always reports them (epoll_ctl(2)).
///
/// `EPOLLPRI` is deliberately not asked for (the crate docs say why: `tcp_poll` in
/// net/ipv4/tcp.c keeps it set for an unread urgent byte).
pub(crate) fn interest_flags(interest: Interest, opt: PollOpt) -> u32 {
    let mut flags: c_int = 0;
    if interest.is_readable() {
        flags |= libc::EPOLLIN | libc::EPOLLRDHUP;
    }
    if interest.is_writable() {
        flags |= libc::EPOLLOUT;
    }
    if opt.is_edge() {
        flags |= libc::EPOLLET;
    }
    if opt.is_oneshot() {
        flags |= libc::EPOLLONESHOT;
    }
    // The kernel's field is a `u32`; libc spells the flags as `c_int` (EPOLLET is the
    // sign bit), so this reinterprets the bits, it does not convert a number.
    flags as u32
}

/// The readiness an `epoll_event.events` mask reports.
///
/// `WRITE_CLOSED` comes from `EPOLLHUP` only: `EPOLLERR` with or without `EPOLLOUT`
/// also marks a socket whose writing side is fine (a connected UDP socket after an ICMP error,
/// a queued `SO_ERROR`, `MSG_ERRQUEUE` timestamps), and [`Ready`] promises no false
/// positives. The pipe write end whose reader closed is thus reported as `ERROR`
/// (`EPOLLERR`, epoll_ctl(2)), and the write says `EPIPE`.
#[inline]
pub(crate) fn ready_from(flags: u32) -> Ready {
    // The usual event carries one flag: answer it without assembling the general case.
    if flags == libc::EPOLLIN as u32 {
        return Ready::READABLE;
    }
    if flags == libc::EPOLLOUT as u32 {
        return Ready::WRITABLE;
    }
    let has = |flag: c_int| flags & flag as u32 != 0;
    let hup = has(libc::EPOLLHUP);
    Ready::READABLE.when(has(libc::EPOLLIN))
        | Ready::WRITABLE.when(has(libc::EPOLLOUT))
        | Ready::PRIORITY.when(has(libc::EPOLLPRI))
        | Ready::ERROR.when(has(libc::EPOLLERR))
        | (Ready::HUP | Ready::READ_CLOSED | Ready::WRITE_CLOSED).when(hup)
        | Ready::READ_CLOSED.when(has(libc::EPOLLRDHUP))
}

/// The `epoll_wait` timeout for `timeout`: `-1` (no limit) for `None`, else whole
/// milliseconds rounded up and saturated at `c_int::MAX` (about 24.8 days).
///
/// Rounding up keeps a positive timeout positive: truncating 1 µs to 0 would turn the
/// wait into a poll, and a loop waiting for a timer would spin until it expires.
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> c_int {
    match timeout {
        None => -1,
        Some(d) => c_int::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(c_int::MAX),
    }
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

    fn bits(flags: &[c_int]) -> u32 {
        flags.iter().fold(0, |acc, &f| acc | f as u32)
    }

    #[test]
    fn interest_and_options_to_flags() {
        use libc::{EPOLLET, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDHUP};
        let table = [
            (
                Interest::READABLE,
                PollOpt::level(),
                bits(&[EPOLLIN, EPOLLRDHUP]),
            ),
            (Interest::WRITABLE, PollOpt::level(), bits(&[EPOLLOUT])),
            (
                Interest::BOTH,
                PollOpt::level(),
                bits(&[EPOLLIN, EPOLLRDHUP, EPOLLOUT]),
            ),
            (
                Interest::READABLE,
                PollOpt::edge(),
                bits(&[EPOLLIN, EPOLLRDHUP, EPOLLET]),
            ),
            (
                Interest::WRITABLE,
                PollOpt::oneshot(),
                bits(&[EPOLLOUT, EPOLLONESHOT]),
            ),
            (
                Interest::BOTH,
                PollOpt::edge().with_oneshot(),
                bits(&[EPOLLIN, EPOLLRDHUP, EPOLLOUT, EPOLLET, EPOLLONESHOT]),
            ),
        ];
        for (interest, opt, want) in table {
            assert_eq!(interest_flags(interest, opt), want, "{interest:?} {opt:?}");
        }
    }

    #[test]
    fn never_asks_for_what_the_kernel_always_reports_or_for_priority() {
        let unrequested = bits(&[libc::EPOLLERR, libc::EPOLLHUP, libc::EPOLLPRI]);
        for interest in [Interest::READABLE, Interest::WRITABLE, Interest::BOTH] {
            for opt in ALL_OPTS {
                assert_eq!(interest_flags(interest, opt) & unrequested, 0);
            }
        }
    }

    #[test]
    fn flags_to_readiness() {
        use libc::{EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLRDHUP};
        let closed = Ready::HUP | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        let table = [
            (bits(&[]), Ready::EMPTY),
            (bits(&[EPOLLIN]), Ready::READABLE),
            (bits(&[EPOLLOUT]), Ready::WRITABLE),
            (bits(&[EPOLLPRI]), Ready::PRIORITY),
            (bits(&[EPOLLERR]), Ready::ERROR),
            (bits(&[EPOLLRDHUP]), Ready::READ_CLOSED),
            (bits(&[EPOLLHUP]), closed),
            // A peer's shutdown(SHUT_WR) on a stream socket.
            (
                bits(&[EPOLLIN, EPOLLRDHUP]),
                Ready::READABLE | Ready::READ_CLOSED,
            ),
            // A pipe's write end after the reader closed: not WRITE_CLOSED (see above).
            (bits(&[EPOLLOUT, EPOLLERR]), Ready::WRITABLE | Ready::ERROR),
            // A stream socket whose peer closed both directions, or reset.
            (
                bits(&[EPOLLIN, EPOLLRDHUP, EPOLLHUP, EPOLLERR]),
                Ready::READABLE | Ready::ERROR | closed,
            ),
        ];
        for (flags, want) in table {
            assert_eq!(ready_from(flags), want, "flags {flags:#x}");
        }
    }

    #[test]
    fn registration_flags_are_not_mistaken_for_readiness() {
        let flags = bits(&[libc::EPOLLET, libc::EPOLLONESHOT, libc::EPOLLEXCLUSIVE]);
        assert_eq!(ready_from(flags), Ready::EMPTY);
    }

    #[test]
    fn timeouts_round_up_to_whole_milliseconds() {
        let table = [
            (None, -1),
            (Some(Duration::ZERO), 0),
            (Some(Duration::from_nanos(1)), 1),
            (Some(Duration::from_micros(1)), 1),
            (Some(Duration::from_micros(999)), 1),
            (Some(Duration::from_millis(1)), 1),
            (Some(Duration::from_millis(1) + Duration::from_nanos(1)), 2),
            (Some(Duration::from_secs(3)), 3_000),
            (Some(Duration::from_millis(c_int::MAX as u64)), c_int::MAX),
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
