//! More ready sources than the events buffer holds: the rest arrive on later turns,
//! none is lost or starved, in every mode.

use std::collections::BTreeMap;

use statio::net::UnixStream;
use statio::{Interest, PollOpt, RawFd, Selector, Token};

use crate::util::*;

const READY: usize = 40;
const EVENTS: usize = 8;
/// Turns enough to take `READY` events `EVENTS` at a time, twice over: a port that
/// resumes where the last turn stopped needs `READY / EVENTS`; one that starves a
/// source never gets there.
const TURN_CAP: usize = 2 * READY.div_ceil(EVENTS);

/// Registers `READY` socketpair ends as `opt`, makes each readable, and runs turns
/// until every token was dispatched. Returns how often each token was.
fn all_ready<S: Selector<Handle = RawFd>>(opt: PollOpt) -> BTreeMap<usize, usize> {
    let mut el = new_loop::<S, (), 64, EVENTS>();
    let mut h = Recorder::new();
    let pairs: Vec<(UnixStream, UnixStream)> = (0..READY).map(|_| socketpair()).collect();
    for (i, (source, peer)) in pairs.iter().enumerate() {
        el.register_opt(source, Token(i), Interest::READABLE, opt)
            .unwrap();
        send(peer, b"x");
    }
    let mut count = BTreeMap::new();
    for _ in 0..TURN_CAP {
        let got = turn(&mut el, &mut h, TURN);
        assert!(got.len() <= EVENTS, "{opt:?}: a turn dispatched {got:?}");
        for (token, ready) in got {
            assert!(ready.is_readable(), "{opt:?}: {token:?} {ready:?}");
            *count.entry(token.0).or_insert(0) += 1;
        }
        if count.len() == READY {
            if opt.is_edge() || opt.is_oneshot() {
                h.take();
                expect_no_events(&mut el, &mut h, 2, "every source reported once");
            }
            return count;
        }
    }
    let missing: Vec<usize> = (0..READY).filter(|i| !count.contains_key(i)).collect();
    panic!(
        "{opt:?}: after {TURN_CAP} turns of up to {EVENTS} events, tokens {missing:?} \
         were never dispatched; counts: {count:?}"
    );
}

/// Level-triggered, data never read: every source is still dispatched, in turn.
pub fn level_dispatches_every_source<S: Selector<Handle = RawFd>>() {
    let count = all_ready::<S>(PollOpt::level());
    assert_eq!(count.len(), READY);
}

/// Edge-triggered: every source exactly once.
pub fn edge_dispatches_every_source_once<S: Selector<Handle = RawFd>>() {
    let count = all_ready::<S>(PollOpt::edge());
    assert!(count.values().all(|&n| n == 1), "{count:?}");
}

/// Oneshot: every source exactly once.
pub fn oneshot_dispatches_every_source_once<S: Selector<Handle = RawFd>>() {
    let count = all_ready::<S>(PollOpt::oneshot());
    assert!(count.values().all(|&n| n == 1), "{count:?}");
}

/// Edge + oneshot: every source exactly once.
pub fn edge_oneshot_dispatches_every_source_once<S: Selector<Handle = RawFd>>() {
    let count = all_ready::<S>(PollOpt::edge().with_oneshot());
    assert!(count.values().all(|&n| n == 1), "{count:?}");
}
