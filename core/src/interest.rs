//! [`Interest`] (which readiness to watch) and [`PollOpt`] (how it is reported).

use core::fmt;
use core::ops::BitOr;

/// The readiness a registration asks for: readable, writable, or both.
///
/// Error and hang-up conditions are always reported, whatever the interest, as the
/// kernels do (`EPOLLERR`/`EPOLLHUP`, `EV_EOF`, `POLLERR`/`POLLHUP`).
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Wake when the source can be read without blocking (or has reached EOF).
    pub const READABLE: Interest = Interest(0b01);
    /// Wake when the source can be written without blocking.
    pub const WRITABLE: Interest = Interest(0b10);
    /// Both [`READABLE`](Self::READABLE) and [`WRITABLE`](Self::WRITABLE).
    pub const BOTH: Interest = Interest(0b11);

    /// Whether this interest includes readability.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }

    /// Whether this interest includes writability.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }

    /// The union of two interests (`const` form of `|`).
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

/// How readiness is reported: level- or edge-triggered, and whether once only.
///
/// | option | reported | like |
/// |---|---|---|
/// | [`level`](Self::level) | every turn while the condition holds | `poll(2)`, epoll default |
/// | [`edge`](Self::edge) | when the condition becomes true; drain until would-block | `EPOLLET`, `EV_CLEAR` |
/// | [`oneshot`](Self::oneshot) | once, then disarmed until `reregister` | `EPOLLONESHOT`, `EV_ONESHOT` |
///
/// `edge().with_oneshot()` combines the two, as mio 0.2 allowed.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct PollOpt(u8);

impl PollOpt {
    const EDGE: u8 = 0b01;
    const ONESHOT: u8 = 0b10;

    /// Level-triggered, re-armed after every event (the default).
    pub const fn level() -> PollOpt {
        PollOpt(0)
    }

    /// Edge-triggered: one event per change of state.
    pub const fn edge() -> PollOpt {
        PollOpt(Self::EDGE)
    }

    /// Level-triggered, disarmed after the first event until reregistered.
    pub const fn oneshot() -> PollOpt {
        PollOpt(Self::ONESHOT)
    }

    /// These options, also disarmed after the first event.
    pub const fn with_oneshot(self) -> PollOpt {
        PollOpt(self.0 | Self::ONESHOT)
    }

    /// Whether events are edge-triggered.
    pub const fn is_edge(self) -> bool {
        self.0 & Self::EDGE != 0
    }

    /// Whether events are level-triggered.
    pub const fn is_level(self) -> bool {
        !self.is_edge()
    }

    /// Whether the registration disarms after one event.
    pub const fn is_oneshot(self) -> bool {
        self.0 & Self::ONESHOT != 0
    }
}

impl Default for PollOpt {
    fn default() -> Self {
        PollOpt::level()
    }
}

impl fmt::Debug for PollOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_edge() { "edge" } else { "level" })?;
        if self.is_oneshot() {
            f.write_str(" | oneshot")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_union_and_queries() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(both, Interest::BOTH);
        assert!(both.is_readable() && both.is_writable());
        assert!(!Interest::READABLE.is_writable());
        assert!(!Interest::WRITABLE.is_readable());
    }

    #[test]
    fn pollopt_combinations() {
        assert!(PollOpt::default().is_level());
        assert!(!PollOpt::level().is_oneshot());
        assert!(PollOpt::edge().is_edge());
        let eo = PollOpt::edge().with_oneshot();
        assert!(eo.is_edge() && eo.is_oneshot());
        assert!(PollOpt::oneshot().is_level() && PollOpt::oneshot().is_oneshot());
    }
}
