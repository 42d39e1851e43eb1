//! [`Clock`]: where the loop reads monotonic time; [`Instant`], the time it reads; and
//! [`SimClock`], a clock the caller moves, for deterministic tests.
//!
//! ```
//! use core::time::Duration;
//! use statio_core::{Clock, Instant, SimClock};
//!
//! let clock = SimClock::new();
//! let start = clock.now();
//! assert_eq!(start, Instant::ZERO);
//! clock.advance(Duration::from_millis(1500));
//! assert_eq!(clock.now().duration_since(start), Duration::from_millis(1500));
//! assert_eq!(clock.now().ticks(Duration::from_millis(1)), 1500);
//! ```
//!
//! core has no `std::time::Instant`, so [`Instant`] is a count of nanoseconds since an
//! origin the clock picks (boot, for the Unix port's `CLOCK_MONOTONIC`); 64 bits of
//! nanoseconds last 584 years. Ports supply the real clock (`statio_unix::clock`).
//! Nothing here fails or panics: arithmetic saturates.

use core::cell::Cell;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in monotonic time: nanoseconds since the clock's origin.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Instant = Instant(0);

    /// The instant `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Instant {
        Instant(nanos)
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time from `earlier` to `self`; zero when `earlier` is later.
    pub const fn duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + by`, or `None` past 2^64 nanoseconds after the origin.
    pub const fn checked_add(self, by: Duration) -> Option<Instant> {
        let by = by.as_nanos();
        if by > u64::MAX as u128 {
            return None;
        }
        match self.0.checked_add(by as u64) {
            Some(nanos) => Some(Instant(nanos)),
            None => None,
        }
    }

    /// `self + by`, stopping at the last representable instant.
    pub const fn saturating_add(self, by: Duration) -> Instant {
        match self.checked_add(by) {
            Some(instant) => instant,
            None => Instant(u64::MAX),
        }
    }

    /// Whole ticks of length `tick` since the origin, rounded down (the tick an instant
    /// falls in); `u64::MAX` for a zero `tick`.
    pub const fn ticks(self, tick: Duration) -> u64 {
        let tick = tick.as_nanos();
        if tick == 0 {
            return u64::MAX;
        }
        (self.0 as u128 / tick) as u64
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating: see [`Instant::saturating_add`].
    fn add(self, by: Duration) -> Instant {
        self.saturating_add(by)
    }
}

impl Sub for Instant {
    type Output = Duration;

    /// Saturating: see [`Instant::duration_since`].
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

/// A monotonic clock: successive readings never decrease.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// A clock that moves only when told: tests drive timers with it deterministically,
/// under Miri and on bare metal.
///
/// Interior mutability (`Cell`) lets a test advance it while a loop holds `&SimClock`.
#[derive(Debug, Default)]
pub struct SimClock {
    now: Cell<u64>,
}

impl SimClock {
    /// A clock at its origin.
    pub const fn new() -> SimClock {
        SimClock::starting_at(Instant::ZERO)
    }

    /// A clock reading `at`.
    pub const fn starting_at(at: Instant) -> SimClock {
        SimClock {
            now: Cell::new(at.0),
        }
    }

    /// Moves the clock forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        self.now.set(Instant(self.now.get()).saturating_add(by).0);
    }

    /// Moves the clock to `at`, or leaves it when `at` is earlier: a clock is monotonic.
    pub fn set(&self, at: Instant) {
        if at.0 > self.now.get() {
            self.now.set(at.0);
        }
    }
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        Instant(self.now.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_moves_only_forward() {
        let clock = SimClock::starting_at(Instant::from_nanos(10));
        clock.advance(Duration::from_nanos(5));
        assert_eq!(clock.now(), Instant::from_nanos(15));
        clock.set(Instant::from_nanos(3));
        assert_eq!(clock.now(), Instant::from_nanos(15));
        clock.set(Instant::from_nanos(40));
        fn read(clock: impl Clock) -> Instant {
            clock.now()
        }
        assert_eq!(read(&clock).as_nanos(), 40);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Instant::from_nanos(u64::MAX));
    }

    #[test]
    fn instant_arithmetic_saturates() {
        let a = Instant::from_nanos(1_000);
        assert_eq!(a + Duration::from_nanos(500), Instant::from_nanos(1_500));
        assert_eq!(a.checked_add(Duration::MAX), None);
        assert_eq!(
            Instant::from_nanos(u64::MAX).checked_add(Duration::from_nanos(1)),
            None
        );
        assert_eq!(a - Instant::from_nanos(400), Duration::from_nanos(600));
        assert_eq!(Instant::from_nanos(400) - a, Duration::ZERO);
        assert_eq!(
            Instant::from_nanos(2_999_999).ticks(Duration::from_millis(1)),
            2
        );
        assert_eq!(a.ticks(Duration::ZERO), u64::MAX);
    }
}
