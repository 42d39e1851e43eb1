//! Child processes as events: what every port's `Children` watcher shares ([`Pid`],
//! [`ExitStatus`], [`ChildExit`], [`ChildError`], the table of watched children), and
//! [`SigchldChildren`], the watcher of the poll(2) port, built on `SIGCHLD`.
//!
//! A `Children<N>` is a source like a socket: register it under a token, hand it the
//! pid of each child to watch (spawning is the caller's business: `fork`/`exec`,
//! `std::process::Command`), and when it is readable call `try_reap()` until it
//! returns `Ok(None)`: each call reaps one exited child and returns its status.
//!
//! | port | `Children<N>` | how an exit is seen |
//! |---|---|---|
//! | epoll | `statio_epoll::Children` | a pidfd per child (`pidfd_open(2)`, Linux 5.3), in an epoll instance of its own that the loop watches; where `pidfd_open` is missing (`ENOSYS`), `SIGCHLD` as on poll |
//! | kqueue | `statio_kqueue::Children` | an `EVFILT_PROC`/`NOTE_EXIT` filter per child, in a kqueue of its own that the loop watches |
//! | poll | `statio_poll::Children` = [`SigchldChildren`] | `SIGCHLD` through a self-pipe ([`SelfPipe`](crate::signal::SelfPipe)), then `waitpid(pid, WNOHANG)` for each watched child |
//!
//! ```
//! use std::process::Command;
//! use std::time::Duration;
//! use statio_unix::process::{Pid, SigchldChildren};
//!
//! let mut children: SigchldChildren<8> = SigchldChildren::new()?;
//! let child = Command::new("sh").args(["-c", "exit 3"]).spawn().expect("spawn sh");
//! children.watch(child.id() as Pid)?;
//! // In a loop: register `children` under a token, and on each readable event
//! //     while let Some(exit) = children.try_reap()? { ... }
//! // Here, without a loop, ask until the child has exited (at most 10 s).
//! let mut exit = None;
//! for _ in 0..10_000 {
//!     exit = children.try_reap()?;
//!     if exit.is_some() {
//!         break;
//!     }
//!     std::thread::sleep(Duration::from_millis(1));
//! }
//! let exit = exit.expect("sh exits");
//! assert_eq!((exit.pid, exit.status.code()), (child.id() as Pid, Some(3)));
//! assert!(children.is_empty());
//! # Ok::<(), statio_unix::process::ChildError>(())
//! ```
//!
//! # Semantics, on every port
//!
//! - **Reaped exactly once, by the watcher.** `try_reap` calls `waitpid` for the
//!   watched pid only, never `waitpid(-1)`, so other children of the process (another
//!   watcher's, `std::process::Child::wait`'s) keep their statuses. A reaped child
//!   leaves no zombie, and is no longer watched.
//! - **A child that exited before it was watched** is reported like any other: `watch`
//!   finds it (a zombie) and the watcher is readable at once.
//! - **`try_reap` until `Ok(None)`** on each readable event, as a reader reads until
//!   would-block: on the poll port the wake-up is consumed by the first call.
//! - **Not a child** (never ours, or reaped by someone else): `watch` fails with
//!   [`NotAChild`](ChildError::NotAChild); if another part of the program reaps a
//!   watched child first, `try_reap` returns that error for it once and forgets it.
//! - **Unwatched on drop**: dropping the watcher stops watching; children still
//!   running are neither killed nor reaped (their statuses stay for a `waitpid`).
//! - Stopped and continued children are not reported: only exits.
//!
//! # Limits
//!
//! - `N` children watched at once ([`Full`](ChildError::Full) beyond).
//! - `SIGCHLD` ignored (`SIG_IGN`) or `SA_NOCLDWAIT` makes the kernel reap children
//!   itself, leaving no status: the watchers refuse to start
//!   ([`AutoReap`](ChildError::AutoReap)).
//! - The poll port's watcher takes the `SIGCHLD` disposition (see
//!   [`SelfPipe`](crate::signal::SelfPipe)), shared with other self-pipes asking for
//!   it, and scans every watched child on each `SIGCHLD`: O(N) `waitpid` calls per
//!   wake-up, where pidfd and kqueue name the child that exited.

mod sigchld;
mod status;
mod watched;

use core::fmt;

use libc::c_int;
use statio_core::OsError;

use crate::error::check_retry;
use crate::signal::SignalError;

pub use sigchld::SigchldChildren;
pub use status::ExitStatus;
pub use watched::{State, Watched};

/// A process id.
pub type Pid = libc::pid_t;

/// One child's end: which child, and how it ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ChildExit {
    /// The child that ended, reaped now.
    pub pid: Pid,
    /// How it ended.
    pub status: ExitStatus,
}

/// Why a child could not be watched or reaped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildError {
    /// Not a child of this process (`ECHILD`), reaped by someone else already, or not a
    /// process id at all (0 or negative: `waitpid` would wait for a whole group).
    NotAChild(Pid),
    /// This watcher watches this child already.
    AlreadyWatched(Pid),
    /// The watcher watches its `capacity` children already.
    Full {
        /// The watcher's `N`.
        capacity: usize,
    },
    /// `SIGCHLD` is ignored (`SIG_IGN`) or has `SA_NOCLDWAIT`: the kernel reaps every
    /// child itself and keeps no status to report.
    AutoReap,
    /// The `SIGCHLD` self-pipe could not be set up.
    Signal(SignalError),
    /// The OS refused a call.
    Os(OsError),
}

impl From<OsError> for ChildError {
    fn from(err: OsError) -> Self {
        ChildError::Os(err)
    }
}

impl From<SignalError> for ChildError {
    fn from(err: SignalError) -> Self {
        ChildError::Signal(err)
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ChildError::NotAChild(pid) => write!(
                f,
                "process {pid} is not a child of this process, or was reaped already"
            ),
            ChildError::AlreadyWatched(pid) => write!(f, "child {pid} is watched already"),
            ChildError::Full { capacity } => {
                write!(f, "the watcher watches its {capacity} children already")
            }
            ChildError::AutoReap => f.write_str(
                "SIGCHLD is ignored or has SA_NOCLDWAIT: the kernel reaps children itself",
            ),
            ChildError::Signal(err) => write!(f, "SIGCHLD: {err}"),
            ChildError::Os(err) => write!(f, "OS error: {err}"),
        }
    }
}

impl core::error::Error for ChildError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ChildError::Signal(err) => Some(err),
            ChildError::Os(err) => Some(err),
            _ => None,
        }
    }
}

/// Fails with [`ChildError::AutoReap`] when the kernel reaps children unasked
/// (`SIGCHLD` set to `SIG_IGN`, or `SA_NOCLDWAIT`): every watcher checks on creation.
///
/// # Errors
/// [`ChildError::AutoReap`]; what `sigaction(2)` refused (nothing, in practice).
pub fn check_reapable() -> Result<(), ChildError> {
    let (handler, flags) = crate::signal::current(libc::SIGCHLD)?;
    if handler == libc::SIG_IGN || flags & libc::SA_NOCLDWAIT != 0 {
        return Err(ChildError::AutoReap);
    }
    Ok(())
}

/// Reaps `pid` if it has exited (`waitpid(pid, WNOHANG)`): `Ok(None)` while it runs.
///
/// # Errors
/// [`ChildError::NotAChild`] (`ECHILD`) for a pid that is not a child of this process
/// or was reaped already, or is not positive (never passed to `waitpid`: 0 and
/// negatives name process groups).
#[doc(alias = "waitpid")]
pub fn reap(pid: Pid) -> Result<Option<ExitStatus>, ChildError> {
    if pid <= 0 {
        return Err(ChildError::NotAChild(pid));
    }
    let mut status: c_int = 0;
    // EINTR is retried: with WNOHANG the call does not sleep, and the caller can do
    // nothing with an interruption.
    // SAFETY: `status` is writable for the call; `pid` is positive, one process only.
    let reaped = check_retry(|| unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) });
    match reaped {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(ExitStatus::from_raw(status))),
        Err(err) if err.code() == libc::ECHILD => Err(ChildError::NotAChild(pid)),
        Err(err) => Err(ChildError::Os(err)),
    }
}

/// Whether `pid` is a child of this process that has not been reaped, without reaping
/// it (`waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT)`).
///
/// # Errors
/// [`ChildError::NotAChild`] as for [`reap`]; what `waitid` refused.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[doc(alias = "waitid")]
pub fn check_child(pid: Pid) -> Result<(), ChildError> {
    if pid <= 0 {
        return Err(ChildError::NotAChild(pid));
    }
    let mut info = core::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
    // `pid` is positive: the cast to id_t is lossless.
    let id = pid as libc::id_t;
    let options = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: `info` is writable room for one siginfo_t, zeroed as waitid(2) asks for
    // WNOHANG (si_pid stays 0 when no child is waitable).
    let ret = check_retry(|| unsafe { libc::waitid(libc::P_PID, id, info.as_mut_ptr(), options) });
    match ret {
        Ok(_) => Ok(()),
        Err(err) if err.code() == libc::ECHILD => Err(ChildError::NotAChild(pid)),
        Err(err) => Err(ChildError::Os(err)),
    }
}
