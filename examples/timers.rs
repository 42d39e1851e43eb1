//! Timers on statio: a one-shot, a periodic timer re-armed from its own callback, and
//! a cancelled one. `cargo run --example timers`; prints what fires, then exits.
//!
//! The loop has no sources at all: every wake-up is a timer deadline (the loop is
//! tickless), and when the last timer is gone `run` would sleep for ever, so the
//! handler shuts the loop down on its final timer.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use statio::{EventLoop, Handler};

/// What each timer carries back to the handler.
#[derive(Debug, Clone, Copy)]
enum Timer {
    /// A one-shot timer.
    Once,
    /// A periodic timer: the round it is in.
    Every(u32),
    /// Set and then cancelled: never fires.
    Cancelled,
}

/// No sources, up to 4 timers, a small events buffer.
type Loop = EventLoop<Demo, 1, 4, 4>;

const PERIOD: Duration = Duration::from_millis(100);
const ROUNDS: u32 = 5;

struct Demo {
    started: Instant,
}

impl Handler for Demo {
    type Timeout = Timer;
    type Message = ();
    type Loop = Loop;

    fn timeout(&mut self, event_loop: &mut Loop, timer: Timer) {
        let at = self.started.elapsed();
        println!("{:>6.1} ms  {timer:?}", at.as_secs_f64() * 1e3);
        match timer {
            Timer::Every(round) if round < ROUNDS => {
                // Re-arm from the callback: the next period starts now.
                if let Err(err) = event_loop.timeout(Timer::Every(round + 1), PERIOD) {
                    eprintln!("timers: cannot re-arm: {err}");
                    event_loop.shutdown();
                }
            }
            Timer::Every(_) => event_loop.shutdown(),
            Timer::Once => {}
            Timer::Cancelled => unreachable!("a cleared timer never fires"),
        }
    }
}

fn main() -> ExitCode {
    // It takes no arguments: refuse any, rather than ignore a typo.
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!("timers: unexpected argument {arg:?}");
        eprintln!("usage: timers");
        return ExitCode::from(2);
    }
    let mut event_loop = match Loop::new() {
        Ok(event_loop) => event_loop,
        Err(err) => {
            eprintln!("timers: cannot create the event loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let armed = [
        event_loop.timeout(Timer::Once, Duration::from_millis(250)),
        event_loop.timeout(Timer::Every(1), PERIOD),
        event_loop.timeout(Timer::Cancelled, Duration::from_millis(150)),
    ];
    let [Ok(_), Ok(_), Ok(cancelled)] = armed else {
        eprintln!("timers: cannot set the timers: {armed:?}");
        return ExitCode::FAILURE;
    };
    let cleared = event_loop.clear_timeout(cancelled);
    println!(
        "cleared the 150 ms timer: {cleared}; a second clear: {}",
        event_loop.clear_timeout(cancelled)
    );

    let mut demo = Demo { started };
    if let Err(err) = event_loop.run(&mut demo) {
        eprintln!("timers: event loop failed: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
