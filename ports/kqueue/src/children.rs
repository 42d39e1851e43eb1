//! [`Children`]: child exits as readiness, from `EVFILT_PROC`/`NOTE_EXIT` filters in a
//! kqueue of their own.

use core::time::Duration;

use statio_core::{Events, Selector, Source, Wake};
use statio_unix::RawFd;
use statio_unix::process::{ChildError, ChildExit, Pid, State, Watched, check_reapable, reap};

use crate::sys::KEvent;
use crate::system::{ExitFilter, SystemEvent, add_exit_filter, system_event};
use crate::{Kqueue, KqueueWaker};

/// Watches up to `N` child processes and reports each exit once, with its status,
/// reaping the child: no zombie is left.
///
/// Each child gets an `EVFILT_PROC` filter with `NOTE_EXIT` in a kqueue of the
/// watcher's own, under the child's slot: that kqueue is the source to register
/// (readable while an exit waits), and [`try_reap`](Self::try_reap) takes one event
/// from it and reaps that child with `waitpid(pid, WNOHANG)`. O(1) per exit, no signal
/// involved.
///
/// Two kernel windows are covered with the watcher's own wake-up (`EVFILT_USER`, a pipe
/// on OpenBSD), which makes its kqueue readable: a child already reaped by `watch` (it
/// had exited), and a child whose `NOTE_EXIT` came before it was waitable (FreeBSD's
/// exit1 posts the note before the process becomes a zombie), which the next call
/// reaps. `ESRCH` from adding the filter (XNU does not attach to a zombie) is the
/// second case. See [`statio_unix::process`] for the semantics shared by every port.
///
/// ```
/// # #[cfg(kqueue)]
/// # fn main() -> Result<(), statio_unix::process::ChildError> {
/// use std::process::Command;
/// use statio_core::{Events, Interest, PollOpt, Selector, Token};
/// use statio_kqueue::{Children, Kqueue};
/// use statio_unix::process::Pid;
///
/// let mut children: Children<16> = Children::new()?;
/// let mut kqueue: Kqueue<16> = Kqueue::new()?;
/// kqueue.register(children.raw_fd(), Token(0), Interest::READABLE, PollOpt::level())?;
///
/// let child = Command::new("sh").args(["-c", "exit 7"]).spawn().expect("spawn sh");
/// children.watch(child.id() as Pid)?;
/// let mut exit = None;
/// for _ in 0..100 {
///     let mut events: Events<_, 4> = Events::new();
///     kqueue.select(&mut events, Some(core::time::Duration::from_millis(100)))?;
///     exit = children.try_reap()?;
///     if exit.is_some() {
///         break;
///     }
/// }
/// let exit = exit.expect("sh has exited");
/// assert_eq!((exit.pid, exit.status.code()), (child.id() as Pid, Some(7)));
/// # Ok(())
/// # }
/// # #[cfg(not(kqueue))]
/// # fn main() {}
/// ```
#[derive(Debug)]
#[doc(alias = "EVFILT_PROC", alias = "NOTE_EXIT", alias = "waitpid")]
pub struct Children<const N: usize> {
    // The waker holds a `dup` of the kqueue: dropped first.
    waker: KqueueWaker,
    kqueue: Kqueue<2>,
    watched: Watched<N>,
    /// How many watched children are not `Running` (reaped at `watch`, or exiting).
    pending: usize,
}

impl<const N: usize> Children<N> {
    /// A watcher with no child.
    ///
    /// # Errors
    /// [`ChildError::AutoReap`] when `SIGCHLD` is ignored or has `SA_NOCLDWAIT` (no
    /// status would be left to report); what `kqueue(2)` or `kevent(2)` refused.
    pub fn new() -> Result<Children<N>, ChildError> {
        check_reapable()?;
        let mut kqueue = Kqueue::new()?;
        let waker = kqueue.waker()?;
        Ok(Children {
            waker,
            kqueue,
            watched: Watched::new(),
            pending: 0,
        })
    }

    /// The kqueue descriptor to register for readability, still owned by `self`.
    pub fn raw_fd(&self) -> RawFd {
        self.kqueue.raw_fd()
    }

    /// Starts watching the child `pid`. A child that has exited already is reaped
    /// now and reported by the next `try_reap`, the watcher readable at once.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] when `pid` is not a child of this process, or was
    /// reaped already; [`ChildError::AlreadyWatched`]; [`ChildError::Full`] when `N`
    /// children are watched; what `kevent(2)` refused.
    pub fn watch(&mut self, pid: Pid) -> Result<(), ChildError> {
        let slot = self.watched.insert(pid)?;
        let found = reap(pid).and_then(|reaped| match reaped {
            Some(status) => Ok(State::Reaped(status)),
            None => match add_exit_filter(self.kqueue.kq(), pid, slot)? {
                ExitFilter::Added => Ok(State::Running),
                ExitFilter::Exiting => Ok(State::Exiting),
            },
        });
        match found {
            Ok(State::Running) => Ok(()),
            Ok(state) => {
                self.watched.set_state(slot, state);
                self.pending += 1;
                self.waker.wake()?;
                Ok(())
            }
            Err(err) => {
                self.watched.remove(slot);
                Err(err)
            }
        }
    }

    /// Reaps one exited child and returns its pid and status; `Ok(None)` when none is
    /// waiting. Call it until `Ok(None)` on each readable event.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] for a watched child that something else reaped (it is
    /// forgotten; call again for the others); what `kevent(2)` refused (nothing, in
    /// practice).
    #[allow(
        clippy::unnecessary_cast,
        reason = "the field types differ per OS: a cast that widens on one is the identity on another"
    )]
    pub fn try_reap(&mut self) -> Result<Option<ChildExit>, ChildError> {
        if let Some(found) = self.take_pending()? {
            return Ok(Some(found));
        }
        loop {
            let mut events: Events<KEvent, 1> = Events::new();
            match self.kqueue.select(&mut events, Some(Duration::ZERO)) {
                // A zero wait does not sleep: retried.
                Err(err) if err.is_interrupted() => continue,
                other => other?,
            }
            let Some(event) = events.as_slice().first() else {
                break;
            };
            let e = &event.0;
            let kind = system_event(
                e.filter as i32,
                e.ident as usize,
                e.fflags as u32,
                event.token(),
            );
            let SystemEvent::Exit(slot) = kind else {
                // The wake-up: what it announced was taken above.
                continue;
            };
            let Some(pid) = self.watched.pid(slot) else {
                continue;
            };
            match reap(pid) {
                Ok(Some(status)) => {
                    self.watched.remove(slot);
                    return Ok(Some(ChildExit { pid, status }));
                }
                // Noted, not yet a zombie: reaped by a later call.
                Ok(None) => {
                    self.watched.set_state(slot, State::Exiting);
                    self.pending += 1;
                }
                Err(err) => {
                    self.watched.remove(slot);
                    return Err(err);
                }
            }
        }
        if self.pending > 0 {
            // Exiting children remain: look again after the next wake-up, one per turn,
            // rather than spin here.
            self.waker.wake()?;
        }
        Ok(None)
    }

    /// Returns a child reaped at `watch`, or reaps one that was exiting; `None` when
    /// no pending child is ready. O(N), only while children are pending.
    fn take_pending(&mut self) -> Result<Option<ChildExit>, ChildError> {
        let mut start = 0;
        while self.pending > 0 {
            let Some(slot) = self.watched.first_not_running(start) else {
                break;
            };
            start = slot + 1;
            let Some(pid) = self.watched.pid(slot) else {
                continue;
            };
            let status = match self.watched.state(slot) {
                Some(State::Reaped(status)) => Ok(status),
                _ => match reap(pid) {
                    Ok(None) => continue,
                    Ok(Some(status)) => Ok(status),
                    Err(err) => Err(err),
                },
            };
            self.watched.remove(slot);
            self.pending -= 1;
            return status.map(|status| Some(ChildExit { pid, status }));
        }
        Ok(None)
    }

    /// How many children are watched (not reaped yet).
    pub fn len(&self) -> usize {
        self.watched.len()
    }

    /// Whether no child is watched.
    pub fn is_empty(&self) -> bool {
        self.watched.is_empty()
    }
}

impl<const N: usize> Source<RawFd> for Children<N> {
    fn handle(&self) -> RawFd {
        self.raw_fd()
    }
}
