//! [`SignalSet`]: a fixed set of signal numbers, one bit each.

use core::fmt;
use core::ops::{BitAnd, BitOr, Sub};
use core::ptr;

use libc::c_int;

use super::SignalError;

/// A set of signal numbers from 1 to [`SignalSet::MAX`] (64), as one `u64`: `Copy`,
/// no allocation, usable in a `const`.
///
/// What is in the set is only numbers: whether this OS has each signal, and whether it
/// can be caught, is checked by [`sigset`](Self::sigset) (and so by every `Signals::new`).
///
/// ```
/// use statio_unix::signal::{SignalSet, SIGHUP, SIGINT, SIGTERM};
///
/// const STOP: SignalSet = SignalSet::new().with(SIGTERM).with(SIGINT);
/// let all = STOP | SignalSet::new().with(SIGHUP);
/// assert!(all.contains(SIGHUP) && !STOP.contains(SIGHUP));
/// assert_eq!(all.iter().collect::<Vec<_>>(), [SIGHUP, SIGINT, SIGTERM]);
/// ```
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash)]
pub struct SignalSet(u64);

impl SignalSet {
    /// The highest signal number a set holds (Linux's `SIGRTMAX`; macOS stops at 31,
    /// NetBSD at 63, and FreeBSD's real-time signals above 64 are out of reach).
    pub const MAX: c_int = 64;

    /// The empty set.
    pub const fn new() -> SignalSet {
        SignalSet(0)
    }

    /// This set and `signal`.
    ///
    /// # Panics
    /// When `signal` is not in `1..=64` (in a `const`, that is a compile error); use
    /// [`insert`](Self::insert) for numbers known only at run time.
    #[must_use]
    pub const fn with(self, signal: c_int) -> SignalSet {
        assert!(
            signal >= 1 && signal <= Self::MAX,
            "a signal number is in 1..=64"
        );
        SignalSet(self.0 | bit(signal))
    }

    /// Adds `signal`.
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] when `signal` is not in `1..=64`; the set is unchanged.
    pub fn insert(&mut self, signal: c_int) -> Result<(), SignalError> {
        if !(1..=Self::MAX).contains(&signal) {
            return Err(SignalError::Unsupported(signal));
        }
        self.0 |= bit(signal);
        Ok(())
    }

    /// Whether `signal` is in the set (never, for a number outside `1..=64`).
    pub const fn contains(self, signal: c_int) -> bool {
        signal >= 1 && signal <= Self::MAX && self.0 & bit(signal) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many signals the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The signals, lowest first.
    pub fn iter(self) -> Iter {
        Iter(self.0)
    }

    /// The lowest signal of the set, if any.
    pub const fn first(self) -> Option<c_int> {
        if self.0 == 0 {
            None
        } else {
            // At most 63, so the cast is lossless.
            Some(self.0.trailing_zeros() as c_int + 1)
        }
    }

    /// The set as its bits: bit `n - 1` stands for signal `n`.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The set of `bits` (bit `n - 1` stands for signal `n`).
    pub const fn from_bits(bits: u64) -> SignalSet {
        SignalSet(bits)
    }

    /// The set as the OS's `sigset_t`.
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] naming the first signal that this OS does not have
    /// (`sigaddset` refuses it: above `NSIG`, or reserved by the C library, as glibc's
    /// 32 and 33) or that cannot be caught (`SIGKILL`, `SIGSTOP`).
    pub fn sigset(self) -> Result<libc::sigset_t, SignalError> {
        let mut set = empty_sigset();
        for signal in self {
            // SAFETY: `set` is an initialised sigset_t; sigaddset only writes into it.
            let added = unsafe { libc::sigaddset(&raw mut set, signal) };
            if added != 0 || signal == libc::SIGKILL || signal == libc::SIGSTOP {
                return Err(SignalError::Unsupported(signal));
            }
        }
        Ok(set)
    }

    /// The signals of this set that `sigset` holds.
    pub fn members_of(self, sigset: &libc::sigset_t) -> SignalSet {
        let mut members = SignalSet::new();
        for signal in self {
            // SAFETY: `sigset` is a valid sigset_t; sigismember only reads it.
            if unsafe { libc::sigismember(ptr::from_ref(sigset), signal) } == 1 {
                members.0 |= bit(signal);
            }
        }
        members
    }
}

/// An empty `sigset_t`.
pub(crate) fn empty_sigset() -> libc::sigset_t {
    let mut set = core::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the whole set and cannot fail for a valid pointer.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// The bit of `signal`, which is in `1..=64`.
const fn bit(signal: c_int) -> u64 {
    1 << (signal - 1)
}

impl BitOr for SignalSet {
    type Output = SignalSet;
    fn bitor(self, other: SignalSet) -> SignalSet {
        SignalSet(self.0 | other.0)
    }
}

impl BitAnd for SignalSet {
    type Output = SignalSet;
    fn bitand(self, other: SignalSet) -> SignalSet {
        SignalSet(self.0 & other.0)
    }
}

impl Sub for SignalSet {
    type Output = SignalSet;
    /// The signals of `self` not in `other`.
    fn sub(self, other: SignalSet) -> SignalSet {
        SignalSet(self.0 & !other.0)
    }
}

impl IntoIterator for SignalSet {
    type Item = c_int;
    type IntoIter = Iter;
    fn into_iter(self) -> Iter {
        self.iter()
    }
}

impl FromIterator<c_int> for SignalSet {
    /// The set of every signal in `1..=64` that `iter` yields; other numbers are left out.
    fn from_iter<I: IntoIterator<Item = c_int>>(iter: I) -> SignalSet {
        let mut set = SignalSet::new();
        for signal in iter {
            let _ = set.insert(signal);
        }
        set
    }
}

/// The signals of a [`SignalSet`], lowest first.
#[derive(Clone, Debug)]
pub struct Iter(u64);

impl Iterator for Iter {
    type Item = c_int;
    fn next(&mut self) -> Option<c_int> {
        let first = SignalSet(self.0).first()?;
        self.0 &= self.0 - 1;
        Some(first)
    }
}

impl fmt::Debug for SignalSet {
    /// `{SIGINT, SIGTERM, 40}`: the POSIX names where known, else the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        for signal in *self {
            match name(signal) {
                Some(name) => set.entry(&format_args!("{name}")),
                None => set.entry(&signal),
            };
        }
        set.finish()
    }
}

/// The POSIX name of `signal` (`"SIGTERM"`), for the signals POSIX names and this OS
/// numbers; `None` for the others (real-time signals, OS extensions).
pub fn name(signal: c_int) -> Option<&'static str> {
    const NAMES: [(c_int, &str); 19] = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
        (libc::SIGCONT, "SIGCONT"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGWINCH, "SIGWINCH"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| *n == signal)
        .map(|&(_, name)| name)
}

#[cfg(test)]
mod tests {
    use std::format;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn holds_one_to_sixty_four() {
        let set = SignalSet::new().with(1).with(64).with(libc::SIGTERM);
        assert_eq!(set.iter().collect::<Vec<_>>(), [1, libc::SIGTERM, 64]);
        assert_eq!((set.len(), set.first()), (3, Some(1)));
        assert!(!set.contains(0) && !set.contains(65) && !set.contains(-1));
        let mut grown = SignalSet::new();
        assert_eq!(grown.insert(0), Err(SignalError::Unsupported(0)));
        assert_eq!(grown.insert(65), Err(SignalError::Unsupported(65)));
        assert!(grown.is_empty());
        grown.insert(64).unwrap();
        assert_eq!(grown, SignalSet::from_bits(1 << 63));
        assert_eq!(set - grown, SignalSet::new().with(1).with(libc::SIGTERM));
        assert_eq!(set & grown, grown);
        assert_eq!(
            [2, 0, 99, 2].into_iter().collect::<SignalSet>(),
            SignalSet::new().with(2)
        );
    }

    #[test]
    fn sigset_refuses_what_cannot_be_caught() {
        let ok = SignalSet::new().with(libc::SIGTERM).with(libc::SIGUSR1);
        let set = ok.sigset().unwrap();
        assert_eq!(
            SignalSet::new()
                .with(1)
                .with(libc::SIGTERM)
                .with(libc::SIGUSR1)
                .members_of(&set),
            ok
        );
        for bad in [libc::SIGKILL, libc::SIGSTOP] {
            assert_eq!(
                (ok.with(bad)).sigset().unwrap_err(),
                SignalError::Unsupported(bad)
            );
        }
    }

    #[test]
    fn debug_names_the_posix_signals() {
        let set = SignalSet::new()
            .with(libc::SIGTERM)
            .with(libc::SIGINT)
            .with(40);
        assert_eq!(format!("{set:?}"), "{SIGINT, SIGTERM, 40}");
    }
}
