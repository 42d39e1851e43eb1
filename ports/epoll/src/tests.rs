//! Behaviour of [`Epoll`] against real pipes and socket pairs, and under the event loop.
//!
//! Every wait is bounded: `WAIT` where an event is certainly pending (it returns at
//! once), `BRIEF` where none may come. Nothing asserts how long a call took.

extern crate std;

use core::time::Duration;
use std::os::unix::thread::JoinHandleExt;
use std::vec::Vec;
use std::{ptr, thread};

use embedded_io::ErrorKind;
use statio_core::{EventLoop, Events, Handler, Interest, PollOpt, Ready, Selector, Token};
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

fn socketpair() -> (Fd, Fd) {
    let mut fds = [0; 2];
    let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let ret = unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) };
    assert_eq!(ret, 0, "socketpair");
    // SAFETY: socketpair succeeded: both are new descriptors that nothing else owns.
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
fn level_reports_every_call_while_readable() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::level());
    expect_none(&mut epoll);
    write_byte(&writer);
    for _ in 0..3 {
        expect_one(&mut epoll, Token(1), Ready::READABLE);
    }
    assert_eq!(drain(reader.raw()), 1);
    expect_none(&mut epoll);
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
fn oneshot_reports_once_until_reregistered() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::oneshot());
    write_byte(&writer);
    expect_one(&mut epoll, Token(1), Ready::READABLE);
    expect_none(&mut epoll);
    write_byte(&writer);
    expect_none(&mut epoll);
    // Re-arming re-checks readiness: the pending data is reported, under the new token.
    epoll
        .reregister(
            reader.raw(),
            Token(2),
            Interest::READABLE,
            PollOpt::oneshot(),
        )
        .unwrap();
    expect_one(&mut epoll, Token(2), Ready::READABLE);
    expect_none(&mut epoll);
}

#[test]
fn deregister_stops_events() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::level());
    write_byte(&writer);
    expect_one(&mut epoll, Token(1), Ready::READABLE);
    epoll.deregister(reader.raw()).unwrap();
    expect_none(&mut epoll);
    write_byte(&writer);
    expect_none(&mut epoll);
}

#[test]
fn register_twice_is_already_exists() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, _writer) = registered_pipe(&mut epoll, Token(1), PollOpt::level());
    let err = epoll
        .register(reader.raw(), Token(2), Interest::READABLE, PollOpt::level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(err.code(), libc::EEXIST);
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
fn peer_close_gives_read_closed_and_hup() {
    let mut epoll = Epoll::new().unwrap();
    let (ours, theirs) = socketpair();
    epoll
        .register(ours.raw(), Token(1), Interest::READABLE, PollOpt::edge())
        .unwrap();
    drop(theirs);
    let ready = expect_one(&mut epoll, Token(1), Ready::READ_CLOSED | Ready::HUP);
    assert!(ready.is_write_closed() && ready.is_readable(), "{ready:?}");
}

#[test]
fn pipe_writer_close_gives_read_closed_and_hup() {
    let mut epoll = Epoll::new().unwrap();
    let (_reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::edge());
    drop(writer);
    expect_one(&mut epoll, Token(1), Ready::READ_CLOSED | Ready::HUP);
}

#[test]
fn peer_shutdown_write_gives_read_closed_not_hup() {
    let mut epoll = Epoll::new().unwrap();
    let (ours, theirs) = socketpair();
    epoll
        .register(ours.raw(), Token(1), Interest::BOTH, PollOpt::edge())
        .unwrap();
    expect_one(&mut epoll, Token(1), Ready::WRITABLE);
    // SAFETY: shuts down a descriptor `theirs` owns; no pointers.
    assert_eq!(unsafe { libc::shutdown(theirs.raw(), libc::SHUT_WR) }, 0);
    let ready = expect_one(&mut epoll, Token(1), Ready::READ_CLOSED | Ready::READABLE);
    assert!(!ready.is_hup() && !ready.is_write_closed(), "{ready:?}");
}

#[test]
fn pipe_reader_close_gives_error_not_write_closed() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = pipe();
    epoll
        .register(writer.raw(), Token(1), Interest::WRITABLE, PollOpt::edge())
        .unwrap();
    expect_one(&mut epoll, Token(1), Ready::WRITABLE);
    drop(reader);
    // EPOLLERR (epoll_ctl(2)); WRITE_CLOSED is kept for EPOLLHUP, see the crate docs.
    let ready = expect_one(&mut epoll, Token(1), Ready::ERROR);
    assert!(!ready.is_write_closed() && !ready.is_hup(), "{ready:?}");
}

/// Ten ready pipes, a buffer of four: successive selects deliver every one.
fn more_ready_than_the_buffer_holds(opt: PollOpt) -> Vec<Vec<Token>> {
    let mut epoll = Epoll::new().unwrap();
    let pipes: Vec<(Fd, Fd)> = (0..10)
        .map(|i| registered_pipe(&mut epoll, Token(i), opt))
        .collect();
    for (_, writer) in &pipes {
        write_byte(writer);
    }
    let mut events: Events<_, 4> = Events::new();
    (0..3)
        .map(|_| {
            let got = select(&mut epoll, &mut events, WAIT);
            got.into_iter()
                .map(|(token, ready)| {
                    assert!(ready.is_readable(), "{ready:?}");
                    token
                })
                .collect()
        })
        .collect()
}

fn assert_all_ten(batches: &[Vec<Token>]) {
    let mut seen: Vec<usize> = batches.iter().flatten().map(|t| t.0).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, (0..10).collect::<Vec<_>>(), "{batches:?}");
}

#[test]
fn level_round_robins_when_the_buffer_is_full() {
    let batches = more_ready_than_the_buffer_holds(PollOpt::level());
    // Level-triggered sources still ready go back to the tail of the ready list
    // (ep_send_events, fs/eventpoll.c), hence round robin (epoll_wait(2)): 4 + 4 + 4.
    assert!(batches.iter().all(|b| b.len() == 4), "{batches:?}");
    assert_all_ten(&batches);
}

#[test]
fn edge_delivers_the_rest_next_time() {
    let batches = more_ready_than_the_buffer_holds(PollOpt::edge());
    assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
    assert_all_ten(&batches);
}

#[test]
fn oneshot_delivers_the_rest_next_time() {
    let batches = more_ready_than_the_buffer_holds(PollOpt::oneshot());
    assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
    assert_all_ten(&batches);
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

type CountingLoop = EventLoop<Counter, Epoll, 16, 0, 8>;

/// Counts readable events and shuts the loop down; on an event, deregisters the other
/// sources it holds (index = token).
struct Counter {
    readable: usize,
    others: Vec<Option<Fd>>,
}

impl Handler for Counter {
    type Timeout = ();
    type Message = ();
    type Loop = CountingLoop;

    fn readable(&mut self, event_loop: &mut CountingLoop, token: Token, hint: Ready) {
        assert!(hint.is_readable(), "{hint:?}");
        self.readable += 1;
        for (i, slot) in self.others.iter_mut().enumerate() {
            if i != token.0
                && let Some(fd) = slot.take()
            {
                event_loop.deregister(&fd, Token(i)).unwrap();
            }
        }
        event_loop.shutdown();
    }
}

#[test]
fn event_loop_runs_on_epoll() {
    let mut event_loop = CountingLoop::new().unwrap();
    let (reader, writer) = pipe();
    event_loop.register(&reader, Token(3)).unwrap();
    write_byte(&writer);
    let mut counter = Counter {
        readable: 0,
        others: Vec::new(),
    };
    // No timeout: the byte is certainly pending.
    event_loop.run(&mut counter).unwrap();
    assert_eq!(counter.readable, 1);
    assert_eq!(drain(reader.raw()), 1);
    event_loop.run_once(&mut counter, BRIEF).unwrap();
    assert_eq!(counter.readable, 1);
    event_loop.deregister(&reader, Token(3)).unwrap();
}

#[test]
fn event_loop_drops_events_of_a_source_deregistered_in_the_same_turn() {
    let mut event_loop = CountingLoop::new().unwrap();
    let (a, a_writer) = pipe();
    let (b, b_writer) = pipe();
    event_loop.register(&a, Token(0)).unwrap();
    event_loop.register(&b, Token(1)).unwrap();
    write_byte(&a_writer);
    write_byte(&b_writer);
    // Both events are in one batch; whichever is dispatched first deregisters the
    // other pipe, whose event must then be dropped.
    let mut counter = Counter {
        readable: 0,
        others: std::vec![Some(a), Some(b)],
    };
    event_loop.run_once(&mut counter, WAIT).unwrap();
    assert_eq!(counter.readable, 1);
    assert_eq!(counter.others.iter().filter(|s| s.is_some()).count(), 1);
}
