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
//!
//! Then the kernel's part alone, which is what differs from machine to machine: one
//! `poll(2)` call with timeout 0 over `n` idle socket ends (none ready), against one
//! `epoll_wait` with timeout 0 on an epoll instance holding the same `n`, for `n` from 16
//! to 4,096. The fastest of many batches is the cost without interference from other
//! processes; its growth with `n` is what poll(2) costs per registered descriptor per
//! call (a file lookup and an indirect call into the socket's poll method each), and a
//! growth per descriptor that rises with `n` is the working set leaving the caches.
//!
//! The output starts with the machine: both parts depend on it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use statio::net::UnixStream;
use statio::ports::epoll::Epoll;
use statio::ports::poll::Poll;
use statio::{Events, Interest, PollOpt, RawFd, Selector, Token};
use statio_benches::{Spread, machine};

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

fn median(v: Vec<f64>) -> f64 {
    Spread::of(&v).median
}

/// Registered counts of the kernel-only part.
const KERNEL_SIZES: [usize; 6] = [16, 256, 1_024, 2_048, 3_072, 4_096];
/// Calls per timed batch, and batches per size and syscall.
const CALLS: usize = 200;
const BATCHES: usize = 200;

/// ns per call of `call`, over `BATCHES` batches of `CALLS` calls: the fastest and the
/// median batch.
fn per_call(mut call: impl FnMut()) -> Spread {
    let batches: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                call();
            }
            start.elapsed().as_nanos() as f64 / CALLS as f64
        })
        .collect();
    Spread::of(&batches)
}

/// The kernel's cost of one poll(2) call over `n` idle descriptors, and of one
/// `epoll_wait` on an epoll instance holding them; both with timeout 0, nothing ready.
fn kernel_part() {
    println!(
        "\nthe kernel alone: ns per call, timeout 0, n idle registered socket ends, \
         fastest (median) of {BATCHES} batches of {CALLS} calls"
    );
    println!("| n | poll(2) | poll(2) per fd, fastest | growth per added fd | epoll_wait |");
    println!("|---:|---:|---:|---:|---:|");
    let pairs: Vec<_> = (0..KERNEL_SIZES[KERNEL_SIZES.len() - 1])
        .map(|_| UnixStream::pair().expect("socketpair"))
        .collect();
    let mut previous: Option<(usize, f64)> = None;
    for n in KERNEL_SIZES {
        let mut fds: Vec<libc::pollfd> = pairs[..n]
            .iter()
            .map(|(ours, _)| libc::pollfd {
                fd: ours.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let poll = per_call(|| {
            // SAFETY: `fds` is a live array of `n` pollfd.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), n as libc::nfds_t, 0) };
            assert_eq!(ready, 0, "an idle socket was ready");
        });
        // SAFETY: epoll_create1 takes no pointer.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epoll >= 0, "epoll_create1");
        for (i, (ours, _)) in pairs[..n].iter().enumerate() {
            let mut event = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: `event` is a live epoll_event; the fd is open.
            let added = unsafe {
                libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, ours.as_raw_fd(), &mut event)
            };
            assert_eq!(added, 0, "epoll_ctl");
        }
        let mut out = [libc::epoll_event { events: 0, u64: 0 }; 64];
        let epoll_wait = per_call(|| {
            // SAFETY: `out` is a live array of 64 epoll_event.
            let ready = unsafe { libc::epoll_wait(epoll, out.as_mut_ptr(), 64, 0) };
            assert_eq!(ready, 0, "an idle socket was ready");
        });
        // SAFETY: `epoll` is ours, closed once.
        unsafe { libc::close(epoll) };
        let growth = previous.map_or("".to_owned(), |(m, ns)| {
            format!("{:.1}", (poll.min - ns) / (n - m) as f64)
        });
        println!(
            "| {n} | {:.0} ({:.0}) | {:.1} | {growth} | {:.0} ({:.0}) |",
            poll.min,
            poll.median,
            poll.min / n as f64,
            epoll_wait.min,
            epoll_wait.median
        );
        previous = Some((n, poll.min));
    }
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
    if std::env::args().any(|arg| arg == "--test") {
        return; // `cargo test --benches`: nothing to check
    }
    raise_fd_limit();
    println!("{}", machine());
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
    kernel_part();
}
