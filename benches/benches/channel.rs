//! statio's `Channel` against `std::sync::mpsc::sync_channel`, `crossbeam-channel` bounded and
//! `crossbeam-queue::ArrayQueue`: capacity 1024, `u64` messages.
//!
//! `cargo bench -p statio-benches --bench channel`
//!
//! 1. Throughput, 1 and 2 producer threads into one consumer, in M msgs/s. Every queue is
//!    driven the same way, without blocking: producers retry a full send after a yield, the
//!    consumer spins on an empty receive. Runs are interleaved (each round runs every queue
//!    once), the table shows medians and the ratio to `ArrayQueue`.
//! 2. An uncontended send + receive pair on one thread, in ns.
//!
//! Wake-ups are not measured here (statio's channel runs with `NoWake`): wake syscalls per
//! million messages and send-to-notify latency need the channel wired into the loop.

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::mpsc::{TryRecvError, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use statio_core::channel::{Channel, SendError};

const CAPACITY: usize = 1024;
const MESSAGES: u64 = 2_000_000;
const ROUNDS: usize = 9;
const PAIRS: u64 = 5_000_000;

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

/// Time for `producers` threads to push `MESSAGES` in total through a queue into this thread.
fn throughput(
    producers: u64,
    send: &(impl Fn(u64) -> Result<(), u64> + Sync),
    recv: &mut impl FnMut() -> Option<u64>,
) -> Duration {
    let per_producer = MESSAGES / producers;
    let start = Barrier::new(producers as usize + 1);
    std::thread::scope(|scope| {
        for _ in 0..producers {
            scope.spawn(|| {
                start.wait();
                for i in 0..per_producer {
                    let mut msg = i;
                    while let Err(back) = send(msg) {
                        msg = back;
                        std::thread::yield_now();
                    }
                }
            });
        }
        start.wait();
        let began = Instant::now();
        let mut left = per_producer * producers;
        while left > 0 {
            match recv() {
                Some(msg) => {
                    black_box(msg);
                    left -= 1;
                }
                None => std::hint::spin_loop(),
            }
        }
        began.elapsed()
    })
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

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Per queue: its name and its samples.
struct Row {
    name: &'static str,
    samples: Vec<f64>,
}

fn rows() -> Vec<Row> {
    NAMES
        .into_iter()
        .map(|name| Row {
            name,
            samples: Vec::new(),
        })
        .collect()
}

fn print(title: &str, unit: &str, rows: &mut [Row], higher_is_better: bool) {
    let medians: Vec<f64> = rows.iter_mut().map(|r| median(&mut r.samples)).collect();
    let reference = medians[1]; // ArrayQueue
    println!("\n{title}");
    println!("| queue | median {unit} | min..max | vs ArrayQueue |");
    println!("|---|---:|---:|---:|");
    for (row, m) in rows.iter().zip(&medians) {
        let ratio = if higher_is_better {
            m / reference
        } else {
            reference / m
        };
        println!(
            "| {} | {m:.2} | {:.2}..{:.2} | {ratio:.2}x |",
            row.name,
            row.samples[0],
            row.samples[row.samples.len() - 1]
        );
    }
}

fn main() {
    if std::env::args().any(|arg| arg == "--test") {
        return; // `cargo test --benches`: nothing to check
    }
    println!(
        "capacity {CAPACITY}, u64 messages, {MESSAGES} per run, {ROUNDS} interleaved rounds, \
         {} threads available",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mmsgs = |d: Duration| MESSAGES as f64 / d.as_secs_f64() / 1e6;
    for producers in [1, 2] {
        let mut rows = rows();
        for _ in 0..ROUNDS {
            let results = each_queue!(|send, recv| mmsgs(throughput(producers, send, recv)));
            for (row, result) in rows.iter_mut().zip(results) {
                row.samples.push(result);
            }
        }
        print(
            &format!("throughput, {producers} producer(s) -> 1 consumer"),
            "M msgs/s",
            &mut rows,
            true,
        );
    }
    let mut rows = rows();
    for _ in 0..ROUNDS {
        for (row, result) in rows
            .iter_mut()
            .zip(each_queue!(|send, recv| pair(send, recv)))
        {
            row.samples.push(result);
        }
    }
    print(
        "uncontended send + receive on one thread",
        "ns",
        &mut rows,
        false,
    );
}
