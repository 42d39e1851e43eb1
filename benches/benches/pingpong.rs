//! Ping-pong over Unix socket pairs: statio's `EventLoop` (epoll port) against a
//! hand-written raw epoll loop (the physical limit) and mio 1.x (what users pick).
//!
//! `cargo bench -p statio-benches --bench pingpong` runs the whole suite;
//! `docs/BENCHMARKS.md` explains the figures and `benches/scripts/instructions.py` counts
//! instructions and syscalls per round trip.
//!
//! # Workload
//!
//! `K` non-blocking `socketpair(AF_UNIX, SOCK_STREAM)` pairs, both ends registered once,
//! for readability only, edge-triggered, and driven by this one thread. Pair `i` is
//! the tokens `2i` (end `a`) and `2i + 1` (end `b`). A round trip: `a` sends one byte,
//! `b` reads it on readiness and sends it back, `a` reads it on readiness. `A` pairs
//! (`A = K`, except in the sparse case) keep one message in flight each, until `R`
//! round trips have completed in all. The clock runs from the first send to the last
//! read; building and registering the pairs is not timed.
//!
//! # The reading rule
//!
//! statio and the raw loop read **once per notification**: one `recv` into a 64-byte
//! buffer after each readiness event, then the reply `send`. With edge-triggering and
//! one byte in flight per direction this is exact: the single read empties the socket,
//! so the next byte makes a new edge and nothing is ever left behind. mio follows its own
//! documented rule for edge-triggered sources, reading until `WouldBlock`, which costs
//! one failing `recv` per notification. Writes are never registered: one byte always
//! fits in an empty socket buffer, and a full one would be a bug (the run panics).
//!
//! # Report
//!
//! Runs are interleaved: each round runs every implementation once per case, the first
//! implementation rotating from round to round; the tables show the median round trips
//! per second over the rounds, the ratio of that median to the raw loop's, and the
//! median over the rounds of each round's own ratio to the raw loop (runs of one round
//! are a second apart, so this one shrugs off load that comes and goes). Time is this
//! thread's CPU time (user + system, `CLOCK_THREAD_CPUTIME_ID`): the loops never sleep,
//! so on an idle machine it is the wall-clock time, and on a shared one it leaves out
//! the time other processes took. Wall-clock figures follow in the same table.
//!
//! # Arguments
//!
//! - none: the whole suite (`K` = 1, 64, 1,024 and the sparse case, 1,024 pairs, 8
//!   active);
//! - `--impl statio|raw|mio --pairs K [--active A] --round-trips R`: one run of one
//!   implementation, for `callgrind` and `strace` (the script's mode);
//! - `--rounds N`, `--round-trips R`: change the suite's repetitions and length;
//! - `--csv PATH`: also write the suite's medians to `PATH`, for the chart.
//!
//! The single-run mode lives here, rather than in a `[[bin]]`, because a binary cannot
//! use dev-dependencies and mio must stay one.

use std::time::{Duration, Instant};

/// Events taken per `epoll_wait` / turn, for every implementation.
const EVENTS: usize = 256;
/// The most pairs a case registers; statio's loop is built for twice as many sources.
const MAX_PAIRS: usize = 1024;
const SOURCES: usize = 2 * MAX_PAIRS;
/// Read buffer: larger than anything in flight, so one read takes it all.
const BUF: usize = 64;

/// Round trips per run of the suite.
const ROUND_TRIPS: u64 = 50_000;
/// Interleaved rounds per case.
const ROUNDS: usize = 15;
/// `(K registered pairs, A active pairs)` of the suite, the sparse case last.
const CASES: [(usize, usize); 4] = [(1, 1), (64, 64), (1024, 1024), (1024, 8)];

/// One run's shape: `pairs` registered, `active` of them with a message in flight,
/// `round_trips` in all.
#[derive(Clone, Copy, Debug)]
struct Workload {
    pairs: usize,
    active: usize,
    round_trips: u64,
}

/// Counts round trips; shared by every implementation so they stop alike.
struct Progress {
    started: u64,
    done: u64,
    target: u64,
}

impl Progress {
    /// The `active` first messages count as started: each run sends them first.
    fn new(w: Workload) -> Progress {
        assert!(w.active >= 1 && w.active <= w.pairs && w.pairs <= MAX_PAIRS);
        assert!(w.active as u64 <= w.round_trips);
        Progress {
            started: w.active as u64,
            done: 0,
            target: w.round_trips,
        }
    }

    /// A round trip came home; `true` when the pair must start another.
    #[inline]
    fn complete(&mut self) -> bool {
        self.done += 1;
        let again = self.started < self.target;
        self.started += u64::from(again);
        again
    }

    fn finished(&self) -> bool {
        self.done == self.target
    }
}

/// Stops the run on an I/O result no ping-pong should see. Cold and out of line in
/// every implementation alike, so the formatting stays off their hot paths.
#[cold]
#[inline(never)]
fn failed(token: usize, what: &str, result: &dyn std::fmt::Debug) -> ! {
    panic!("token {token}: {what} {result:?}")
}

/// Whether an event's token is an `a` end (the one that starts and finishes a round
/// trip); `b` ends answer every byte.
#[inline]
fn is_initiator(token: usize) -> bool {
    token & 1 == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Impl {
    Statio,
    Raw,
    Mio,
    /// The same handler over the poll(2) port (sized for 2,048 ends and its waker),
    /// level-triggered (the mode that port
    /// recommends; with one byte in flight, read once per notification, it is exact).
    /// The sparse case (1,024 pairs, 8 active) shows poll(2)'s scan over every
    /// registration.
    StatioPoll,
}

impl Impl {
    /// The raw loop first: it is the reference of every ratio.
    const ALL: [Impl; 4] = [Impl::Raw, Impl::Statio, Impl::Mio, Impl::StatioPoll];

    fn name(self) -> &'static str {
        match self {
            Impl::Statio => "statio EventLoop (epoll)",
            Impl::Raw => "raw epoll ET",
            Impl::Mio => "mio 1.x",
            Impl::StatioPoll => "statio EventLoop (poll, level)",
        }
    }

    fn parse(arg: &str) -> Option<Impl> {
        match arg {
            "statio" => Some(Impl::Statio),
            "raw" => Some(Impl::Raw),
            "mio" => Some(Impl::Mio),
            "statio-poll" => Some(Impl::StatioPoll),
            _ => None,
        }
    }

    /// One untimed setup, then the timed ping-pong.
    fn run(self, w: Workload) -> Took {
        match self {
            Impl::Statio => {
                statio_loop::run::<statio::ports::epoll::Epoll>(w, statio::PollOpt::edge())
            }
            Impl::StatioPoll => {
                statio_loop::run::<statio::ports::poll::Poll<4096>>(w, statio::PollOpt::level())
            }
            Impl::Raw => raw::run(w),
            Impl::Mio => mio_loop::run(w),
        }
    }
}

/// statio's `EventLoop` and `Handler`, generic over the selector so that every port
/// runs the very same handler.
mod statio_loop {
    use std::marker::PhantomData;

    use statio::net::UnixStream;
    use statio::{GenericEventLoop, Handler, Interest, PollOpt, RawFd, Ready, Selector, Token};

    use super::{BUF, EVENTS, Progress, SOURCES, Stopwatch, Took, Workload, is_initiator};

    type Loop<S> = GenericEventLoop<PingPong<S>, S, SOURCES, 0, EVENTS>;

    struct PingPong<S> {
        /// Indexed by token: `ends[2i]` is pair `i`'s `a`, `ends[2i + 1]` its `b`.
        ends: Vec<UnixStream>,
        progress: Progress,
        /// Kept across events, as the other loops keep theirs: nothing to zero per read.
        buf: [u8; BUF],
        selector: PhantomData<S>,
    }

    impl<S: Selector<Handle = RawFd>> Handler for PingPong<S> {
        type Timeout = ();
        type Message = ();
        type Loop = Loop<S>;

        fn readable(&mut self, event_loop: &mut Loop<S>, token: Token, _: Ready) {
            let end = &self.ends[token.0];
            // Once per notification: see the module docs.
            match end.try_read(&mut self.buf) {
                Ok(Some(1)) => {}
                other => super::failed(token.0, "read", &other),
            }
            if !is_initiator(token.0) || self.progress.complete() {
                match end.try_write(&self.buf[..1]) {
                    Ok(Some(1)) => {}
                    other => super::failed(token.0, "write", &other),
                }
            } else if self.progress.finished() {
                event_loop.shutdown();
            }
        }
    }

    pub(super) fn run<S: Selector<Handle = RawFd>>(w: Workload, opt: PollOpt) -> Took {
        let mut ends = Vec::with_capacity(2 * w.pairs);
        for _ in 0..w.pairs {
            let (a, b) = UnixStream::pair().expect("socketpair");
            ends.extend([a, b]);
        }
        // Boxed: the loop holds its registry of SOURCES slots inline.
        let mut event_loop: Box<Loop<S>> = Box::new(Loop::<S>::new().expect("selector"));
        for (token, end) in ends.iter().enumerate() {
            event_loop
                .register_opt(end, Token(token), Interest::READABLE, opt)
                .expect("register");
        }
        let mut handler = PingPong {
            ends,
            progress: Progress::new(w),
            buf: [0; BUF],
            selector: PhantomData::<S>,
        };
        let watch = Stopwatch::start();
        for pair in 0..w.active {
            handler.ends[2 * pair].try_write(&[1]).expect("first send");
        }
        event_loop.run(&mut handler).expect("run");
        let took = watch.stop();
        assert_eq!(handler.progress.done, w.round_trips);
        took
    }
}

/// The reference: epoll on libc by hand, registered once, edge-triggered, 256 events
/// per wait, `recv`/`send`, nothing else.
mod raw {

    use libc::{c_int, epoll_event};

    use super::{BUF, EVENTS, Progress, Stopwatch, Took, Workload, is_initiator};

    /// `-1` becomes the errno as a panic: a benchmark has no error to recover from.
    fn check(ret: isize, what: &str) -> isize {
        if ret < 0 {
            super::failed(usize::MAX, what, &std::io::Error::last_os_error());
        }
        ret
    }

    fn send_byte(fd: c_int, byte: &u8) {
        // SAFETY: `byte` is one readable byte for the duration of the call.
        let sent = unsafe { libc::send(fd, (&raw const *byte).cast(), 1, libc::MSG_NOSIGNAL) };
        assert_eq!(check(sent, "send"), 1);
    }

    pub(super) fn run(w: Workload) -> Took {
        // SAFETY: no pointers; the result is checked.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        check(epoll as isize, "epoll_create1");
        let mut fds: Vec<c_int> = Vec::with_capacity(2 * w.pairs);
        for _ in 0..w.pairs {
            let mut pair = [0; 2];
            let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
            // SAFETY: `pair` has room for the two descriptors.
            let ret = unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, pair.as_mut_ptr()) };
            check(ret as isize, "socketpair");
            fds.extend(pair);
        }
        for (token, &fd) in fds.iter().enumerate() {
            let mut event = epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLET) as u32,
                u64: token as u64,
            };
            // SAFETY: `event` is valid for the call.
            let ret = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &raw mut event) };
            check(ret as isize, "epoll_ctl");
        }
        let mut events = [epoll_event { events: 0, u64: 0 }; EVENTS];
        let mut progress = Progress::new(w);
        let mut buf = [0u8; BUF];

        let watch = Stopwatch::start();
        for pair in 0..w.active {
            send_byte(fds[2 * pair], &1);
        }
        while !progress.finished() {
            // SAFETY: `events` has room for EVENTS entries.
            let n = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), EVENTS as c_int, -1) };
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            let n = check(n as isize, "epoll_wait") as usize;
            for event in &events[..n] {
                let token = event.u64 as usize;
                let fd = fds[token];
                // Once per notification, as statio.
                // SAFETY: `buf` is writable for BUF bytes.
                let got = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), BUF, 0) };
                assert_eq!(check(got, "recv"), 1, "token {token}");
                if !is_initiator(token) || progress.complete() {
                    send_byte(fd, &buf[0]);
                }
            }
        }
        let took = watch.stop();
        for fd in fds.into_iter().chain([epoll]) {
            // SAFETY: each descriptor was opened above and is closed once.
            unsafe { libc::close(fd) };
        }
        took
    }
}

/// mio 1.x as its docs say: `Poll`, `Events`, and reading until `WouldBlock`.
mod mio_loop {
    use std::io::{ErrorKind, Read, Write};

    use mio::net::UnixStream;
    use mio::{Events, Interest, Poll, Token};

    use super::{BUF, EVENTS, Progress, Stopwatch, Took, Workload, is_initiator};

    pub(super) fn run(w: Workload) -> Took {
        let mut poll = Poll::new().expect("poll");
        let mut events = Events::with_capacity(EVENTS);
        let mut ends: Vec<UnixStream> = Vec::with_capacity(2 * w.pairs);
        for _ in 0..w.pairs {
            let (a, b) = UnixStream::pair().expect("socketpair");
            ends.extend([a, b]);
        }
        for (token, end) in ends.iter_mut().enumerate() {
            poll.registry()
                .register(end, Token(token), Interest::READABLE)
                .expect("register");
        }
        let mut progress = Progress::new(w);
        let mut buf = [0u8; BUF];

        let watch = Stopwatch::start();
        for pair in 0..w.active {
            assert_eq!((&ends[2 * pair]).write(&[1]).expect("first send"), 1);
        }
        while !progress.finished() {
            match poll.poll(&mut events, None) {
                Ok(()) => {}
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => panic!("poll: {err}"),
            }
            for event in &events {
                let token = event.token().0;
                let mut end = &ends[token];
                loop {
                    match end.read(&mut buf) {
                        Ok(1) => {
                            if !is_initiator(token) || progress.complete() {
                                assert_eq!(end.write(&buf[..1]).expect("send"), 1);
                            }
                        }
                        Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                        Err(err) if err.kind() == ErrorKind::Interrupted => {}
                        other => super::failed(token, "read", &other),
                    }
                }
            }
        }
        watch.stop()
    }
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One timed run: wall-clock time, and this thread's CPU time (user + system).
#[derive(Clone, Copy, Debug)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

/// Starts both clocks; each implementation starts it before its first send and stops
/// it after its last read.
struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: thread_cpu_time(),
        }
    }

    fn stop(self) -> Took {
        let cpu = thread_cpu_time();
        Took {
            wall: self.wall.elapsed(),
            cpu: cpu - self.cpu,
        }
    }
}

/// `CLOCK_THREAD_CPUTIME_ID`: the time this thread ran, in user space and in the
/// kernel. The loops never sleep (a reply is always on its way), so on an idle
/// machine it equals the wall-clock time; on a shared one it leaves out the time other
/// processes held the CPU.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    assert_eq!(ret, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn round_trips_per_sec(w: Workload, took: Duration) -> f64 {
    w.round_trips as f64 / took.as_secs_f64()
}

/// One implementation's figures in one case, from samples in round order.
struct Summary {
    median: f64,
    min: f64,
    max: f64,
    /// Median over the rounds of this round's sample / the raw loop's.
    paired: f64,
}

fn summarize(samples: &[f64], raw: &[f64]) -> Summary {
    let mut ratios: Vec<f64> = samples.iter().zip(raw).map(|(x, r)| x / r).collect();
    let mut sorted = samples.to_vec();
    let median_value = median(&mut sorted);
    Summary {
        median: median_value,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        paired: median(&mut ratios),
    }
}

/// The command line; see the module docs.
struct Args {
    single: Option<Impl>,
    pairs: Option<usize>,
    active: Option<usize>,
    round_trips: u64,
    rounds: usize,
    csv: Option<String>,
}

/// The arguments, or what is wrong with them (said, and exit status 2, by `main`).
fn parse_args(argv: impl IntoIterator<Item = String>) -> Result<Args, String> {
    fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
        value
            .parse()
            .map_err(|_| format!("{flag} takes a whole number, not {value:?}"))
    }
    let mut args = Args {
        single: None,
        pairs: None,
        active: None,
        round_trips: ROUND_TRIPS,
        rounds: ROUNDS,
        csv: None,
    };
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--impl" => {
                let name = value()?;
                args.single =
                    Some(Impl::parse(&name).ok_or_else(|| format!("no implementation {name:?}"))?);
            }
            "--pairs" => args.pairs = Some(number(&arg, &value()?)?),
            "--active" => args.active = Some(number(&arg, &value()?)?),
            "--round-trips" => args.round_trips = number(&arg, &value()?)?,
            "--rounds" => args.rounds = number(&arg, &value()?)?,
            "--csv" => args.csv = Some(value()?),
            // cargo bench passes `--bench`; ignore it and the test harness' flags.
            _ => {}
        }
    }
    match (args.single, args.pairs, args.active) {
        (Some(_), None, _) => return Err("--impl needs --pairs K".into()),
        (_, Some(0), _) => return Err("--pairs must be at least 1".into()),
        (_, Some(pairs), Some(active)) if active == 0 || active > pairs => {
            return Err(format!(
                "--active must be 1 to --pairs ({pairs}), not {active}"
            ));
        }
        _ if args.round_trips == 0 || args.rounds == 0 => {
            return Err("--round-trips and --rounds must be at least 1".into());
        }
        _ => {}
    }
    Ok(args)
}

fn single(which: Impl, args: &Args) {
    let pairs = args.pairs.unwrap_or(1); // `parse_args` requires it with `--impl`
    let w = Workload {
        pairs,
        active: args.active.unwrap_or(pairs),
        round_trips: args.round_trips,
    };
    let took = which.run(w);
    println!(
        "{}: {} pairs, {} active, {} round trips in {:.3} s ({:.3} s of CPU): {:.0} round trips/s",
        which.name(),
        w.pairs,
        w.active,
        w.round_trips,
        took.wall.as_secs_f64(),
        took.cpu.as_secs_f64(),
        round_trips_per_sec(w, took.wall)
    );
}

fn suite(args: &Args) {
    println!("{}", statio_benches::machine());
    println!(
        "{} round trips per run, {} interleaved rounds, {} events per wait, {} threads available",
        args.round_trips,
        args.rounds,
        EVENTS,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut csv = String::from(
        "pairs,active,implementation,median_rt_per_cpu_s,min,max,ratio_to_raw,paired_ratio,\
         median_rt_per_wall_s,wall_paired_ratio\n",
    );
    for (pairs, active) in CASES {
        let w = Workload {
            pairs,
            active,
            round_trips: args.round_trips,
        };
        // Warm-up, untimed: page in the code and the socket buffers' slabs.
        for which in Impl::ALL {
            which.run(Workload {
                round_trips: w.round_trips / 10 + active as u64,
                ..w
            });
        }
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); Impl::ALL.len()];
        let mut wall: Vec<Vec<f64>> = vec![Vec::new(); Impl::ALL.len()];
        for round in 0..args.rounds {
            for i in 0..Impl::ALL.len() {
                let i = (i + round) % Impl::ALL.len();
                let took = Impl::ALL[i].run(w);
                cpu[i].push(round_trips_per_sec(w, took.cpu));
                wall[i].push(round_trips_per_sec(w, took.wall));
            }
        }
        println!("\n{pairs} pairs, {active} active");
        println!(
            "| implementation | k round trips per CPU-second | min..max | vs raw epoll | \
             per-round ratio | wall clock: k round trips/s | per-round ratio |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (i, which) in Impl::ALL.iter().enumerate() {
            let c = summarize(&cpu[i], &cpu[0]);
            let raw = summarize(&cpu[0], &cpu[0]).median;
            let wl = summarize(&wall[i], &wall[0]);
            println!(
                "| {} | {:.1} | {:.1}..{:.1} | {:.3}x | {:.3}x | {:.1} | {:.3}x |",
                which.name(),
                c.median / 1e3,
                c.min / 1e3,
                c.max / 1e3,
                c.median / raw,
                c.paired,
                wl.median / 1e3,
                wl.paired
            );
            csv.push_str(&format!(
                // The name is quoted: "statio EventLoop (poll, level)" holds a comma.
                "{pairs},{active},\"{}\",{:.0},{:.0},{:.0},{:.4},{:.4},{:.0},{:.4}\n",
                which.name(),
                c.median,
                c.min,
                c.max,
                c.median / raw,
                c.paired,
                wl.median,
                wl.paired
            ));
        }
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, csv).expect("write --csv");
    }
}

fn main() {
    if std::env::args().any(|arg| arg == "--test") {
        return; // `cargo test --benches`: nothing to check
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("pingpong: {err}");
            std::process::exit(2);
        }
    };
    match args.single {
        Some(which) => single(which, &args),
        None => suite(&args),
    }
}
