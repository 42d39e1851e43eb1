//! statio's `Channel` against `std::sync::mpsc::sync_channel`, `crossbeam-channel` bounded and
//! `crossbeam-queue::ArrayQueue`: capacity 1024, `u64` messages; then the channel wired into a
//! running `EventLoop` on the epoll port.
//!
//! `cargo bench -p statio-benches --bench channel [-- --rounds N --messages M]`;
//! `benches/scripts/channel.sh` runs it three times and tabulates the ratios.
//!
//! The output starts with the machine (CPU, topology, caches, kernel, load average): the
//! ratios below depend on how fast a cache line moves between the two cores.
//!
//! 1. Throughput, 1 and 2 producer threads into one consumer, in M msgs/s. Every queue is
//!    driven the same way, without blocking: producers retry a full send after a yield, the
//!    consumer spins on an empty receive. Threads are pinned (consumer alone on the first
//!    CPU, producers on the others), so a run does not depend on where the scheduler put
//!    them. Rounds are interleaved (each round runs every queue once, freshly built); the
//!    table shows the median and the spread over rounds, the ratio of medians to
//!    `ArrayQueue`, the median of each round's own ratio (its `ArrayQueue` run was a second
//!    away), and per million messages the producers' full-ring retries and the consumer's
//!    empty polls: how often a queue ran full (producers yield) or empty (the consumer
//!    spins right behind the producer, on the cache line it is writing); and how long the
//!    run's threads waited for their CPUs (`/proc/thread-self/schedstat`): a round in which
//!    that exceeds 1% of a run is counted as disturbed by another process.
//! 2. An uncontended send + receive pair on one thread, in ns.
//! 3. Wake syscalls under sustained load: one producer thread sends 1,000,000 `u64` as fast
//!    as it can (retrying a full send after a yield) into a loop running `run` on another
//!    CPU. The loop's selector is the epoll port behind a wrapper ([`CountingEpoll`])
//!    whose waker counts the eventfd writes it makes: wakes per million messages, messages
//!    per wake, the loop's turns (selects) and the producer's retries of a full send per
//!    million, with their spread.
//! 4. Latency from `send` on another thread to `Handler::notify`: the message carries its
//!    send time; one message at a time, each sent after the previous one was acknowledged
//!    and a 50 µs pause, so the loop is asleep in `epoll_wait` each time (the wakes per
//!    message column shows it): this is the wake path. For scale, the same with
//!    `sync_channel` and a thread blocked in `recv` (a futex wake), interleaved.

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{TryRecvError, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use statio::ports::epoll::{Epoll, EventFdWaker};
use statio::{
    Events, GenericEventLoop, Handler, Interest, MonotonicClock, OsError, PollOpt, RawFd, Ready,
    Selector, Token, Wake,
};
use statio_benches::{Placement, Spread, machine, pinned, waited_for_cpu};
use statio_core::channel::{Channel, SendError};

const CAPACITY: usize = 1024;
const PAIRS: u64 = 5_000_000;

/// How long the suite runs: `--rounds N` (interleaved rounds per section) and
/// `--messages M` (messages per throughput run).
struct Args {
    rounds: usize,
    messages: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        rounds: 15,
        messages: 10_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{arg} needs a number"))
        };
        match arg.as_str() {
            "--rounds" => args.rounds = value() as usize,
            "--messages" => args.messages = value(),
            "--bench" => {} // added by `cargo bench`
            other => panic!("unknown argument {other}; expected --rounds N or --messages M"),
        }
    }
    args
}

const NAMES: [&str; 4] = [
    "statio Channel",
    "crossbeam ArrayQueue",
    "crossbeam-channel bounded",
    "std sync_channel",
];

/// Evaluates `$body` once per queue, built fresh, with `$send` a non-blocking send (which
/// hands a full queue's message back) and `$recv` a non-blocking receive, both closures
/// called directly (no `dyn`), in the order of `NAMES`.
macro_rules! each_queue {
    (|$send:ident, $recv:ident| $body:expr) => {{
        let statio = {
            let channel: Box<Channel<u64, CAPACITY>> = Box::new(Channel::new());
            let tx = channel.sender();
            let rx = channel.receiver().unwrap();
            let $send = &|msg| match tx.send(msg) {
                Ok(()) => Ok(()),
                Err(SendError::Full(msg)) => Err(msg),
                Err(err) => panic!("{err}"),
            };
            let $recv = &mut || rx.try_recv();
            $body
        };
        let array_queue = {
            let queue = crossbeam_queue::ArrayQueue::new(CAPACITY);
            let $send = &|msg| queue.push(msg);
            let $recv = &mut || queue.pop();
            $body
        };
        let crossbeam = {
            let (tx, rx) = crossbeam_channel::bounded(CAPACITY);
            let $send = &|msg| {
                tx.try_send(msg).map_err(|err| match err {
                    crossbeam_channel::TrySendError::Full(msg) => msg,
                    err => panic!("{err}"),
                })
            };
            let $recv = &mut || rx.try_recv().ok();
            $body
        };
        let std = {
            let (tx, rx) = sync_channel(CAPACITY);
            let $send = &|msg| {
                tx.try_send(msg).map_err(|err| match err {
                    TrySendError::Full(msg) => msg,
                    err => panic!("{err}"),
                })
            };
            let $recv = &mut || match rx.try_recv() {
                Ok(msg) => Some(msg),
                Err(TryRecvError::Empty) => None,
                Err(err) => panic!("{err}"),
            };
            $body
        };
        [statio, array_queue, crossbeam, std]
    }};
}

/// One throughput run: its time, the producers' retries of a full send, the consumer's
/// receives that found the queue empty, and how long its threads waited, runnable, for
/// their CPU (another process's turn: the run was disturbed).
#[derive(Copy, Clone, Debug)]
struct Run {
    elapsed: Duration,
    full_retries: u64,
    empty_polls: u64,
    waited: Duration,
}

/// `producers` threads push `messages` in total through a queue into a consumer thread,
/// each thread pinned where `placement` says.
fn throughput(
    placement: &Placement,
    producers: u64,
    messages: u64,
    send: &(impl Fn(u64) -> Result<(), u64> + Sync),
    recv: &mut impl FnMut() -> Option<u64>,
) -> Run {
    let per_producer = messages / producers;
    let start = Barrier::new(producers as usize + 1);
    let full_retries = AtomicU64::new(0);
    let waited_nanos = AtomicU64::new(0);
    let (elapsed, empty_polls) = std::thread::scope(|scope| {
        for p in 0..producers as usize {
            let (start, full_retries, waited_nanos) = (&start, &full_retries, &waited_nanos);
            scope.spawn(move || {
                statio_benches::pin(&[placement.producer(p)]).expect("pin a producer");
                start.wait();
                let waited_before = waited_for_cpu();
                let mut retries = 0;
                for i in 0..per_producer {
                    let mut msg = i;
                    while let Err(back) = send(msg) {
                        msg = back;
                        retries += 1;
                        std::thread::yield_now();
                    }
                }
                // Relaxed: statistics, read after the scope joined this thread.
                full_retries.fetch_add(retries, Ordering::Relaxed);
                let waited = waited_for_cpu() - waited_before;
                waited_nanos.fetch_add(waited.as_nanos() as u64, Ordering::Relaxed);
            });
        }
        // On this thread: the receiving handles are not `Sync`.
        pinned(placement.consumer(), || {
            start.wait();
            let waited_before = waited_for_cpu();
            let began = Instant::now();
            let mut left = per_producer * producers;
            let mut empty_polls = 0;
            while left > 0 {
                match recv() {
                    Some(msg) => {
                        black_box(msg);
                        left -= 1;
                    }
                    None => {
                        empty_polls += 1;
                        std::hint::spin_loop();
                    }
                }
            }
            let elapsed = began.elapsed();
            let waited = waited_for_cpu() - waited_before;
            // Relaxed: a statistic.
            waited_nanos.fetch_add(waited.as_nanos() as u64, Ordering::Relaxed);
            (elapsed, empty_polls)
        })
    });
    Run {
        elapsed,
        // The scope joined the producers.
        full_retries: full_retries.into_inner(),
        empty_polls,
        waited: Duration::from_nanos(waited_nanos.into_inner()),
    }
}

/// Nanoseconds per send + receive pair on one thread, nothing else touching the queue.
fn pair(send: &impl Fn(u64) -> Result<(), u64>, recv: &mut impl FnMut() -> Option<u64>) -> f64 {
    let began = Instant::now();
    for i in 0..PAIRS {
        send(black_box(i)).unwrap();
        black_box(recv());
    }
    began.elapsed().as_nanos() as f64 / PAIRS as f64
}

/// A run is disturbed when its threads waited for their CPUs longer than this share of it.
const DISTURBED: f64 = 0.01;

fn print_throughput(producers: u64, messages: u64, runs: &[Vec<Run>]) {
    let rate = |run: &Run| messages as f64 / run.elapsed.as_secs_f64() / 1e6;
    let spread =
        |runs: &[Run], f: &dyn Fn(&Run) -> f64| Spread::of(&runs.iter().map(f).collect::<Vec<_>>());
    let per_million = |count: u64| count as f64 * 1e6 / messages as f64;
    let waited = |run: &Run| run.waited.as_secs_f64() / run.elapsed.as_secs_f64();
    let reference: Vec<f64> = runs[1].iter().map(rate).collect(); // ArrayQueue
    let reference_median = Spread::of(&reference).median;
    println!("\nthroughput, {producers} producer(s) -> 1 consumer");
    println!(
        "| queue | median M msgs/s | min..max | vs ArrayQueue (medians) | vs ArrayQueue \
         (per round: median, min..max) | full retries / M msgs (median, min..max) | empty \
         polls / M msgs (median, min..max) | waited for a CPU, % of the run, its threads summed \
         (median, max) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut per_round = Vec::new();
    for (name, queue_runs) in NAMES.iter().zip(runs) {
        let speed = spread(queue_runs, &rate);
        let ratios: Vec<f64> = queue_runs
            .iter()
            .zip(&reference)
            .map(|(r, a)| rate(r) / a)
            .collect();
        let ratio = Spread::of(&ratios);
        let full = spread(queue_runs, &|r| per_million(r.full_retries));
        let empty = spread(queue_runs, &|r| per_million(r.empty_polls));
        let wait = spread(queue_runs, &|r| waited(r) * 100.0);
        println!(
            "| {name} | {:.1} | {:.1}..{:.1} | {:.2}x | {:.2}x, {:.2}..{:.2} | {:.0}, {:.0}..{:.0} | {:.0}, {:.0}..{:.0} | {:.2}, {:.2} |",
            speed.median,
            speed.min,
            speed.max,
            speed.median / reference_median,
            ratio.median,
            ratio.min,
            ratio.max,
            full.median,
            full.min,
            full.max,
            empty.median,
            empty.min,
            empty.max,
            wait.median,
            wait.max,
        );
        per_round.push(ratio.median);
    }
    let rounds = runs[0].len();
    let disturbed = (0..rounds)
        .filter(|&i| {
            runs.iter()
                .any(|queue_runs| waited(&queue_runs[i]) > DISTURBED)
        })
        .count();
    println!(
        "{disturbed} of {rounds} rounds disturbed (a thread waited for its CPU more than {}% \
         of a run: another process ran there)",
        DISTURBED * 100.0
    );
    let statio = spread(&runs[0], &rate);
    // One line for benches/scripts/channel.sh to collect.
    println!(
        "summary: producers={producers} statio_vs_arrayqueue={:.3} per_round={:.3} \
         statio_range_percent={:.1} arrayqueue_range_percent={:.1} disturbed={disturbed}/{rounds}",
        statio.median / reference_median,
        per_round[0],
        statio.range_percent(),
        Spread::of(&reference).range_percent(),
    );
}

fn main() {
    if std::env::args().any(|arg| arg == "--test") {
        return; // `cargo test --benches`: nothing to check
    }
    let args = parse_args();
    println!("{}", machine());
    let placement = Placement::new();
    println!(
        "capacity {CAPACITY}, u64 messages, {} per throughput run, {} interleaved rounds; {}",
        args.messages,
        args.rounds,
        placement.describe()
    );
    for producers in [1, 2] {
        let mut runs: Vec<Vec<Run>> = vec![Vec::new(); NAMES.len()];
        for _ in 0..args.rounds {
            let results = each_queue!(|send, recv| throughput(
                &placement,
                producers,
                args.messages,
                send,
                recv
            ));
            for (queue_runs, run) in runs.iter_mut().zip(results) {
                queue_runs.push(run);
            }
        }
        print_throughput(producers, args.messages, &runs);
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); NAMES.len()];
    pinned(placement.consumer(), || {
        for _ in 0..args.rounds {
            for (queue, ns) in samples
                .iter_mut()
                .zip(each_queue!(|send, recv| pair(send, recv)))
            {
                queue.push(ns);
            }
        }
    });
    let reference = Spread::of(&samples[1]).median;
    println!("\nuncontended send + receive on one thread (pinned)");
    println!("| queue | median ns | min..max | vs ArrayQueue |");
    println!("|---|---:|---:|---:|");
    for (name, queue) in NAMES.iter().zip(&samples) {
        let ns = Spread::of(queue);
        println!(
            "| {name} | {:.2} | {:.2}..{:.2} | {:.2}x |",
            ns.median,
            ns.min,
            ns.max,
            reference / ns.median
        );
    }
    wakes_under_load(&placement, args.rounds);
    wake_latency();
}

/// Every eventfd write made by the wakers of [`CountingEpoll`]s: one per `Wake::wake`.
static WAKES: AtomicUsize = AtomicUsize::new(0);

/// The epoll port's waker, counting its calls (each one `write(2)` on the eventfd) in
/// [`WAKES`].
struct CountingWaker(EventFdWaker);

impl Wake for CountingWaker {
    fn wake(&self) -> Result<(), OsError> {
        // Relaxed: a statistic, read after the sending thread is joined.
        WAKES.fetch_add(1, Ordering::Relaxed);
        self.0.wake()
    }
}

/// The epoll port, delegated to unchanged, with a [`CountingWaker`] and a count of
/// `select` calls (the loop's turns).
struct CountingEpoll {
    epoll: Epoll,
    selects: u64,
}

impl Selector for CountingEpoll {
    type Handle = RawFd;
    type Event = <Epoll as Selector>::Event;
    type Clock = MonotonicClock;
    type Waker = CountingWaker;
    const NATIVE_EDGES: bool = true;

    fn new() -> Result<Self, OsError> {
        Ok(CountingEpoll {
            epoll: Epoll::new()?,
            selects: 0,
        })
    }

    fn register(&mut self, fd: RawFd, t: Token, i: Interest, o: PollOpt) -> Result<(), OsError> {
        self.epoll.register(fd, t, i, o)
    }

    fn reregister(&mut self, fd: RawFd, t: Token, i: Interest, o: PollOpt) -> Result<(), OsError> {
        self.epoll.reregister(fd, t, i, o)
    }

    fn deregister(&mut self, fd: RawFd) -> Result<(), OsError> {
        self.epoll.deregister(fd)
    }

    fn select<const N: usize>(
        &mut self,
        events: &mut Events<Self::Event, N>,
        max_wait: Option<Duration>,
    ) -> Result<(), OsError> {
        self.selects += 1;
        self.epoll.select(events, max_wait)
    }

    fn waker(&mut self) -> Result<CountingWaker, OsError> {
        self.epoll.waker().map(CountingWaker)
    }

    fn clock(&self) -> &MonotonicClock {
        self.epoll.clock()
    }

    fn token(event: &Self::Event) -> Token {
        Epoll::token(event)
    }

    fn ready(event: &Self::Event) -> Ready {
        Epoll::ready(event)
    }
}

/// A channel into a [`CountingEpoll`] loop, leaked: a loop needs a `'static` channel, and
/// each round gets a fresh one (no round starts where the last one left the ring).
fn leaked_channel<M: Send + 'static>() -> &'static Channel<M, CAPACITY, CountingWaker> {
    Box::leak(Box::new(Channel::new()))
}

const SUSTAINED: u64 = 1_000_000;

/// Counts messages and stops the loop after `expected`.
struct Sink {
    received: u64,
    expected: u64,
}

type SinkLoop = GenericEventLoop<Sink, CountingEpoll, 1, 0, 4>;

impl Handler for Sink {
    type Timeout = ();
    type Message = u64;
    type Loop = SinkLoop;

    fn notify(&mut self, event_loop: &mut SinkLoop, message: u64) {
        black_box(message);
        self.received += 1;
        if self.received == self.expected {
            event_loop.shutdown();
        }
    }
}

/// One run of section 3: (elapsed, eventfd writes, selects, the producer's retries of a
/// full send).
fn sustained(placement: &Placement) -> (Duration, usize, u64, u64) {
    let mut event_loop = SinkLoop::new().expect("loop");
    let tx = event_loop.attach_channel(leaked_channel()).expect("attach");
    let start = Barrier::new(2);
    let mut sink = Sink {
        received: 0,
        expected: SUSTAINED,
    };
    // Relaxed: no sender of this round runs yet.
    let wakes_before = WAKES.load(Ordering::Relaxed);
    let (elapsed, full_retries) = std::thread::scope(|scope| {
        let producer = scope.spawn(|| {
            statio_benches::pin(&[placement.producer(0)]).expect("pin the producer");
            start.wait();
            let mut retries = 0;
            for i in 0..SUSTAINED {
                let mut msg = i;
                loop {
                    match tx.send(msg) {
                        Ok(()) => break,
                        Err(SendError::Full(back)) => {
                            msg = back;
                            retries += 1;
                            std::thread::yield_now();
                        }
                        Err(err) => panic!("{err}"),
                    }
                }
            }
            retries
        });
        let elapsed = pinned(placement.consumer(), || {
            start.wait();
            let began = Instant::now();
            event_loop.run(&mut sink).expect("run");
            began.elapsed()
        });
        (elapsed, producer.join().expect("the producer"))
    });
    // Relaxed: the producer was joined by the scope.
    let wakes = WAKES.load(Ordering::Relaxed) - wakes_before;
    (elapsed, wakes, event_loop.selector().selects, full_retries)
}

fn wakes_under_load(placement: &Placement, rounds: usize) {
    let (mut rates, mut wakes, mut per_wake, mut turns) = (vec![], vec![], vec![], vec![]);
    let mut full = vec![];
    for _ in 0..rounds {
        let (elapsed, w, selects, retries) = sustained(placement);
        full.push(retries as f64 / (SUSTAINED as f64 / 1e6));
        let millions = SUSTAINED as f64 / 1e6;
        rates.push(millions / elapsed.as_secs_f64());
        wakes.push(w as f64 / millions);
        per_wake.push(SUSTAINED as f64 / w.max(1) as f64);
        turns.push(selects as f64 / millions);
    }
    println!(
        "\nthrough a running EventLoop (epoll), 1 producer, {SUSTAINED} u64 per run, \
         {rounds} rounds, the loop's default per-turn message budget (256)"
    );
    println!("| measure | median | min..max |");
    println!("|---|---:|---:|");
    for (name, samples) in [
        ("throughput, M msgs/s", &rates),
        (
            "wake syscalls (eventfd writes) per million messages",
            &wakes,
        ),
        ("messages per wake syscall", &per_wake),
        ("turns (epoll_wait calls) per million messages", &turns),
        (
            "the producer's retries of a full send per million messages",
            &full,
        ),
    ] {
        let spread = Spread::of(samples);
        println!(
            "| {name} | {:.1} | {:.1}..{:.1} |",
            spread.median, spread.min, spread.max
        );
    }
    let wakes = Spread::of(&wakes);
    println!(
        "summary: wakes_per_million median={:.0} min={:.0} max={:.0}",
        wakes.median, wakes.min, wakes.max
    );
}

const LATENCY_MESSAGES: usize = 10_000;
const LATENCY_ROUNDS: usize = 3;
/// The sender's pause before each message: long enough for the loop to fall asleep.
const PAUSE: Duration = Duration::from_micros(50);

/// Records send-to-notify latencies and acknowledges each message.
struct Stopwatch {
    nanos: Vec<u64>,
    acked: &'static AtomicUsize,
}

type StopwatchLoop = GenericEventLoop<Stopwatch, CountingEpoll, 1, 0, 4>;

impl Handler for Stopwatch {
    type Timeout = ();
    type Message = Instant;
    type Loop = StopwatchLoop;

    fn notify(&mut self, event_loop: &mut StopwatchLoop, sent: Instant) {
        self.nanos.push(sent.elapsed().as_nanos() as u64);
        // Release: pairs with the sender's Acquire; the ack follows the measurement.
        self.acked.fetch_add(1, Ordering::Release);
        if self.nanos.len() == LATENCY_MESSAGES {
            event_loop.shutdown();
        }
    }
}

/// Sends `LATENCY_MESSAGES` stamped messages one at a time through `send`, each after
/// the previous one's ack and a [`PAUSE`].
fn send_one_at_a_time(acked: &AtomicUsize, send: impl Fn(Instant)) {
    for i in 0..LATENCY_MESSAGES {
        std::thread::sleep(PAUSE);
        send(Instant::now());
        // Acquire: pairs with the receiver's Release.
        while acked.load(Ordering::Acquire) != i + 1 {
            std::hint::spin_loop();
        }
    }
}

/// Section 4 for statio: the latencies in ns, and the eventfd writes.
fn statio_latency() -> (Vec<u64>, usize) {
    static ACKED: AtomicUsize = AtomicUsize::new(0);
    ACKED.store(0, Ordering::Relaxed);
    let mut event_loop = StopwatchLoop::new().expect("loop");
    let tx = event_loop.attach_channel(leaked_channel()).expect("attach");
    let mut stopwatch = Stopwatch {
        nanos: Vec::with_capacity(LATENCY_MESSAGES),
        acked: &ACKED,
    };
    // Relaxed: no sender of this round runs yet.
    let wakes_before = WAKES.load(Ordering::Relaxed);
    std::thread::scope(|scope| {
        scope.spawn(|| send_one_at_a_time(&ACKED, |at| tx.send(at).expect("send")));
        event_loop.run(&mut stopwatch).expect("run");
    });
    // Relaxed: the sender was joined by the scope.
    let wakes = WAKES.load(Ordering::Relaxed) - wakes_before;
    (stopwatch.nanos, wakes)
}

/// Section 4 for `sync_channel` with a receiver blocked in `recv`: the latencies in ns.
fn std_latency() -> Vec<u64> {
    let acked = AtomicUsize::new(0);
    let (tx, rx) = sync_channel::<Instant>(CAPACITY);
    let mut nanos = Vec::with_capacity(LATENCY_MESSAGES);
    std::thread::scope(|scope| {
        scope.spawn(|| send_one_at_a_time(&acked, |at| tx.send(at).expect("send")));
        for _ in 0..LATENCY_MESSAGES {
            let sent = rx.recv().expect("recv");
            nanos.push(sent.elapsed().as_nanos() as u64);
            // Release: pairs with the sender's Acquire.
            acked.fetch_add(1, Ordering::Release);
        }
    });
    nanos
}

/// The `q`-quantile of sorted `samples`, in µs.
fn quantile_us(samples: &[u64], q: f64) -> f64 {
    let index = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[index] as f64 / 1e3
}

fn wake_latency() {
    let (mut statio, mut std, mut wakes) = (vec![], vec![], 0);
    // Interleaved: each round measures both.
    for _ in 0..LATENCY_ROUNDS {
        let (nanos, w) = statio_latency();
        statio.extend(nanos);
        wakes += w;
        std.extend(std_latency());
    }
    statio.sort_unstable();
    std.sort_unstable();
    let median_ratio = quantile_us(&statio, 0.5) / quantile_us(&std, 0.5);
    println!(
        "\nlatency from send on another thread to receipt, one message at a time after a \
         {PAUSE:?} pause, {LATENCY_MESSAGES} messages x {LATENCY_ROUNDS} interleaved rounds"
    );
    println!("| receiver | median µs | p90 µs | p99 µs | max µs | wakes per message |");
    println!("|---|---:|---:|---:|---:|---:|");
    let messages = (LATENCY_MESSAGES * LATENCY_ROUNDS) as f64;
    for (name, samples, per_message) in [
        (
            "statio Handler::notify (loop asleep in epoll_wait)",
            &statio,
            format!("{:.3}", wakes as f64 / messages),
        ),
        ("std sync_channel recv (blocked)", &std, "-".to_owned()),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {per_message} |",
            quantile_us(samples, 0.5),
            quantile_us(samples, 0.9),
            quantile_us(samples, 0.99),
            quantile_us(samples, 1.0),
        );
    }
    println!("median statio / std: {median_ratio:.2}x");
}
