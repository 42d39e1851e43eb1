//! The cross-thread channel through a running loop on the real epoll port: messages from
//! other threads reach `Handler::notify` exactly once and in each producer's order; a
//! send to a sleeping loop always wakes it (through the eventfd); a flood of messages
//! cannot starve I/O; every limit hands the message back; messages left behind when the
//! loop goes are dropped exactly once; the loop's drop closes the waker's descriptors
//! (epoll and poll(2)) and the channel goes to the next loop.
//!
//! Each test has its own `static` channel (one loop receives it at a time). A test
//! whose loop sleeps without a timeout arms a [`Watchdog`]: a lost wake-up aborts the
//! process (a failure) instead of hanging it. The watchdog looks for progress, not for
//! the end: a loaded machine may take minutes over a test that needs seconds alone.
// The epoll port and its eventfd waker by name: Linux and Android only.
#![cfg(any(target_os = "linux", target_os = "android"))]

mod util;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use statio::net::pipe;
use statio::ports::epoll::{Epoll, EventFdWaker};
use statio::ports::poll::{PipeWaker, Poll};
use statio::{
    Channel, Config, Error, EventLoop, Events, GenericEventLoop, Handler, Interest, MonotonicClock,
    OsError, PollOpt, RawFd, Ready, Selector, SendError, Sender, Token, Wake,
};
use util::{TURN, WAIT};

/// How long a test that sleeps without a timeout may go without progress before the
/// watchdog aborts it.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Aborts the process (`std::process::abort`) when the test's progress counter stays
/// unchanged for the limit, unless dropped first: a lost wake-up leaves a loop asleep
/// for ever, and a test must fail, not hang. Progress, not total time: under a CPU hog
/// per core these tests run for minutes, each message still arriving (issue 14).
struct Watchdog {
    disarm: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Arms the watchdog; `progress` reads a counter the test advances as it works.
    fn arm(
        what: &'static str,
        limit: Duration,
        progress: impl Fn() -> usize + Send + 'static,
    ) -> Watchdog {
        let (disarm, armed) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let mut seen = progress();
            while let Err(RecvTimeoutError::Timeout) = armed.recv_timeout(limit) {
                let now = progress();
                if now != seen {
                    seen = now;
                    continue;
                }
                // Straight to stderr: the harness's capture of `eprintln!` is never
                // printed when the process aborts.
                let _ = writeln!(
                    std::io::stderr(),
                    "{what}: no progress in {limit:?} (stuck at {now}: a lost wake-up?): aborting"
                );
                std::process::abort();
            }
        });
        Watchdog {
            disarm: Some(disarm),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Closing the channel ends the watchdog's wait (also when a test panics).
        drop(self.disarm.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends `msg`, retrying after a yield while the channel is full; `false` when the loop
/// is gone (its receiver was dropped, e.g. by a failing test), so a producer stops.
fn send_retrying<M>(tx: Sender<'static, M>, mut msg: M) -> bool {
    loop {
        match tx.send(msg) {
            Ok(()) => return true,
            Err(SendError::Full(back)) => {
                msg = back;
                thread::yield_now();
            }
            Err(SendError::Disconnected(_)) => return false,
            Err(SendError::Wake(err)) => panic!("waking the loop failed: {err}"),
        }
    }
}

/// Yields until `cond` (another thread makes it true) holds, for at most [`WAIT`];
/// panics naming `what` if it never held. For waits of microseconds, where
/// [`util::wait_for`]'s sleeps would dominate.
fn wait_spinning(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {WAIT:?}"
        );
        thread::yield_now();
    }
}

/// A message: which producer sent it, and its sequence number there.
type Numbered = (usize, u32);

/// Checks that each producer's messages arrive once, in order; stops when all are in.
struct Ordered {
    next: Vec<u32>,
    received: usize,
    expected: usize,
    /// `received`, for the watchdog's thread.
    progress: Arc<AtomicUsize>,
}

type OrderedLoop = EventLoop<Ordered, 1, 0, 4>;

impl Handler for Ordered {
    type Timeout = ();
    type Message = Numbered;
    type Loop = OrderedLoop;

    fn notify(&mut self, event_loop: &mut OrderedLoop, (producer, seq): Numbered) {
        assert_eq!(
            seq, self.next[producer],
            "producer {producer}: message {seq} arrived when {} was due",
            self.next[producer]
        );
        self.next[producer] += 1;
        self.received += 1;
        // Relaxed: a counter the watchdog compares with itself.
        self.progress.store(self.received, Ordering::Relaxed);
        if self.received == self.expected {
            event_loop.shutdown();
        }
    }
}

/// `producers` threads send `per_producer` numbered messages each into a loop running
/// `run` (which sleeps without a timeout whenever the channel is empty).
fn every_message_once_in_producer_order(
    channel: &'static Channel<Numbered, 1024>,
    producers: usize,
    per_producer: u32,
) {
    let progress = Arc::new(AtomicUsize::new(0));
    let received = Arc::clone(&progress);
    // Relaxed: a counter the watchdog only compares with itself.
    let _watchdog = Watchdog::arm(
        "every_message_once_in_producer_order",
        WATCHDOG,
        move || received.load(Ordering::Relaxed),
    );
    thread::scope(|scope| {
        // The loop lives inside the scope: if it panics, its drop disconnects the
        // producers before the scope waits for them.
        let mut event_loop = OrderedLoop::new().unwrap();
        let tx = event_loop.attach_channel(channel).unwrap();
        for producer in 0..producers {
            scope.spawn(move || {
                for seq in 0..per_producer {
                    if !send_retrying(tx, (producer, seq)) {
                        return;
                    }
                }
            });
        }
        let mut ordered = Ordered {
            next: vec![0; producers],
            received: 0,
            expected: producers * per_producer as usize,
            progress,
        };
        event_loop.run(&mut ordered).unwrap();
        assert_eq!(ordered.next, vec![per_producer; producers]);
        // Nothing more arrives: a duplicate would show up here.
        event_loop
            .run_once(&mut ordered, Some(Duration::ZERO))
            .unwrap();
        assert_eq!(ordered.received, ordered.expected);
    });
}

#[test]
fn two_producers_every_message_once_in_order() {
    static CHANNEL: Channel<Numbered, 1024> = Channel::new();
    every_message_once_in_producer_order(&CHANNEL, 2, 100_000);
}

#[test]
fn four_producers_every_message_once_in_order() {
    static CHANNEL: Channel<Numbered, 1024> = Channel::new();
    every_message_once_in_producer_order(&CHANNEL, 4, 100_000);
}

/// Counts the eventfd writes of the wrapped [`EventFdWaker`]: how often a send found
/// the loop asleep.
struct CountingWaker {
    inner: EventFdWaker,
    wakes: &'static AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(&self) -> Result<(), OsError> {
        // Relaxed: a statistic, read after the threads are joined.
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.inner.wake()
    }
}

/// The epoll port, unchanged, with a [`CountingWaker`] counting into [`RACE_WAKES`].
struct CountingEpoll(Epoll);

/// The wake-ups of `no_lost_wake_up_with_the_real_eventfd` (only that test counts).
static RACE_WAKES: AtomicUsize = AtomicUsize::new(0);

impl Selector for CountingEpoll {
    type Handle = RawFd;
    type Event = <Epoll as Selector>::Event;
    type Clock = MonotonicClock;
    type Waker = CountingWaker;
    const NATIVE_EDGES: bool = true;

    fn new() -> Result<Self, OsError> {
        Epoll::new().map(CountingEpoll)
    }

    fn register(&mut self, fd: RawFd, t: Token, i: Interest, o: PollOpt) -> Result<(), OsError> {
        self.0.register(fd, t, i, o)
    }

    fn reregister(&mut self, fd: RawFd, t: Token, i: Interest, o: PollOpt) -> Result<(), OsError> {
        self.0.reregister(fd, t, i, o)
    }

    fn deregister(&mut self, fd: RawFd) -> Result<(), OsError> {
        self.0.deregister(fd)
    }

    fn select<const N: usize>(
        &mut self,
        events: &mut Events<Self::Event, N>,
        max_wait: Option<Duration>,
    ) -> Result<(), OsError> {
        self.0.select(events, max_wait)
    }

    fn waker(&mut self) -> Result<CountingWaker, OsError> {
        Ok(CountingWaker {
            inner: self.0.waker()?,
            wakes: &RACE_WAKES,
        })
    }

    fn clock(&self) -> &MonotonicClock {
        self.0.clock()
    }

    fn token(event: &Self::Event) -> Token {
        Epoll::token(event)
    }

    fn ready(event: &Self::Event) -> Ready {
        Epoll::ready(event)
    }
}

/// Acknowledges each message by storing it in `acked`, then spins a random while at the
/// end of the turn, so that the sender's next send lands anywhere around the loop's
/// next `prepare_sleep`.
struct Acker {
    acked: &'static AtomicUsize,
    random: u64,
}

type AckLoop = GenericEventLoop<Acker, CountingEpoll, 1, 0, 4>;

impl Handler for Acker {
    type Timeout = ();
    type Message = usize;
    type Loop = AckLoop;

    fn notify(&mut self, _: &mut AckLoop, message: usize) {
        // Release: pairs with the sender's Acquire load; orders nothing else, but keeps
        // the acknowledgement after the delivery it reports.
        self.acked.store(message, Ordering::Release);
    }

    fn tick(&mut self, _: &mut AckLoop) {
        random_spin(&mut self.random, 2048);
    }
}

/// Spins for a random while: mostly short (up to `short` spin hints), sometimes long
/// (up to 2,048), so that a send on another thread lands before, inside or after the
/// loop's fall into `epoll_wait`.
fn random_spin(state: &mut u64, short: u64) {
    // xorshift64: reproducible run to run.
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let spins = if state.is_multiple_of(4) {
        *state % 2048
    } else {
        *state % short
    };
    for _ in 0..spins {
        std::hint::spin_loop();
    }
}

/// 20,000 rounds of one send at a random moment while the loop thread calls
/// `run_once(None)`, sleeping without a timeout whenever the channel is empty: both
/// sides spin a random while after each message ([`random_spin`]), so the send lands
/// before `prepare_sleep`, between it and `epoll_wait`, or during the sleep. The loop must see every message;
/// a lost wake-up leaves it asleep for ever, and the watchdog aborts.
#[test]
fn no_lost_wake_up_with_the_real_eventfd() {
    const ROUNDS: usize = 20_000;
    // Two slots: at most one message is in flight. Over the counting selector's waker,
    // so the core's channel type (the facade's alias fixes the native waker).
    static CHANNEL: statio_core::Channel<usize, 2, CountingWaker> = statio_core::Channel::new();
    static ACKED: AtomicUsize = AtomicUsize::new(0);
    // Relaxed: the watchdog only compares the count with itself.
    let _watchdog = Watchdog::arm("no_lost_wake_up_with_the_real_eventfd", WATCHDOG, || {
        ACKED.load(Ordering::Relaxed)
    });
    let mut event_loop = AckLoop::new().unwrap();
    let tx = event_loop.attach_channel(&CHANNEL).unwrap();
    let sender = thread::spawn(move || {
        let mut random = 0x9E37_79B9_7F4A_7C15_u64;
        for round in 1..=ROUNDS {
            // Acquire: pairs with the Release in `notify`.
            while ACKED.load(Ordering::Acquire) != round - 1 {
                std::hint::spin_loop();
            }
            random_spin(&mut random, 64);
            tx.send(round).unwrap();
        }
    });
    let mut acker = Acker {
        acked: &ACKED,
        random: 0x2545_F491_4F6C_DD1D,
    };
    let mut turns = 0;
    while ACKED.load(Ordering::Acquire) != ROUNDS {
        event_loop.run_once(&mut acker, None).unwrap();
        turns += 1;
    }
    sender.join().unwrap();
    // Relaxed: the sender thread was joined.
    let wakes = RACE_WAKES.load(Ordering::Relaxed);
    // Typically a mix: sends that found the loop awake needed no write.
    eprintln!("{ROUNDS} rounds: {turns} turns, {wakes} eventfd writes");
    assert!(
        wakes > 0,
        "no send found the loop asleep: the race was not exercised"
    );
    assert!(wakes <= ROUNDS, "{wakes} wake-ups for {ROUNDS} messages");
}

/// Per turn: how many times the pipe was reported ready, how many messages arrived.
/// At the end of each turn it waits until the producer has filled the channel again,
/// so every turn starts with more messages queued than it may take.
#[derive(Default)]
struct Flood {
    ready: usize,
    notified: usize,
    delivered: usize,
    turns: Vec<(usize, usize)>,
}

type FloodLoop = EventLoop<Flood, 2, 0, 4>;

const PIPE: Token = Token(1);
const FLOOD_CAPACITY: usize = 64;

/// How many messages the flood's producer has queued so far.
static FLOOD_SENT: AtomicUsize = AtomicUsize::new(0);

impl Handler for Flood {
    type Timeout = ();
    type Message = u64;
    type Loop = FloodLoop;

    fn ready(&mut self, _: &mut FloodLoop, token: Token, ready: Ready) {
        assert_eq!(token, PIPE);
        assert!(ready.is_readable());
        self.ready += 1;
    }

    fn notify(&mut self, _: &mut FloodLoop, _: u64) {
        self.notified += 1;
    }

    fn tick(&mut self, _: &mut FloodLoop) {
        self.turns.push((self.ready, self.notified));
        self.delivered += self.notified;
        (self.ready, self.notified) = (0, 0);
        let full = self.delivered + FLOOD_CAPACITY;
        // Acquire: pairs with the producer's Release; only a count, but keeps it honest.
        wait_spinning("the producer to fill the channel again", || {
            FLOOD_SENT.load(Ordering::Acquire) == full
        });
    }
}

/// A producer keeps a 64-slot channel full while a pipe with unread data is registered
/// level-triggered; with `messages_per_turn(8)` every turn still dispatches the pipe,
/// once, and delivers exactly 8 messages, never more.
#[test]
fn a_flood_of_messages_cannot_starve_io() {
    const PER_TURN: usize = 8;
    const TURNS: usize = 1_000;
    static CHANNEL: Channel<u64, FLOOD_CAPACITY> = Channel::new();
    let (rx, tx) = pipe().unwrap();
    assert_eq!(tx.try_write(b"never read").unwrap(), Some(10));
    let mut event_loop = FloodLoop::configured(Config::new().messages_per_turn(PER_TURN)).unwrap();
    event_loop.register(&rx, PIPE).unwrap();
    let sender = event_loop.attach_channel(&CHANNEL).unwrap();
    let stop = AtomicBool::new(false);
    let mut flood = Flood::default();
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0;
            // Relaxed: a stop request carries no data.
            while !stop.load(Ordering::Relaxed) {
                match sender.send(i) {
                    Ok(()) => {
                        i += 1;
                        // Release: pairs with the Acquire in `Flood::tick`.
                        FLOOD_SENT.fetch_add(1, Ordering::Release);
                    }
                    Err(SendError::Full(_)) => thread::yield_now(),
                    Err(err) => panic!("{err}"),
                }
            }
        });
        wait_spinning("the producer to fill the channel", || {
            FLOOD_SENT.load(Ordering::Acquire) == FLOOD_CAPACITY
        });
        for _ in 0..TURNS {
            // Bounded, though the ready pipe keeps every select from sleeping.
            event_loop.run_once(&mut flood, Some(TURN)).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(flood.turns.len(), TURNS);
    for (turn, &(ready, notified)) in flood.turns.iter().enumerate() {
        assert_eq!(
            (ready, notified),
            (1, PER_TURN),
            "turn {turn}: (pipe dispatches, messages)"
        );
    }
    event_loop.deregister(&rx, PIPE).unwrap();
}

type StringLoop = EventLoop<Strings, 1, 0, 4>;

#[derive(Default)]
struct Strings(Vec<String>);

impl Handler for Strings {
    type Timeout = ();
    type Message = String;
    type Loop = StringLoop;

    fn notify(&mut self, _: &mut StringLoop, message: String) {
        self.0.push(message);
    }
}

#[test]
fn a_full_channel_hands_the_message_back() {
    static CHANNEL: Channel<String, 4> = Channel::new();
    let mut event_loop = StringLoop::new().unwrap();
    let tx = event_loop.attach_channel(&CHANNEL).unwrap();
    let from_thread = thread::spawn(move || {
        for word in ["a", "b", "c", "d"] {
            tx.send(word.to_owned()).unwrap();
        }
        // The very message comes back, with its heap buffer: nothing was copied or lost.
        let fifth = String::from("e");
        let buffer = fifth.as_ptr();
        match tx.send(fifth) {
            Err(SendError::Full(back)) => {
                assert_eq!(back, "e");
                assert_eq!(back.as_ptr(), buffer);
                back
            }
            other => panic!("a fifth message into 4 slots: {other:?}"),
        }
    });
    let fifth = from_thread.join().unwrap();
    let mut strings = Strings::default();
    event_loop
        .run_once(&mut strings, Some(Duration::ZERO))
        .unwrap();
    assert_eq!(strings.0, ["a", "b", "c", "d"]);
    // Room again: the message handed back goes through.
    event_loop.sender().unwrap().send(fifth).unwrap();
    event_loop.run_once(&mut strings, Some(TURN)).unwrap();
    assert_eq!(strings.0, ["a", "b", "c", "d", "e"]);
}

#[test]
fn attach_channel_twice_is_channel_in_use() {
    static FIRST: Channel<String, 2> = Channel::new();
    static SECOND: Channel<String, 2> = Channel::new();
    let mut one = StringLoop::new().unwrap();
    let mut two = StringLoop::new().unwrap();
    one.attach_channel(&FIRST).unwrap();
    assert!(matches!(
        one.attach_channel(&FIRST),
        Err(Error::ChannelInUse)
    ));
    assert!(matches!(
        one.attach_channel(&SECOND),
        Err(Error::ChannelInUse)
    ));
    assert!(matches!(
        two.attach_channel(&FIRST),
        Err(Error::ChannelInUse)
    ));
    // The refusals took nothing: SECOND still goes to a loop, and wakes it.
    let tx = two.attach_channel(&SECOND).unwrap();
    let sender = thread::spawn(move || tx.send("late".to_owned()).unwrap());
    let mut strings = Strings::default();
    util::run_until(&mut two, &mut strings, "the message", 200, |s| {
        !s.0.is_empty()
    });
    sender.join().unwrap();
    assert_eq!(strings.0, ["late"]);
}

/// Counts its drops in [`DROPS`].
#[derive(Debug)]
struct Counted(#[allow(dead_code)] u32);

static DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Counted {
    fn drop(&mut self) {
        // Relaxed: read on this thread, after the drops.
        DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

type CountedLoop = EventLoop<Keep, 1, 0, 4>;

/// Keeps what it receives, so the test decides when those drop.
#[derive(Default)]
struct Keep(Vec<Counted>);

impl Handler for Keep {
    type Timeout = ();
    type Message = Counted;
    type Loop = CountedLoop;

    fn notify(&mut self, _: &mut CountedLoop, message: Counted) {
        self.0.push(message);
    }
}

/// Five messages sent, two delivered, then the loop is dropped: the three left in the
/// channel are dropped with its receiver, once each; later sends are refused and hand
/// their message back.
#[test]
fn messages_left_when_the_loop_drops_are_dropped_exactly_once() {
    static CHANNEL: Channel<Counted, 8> = Channel::new();
    let mut event_loop = CountedLoop::configured(Config::new().messages_per_turn(2)).unwrap();
    let tx = event_loop.attach_channel(&CHANNEL).unwrap();
    for i in 0..5 {
        tx.send(Counted(i)).unwrap();
    }
    let mut keep = Keep::default();
    event_loop
        .run_once(&mut keep, Some(Duration::ZERO))
        .unwrap();
    assert_eq!(keep.0.len(), 2);
    assert_eq!(DROPS.load(Ordering::Relaxed), 0);
    drop(event_loop);
    assert_eq!(DROPS.load(Ordering::Relaxed), 3, "the three left behind");
    match tx.send(Counted(5)) {
        Err(SendError::Disconnected(back)) => {
            assert_eq!(DROPS.load(Ordering::Relaxed), 3, "handed back, not dropped");
            drop(back);
        }
        other => panic!("a send after the loop went: {other:?}"),
    }
    assert_eq!(DROPS.load(Ordering::Relaxed), 4);
    drop(keep);
    assert_eq!(DROPS.load(Ordering::Relaxed), 6, "each of the six once");
}

/// What a test needs of a port's waker: its descriptor.
trait WakerFd {
    fn raw_fd(&self) -> RawFd;
}

impl WakerFd for EventFdWaker {
    fn raw_fd(&self) -> RawFd {
        EventFdWaker::raw_fd(self)
    }
}

impl WakerFd for PipeWaker {
    fn raw_fd(&self) -> RawFd {
        PipeWaker::raw_fd(self)
    }
}

/// A port, unchanged, that records the descriptor of the waker it makes.
struct Recording<S> {
    inner: S,
    waker_fd: Option<RawFd>,
}

impl<S: Selector<Handle = RawFd>> Selector for Recording<S>
where
    S::Waker: WakerFd,
{
    type Handle = RawFd;
    type Event = S::Event;
    type Clock = S::Clock;
    type Waker = S::Waker;
    const NATIVE_EDGES: bool = S::NATIVE_EDGES;

    fn new() -> Result<Self, OsError> {
        Ok(Recording {
            inner: S::new()?,
            waker_fd: None,
        })
    }

    fn register(&mut self, fd: RawFd, t: Token, i: Interest, o: PollOpt) -> Result<(), OsError> {
        self.inner.register(fd, t, i, o)
    }

    fn reregister(&mut self, fd: RawFd, t: Token, i: Interest, o: PollOpt) -> Result<(), OsError> {
        self.inner.reregister(fd, t, i, o)
    }

    fn deregister(&mut self, fd: RawFd) -> Result<(), OsError> {
        self.inner.deregister(fd)
    }

    fn select<const N: usize>(
        &mut self,
        events: &mut Events<Self::Event, N>,
        max_wait: Option<Duration>,
    ) -> Result<(), OsError> {
        self.inner.select(events, max_wait)
    }

    fn waker(&mut self) -> Result<S::Waker, OsError> {
        let waker = self.inner.waker()?;
        self.waker_fd = Some(waker.raw_fd());
        Ok(waker)
    }

    fn clock(&self) -> &S::Clock {
        self.inner.clock()
    }

    fn token(event: &Self::Event) -> Token {
        S::token(event)
    }

    fn ready(event: &Self::Event) -> Ready {
        S::ready(event)
    }
}

/// Keeps the messages it is notified of.
struct Received<S>(Vec<u32>, std::marker::PhantomData<S>);

impl<S: Selector<Handle = RawFd>> Handler for Received<S>
where
    S::Waker: WakerFd,
{
    type Timeout = ();
    type Message = u32;
    type Loop = GenericEventLoop<Received<S>, Recording<S>, 1, 0, 4>;

    fn notify(&mut self, _: &mut Self::Loop, message: u32) {
        self.0.push(message);
    }
}

/// The descriptors of this process that `refers(fd)` says are the waker's object. Another
/// test's descriptor opened or closed meanwhile is never one of them (see the callers),
/// so the scan is not fooled by a reused number.
fn descriptors_of(refers: &dyn Fn(RawFd) -> bool) -> Vec<RawFd> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| refers(fd))
        .collect()
}

/// The eventfd's `eventfd-id` and counter, from `/proc/self/fdinfo` (Linux 5.19+ shows
/// the id); `None` when `fd` is not an eventfd (or is closed meanwhile).
fn eventfd_info(fd: RawFd) -> Option<(u64, u64)> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    let field = |name: &str| {
        let line = info.lines().find_map(|l| l.strip_prefix(name))?;
        Some(line.trim_start_matches(':').trim())
    };
    let count = u64::from_str_radix(field("eventfd-count")?, 16).ok()?;
    let id = field("eventfd-id")?.parse().ok()?;
    Some((id, count))
}

/// The pipe's identity: its device and inode (unique while any end is open, and never
/// handed to another pipe in the life of the test).
fn pipe_inode(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: all-zero bytes are a valid `stat` (integers only).
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes into a live `stat`; a closed `fd` is EBADF, nothing else.
    let ok = unsafe { libc::fstat(fd, &mut stat) } == 0;
    (ok && stat.st_mode & libc::S_IFMT == libc::S_IFIFO).then_some((stat.st_dev, stat.st_ino))
}

/// A counter no eventfd reaches by wake-ups: marks the waker's eventfd as ours.
const MARK: u64 = 0x5EED_0000_0000;

/// How to recognise the waker's object from any descriptor, learnt while it is open.
fn eventfd_matcher(fd: RawFd) -> Box<dyn Fn(RawFd) -> bool> {
    // SAFETY: writes 8 bytes from a live u64 to the waker's eventfd (its count grows by
    // MARK; the edge-triggered waker never reads it back).
    let mark = MARK;
    let written = unsafe { libc::write(fd, (&raw const mark).cast(), 8) };
    assert_eq!(written, 8);
    let (id, _) = eventfd_info(fd).expect("the waker's eventfd, with an eventfd-id");
    Box::new(move |fd| eventfd_info(fd).is_some_and(|(i, count)| i == id && count >= MARK))
}

fn pipe_matcher(fd: RawFd) -> Box<dyn Fn(RawFd) -> bool> {
    let inode = pipe_inode(fd).expect("the waker's pipe");
    Box::new(move |fd| pipe_inode(fd) == Some(inode))
}

/// Issue 14 item 5: dropping a loop closes every descriptor of its channel's waker (a
/// descriptor left open would leak one per loop, and a stale sender could write to its
/// number once reused); the channel then goes to a new loop, whose waker works.
fn the_wakers_descriptors_close_when_its_loop_drops<S>(
    channel: &'static statio_core::Channel<u32, 4, S::Waker>,
    matcher: fn(RawFd) -> Box<dyn Fn(RawFd) -> bool>,
    open_while_attached: usize,
) where
    S: Selector<Handle = RawFd>,
    S::Waker: WakerFd,
{
    let mut first = GenericEventLoop::<Received<S>, Recording<S>, 1, 0, 4>::new().unwrap();
    let tx = first.attach_channel(channel).unwrap();
    let refers = matcher(first.selector().waker_fd.expect("a waker was made"));
    assert_eq!(descriptors_of(&refers).len(), open_while_attached);
    drop(first);
    assert_eq!(
        descriptors_of(&refers),
        [],
        "the waker's descriptors are closed"
    );
    assert_eq!(tx.send(1), Err(SendError::Disconnected(1)));

    // Attached again: a send from another thread wakes the new loop asleep in select.
    // One message: no progress to count until it arrives, so the limit is the total.
    let _watchdog = Watchdog::arm(
        "the_wakers_descriptors_close_when_its_loop_drops",
        WATCHDOG,
        || 0,
    );
    let mut second = GenericEventLoop::<Received<S>, Recording<S>, 1, 0, 4>::new().unwrap();
    let tx = second.attach_channel(channel).unwrap();
    let sender = thread::spawn(move || {
        thread::sleep(TURN);
        tx.send(2).unwrap();
    });
    let mut received = Received(Vec::new(), std::marker::PhantomData);
    for _ in 0..100 {
        second.run_once(&mut received, None).unwrap();
        if !received.0.is_empty() {
            break;
        }
    }
    sender.join().unwrap();
    assert_eq!(received.0, [2]);
}

#[test]
fn the_eventfd_closes_when_its_epoll_loop_drops() {
    static CHANNEL: statio_core::Channel<u32, 4, EventFdWaker> = statio_core::Channel::new();
    // The eventfd.
    the_wakers_descriptors_close_when_its_loop_drops::<Epoll>(&CHANNEL, eventfd_matcher, 1);
}

#[test]
fn the_pipe_closes_when_its_poll_loop_drops() {
    static CHANNEL: statio_core::Channel<u32, 4, PipeWaker> = statio_core::Channel::new();
    // The read end the selector watches, the waker's write end and its read end.
    the_wakers_descriptors_close_when_its_loop_drops::<Poll<4>>(&CHANNEL, pipe_matcher, 3);
}
