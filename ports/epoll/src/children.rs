//! [`Children`]: child exits as readiness, through pidfds (Linux 5.3), or `SIGCHLD`
//! where pidfds are missing.

use core::time::Duration;

use libc::epoll_event;
use statio_core::{Events, Interest, PollOpt, Selector, Source, Token};
use statio_unix::error::last_error;
use statio_unix::process::{
    ChildError, ChildExit, Pid, SigchldChildren, Watched, check_child, check_reapable, reap,
};
use statio_unix::{Fd, RawFd};

use crate::Epoll;

/// Watches up to `N` child processes and reports each exit once, with its status,
/// reaping the child: no zombie is left.
///
/// Each child gets a pidfd (`pidfd_open(2)`, Linux 5.3), readable once it has exited,
/// in an epoll instance of the watcher's own: that instance is the source to register
/// (readable while an exit waits), and [`try_reap`](Self::try_reap) takes one pidfd
/// from it, reaps that child with `waitpid(pid, WNOHANG)` and closes the pidfd. O(1)
/// per exit, no signal involved.
///
/// Where `pidfd_open` is missing (`ENOSYS` before Linux 5.3, or `EPERM` from a seccomp
/// filter that does not know it), the watcher falls back to `SIGCHLD` through a
/// self-pipe, as the poll(2) port does ([`SigchldChildren`]); [`uses_pidfd`] says
/// which. See [`statio_unix::process`] for the semantics shared by every port.
///
/// [`uses_pidfd`]: Self::uses_pidfd
///
/// ```
/// use std::process::Command;
/// use statio_core::{Events, Interest, PollOpt, Selector, Token};
/// use statio_epoll::{Children, Epoll};
/// use statio_unix::process::Pid;
///
/// let mut children: Children<16> = Children::new()?;
/// let mut epoll = Epoll::new()?;
/// epoll.register(children.raw_fd(), Token(0), Interest::READABLE, PollOpt::level())?;
///
/// let child = Command::new("sh").args(["-c", "exit 7"]).spawn().expect("spawn sh");
/// children.watch(child.id() as Pid)?;
/// let mut events: Events<_, 4> = Events::new();
/// epoll.select(&mut events, Some(core::time::Duration::from_secs(10)))?;
/// assert_eq!(Epoll::token(&events.as_slice()[0]), Token(0));
/// let exit = children.try_reap()?.expect("sh has exited");
/// assert_eq!((exit.pid, exit.status.code()), (child.id() as Pid, Some(7)));
/// assert_eq!(children.try_reap()?, None);
/// # Ok::<(), statio_unix::process::ChildError>(())
/// ```
#[derive(Debug)]
#[doc(alias = "pidfd_open", alias = "waitpid", alias = "SIGCHLD")]
pub struct Children<const N: usize> {
    how: How<N>,
}

#[derive(Debug)]
enum How<const N: usize> {
    PidFd(PidFds<N>),
    Sigchld(SigchldChildren<N>),
}

/// The pidfd watcher: an epoll instance holding one pidfd per child, under the
/// child's slot as token.
#[derive(Debug)]
struct PidFds<const N: usize> {
    epoll: Epoll,
    watched: Watched<N>,
    pidfds: [Option<Fd>; N],
}

impl<const N: usize> Children<N> {
    /// A watcher with no child: pidfds if this kernel has them, else `SIGCHLD`.
    ///
    /// # Errors
    /// [`ChildError::AutoReap`] when `SIGCHLD` is ignored or has `SA_NOCLDWAIT` (no
    /// status would be left to report); what `epoll_create1(2)` refused; without
    /// pidfds, what [`SigchldChildren::new`] refuses.
    pub fn new() -> Result<Children<N>, ChildError> {
        check_reapable()?;
        // SAFETY: getpid has no preconditions and cannot fail.
        let how = match pidfd_open(unsafe { libc::getpid() }) {
            Ok(_probe) => How::PidFd(PidFds {
                epoll: Epoll::new()?,
                watched: Watched::new(),
                pidfds: [const { None }; N],
            }),
            Err(err) if err.code() == libc::ENOSYS || err.code() == libc::EPERM => {
                How::Sigchld(SigchldChildren::new()?)
            }
            Err(err) => return Err(ChildError::Os(err)),
        };
        Ok(Children { how })
    }

    /// Whether exits are seen through pidfds (`false`: through `SIGCHLD`).
    pub fn uses_pidfd(&self) -> bool {
        matches!(self.how, How::PidFd(_))
    }

    /// The descriptor to register for readability, still owned by `self`.
    pub fn raw_fd(&self) -> RawFd {
        match &self.how {
            How::PidFd(p) => p.epoll.raw_fd(),
            How::Sigchld(s) => s.raw_fd(),
        }
    }

    /// Starts watching the child `pid`. A child that has exited already (a zombie) is
    /// reported at once.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] when `pid` is not a child of this process, or was
    /// reaped already; [`ChildError::AlreadyWatched`]; [`ChildError::Full`] when `N`
    /// children are watched; what `pidfd_open` or `epoll_ctl` refused (out of
    /// descriptors).
    pub fn watch(&mut self, pid: Pid) -> Result<(), ChildError> {
        match &mut self.how {
            How::PidFd(p) => p.watch(pid),
            How::Sigchld(s) => s.watch(pid),
        }
    }

    /// Reaps one exited child and returns its pid and status; `Ok(None)` when none is
    /// waiting. Call it until `Ok(None)` on each readable event.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] for a watched child that something else reaped (it is
    /// forgotten; call again for the others); what `epoll_wait` refused (nothing, in
    /// practice).
    pub fn try_reap(&mut self) -> Result<Option<ChildExit>, ChildError> {
        match &mut self.how {
            How::PidFd(p) => p.try_reap(),
            How::Sigchld(s) => s.try_reap(),
        }
    }

    /// How many children are watched (not reaped yet).
    pub fn len(&self) -> usize {
        match &self.how {
            How::PidFd(p) => p.watched.len(),
            How::Sigchld(s) => s.len(),
        }
    }

    /// Whether no child is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<const N: usize> Source<RawFd> for Children<N> {
    fn handle(&self) -> RawFd {
        self.raw_fd()
    }
}

impl<const N: usize> PidFds<N> {
    fn watch(&mut self, pid: Pid) -> Result<(), ChildError> {
        let slot = self.watched.insert(pid)?;
        let watched = check_child(pid)
            .and_then(|()| pidfd_open(pid).map_err(|err| not_a_child(pid, err)))
            .and_then(|pidfd| {
                // Level-triggered: an exit not taken yet keeps the instance readable.
                let interest = Interest::READABLE;
                self.epoll
                    .register(pidfd.raw(), Token(slot), interest, PollOpt::level())?;
                Ok(pidfd)
            });
        match watched {
            Ok(pidfd) => {
                self.pidfds[slot] = Some(pidfd);
                Ok(())
            }
            Err(err) => {
                self.watched.remove(slot);
                Err(err)
            }
        }
    }

    fn try_reap(&mut self) -> Result<Option<ChildExit>, ChildError> {
        let mut ready: Events<epoll_event, 1> = Events::new();
        // A zero wait does not sleep; EINTR is retried all the same.
        loop {
            match self.epoll.select(&mut ready, Some(Duration::ZERO)) {
                Err(err) if err.is_interrupted() => continue,
                other => other?,
            }
            break;
        }
        let Some(event) = ready.as_slice().first() else {
            return Ok(None);
        };
        let slot = Epoll::token(event).0;
        let Some(pid) = self.watched.pid(slot) else {
            return Ok(None);
        };
        // A pidfd is readable once the child is a zombie (pidfd_poll: its thread
        // group has exited), which is when waitpid can reap it. `None` is not expected;
        // it would leave the pidfd readable, for the next call.
        let status = match reap(pid) {
            Ok(None) => return Ok(None),
            Ok(Some(status)) => Ok(status),
            Err(err) => Err(err),
        };
        // Closing the pidfd removes it from the epoll instance: nothing else holds it.
        self.pidfds[slot] = None;
        self.watched.remove(slot);
        status.map(|status| Some(ChildExit { pid, status }))
    }
}

/// `ESRCH` from `pidfd_open` after `check_child` found the child: someone reaped it
/// in between.
fn not_a_child(pid: Pid, err: statio_core::OsError) -> ChildError {
    if err.code() == libc::ESRCH {
        ChildError::NotAChild(pid)
    } else {
        ChildError::Os(err)
    }
}

/// A pidfd for `pid`, close-on-exec (pidfd_open(2) always sets it).
fn pidfd_open(pid: Pid) -> Result<Fd, statio_core::OsError> {
    // SAFETY: pidfd_open takes a pid and flags, no pointers.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if ret < 0 {
        return Err(last_error());
    }
    // A descriptor fits a c_int. SAFETY: a new descriptor that nothing else owns.
    Ok(unsafe { Fd::from_raw(ret as RawFd) })
}
