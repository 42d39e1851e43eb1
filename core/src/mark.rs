//! [`Mark`]: how much of one fixed capacity is in use, the most that was, and how often
//! the limit was hit; what each fixed structure reports and [`Stats`](crate::Stats)
//! gathers.

use core::fmt;

/// The use of one fixed capacity: now, at its peak, and how many times its limit was
/// hit. Each structure that keeps marks returns one (`marks()`) and starts a new
/// window with `reset_marks()`, which sets `peak` to `now` and `limit_hits` to 0.
///
/// What `now` and `limit_hits` count depends on the structure; its `marks()` says.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mark {
    /// In use now.
    pub now: usize,
    /// The most in use at once since the structure was made or its marks were reset.
    pub peak: usize,
    /// The fixed capacity: what `peak` can reach.
    pub capacity: usize,
    /// How many times the capacity refused something since the last reset: each a
    /// typed error (or, for the events buffer, a turn that left events for the next).
    pub limit_hits: u64,
}

/// One row: `now / peak / capacity`, then the limit hits.
impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>8} {:>8} {:>9} {:>11}",
            self.now, self.peak, self.capacity, self.limit_hits
        )
    }
}
