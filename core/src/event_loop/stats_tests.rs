//! The loop's marks on the simulated selector: scripted workloads, and the exact peaks
//! and limit counts they must leave.

extern crate std;

use core::time::Duration;
use std::string::ToString;

use super::{EventLoop, Stats};
use crate::channel::Channel;
use crate::handler::Handler;
use crate::interest::{Interest, PollOpt};
use crate::mark::Mark;
use crate::sim::{SimSelector, SimSource};
use crate::{Error, Ready, TimerError, Token};

/// 4 sources, 2 timers, 2 events a turn: small enough to hit every limit.
type Loop = EventLoop<Counter, SimSelector, 4, 2, 2>;

/// Counts what arrives; nothing else.
#[derive(Default)]
struct Counter {
    events: usize,
    timeouts: usize,
    messages: usize,
}

impl Handler for Counter {
    type Timeout = u8;
    type Message = u32;
    type Loop = Loop;

    fn ready(&mut self, _: &mut Loop, _: Token, _: Ready) {
        self.events += 1;
    }

    fn timeout(&mut self, _: &mut Loop, _: u8) {
        self.timeouts += 1;
    }

    fn notify(&mut self, _: &mut Loop, _: u32) {
        self.messages += 1;
    }
}

const fn mark(now: usize, peak: usize, capacity: usize, limit_hits: u64) -> Mark {
    Mark {
        now,
        peak,
        capacity,
        limit_hits,
    }
}

/// Registers handle `fd` under token `fd`, edge-triggered, and makes it readable.
fn ready_source(event_loop: &mut Loop, fd: i32) {
    let token = Token(fd as usize);
    event_loop
        .register_opt(&SimSource(fd), token, Interest::READABLE, PollOpt::edge())
        .unwrap();
    event_loop
        .selector_mut()
        .set_ready(fd, Ready::READABLE)
        .unwrap();
}

#[test]
fn a_new_loop_has_seen_nothing() {
    let event_loop = Loop::new().unwrap();
    let want = Stats {
        sources: mark(0, 0, 4, 0),
        timers: mark(0, 0, 2, 0),
        events: mark(0, 0, 2, 0),
        channel: None,
        pool: None,
        table: None,
        accept_paused: None,
    };
    assert_eq!(event_loop.stats(), want);
}

#[test]
fn sources_peak_and_out_of_range_tokens_count() {
    let mut event_loop = Loop::new().unwrap();
    for fd in 0..4 {
        event_loop
            .register(&SimSource(fd), Token(fd as usize))
            .unwrap();
    }
    for token in [4, 9] {
        let refused = event_loop.register(&SimSource(10), Token(token));
        assert!(matches!(refused, Err(Error::TokenOutOfRange { .. })));
    }
    // In use is a caller's mistake, not the capacity: not a limit hit.
    let in_use = event_loop.register(&SimSource(11), Token(0));
    assert_eq!(in_use, Err(Error::TokenInUse(Token(0))));
    event_loop.deregister(&SimSource(3), Token(3)).unwrap();
    event_loop.deregister(&SimSource(2), Token(2)).unwrap();
    assert_eq!(event_loop.stats().sources, mark(2, 4, 4, 2));

    event_loop.reset_stats();
    assert_eq!(event_loop.stats().sources, mark(2, 2, 4, 0));
    event_loop.register(&SimSource(2), Token(2)).unwrap();
    assert_eq!(event_loop.stats().sources, mark(3, 3, 4, 0));
    // A token freed for a source dropped while registered counts as gone too.
    event_loop.release(Token(2)).unwrap();
    assert_eq!(event_loop.stats().sources, mark(2, 3, 4, 0));
}

#[test]
fn events_peak_per_turn_and_full_turns_count() {
    let mut event_loop = Loop::new().unwrap();
    let mut counter = Counter::default();
    // Three edges and a buffer of two: a full turn, then the one left.
    for fd in 0..3 {
        ready_source(&mut event_loop, fd);
    }
    event_loop.run_once(&mut counter, None).unwrap();
    assert_eq!(event_loop.stats().events, mark(2, 2, 2, 1));
    event_loop.run_once(&mut counter, None).unwrap();
    assert_eq!(event_loop.stats().events, mark(1, 2, 2, 1));
    // Four more edges: two full turns in a row, each counted.
    for fd in 0..3 {
        event_loop
            .selector_mut()
            .set_ready(fd, Ready::READABLE)
            .unwrap();
    }
    ready_source(&mut event_loop, 3);
    event_loop.run_once(&mut counter, None).unwrap();
    event_loop.run_once(&mut counter, None).unwrap();
    assert_eq!(event_loop.stats().events, mark(2, 2, 2, 3));
    // A turn with nothing: not a batch.
    event_loop
        .run_once(&mut counter, Some(Duration::ZERO))
        .unwrap();
    assert_eq!(event_loop.stats().events, mark(0, 2, 2, 3));
    assert_eq!(counter.events, 7);

    event_loop.reset_stats();
    assert_eq!(event_loop.stats().events, mark(0, 0, 2, 0));
    event_loop
        .selector_mut()
        .set_ready(0, Ready::READABLE)
        .unwrap();
    event_loop.run_once(&mut counter, None).unwrap();
    assert_eq!(event_loop.stats().events, mark(1, 1, 2, 0));
}

#[test]
fn a_one_event_buffer_counts_every_turn_full() {
    type Tiny = EventLoop<One, SimSelector, 2, 0, 1>;
    struct One;
    impl Handler for One {
        type Timeout = ();
        type Message = ();
        type Loop = Tiny;
    }
    let mut event_loop = Tiny::new().unwrap();
    for fd in 0..2 {
        event_loop
            .register(&SimSource(fd), Token(fd as usize))
            .unwrap();
        event_loop
            .selector_mut()
            .set_ready(fd, Ready::READABLE)
            .unwrap();
    }
    // Level-triggered: both stay ready, one a turn.
    for _ in 0..5 {
        event_loop.run_once(&mut One, None).unwrap();
    }
    assert_eq!(event_loop.stats().events, mark(1, 1, 1, 5));
}

#[test]
fn timers_peak_and_a_full_wheel_counts() {
    let mut event_loop = Loop::new().unwrap();
    let mut counter = Counter::default();
    event_loop.timeout(1, Duration::from_millis(5)).unwrap();
    event_loop.timeout(2, Duration::from_millis(10)).unwrap();
    assert_eq!(
        event_loop.timeout(3, Duration::from_millis(1)),
        Err(TimerError::Full(3))
    );
    // Out of range is a deadline, not the capacity: not a limit hit.
    assert!(matches!(
        event_loop.timeout(4, Duration::MAX),
        Err(TimerError::OutOfRange(4))
    ));
    assert_eq!(event_loop.stats().timers, mark(2, 2, 2, 1));
    // The sim's clock moves by each wait: both fire within three turns.
    for _ in 0..3 {
        event_loop.run_once(&mut counter, None).unwrap();
    }
    assert_eq!(counter.timeouts, 2);
    assert_eq!(event_loop.stats().timers, mark(0, 2, 2, 1));
    event_loop.reset_stats();
    assert_eq!(event_loop.stats().timers, mark(0, 0, 2, 0));
}

#[test]
fn channel_depth_is_seen_at_delivery_and_full_sends_count() {
    static CHANNEL: Channel<u32, 4> = Channel::new();
    let mut event_loop = Loop::new().unwrap();
    let mut counter = Counter::default();
    let tx = event_loop.attach_channel(&CHANNEL).unwrap();
    assert_eq!(event_loop.stats().channel, Some(mark(0, 0, 4, 0)));
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    // Depth now is read at the call; the peak is what a delivery found.
    assert_eq!(event_loop.stats().channel, Some(mark(3, 3, 4, 0)));
    event_loop.run_once(&mut counter, None).unwrap();
    assert_eq!(event_loop.stats().channel, Some(mark(0, 3, 4, 0)));
    for i in 0..6 {
        let _ = tx.send(i);
    }
    event_loop.run_once(&mut counter, None).unwrap();
    assert_eq!(counter.messages, 7);
    assert_eq!(event_loop.stats().channel, Some(mark(0, 4, 4, 2)));

    event_loop.reset_stats();
    assert_eq!(event_loop.stats().channel, Some(mark(0, 0, 4, 0)));
    for i in 0..5 {
        let _ = tx.send(i);
    }
    assert_eq!(event_loop.stats().channel, Some(mark(4, 4, 4, 1)));
}

#[test]
fn display_is_one_block_a_row_a_part() {
    let mut event_loop = Loop::new().unwrap();
    let mut counter = Counter::default();
    for fd in 0..3 {
        ready_source(&mut event_loop, fd);
    }
    let _ = event_loop.register(&SimSource(9), Token(9));
    event_loop.run_once(&mut counter, None).unwrap();
    let pool = mark(1, 3, 8, 2);
    let stats = event_loop
        .stats()
        .with_pool(pool)
        .with_table(mark(3, 3, 4, 0))
        .with_accept_paused(1);
    let want = "\
statio stats         now     peak  capacity  limit hits
sources                3        3         4           1  token out of range
timers                 0        0         2           0  wheel full
events per turn        2        2         2           1  turns that filled the buffer
pool buffers           1        3         8           2  pool empty
table slots            3        3         4           0  table full
listener                                              1  accept paused (EMFILE)
";
    assert_eq!(stats.to_string(), want);
    assert_eq!(stats.pool, Some(pool));
}
