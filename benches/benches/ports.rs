//! The poll(2) port against the epoll port: one selector call with many registered
//! connections and few active.
//!
//! `cargo bench -p statio-benches --bench ports`
//!
//! For each size (16, 256 and 1,024 registered Unix socketpair ends, level-triggered,
//! readable), one *round* writes one byte to `ACTIVE` (8) of the peers (a different
//! 8 each round), then calls `select` until all 8 events arrived, reading each byte
//! back: the work of a turn of a mostly idle server. Both selectors are used through
//! the `Selector` trait (no event loop), each with its own sockets, built once.
//! Repetitions alternate which port goes first; the table shows the median ns per
//! round and the ratio poll / epoll. poll(2) walks every registered `pollfd` on every
//! call (in the kernel, then in `select`'s scan up to the last ready one), epoll only
//! the ready list: the ratio grows with the registered count.

use std::hint::black_box;
use std::time::{Duration, Instant};

use statio::net::UnixStream;
use statio::ports::epoll::Epoll;
use statio::ports::poll::Poll;
use statio::{Events, Interest, PollOpt, RawFd, Selector, Token};

const SIZES: [usize; 3] = [16, 256, 1_024];
const ACTIVE: usize = 8;
/// Rounds per timed repetition.
const ROUNDS: usize = 2_000;
/// Interleaved repetitions per size (the first is a discarded warm-up).
const REPS: usize = 11;

/// One selector with `n` registered socketpair ends.
struct Bench<S: Selector<Handle = RawFd>> {
    selector: S,
    pairs: Vec<(UnixStream, UnixStream)>,
    events: Events<S::Event, 64>,
    next: usize,
}

impl<S: Selector<Handle = RawFd>> Bench<S> {
    fn new(n: usize) -> Self {
        let mut selector = S::new().expect("selector");
        let pairs: Vec<_> = (0..n)
            .map(|_| UnixStream::pair().expect("socketpair"))
            .collect();
        for (i, (ours, _)) in pairs.iter().enumerate() {
            selector
                .register(
                    ours.as_raw_fd(),
                    Token(i),
                    Interest::READABLE,
                    PollOpt::level(),
                )
                .expect("register");
        }
        Bench {
            selector,
            pairs,
            events: Events::new(),
            next: 0,
        }
    }

    /// `ROUNDS` rounds; ns per round.
    fn run(&mut self) -> f64 {
        let n = self.pairs.len();
        let mut buf = [0u8; 8];
        let start = Instant::now();
        for _ in 0..ROUNDS {
            // Spread the active ones over the set, as on a real server.
            for k in 0..ACTIVE {
                let i = (self.next + k * (n / ACTIVE).max(1)) % n;
                assert_eq!(self.pairs[i].1.try_write(b"x").unwrap(), Some(1));
            }
            self.next = (self.next + 1) % n;
            let mut got = 0;
            while got < ACTIVE {
                self.selector
                    .select(&mut self.events, Some(Duration::from_secs(5)))
                    .expect("select");
                assert!(!self.events.is_empty(), "no event within 5 s");
                for event in self.events.as_slice() {
                    let i = S::token(event).0;
                    let read = self.pairs[i].0.try_read(&mut buf).unwrap();
                    got += read.unwrap_or(0);
                }
            }
            black_box(got);
        }
        start.elapsed().as_nanos() as f64 / ROUNDS as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Raises the soft descriptor limit to the hard one: 1,024 pairs need 2,048 fds.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read or write one live rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn main() {
    raise_fd_limit();
    println!(
        "poll(2) port vs epoll port: {ACTIVE} active of n registered, ns per round (median of {} reps x {ROUNDS} rounds)",
        REPS - 1
    );
    println!(
        "{:>6} {:>12} {:>12} {:>12}",
        "n", "epoll", "poll", "poll/epoll"
    );
    for n in SIZES {
        let mut epoll = Bench::<Epoll>::new(n);
        let mut poll = Bench::<Poll<1100>>::new(n);
        let (mut e, mut p) = (Vec::new(), Vec::new());
        for rep in 0..REPS {
            let (a, b) = if rep % 2 == 0 {
                let a = epoll.run();
                (a, poll.run())
            } else {
                let b = poll.run();
                (epoll.run(), b)
            };
            if rep > 0 {
                e.push(a);
                p.push(b);
            }
        }
        let (e, p) = (median(e), median(p));
        println!("{n:>6} {e:>12.0} {p:>12.0} {:>12.2}", p / e);
    }
}
