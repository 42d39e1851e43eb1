//! [`Claim`]: which signals a `Signals` of this process owns, one owner per signal.

use core::sync::atomic::{AtomicU64, Ordering};

use super::{SignalError, SignalSet};

/// The signals some live [`Claim`] holds, one bit each.
static CLAIMED: AtomicU64 = AtomicU64::new(0);

/// Ownership of a set of signals by one `Signals` of this process, released on drop.
///
/// One owner per signal, on every port: signalfd hands each arrival to whichever
/// descriptor reads it first, so two `Signals` for one signal would each see some of
/// its arrivals. A second claim is an error instead, the same everywhere.
#[derive(Debug)]
pub struct Claim(SignalSet);

impl Claim {
    /// Claims `set` for the caller.
    ///
    /// # Errors
    /// [`SignalError::Taken`] naming the lowest signal of `set` that another live claim
    /// holds; nothing is claimed then.
    pub fn take(set: SignalSet) -> Result<Claim, SignalError> {
        // A compare-exchange loop, not `fetch_update`: nightly renames it, stable
        // (the crate's rust-version) lacks the new name.
        let mut held = CLAIMED.load(Ordering::Acquire);
        loop {
            let taken = SignalSet::from_bits(held) & set;
            if let Some(signal) = taken.first() {
                return Err(SignalError::Taken(signal));
            }
            // AcqRel on success, Acquire on failure: claims and releases of one signal
            // form a single modification order of CLAIMED, so two claims never both
            // succeed, and a claim sees the teardown of the release before it.
            match CLAIMED.compare_exchange_weak(
                held,
                held | set.bits(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Claim(set)),
                Err(now) => held = now,
            }
        }
    }

    /// The signals claimed.
    pub fn set(&self) -> SignalSet {
        self.0
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Release: the owner's teardown (dispositions restored, descriptors closed)
        // happens before a new claim of these signals can succeed.
        CLAIMED.fetch_and(!self.0.bits(), Ordering::Release);
    }
}
