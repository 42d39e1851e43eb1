//! [`SigchldChildren`]: a child watcher woken by `SIGCHLD` through a self-pipe.

use statio_core::Source;

use super::watched::State;
use super::{ChildError, ChildExit, Pid, Watched, check_reapable, reap};
use crate::RawFd;
use crate::signal::{SIGCHLD, SelfPipe, SignalSet};

/// Watches up to `N` children through `SIGCHLD`: the poll(2) port's `Children`, and
/// the epoll port's where `pidfd_open` is missing. See [the module docs](super).
///
/// A [`SelfPipe`] for `SIGCHLD` is the source: readable once a child of the process
/// changed state since the last scan. `try_reap` then scans the watched children with
/// `waitpid(pid, WNOHANG)`, from where the last call stopped, and returns the first
/// that exited; several such watchers share `SIGCHLD` (each scans its own children).
#[derive(Debug)]
pub struct SigchldChildren<const N: usize> {
    pipe: SelfPipe,
    watched: Watched<N>,
    /// The next slot to look at, while a scan is under way.
    scan: Option<usize>,
}

impl<const N: usize> SigchldChildren<N> {
    /// A watcher with no child, and the `SIGCHLD` handler installed.
    ///
    /// # Errors
    /// [`ChildError::AutoReap`] when `SIGCHLD` is ignored or has `SA_NOCLDWAIT`;
    /// [`ChildError::Signal`] when the self-pipe cannot be set up (all in use, or
    /// `SIGCHLD` held with another disposition by a kqueue `Signals`).
    pub fn new() -> Result<SigchldChildren<N>, ChildError> {
        check_reapable()?;
        Ok(SigchldChildren {
            pipe: SelfPipe::open(SignalSet::new().with(SIGCHLD))?,
            watched: Watched::new(),
            scan: None,
        })
    }

    /// Starts watching the child `pid`. If it has exited already, it is reaped now
    /// and reported by the next `try_reap`, the watcher readable at once.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] when `pid` is not a child of this process (or was
    /// reaped); [`ChildError::AlreadyWatched`]; [`ChildError::Full`].
    pub fn watch(&mut self, pid: Pid) -> Result<(), ChildError> {
        let slot = self.watched.insert(pid)?;
        match reap(pid) {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                self.watched.set_reaped(slot, status);
                // Makes the pipe readable, as the SIGCHLD that came before would have.
                self.pipe.notify(SIGCHLD);
                Ok(())
            }
            Err(err) => {
                self.watched.remove(slot);
                Err(err)
            }
        }
    }

    /// Reaps one exited child and returns its status; `Ok(None)` when no watched child
    /// has exited since the last call returned `Ok(None)`. Call it until then.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] for a watched child that something else reaped (it is
    /// forgotten; call again for the others); what `read(2)` refused (nothing, in
    /// practice).
    pub fn try_reap(&mut self) -> Result<Option<ChildExit>, ChildError> {
        loop {
            let Some(start) = self.scan else {
                // Reads the pipe empty first: a SIGCHLD after this is a new scan.
                if !self.pipe.take()?.contains(SIGCHLD) {
                    return Ok(None);
                }
                self.scan = Some(0);
                continue;
            };
            for slot in start..N {
                self.scan = Some(slot + 1);
                let Some(pid) = self.watched.pid(slot) else {
                    continue;
                };
                let status = match self.watched.state(slot) {
                    Some(State::Reaped(status)) => status,
                    _ => match reap(pid) {
                        Ok(None) => continue,
                        Ok(Some(status)) => status,
                        Err(err) => {
                            self.watched.remove(slot);
                            return Err(err);
                        }
                    },
                };
                self.watched.remove(slot);
                return Ok(Some(ChildExit { pid, status }));
            }
            self.scan = None;
        }
    }

    /// The self-pipe's read end, still owned by `self`: to register with a selector.
    pub fn raw_fd(&self) -> RawFd {
        self.pipe.raw_fd()
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

impl<const N: usize> Source<RawFd> for SigchldChildren<N> {
    fn handle(&self) -> RawFd {
        self.pipe.raw_fd()
    }
}
