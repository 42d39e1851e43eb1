//! [`Stats`]: how close a running loop came to each of its capacities, and how often
//! it hit them: [`EventLoop::stats`] reads the marks, [`EventLoop::reset_stats`]
//! starts a new window.
//!
//! The registry and the timer wheel keep their own marks (a compare on register and
//! on timer insert, a count on the refusal); the loop keeps the rest in
//! [`LoopMarks`]: the events per turn (one compare a turn, see
//! [`LoopMarks::batch`]) and the channel's depth, read when the loop takes its
//! messages. Senders count a full channel themselves, only when it is full.
//!
//! ```
//! use statio_core::sim::{SimSelector, SimSource};
//! use statio_core::{EventLoop, Handler, Ready, Token};
//!
//! type Loop = EventLoop<App, SimSelector, /*sources*/ 4, /*timers*/ 2, /*events*/ 2>;
//!
//! struct App;
//!
//! impl Handler for App {
//!     type Timeout = ();
//!     type Message = ();
//!     type Loop = Loop;
//! }
//!
//! let mut event_loop = Loop::new().unwrap();
//! for fd in 0..3 {
//!     event_loop.register(&SimSource(fd), Token(fd as usize)).unwrap();
//!     event_loop.selector_mut().set_ready(fd, Ready::READABLE).unwrap();
//! }
//! assert!(event_loop.register(&SimSource(9), Token(9)).is_err()); // token out of range
//! event_loop.run_once(&mut App, None).unwrap(); // 2 of the 3 ready: the buffer is full
//!
//! let stats = event_loop.stats();
//! assert_eq!((stats.sources.peak, stats.sources.limit_hits), (3, 1));
//! assert_eq!((stats.events.peak, stats.events.limit_hits), (2, 1));
//! println!("{stats}"); // one readable block: see `Stats`'s `Display`
//! ```

use core::fmt;

use crate::channel::Receiver;
use crate::handler::Handler;
use crate::mark::Mark;
use crate::selector::Selector;

use super::EventLoop;

// Not under loom: a test keeps its channel in a `static` (as `tests.rs`).
#[cfg(all(test, not(loom)))]
#[path = "stats_tests.rs"]
mod tests;

/// What a loop's capacities held at their peak, and how often each refused: the
/// figures to size them by (docs/TUNING.md). `Copy`, so a handler can keep one.
///
/// [`EventLoop::stats`] fills the loop's parts; the server kit's parts, which live
/// beside the loop, are added with [`with_pool`](Self::with_pool),
/// [`with_table`](Self::with_table) and [`with_accept_paused`](Self::with_accept_paused).
/// Every peak and count covers the window since the loop was made or since
/// [`EventLoop::reset_stats`] (a pool's, since its own `reset_marks`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// Registered sources; limit hits: registrations refused with
    /// [`Error::TokenOutOfRange`](crate::Error::TokenOutOfRange) (the registry is
    /// full for that token).
    pub sources: Mark,
    /// Pending timers; limit hits: timers refused with
    /// [`TimerError::Full`](crate::TimerError::Full).
    pub timers: Mark,
    /// Events per turn: `now` is the last select's, `peak` the most one select
    /// returned; limit hits: turns whose select filled the buffer (more ready sources
    /// may have waited for the next turn).
    pub events: Mark,
    /// The attached channel's depth (`None` without one): `now` at this call, `peak`
    /// the most the loop found queued when it came to take messages; limit hits:
    /// sends refused with [`SendError::Full`](crate::SendError::Full) since the
    /// channel was made or the last reset.
    pub channel: Option<Mark>,
    /// A [`BufPool`](crate::BufPool)'s buffers, if given ([`with_pool`](Self::with_pool));
    /// limit hits: `lend`s refused with [`PoolEmpty`](crate::PoolEmpty).
    pub pool: Option<Mark>,
    /// A server's connection table slots, if given ([`with_table`](Self::with_table));
    /// limit hits: connections refused because the table was full.
    pub table: Option<Mark>,
    /// How many times the listener paused accepting for lack of descriptors
    /// (`EMFILE`/`ENFILE`), if given ([`with_accept_paused`](Self::with_accept_paused)).
    pub accept_paused: Option<u64>,
}

impl Stats {
    /// These stats with a buffer pool's marks ([`BufPool::marks`](crate::BufPool::marks)).
    pub const fn with_pool(mut self, pool: Mark) -> Stats {
        self.pool = Some(pool);
        self
    }

    /// These stats with a connection table's marks.
    pub const fn with_table(mut self, table: Mark) -> Stats {
        self.table = Some(table);
        self
    }

    /// These stats with the count of accept pauses.
    pub const fn with_accept_paused(mut self, count: u64) -> Stats {
        self.accept_paused = Some(count);
        self
    }
}

/// One block, a row a part, for a log line at shutdown or on a signal:
///
/// ```text
/// statio stats         now     peak  capacity  limit hits
/// sources                3        3         4           1  token out of range
/// timers                 0        0         2           0  wheel full
/// events per turn        2        2         2           1  turns that filled the buffer
/// ```
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16}{:>8} {:>8} {:>9} {:>11}",
            "statio stats", "now", "peak", "capacity", "limit hits"
        )?;
        let rows = [
            ("sources", Some(self.sources), "token out of range"),
            ("timers", Some(self.timers), "wheel full"),
            (
                "events per turn",
                Some(self.events),
                "turns that filled the buffer",
            ),
            ("channel depth", self.channel, "channel full"),
            ("pool buffers", self.pool, "pool empty"),
            ("table slots", self.table, "table full"),
        ];
        for (name, mark, limit) in rows {
            if let Some(mark) = mark {
                writeln!(f, "{name:<16}{mark}  {limit}")?;
            }
        }
        if let Some(count) = self.accept_paused {
            writeln!(f, "{:<16}{:>39}  accept paused (EMFILE)", "listener", count)?;
        }
        Ok(())
    }
}

/// The marks the loop keeps itself (the registry and the wheel keep their own). All
/// zero bytes are "nothing seen yet", so a loop built in zeroed memory starts them
/// as they are (`cell.rs`).
#[derive(Debug)]
pub(super) struct LoopMarks {
    /// The most events one select returned in the window.
    peak_events: usize,
    /// A batch of more events than this is news for the marks: `peak_events` while it
    /// is below `EVENTS`, then `EVENTS - 1`, so full turns keep being counted. One
    /// compare a turn then covers both the peak and the full-turn count.
    watch: usize,
    /// Turns whose select filled the events buffer, in the window.
    full_turns: u64,
    /// The most messages found queued when the loop came to take them.
    peak_channel: usize,
    /// The channel's `full_count` when the window began.
    channel_full_base: usize,
}

impl LoopMarks {
    /// Notes a turn's batch of `n` events, `n <= capacity`: one compare unless it is a
    /// new peak or fills the buffer (every turn's cost: measured in docs/BENCHMARKS.md).
    #[inline(always)]
    pub(super) fn batch(&mut self, n: usize, capacity: usize) {
        if n > self.watch {
            self.news(n, capacity);
        }
    }

    #[cold]
    fn news(&mut self, n: usize, capacity: usize) {
        self.peak_events = self.peak_events.max(n);
        if n == capacity {
            self.full_turns = self.full_turns.saturating_add(1);
        }
        self.watch = self.peak_events.min(capacity.saturating_sub(1));
    }

    /// Notes how many messages wait in the channel as the loop comes to take them:
    /// the ring only fills between deliveries, so this sees its depth at its highest
    /// (exactly, when no send races with the delivery).
    #[inline]
    pub(super) fn channel<M, W>(&mut self, channel: Option<&Receiver<'_, M, W>>) {
        if let Some(receiver) = channel {
            self.peak_channel = self.peak_channel.max(receiver.channel().len());
        }
    }

    /// Starts a new window.
    fn reset<M, W>(&mut self, channel: Option<&Receiver<'_, M, W>>) {
        *self = LoopMarks {
            peak_events: 0,
            watch: 0,
            full_turns: 0,
            peak_channel: 0,
            channel_full_base: channel.map_or(0, |rx| rx.channel().full_count()),
        };
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    /// The loop's marks: each capacity's use now and at its peak, and how often it
    /// refused, since the loop was made or [`reset_stats`](Self::reset_stats).
    /// Reading them costs a few loads (and two of the channel's counters); keeping
    /// them costs a compare per turn, register and timer (docs/BENCHMARKS.md).
    pub fn stats(&self) -> Stats {
        let marks = &self.marks;
        let channel = self.channel.as_ref().map(|receiver| {
            let channel = receiver.channel();
            let now = channel.len();
            Mark {
                now,
                peak: marks.peak_channel.max(now),
                capacity: channel.capacity(),
                limit_hits: channel.full_count().wrapping_sub(marks.channel_full_base) as u64,
            }
        });
        Stats {
            sources: self.registry.marks(),
            timers: self.timers.marks(),
            events: Mark {
                now: self.events.len(),
                peak: marks.peak_events,
                capacity: EVENTS,
                limit_hits: marks.full_turns,
            },
            channel,
            pool: None,
            table: None,
            accept_paused: None,
        }
    }

    /// Starts a new window of [`stats`](Self::stats): peaks start from what is in
    /// use now (events and channel depth from zero), and limit counts from zero.
    pub fn reset_stats(&mut self) {
        self.registry.reset_marks();
        self.timers.reset_marks();
        self.marks.reset(self.channel.as_ref());
    }
}
