//! Level, edge, oneshot and edge+oneshot reporting, on socketpairs and pipes.
//!
//! Edge-triggered cases only rely on the portable contract (mio's): after an edge
//! event, the reader drains until would-block, and the next arrival is reported
//! once. Whether an arrival *without* draining first is reported again differs
//! between kernels and the poll(2) emulation, so no case asserts it either way.

use statio::net::{TryRead, TryWrite, pipe};
use statio::{Interest, PollOpt, RawFd, Ready, Selector, Source, Token};

use crate::util::*;

const T: Token = Token(6);

/// Runs `case` on a socketpair and on a pipe: (read end, write end).
fn on_socketpair_and_pipe<S: Selector<Handle = RawFd>>(
    case: fn(RecLoop<S, (), 8, 8>, &Src, &dyn TryWrite),
) {
    let (a, b) = socketpair();
    case(new_loop(), &Src::Socket(a), &b);
    let (rx, tx) = pipe::pipe().expect("pipe");
    case(new_loop(), &Src::Pipe(rx), &tx);
}

/// A read end: one end of a socketpair, or a pipe's receiver.
pub enum Src {
    Socket(statio::net::UnixStream),
    Pipe(pipe::Receiver),
}

impl Source<RawFd> for Src {
    fn handle(&self) -> RawFd {
        match self {
            Src::Socket(s) => s.handle(),
            Src::Pipe(p) => p.handle(),
        }
    }
}

impl Src {
    /// The read end as a stream to read from.
    fn stream(&self) -> &dyn TryRead {
        match self {
            Src::Socket(s) => s,
            Src::Pipe(p) => p,
        }
    }
}

/// Asserts that `got` is exactly one readable event under `T`, with no closing flags.
fn assert_one_readable(got: &[(Token, Ready)], when: &str) {
    assert_eq!(got.len(), 1, "{when}: {got:?}");
    let (token, ready) = got[0];
    assert_eq!(token, T, "{when}: {got:?}");
    assert!(ready.is_readable(), "{when}: {ready:?}");
    assert!(
        !ready.intersects(Ready::HUP | Ready::READ_CLOSED | Ready::ERROR),
        "{when}: the writer is open: {ready:?}"
    );
}

/// Level-triggered: reported on every turn while unread data remains, then no more.
pub fn level_reports_every_turn_while_data_remains<S: Selector<Handle = RawFd>>() {
    on_socketpair_and_pipe::<S>(|mut el, reader, writer| {
        let mut h = Recorder::new();
        el.register_opt(reader, T, Interest::READABLE, PollOpt::level())
            .unwrap();
        send(writer, b"level");
        for i in 0..5 {
            // Data is pending, so the turn returns at once; the timeout only bounds it.
            assert_one_readable(&turn(&mut el, &mut h, TURN), &format!("turn {i}"));
        }
        // Reading part of it leaves it readable.
        let mut two = [0u8; 2];
        assert_eq!(reader.stream().try_read(&mut two).unwrap(), Some(2));
        assert_one_readable(&turn(&mut el, &mut h, TURN), "after a partial read");
        assert_eq!(drain(reader.stream()), 3);
        expect_no_events(&mut el, &mut h, 3, "level, everything read");
    });
}

/// Level-triggered writability: reported on every turn while there is room.
pub fn level_reports_writable_every_turn<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, _b) = socketpair();
    el.register_opt(&a, T, Interest::WRITABLE, PollOpt::level())
        .unwrap();
    for i in 0..5 {
        let got = turn(&mut el, &mut h, TURN);
        assert_eq!(got.len(), 1, "turn {i}: {got:?}");
        assert!(got[0].0 == T && got[0].1.is_writable(), "turn {i}: {got:?}");
    }
}

/// Edge-triggered: one event per arrival, none while the data stays unread; after a
/// drain to would-block, the next arrival is reported once again.
pub fn edge_reports_once_per_arrival<S: Selector<Handle = RawFd>>() {
    on_socketpair_and_pipe::<S>(|mut el, reader, writer| {
        let mut h = Recorder::new();
        el.register_opt(reader, T, Interest::READABLE, PollOpt::edge())
            .unwrap();
        for round in 0..3 {
            send(writer, b"edge");
            let got = turn(&mut el, &mut h, TURN);
            assert_one_readable(&got, &format!("round {round}, the arrival"));
            expect_no_events(&mut el, &mut h, 3, "edge, data unread but no new arrival");
            assert_eq!(drain(reader.stream()), 4);
            expect_no_events(&mut el, &mut h, 1, "edge, drained");
        }
    });
}

/// Edge-triggered writability: reported once, not every turn.
pub fn edge_reports_writable_once<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (a, _b) = socketpair();
    el.register_opt(&a, T, Interest::WRITABLE, PollOpt::edge())
        .unwrap();
    let got = turn(&mut el, &mut h, TURN);
    assert!(
        got.len() == 1 && got[0].0 == T && got[0].1.is_writable(),
        "{got:?}"
    );
    expect_no_events(&mut el, &mut h, 3, "edge writable, nothing changed");
}

/// Oneshot (level): one event, then none even with more data arriving, until
/// reregistered; then one event again.
pub fn oneshot_reports_once_until_reregistered<S: Selector<Handle = RawFd>>() {
    on_socketpair_and_pipe::<S>(|mut el, reader, writer| {
        let mut h = Recorder::new();
        el.register_opt(reader, T, Interest::READABLE, PollOpt::oneshot())
            .unwrap();
        send(writer, b"one");
        assert_one_readable(&turn(&mut el, &mut h, TURN), "the first arrival");
        expect_no_events(&mut el, &mut h, 3, "oneshot, disarmed");
        send(writer, b"more");
        expect_no_events(&mut el, &mut h, 3, "oneshot, disarmed, new data");

        for round in 0..2 {
            el.reregister(reader, T, Interest::READABLE, PollOpt::oneshot())
                .unwrap();
            let when = format!("re-armed {round} with data pending");
            assert_one_readable(&turn(&mut el, &mut h, TURN), &when);
            expect_no_events(&mut el, &mut h, 3, "oneshot, disarmed again");
        }
        assert_eq!(drain(reader.stream()), 7);
    });
}

/// Edge + oneshot: one event, then disarmed (new arrivals and drains change nothing)
/// until reregistered, which reports the pending data once.
pub fn edge_oneshot_reports_once_until_reregistered<S: Selector<Handle = RawFd>>() {
    on_socketpair_and_pipe::<S>(|mut el, reader, writer| {
        let mut h = Recorder::new();
        let opt = PollOpt::edge().with_oneshot();
        el.register_opt(reader, T, Interest::READABLE, opt).unwrap();
        send(writer, b"one");
        assert_one_readable(&turn(&mut el, &mut h, TURN), "the first arrival");
        expect_no_events(&mut el, &mut h, 2, "edge+oneshot, disarmed");
        assert_eq!(drain(reader.stream()), 3);
        send(writer, b"two");
        expect_no_events(
            &mut el,
            &mut h,
            3,
            "edge+oneshot, disarmed, drained, new data",
        );

        el.reregister(reader, T, Interest::READABLE, opt).unwrap();
        assert_one_readable(&turn(&mut el, &mut h, TURN), "re-armed, data pending");
        expect_no_events(&mut el, &mut h, 3, "edge+oneshot, disarmed again");
        assert_eq!(drain(reader.stream()), 3);
        send(writer, b"three");
        expect_no_events(&mut el, &mut h, 2, "still disarmed");
        el.reregister(reader, T, Interest::READABLE, opt).unwrap();
        assert_one_readable(&turn(&mut el, &mut h, TURN), "re-armed again");
    });
}
