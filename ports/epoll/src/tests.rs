//! Behaviour of [`Epoll`] the conformance suite (`tests/conformance`, run for every
//! port) does not cover: epoll's own edge semantics (new data is a new edge even
//! unread), `ENOENT` straight from the selector, whole tokens, timeout rounding on the
//! real syscall, and `EINTR` on the bare selector. Selector behaviour common to every
//! port lives only in the suite.
//!
//! Every wait is bounded: `WAIT` where an event is certainly pending (it returns at
//! once), `BRIEF` where none may come. Nothing asserts how long a call took.

extern crate std;

use core::time::Duration;
use std::os::unix::thread::JoinHandleExt;
use std::vec::Vec;
use std::{ptr, thread};

use embedded_io::ErrorKind;
use statio_core::{Events, Interest, PollOpt, Ready, Selector, Token};
use statio_unix::{Fd, RawFd};

use crate::Epoll;

/// For waits where an event is certainly pending: returns at once unless it is missing.
const WAIT: Option<Duration> = Some(Duration::from_secs(5));
/// For waits where no event may come.
const BRIEF: Option<Duration> = Some(Duration::from_millis(10));

fn pipe() -> (Fd, Fd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    assert_eq!(ret, 0, "pipe2");
    // SAFETY: pipe2 succeeded: both are new descriptors that nothing else owns.
    unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) }
}

fn write_byte(fd: &Fd) {
    // SAFETY: writes one byte from a live buffer.
    let n = unsafe { libc::write(fd.raw(), b"x".as_ptr().cast(), 1) };
    assert_eq!(n, 1, "write");
}

/// Reads until the descriptor would block; returns how many bytes it read.
fn drain(fd: RawFd) -> usize {
    let mut buf = [0u8; 64];
    let mut total = 0;
    loop {
        // SAFETY: reads at most `buf.len()` bytes into a live buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return total;
        }
        total += n as usize;
    }
}

fn select<const N: usize>(
    epoll: &mut Epoll,
    events: &mut Events<libc::epoll_event, N>,
    timeout: Option<Duration>,
) -> Vec<(Token, Ready)> {
    epoll.select(events, timeout).expect("select");
    events
        .as_slice()
        .iter()
        .map(|e| (Epoll::token(e), Epoll::ready(e)))
        .collect()
}

/// Asserts the next select reports exactly one event, for `token`, with all of `ready`;
/// returns its full readiness.
fn expect_one(epoll: &mut Epoll, token: Token, ready: Ready) -> Ready {
    let got = select(epoll, &mut Events::<_, 8>::new(), WAIT);
    match got.as_slice() {
        [(t, r)] if *t == token && r.contains(ready) => *r,
        other => panic!("expected one event {token:?} with {ready:?}, got {other:?}"),
    }
}

fn expect_none(epoll: &mut Epoll) {
    let got = select(epoll, &mut Events::<_, 8>::new(), BRIEF);
    assert!(got.is_empty(), "expected no events, got {got:?}");
}

fn registered_pipe(epoll: &mut Epoll, token: Token, opt: PollOpt) -> (Fd, Fd) {
    let (reader, writer) = pipe();
    epoll
        .register(reader.raw(), token, Interest::READABLE, opt)
        .unwrap();
    (reader, writer)
}

#[test]
fn edge_reports_once_per_new_data() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::edge());
    write_byte(&writer);
    expect_one(&mut epoll, Token(1), Ready::READABLE);
    expect_none(&mut epoll);
    // Still unread, but new data is a new edge.
    write_byte(&writer);
    expect_one(&mut epoll, Token(1), Ready::READABLE);
    expect_none(&mut epoll);
    assert_eq!(drain(reader.raw()), 2);
}

#[test]
fn unknown_handles_are_not_found() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, _writer) = pipe();
    let err = epoll.deregister(reader.raw()).unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::NotFound, libc::ENOENT)
    );
    let err = epoll
        .reregister(reader.raw(), Token(1), Interest::READABLE, PollOpt::level())
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::NotFound, libc::ENOENT)
    );
}

#[test]
fn tokens_round_trip_whole() {
    let mut epoll = Epoll::new().unwrap();
    let (_reader, writer) = pipe();
    // The event loop keeps a generation in the high half: every bit must survive.
    epoll
        .register(
            writer.raw(),
            Token(usize::MAX),
            Interest::WRITABLE,
            PollOpt::level(),
        )
        .unwrap();
    expect_one(&mut epoll, Token(usize::MAX), Ready::WRITABLE);
}

#[test]
fn a_one_microsecond_timeout_returns_without_events() {
    let mut epoll = Epoll::new().unwrap();
    let (_reader, _writer) = registered_pipe(&mut epoll, Token(1), PollOpt::level());
    let got = select(
        &mut epoll,
        &mut Events::<_, 4>::new(),
        Some(Duration::from_micros(1)),
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn a_signal_interrupts_select_and_is_not_retried() {
    extern "C" fn ignore(_: libc::c_int) {}
    // SAFETY: an all-zero sigaction is valid (no flags, empty mask before sigemptyset);
    // the handler is async-signal-safe (it does nothing). No SA_RESTART, though
    // epoll_wait ignores it anyway (signal(7)).
    unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &action, ptr::null_mut()), 0);
    }
    let mut epoll = Epoll::new().unwrap();
    let waiter = thread::spawn(move || {
        let mut events: Events<_, 4> = Events::new();
        let result = epoll.select(&mut events, WAIT);
        (result, events.len())
    });
    // Signals until the waiter returns, so one lands while it sleeps in epoll_wait
    // however the threads are scheduled.
    while !waiter.is_finished() {
        // SAFETY: the waiter is joinable (joined below), so its pthread_t stays valid
        // even after it returns.
        unsafe { libc::pthread_kill(waiter.as_pthread_t() as libc::pthread_t, libc::SIGUSR1) };
        thread::sleep(Duration::from_millis(5));
    }
    let (result, len) = waiter.join().unwrap();
    let err = result.unwrap_err();
    assert!(err.is_interrupted(), "{err:?}");
    assert_eq!(len, 0);
}
