extern crate std;

use super::*;
use proptest::prelude::*;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};
use std::vec::Vec;

/// Counts its wake-ups.
#[derive(Debug, Default)]
struct CountingWake(StdAtomicUsize);

impl Wake for CountingWake {
    fn wake(&self) -> Result<(), OsError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl CountingWake {
    fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

#[test]
fn full_channel_hands_back_each_rejected_message() {
    let channel: Channel<u32, 4> = Channel::new();
    let tx = channel.sender();
    let rx = channel.receiver().unwrap();
    for round in 0..3 {
        for i in 0..4 {
            tx.send(round * 10 + i).unwrap();
        }
        for rejected in 100..110 {
            assert_eq!(tx.send(rejected), Err(SendError::Full(rejected)));
        }
        for i in 0..4 {
            assert_eq!(rx.try_recv(), Some(round * 10 + i));
        }
        assert_eq!(rx.try_recv(), None);
    }
}

#[test]
fn one_receiver_and_disconnect_on_its_drop() {
    let channel: Channel<Rc<()>, 2> = Channel::new();
    let tracker = Rc::new(());
    let tx = channel.sender();
    let rx = channel.receiver().unwrap();
    assert!(channel.receiver().is_none());
    tx.send(tracker.clone()).unwrap();
    drop(rx);
    assert_eq!(
        Rc::strong_count(&tracker),
        1,
        "queued message dropped with the receiver"
    );
    match tx.send(tracker.clone()) {
        Err(SendError::Disconnected(back)) => assert!(Rc::ptr_eq(&back, &tracker)),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // Detached: a new receiver opens the channel again, empty.
    let rx = channel.receiver().unwrap();
    assert!(channel.receiver().is_none(), "one receiver at a time");
    assert!(
        rx.try_recv().is_none(),
        "what the drop dropped stays dropped"
    );
    tx.send(tracker.clone()).unwrap();
    assert!(Rc::ptr_eq(&rx.try_recv().unwrap(), &tracker));
    assert_eq!(Rc::strong_count(&tracker), 1);
}

#[test]
fn queued_messages_are_dropped_exactly_once_with_the_channel() {
    let tracker = Rc::new(());
    {
        let channel: Channel<Rc<()>, 8> = Channel::new();
        let tx = channel.sender();
        let rx = channel.receiver().unwrap();
        // Wrap around the ring a few times so head and tail sit mid-lap.
        for _ in 0..13 {
            tx.send(tracker.clone()).unwrap();
            drop(rx.try_recv().unwrap());
        }
        for _ in 0..5 {
            tx.send(tracker.clone()).unwrap();
        }
        drop(rx.try_recv());
        assert_eq!(Rc::strong_count(&tracker), 5);
        core::mem::forget(rx); // keep the channel open: the channel's drop does the work
    }
    assert_eq!(Rc::strong_count(&tracker), 1);
}

#[test]
fn full_ring_dropped_with_the_channel() {
    let tracker = Rc::new(());
    {
        let channel: Channel<Rc<()>, 4> = Channel::new();
        let tx = channel.sender();
        while tx.send(tracker.clone()).is_ok() {}
        assert_eq!(Rc::strong_count(&tracker), 5);
    }
    assert_eq!(Rc::strong_count(&tracker), 1);
}

#[test]
fn waker_is_attached_once_and_dropped_with_the_channel() {
    struct DropWake<'a>(&'a StdAtomicUsize);
    impl Wake for DropWake<'_> {
        fn wake(&self) -> Result<(), OsError> {
            Ok(())
        }
    }
    impl Drop for DropWake<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let drops = StdAtomicUsize::new(0);
    {
        let channel: Channel<u8, 2, DropWake<'_>> = Channel::new();
        let rx = channel.receiver().unwrap();
        assert!(rx.waker().is_none());
        assert!(rx.attach(DropWake(&drops)).is_ok());
        assert!(rx.attach(DropWake(&drops)).is_err());
        assert_eq!(drops.load(Ordering::Relaxed), 1, "the refused one");
        assert!(channel.has_waker());
    }
    assert_eq!(drops.load(Ordering::Relaxed), 2);
}

#[test]
fn sends_wake_only_a_sleeping_loop_once() {
    let channel: Channel<u32, 8, CountingWake> = Channel::new();
    let tx = channel.sender();
    let rx = channel.receiver().unwrap();
    rx.attach(CountingWake::default()).unwrap();
    let wakes = || rx.waker().unwrap().count();

    tx.send(1).unwrap();
    assert_eq!(wakes(), 0, "awake loop: no wake-up");
    assert!(!rx.prepare_sleep(), "a message is queued");
    rx.finish_sleep();
    assert_eq!(rx.try_recv(), Some(1));

    assert!(rx.prepare_sleep());
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(wakes(), 1, "a burst coalesces into one wake-up");
    rx.finish_sleep();
    tx.send(5).unwrap();
    assert_eq!(wakes(), 1);
    while rx.try_recv().is_some() {}

    assert!(rx.prepare_sleep());
    rx.finish_sleep(); // woke for another reason
    tx.send(6).unwrap();
    assert_eq!(wakes(), 1, "the loop is awake again");
}

#[test]
fn a_failed_wake_is_reported_and_retried() {
    #[derive(Debug)]
    struct Flaky(StdAtomicUsize);
    impl Wake for Flaky {
        fn wake(&self) -> Result<(), OsError> {
            if self.0.fetch_add(1, Ordering::Relaxed) == 0 {
                Err(OsError::new(9, embedded_io::ErrorKind::Other))
            } else {
                Ok(())
            }
        }
    }
    let channel: Channel<u32, 4, Flaky> = Channel::new();
    let tx = channel.sender();
    let rx = channel.receiver().unwrap();
    rx.attach(Flaky(StdAtomicUsize::new(0))).unwrap();
    assert!(rx.prepare_sleep());
    let err = tx.send(1).unwrap_err();
    assert!(matches!(err, SendError::Wake(_)));
    assert_eq!(err.into_inner(), None, "the message was queued");
    tx.send(2).unwrap();
    assert_eq!(rx.waker().unwrap().0.load(Ordering::Relaxed), 2, "retried");
    assert_eq!(rx.try_recv(), Some(1));
    assert_eq!(rx.try_recv(), Some(2));
}

#[test]
fn a_view_hides_the_capacity() {
    fn drain<W>(rx: &Receiver<'_, u8, W>) -> Vec<u8> {
        core::iter::from_fn(|| rx.try_recv()).collect()
    }
    let channel: Channel<u8, 16> = Channel::new();
    let view: &ChannelView<u8> = channel.as_view();
    assert_eq!(view.capacity(), 16);
    let tx: Sender<'_, u8> = view.sender();
    let rx = view.receiver().unwrap();
    tx.send(1).unwrap();
    tx.clone().send(2).unwrap();
    assert_eq!(drain(&rx), [1, 2]);
}

#[test]
fn handles_have_the_promised_auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Sender<'static, u64, CountingWake>>();
    send_sync::<Channel<u64, 4, CountingWake>>();
    send::<Receiver<'static, u64, CountingWake>>();
}

#[derive(Debug, Clone)]
enum Op {
    Send(u16),
    Recv,
    PrepareSleep,
    FinishSleep,
    /// Drop the receiver (detach), then take and attach a new one.
    Reattach(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u16>().prop_map(Op::Send),
        3 => Just(Op::Recv),
        1 => Just(Op::PrepareSleep),
        1 => Just(Op::FinishSleep),
        1 => any::<u16>().prop_map(Op::Reattach),
    ]
}

const CASES: u32 = if cfg!(miri) { 6 } else { 2_000 };

proptest! {
    #![proptest_config(crate::test_support::proptest_config(CASES))]

    /// One thread's view: the channel is a bounded FIFO, it wakes exactly when the
    /// first send follows a successful `prepare_sleep`, and a detach empties it and
    /// refuses sends until the next receiver.
    #[test]
    fn behaves_like_a_bounded_deque(ops in proptest::collection::vec(op(), 0..150)) {
        const N: usize = 4;
        let channel: Channel<u16, N, CountingWake> = Channel::new();
        let tx = channel.sender();
        let mut rx = channel.receiver().unwrap();
        rx.attach(CountingWake::default()).unwrap();
        let mut model: VecDeque<u16> = VecDeque::new();
        let mut asleep = false;
        let mut wakes = 0;
        for op in ops {
            match op {
                Op::Send(v) => {
                    if model.len() == N {
                        prop_assert_eq!(tx.send(v), Err(SendError::Full(v)));
                    } else {
                        prop_assert_eq!(tx.send(v), Ok(()));
                        model.push_back(v);
                        if asleep {
                            wakes += 1;
                            asleep = false;
                        }
                    }
                }
                Op::Recv => prop_assert_eq!(rx.try_recv(), model.pop_front()),
                Op::PrepareSleep => {
                    asleep = model.is_empty();
                    prop_assert_eq!(rx.prepare_sleep(), asleep);
                }
                Op::FinishSleep => {
                    rx.finish_sleep();
                    asleep = false;
                }
                Op::Reattach(v) => {
                    drop(rx);
                    prop_assert_eq!(tx.send(v), Err(SendError::Disconnected(v)));
                    prop_assert!(!channel.has_waker());
                    rx = channel.receiver().unwrap();
                    rx.attach(CountingWake::default()).unwrap();
                    (model, asleep, wakes) = (VecDeque::new(), false, 0);
                }
            }
            prop_assert_eq!(rx.waker().unwrap().count(), wakes);
        }
    }
}

/// `producers` threads each send `per_producer` tagged messages through a ring of 1024;
/// the receiver checks each arrives once and in its sender's order.
fn producers_deliver_in_order(producers: usize, per_producer: u64) {
    let channel: Channel<u64, 1024> = Channel::new();
    let rx = channel.receiver().unwrap();
    std::thread::scope(|scope| {
        for id in 0..producers as u64 {
            let tx = channel.sender();
            scope.spawn(move || {
                for seq in 0..per_producer {
                    let mut msg = id << 40 | seq;
                    while let Err(SendError::Full(back)) = tx.send(msg) {
                        msg = back;
                        std::thread::yield_now();
                    }
                }
            });
        }
        let mut next = std::vec![0u64; producers];
        let mut left = producers as u64 * per_producer;
        // A lost message shows as no progress: the deadline moves with each arrival, so a
        // loaded machine (issue 14) may take as long as it needs overall.
        const STALL: Duration = Duration::from_secs(60);
        let mut deadline = Instant::now() + STALL;
        while left > 0 {
            match rx.try_recv() {
                Some(msg) => {
                    let (id, seq) = ((msg >> 40) as usize, msg & ((1 << 40) - 1));
                    assert_eq!(seq, next[id], "producer {id} out of order or duplicated");
                    next[id] += 1;
                    left -= 1;
                    deadline = Instant::now() + STALL;
                }
                None => {
                    assert!(
                        Instant::now() < deadline,
                        "no message in {STALL:?}: {left} missing"
                    );
                    // Yield, not spin: on a machine with more runnable threads than cores,
                    // the producer that claimed the next slot may be waiting for this CPU.
                    std::thread::yield_now();
                }
            }
        }
        assert!(next.iter().all(|&n| n == per_producer));
    });
    assert_eq!(rx.try_recv(), None, "nothing extra");
}

#[test]
#[cfg_attr(miri, ignore)]
fn two_producers_a_million_each() {
    producers_deliver_in_order(2, 1_000_000);
}

#[test]
#[cfg_attr(miri, ignore)]
fn four_producers_a_million_each() {
    producers_deliver_in_order(4, 1_000_000);
}

#[test]
fn producers_deliver_in_order_small() {
    // The threaded test in small, for Miri's data-race detector.
    producers_deliver_in_order(2, if cfg!(miri) { 200 } else { 20_000 });
}

/// A waker that a sleeping thread can wait on, like an eventfd.
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

impl CondvarWake {
    /// Sleeps until woken (consuming the wake-up) or until `timeout`; false on timeout.
    fn sleep(&self, timeout: Duration) -> bool {
        let guard = self.woken.lock().unwrap();
        let (mut woken, result) = self
            .cond
            .wait_timeout_while(guard, timeout, |woken| !*woken)
            .unwrap();
        *woken = false;
        !result.timed_out()
    }
}

/// Each round, the producer sends one message while the receiver is between receiving
/// the previous one and sleeping; a lost wake-up leaves the receiver asleep with the
/// message queued, which fails the round at its timeout instead of hanging.
#[test]
#[cfg_attr(miri, ignore)]
fn no_lost_wake_up_in_send_while_falling_asleep_races() {
    const ROUNDS: usize = 100_000;
    const TIMEOUT: Duration = Duration::from_secs(10);
    let channel: Channel<usize, 2, CondvarWake> = Channel::new();
    let rx = channel.receiver().unwrap();
    rx.attach(CondvarWake::default()).unwrap();
    let received = StdAtomicUsize::new(0);
    std::thread::scope(|scope| {
        let tx = channel.sender();
        let received = &received;
        scope.spawn(move || {
            for round in 0..ROUNDS {
                tx.send(round).unwrap();
                let deadline = Instant::now() + TIMEOUT;
                while received.load(Ordering::Acquire) <= round {
                    assert!(Instant::now() < deadline, "round {round}: never received");
                    std::hint::spin_loop();
                }
            }
        });
        let waker = rx.waker().unwrap();
        let mut sleeps = 0;
        for round in 0..ROUNDS {
            loop {
                if let Some(msg) = rx.try_recv() {
                    assert_eq!(msg, round);
                    received.store(round + 1, Ordering::Release);
                    break;
                }
                if rx.prepare_sleep() {
                    sleeps += 1;
                    let woken = waker.sleep(TIMEOUT);
                    rx.finish_sleep();
                    assert!(woken, "round {round}: lost wake-up");
                } else {
                    std::hint::spin_loop();
                }
            }
        }
        assert!(sleeps > 0, "the race was exercised");
    });
}

#[test]
fn full_count_counts_refused_sends_only_and_len_the_queue() {
    let channel: Channel<u32, 4> = Channel::new();
    let tx = channel.sender();
    let rx = channel.receiver().unwrap();
    assert!(channel.is_empty());
    for i in 0..4 {
        tx.send(i).unwrap();
        assert_eq!(channel.len(), i as usize + 1);
    }
    assert_eq!(channel.full_count(), 0, "successful sends count nothing");
    for rejected in 0..3 {
        assert_eq!(tx.send(rejected), Err(SendError::Full(rejected)));
    }
    assert_eq!(channel.full_count(), 3);
    assert_eq!(rx.try_recv(), Some(0));
    assert_eq!(channel.len(), 3);
    drop(rx);
    // Disconnected is not full.
    assert!(matches!(tx.send(9), Err(SendError::Disconnected(9))));
    assert_eq!(channel.full_count(), 3);
}
