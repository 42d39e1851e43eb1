//! register / reregister / deregister through the loop, and every registration limit as
//! its typed error.

use std::io::ErrorKind;

use statio::{Error, Interest, PollOpt, RawFd, Selector, Token};

use crate::util::*;

/// Events arrive under the token their source was registered with, and only its own.
pub fn events_arrive_under_the_registered_token<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    let (b, b_peer) = socketpair();
    el.register(&a, Token(3)).unwrap();
    el.register(&b, Token(5)).unwrap();
    expect_no_events(&mut el, &mut h, 2, "nothing written yet");

    send(&b_peer, b"b");
    let ready = expect_event(&mut el, &mut h, Token(5));
    assert!(ready.is_readable(), "{ready:?}");
    assert!(h.of(Token(3)).is_empty(), "{:?}", h.events);
    drain(&b);

    h.take();
    send(&a_peer, b"a");
    let ready = expect_event(&mut el, &mut h, Token(3));
    assert!(ready.is_readable(), "{ready:?}");
    assert!(h.of(Token(5)).is_empty(), "{:?}", h.events);
}

/// Reregistering from readable to writable interest changes what is reported.
pub fn reregister_changes_interest<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    el.register_opt(&a, Token(1), Interest::READABLE, PollOpt::level())
        .unwrap();
    // A fresh socket is writable, but only readability was asked for.
    expect_no_events(&mut el, &mut h, 2, "readable interest, nothing to read");

    el.reregister(&a, Token(1), Interest::WRITABLE, PollOpt::level())
        .unwrap();
    let ready = expect_event(&mut el, &mut h, Token(1));
    assert!(ready.is_writable(), "{ready:?}");

    // Data to read is not reported while only writability is asked for.
    send(&a_peer, b"x");
    h.take();
    for _ in 0..3 {
        for (token, ready) in turn(&mut el, &mut h, QUIET_TURN) {
            assert_eq!(token, Token(1));
            assert!(!ready.is_readable(), "writable interest: {ready:?}");
        }
    }

    el.reregister(&a, Token(1), Interest::READABLE, PollOpt::level())
        .unwrap();
    h.take();
    let ready = expect_event(&mut el, &mut h, Token(1));
    assert!(ready.is_readable() && !ready.is_writable(), "{ready:?}");
}

/// A oneshot registration reports once, and reregistering arms it again.
pub fn reregister_rearms_oneshot<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    el.register_opt(&a, Token(2), Interest::READABLE, PollOpt::oneshot())
        .unwrap();
    send(&a_peer, b"x");
    expect_event(&mut el, &mut h, Token(2));
    h.take();
    expect_no_events(&mut el, &mut h, 3, "oneshot, not re-armed");

    el.reregister(&a, Token(2), Interest::READABLE, PollOpt::oneshot())
        .unwrap();
    let ready = expect_event(&mut el, &mut h, Token(2));
    assert!(ready.is_readable(), "{ready:?}");
    h.take();
    expect_no_events(&mut el, &mut h, 3, "oneshot again after one event");
}

/// Deregistering stops events, even level-triggered ones with data pending, and frees
/// the token.
pub fn deregister_stops_events<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    el.register(&a, Token(4)).unwrap();
    send(&a_peer, b"x");
    expect_event(&mut el, &mut h, Token(4));

    el.deregister(&a, Token(4)).unwrap();
    assert!(!el.is_registered(Token(4)));
    h.take();
    expect_no_events(&mut el, &mut h, 3, "deregistered with data pending");

    // The token and the source can both be registered again.
    el.register(&a, Token(4)).unwrap();
    expect_event(&mut el, &mut h, Token(4));
}

/// A token not below `SOURCES` is `TokenOutOfRange`, and nothing is registered.
pub fn token_out_of_range_is_an_error<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 4, 4>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    for token in [Token(4), Token(5), Token(usize::MAX)] {
        assert_eq!(
            el.register(&a, token),
            Err(Error::TokenOutOfRange { token, capacity: 4 })
        );
    }
    // The selector was not asked: the same source registers in range.
    el.register(&a, Token(3)).unwrap();
    send(&a_peer, b"x");
    expect_event(&mut el, &mut h, Token(3));
}

/// A token that holds a source is `TokenInUse`; the holder keeps its registration.
pub fn token_in_use_is_an_error<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    let (b, b_peer) = socketpair();
    el.register(&a, Token(1)).unwrap();
    assert_eq!(el.register(&b, Token(1)), Err(Error::TokenInUse(Token(1))));
    assert_eq!(
        el.register_opt(&b, Token(1), Interest::WRITABLE, PollOpt::edge()),
        Err(Error::TokenInUse(Token(1)))
    );

    // b is not watched; a still is, under its token.
    send(&b_peer, b"b");
    expect_no_events(&mut el, &mut h, 2, "b's registration was refused");
    send(&a_peer, b"a");
    expect_event(&mut el, &mut h, Token(1));
    drain(&a);
    // b is free to register elsewhere.
    el.register(&b, Token(2)).unwrap();
    expect_event(&mut el, &mut h, Token(2));
}

/// The same fd under a second token is refused by the selector (`AlreadyExists`) and the
/// second token stays free.
pub fn same_source_under_a_second_token_is_already_exists<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    let (b, b_peer) = socketpair();
    el.register(&a, Token(0)).unwrap();
    match el.register(&a, Token(1)) {
        // The port's own classification, in std's terms.
        Err(Error::Os(err)) => assert_eq!(
            ErrorKind::from(err.kind()),
            ErrorKind::AlreadyExists,
            "{err:?}"
        ),
        other => panic!("a second registration of one fd: {other:?}"),
    }
    assert!(!el.is_registered(Token(1)), "the refused token stays free");
    assert!(el.is_registered(Token(0)));

    // The first registration is untouched and reports under its own token only.
    send(&a_peer, b"a");
    expect_event(&mut el, &mut h, Token(0));
    assert!(h.of(Token(1)).is_empty(), "{:?}", h.events);
    drain(&a);

    // The freed token takes another source.
    el.register(&b, Token(1)).unwrap();
    send(&b_peer, b"b");
    h.take();
    let ready = expect_event(&mut el, &mut h, Token(1));
    assert!(ready.is_readable(), "{ready:?}");
}

/// reregister and deregister with a wrong token, an out-of-range token or an
/// unregistered source are `NotRegistered`, and leave the registration as it was.
pub fn wrong_token_or_source_is_not_registered<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    let (stranger, _stranger_peer) = socketpair();
    el.register(&a, Token(1)).unwrap();

    let r = Interest::READABLE;
    let lvl = PollOpt::level();
    for token in [Token(2), Token(0), Token(8), Token(usize::MAX)] {
        assert_eq!(
            el.reregister(&a, token, r, lvl),
            Err(Error::NotRegistered(token))
        );
        assert_eq!(el.deregister(&a, token), Err(Error::NotRegistered(token)));
    }
    // The right token with a source that is not the one registered there.
    assert_eq!(
        el.reregister(&stranger, Token(1), r, lvl),
        Err(Error::NotRegistered(Token(1)))
    );
    assert_eq!(
        el.deregister(&stranger, Token(1)),
        Err(Error::NotRegistered(Token(1)))
    );
    // A source never registered anywhere.
    assert_eq!(
        el.deregister(&stranger, Token(3)),
        Err(Error::NotRegistered(Token(3)))
    );

    // a is still registered under 1, reporting.
    assert!(el.is_registered(Token(1)));
    send(&a_peer, b"a");
    expect_event(&mut el, &mut h, Token(1));

    // After a deregistration, both calls are NotRegistered for it too.
    el.deregister(&a, Token(1)).unwrap();
    assert_eq!(
        el.deregister(&a, Token(1)),
        Err(Error::NotRegistered(Token(1)))
    );
    assert_eq!(
        el.reregister(&a, Token(1), r, lvl),
        Err(Error::NotRegistered(Token(1)))
    );
}

/// With every token in use, registering again errors; after a deregistration the
/// token is reused and reports for its new source.
pub fn full_registry_errors_and_a_freed_token_is_reused<S: Selector<Handle = RawFd>>() {
    const SOURCES: usize = 4;
    let mut el = new_loop::<S, (), SOURCES, 4>();
    let mut h = Recorder::new();
    let pairs: Vec<_> = (0..SOURCES).map(|_| socketpair()).collect();
    for (i, (a, _)) in pairs.iter().enumerate() {
        el.register(a, Token(i)).unwrap();
    }
    let (extra, extra_peer) = socketpair();
    for i in 0..SOURCES {
        assert_eq!(
            el.register(&extra, Token(i)),
            Err(Error::TokenInUse(Token(i)))
        );
    }
    assert_eq!(
        el.register(&extra, Token(SOURCES)),
        Err(Error::TokenOutOfRange {
            token: Token(SOURCES),
            capacity: SOURCES
        })
    );

    el.deregister(&pairs[2].0, Token(2)).unwrap();
    el.register(&extra, Token(2)).unwrap();
    send(&extra_peer, b"x");
    let ready = expect_event(&mut el, &mut h, Token(2));
    assert!(ready.is_readable(), "{ready:?}");
    // The old occupant of token 2 no longer reports.
    drain(&extra);
    h.take();
    send(&pairs[2].1, b"old");
    expect_no_events(
        &mut el,
        &mut h,
        2,
        "the deregistered old occupant of token 2",
    );
}
