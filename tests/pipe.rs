//! Pipe readiness through the loop: data, EOF, writability, a closed reader.
//!
//! No test writes to a pipe whose reader is closed: that raises `SIGPIPE`.

mod util;

use statio::net::pipe;
use statio::{Interest, PollOpt, Ready, Token};
use util::{TURN, assert_would_block, expect_no_events, rec_loop, run_until};

const RX: Token = Token(0);
const TX: Token = Token(1);

#[test]
fn receiver_readable_after_a_write() {
    let (rx, tx) = pipe().unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register(&rx, RX).unwrap();
    expect_no_events(&mut el, &mut rec, 1, "an empty pipe");

    assert_eq!(tx.try_write(b"through").unwrap(), Some(7));
    run_until(&mut el, &mut rec, "receiver readable", 100, |r| {
        r.saw(RX, Ready::READABLE)
    });
    assert!(
        !rec.saw(RX, Ready::HUP | Ready::READ_CLOSED | Ready::ERROR),
        "closed flags with the sender open: {:?}",
        rec.ready_of(RX)
    );
    let mut buf = [0u8; 16];
    assert_eq!(rx.try_read(&mut buf).unwrap(), Some(7));
    assert_eq!(&buf[..7], b"through");
    assert_would_block(rx.try_read(&mut buf));

    // Drained and level-triggered: no more events.
    rec.clear();
    expect_no_events(&mut el, &mut rec, 1, "a drained pipe");
}

#[test]
fn receiver_sees_eof_after_the_sender_drops() {
    let (rx, tx) = pipe().unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register(&rx, RX).unwrap();
    assert_eq!(tx.try_write(b"last").unwrap(), Some(4));
    drop(tx);
    run_until(&mut el, &mut rec, "receiver closed", 100, |r| {
        r.saw(RX, Ready::READ_CLOSED | Ready::HUP)
    });
    // The data written before the close still comes first, then EOF.
    let mut buf = [0u8; 16];
    assert_eq!(rx.try_read(&mut buf).unwrap(), Some(4));
    assert_eq!(&buf[..4], b"last");
    assert_eq!(rx.try_read(&mut buf).unwrap(), Some(0));
}

#[test]
fn sender_writable_until_full_then_again_after_a_read() {
    let (rx, tx) = pipe().unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register_opt(&tx, TX, Interest::WRITABLE, PollOpt::level())
        .unwrap();
    run_until(&mut el, &mut rec, "sender writable", 100, |r| {
        r.saw(TX, Ready::WRITABLE)
    });
    assert!(!rec.saw(TX, Ready::ERROR | Ready::HUP | Ready::WRITE_CLOSED));

    // Fill the pipe: no longer writable.
    let chunk = [7u8; 4096];
    let mut written = 0;
    let full = (0..10_000).any(|_| match tx.try_write(&chunk).unwrap() {
        Some(n) => {
            written += n;
            false
        }
        None => true,
    });
    assert!(full, "the pipe never filled");
    rec.clear();
    el.run_once(&mut rec, Some(TURN)).unwrap();
    assert!(
        !rec.saw(TX, Ready::WRITABLE),
        "a full pipe reported writable"
    );

    // Drain it: writable again.
    let mut buf = [0u8; 4096];
    let mut read = 0;
    while let Some(n) = rx.try_read(&mut buf).unwrap() {
        read += n;
    }
    assert_eq!(read, written);
    run_until(&mut el, &mut rec, "sender writable again", 100, |r| {
        r.saw(TX, Ready::WRITABLE)
    });
}

#[test]
fn sender_gets_error_after_the_receiver_drops() {
    let (rx, tx) = pipe().unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register_opt(&tx, TX, Interest::WRITABLE, PollOpt::edge())
        .unwrap();
    run_until(&mut el, &mut rec, "sender writable", 100, |r| {
        r.saw(TX, Ready::WRITABLE)
    });
    assert!(!rec.saw(TX, Ready::ERROR));
    rec.clear();
    drop(rx);
    // epoll reports EPOLLERR for a pipe's write end whose reader closed (the port
    // maps it to ERROR, not WRITE_CLOSED: see statio-epoll's translate.rs).
    run_until(&mut el, &mut rec, "sender error", 100, |r| {
        r.saw(TX, Ready::ERROR)
    });
}

#[test]
fn oneshot_receiver_reports_once_until_rearmed() {
    let (rx, tx) = pipe().unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register_opt(&rx, RX, Interest::READABLE, PollOpt::oneshot())
        .unwrap();
    assert_eq!(tx.try_write(b"a").unwrap(), Some(1));
    run_until(&mut el, &mut rec, "receiver readable", 100, |r| {
        r.saw(RX, Ready::READABLE)
    });
    // Still readable (not read), but oneshot: disarmed.
    rec.clear();
    expect_no_events(&mut el, &mut rec, 1, "oneshot, not re-armed");
    el.reregister(&rx, RX, Interest::READABLE, PollOpt::oneshot())
        .unwrap();
    run_until(
        &mut el,
        &mut rec,
        "receiver readable after re-arming",
        100,
        |r| r.saw(RX, Ready::READABLE),
    );
}
