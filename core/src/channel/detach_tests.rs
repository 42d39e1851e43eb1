//! The detach that a receiver's drop performs: the channel can be received again, its
//! waker is dropped once and never called after, and sends racing the drop lose nothing.

extern crate std;

use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize as StdAtomicUsize};
use std::vec::Vec;

/// Counts its drops in the counter it borrows.
#[derive(Debug)]
struct Counted<'a>(&'a StdAtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A waker that checks it is never called while, or after, it is dropped: `inside`
/// counts the calls under way, `open` says it is not dropped. SeqCst on both sides
/// (Dekker's pattern): either the drop sees a call under way, or the call sees the drop.
/// A violation is counted, not panicked on: a panic inside the waker would leave the
/// channel's count of waking senders raised, and the detach waiting for ever.
#[derive(Debug)]
struct CheckedWake<'a> {
    probe: &'a Probe,
}

impl<'a> CheckedWake<'a> {
    fn new(probe: &'a Probe) -> Self {
        probe.open.store(true, Ordering::SeqCst);
        CheckedWake { probe }
    }
}

impl Wake for CheckedWake<'_> {
    fn wake(&self) -> Result<(), OsError> {
        let probe = self.probe;
        probe.inside.fetch_add(1, Ordering::SeqCst);
        // Stay inside a while: a detach that did not wait for us would drop us now.
        std::thread::yield_now();
        if !probe.open.load(Ordering::SeqCst) {
            probe.violations.fetch_add(1, Ordering::Relaxed);
        }
        probe.wakes.fetch_add(1, Ordering::Relaxed);
        probe.inside.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for CheckedWake<'_> {
    fn drop(&mut self) {
        let probe = self.probe;
        probe.open.store(false, Ordering::SeqCst);
        if probe.inside.load(Ordering::SeqCst) != 0 {
            probe.violations.fetch_add(1, Ordering::Relaxed);
        }
        probe.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the [`CheckedWake`]s of one test report into.
#[derive(Debug, Default)]
struct Probe {
    open: AtomicBool,
    inside: StdAtomicUsize,
    wakes: StdAtomicUsize,
    drops: StdAtomicUsize,
    /// Calls of a dropped waker, and drops during a call.
    violations: StdAtomicUsize,
}

/// Sets the flag when dropped, also when the test panics: the senders stop, and the
/// scope that joins them ends.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn a_detached_channel_refuses_sends_until_a_new_receiver_opens_it() {
    let dropped = StdAtomicUsize::new(0);
    let channel: Channel<Counted<'_>, 4> = Channel::new();
    let tx = channel.sender();
    // Before any receiver, the channel is open: messages wait for the first one.
    tx.send(Counted(&dropped)).unwrap();
    let rx = channel.receiver().unwrap();
    tx.send(Counted(&dropped)).unwrap();
    assert!(rx.try_recv().is_some());
    drop(rx);
    assert_eq!(dropped.load(Ordering::Relaxed), 2, "received, and queued");
    for _ in 0..3 {
        match tx.send(Counted(&dropped)) {
            Err(SendError::Disconnected(back)) => drop(back),
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }
    assert_eq!(dropped.load(Ordering::Relaxed), 5);
    // Taken again, the ring is empty and works across its wrap-around.
    let rx = channel.receiver().unwrap();
    assert!(rx.try_recv().is_none());
    for round in 0..3 {
        for _ in 0..4 {
            tx.send(Counted(&dropped)).unwrap();
        }
        assert!(matches!(
            tx.send(Counted(&dropped)),
            Err(SendError::Full(_))
        ));
        for _ in 0..4 {
            assert!(rx.try_recv().is_some(), "round {round}");
        }
        assert!(rx.try_recv().is_none());
    }
    drop(rx);
    assert_eq!(dropped.load(Ordering::Relaxed), 5 + 3 * 5);
}

#[test]
fn detach_drops_the_waker_once_and_a_new_receiver_attaches_another() {
    let probe = Probe::default();
    let channel: Channel<u8, 2, CheckedWake<'_>> = Channel::new();
    let tx = channel.sender();
    for generation in 1..=3 {
        let rx = channel.receiver().unwrap();
        assert!(rx.waker().is_none(), "the last one was dropped");
        rx.attach(CheckedWake::new(&probe)).unwrap();
        assert!(channel.has_waker());
        assert!(rx.prepare_sleep());
        tx.send(generation).unwrap();
        assert_eq!(probe.wakes.load(Ordering::Relaxed), generation as usize);
        drop(rx);
        assert!(!channel.has_waker());
        assert_eq!(probe.drops.load(Ordering::Relaxed), generation as usize);
        assert!(!probe.open.load(Ordering::SeqCst));
    }
}

#[test]
fn a_receiver_dropped_asleep_detaches_and_the_next_one_is_awake() {
    let probe = Probe::default();
    let channel: Channel<u8, 2, CheckedWake<'_>> = Channel::new();
    let tx = channel.sender();
    let rx = channel.receiver().unwrap();
    rx.attach(CheckedWake::new(&probe)).unwrap();
    assert!(rx.prepare_sleep());
    drop(rx); // without finish_sleep: the sleep flag goes with the receiver
    let rx = channel.receiver().unwrap();
    tx.send(1).unwrap();
    assert_eq!(
        probe.wakes.load(Ordering::Relaxed),
        0,
        "no waker, none called"
    );
    rx.attach(CheckedWake::new(&probe)).unwrap();
    tx.send(2).unwrap();
    assert_eq!(probe.wakes.load(Ordering::Relaxed), 0, "the loop is awake");
    assert_eq!((rx.try_recv(), rx.try_recv()), (Some(1), Some(2)));
}

/// Senders hammer the channel while the receiving side sleeps, wakes and detaches over
/// and over. Every message is received, handed back, or dropped by a detach, exactly
/// once (none is left in the ring after the last detach), and no waker is called while
/// or after it is dropped.
#[test]
fn senders_racing_detaches_lose_nothing_and_never_call_a_dropped_waker() {
    const SENDERS: usize = 2;
    let rounds = if cfg!(miri) { 12 } else { 1_000 };
    let probe = Probe::default();
    let dropped = StdAtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let channel: Channel<Counted<'_>, 4, CheckedWake<'_>> = Channel::new();
    let (mut received, mut detaches) = (0, 0);
    let outcomes: Vec<[usize; 3]> = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..SENDERS)
            .map(|_| {
                let (tx, dropped, stop) = (channel.sender(), &dropped, &stop);
                scope.spawn(move || {
                    // [queued, full, disconnected]
                    let mut outcome = [0; 3];
                    while !stop.load(Ordering::Relaxed) {
                        match tx.send(Counted(dropped)) {
                            Ok(()) => outcome[0] += 1,
                            Err(SendError::Full(_)) => outcome[1] += 1,
                            Err(SendError::Disconnected(_)) => outcome[2] += 1,
                            Err(SendError::Wake(err)) => panic!("{err}"),
                        }
                        std::thread::yield_now();
                    }
                    outcome
                })
            })
            .collect();
        let stopping = StopOnDrop(&stop);
        for round in 0..rounds {
            let rx = channel.receiver().expect("the last receiver was dropped");
            rx.attach(CheckedWake::new(&probe)).unwrap();
            for _ in 0..round % 3 {
                received += usize::from(rx.try_recv().is_some());
                // Raise the flag, so that the senders take the wake path.
                if rx.prepare_sleep() {
                    std::thread::yield_now();
                    rx.finish_sleep();
                }
            }
            if round % 2 == 0 {
                // Drop it asleep, if the ring is empty: a send may be waking it right now.
                let _ = rx.prepare_sleep();
            }
            drop(rx);
            detaches += 1;
        }
        drop(stopping);
        senders.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let queued: usize = outcomes.iter().map(|o| o[0]).sum();
    let refused: usize = outcomes.iter().map(|o| o[1] + o[2]).sum();
    assert_eq!(
        dropped.load(Ordering::Relaxed),
        queued + refused,
        "each message dropped exactly once: received ({received}), dropped by a detach, or handed back"
    );
    assert_eq!(
        probe.drops.load(Ordering::Relaxed),
        detaches,
        "one waker per detach"
    );
    assert_eq!(
        probe.violations.load(Ordering::Relaxed),
        0,
        "a waker was called while or after it was dropped"
    );
    assert!(queued > 0, "the race was exercised");
}
