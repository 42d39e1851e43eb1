//! One bare [`Selector`], without a loop: what the ports' unit tests and the
//! selector-level half of the conformance suite drive.

use std::time::Duration;

use statio_core::{Events, Ready, Selector, Token};

/// For waits where an event is certainly pending: returns at once unless it is missing.
pub const WAIT: Duration = Duration::from_secs(5);
/// For waits where no event may come.
pub const BRIEF: Duration = Duration::from_millis(10);

/// One `select` of at most `max_wait` into `events`: each event's token and readiness.
#[track_caller]
pub fn select<S: Selector, const N: usize>(
    selector: &mut S,
    events: &mut Events<S::Event, N>,
    max_wait: Option<Duration>,
) -> Vec<(Token, Ready)> {
    selector.select(events, max_wait).expect("select");
    events
        .as_slice()
        .iter()
        .map(|event| (S::token(event), S::ready(event)))
        .collect()
}

/// Asserts the next select (up to [`WAIT`]) reports exactly one event, under `token`
/// with all of `ready`; returns its whole readiness.
#[track_caller]
pub fn expect_event<S: Selector>(selector: &mut S, token: Token, ready: Ready) -> Ready {
    let got = select(selector, &mut Events::<_, 8>::new(), Some(WAIT));
    match got.as_slice() {
        [(t, r)] if *t == token && r.contains(ready) => *r,
        other => panic!("expected one event {token:?} with {ready:?}, got {other:?}"),
    }
}

/// Asserts a select of [`BRIEF`] reports nothing.
#[track_caller]
pub fn expect_no_events<S: Selector>(selector: &mut S) {
    let got = select(selector, &mut Events::<_, 8>::new(), Some(BRIEF));
    assert!(got.is_empty(), "expected no events, got {got:?}");
}
