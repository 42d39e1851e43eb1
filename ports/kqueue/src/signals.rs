//! [`Signals`]: signals as readiness, from `EVFILT_SIGNAL` filters in a kqueue of
//! their own.

use core::time::Duration;

use statio_core::{Events, OsError, Source};
use statio_unix::RawFd;
use statio_unix::signal::{
    Actions, Claim, Disposition, SIGCHLD, SignalError, SignalMask, SignalSet,
};

use crate::sys::{KEvent, KqueueFd};
use crate::system::{SystemEvent, add_signal_filters, system_event};

/// Signals delivered as events: a kqueue of its own holding an `EVFILT_SIGNAL` filter
/// per signal, readable in the loop's kqueue once one arrived;
/// [`receive`](Self::receive) reads them.
///
/// `EVFILT_SIGNAL` records each attempt to deliver a signal, even an ignored one
/// (kqueue(2)), so while a `Signals` lives its signals are set to `SIG_IGN` (they
/// would otherwise run their default action, ending the process for `SIGTERM`), except
/// `SIGCHLD`, set to `SIG_DFL`: an ignored `SIGCHLD` is not recorded, and makes the
/// kernel reap every child unasked. The previous dispositions come back on drop. No
/// mask is needed or changed, and an ignored signal interrupts no wait. See
/// [`statio_unix::signal`] for the semantics shared by every port.
///
/// ```
/// # #[cfg(kqueue)]
/// # fn main() -> Result<(), statio_unix::signal::SignalError> {
/// use statio_core::{Events, Interest, PollOpt, Selector, Token};
/// use statio_kqueue::{Kqueue, Signals};
/// use statio_unix::signal::{SignalSet, SIGUSR1};
///
/// let set = SignalSet::new().with(SIGUSR1);
/// let _mask = Signals::block(set)?; // nothing to block on kqueue: portable code calls it
/// let mut signals = Signals::new(set)?;
/// let mut kqueue: Kqueue<16> = Kqueue::new()?;
/// kqueue.register(signals.raw_fd(), Token(0), Interest::READABLE, PollOpt::level())?;
///
/// // SAFETY: kill has no memory preconditions; SIGUSR1 is ignored now, and recorded.
/// unsafe { libc::kill(libc::getpid(), SIGUSR1) };
/// let mut events: Events<_, 4> = Events::new();
/// kqueue.select(&mut events, Some(core::time::Duration::from_secs(5)))?;
/// assert_eq!(Kqueue::<16>::token(&events.as_slice()[0]), Token(0));
/// assert_eq!(signals.receive()?, set);
/// # Ok(())
/// # }
/// # #[cfg(not(kqueue))]
/// # fn main() {}
/// ```
#[derive(Debug)]
#[doc(alias = "EVFILT_SIGNAL")]
pub struct Signals {
    // Dropped in this order: the filters (with their kqueue), the dispositions, the
    // claim, so a new owner finds everything as it was.
    kq: KqueueFd,
    _ignored: Actions,
    _defaulted: Actions,
    claim: Claim,
}

impl Signals {
    /// Changes nothing and returns a guard that restores nothing: `EVFILT_SIGNAL`
    /// needs no blocked signal. Portable code calls it first thing in `main`, for the
    /// epoll port's sake.
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal this OS does not have or that cannot
    /// be caught, as `new` would say.
    pub fn block(set: SignalSet) -> Result<SignalMask, SignalError> {
        set.sigset()?;
        Ok(SignalMask::unchanged())
    }

    /// Starts receiving `set`: claims it for this process's one owner, opens a kqueue
    /// with a filter per signal, then sets the dispositions (filters first: a signal in
    /// between meets its old disposition rather than being ignored unrecorded).
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal this OS does not have (macOS stops at
    /// 31) or that cannot be caught; [`SignalError::Taken`] when another live
    /// `Signals` of the process has one of them, or a self-pipe catches it;
    /// what `kqueue(2)`, `kevent(2)` or `sigaction(2)` refused.
    pub fn new(set: SignalSet) -> Result<Signals, SignalError> {
        set.sigset()?;
        let claim = Claim::take(set)?;
        let kq = KqueueFd::open()?;
        add_signal_filters(&kq, set)?;
        let chld = SignalSet::new().with(SIGCHLD);
        let ignored = Actions::install(set - chld, Disposition::Ignore)?;
        let defaulted = Actions::install(set & chld, Disposition::Default)?;
        Ok(Signals {
            kq,
            _ignored: ignored,
            _defaulted: defaulted,
            claim,
        })
    }

    /// The signals this source receives.
    pub fn set(&self) -> SignalSet {
        self.claim.set()
    }

    /// The kqueue descriptor, still owned by `self`: to register with a selector.
    pub fn raw_fd(&self) -> RawFd {
        self.kq.raw()
    }

    /// The signals that arrived at least once since the last call (empty if none):
    /// takes every pending event of this source's kqueue, without waiting.
    ///
    /// # Errors
    /// What `kevent(2)` refused (nothing, in practice).
    #[allow(
        clippy::unnecessary_cast,
        reason = "the field types differ per OS: a cast that widens on one is the identity on another"
    )]
    pub fn receive(&mut self) -> Result<SignalSet, OsError> {
        const BATCH: usize = 16;
        let mut arrived = SignalSet::new();
        loop {
            let mut events: Events<KEvent, BATCH> = Events::new();
            match self.kq.wait(&mut events, Some(Duration::ZERO)) {
                // A zero wait does not sleep: retried.
                Err(err) if err.is_interrupted() => continue,
                other => other?,
            }
            for event in events.as_slice() {
                let e = &event.0;
                if let SystemEvent::Signal(signal) = system_event(
                    e.filter as i32,
                    e.ident as usize,
                    e.fflags as u32,
                    event.token(),
                ) {
                    let _ = arrived.insert(signal);
                }
            }
            if events.as_slice().len() < BATCH {
                return Ok(arrived);
            }
        }
    }
}

impl Source<RawFd> for Signals {
    fn handle(&self) -> RawFd {
        self.kq.raw()
    }
}
