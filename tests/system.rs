//! The `signals` and `children` subjects of the conformance suite (tests/conformance),
//! for every port built on this OS, in a binary of their own without the test harness
//! (`harness = false` in Cargo.toml).
//!
//! They change process-wide state (dispositions, masks, `SIGCHLD`), and signalfd needs
//! its signals blocked in every thread: libtest's worker threads exist before any test
//! runs, and a case running beside another would take or interrupt its signals. Here
//! the main thread, the process's only one, runs each case in turn; the threads a case
//! spawns inherit the mask it set, and are joined before it returns. `kill(getpid())`
//! goes to the main thread first (complete_signal tries the thread-group leader), so a
//! signal the main thread takes is handled before `kill` returns. Each case is bounded
//! by turn caps.
//!
//! `cargo test --test system -- <filter>` runs the cases whose name contains `filter`.

#[path = "conformance/children.rs"]
mod children;
#[path = "conformance/signals.rs"]
mod signals;
#[path = "conformance/system.rs"]
#[macro_use]
mod system;
mod util;

use std::panic;
use std::process::ExitCode;

/// Appends to `$all` the cases of both subjects for the selector of
/// `statio::ports::$port`, named `$port::subject::case`.
macro_rules! cases {
    ($all:ident ; $port:ident :: $selector:ident, $mechanism:ident) => {
        $all.extend(cases!(@list $port, statio::ports::$port::$selector,
            signals {
                a_signal_arrives_as_an_event,
                a_storm_coalesces_into_one_delivery,
                a_concurrent_storm_loses_nothing_and_ends_quiet,
                a_signal_to_the_waiting_thread_is_an_event,
                a_held_signal_is_taken_until_dropped,
                two_loops_get_only_what_they_asked_for,
                drop_restores_the_disposition_and_the_mask,
                new_says_what_is_missing,
            }
            children {
                exits_arrive_with_their_status,
                a_child_that_exited_before_it_was_watched,
                a_hundred_children_exiting_at_once,
                only_watched_children_are_reaped,
                limits_are_errors_and_drop_reaps_nothing,
            }
        ))
    };
    (@list $port:ident, $selector:ty, $($subject:ident { $($case:ident),* $(,)? })*) => {
        [$($(
            (
                concat!(stringify!($port), "::", stringify!($subject), "::", stringify!($case)),
                $subject::$case::<$selector> as fn(),
            ),
        )*)*]
    };
}

fn main() -> ExitCode {
    let mut all: Vec<(&str, fn())> = Vec::new();
    for_each_system_port!(cases, all);

    // Arguments as libtest takes them: flags are ignored, the first word filters.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();

    // A stray SIGUSR1 or SIGUSR2 (one restored disposition too early) must not end
    // the binary: every case starts and ends with them ignored.
    for signal in [libc::SIGUSR1, libc::SIGUSR2] {
        // SAFETY: SIG_IGN with no flags and an empty mask.
        unsafe { libc::signal(signal, libc::SIG_IGN) };
    }

    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, case) in chosen.iter().copied() {
        // The guards a case holds unwind with it: its mask and dispositions come back.
        match panic::catch_unwind(case) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(name);
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failures: {failed:?}");
        ExitCode::FAILURE
    }
}
