//! What the default `Handler::ready` makes of a port's events (issue 14, item 6), and a
//! turn nested in a callback (item 4): the same on every port.
//!
//! `writable` comes only from `WRITABLE`, which a port reports only to a registration
//! that asked for it; a hang-up on a readable-only registration reaches `readable`
//! alone. And `writable` is skipped once `readable` ended the registration.

use std::marker::PhantomData;

use statio::net::UnixStream;
use statio::{Error, GenericEventLoop, Handler, Interest, PollOpt, RawFd, Ready, Selector, Token};

use crate::util::*;

const T: Token = Token(1);

type SplitLoop<S> = GenericEventLoop<Split<S>, S, 4, 0, 4>;

/// Counts the default `ready`'s calls; may deregister its source in `readable`.
struct Split<S> {
    source: Option<UnixStream>,
    readable: Vec<Ready>,
    writable: usize,
    /// In `readable`, deregister `source` (and keep it), so the event's `writable`
    /// belongs to a registration that has ended.
    deregister: bool,
    selector: PhantomData<fn() -> S>,
}

impl<S: Selector<Handle = RawFd>> Handler for Split<S> {
    type Timeout = ();
    type Message = ();
    type Loop = SplitLoop<S>;

    fn readable(&mut self, el: &mut SplitLoop<S>, token: Token, hint: Ready) {
        self.readable.push(hint);
        if self.deregister {
            el.deregister(self.source.as_ref().unwrap(), token).unwrap();
        }
    }

    fn writable(&mut self, _: &mut SplitLoop<S>, _: Token) {
        self.writable += 1;
    }
}

fn split<S: Selector<Handle = RawFd>>(source: UnixStream, deregister: bool) -> Split<S> {
    Split {
        source: Some(source),
        readable: Vec::new(),
        writable: 0,
        deregister,
        selector: PhantomData,
    }
}

/// Runs turns until `readable` has been called (at most [`MAX_TURNS`]).
fn until_readable<S: Selector<Handle = RawFd>>(el: &mut SplitLoop<S>, h: &mut Split<S>) {
    for _ in 0..MAX_TURNS {
        if !h.readable.is_empty() {
            return;
        }
        el.run_once(h, Some(TURN)).unwrap();
    }
    panic!("readable was never called");
}

/// A peer that closes: a readable-only registration hears `readable` (with `HUP` or
/// `READ_CLOSED`), never `writable`, level- or edge-triggered.
pub fn hang_up_on_a_readable_registration_calls_readable_only<S: Selector<Handle = RawFd>>() {
    for opt in [PollOpt::level(), PollOpt::edge()] {
        let (a, b) = socketpair();
        let mut el = SplitLoop::<S>::new().unwrap();
        el.register_opt(&a, T, Interest::READABLE, opt).unwrap();
        let mut h = split::<S>(a, false);
        drop(b);
        until_readable(&mut el, &mut h);
        // One more turn: a level registration reports the hang-up again.
        el.run_once(&mut h, Some(QUIET_TURN)).unwrap();
        assert!(
            h.readable[0].intersects(Ready::HUP | Ready::READ_CLOSED),
            "{opt:?}: {:?}",
            h.readable
        );
        assert_eq!(
            h.writable, 0,
            "{opt:?}: writable on a hang-up: {:?}",
            h.readable
        );
    }
}

/// A source readable and writable at once, registered for both: `readable` then
/// `writable`; but when `readable` deregisters it, no `writable` follows.
pub fn writable_is_skipped_once_readable_deregistered<S: Selector<Handle = RawFd>>() {
    for deregister in [false, true] {
        let (a, b) = socketpair();
        let mut el = SplitLoop::<S>::new().unwrap();
        el.register_opt(&a, T, Interest::BOTH, PollOpt::edge())
            .unwrap();
        send(&b, b"x");
        let mut h = split::<S>(a, deregister);
        until_readable(&mut el, &mut h);
        // kqueue reports the write filter as an event of its own: let it come.
        el.run_once(&mut h, Some(QUIET_TURN)).unwrap();
        let want = usize::from(!deregister);
        assert_eq!(h.writable, want, "deregister in readable: {deregister}");
    }
}

const SOURCES: usize = 4;

type NestLoop<S> = GenericEventLoop<Nester<S>, S, SOURCES, 0, 8>;

/// On each event: reads it, then tries a nested `run_once` and `run`.
struct Nester<S> {
    sources: Vec<UnixStream>,
    seen: Vec<usize>,
    nested: Vec<Result<(), Error>>,
    selector: PhantomData<fn() -> S>,
}

impl<S: Selector<Handle = RawFd>> Handler for Nester<S> {
    type Timeout = ();
    type Message = ();
    type Loop = NestLoop<S>;

    fn readable(&mut self, el: &mut NestLoop<S>, token: Token, _: Ready) {
        self.seen.push(token.0);
        drain(&self.sources[token.0]);
        let once = el.run_once(self, Some(TURN));
        self.nested.push(once);
        let run = el.run(self);
        self.nested.push(run);
    }
}

/// Four edge-triggered sources ready in one batch, each callback trying a nested turn:
/// every nested call is refused with `Reentered`, and all four events are delivered.
pub fn a_nested_turn_is_refused_and_loses_no_event<S: Selector<Handle = RawFd>>() {
    let mut el = NestLoop::<S>::new().unwrap();
    let mut h = Nester {
        sources: Vec::new(),
        seen: Vec::new(),
        nested: Vec::new(),
        selector: PhantomData,
    };
    let mut peers = Vec::new();
    for token in 0..SOURCES {
        let (a, b) = socketpair();
        el.register_opt(&a, Token(token), Interest::READABLE, PollOpt::edge())
            .unwrap();
        send(&b, b"x");
        h.sources.push(a);
        peers.push(b);
    }
    for _ in 0..MAX_TURNS {
        if h.seen.len() == SOURCES {
            break;
        }
        el.run_once(&mut h, Some(TURN)).unwrap();
    }
    h.seen.sort_unstable();
    assert_eq!(h.seen, [0, 1, 2, 3]);
    assert!(
        h.nested.iter().all(|r| *r == Err(Error::Reentered)),
        "{:?}",
        h.nested
    );
    assert_eq!(h.nested.len(), 2 * SOURCES);
}
