//! [`Ready`]: the readiness one event reports.

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

/// The set of conditions one event reports for a source; also the hint
/// [`Handler::readable`](crate::Handler::readable) receives (mio 0.2's `ReadHint`).
///
/// `read_closed` and `write_closed` may have false negatives (not every kernel
/// reports a half-close) but never false positives: when set, the peer really shut
/// that direction down. `hup` means both directions are closed; `error` means a
/// pending socket error (read it with `take_error`).
#[doc(alias = "ReadHint")]
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Ready(u8);

impl Ready {
    /// No condition.
    pub const EMPTY: Ready = Ready(0);
    /// Data (or EOF) can be read without blocking.
    pub const READABLE: Ready = Ready(1 << 0);
    /// Data can be written without blocking.
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// An error is pending on the source.
    pub const ERROR: Ready = Ready(1 << 2);
    /// Hang-up: both directions are closed.
    pub const HUP: Ready = Ready(1 << 3);
    /// The peer shut down its writing side: reads reach EOF.
    pub const READ_CLOSED: Ready = Ready(1 << 4);
    /// The writing side is closed: writes fail.
    pub const WRITE_CLOSED: Ready = Ready(1 << 5);
    /// Out-of-band or priority data is available (`EPOLLPRI`, `POLLPRI`).
    pub const PRIORITY: Ready = Ready(1 << 6);

    /// Whether `READABLE` is set.
    pub const fn is_readable(self) -> bool {
        self.contains(Self::READABLE)
    }
    /// Whether `WRITABLE` is set.
    pub const fn is_writable(self) -> bool {
        self.contains(Self::WRITABLE)
    }
    /// Whether `ERROR` is set.
    pub const fn is_error(self) -> bool {
        self.contains(Self::ERROR)
    }
    /// Whether `HUP` is set.
    pub const fn is_hup(self) -> bool {
        self.contains(Self::HUP)
    }
    /// Whether `READ_CLOSED` is set.
    pub const fn is_read_closed(self) -> bool {
        self.contains(Self::READ_CLOSED)
    }
    /// Whether `WRITE_CLOSED` is set.
    pub const fn is_write_closed(self) -> bool {
        self.contains(Self::WRITE_CLOSED)
    }
    /// Whether `PRIORITY` is set.
    pub const fn is_priority(self) -> bool {
        self.contains(Self::PRIORITY)
    }
    /// Whether no condition is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether every condition of `other` is set in `self`.
    pub const fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether any condition of `other` is set in `self`.
    pub const fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }
    /// The union of two sets (`const` form of `|`).
    pub const fn add(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
    /// The conditions set in both `self` and `other`.
    pub const fn intersection(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
    /// `self` if `cond`, else empty: builds a set from flag tests without branches.
    pub const fn when(self, cond: bool) -> Ready {
        Ready(self.0 * cond as u8)
    }
}

impl BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        self.add(rhs)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        *self = self.add(rhs);
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Ready, &str); 7] = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::ERROR, "ERROR"),
            (Ready::HUP, "HUP"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::PRIORITY, "PRIORITY"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_distinct_and_queryable() {
        let r = Ready::READABLE | Ready::HUP;
        assert!(r.is_readable() && r.is_hup());
        assert!(!r.is_writable() && !r.is_error() && !r.is_read_closed());
        assert!(r.intersects(Ready::HUP | Ready::ERROR));
        assert!(!r.contains(Ready::HUP | Ready::ERROR));
        assert!(Ready::EMPTY.is_empty());
        assert_eq!(Ready::PRIORITY.when(false), Ready::EMPTY);
        assert_eq!(Ready::PRIORITY.when(true), Ready::PRIORITY);
    }

    #[test]
    fn debug_names_each_flag() {
        extern crate std;
        use std::format;
        assert_eq!(
            format!("{:?}", Ready::READABLE | Ready::WRITE_CLOSED),
            "READABLE | WRITE_CLOSED"
        );
        assert_eq!(format!("{:?}", Ready::EMPTY), "(empty)");
    }
}
