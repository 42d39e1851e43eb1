//! Signals as events: what every port's `Signals` source shares ([`SignalSet`],
//! [`SignalError`], [`SignalMask`]), the process-wide bookkeeping behind it, and the
//! self-pipe [`PipeSignals`] of the poll(2) port.
//!
//! A `Signals` is a source like a socket: register it under a token, and when it is
//! readable call `receive()`, which returns the signals that arrived at least once
//! since the last call. Each port has its own, with the same methods:
//!
//! | port | `Signals` | mechanism | signal mask | disposition while it lives |
//! |---|---|---|---|---|
//! | epoll | `statio_epoll::Signals` | `signalfd(2)` | **blocked in every thread** (`Signals::block` first thing in `main`); `new` fails with [`NotBlocked`](SignalError::NotBlocked) if the calling thread does not block it | unchanged |
//! | kqueue | `statio_kqueue::Signals` | a kqueue of its own with an `EVFILT_SIGNAL` filter per signal, readable in the loop's kqueue | unchanged | `SIG_IGN` (`SIGCHLD`: `SIG_DFL`), the previous one restored on drop |
//! | poll | `statio_poll::Signals` = [`PipeSignals`] | a handler writing into a self-pipe | unchanged (the handler must be able to run) | the handler (`SA_RESTART`), the previous one restored on drop |
//!
//! ```
//! use statio_unix::signal::{PipeSignals, SignalSet, SIGHUP, SIGINT, SIGTERM};
//!
//! const SET: SignalSet = SignalSet::new().with(SIGTERM).with(SIGINT).with(SIGHUP);
//! // First thing in main, before spawning threads: what epoll's signalfd needs, and
//! // nothing on the other ports. Keep the guard for the program's life.
//! let _mask = PipeSignals::block(SET)?;
//! let mut signals = PipeSignals::new(SET)?;
//! // ... event_loop.register(&signals, SIGNALS)?; then, when SIGNALS is readable:
//! for signal in signals.receive()? {
//!     match signal {
//!         SIGTERM | SIGINT => { /* stop accepting, close, event_loop.shutdown() */ }
//!         SIGHUP => { /* reload */ }
//!         _ => {}
//!     }
//! }
//! # Ok::<(), statio_unix::signal::SignalError>(())
//! ```
//!
//! # Semantics, on every port
//!
//! - **At least once since the last delivery.** The OS keeps one pending instance of a
//!   standard signal, and every mechanism here keeps one bit per signal: a hundred
//!   `SIGHUP`s before a `receive` are one `SIGHUP` in its set. A signal that arrives
//!   after a `receive` began is in the next one, and makes the source readable again:
//!   never lost. (Real-time signals queue in the kernel; here they coalesce too.)
//! - **Delivered only to the source that asked.** One `Signals` per signal per process:
//!   a second one for a signal that a live one holds fails with
//!   [`Taken`](SignalError::Taken) on every port (signalfd would hand each arrival to
//!   whichever reader comes first). A loop that did not ask gets no event. With several
//!   loops (one per core), give the signals to one of them and let it tell the others
//!   through their channels.
//! - **Readiness, not a queue.** Register level-triggered (the default) and call
//!   `receive` on each readable event; edge-triggered works as well, since `receive`
//!   empties the source.
//! - **Restored on drop.** The disposition a `Signals` installed is put back (the
//!   previous handler, `SIG_DFL`, or `SIG_IGN`), and so is the mask a
//!   [`SignalMask`] guard blocked. A signal that arrives afterwards meets the
//!   previous disposition.
//!
//! # Threads and masks
//!
//! signalfd reads only signals that are *pending*, so a signal must be blocked in
//! every thread: a process-directed signal (`kill`) goes to any thread that does not
//! block it, and there runs its disposition (for `SIGTERM` by default: the process
//! ends) instead of reaching the signalfd. Threads inherit the mask of the thread that
//! spawns them, so block once, in `main`, before the first thread is spawned:
//! `Signals::block(set)` (a [`SignalMask`] guard on epoll; a no-op elsewhere, so
//! portable code calls it on every port). `Signals::new` on epoll checks the calling
//! thread and fails with [`NotBlocked`](SignalError::NotBlocked) where it is not; the
//! other threads it cannot check: a thread spawned before the block (by a library, or
//! a test harness) can still take the signal.
//!
//! Child processes inherit the mask across `fork` and `exec`: reset it in the child
//! (`std::process::Command` does; a hand-written `fork` must).
//!
//! # `EINTR` and `SA_RESTART`
//!
//! - epoll: the signals are blocked, so they never interrupt anything: the loop's wait
//!   returns with the signalfd readable.
//! - poll: the handler runs in some thread that does not block the signal. If it is
//!   the loop's thread, its `poll` fails with `EINTR` (never restarted, `SA_RESTART` or
//!   not: signal(7)), the loop calls `Handler::interrupted` and its next turn reports
//!   the self-pipe readable. Other threads' calls that `SA_RESTART` covers (`read`,
//!   `write` on pipes and sockets without timeouts, `wait`) restart; the rest return
//!   `EINTR`, which statio's own socket calls retry.
//! - kqueue: the signals are ignored, so they interrupt nothing; `EVFILT_SIGNAL` records
//!   them all the same.
//!
//! # Limits
//!
//! - Signals 1 to 64 ([`SignalSet::MAX`]); each OS refuses its own invalid numbers
//!   ([`Unsupported`](SignalError::Unsupported)).
//! - The self-pipe of the poll port replaces the previous handler while it lives and
//!   does not call it. [`SELF_PIPES`] self-pipes at most per process.
//! - A child forked without `exec` keeps the handler and the pipe: a signal it
//!   receives wakes the parent's loop once, with an empty `receive`.

mod action;
mod claim;
mod lock;
mod mask;
mod pipe;
mod set;

use core::fmt;

use libc::c_int;
use statio_core::OsError;

pub use action::{Actions, Disposition, current};
pub use claim::Claim;
pub use mask::SignalMask;
pub use pipe::{PipeSignals, SELF_PIPES, SelfPipe};
pub use set::{Iter, SignalSet, name};

/// The signals a program usually watches, re-exported from `libc` (signal numbers
/// differ between systems: use the names).
pub use libc::{
    SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
};

/// Why a signal source could not be made.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignalError {
    /// This OS has no such signal (or its C library reserves it, as glibc does 32 and
    /// 33), or it cannot be caught (`SIGKILL`, `SIGSTOP`), or it is outside `1..=64`.
    Unsupported(c_int),
    /// The port reads signals from a signalfd, which needs them blocked, and the
    /// calling thread does not block this one: call `Signals::block` first thing in
    /// `main`, before any thread is spawned.
    NotBlocked(c_int),
    /// Another live `Signals` of this process has this signal (or, for a child
    /// watcher's `SIGCHLD`, holds it with another disposition).
    Taken(c_int),
    /// Every one of the process's `capacity` self-pipes is in use.
    Full {
        /// [`SELF_PIPES`].
        capacity: usize,
    },
    /// The OS refused a call.
    Os(OsError),
}

impl From<OsError> for SignalError {
    fn from(err: OsError) -> Self {
        SignalError::Os(err)
    }
}

/// The signal's POSIX name, or its number.
struct Named(c_int);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SignalError::Unsupported(signal) => write!(
                f,
                "{} cannot be received here: this OS lacks it, or it cannot be caught",
                Named(signal)
            ),
            SignalError::NotBlocked(signal) => write!(
                f,
                "{} is not blocked in this thread: call Signals::block first thing in main, \
                 before spawning threads",
                Named(signal)
            ),
            SignalError::Taken(signal) => write!(
                f,
                "{} belongs to another signal source of this process",
                Named(signal)
            ),
            SignalError::Full { capacity } => {
                write!(f, "all {capacity} self-pipes of this process are in use")
            }
            SignalError::Os(err) => write!(f, "OS error: {err}"),
        }
    }
}

impl core::error::Error for SignalError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SignalError::Os(err) => Some(err),
            _ => None,
        }
    }
}
