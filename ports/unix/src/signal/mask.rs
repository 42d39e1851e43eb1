//! [`SignalMask`]: signals blocked in the calling thread, for the ports whose source
//! needs them blocked (signalfd), and unblocked again on drop.

use core::marker::PhantomData;
use core::ptr;

use super::{SignalError, SignalSet};
use crate::error::from_errno;

/// What [`block`](SignalMask::block) added to the calling thread's signal mask; it is
/// taken out again on drop, in that thread (so the guard is neither `Send` nor `Sync`).
///
/// Threads inherit their creator's mask, so a guard made first thing in `main`, before
/// any thread is spawned, blocks the signals in every thread of the program, which is
/// what signalfd needs (see the [module docs](crate::signal#threads-and-masks)). A
/// signal that arrives while blocked and is not read stays pending, and on drop is
/// delivered as the disposition of that moment says.
#[derive(Debug)]
#[must_use = "dropping the guard unblocks the signals again"]
pub struct SignalMask {
    added: SignalSet,
    _thread: PhantomData<*const ()>,
}

impl SignalMask {
    /// Blocks `set` in the calling thread (`pthread_sigmask(SIG_BLOCK)`).
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal this OS does not have or that cannot be
    /// caught; what `pthread_sigmask` refused. The mask is unchanged then.
    #[doc(alias = "pthread_sigmask", alias = "sigprocmask")]
    pub fn block(set: SignalSet) -> Result<SignalMask, SignalError> {
        let wanted = set.sigset()?;
        let mut old = super::set::empty_sigset();
        // SAFETY: both sets are valid sigset_t values for the duration of the call.
        let ret =
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &raw const wanted, &raw mut old) };
        if ret != 0 {
            // pthread_sigmask returns the error number instead of setting errno.
            return Err(SignalError::Os(from_errno(ret)));
        }
        Ok(SignalMask {
            added: set - set.members_of(&old),
            _thread: PhantomData,
        })
    }

    /// A guard that changed nothing: what the ports that need no blocked signals
    /// return from their `Signals::block`.
    pub fn unchanged() -> SignalMask {
        SignalMask {
            added: SignalSet::new(),
            _thread: PhantomData,
        }
    }

    /// The signals this guard blocked (those of its set that were not blocked before).
    pub fn added(&self) -> SignalSet {
        self.added
    }

    /// The signals of `set` that the calling thread blocks.
    ///
    /// # Errors
    /// What `pthread_sigmask` refused (nothing, in practice).
    pub fn blocked(set: SignalSet) -> Result<SignalSet, SignalError> {
        let mut current = super::set::empty_sigset();
        // SAFETY: a NULL new set only queries; `current` is a valid sigset_t to fill.
        let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &raw mut current) };
        if ret != 0 {
            return Err(SignalError::Os(from_errno(ret)));
        }
        Ok(set.members_of(&current))
    }
}

impl Drop for SignalMask {
    fn drop(&mut self) {
        if let Ok(added) = self.added.sigset() {
            // Cannot fail: SIG_UNBLOCK with a valid set.
            // SAFETY: `added` is a valid sigset_t for the duration of the call.
            let _ = unsafe {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const added, ptr::null_mut())
            };
        }
    }
}
