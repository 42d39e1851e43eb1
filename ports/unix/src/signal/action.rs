//! [`Actions`]: the process-wide dispositions that the signal sources install, each
//! saved when first installed and restored when its last user is gone.

use core::mem::{self, MaybeUninit};
use core::ptr;

use libc::c_int;

use super::lock::SpinLock;
use super::{SignalError, SignalSet, pipe};
use crate::error::last_error;

/// What a signal does while a source holds it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_IGN`: kqueue's `EVFILT_SIGNAL` records the attempt all the same.
    Ignore,
    /// `SIG_DFL`: for `SIGCHLD` on kqueue, which an ignored `SIGCHLD` would not record,
    /// and whose `SIG_IGN` would reap every child unasked.
    Default,
    /// The self-pipe handler (`SA_RESTART`): it marks the signal arrived and writes
    /// into the pipe of every source that asked for it.
    Catch,
}

/// One signal's entry: how many holders, what they installed, what was there before.
#[derive(Copy, Clone)]
struct Entry {
    holders: u32,
    installed: Disposition,
    saved: MaybeUninit<libc::sigaction>,
}

/// Indexed by signal number (0 unused).
static TABLE: SpinLock<[Entry; 65]> = SpinLock::new(
    [Entry {
        holders: 0,
        installed: Disposition::Default,
        saved: MaybeUninit::uninit(),
    }; 65],
);

/// Holds the disposition of a set of signals; the first holder of a signal installs it
/// (saving the previous one) and the last restores what was there before.
///
/// Holders of one signal must agree: a `Catch` and an `Ignore` cannot both hold it.
#[derive(Debug)]
pub struct Actions(SignalSet);

impl Actions {
    /// Installs `disposition` for every signal of `set` (already checked with
    /// [`SignalSet::sigset`]).
    ///
    /// # Errors
    /// [`SignalError::Taken`] when another holder installed a different disposition
    /// for one of the signals; what `sigaction(2)` refused. Nothing is held then.
    pub fn install(set: SignalSet, disposition: Disposition) -> Result<Actions, SignalError> {
        let mut table = TABLE.lock();
        let mut held = SignalSet::new();
        for signal in set {
            if let Err(err) = hold(&mut table, signal, disposition) {
                for signal in held {
                    release(&mut table, signal);
                }
                return Err(err);
            }
            held = held.with(signal);
        }
        Ok(Actions(set))
    }
}

impl Drop for Actions {
    fn drop(&mut self) {
        let mut table = TABLE.lock();
        for signal in self.0 {
            release(&mut table, signal);
        }
    }
}

/// The slot of `signal`, in `1..=64` (a [`SignalSet`] member).
fn slot(signal: c_int) -> usize {
    // In 1..=64: lossless.
    signal as usize
}

fn hold(
    table: &mut [Entry; 65],
    signal: c_int,
    disposition: Disposition,
) -> Result<(), SignalError> {
    let entry = &mut table[slot(signal)];
    if entry.holders > 0 {
        if entry.installed != disposition {
            return Err(SignalError::Taken(signal));
        }
        entry.holders += 1;
        return Ok(());
    }
    let action = new_action(disposition);
    // SAFETY: `action` is a valid sigaction; `saved` is writable room for one, which
    // the kernel fills on success.
    if unsafe { libc::sigaction(signal, &raw const action, entry.saved.as_mut_ptr()) } != 0 {
        return Err(SignalError::Os(last_error()));
    }
    entry.holders = 1;
    entry.installed = disposition;
    Ok(())
}

fn release(table: &mut [Entry; 65], signal: c_int) {
    let entry = &mut table[slot(signal)];
    entry.holders -= 1;
    if entry.holders == 0 {
        // Cannot fail: the signal and the saved action were accepted before.
        // SAFETY: `saved` was filled by the sigaction call that installed ours.
        let _ = unsafe { libc::sigaction(signal, entry.saved.as_ptr(), ptr::null_mut()) };
    }
}

fn new_action(disposition: Disposition) -> libc::sigaction {
    // SAFETY: sigaction is plain data (integers, a handler address, a sigset_t), for
    // which all-zero bytes are valid: no flags, an empty mask, SIG_DFL.
    let mut action: libc::sigaction = unsafe { mem::zeroed() };
    action.sa_sigaction = match disposition {
        Disposition::Ignore => libc::SIG_IGN,
        Disposition::Default => libc::SIG_DFL,
        Disposition::Catch => {
            // SA_RESTART: the program's other blocking calls (a read in another thread)
            // go on after the handler; the selectors' waits return EINTR whatever the
            // flag (signal(7): epoll_wait, poll and kevent are never restarted).
            action.sa_flags = libc::SA_RESTART;
            pipe::on_signal as extern "C" fn(c_int) as libc::sighandler_t
        }
    };
    action
}

/// What `signal`'s disposition is now: `SIG_DFL`, `SIG_IGN` or a handler's address, and
/// its flags.
///
/// # Errors
/// What `sigaction(2)` refused (`EINVAL` for a signal this OS does not have).
pub fn current(signal: c_int) -> Result<(libc::sighandler_t, c_int), SignalError> {
    let mut old = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: a NULL new action only queries; `old` is room for the answer.
    if unsafe { libc::sigaction(signal, ptr::null(), old.as_mut_ptr()) } != 0 {
        return Err(SignalError::Os(last_error()));
    }
    // SAFETY: sigaction succeeded and filled `old`.
    let old = unsafe { old.assume_init() };
    Ok((old.sa_sigaction, old.sa_flags))
}
