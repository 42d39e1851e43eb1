//! The selector-level half of the suite: what a port's bare [`Selector`] must do with
//! no loop around it (mio 1.x's level): surface `EINTR`, carry tokens whole, refuse
//! unknown handles, round a short wait up.

use statio::ErrorKind;
use std::time::Duration;

use statio::net::pipe;
use statio::{Events, Interest, PollOpt, RawFd, Ready, Selector, Token};

use crate::interrupt::{LONG_WAIT, Signaller, catch_sigusr1};
use crate::util::selector::{expect_event, select};

fn open<S: Selector>() -> S {
    S::new().expect("the selector opens")
}

/// A signal during `select` returns `Interrupted` with no events: the port does not
/// retry the wait (the loop hands `EINTR` to `Handler::interrupted`).
pub fn select_is_interrupted_and_not_retried<S: Selector<Handle = RawFd>>() {
    catch_sigusr1();
    let mut port = open::<S>();
    let mut events: Events<S::Event, 4> = Events::new();
    // Signals every few milliseconds until stopped, so one lands while the select
    // sleeps however the threads are scheduled; a retrying port would sleep the whole
    // wait and return `Ok`.
    let signaller = Signaller::at_me();
    let result = port.select(&mut events, Some(LONG_WAIT));
    let sent = signaller.stop();
    let err = result.expect_err("a signal interrupts the select");
    assert!(err.is_interrupted(), "{err:?} after {sent} signals");
    assert!(events.is_empty(), "{} events on EINTR", events.len());
}

/// Every bit of a token survives the port (the loop keeps a generation in the high
/// half).
pub fn tokens_round_trip_whole<S: Selector<Handle = RawFd>>() {
    let mut port = open::<S>();
    let (_rx, tx) = pipe::pipe().expect("pipe");
    let whole = Token(usize::MAX);
    port.register(tx.as_raw_fd(), whole, Interest::WRITABLE, PollOpt::level())
        .unwrap();
    expect_event(&mut port, whole, Ready::WRITABLE);
}

/// Reregistering or deregistering a handle the port does not watch is `NotFound`.
pub fn unknown_handles_are_not_found<S: Selector<Handle = RawFd>>() {
    let mut port = open::<S>();
    let (rx, _tx) = pipe::pipe().expect("pipe");
    let err = port.deregister(rx.as_raw_fd()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "deregister: {err:?}");
    let err = port
        .reregister(
            rx.as_raw_fd(),
            Token(1),
            Interest::READABLE,
            PollOpt::level(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "reregister: {err:?}");
}

/// A wait below the OS's resolution (1 µs) is rounded up, not turned into an error,
/// and returns without events when nothing is ready.
pub fn a_one_microsecond_wait_returns_without_events<S: Selector<Handle = RawFd>>() {
    let mut port = open::<S>();
    let (rx, _tx) = pipe::pipe().expect("pipe");
    port.register(
        rx.as_raw_fd(),
        Token(1),
        Interest::READABLE,
        PollOpt::level(),
    )
    .unwrap();
    let got = select(
        &mut port,
        &mut Events::<_, 4>::new(),
        Some(Duration::from_micros(1)),
    );
    assert!(got.is_empty(), "{got:?}");
}
