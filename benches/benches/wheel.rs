//! statio's timer wheel against `std::collections::BinaryHeap` with lazy cancellation,
//! the cheap heap that libev/libuv-style timers approximate.
//!
//! `cargo bench -p statio-benches --bench wheel`
//!
//! One tick is 1 ms; deadlines are uniform in 1..=60,000 ticks after the structure's
//! time. Each repetition, at `n` live timers:
//! 1. fills the structure to `n` (untimed);
//! 2. asks for the next deadline `QUERIES` times;
//! 3. inserts `n / 4` more timers;
//! 4. cancels those `n / 4`, in random order (the heap only marks them: a lazily
//!    cancelled entry keeps its memory until it reaches the top, which a fixed capacity
//!    cannot afford; the wheel frees the node at once);
//! 5. expires everything, tickless: jump to the next deadline, fire what is due, repeat
//!    (for the heap this includes discarding the entries cancelled in step 4).
//!
//! Both structures live across rounds, so their free lists are scrambled as in a
//! long-running loop. In each round both get the same deadlines and the same cancel
//! order (each starts from the same random seed). Rounds alternate which structure goes
//! first; the table shows the median of the rounds' ns per operation and the ratio
//! wheel / heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use statio_core::{TimerKey, Wheel};

/// Deadlines are uniform in `1..=SPAN` ticks from now: 1 ms .. 60 s.
const SPAN: u64 = 60_000;
/// `next_deadline` calls per repetition.
const QUERIES: usize = 1_000;
/// Interleaved rounds per size (the first is a discarded warm-up).
const ROUNDS: usize = 21;

/// The operations measured, implemented by both contenders.
trait Timers {
    type Handle: Copy;
    const NAME: &'static str;
    fn now(&self) -> u64;
    fn insert(&mut self, deadline: u64, value: u64) -> Self::Handle;
    fn cancel(&mut self, handle: Self::Handle) -> bool;
    /// `&mut`: the lazy heap discards cancelled entries it finds on top.
    fn next_deadline(&mut self) -> Option<u64>;
    /// Fires everything due at `now`; returns the sum of the fired values.
    fn expire(&mut self, now: u64) -> (usize, u64);
}

impl<const N: usize> Timers for Box<Wheel<u64, N>> {
    type Handle = TimerKey;
    const NAME: &'static str = "wheel";

    fn now(&self) -> u64 {
        Wheel::now(self)
    }

    #[inline]
    fn insert(&mut self, deadline: u64, value: u64) -> TimerKey {
        match Wheel::insert(self, deadline, value) {
            Ok(key) => key,
            Err(err) => panic!("benchmark sized the wheel too small: {err}"),
        }
    }

    #[inline]
    fn cancel(&mut self, key: TimerKey) -> bool {
        Wheel::cancel(self, key).is_some()
    }

    #[inline]
    fn next_deadline(&mut self) -> Option<u64> {
        Wheel::next_deadline(self)
    }

    #[inline]
    fn expire(&mut self, now: u64) -> (usize, u64) {
        let (mut fired, mut sum) = (0, 0u64);
        while let Some((_, value)) = self.poll_expired(now) {
            fired += 1;
            sum = sum.wrapping_add(value);
        }
        (fired, sum)
    }
}

/// A binary min-heap of `(deadline, slot, generation)`; cancel bumps the slot's
/// generation and frees the slot, leaving the heap entry to be discarded when it
/// reaches the top.
struct LazyHeap {
    heap: BinaryHeap<Reverse<(u64, u32, u32)>>,
    generations: Vec<u32>,
    values: Vec<u64>,
    free: Vec<u32>,
    now: u64,
}

impl LazyHeap {
    fn with_capacity(capacity: usize) -> Self {
        LazyHeap {
            heap: BinaryHeap::with_capacity(capacity),
            generations: Vec::with_capacity(capacity),
            values: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
            now: 0,
        }
    }
}

impl Timers for LazyHeap {
    type Handle = (u32, u32);
    const NAME: &'static str = "heap";

    fn now(&self) -> u64 {
        self.now
    }

    #[inline]
    fn insert(&mut self, deadline: u64, value: u64) -> (u32, u32) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.values[slot as usize] = value;
                slot
            }
            None => {
                self.generations.push(0);
                self.values.push(value);
                self.values.len() as u32 - 1
            }
        };
        let generation = self.generations[slot as usize];
        self.heap.push(Reverse((deadline, slot, generation)));
        (slot, generation)
    }

    #[inline]
    fn cancel(&mut self, (slot, generation): (u32, u32)) -> bool {
        let current = &mut self.generations[slot as usize];
        if *current != generation {
            return false;
        }
        *current = current.wrapping_add(1);
        self.free.push(slot);
        true
    }

    #[inline]
    fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse((deadline, slot, generation))) = self.heap.peek() {
            if self.generations[slot as usize] == generation {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    #[inline]
    fn expire(&mut self, now: u64) -> (usize, u64) {
        self.now = self.now.max(now);
        let (mut fired, mut sum) = (0, 0u64);
        while let Some(&Reverse((deadline, slot, generation))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            let current = &mut self.generations[slot as usize];
            if *current == generation {
                *current = current.wrapping_add(1);
                self.free.push(slot);
                fired += 1;
                sum = sum.wrapping_add(self.values[slot as usize]);
            }
        }
        (fired, sum)
    }
}

/// xorshift64*: fast, deterministic, good enough to scatter deadlines.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `1..=SPAN` (the modulo bias is below 1e-14).
    fn delay(&mut self) -> u64 {
        1 + self.next() % SPAN
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

/// Time spent in one phase and the operations it did, summed over repetitions.
type Phase = (Duration, usize);

/// Each phase of a round.
#[derive(Default, Clone, Copy)]
struct Sample {
    query: Phase,
    insert: Phase,
    cancel: Phase,
    expire: Phase,
}

impl Sample {
    /// The phases in the table's order, with their row names.
    fn phases(&self) -> [(&'static str, Phase); 4] {
        [
            ("insert", self.insert),
            ("cancel", self.cancel),
            ("expire (per timer)", self.expire),
            ("next_deadline", self.query),
        ]
    }

    fn ns(phase: Phase) -> f64 {
        phase.0.as_nanos() as f64 / phase.1 as f64
    }
}

/// One round: `reps` repetitions of fill / query / insert / cancel / expire at `n` live.
fn round<T: Timers>(timers: &mut T, n: usize, reps: usize, rng: &mut Rng) -> Sample {
    let extra = n / 4;
    let mut sample = Sample::default();
    let mut offsets: Vec<u64> = vec![0; n + extra];
    let mut handles: Vec<T::Handle> = Vec::with_capacity(extra);
    let mut sink = 0u64;
    for _ in 0..reps {
        offsets.iter_mut().for_each(|o| *o = rng.delay());
        let base = timers.now();
        for (i, &offset) in offsets[..n].iter().enumerate() {
            timers.insert(base + offset, i as u64);
        }

        let start = Instant::now();
        for _ in 0..QUERIES {
            sink = sink.wrapping_add(black_box(&mut *timers).next_deadline().unwrap_or(0));
        }
        sample.query.0 += start.elapsed();
        sample.query.1 += QUERIES;

        handles.clear();
        let start = Instant::now();
        for (i, &offset) in offsets[n..].iter().enumerate() {
            handles.push(timers.insert(base + offset, i as u64));
        }
        sample.insert.0 += start.elapsed();
        sample.insert.1 += extra;

        rng.shuffle(&mut handles);
        let start = Instant::now();
        for &handle in &handles {
            sink += u64::from(timers.cancel(handle));
        }
        sample.cancel.0 += start.elapsed();
        sample.cancel.1 += extra;

        let start = Instant::now();
        let mut fired = 0;
        while let Some(next) = timers.next_deadline() {
            let (count, sum) = timers.expire(next);
            fired += count;
            sink = sink.wrapping_add(sum);
        }
        sample.expire.0 += start.elapsed();
        sample.expire.1 += fired;
        assert_eq!(fired, n, "{} lost timers", T::NAME);
    }
    black_box(sink);
    sample
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs both contenders at `n` live timers, interleaved, and prints their rows.
fn compare<const CAP: usize>(n: usize, reps: usize) {
    assert!(n + n / 4 <= CAP);
    let mut wheel: Box<Wheel<u64, CAP>> = Box::new(Wheel::new());
    let mut heap = LazyHeap::with_capacity(CAP);
    let (mut wheel_samples, mut heap_samples) = (Vec::new(), Vec::new());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n as u64);
    for r in 0..ROUNDS {
        // Xorshift's one fixed point is zero: keep seeds odd.
        let seed = rng.next() | 1;
        let (w, h) = if r % 2 == 0 {
            let w = round(&mut wheel, n, reps, &mut Rng(seed));
            (w, round(&mut heap, n, reps, &mut Rng(seed)))
        } else {
            let h = round(&mut heap, n, reps, &mut Rng(seed));
            (round(&mut wheel, n, reps, &mut Rng(seed)), h)
        };
        if r > 0 {
            wheel_samples.push(w);
            heap_samples.push(h);
        }
    }
    for row in 0..4 {
        let name = wheel_samples[0].phases()[row].0;
        let w = median(
            wheel_samples
                .iter()
                .map(|s| Sample::ns(s.phases()[row].1))
                .collect(),
        );
        let h = median(
            heap_samples
                .iter()
                .map(|s| Sample::ns(s.phases()[row].1))
                .collect(),
        );
        println!("{n:>8} {name:<20} {w:>10.1} {h:>10.1} {:>11.2}", w / h);
    }
}

fn main() {
    // A Wheel<u64, 125_000> is 5.5 MB: build it where a stack that size fits.
    let bench = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            println!("{}", statio_benches::machine());
            println!(
                "wheel (statio_core::Wheel, 6x64 slots) vs BinaryHeap with lazy cancellation\n\
                 1 tick = 1 ms, deadlines uniform in 1 ms..60 s, median of {} interleaved rounds",
                ROUNDS - 1
            );
            println!(
                "{:>8} {:<20} {:>10} {:>10} {:>11}",
                "timers", "operation", "wheel ns", "heap ns", "wheel/heap"
            );
            compare::<1_250>(1_000, 100);
            compare::<125_000>(100_000, 1);
            println!(
                "memory: Wheel<u64, 125_000> = {} bytes, fixed; \
                 heap entry = {} bytes (+ 16 per slot in its side tables)",
                std::mem::size_of::<Wheel<u64, 125_000>>(),
                std::mem::size_of::<Reverse<(u64, u32, u32)>>()
            );
        })
        .expect("spawn the benchmark thread");
    bench.join().expect("benchmark panicked");
}
