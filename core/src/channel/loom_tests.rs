//! Exhaustive interleavings of the ring and of the sleep/wake protocol, under loom:
//! `RUSTFLAGS="--cfg loom" cargo test -p statio-core --release --lib channel`.

extern crate std;

use super::*;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use std::vec::Vec;

const PRODUCERS: usize = 2;

/// Explores every interleaving with at most `PREEMPTIONS` preemptions (loom's advice for
/// models with spin loops; bugs seldom need more), overridable by `LOOM_MAX_PREEMPTIONS`.
fn model(f: impl Fn() + Sync + Send + 'static) {
    const PREEMPTIONS: usize = 3;
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(PREEMPTIONS);
    }
    builder.check(f);
}
const PER_PRODUCER: usize = 2;

/// Two producers send two messages each into a ring of two while the receiver takes what
/// it can; then the rest is drained. Every message is either received exactly once, in
/// its producer's order, or handed back to its producer as `Full`. (No retry loops: spins
/// would multiply the interleavings without testing more of the ring.)
#[test]
fn ring_delivers_every_message_once_in_order() {
    model(|| {
        let channel: Arc<Channel<usize, 2>> = Arc::new(Channel::new());
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|id| {
                let channel = channel.clone();
                thread::spawn(move || {
                    let tx = channel.sender();
                    let mut rejected = Vec::new();
                    for seq in 0..PER_PRODUCER {
                        let msg = id * 10 + seq;
                        match tx.send(msg) {
                            Ok(()) => {}
                            Err(SendError::Full(back)) => {
                                assert_eq!(back, msg);
                                rejected.push(back);
                            }
                            Err(err) => panic!("{err}"),
                        }
                    }
                    rejected
                })
            })
            .collect();
        let rx = channel.receiver().unwrap();
        let mut received = Vec::new();
        for _ in 0..2 {
            received.extend(rx.try_recv());
        }
        let mut all = Vec::new();
        for producer in producers {
            all.extend(producer.join().unwrap());
        }
        while let Some(msg) = rx.try_recv() {
            received.push(msg);
        }
        for id in 0..PRODUCERS {
            let mine: Vec<usize> = received.iter().copied().filter(|m| m / 10 == id).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {id} out of order"
            );
        }
        all.extend(received);
        all.sort_unstable();
        assert_eq!(
            all,
            [0, 1, 10, 11],
            "each message received or handed back, once"
        );
    });
}

/// Messages queued when the channel goes are dropped exactly once.
#[test]
fn queued_messages_dropped_once() {
    model(|| {
        let tracker = Arc::new(());
        let channel: Arc<Channel<Arc<()>, 2>> = Arc::new(Channel::new());
        let producer = {
            let (channel, tracker) = (channel.clone(), tracker.clone());
            thread::spawn(move || {
                let tx = channel.sender();
                let _ = tx.send(tracker.clone());
                let _ = tx.send(tracker.clone());
            })
        };
        let rx = channel.receiver().unwrap();
        drop(rx.try_recv());
        producer.join().unwrap();
        core::mem::forget(rx); // leave the rest to the channel's drop
        drop(channel);
        assert_eq!(Arc::strong_count(&tracker), 1);
    });
}

/// An eventfd stand-in: a flag behind loom's mutex and condition variable.
#[derive(Debug, Default)]
struct CondvarWake {
    woken: Mutex<bool>,
    cond: Condvar,
}

impl Wake for CondvarWake {
    fn wake(&self) -> Result<(), OsError> {
        *self.woken.lock().unwrap() = true;
        self.cond.notify_one();
        Ok(())
    }
}

/// Two producers send one message each while the loop receives and falls asleep. The
/// loop sleeps on a condition variable only the waker signals: a lost wake-up leaves it
/// blocked forever, which loom reports as a deadlock.
#[test]
fn sleeping_loop_is_always_woken() {
    model(|| {
        let channel: Arc<Channel<usize, 2, CondvarWake>> = Arc::new(Channel::new());
        let rx = channel.receiver().unwrap();
        rx.attach(CondvarWake::default()).unwrap();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|id| {
                let channel = channel.clone();
                thread::spawn(move || channel.sender().send(id).unwrap())
            })
            .collect();
        let waker = rx.waker().unwrap();
        let mut got = 0;
        while got < PRODUCERS {
            if rx.try_recv().is_some() {
                got += 1;
            } else if rx.prepare_sleep() {
                let mut woken = waker.woken.lock().unwrap();
                while !*woken {
                    woken = waker.cond.wait(woken).unwrap();
                }
                *woken = false;
                drop(woken);
                rx.finish_sleep();
            } else {
                thread::yield_now(); // a message is being written
            }
        }
        for producer in producers {
            producer.join().unwrap();
        }
    });
}

/// A waker whose every call reads, and whose drop writes, a loom cell: loom reports a
/// call that is not ordered before the drop (a use of a closed descriptor) as a race.
#[derive(Debug)]
struct CellWake {
    open: loom::cell::UnsafeCell<bool>,
    wakes: Arc<loom::sync::atomic::AtomicUsize>,
}

impl CellWake {
    fn new(wakes: &Arc<loom::sync::atomic::AtomicUsize>) -> Self {
        CellWake {
            open: loom::cell::UnsafeCell::new(true),
            wakes: wakes.clone(),
        }
    }
}

impl Wake for CellWake {
    fn wake(&self) -> Result<(), OsError> {
        // SAFETY: loom checks this read against the drop's write.
        assert!(
            self.open.with(|open| unsafe { *open }),
            "dropped waker called"
        );
        self.wakes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for CellWake {
    fn drop(&mut self) {
        self.open.with_mut(|open| {
            // SAFETY: loom checks this write against every call's read.
            unsafe { *open = false }
        });
    }
}

/// The loop falls asleep and then drops its receiver while a producer sends: the send
/// either is queued (and dropped by the detach) or comes back `Disconnected`; a waker
/// call, if any, is over before the waker is dropped.
#[test]
fn detach_waits_out_a_wake_and_loses_no_message() {
    model(|| {
        let tracker = Arc::new(());
        let wakes = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let channel: Arc<Channel<Arc<()>, 2, CellWake>> = Arc::new(Channel::new());
        let rx = channel.receiver().unwrap();
        rx.attach(CellWake::new(&wakes)).unwrap();
        assert!(rx.prepare_sleep());
        let producer = {
            let (channel, tracker) = (channel.clone(), tracker.clone());
            thread::spawn(move || match channel.sender().send(tracker) {
                Ok(()) => true,
                Err(SendError::Disconnected(back)) => {
                    drop(back);
                    false
                }
                Err(err) => panic!("{err:?}"),
            })
        };
        drop(rx);
        let queued = producer.join().unwrap();
        assert_eq!(
            Arc::strong_count(&tracker),
            1,
            "dropped by the detach or handed back"
        );
        assert!(!channel.has_waker());
        if !queued {
            assert_eq!(
                wakes.load(Ordering::Relaxed),
                0,
                "a refused send wakes nobody"
            );
        }
    });
}

/// A producer sends twice while the channel is detached from one loop and attached to
/// the next (asleep): every message is received by the new loop, dropped by the detach,
/// or handed back, once; the old waker is never called after its drop, and the new loop,
/// asleep, is woken if a message reached it.
#[test]
fn a_reattached_channel_delivers_and_never_calls_the_old_waker() {
    model(|| {
        let tracker = Arc::new(());
        let wakes = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let channel: Arc<Channel<Arc<()>, 2, CellWake>> = Arc::new(Channel::new());
        let first = channel.receiver().unwrap();
        first.attach(CellWake::new(&wakes)).unwrap();
        assert!(first.prepare_sleep());
        let producer = {
            let (channel, tracker) = (channel.clone(), tracker.clone());
            thread::spawn(move || {
                let tx = channel.sender();
                for _ in 0..2 {
                    match tx.send(tracker.clone()) {
                        Ok(()) | Err(SendError::Disconnected(_)) => {}
                        Err(err) => panic!("{err:?}"),
                    }
                }
            })
        };
        drop(first);
        let second = channel.receiver().unwrap();
        let new_wakes = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        second.attach(CellWake::new(&new_wakes)).unwrap();
        let asleep = second.prepare_sleep();
        producer.join().unwrap();
        let mut received = 0;
        while second.try_recv().is_some() {
            received += 1;
        }
        if asleep && received > 0 {
            assert_eq!(
                new_wakes.load(Ordering::Relaxed),
                1,
                "the sleeping loop is woken"
            );
        }
        drop(second);
        assert_eq!(Arc::strong_count(&tracker), 1, "each message once");
    });
}
