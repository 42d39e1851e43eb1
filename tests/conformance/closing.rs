//! Peer close, half-close and reset: what the selector reports, and only what every
//! port guarantees.
//!
//! `Ready` promises `READ_CLOSED`/`WRITE_CLOSED` without false positives; a full close
//! is reported as `HUP` or `READ_CLOSED`; a half-close (`shutdown(Write)`) as
//! `READ_CLOSED` without `HUP`; a reset as `ERROR` or `HUP`.

use std::io::ErrorKind;

use statio::net::{Shutdown, TryRead, pipe};
use statio::{Interest, PollOpt, RawFd, Ready, Selector, Source, Token};

use crate::util::*;

const T: Token = Token(1);

/// Registers `source` readable under `T` as `opt`, closes (or shuts down) its peer with
/// `close`, and returns the first event under `T`.
fn event_after<S, I>(opt: PollOpt, source: &I, close: impl FnOnce()) -> Ready
where
    S: Selector<Handle = RawFd>,
    I: Source<RawFd>,
{
    let mut el = new_loop::<S, (), 4, 4>();
    let mut h = Recorder::new();
    el.register_opt(source, T, Interest::READABLE, opt).unwrap();
    expect_no_events(&mut el, &mut h, 1, "the peer is still open");
    close();
    expect_event(&mut el, &mut h, T)
}

fn assert_eof(source: &(impl TryRead + ?Sized)) {
    let mut buf = [0u8; 16];
    assert_eq!(source.try_read(&mut buf).unwrap(), Some(0), "end of stream");
}

/// A socketpair peer that closes: `HUP` or `READ_CLOSED`, and the read says EOF.
pub fn peer_close_gives_hup_or_read_closed<S: Selector<Handle = RawFd>>() {
    for opt in [PollOpt::level(), PollOpt::edge()] {
        let (a, b) = socketpair();
        let ready = event_after::<S, _>(opt, &a, || drop(b));
        assert!(
            ready.intersects(Ready::HUP | Ready::READ_CLOSED),
            "{opt:?}: {ready:?}"
        );
        assert_eof(&a);
    }
}

/// A TCP peer that closes: `HUP` or `READ_CLOSED`, and the read says EOF.
pub fn tcp_peer_close_gives_hup_or_read_closed<S: Selector<Handle = RawFd>>() {
    let (client, server) = tcp_pair();
    let ready = event_after::<S, _>(PollOpt::level(), &server, || drop(client));
    assert!(
        ready.intersects(Ready::HUP | Ready::READ_CLOSED),
        "{ready:?}"
    );
    assert!(!ready.is_write_closed() || ready.is_hup(), "{ready:?}");
    assert_eof(&server);
}

/// The last writer of a pipe closes: `HUP` or `READ_CLOSED`, and the read says EOF.
pub fn pipe_writer_close_gives_hup_or_read_closed<S: Selector<Handle = RawFd>>() {
    let (rx, tx) = pipe::pipe().expect("pipe");
    let ready = event_after::<S, _>(PollOpt::level(), &rx, || drop(tx));
    assert!(
        ready.intersects(Ready::HUP | Ready::READ_CLOSED),
        "{ready:?}"
    );
    assert_eof(&rx);
}

/// The reader of a pipe closes: the writer hears of it (some event under its token),
/// and its write fails with `BrokenPipe`.
pub fn pipe_reader_close_reaches_the_writer<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 4, 4>();
    let mut h = Recorder::new();
    let (rx, tx) = pipe::pipe().expect("pipe");
    el.register_opt(&tx, T, Interest::WRITABLE, PollOpt::edge())
        .unwrap();
    let ready = expect_event(&mut el, &mut h, T);
    assert!(ready.is_writable() && !ready.is_error(), "{ready:?}");
    h.take();
    drop(rx);
    let ready = expect_event(&mut el, &mut h, T);
    assert!(
        ready.intersects(Ready::ERROR | Ready::HUP | Ready::WRITE_CLOSED),
        "{ready:?}"
    );
    // The test harness ignores SIGPIPE, so the write reports EPIPE.
    let err = tx.try_write(b"x").unwrap_err();
    assert_eq!(
        ErrorKind::from(err.kind()),
        ErrorKind::BrokenPipe,
        "{err:?}"
    );
}

/// A peer's `shutdown(Write)` gives `READ_CLOSED` and no `HUP` (nor any event without
/// it), after the data it sent; the connection still carries data the other way.
pub fn half_close_gives_read_closed_not_hup<S: Selector<Handle = RawFd>>() {
    for opt in [PollOpt::level(), PollOpt::edge()] {
        // On a TCP connection.
        let (client, server) = tcp_pair();
        half_close::<S, _>(opt, &server, || {
            send(&client, b"last words");
            client.shutdown(Shutdown::Write).unwrap();
        });
        let mut buf = [0u8; 64];
        assert_eq!(server.try_read(&mut buf).unwrap(), Some(10));
        assert_eof(&server);
        send(&server, b"reply");
        wait_fd(client.as_raw_fd(), libc::POLLIN, 1000);
        assert_eq!(client.try_read(&mut buf).unwrap(), Some(5));

        // On a Unix socketpair.
        let (a, b) = socketpair();
        half_close::<S, _>(opt, &a, || {
            send(&b, b"last words");
            b.shutdown(Shutdown::Write).unwrap();
        });
        assert_eq!(a.try_read(&mut buf).unwrap(), Some(10));
        assert_eof(&a);
        send(&a, b"reply");
        assert_eq!(b.try_read(&mut buf).unwrap(), Some(5));
    }
}

/// Registers `source`, runs `shut_down`, waits for `READ_CLOSED`, and checks that no
/// event on the way said more than a half-close.
fn half_close<S, I>(opt: PollOpt, source: &I, shut_down: impl FnOnce())
where
    S: Selector<Handle = RawFd>,
    I: Source<RawFd>,
{
    let mut el = new_loop::<S, (), 4, 4>();
    let mut h = Recorder::new();
    el.register_opt(source, T, Interest::READABLE, opt).unwrap();
    shut_down();
    run_until(
        &mut el,
        &mut h,
        "READ_CLOSED after shutdown(Write)",
        MAX_TURNS,
        |h| h.of(T).iter().any(|r| r.is_read_closed()),
    );
    // A few more turns: a level registration keeps reporting the same state.
    for _ in 0..2 {
        turn(&mut el, &mut h, QUIET_TURN);
    }
    for ready in h.of(T) {
        assert!(
            !ready.is_hup(),
            "{opt:?}: a half-close is not a hang-up: {ready:?}"
        );
        assert!(!ready.is_write_closed(), "{opt:?}: {ready:?}");
        assert!(!ready.is_error(), "{opt:?}: {ready:?}");
    }
}

/// A source with data whose peer stays open never reports `READ_CLOSED`, `HUP` or
/// `WRITE_CLOSED`, in any mode and interest, before or after reading.
pub fn read_closed_is_never_a_false_positive<S: Selector<Handle = RawFd>>() {
    let closing = Ready::READ_CLOSED | Ready::HUP | Ready::WRITE_CLOSED | Ready::ERROR;
    for opt in [PollOpt::level(), PollOpt::edge(), PollOpt::oneshot()] {
        for interest in [Interest::READABLE, Interest::BOTH] {
            let mut el = new_loop::<S, (), 4, 4>();
            let mut h = Recorder::new();
            let (client, server) = tcp_pair();
            let (a, b) = socketpair();
            el.register_opt(&server, Token(0), interest, opt).unwrap();
            el.register_opt(&a, Token(1), interest, opt).unwrap();
            send(&client, b"data");
            send(&b, b"data");
            run_until(&mut el, &mut h, "both readable", MAX_TURNS, |h| {
                let readable = |t| h.of(t).iter().any(|r| r.is_readable());
                readable(Token(0)) && readable(Token(1))
            });
            for _ in 0..3 {
                turn(&mut el, &mut h, QUIET_TURN);
            }
            drain(&server);
            drain(&a);
            if opt.is_oneshot() {
                el.reregister(&server, Token(0), interest, opt).unwrap();
                el.reregister(&a, Token(1), interest, opt).unwrap();
            }
            for _ in 0..3 {
                turn(&mut el, &mut h, QUIET_TURN);
            }
            for &(token, ready) in &h.events {
                assert!(
                    !ready.intersects(closing),
                    "{opt:?} {interest:?}: {token:?} reported {ready:?} with its peer open"
                );
            }
            drop((client, b));
        }
    }
}

/// A TCP peer that resets (`SO_LINGER` 0, then close): `ERROR` or `HUP`, and the read
/// fails with `ConnectionReset` or says EOF.
pub fn reset_gives_error_or_hup<S: Selector<Handle = RawFd>>() {
    for opt in [PollOpt::level(), PollOpt::edge()] {
        let (client, server) = tcp_pair();
        client.set_linger(Some(0)).unwrap();
        let ready = event_after::<S, _>(opt, &server, || drop(client));
        assert!(
            ready.intersects(Ready::ERROR | Ready::HUP),
            "{opt:?}: {ready:?}"
        );
        let mut buf = [0u8; 16];
        match server.try_read(&mut buf) {
            Ok(Some(0)) => {}
            Err(err) => assert_eq!(
                ErrorKind::from(err.kind()),
                ErrorKind::ConnectionReset,
                "{opt:?}: {err:?}"
            ),
            other => panic!("{opt:?}: a read after a reset gave {other:?}"),
        }
    }
}
