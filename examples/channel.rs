//! Worker threads send results into a running loop: `cargo run --example channel`.
//!
//! Four std threads search a range of numbers each for primes and send every prime they
//! find, then a summary, through a `static` channel into the loop on the main thread.
//! The handler counts what arrives through `notify`, prints each summary, and shuts the
//! loop down when every worker has reported.
//!
//! The channel is small on purpose (16 messages): workers find primes faster than a
//! loop that prints, so sends fail with `SendError::Full`, which hands the message
//! back; the worker yields for a moment and sends it again. Nothing is lost or blocked,
//! and between bursts the loop sleeps in `epoll_wait` until a send wakes it.

use std::process::ExitCode;
use std::thread;

use statio::{Channel, EventLoop, Handler, SendError, Sender};

const WORKERS: usize = 4;
/// Numbers searched in all, split evenly among the workers.
const LIMIT: u64 = 200_000;

/// What a worker sends into the loop.
#[derive(Debug)]
enum Report {
    /// One prime found by `worker`.
    Prime { worker: usize, prime: u64 },
    /// `worker` is done: how many primes it found in `from..to`, and how many times its
    /// send met a full channel and had to try again.
    Done {
        worker: usize,
        from: u64,
        to: u64,
        found: usize,
        retries: usize,
    },
}

/// The channel lives in a `static`: senders on other threads borrow it for `'static`.
static REPORTS: Channel<Report, 16> = Channel::new();

/// No sources, no timers: the loop only receives messages.
type Loop = EventLoop<Collector, 1, 0, 4>;

#[derive(Default)]
struct Collector {
    /// Primes received from each worker.
    primes: [usize; WORKERS],
    /// The largest prime received.
    largest: u64,
    /// Workers that sent `Done`.
    done: usize,
    /// Full-channel retries, summed over the workers.
    retries: usize,
}

impl Handler for Collector {
    type Timeout = ();
    type Message = Report;
    type Loop = Loop;

    fn notify(&mut self, event_loop: &mut Loop, report: Report) {
        match report {
            Report::Prime { worker, prime } => {
                self.primes[worker] += 1;
                self.largest = self.largest.max(prime);
            }
            Report::Done {
                worker,
                from,
                to,
                found,
                retries,
            } => {
                // Per-sender order: every prime of this worker arrived before its `Done`.
                assert_eq!(found, self.primes[worker], "worker {worker} lost a message");
                println!(
                    "worker {worker}: {found:>5} primes in {from:>6}..{to:<6} \
                     ({retries} sends retried on a full channel)"
                );
                self.done += 1;
                self.retries += retries;
                if self.done == WORKERS {
                    event_loop.shutdown();
                }
            }
        }
    }
}

/// Sends `report`, retrying after a short yield while the channel is full.
///
/// Returns how many retries it took; `Err` when the loop is gone (its receiver was
/// dropped), with the report handed back.
fn send(tx: Sender<'static, Report>, mut report: Report) -> Result<usize, SendError<Report>> {
    let mut retries = 0;
    loop {
        match tx.send(report) {
            Ok(()) => return Ok(retries),
            Err(SendError::Full(back)) => {
                // The message came back in the error: keep it, give the loop a moment.
                report = back;
                retries += 1;
                thread::yield_now();
            }
            Err(err) => return Err(err),
        }
    }
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// Searches `from..to`, sending each prime and then a summary.
fn worker(worker: usize, from: u64, to: u64, tx: Sender<'static, Report>) {
    let (mut found, mut retries) = (0, 0);
    for prime in (from..to).filter(|&n| is_prime(n)) {
        match send(tx, Report::Prime { worker, prime }) {
            Ok(tries) => retries += tries,
            Err(err) => {
                eprintln!("worker {worker}: stopping: {err}");
                return;
            }
        }
        found += 1;
    }
    let done = Report::Done {
        worker,
        from,
        to,
        found,
        retries,
    };
    if let Err(err) = send(tx, done) {
        eprintln!("worker {worker}: could not report: {err}");
    }
}

fn main() -> ExitCode {
    // It takes no arguments: refuse any, rather than ignore a typo.
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!("channel: unexpected argument {arg:?}");
        eprintln!("usage: channel");
        return ExitCode::from(2);
    }
    let mut event_loop = match Loop::new() {
        Ok(event_loop) => event_loop,
        Err(err) => {
            eprintln!("channel: cannot create the event loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let tx = match event_loop.attach_channel(&REPORTS) {
        Ok(tx) => tx,
        Err(err) => {
            eprintln!("channel: cannot attach the channel: {err}");
            return ExitCode::FAILURE;
        }
    };
    let chunk = LIMIT / WORKERS as u64;
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let (from, to) = (i as u64 * chunk, (i as u64 + 1) * chunk);
            // `Sender` is `Copy + Send`: each thread gets its own copy.
            thread::spawn(move || worker(i, from, to, tx))
        })
        .collect();

    let mut collector = Collector::default();
    let result = event_loop.run(&mut collector);
    // Dropping the loop closes the channel: a worker still sending would stop.
    drop(event_loop);
    for handle in workers {
        let _ = handle.join();
    }
    if let Err(err) = result {
        eprintln!("channel: event loop failed: {err}");
        return ExitCode::FAILURE;
    }
    println!(
        "{} primes below {LIMIT} (largest {}), {} sends retried on a full channel",
        collector.primes.iter().sum::<usize>(),
        collector.largest,
        collector.retries
    );
    ExitCode::SUCCESS
}
