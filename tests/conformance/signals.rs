//! Signals as events: each port's `Signals` delivers what arrived since the last
//! `receive` ("at least once"), coalesces a storm without losing its last signal or
//! spinning, belongs to one owner per process, reaches only the loop that asked, and
//! restores the disposition and mask it changed.
//!
//! These cases change process-wide signal state, so they run in the `system` test
//! binary (no harness threads; one case at a time), never in the conformance suite's
//! threads. That binary sets `SIGUSR1` and `SIGUSR2` to `SIG_IGN` first, so a stray
//! arrival between cases is harmless.

use core::time::Duration;
use std::ptr;
use std::sync::mpsc;
use std::thread;

use libc::{SIGKILL, SIGSTOP};
use statio::signal::{SIGUSR1, SIGUSR2, SignalError, SignalMask, SignalSet};
use statio::{Ready, Token};

use crate::system::{Mechanism, SystemPort};
use crate::util::*;

const SIGNALS: Token = Token(0);
/// The storm's size, from the issue.
const STORM: usize = 10_000;

fn set(signals: &[libc::c_int]) -> SignalSet {
    signals.iter().copied().collect()
}

/// Sends `signal` to this process (not to a thread: any thread may take it).
fn kill_process(signal: libc::c_int) {
    // SAFETY: kill has no memory preconditions.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signal) }, 0, "kill");
}

/// What the hook keeps: the source, and each non-empty or empty `receive`.
pub struct Got<S: SystemPort> {
    signals: S::Signals,
    deliveries: Vec<SignalSet>,
}

type SigLoop<S> = RecLoop<S, Got<S>>;
type SigRec<S> = Recorder<S, Got<S>>;

/// A loop with `signals` registered under [`SIGNALS`], and a recorder whose hook calls
/// `receive` on each of its events.
fn signal_loop<S: SystemPort>(signals: S::Signals) -> (SigLoop<S>, SigRec<S>) {
    let mut el = new_loop::<S, Got<S>, 16, 16>();
    el.register(&signals, SIGNALS)
        .expect("register the signals");
    let rec = Recorder::with_hook(
        Got {
            signals,
            deliveries: Vec::new(),
        },
        |r: &mut SigRec<S>, _: &mut SigLoop<S>, token: Token, _: Ready| {
            if token == SIGNALS {
                let got = S::receive(&mut r.state.signals).expect("receive");
                r.state.deliveries.push(got);
            }
        },
    );
    (el, rec)
}

/// The union of what was received.
fn received<S: SystemPort>(rec: &SigRec<S>) -> SignalSet {
    rec.state
        .deliveries
        .iter()
        .fold(SignalSet::new(), |all, &got| all | got)
}

/// `signal`'s handler now: `SIG_DFL`, `SIG_IGN` or an address.
fn handler_of(signal: libc::c_int) -> libc::sighandler_t {
    statio::signal::current(signal).expect("sigaction").0
}

/// Installs `handler` for `signal`.
fn set_handler(signal: libc::c_int, handler: libc::sighandler_t) {
    // SAFETY: all-zero is a valid sigaction (no flags, empty mask); the handlers set
    // here are SIG_IGN, SIG_DFL or `marker`, which does nothing.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        assert_eq!(
            libc::sigaction(signal, &raw const action, ptr::null_mut()),
            0
        );
    }
}

extern "C" fn marker(_: libc::c_int) {}

/// One `kill` of the process arrives as one event under the source's token, `receive`
/// names the signal once, and the source is quiet afterwards; a blocked (epoll) or
/// ignored (kqueue) signal never interrupts the wait.
pub fn a_signal_arrives_as_an_event<S: SystemPort>() {
    let wanted = set(&[SIGUSR1]);
    let _mask = S::block(wanted).unwrap();
    let (mut el, mut rec) = signal_loop::<S>(S::signals(wanted).unwrap());

    kill_process(SIGUSR1);
    let ready = expect_event(&mut el, &mut rec, SIGNALS);
    assert!(ready.is_readable(), "{ready:?}");
    assert_eq!(received(&rec), wanted);
    assert!(S::receive(&mut rec.state.signals).unwrap().is_empty());
    expect_no_events(&mut el, &mut rec, 5, "every arrival was received");
    if S::MECHANISM != Mechanism::Caught {
        assert_eq!(
            rec.interrupted, 0,
            "a blocked or ignored signal interrupts nothing"
        );
    }
}

/// 10,000 signals sent before the loop looks are one event and one `SIGUSR1` in one
/// `receive`; a `SIGUSR2` sent after them is the next event; then the loop is quiet:
/// the storm coalesced, its last signal was not lost, nothing spins.
pub fn a_storm_coalesces_into_one_delivery<S: SystemPort>() {
    let wanted = set(&[SIGUSR1, SIGUSR2]);
    let _mask = S::block(wanted).unwrap();
    let (mut el, mut rec) = signal_loop::<S>(S::signals(wanted).unwrap());

    for _ in 0..STORM {
        kill_process(SIGUSR1);
    }
    expect_event(&mut el, &mut rec, SIGNALS);
    assert_eq!(
        rec.state.deliveries,
        [set(&[SIGUSR1])],
        "one delivery for the storm"
    );
    assert_eq!(rec.of(SIGNALS).len(), 1, "one event for the storm");

    kill_process(SIGUSR2);
    expect_event(&mut el, &mut rec, SIGNALS);
    assert_eq!(rec.state.deliveries, [set(&[SIGUSR1]), set(&[SIGUSR2])]);
    expect_no_events(&mut el, &mut rec, 5, "the storm is over");
}

/// Another thread sends 10,000 `SIGUSR1` then one `SIGUSR2` while the loop runs: the
/// loop receives both, never more deliveries than signals, at most one empty
/// `receive` per delivery (a wake-up for a signal already taken), and is quiet after.
pub fn a_concurrent_storm_loses_nothing_and_ends_quiet<S: SystemPort>() {
    let wanted = set(&[SIGUSR1, SIGUSR2]);
    let _mask = S::block(wanted).unwrap();
    let (mut el, mut rec) = signal_loop::<S>(S::signals(wanted).unwrap());

    // Spawned after the block: it inherits the mask (epoll).
    let sender = thread::spawn(|| {
        for _ in 0..STORM {
            kill_process(SIGUSR1);
        }
        kill_process(SIGUSR2);
    });
    run_until(
        &mut el,
        &mut rec,
        "SIGUSR2, the storm's last signal, received",
        20 * MAX_TURNS,
        |r| received(r).contains(SIGUSR2),
    );
    sender.join().expect("the sender does not panic");
    // One wake-up may trail: a handler preempted between marking its signal and writing
    // its wake-up byte (seen under a CPU hog: 1 run in 20), when the loop took that
    // signal already with an earlier byte; the trailing byte then finds nothing (the
    // documented spurious wake-up: the empty receives are counted below). A SIGUSR1 of
    // the storm may also arrive after the SIGUSR2: under qemu-user, which hands signals
    // to the guest at its own safe points, and once with the self-pipe under a CPU hog
    // (1 loaded run in 6; not explained: its handler runs on whichever thread the kernel
    // picks and interrupts the loop anywhere). Nothing is lost either way, and SIGUSR2,
    // sent once, is not taken twice. Take that one turn; then quiet.
    let late_storm = under_emulator() || S::MECHANISM == Mechanism::Caught;
    let before = rec.state.deliveries.len();
    let _ = turn(&mut el, &mut rec, TURN);
    let trailing = &rec.state.deliveries[before..];
    assert!(
        trailing.len() <= 1
            && trailing
                .iter()
                .all(|d| d.is_empty() || (late_storm && *d == set(&[SIGUSR1]))),
        "after SIGUSR2: {trailing:?}"
    );
    expect_no_events(&mut el, &mut rec, 5, "the storm is over");

    assert_eq!(received(&rec), wanted);
    let deliveries = rec.state.deliveries.len();
    let empty = rec.state.deliveries.iter().filter(|d| d.is_empty()).count();
    assert!(
        deliveries <= STORM + 1,
        "{deliveries} deliveries for {} signals",
        STORM + 1
    );
    assert!(
        empty <= deliveries - empty,
        "{empty} empty receives for {} deliveries: a spin",
        deliveries - empty
    );
    println!(
        "    ({} deliveries, {empty} empty, {} interrupted turns)",
        deliveries - empty,
        rec.interrupted
    );
}

/// A signal sent to the loop's own thread while it waits: an event on every port.
/// epoll (blocked) and kqueue (ignored) are never interrupted; on poll the handler may
/// run on the loop's thread, whose wait then returns `EINTR` (`interrupted`), and the
/// event comes in the same or the next turn.
pub fn a_signal_to_the_waiting_thread_is_an_event<S: SystemPort>() {
    let wanted = set(&[SIGUSR1]);
    let _mask = S::block(wanted).unwrap();
    let (mut el, mut rec) = signal_loop::<S>(S::signals(wanted).unwrap());

    // SAFETY: pthread_self has no preconditions. Carried as an integer: musl's
    // pthread_t is a pointer, which is not Send.
    let me = unsafe { libc::pthread_self() } as usize;
    let sender = thread::spawn(move || {
        // Most likely while the loop waits; the assertions hold either way.
        thread::sleep(Duration::from_millis(20));
        // SAFETY: the loop's thread joins this thread before it ends.
        let ret = unsafe { libc::pthread_kill(me as libc::pthread_t, SIGUSR1) };
        assert_eq!(ret, 0, "pthread_kill");
    });
    // Turn-capped, not timed: a loaded machine may run the sender long after its sleep,
    // and each turn before the signal is a 50 ms timeout.
    run_until(&mut el, &mut rec, "SIGUSR1 received", MAX_TURNS, |r| {
        received(r).contains(SIGUSR1)
    });
    sender.join().expect("the sender does not panic");
    if S::MECHANISM != Mechanism::Caught {
        assert_eq!(
            rec.interrupted, 0,
            "a blocked or ignored signal interrupts nothing"
        );
    }
    expect_no_events(&mut el, &mut rec, 3, "one signal, one delivery");
}

/// One `Signals` per signal per process: a second one for a held signal is `Taken`,
/// one for other signals is fine, and the signal is free again once the first drops.
pub fn a_held_signal_is_taken_until_dropped<S: SystemPort>() {
    let _mask = S::block(set(&[SIGUSR1, SIGUSR2])).unwrap();
    let first = S::signals(set(&[SIGUSR1])).unwrap();
    let err = S::signals(set(&[SIGUSR1, SIGUSR2])).unwrap_err();
    assert_eq!(err, SignalError::Taken(SIGUSR1));
    let other = S::signals(set(&[SIGUSR2])).expect("another signal is free");
    drop(first);
    let again = S::signals(set(&[SIGUSR1])).expect("free again after the drop");
    drop((other, again));
}

/// Two loops in one process, on two threads (one loop per core): each gets the signal
/// it asked for, and never the other's.
pub fn two_loops_get_only_what_they_asked_for<S: SystemPort>() {
    let _mask = S::block(set(&[SIGUSR1, SIGUSR2])).unwrap();
    let (mut a, mut a_rec) = signal_loop::<S>(S::signals(set(&[SIGUSR1])).unwrap());

    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let b = thread::spawn(move || {
        let (mut b, mut b_rec) = signal_loop::<S>(S::signals(set(&[SIGUSR2])).unwrap());
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        run_until(
            &mut b,
            &mut b_rec,
            "loop B receives SIGUSR2",
            MAX_TURNS,
            |r| received(r).contains(SIGUSR2),
        );
        expect_no_events(&mut b, &mut b_rec, 5, "loop B asked for SIGUSR2 only");
        b_rec.state.deliveries
    });
    ready_rx.recv().expect("loop B started");

    kill_process(SIGUSR1);
    expect_event(&mut a, &mut a_rec, SIGNALS);
    go_tx.send(()).unwrap();
    kill_process(SIGUSR2);
    let b_got = b.join().expect("loop B does not panic");
    expect_no_events(&mut a, &mut a_rec, 5, "loop A asked for SIGUSR1 only");

    assert_eq!(a_rec.state.deliveries, [set(&[SIGUSR1])]);
    assert_eq!(b_got, [set(&[SIGUSR2])]);
}

/// What a `Signals` changes comes back when it drops: the disposition (a handler of
/// the program's, here) and the mask its `block` guard added.
pub fn drop_restores_the_disposition_and_the_mask<S: SystemPort>() {
    let marker = marker as extern "C" fn(libc::c_int) as libc::sighandler_t;
    set_handler(SIGUSR2, marker);
    let wanted = set(&[SIGUSR2]);
    assert!(SignalMask::blocked(wanted).unwrap().is_empty());

    let mask = S::block(wanted).unwrap();
    let blocked = SignalMask::blocked(wanted).unwrap();
    let signals = S::signals(wanted).unwrap();
    let during = handler_of(SIGUSR2);
    match S::MECHANISM {
        Mechanism::Blocked => {
            assert_eq!(blocked, wanted, "signalfd: blocked");
            assert_eq!(during, marker, "signalfd: the disposition is left alone");
        }
        Mechanism::Ignored => {
            assert!(blocked.is_empty());
            assert_eq!(during, libc::SIG_IGN, "kqueue: ignored, and recorded");
        }
        Mechanism::Caught => {
            assert!(blocked.is_empty());
            assert!(during != marker && during != libc::SIG_IGN && during != libc::SIG_DFL);
        }
    }
    drop(signals);
    assert_eq!(handler_of(SIGUSR2), marker, "the program's handler is back");
    drop(mask);
    assert!(
        SignalMask::blocked(wanted).unwrap().is_empty(),
        "the mask is back"
    );
    set_handler(SIGUSR2, libc::SIG_IGN);
}

/// signalfd needs the signals blocked: without `block`, epoll's `new` fails with
/// `NotBlocked`, naming the signal; the other ports need nothing. Signals that cannot
/// be caught are `Unsupported` everywhere.
pub fn new_says_what_is_missing<S: SystemPort>() {
    let wanted = set(&[SIGUSR1]);
    match S::signals(wanted) {
        Err(err) => {
            assert_eq!(S::MECHANISM, Mechanism::Blocked, "{err}");
            assert_eq!(err, SignalError::NotBlocked(SIGUSR1));
            assert!(err.to_string().contains("SIGUSR1"), "{err}");
        }
        Ok(signals) => {
            assert_ne!(S::MECHANISM, Mechanism::Blocked, "signalfd without a block");
            drop(signals);
        }
    }
    let mask = S::block(wanted).unwrap();
    drop(S::signals(wanted).expect("blocked where needed"));
    drop(mask);
    for uncatchable in [SIGKILL, SIGSTOP] {
        let with = set(&[SIGUSR1, uncatchable]);
        assert_eq!(
            S::signals(with).unwrap_err(),
            SignalError::Unsupported(uncatchable)
        );
        assert_eq!(
            S::block(with).unwrap_err(),
            SignalError::Unsupported(uncatchable)
        );
    }
}
