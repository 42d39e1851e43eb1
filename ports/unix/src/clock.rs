//! [`MonotonicClock`]: the [`Clock`] of the Unix ports, read with
//! `clock_gettime(CLOCK_MONOTONIC)`.
//!
//! `CLOCK_MONOTONIC` never jumps with wall-clock changes (NTP steps, `settimeofday`);
//! its origin is unspecified (boot on Linux and the BSDs). Whether it counts time spent
//! suspended differs: Linux's does not (`CLOCK_BOOTTIME` would), macOS's does. A timer
//! on Linux therefore fires late by the length of a suspend, never early.
//! See clock_gettime(2) / clock_gettime(3p).

use statio_core::{Clock, Instant};

/// Monotonic time from `clock_gettime(CLOCK_MONOTONIC)`: one vDSO call on Linux, no
/// syscall in the common case.
#[derive(Copy, Clone, Debug, Default)]
pub struct MonotonicClock;

impl MonotonicClock {
    /// The clock; it holds no state.
    pub const fn new() -> MonotonicClock {
        MonotonicClock
    }
}

impl Clock for MonotonicClock {
    #[doc(alias = "clock_gettime")]
    fn now(&self) -> Instant {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let ret = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        // clock_gettime fails only with EFAULT (bad pointer: ours is valid) or EINVAL
        // (clock not supported: CLOCK_MONOTONIC is mandatory on every Unix we target).
        debug_assert_eq!(ret, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
        // Both fields are non-negative for CLOCK_MONOTONIC; u64 nanoseconds last 584 years.
        let nanos = (ts.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec as u64);
        Instant::from_nanos(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_never_goes_back() {
        let clock = MonotonicClock::new();
        let mut last = clock.now();
        assert!(last > Instant::ZERO);
        for _ in 0..1_000 {
            let now = clock.now();
            assert!(now >= last);
            last = now;
        }
    }
}
