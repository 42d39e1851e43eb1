//! Stale events: an event already in the current batch must not be dispatched once its
//! registration ended in a callback of the same turn, even when the token, or the token
//! and the fd number, are registered again at once (the loop's token generations).

use statio::net::UnixStream;
use statio::{Interest, PollOpt, RawFd, Selector, Token};

use crate::util::*;

/// Two sources, tokens 0 and 1, both ready before the turn; each starts with data.
struct Two {
    sources: [Option<UnixStream>; 2],
    peers: [Option<UnixStream>; 2],
    /// Bytes the hook read from each token's source.
    read: [usize; 2],
    /// Sources taken out of the loop by the hook, kept open.
    removed: Vec<UnixStream>,
    /// (token, fd number) of the source the hook replaced, once it has.
    replaced: Option<(usize, RawFd)>,
    /// Pairs opened while looking for the freed fd number, kept open meanwhile so the
    /// next attempt gets higher numbers.
    spare: Vec<(UnixStream, UnixStream)>,
}

type TwoLoop<S> = RecLoop<S, Two, 4, 8>;

/// Registers two ready socketpair ends under tokens 0 and 1 as `opt`.
fn two_ready<S: Selector<Handle = RawFd>>(el: &mut TwoLoop<S>, opt: PollOpt) -> Two {
    let (a, a_peer) = socketpair();
    let (b, b_peer) = socketpair();
    el.register_opt(&a, Token(0), Interest::READABLE, opt)
        .unwrap();
    el.register_opt(&b, Token(1), Interest::READABLE, opt)
        .unwrap();
    send(&a_peer, b"a");
    send(&b_peer, b"b");
    Two {
        sources: [Some(a), Some(b)],
        peers: [Some(a_peer), Some(b_peer)],
        read: [0; 2],
        removed: Vec::new(),
        replaced: None,
        spare: Vec::new(),
    }
}

/// Drains the source under `token` (so a level registration goes quiet), counting.
fn read_own<S: Selector, const N: usize, const E: usize>(
    h: &mut Recorder<S, Two, N, E>,
    token: Token,
) {
    let source = h.state.sources[token.0].as_ref();
    h.state.read[token.0] += drain(source.expect("a registered source"));
}

/// Runs the one turn that takes both events (both are ready: it returns at once).
fn the_batch<S: Selector<Handle = RawFd>>(
    el: &mut TwoLoop<S>,
    h: &mut Recorder<S, Two, 4, 8>,
) -> Token {
    let got = turn(el, h, TURN);
    assert_eq!(
        got.len(),
        1,
        "the first event's handler ended the other registration: {got:?}"
    );
    got[0].0
}

/// Two sources are ready in one batch; the handler of the first event deregisters the
/// second, whose event must then not be dispatched.
pub fn deregistered_in_the_batch_gets_no_event<S: Selector<Handle = RawFd>>() {
    for opt in [PollOpt::level(), PollOpt::edge(), PollOpt::oneshot()] {
        let mut el = new_loop::<S, Two, 4, 8>();
        let state = two_ready(&mut el, opt);
        let mut h = Recorder::with_hook(state, |h, el, token, _| {
            read_own(h, token);
            let other = 1 - token.0;
            if let Some(source) = h.state.sources[other].take() {
                el.deregister(&source, Token(other)).unwrap();
                h.state.removed.push(source);
            }
        });
        let first = the_batch(&mut el, &mut h);
        // The removed source really was ready: its data is still there.
        assert_eq!(h.state.removed.len(), 1, "{opt:?}");
        assert_eq!(drain(&h.state.removed[0]), 1, "{opt:?}");
        assert!(!el.is_registered(Token(1 - first.0)));
        h.take();
        expect_no_events(&mut el, &mut h, 2, "the other source is deregistered");
    }
}

/// The handler of the first event deregisters the second source and registers it again
/// under the same token: the event of the old registration in the batch is stale, and
/// the new registration reports on the next turn.
pub fn reregistered_in_the_batch_gets_no_stale_event<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, Two, 4, 8>();
    let state = two_ready(&mut el, PollOpt::level());
    let mut h = Recorder::with_hook(state, |h, el, token, _| {
        read_own(h, token);
        let other = 1 - token.0;
        if h.state.replaced.is_none() {
            let source = h.state.sources[other].as_ref().unwrap();
            el.deregister(source, Token(other)).unwrap();
            el.register(source, Token(other)).unwrap();
            h.state.replaced = Some((other, source.as_raw_fd()));
        }
    });
    the_batch(&mut el, &mut h);
    let (victim, _) = h.state.replaced.expect("the hook ran");
    // Level-triggered with its data unread: the new registration reports.
    h.take();
    let ready = expect_event(&mut el, &mut h, Token(victim));
    assert!(ready.is_readable(), "{ready:?}");
}

/// The handler of the first event deregisters and closes the second source, opens a
/// new socket that gets the same fd number, and registers it under the same token.
/// The old source's event in the batch must not be dispatched; the new source's own
/// events arrive later.
pub fn reopened_fd_number_gets_no_stale_event<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, Two, 4, 8>();
    let state = two_ready(&mut el, PollOpt::level());
    let mut h = Recorder::with_hook(state, |h, el, token, _| {
        read_own(h, token);
        if h.state.replaced.is_some() {
            return;
        }
        let other = 1 - token.0;
        let old = h.state.sources[other].take().unwrap();
        let number = old.as_raw_fd();
        el.deregister(&old, Token(other)).unwrap();
        drop(old);
        // The lowest free number is reused (POSIX), unless another test thread took it
        // in between: keep the misses open and try again, a bounded number of times.
        for _ in 0..64 {
            let (x, y) = socketpair();
            let (new, peer) = if x.as_raw_fd() == number {
                (x, y)
            } else if y.as_raw_fd() == number {
                (y, x)
            } else {
                h.state.spare.push((x, y));
                continue;
            };
            el.register(&new, Token(other)).unwrap();
            h.state.sources[other] = Some(new);
            h.state.peers[other] = Some(peer);
            h.state.replaced = Some((other, number));
            return;
        }
        // qemu-user takes descriptor numbers of its own: the case cannot be set up.
        assert!(
            under_emulator(),
            "fd {number} was not reused by 64 new socketpairs"
        );
    });
    the_batch(&mut el, &mut h);
    let Some((victim, number)) = h.state.replaced else {
        eprintln!("skipped: the emulator did not reuse the descriptor number");
        return;
    };
    let new = h.state.sources[victim].as_ref().unwrap();
    assert_eq!(
        new.as_raw_fd(),
        number,
        "the new source has the old fd number"
    );
    h.state.spare.clear();

    // The new source has no data yet: nothing under its token.
    h.take();
    expect_no_events(&mut el, &mut h, 2, "the new source is not ready");
    // Then its own data arrives, under the same token.
    send(h.state.peers[victim].as_ref().unwrap(), b"new");
    let ready = expect_event(&mut el, &mut h, Token(victim));
    assert!(ready.is_readable(), "{ready:?}");
    assert_eq!(
        h.state.read[victim], 3,
        "the new source's data, read in its event"
    );
}
