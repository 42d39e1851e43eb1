//! [`TimerKey`], the handle of one timer, and [`TimerError`], why a timer was refused.

use core::fmt;

/// Names one timer in a [`Wheel`](super::Wheel): its node and the node's generation at insertion.
/// It is also the handle [`EventLoop::timeout`](crate::EventLoop::timeout) returns, to
/// cancel the timer with [`clear_timeout`](crate::EventLoop::clear_timeout) (mio 0.2's
/// `Timeout`).
///
/// A node's generation counts its insertions and removals: it is odd while the node
/// holds a pending timer, and a key matches only the timer it was issued for: a key
/// kept after its timer fired or was cancelled is stale and reaches nothing.
///
/// The key also names its wheel: each loop's wheel has an id of its own (from a
/// process-wide counter, so ids repeat only after 2^32 loops), and a key of one loop
/// reaches nothing in another, even where both have a timer in the same node. Wheels
/// made with the `const` [`Wheel::new`](super::Wheel::new) and [`Wheel::starting_at`](super::Wheel::starting_at) share id 0.
#[doc(alias = "Timeout")]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    pub(super) index: u32,
    pub(super) generation: u32,
    pub(super) wheel: u32,
}

impl TimerKey {
    /// The node this key names, `0..N`: stable while the timer is pending, reused after.
    pub const fn index(self) -> usize {
        self.index as usize
    }

    /// The node's generation when this timer was inserted: `2 * k + 1` for the node's
    /// `k`-th timer (wrapping after 2^31 timers).
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

/// Why [`Wheel::insert`](super::Wheel::insert) (and so [`EventLoop::timeout`](crate::EventLoop::timeout))
/// refused a timer; each variant gives the value back.
#[doc(alias = "InsertError")]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimerError<T> {
    /// All `N` nodes hold pending timers.
    Full(T),
    /// The deadline is [`Wheel::RANGE`](super::Wheel::RANGE) or more ticks after [`Wheel::now`](super::Wheel::now).
    OutOfRange(T),
}

impl<T> TimerError<T> {
    /// The value that was not inserted.
    pub fn into_inner(self) -> T {
        match self {
            TimerError::Full(value) | TimerError::OutOfRange(value) => value,
        }
    }
}

impl<T> fmt::Display for TimerError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerError::Full(_) => f.write_str("timer wheel is full"),
            TimerError::OutOfRange(_) => write!(
                f,
                "timer deadline is {} or more ticks away, beyond the wheel's range",
                super::RANGE
            ),
        }
    }
}

impl<T: fmt::Debug> core::error::Error for TimerError<T> {}
