//! What a loop type costs in bytes, known at compile time: [`EventLoop::MEMORY`] and
//! its parts, and the pattern that holds a build to a memory budget.
//!
//! Every figure is `size_of` of the type, so it is exact for the target being built
//! (selector event formats and handle sizes differ between ports): nothing here is an
//! estimate, and a `const` assertion on it fails the build, not the run.

use crate::event::Events;
use crate::handler::Handler;
use crate::registry::Registry;
use crate::selector::Selector;
use crate::wheel::Wheel;

use super::EventLoop;

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    /// Bytes this loop type occupies: exactly `size_of::<Self>()`, the registry, the
    /// events buffer and the timer wheel (the three `*_MEMORY` parts, which are most of
    /// it) plus the selector, the config and a few words of state. A channel lives
    /// outside the loop (a `static`): add its [`Channel::MEMORY`](crate::Channel::MEMORY).
    ///
    /// # Holding a build to a budget
    ///
    /// Assert it in a `const`, next to the alias that names the capacities: a change of
    /// capacity (or of the timer or message type) that goes over the budget fails the
    /// build, with the message of the assertion.
    ///
    /// ```
    /// use statio_core::sim::SimSelector;
    /// use statio_core::{EventLoop, Handler};
    ///
    /// type Loop = EventLoop<App, SimSelector, /*sources*/ 64, /*timers*/ 0, /*events*/ 16>;
    ///
    /// const BUDGET: usize = 16 * 1024;
    /// const _: () = assert!(Loop::MEMORY <= BUDGET, "the event loop is over budget");
    ///
    /// struct App;
    ///
    /// impl Handler for App {
    ///     type Timeout = ();
    ///     type Message = ();
    ///     type Loop = Loop;
    /// }
    /// ```
    ///
    /// Over budget, the build stops with `error[E0080]: evaluation panicked: the event
    /// loop is over budget`, pointing at the assertion:
    ///
    /// ```compile_fail,E0080
    /// use statio_core::sim::SimSelector;
    /// use statio_core::{EventLoop, Handler};
    ///
    /// // 1,024 timers alone are a 41 KiB wheel.
    /// type Loop = EventLoop<App, SimSelector, /*sources*/ 64, /*timers*/ 1024, /*events*/ 16>;
    ///
    /// const BUDGET: usize = 16 * 1024;
    /// const _: () = assert!(Loop::MEMORY <= BUDGET, "the event loop is over budget");
    ///
    /// struct App;
    ///
    /// impl Handler for App {
    ///     type Timeout = ();
    ///     type Message = ();
    ///     type Loop = Loop;
    /// }
    /// ```
    pub const MEMORY: usize = size_of::<Self>();

    /// The registry's share of [`MEMORY`](Self::MEMORY): `SOURCES` slots of a `u32`
    /// generation and the selector's handle (8 bytes a slot for a file descriptor),
    /// and 16 bytes of counters.
    pub const REGISTRY_MEMORY: usize = size_of::<Registry<S::Handle, SOURCES>>();

    /// The events buffer's share of [`MEMORY`](Self::MEMORY): [`Events::MEMORY`] for
    /// `EVENTS` events in the selector's format.
    pub const EVENTS_MEMORY: usize = Events::<S::Event, EVENTS>::MEMORY;

    /// The timer wheel's share of [`MEMORY`](Self::MEMORY): [`Wheel::MEMORY`] for
    /// `TIMERS` timers of `H::Timeout`.
    pub const TIMERS_MEMORY: usize = Wheel::<H::Timeout, TIMERS>::MEMORY;
}

#[cfg(test)]
mod tests {
    use crate::sim::SimSelector;
    use crate::{Event, EventLoop, Handler};

    type Loop = EventLoop<App, SimSelector, 1024, 1024, 256>;

    struct App;

    impl Handler for App {
        type Timeout = u64;
        type Message = ();
        type Loop = Loop;
    }

    // The registry is 8 bytes a source, the events buffer holds its events, and the
    // parts fit in the whole: checked at compile time, as a budget would be.
    const _: () = {
        assert!(Loop::MEMORY == size_of::<Loop>());
        assert!(Loop::REGISTRY_MEMORY >= 1024 * 8);
        assert!(Loop::EVENTS_MEMORY >= 256 * size_of::<Event>());
        assert!(Loop::REGISTRY_MEMORY + Loop::EVENTS_MEMORY + Loop::TIMERS_MEMORY <= Loop::MEMORY);
    };

    #[test]
    fn the_rest_of_the_loop_is_small_and_fixed() {
        let parts = Loop::REGISTRY_MEMORY + Loop::EVENTS_MEMORY + Loop::TIMERS_MEMORY;
        // The selector, the config and the loop's own words: independent of the
        // capacities.
        let rest = Loop::MEMORY - parts;
        assert!(rest <= size_of::<SimSelector>() + 256, "rest {rest}");
    }
}
