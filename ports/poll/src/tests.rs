//! Behaviour of [`Poll`]'s own machinery against real pipes and socket pairs: the
//! edge and oneshot emulation, the refresh poll, resuming after a full buffer,
//! swap-remove bookkeeping and the waker. What every port must do, the bare
//! selector's `EINTR` and whole tokens included, lives in the facade's conformance
//! suite (`tests/conformance`), which runs this port too.
//!
//! Every wait is bounded (`statio_test_support::selector`'s `WAIT` and `BRIEF`).
//! Nothing asserts how long a call took.

extern crate std;

use core::time::Duration;
use std::thread;
use std::vec::Vec;

use statio_core::{Events, Interest, PollOpt, Ready, Selector, Token, Wake};
use statio_test_support::selector::{WAIT, expect_event, expect_no_events, select};
use statio_unix::net::pipe::{Receiver, Sender};
use statio_unix::net::{UnixStream, pipe};

use crate::Poll;

type P = Poll<64>;

fn registered_pipe(poll: &mut P, token: Token, opt: PollOpt) -> (Receiver, Sender) {
    let (rx, tx) = pipe().unwrap();
    poll.register(rx.as_raw_fd(), token, Interest::READABLE, opt)
        .unwrap();
    (rx, tx)
}

fn drain(rx: &Receiver) -> usize {
    let mut buf = [0u8; 256];
    let mut total = 0;
    while let Some(n) = rx.try_read(&mut buf).unwrap() {
        assert!(n > 0, "EOF while draining");
        total += n;
    }
    total
}

#[test]
fn edge_stays_quiet_while_unread_and_reports_after_a_drain() {
    let mut poll = P::new();
    let (rx, tx) = registered_pipe(&mut poll, Token(1), PollOpt::edge());
    tx.try_write(b"a").unwrap();
    expect_event(&mut poll, Token(1), Ready::READABLE);
    // Still readable: stale, left out of the blocking poll, so the wait really waits.
    expect_no_events(&mut poll);
    // An arrival while the stale condition persists is not an edge poll(2) can see.
    tx.try_write(b"b").unwrap();
    expect_no_events(&mut poll);
    assert_eq!(drain(&rx), 2);
    // The refresh poll sees the pipe empty and re-arms it ...
    expect_no_events(&mut poll);
    // ... so the next arrival is reported once.
    tx.try_write(b"c").unwrap();
    expect_event(&mut poll, Token(1), Ready::READABLE);
    expect_no_events(&mut poll);
}

#[test]
fn reregister_forgets_the_stale_state_of_an_edge_registration() {
    let mut poll = P::new();
    let (rx, tx) = registered_pipe(&mut poll, Token(1), PollOpt::edge());
    tx.try_write(b"a").unwrap();
    expect_event(&mut poll, Token(1), Ready::READABLE);
    // The race the emulation cannot see: drained and refilled between two selects.
    // What the port says of itself, so servers register level-triggered here.
    const { assert!(!<P as Selector>::NATIVE_EDGES) };
    assert_eq!(drain(&rx), 1);
    tx.try_write(b"b").unwrap();
    expect_no_events(&mut poll);
    // The documented remedy: reregister after draining reports what is present.
    poll.reregister(
        rx.as_raw_fd(),
        Token(2),
        Interest::READABLE,
        PollOpt::edge(),
    )
    .unwrap();
    expect_event(&mut poll, Token(2), Ready::READABLE);
}

#[test]
fn edge_writable_does_not_wake_the_blocking_poll_and_reports_new_conditions() {
    let mut poll = P::new();
    let (a, b) = UnixStream::pair().unwrap();
    poll.register(a.as_raw_fd(), Token(3), Interest::BOTH, PollOpt::edge())
        .unwrap();
    expect_event(&mut poll, Token(3), Ready::WRITABLE);
    expect_no_events(&mut poll);
    // A new condition (readable) on a registration with a stale one is an edge.
    b.try_write(b"x").unwrap();
    let ready = expect_event(&mut poll, Token(3), Ready::READABLE);
    assert!(!ready.is_hup(), "{ready:?}");
    expect_no_events(&mut poll);
    // The peer closes: HUP is new; after it the entry leaves the blocking poll.
    drop(b);
    expect_event(&mut poll, Token(3), Ready::HUP | Ready::READ_CLOSED);
    expect_no_events(&mut poll);
}

#[test]
fn oneshot_silences_even_hang_ups_until_rearmed() {
    let mut poll = P::new();
    let (rx, tx) = registered_pipe(&mut poll, Token(1), PollOpt::oneshot());
    tx.try_write(b"a").unwrap();
    expect_event(&mut poll, Token(1), Ready::READABLE);
    drop(tx);
    // POLLHUP is reported unasked, but a negative fd is skipped entirely.
    expect_no_events(&mut poll);
    poll.reregister(
        rx.as_raw_fd(),
        Token(1),
        Interest::READABLE,
        PollOpt::oneshot(),
    )
    .unwrap();
    expect_event(&mut poll, Token(1), Ready::HUP | Ready::READABLE);
    expect_no_events(&mut poll);
}

#[test]
fn a_full_buffer_resumes_at_the_first_entry_left_over() {
    let mut poll = P::new();
    let pipes: Vec<_> = (0..20)
        .map(|i| registered_pipe(&mut poll, Token(i), PollOpt::level()))
        .collect();
    for (_, tx) in &pipes {
        tx.try_write(b"x").unwrap();
    }
    // 20 ready, 8 at a time: 0..8, 8..16, then 16..20 and 0..4 (round robin).
    let mut events: Events<_, 8> = Events::new();
    let batches: Vec<Vec<usize>> = (0..3)
        .map(|_| {
            select(&mut poll, &mut events, Some(WAIT))
                .iter()
                .map(|(t, _)| t.0)
                .collect()
        })
        .collect();
    assert_eq!(batches[0], (0..8).collect::<Vec<_>>());
    assert_eq!(batches[1], (8..16).collect::<Vec<_>>());
    assert_eq!(batches[2], [16, 17, 18, 19, 0, 1, 2, 3]);
}

#[test]
fn swap_remove_keeps_every_other_registration_reachable() {
    let mut poll = P::new();
    let pipes: Vec<_> = (0..10)
        .map(|i| registered_pipe(&mut poll, Token(i), PollOpt::level()))
        .collect();
    // Remove from the middle, the front and the end; the moved entries keep their
    // tokens and can still be reregistered and deregistered by fd.
    for i in [4, 0, 9] {
        poll.deregister(pipes[i].0.as_raw_fd()).unwrap();
    }
    assert_eq!(poll.len(), 7);
    for (i, (rx, _)) in pipes.iter().enumerate() {
        let result = poll.reregister(
            rx.as_raw_fd(),
            Token(100 + i),
            Interest::READABLE,
            PollOpt::level(),
        );
        assert_eq!(result.is_ok(), ![4, 0, 9].contains(&i), "pipe {i}");
    }
    pipes[7].1.try_write(b"x").unwrap();
    expect_event(&mut poll, Token(107), Ready::READABLE);
    let err = poll.deregister(pipes[4].0.as_raw_fd()).unwrap_err();
    assert_eq!(err.code(), libc::ENOENT);
}

#[test]
fn capacity_duplicates_and_closed_descriptors_are_errors() {
    let mut poll: Poll<2> = Poll::new();
    let (a, _a) = pipe().unwrap();
    let (b, _b) = pipe().unwrap();
    let (c, _c) = pipe().unwrap();
    let r = Interest::READABLE;
    poll.register(a.as_raw_fd(), Token(0), r, PollOpt::level())
        .unwrap();
    let err = poll
        .register(a.as_raw_fd(), Token(1), r, PollOpt::level())
        .unwrap_err();
    assert_eq!(err.code(), libc::EEXIST);
    poll.register(b.as_raw_fd(), Token(1), r, PollOpt::level())
        .unwrap();
    let err = poll
        .register(c.as_raw_fd(), Token(2), r, PollOpt::level())
        .unwrap_err();
    assert_eq!(err.code(), libc::ENOSPC);
    poll.deregister(a.as_raw_fd()).unwrap();
    let closed = c.as_raw_fd();
    drop(c);
    let err = poll
        .register(closed, Token(2), r, PollOpt::level())
        .unwrap_err();
    assert_eq!(err.code(), libc::EBADF);
    let err = poll
        .register(-1, Token(2), r, PollOpt::level())
        .unwrap_err();
    assert_eq!(err.code(), libc::EBADF);
}

#[test]
fn the_waker_wakes_from_another_thread_and_is_drained() {
    let mut poll = P::new();
    let waker = poll.waker().unwrap();
    assert_eq!(
        poll.waker().unwrap_err().code(),
        libc::EEXIST,
        "one waker per Poll"
    );
    expect_no_events(&mut poll);
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        for _ in 0..3 {
            waker.wake().unwrap();
        }
        waker
    });
    expect_event(&mut poll, Token::WAKER, Ready::READABLE);
    let waker = t.join().unwrap();
    // The thread's later wakes may have landed after that select (a loaded machine
    // showed it): take them, then three wakes here are one event, all drained:
    // level-triggered yet quiet after it.
    select(&mut poll, &mut Events::<_, 8>::new(), Some(Duration::ZERO));
    for _ in 0..3 {
        waker.wake().unwrap();
    }
    expect_event(&mut poll, Token::WAKER, Ready::READABLE);
    expect_no_events(&mut poll);
    // A full pipe is a pending wake-up: success.
    for _ in 0..100_000 {
        waker.wake().unwrap();
    }
    expect_event(&mut poll, Token::WAKER, Ready::READABLE);
    // The waker outlives the selector without EPIPE (it keeps a reader).
    drop(poll);
    waker.wake().unwrap();
}
