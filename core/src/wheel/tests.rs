//! The wheel against its datasheet and, by property tests, against a sorted model.

extern crate std;
use super::*;
use proptest::prelude::*;
use std::vec::Vec;

type Small = Wheel<u32, 16>;

/// Fires everything due at or before `now`, noting the wheel's time at each expiry.
fn drain<const N: usize>(wheel: &mut Wheel<u32, N>, now: u64) -> Vec<(u64, u32)> {
    let mut fired = Vec::new();
    while let Some((key, value)) = wheel.poll_expired(now) {
        assert!(!wheel.contains(key));
        fired.push((wheel.now(), value));
    }
    assert_eq!(wheel.now(), now);
    fired
}

/// Every delay that ends one tick before, at, and one tick after a level's span.
fn boundary_delays() -> impl Iterator<Item = u64> {
    (0..=LEVELS as u32).flat_map(|level| {
        let span = 1u64 << (SLOT_BITS * level);
        [span - 1, span, span + 1]
            .into_iter()
            .filter(|&delay| delay < RANGE)
    })
}

#[test]
fn a_zeroed_wheel_made_in_place_works_like_a_new_one() {
    let mut place = core::mem::MaybeUninit::<Wheel<u32, 8>>::zeroed();
    // SAFETY: `place` is aligned, writable and all zero bytes.
    unsafe { Wheel::init_zeroed(place.as_mut_ptr(), 100) };
    // SAFETY: init_zeroed made it a valid wheel (Miri checks every field).
    let wheel = unsafe { place.assume_init_mut() };
    assert!(wheel.is_empty() && wheel.next_deadline().is_none());
    assert_eq!(wheel.now(), 100);
    let a = wheel.insert(5_000, 1).unwrap();
    let b = wheel.insert(130, 2).unwrap();
    assert_eq!(wheel.next_deadline(), Some(130));
    assert_eq!(wheel.poll_expired(200), Some((b, 2)));
    assert_eq!(wheel.cancel(a), Some(1));
    assert!(wheel.is_empty());
}

#[test]
fn delays_crossing_each_level_boundary_fire_on_their_tick() {
    for start in [0, 12_345, RANGE - 3] {
        for delay in boundary_delays() {
            let mut wheel: Small = Wheel::starting_at(start);
            let deadline = start + delay;
            let key = wheel.insert(deadline, 7).unwrap();
            assert_eq!(wheel.next_deadline(), Some(deadline), "{start} + {delay}");
            assert_eq!(wheel.deadline(key), Some(deadline));
            if delay > 0 {
                assert_eq!(wheel.poll_expired(deadline - 1), None, "{start} + {delay}");
                assert_eq!(wheel.next_deadline(), Some(deadline), "after cascades");
            }
            assert_eq!(wheel.poll_expired(deadline), Some((key, 7)));
            assert_eq!(wheel.now(), deadline);
            assert_eq!(wheel.next_deadline(), None);
        }
    }
}

#[test]
fn deadlines_exactly_on_level_boundaries_fire_in_order() {
    let mut wheel: Wheel<u32, 32> = Wheel::starting_at(63);
    let deadlines: Vec<u64> = (1..LEVELS as u32)
        .map(|level| 1u64 << (SLOT_BITS * level))
        .chain([64, 65, 4095, 4097])
        .collect();
    for (value, &deadline) in deadlines.iter().enumerate() {
        wheel.insert(deadline, value as u32).unwrap();
    }
    let mut want: Vec<(u64, u32)> = deadlines
        .iter()
        .enumerate()
        .map(|(value, &deadline)| (deadline, value as u32))
        .collect();
    want.sort();
    let mut got = Vec::new();
    // Tickless: sleep exactly until each next deadline.
    while let Some(next) = wheel.next_deadline() {
        let fired = drain(&mut wheel, next);
        assert!(!fired.is_empty(), "woke at {next} for nothing");
        got.extend(fired);
    }
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn far_jump_fires_every_overdue_timer_once_in_order() {
    let mut wheel: Wheel<u32, 64> = Wheel::starting_at(1_000);
    let mut want = Vec::new();
    for (i, delay) in boundary_delays()
        .chain([0, 3, 3, 70_000, RANGE - 1])
        .enumerate()
    {
        wheel.insert(1_000 + delay, i as u32).unwrap();
        want.push((1_000 + delay, i as u32));
    }
    want.sort();
    let mut got = drain(&mut wheel, 1_000 + 3 * RANGE);
    assert!(
        got.windows(2).all(|w| w[0].0 <= w[1].0),
        "out of order: {got:?}"
    );
    got.sort();
    assert_eq!(got, want);
    assert!(wheel.is_empty());
    assert_eq!(drain(&mut wheel, u64::MAX), []);
}

#[test]
fn overdue_insert_fires_at_the_next_poll() {
    let mut wheel: Small = Wheel::starting_at(500);
    let later = wheel.insert(501, 1).unwrap();
    let late = wheel.insert(3, 2).unwrap();
    assert_eq!(wheel.deadline(late), Some(500));
    assert_eq!(wheel.next_deadline(), Some(500));
    assert_eq!(
        wheel.poll_expired(0),
        Some((late, 2)),
        "time never runs backwards"
    );
    assert_eq!(wheel.now(), 500);
    assert_eq!(wheel.poll_expired(501), Some((later, 1)));
}

#[test]
fn timers_inserted_while_draining_fire_in_the_same_round_when_due() {
    let mut wheel: Small = Wheel::new();
    wheel.insert(10, 1).unwrap();
    wheel.insert(20, 2).unwrap();
    let mut fired = Vec::new();
    while let Some((_, value)) = wheel.poll_expired(30) {
        fired.push((wheel.now(), value));
        if value == 1 {
            // Re-armed from the handler: the wheel's time is 10 here, not 30.
            wheel.insert(wheel.now() + 5, 3).unwrap();
            wheel.insert(wheel.now() + 25, 4).unwrap();
        }
    }
    assert_eq!(fired, [(10, 1), (15, 3), (20, 2)]);
    assert_eq!(wheel.next_deadline(), Some(35));
}

#[test]
fn top_level_wraps_across_a_range_boundary() {
    let start = RANGE - 5;
    let mut wheel: Small = Wheel::starting_at(start);
    let far = wheel.insert(start + RANGE - 1, 1).unwrap();
    let near = wheel.insert(start + (1 << 31), 2).unwrap();
    assert_eq!(wheel.next_deadline(), Some(start + (1 << 31)));
    assert_eq!(wheel.poll_expired(start + (1 << 31)), Some((near, 2)));
    assert_eq!(wheel.next_deadline(), Some(start + RANGE - 1));
    assert_eq!(drain(&mut wheel, start + RANGE - 2), []);
    assert_eq!(wheel.poll_expired(start + RANGE - 1), Some((far, 1)));
}

#[test]
fn end_of_time_does_not_overflow() {
    let mut wheel: Small = Wheel::starting_at(u64::MAX - RANGE + 1);
    let last = wheel.insert(u64::MAX, 1).unwrap();
    assert_eq!(wheel.next_deadline(), Some(u64::MAX));
    assert_eq!(wheel.poll_expired(u64::MAX - 1), None);
    assert_eq!(wheel.poll_expired(u64::MAX), Some((last, 1)));
    assert_eq!(wheel.insert(u64::MAX, 2).map(|_| ()), Ok(()));
}

#[test]
fn stale_keys_reach_nothing() {
    let mut wheel: Wheel<u32, 1> = Wheel::new();
    let fired = wheel.insert(5, 1).unwrap();
    assert_eq!(wheel.poll_expired(5), Some((fired, 1)));
    assert_eq!(wheel.cancel(fired), None);
    let cancelled = wheel.insert(9, 2).unwrap();
    assert_eq!(cancelled.index(), fired.index());
    assert_eq!(cancelled.generation(), fired.generation() + 2);
    assert_eq!(
        wheel.cancel(fired),
        None,
        "a fired key misses the node's new timer"
    );
    assert_eq!(wheel.cancel(cancelled), Some(2));
    assert_eq!(wheel.cancel(cancelled), None);
    let live = wheel.insert(9, 3).unwrap();
    assert_eq!(wheel.cancel(cancelled), None);
    assert!(!wheel.contains(cancelled) && wheel.contains(live));
    let foreign = TimerKey {
        index: 7,
        generation: 0,
        wheel: 0,
    };
    assert_eq!(wheel.cancel(foreign), None, "an index beyond N");
    assert_eq!(wheel.poll_expired(9), Some((live, 3)));
}

#[test]
fn nodes_freed_in_any_order_serve_later_inserts() {
    // Deep enough that insert prefetches nodes PREFETCH_AHEAD down the free stack.
    const N: usize = 4 * PREFETCH_AHEAD;
    let mut wheel: Wheel<u32, N> = Wheel::new();
    let mut keys: Vec<TimerKey> = (0..N as u32)
        .map(|i| wheel.insert(u64::from(i * 37 % 101 + 1), i).unwrap())
        .collect();
    // Free every other node by cancel, the rest by expiry.
    for key in keys.iter().step_by(2) {
        assert!(wheel.cancel(*key).is_some());
    }
    assert_eq!(drain(&mut wheel, 200).len(), N / 2);
    let mut want = Vec::new();
    for (i, old) in keys.iter_mut().enumerate() {
        let deadline = 200 + (i as u64 * 53) % 4_000;
        let key = wheel.insert(deadline, i as u32 + 1_000).unwrap();
        assert!(!wheel.contains(*old));
        *old = key;
        want.push((deadline, i as u32 + 1_000));
    }
    assert!(wheel.is_full());
    want.sort();
    let mut got = drain(&mut wheel, 5_000);
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
    got.sort();
    assert_eq!(got, want);
    assert!(keys.iter().all(|key| !wheel.contains(*key)));
}

#[test]
fn full_wheel_returns_the_value() {
    let mut wheel: Wheel<u32, 3> = Wheel::new();
    for i in 0..3 {
        wheel.insert(u64::from(i), i).unwrap();
    }
    assert!(wheel.is_full());
    assert_eq!(wheel.insert(1, 99), Err(TimerError::Full(99)));
    assert_eq!(wheel.insert(2, 98), Err(TimerError::Full(98)));
    let full = Mark {
        now: 3,
        peak: 3,
        capacity: 3,
        limit_hits: 2,
    };
    assert_eq!(wheel.marks(), full);
    wheel.poll_expired(0).unwrap();
    wheel.reset_marks();
    assert_eq!((wheel.marks().now, wheel.marks().peak), (2, 2));
    assert_eq!(wheel.marks().limit_hits, 0);
    let mut zero: Wheel<u32, 0> = Wheel::new();
    assert_eq!(zero.insert(1, 5).map_err(TimerError::into_inner), Err(5));
    assert_eq!(zero.marks().limit_hits, 1);
    assert_eq!(zero.poll_expired(u64::MAX), None);
}

#[test]
fn out_of_range_returns_the_value() {
    let mut wheel: Small = Wheel::starting_at(100);
    assert_eq!(wheel.insert(100 + RANGE, 1), Err(TimerError::OutOfRange(1)));
    assert_eq!(wheel.insert(u64::MAX, 2), Err(TimerError::OutOfRange(2)));
    assert!(wheel.insert(100 + RANGE - 1, 3).is_ok());
    assert_eq!(wheel.len(), 1);
}

#[test]
fn next_deadline_is_exact_across_levels() {
    let mut wheel: Wheel<u32, 32> = Wheel::starting_at(777);
    let mut deadlines: Vec<u64> = [5u64, 64, 300, 4_000, 4_096, 70_000, 300_000, 20_000_000]
        .iter()
        .chain(&[2_000_000_000, RANGE - 1])
        .map(|delay| 777 + delay)
        .collect();
    for (i, &deadline) in deadlines.iter().enumerate().rev() {
        wheel.insert(deadline, i as u32).unwrap();
        assert_eq!(wheel.next_deadline(), Some(deadline));
    }
    deadlines.sort();
    for (i, &deadline) in deadlines.iter().enumerate() {
        assert_eq!(wheel.next_deadline(), Some(deadline));
        assert_eq!(drain(&mut wheel, deadline), [(deadline, i as u32)]);
    }
    assert_eq!(wheel.next_deadline(), None);
}

#[test]
fn cancelling_a_slots_earliest_timer_leaves_a_bound_that_is_never_late() {
    let mut wheel: Small = Wheel::new();
    let first = wheel.insert(5_000, 1).unwrap();
    wheel.insert(5_100, 2).unwrap();
    assert_eq!(wheel.cancel(first), Some(1));
    let bound = wheel.next_deadline().unwrap();
    assert!((4_096..=5_100).contains(&bound), "{bound}");
    // Waking at the bound sorts the slot out; the next answer is exact.
    assert_eq!(drain(&mut wheel, bound), []);
    assert_eq!(wheel.next_deadline(), Some(5_100));
}

#[test]
fn dropping_the_wheel_drops_each_value_once() {
    use std::rc::Rc;
    let tracker = Rc::new(());
    {
        let mut wheel: Wheel<Rc<()>, 8> = Wheel::new();
        let a = wheel.insert(3, tracker.clone()).unwrap();
        wheel.insert(3, tracker.clone()).unwrap();
        wheel.insert(100_000, tracker.clone()).unwrap();
        wheel.insert(1, tracker.clone()).unwrap();
        drop(wheel.cancel(a));
        drop(wheel.poll_expired(2));
        assert_eq!(Rc::strong_count(&tracker), 3);
    }
    assert_eq!(Rc::strong_count(&tracker), 1);
}

#[test]
fn a_wheel_can_be_a_static() {
    static TIMERS: Wheel<u32, 4> = Wheel::new();
    assert!(TIMERS.is_empty());
    assert_eq!(TIMERS.capacity(), 4);
    assert_eq!(TIMERS.next_deadline(), None);
}

#[test]
fn errors_say_what_went_wrong() {
    use std::string::ToString;
    assert_eq!(TimerError::Full(()).to_string(), "timer wheel is full");
    assert_eq!(
        TimerError::OutOfRange(()).to_string(),
        "timer deadline is 68719476736 or more ticks away, beyond the wheel's range"
    );
    let _: &dyn core::error::Error = &TimerError::Full(1u8);
}

/// A deadline or a time to move to, relative to the wheel's time, weighted towards
/// the places a wheel gets wrong: level spans and their edges, the range's end.
#[derive(Debug, Clone, Copy)]
enum When {
    /// `now + n`, n small: level 0 and its edge.
    Soon(u64),
    /// `now + 64^level + edge - 1`.
    Span(u32, u64),
    /// The next multiple of `64^level` after now, `+ edge - 1`.
    Aligned(u32, u64),
    /// `now + n`, n anywhere up to a little past the range.
    Far(u64),
    /// `now - n` (overdue).
    Past(u64),
}

impl When {
    fn at(self, now: u64) -> u64 {
        match self {
            When::Soon(n) | When::Far(n) => now.saturating_add(n),
            When::Span(level, edge) => now
                .saturating_add(1 << (SLOT_BITS * level))
                .saturating_add(edge)
                .saturating_sub(1),
            When::Aligned(level, edge) => {
                let span = 1u64 << (SLOT_BITS * level);
                ((now / span).saturating_add(1))
                    .saturating_mul(span)
                    .saturating_add(edge)
                    .saturating_sub(1)
            }
            When::Past(n) => now.saturating_sub(n),
        }
    }
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        3 => (0..140u64).prop_map(When::Soon),
        3 => (0..=LEVELS as u32, 0..3u64).prop_map(|(l, e)| When::Span(l, e)),
        2 => (1..=LEVELS as u32, 0..3u64).prop_map(|(l, e)| When::Aligned(l, e)),
        2 => (0..RANGE + 100).prop_map(When::Far),
        1 => (0..200u64).prop_map(When::Past),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Insert(When),
    Cancel(usize),
    CancelStale(usize),
    /// Fire everything due up to this time.
    Advance(When),
    /// Take at most one due timer (the caller stops mid-round).
    PollOne(When),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => when().prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::CancelStale),
        2 => when().prop_map(Op::Advance),
        2 => when().prop_map(Op::PollOne),
    ]
}

/// The reference: a list of pending timers, searched and sorted by brute force.
struct Model {
    now: u64,
    /// (deadline, value, key) of each pending timer; deadlines are clamped to the
    /// `now` of their insertion, as the wheel documents.
    pending: Vec<(u64, u32, TimerKey)>,
}

impl Model {
    fn earliest(&self) -> Option<u64> {
        self.pending.iter().map(|p| p.0).min()
    }

    fn remove_value(&mut self, value: u32) -> (u64, u32, TimerKey) {
        let at = self.pending.iter().position(|p| p.1 == value).unwrap();
        self.pending.swap_remove(at)
    }
}

const CASES: u32 = if cfg!(miri) { 8 } else { 10_000 };

proptest! {
    #![proptest_config(crate::test_support::proptest_config(CASES))]

    /// The wheel fires what a brute-force list would, on the same ticks, in deadline
    /// order (timers due on one tick compared as a set); refuses what the list says
    /// is full or out of range, giving the value back; and stale keys cancel
    /// nothing. `next_deadline` is never late, and exact in runs without cancels.
    #[test]
    fn behaves_like_a_sorted_list(
        start in prop_oneof![Just(0u64), 0..RANGE * 2, Just(u64::MAX - RANGE - 10)],
        cancels in any::<bool>(),
        ops in proptest::collection::vec(op(), 0..64),
    ) {
        const N: usize = 16;
        let mut wheel: Wheel<u32, N> = Wheel::starting_at(start);
        let mut model = Model { now: start, pending: Vec::new() };
        let mut dead: Vec<TimerKey> = Vec::new();
        // The marks the wheel should report: the model's peak and refusals for room.
        let (mut peak, mut full) = (0, 0);
        for (value, op) in ops.into_iter().enumerate() {
            let value = value as u32;
            match op {
                Op::Insert(when) => {
                    let deadline = when.at(model.now).max(model.now);
                    let got = wheel.insert(when.at(model.now), value);
                    if deadline - model.now >= RANGE {
                        prop_assert_eq!(got, Err(TimerError::OutOfRange(value)));
                    } else if model.pending.len() == N {
                        prop_assert_eq!(got, Err(TimerError::Full(value)));
                        full += 1;
                    } else {
                        let key = got.unwrap();
                        prop_assert_eq!(wheel.deadline(key), Some(deadline));
                        model.pending.push((deadline, value, key));
                        peak = peak.max(model.pending.len());
                    }
                }
                Op::Cancel(i) if cancels && !model.pending.is_empty() => {
                    let (_, value, key) = model.pending.swap_remove(i % model.pending.len());
                    prop_assert_eq!(wheel.cancel(key), Some(value));
                    dead.push(key);
                }
                Op::CancelStale(i) if !dead.is_empty() => {
                    let key = dead[i % dead.len()];
                    prop_assert_eq!(wheel.cancel(key), None);
                    prop_assert!(!wheel.contains(key));
                }
                Op::Advance(when) => {
                    let target = when.at(model.now).max(model.now);
                    let mut fired = Vec::new();
                    while let Some((key, value)) = wheel.poll_expired(target) {
                        fired.push((wheel.now(), value));
                        let (deadline, _, want_key) = model.remove_value(value);
                        prop_assert_eq!(key, want_key);
                        prop_assert_eq!(wheel.now(), deadline, "fired off its tick");
                        dead.push(key);
                    }
                    let in_order = fired.windows(2).all(|w| w[0].0 <= w[1].0);
                    prop_assert!(in_order, "out of order: {:?}", fired);
                    let none_due = model.pending.iter().all(|p| p.0 > target);
                    prop_assert!(none_due, "left due timers");
                    model.now = target;
                }
                Op::PollOne(when) => {
                    let target = when.at(model.now).max(model.now);
                    match (wheel.poll_expired(target), model.earliest()) {
                        (Some((key, value)), Some(earliest)) => {
                            let (deadline, _, want_key) = model.remove_value(value);
                            prop_assert_eq!(key, want_key);
                            prop_assert_eq!(deadline, earliest, "not the earliest");
                            prop_assert_eq!(wheel.now(), deadline);
                            model.now = deadline;
                            dead.push(key);
                        }
                        (None, earliest) => {
                            prop_assert!(earliest.is_none_or(|e| e > target));
                            model.now = target;
                        }
                        (Some(fired), None) => {
                            prop_assert!(false, "fired {:?} from nothing", fired)
                        }
                    }
                }
                _ => {}
            }
            prop_assert_eq!(wheel.now(), model.now);
            prop_assert_eq!(wheel.len(), model.pending.len());
            let marks = Mark { now: model.pending.len(), peak, capacity: N, limit_hits: full };
            prop_assert_eq!(wheel.marks(), marks);
            let next = wheel.next_deadline();
            match model.earliest() {
                None => prop_assert_eq!(next, None),
                Some(earliest) if cancels => {
                    let next = next.unwrap();
                    let never_late = model.now <= next && next <= earliest;
                    prop_assert!(never_late, "{} not in {}..={}", next, model.now, earliest);
                }
                Some(earliest) => prop_assert_eq!(next, Some(earliest)),
            }
        }
    }
}
