//! A source dropped while registered: `release` frees its token without touching the
//! new owner of its descriptor number, and a kernel registration that outlives its
//! descriptor (a `dup` keeps the file open) never makes the loop spin.

use std::os::fd::{FromRawFd, OwnedFd};
use std::thread;
use std::time::Duration;

use statio::net::UnixStream;
use statio::{Error, RawFd, Selector, Token};

use crate::util::*;

const OLD: Token = Token(1);
const NEW: Token = Token(2);
const STOP: Token = Token(3);

/// Opens socketpairs until one end gets descriptor `number` (the lowest free one is
/// reused, unless another test thread took it in between): (that end, its peer). The
/// misses stay open in `spare` meanwhile, so each try gets higher numbers.
fn pair_at(number: RawFd, spare: &mut Vec<(UnixStream, UnixStream)>) -> (UnixStream, UnixStream) {
    for _ in 0..64 {
        let (x, y) = socketpair();
        if x.as_raw_fd() == number {
            return (x, y);
        }
        if y.as_raw_fd() == number {
            return (y, x);
        }
        spare.push((x, y));
    }
    panic!("fd {number} was not reused by 64 new socketpairs");
}

/// The source under `OLD` is dropped registered and its number goes to a new socket:
/// after `release(OLD)`, the new socket registers (under `NEW`), its events arrive
/// under `NEW` only, and `OLD` is free for another registration.
pub fn release_frees_a_dropped_sources_token_and_spares_the_new_owner<
    S: Selector<Handle = RawFd>,
>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::new();
    let (old, _old_peer) = socketpair();
    let number = old.as_raw_fd();
    el.register(&old, OLD).unwrap();
    drop(old);
    assert_eq!(el.release(NEW), Err(Error::NotRegistered(NEW)));
    el.release(OLD).unwrap();
    assert!(!el.is_registered(OLD));
    let mut spare = Vec::new();
    let (new, new_peer) = pair_at(number, &mut spare);
    spare.clear();
    el.register(&new, NEW).unwrap();
    expect_no_events(&mut el, &mut h, 2, "neither token has data");
    send(&new_peer, b"new");
    let ready = expect_event(&mut el, &mut h, NEW);
    assert!(ready.is_readable(), "{ready:?}");
    assert!(h.of(OLD).is_empty(), "the old token got {:?}", h.of(OLD));
    // The freed token takes another source.
    let (other, _other_peer) = socketpair();
    el.register(&other, OLD).unwrap();
    el.deregister(&other, OLD).unwrap();
    el.deregister(&new, NEW).unwrap();
}

/// A readable source is dropped registered while a `dup` keeps its file open, and its
/// token released. epoll keeps that registration (keyed by file and old number) and
/// reports it for ever: the loop must say so ([`Error::Orphaned`]) instead of spinning;
/// poll(2) forgot it at `release`, so the loop sleeps until the stop event. Either way
/// `run` ends within a few turns.
pub fn a_dup_of_a_dropped_source_never_makes_the_loop_spin<S: Selector<Handle = RawFd>>() {
    let mut el = new_loop::<S, (), 8, 8>();
    let mut h = Recorder::with_hook((), |_, el, token, _| {
        if token == STOP {
            el.shutdown();
        }
    });
    let (old, old_peer) = socketpair();
    send(&old_peer, b"unread");
    // SAFETY: dup(2) takes no pointers; the new descriptor is owned by `_dup` alone.
    let dup = unsafe { libc::dup(old.as_raw_fd()) };
    assert!(dup >= 0, "dup: {}", std::io::Error::last_os_error());
    // SAFETY: `dup` is a fresh descriptor nothing else owns.
    let _dup = unsafe { OwnedFd::from_raw_fd(dup) };
    el.register(&old, OLD).unwrap();
    drop(old);
    el.release(OLD).unwrap();
    let (stop, stop_peer) = socketpair();
    el.register(&stop, STOP).unwrap();
    let stopper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        send(&stop_peer, b"stop");
        stop_peer
    });
    let result = el.run(&mut h);
    assert!(
        h.turns <= 5,
        "the loop ran {} turns: it spun ({result:?})",
        h.turns
    );
    assert!(
        matches!(result, Ok(()) | Err(Error::Orphaned(OLD))),
        "{result:?}"
    );
    assert!(h.of(OLD).is_empty(), "a released token got {:?}", h.of(OLD));
    drop(stopper.join().unwrap());
    let _ = el.deregister(&stop, STOP);
}
