//! [`Config`]: the loop's knobs that are not capacities, and the timer-tick arithmetic
//! they imply.

use core::time::Duration;

use crate::clock::Clock;
use crate::error::Error;
use crate::selector::Selector;

/// The loop's knobs that are not capacities (those are const generics).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub(super) max_sleep: Option<Duration>,
    pub(super) timer_tick: Duration,
    pub(super) messages_per_turn: usize,
}

impl Config {
    /// The defaults: a turn may sleep as long as nothing happens; timers have a 1 ms
    /// tick; a turn takes up to 256 channel messages.
    pub const fn new() -> Config {
        Config {
            max_sleep: None,
            timer_tick: Duration::from_millis(1),
            messages_per_turn: 256,
        }
    }

    /// Sets how many channel messages one turn delivers at most, so a flood of messages
    /// cannot starve I/O and timers; the rest wait for the next turn (which then does
    /// not sleep). Zero is taken as one, so messages always make progress.
    pub const fn messages_per_turn(mut self, messages: usize) -> Config {
        self.messages_per_turn = if messages == 0 { 1 } else { messages };
        self
    }

    /// Sets the timer resolution: deadlines are rounded up to a whole tick, and the
    /// wheel's range is 2^36 ticks (795 days at 1 ms). A zero tick is refused by
    /// [`EventLoop::configured`](super::EventLoop::configured).
    pub const fn timer_tick(mut self, tick: Duration) -> Config {
        self.timer_tick = tick;
        self
    }

    /// Caps how long one `select` may sleep, e.g. to bound the wait of a loop that
    /// polls something outside the selector.
    pub const fn max_sleep(mut self, cap: Duration) -> Config {
        self.max_sleep = Some(cap);
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// The timer tick the selector's clock is in (ticks of `tick_nanos` since its origin).
pub(super) fn current_tick<S: Selector>(selector: &S, tick_nanos: u64) -> u64 {
    selector.clock().now().as_nanos() / tick_nanos
}

/// `config.timer_tick` in nanoseconds, checked.
pub(super) fn tick_nanos(config: &Config) -> Result<u64, Error> {
    match u64::try_from(config.timer_tick.as_nanos()) {
        Ok(0) => Err(Error::InvalidConfig("the timer tick is zero")),
        Ok(nanos) => Ok(nanos),
        Err(_) => Err(Error::InvalidConfig("the timer tick is 2^64 ns or more")),
    }
}
