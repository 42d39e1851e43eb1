//! [`Signals`]: signals as readiness, read from a `signalfd(2)`.

use core::mem::{MaybeUninit, size_of};

use statio_core::{OsError, Source};
use statio_unix::error::check_retry;
use statio_unix::signal::{Claim, SignalError, SignalMask, SignalSet};
use statio_unix::{Fd, RawFd};

/// Signals delivered as events: a `signalfd(2)`, readable once a signal of its set is
/// pending; [`receive`](Self::receive) reads them.
///
/// The signals must be **blocked in every thread** (signalfd reads pending signals
/// only): call [`Signals::block`] first thing in `main`, before any thread is spawned,
/// and keep its guard. [`new`](Self::new) checks the calling thread. No disposition
/// is changed, and a blocked signal never interrupts a wait, so the loop never sees
/// `EINTR` from these signals. See [`statio_unix::signal`] for the semantics shared by
/// every port.
///
/// ```
/// use statio_core::{Events, Interest, PollOpt, Selector, Token};
/// use statio_epoll::{Epoll, Signals};
/// use statio_unix::signal::{SignalSet, SIGUSR1};
///
/// let set = SignalSet::new().with(SIGUSR1);
/// let _mask = Signals::block(set)?; // first thing in main
/// let mut signals = Signals::new(set)?;
/// let mut epoll = Epoll::new()?;
/// epoll.register(signals.raw_fd(), Token(0), Interest::READABLE, PollOpt::level())?;
///
/// // To this thread, which blocks it, so it stays pending (a process-directed kill could
/// // go to another thread of the process that does not block it, and end the process).
/// // SAFETY: pthread_kill on the calling thread has no memory preconditions.
/// unsafe { libc::pthread_kill(libc::pthread_self(), SIGUSR1) };
/// let mut events: Events<_, 4> = Events::new();
/// epoll.select(&mut events, Some(core::time::Duration::from_secs(5)))?;
/// assert_eq!(Epoll::token(&events.as_slice()[0]), Token(0));
/// assert_eq!(signals.receive()?, set);
/// assert!(signals.receive()?.is_empty());
/// # Ok::<(), statio_unix::signal::SignalError>(())
/// ```
#[derive(Debug)]
#[doc(alias = "signalfd")]
pub struct Signals {
    // Closed before the claim is released: a new owner never shares the signals.
    fd: Fd,
    claim: Claim,
}

impl Signals {
    /// Blocks `set` in the calling thread, which the threads it spawns afterwards
    /// inherit; the guard unblocks them again on drop (see [`SignalMask`]). Call it
    /// first thing in `main`.
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal Linux does not have or that cannot be
    /// caught; what `pthread_sigmask` refused.
    #[doc(alias = "pthread_sigmask")]
    pub fn block(set: SignalSet) -> Result<SignalMask, SignalError> {
        SignalMask::block(set)
    }

    /// Starts receiving `set`: claims it for this process's one owner, and opens a
    /// non-blocking, close-on-exec signalfd for it.
    ///
    /// Signals of the set already pending (blocked since start-up) are reported by
    /// the first [`receive`](Self::receive).
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal Linux does not have (32 and 33, which
    /// the C library reserves), or that cannot be caught (`SIGKILL`, `SIGSTOP`);
    /// [`SignalError::NotBlocked`] naming the first signal of `set` that the calling
    /// thread does not block; [`SignalError::Taken`] when another live `Signals` of
    /// the process has one of them; what `signalfd(2)` refused (out of descriptors).
    #[doc(alias = "signalfd")]
    pub fn new(set: SignalSet) -> Result<Signals, SignalError> {
        let sigset = set.sigset()?;
        if let Some(signal) = (set - SignalMask::blocked(set)?).first() {
            return Err(SignalError::NotBlocked(signal));
        }
        let claim = Claim::take(set)?;
        let flags = libc::SFD_NONBLOCK | libc::SFD_CLOEXEC;
        // SAFETY: `sigset` is a valid sigset_t for the call; -1 asks for a new
        // descriptor, which nothing else owns.
        let fd = unsafe { Fd::from_syscall(libc::signalfd(-1, &raw const sigset, flags)) }?;
        Ok(Signals { fd, claim })
    }

    /// The signals this source receives.
    pub fn set(&self) -> SignalSet {
        self.claim.set()
    }

    /// The signalfd, still owned by `self`: to register with a selector.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.raw()
    }

    /// The signals that arrived at least once since the last call (empty if none):
    /// reads the signalfd until it is empty, each `signalfd_siginfo` one arrival.
    ///
    /// Reads the signals pending for the process and for the calling thread: call it
    /// from the loop's thread, as the loop does.
    ///
    /// # Errors
    /// What `read(2)` refused other than `EAGAIN` (nothing, in practice).
    pub fn receive(&mut self) -> Result<SignalSet, OsError> {
        const BATCH: usize = 8;
        let mut arrived = SignalSet::new();
        let mut infos = [MaybeUninit::<libc::signalfd_siginfo>::uninit(); BATCH];
        loop {
            let read = check_retry(|| {
                // SAFETY: `infos` is writable for its whole size during the call.
                unsafe {
                    libc::read(
                        self.fd.raw(),
                        infos.as_mut_ptr().cast(),
                        size_of::<[libc::signalfd_siginfo; BATCH]>(),
                    )
                }
            });
            let bytes = match read {
                // Non-negative: the size read.
                Ok(n) => n as usize,
                Err(err) if err.code() == libc::EAGAIN => break,
                Err(err) => return Err(err),
            };
            // signalfd returns whole entries only (signalfd(2)).
            let count = bytes / size_of::<libc::signalfd_siginfo>();
            for info in &infos[..count] {
                // SAFETY: the kernel wrote the first `count` entries whole.
                let signo = unsafe { info.assume_init_ref() }.ssi_signo;
                // A signal of the set, so in 1..=64: the conversion cannot fail.
                let _ = arrived.insert(signo as i32);
            }
            if count < BATCH {
                break;
            }
        }
        Ok(arrived)
    }
}

impl Source<RawFd> for Signals {
    fn handle(&self) -> RawFd {
        self.fd.raw()
    }
}
