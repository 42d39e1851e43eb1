//! One turn of the loop (select, dispatch, expire timers, deliver messages), and
//! [`Run`]: the trait that ties a [`Handler`] to its loop.

use core::time::Duration;

use super::EventLoop;
use super::config::current_tick;
use crate::channel::Receiver;
use crate::clock::Clock;
use crate::error::Error;
use crate::handler::Handler;
use crate::selector::Selector;

/// What a handler's loop does for it: run turns. [`Handler::Loop`] is bound by it.
///
/// Sealed: only [`EventLoop<H, ..>`](EventLoop) implements it, and only for the
/// handler `H` whose `Loop` it is. So a `type Loop` that names another handler's loop
/// (or anything else) fails at the handler's impl, and generic code can take
/// `&mut H::Loop` without repeating the capacities:
///
/// ```
/// use core::time::Duration;
/// use statio_core::{Error, Handler, Run};
///
/// /// Runs `turns` turns that do not sleep.
/// fn spin<H: Handler>(event_loop: &mut H::Loop, handler: &mut H, turns: usize) -> Result<(), Error> {
///     for _ in 0..turns {
///         event_loop.run_once(handler, Some(Duration::ZERO))?;
///     }
///     Ok(())
/// }
/// ```
///
/// The methods are [`EventLoop::run`] and [`EventLoop::run_once`], which need no import.
pub trait Run<H: Handler>: sealed::Sealed {
    /// As [`EventLoop::run`].
    ///
    /// # Errors
    /// As [`EventLoop::run`].
    fn run(&mut self, handler: &mut H) -> Result<(), Error>;

    /// As [`EventLoop::run_once`].
    ///
    /// # Errors
    /// As [`EventLoop::run_once`].
    fn run_once(&mut self, handler: &mut H, max_wait: Option<Duration>) -> Result<(), Error>;
}

mod sealed {
    /// Keeps [`Run`](super::Run) to [`EventLoop`](super::EventLoop).
    pub trait Sealed {}
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize> sealed::Sealed
    for EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize> Run<H>
    for EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler<Loop = Self>,
    S: Selector,
{
    #[inline]
    fn run(&mut self, handler: &mut H) -> Result<(), Error> {
        EventLoop::run(self, handler)
    }

    #[inline]
    fn run_once(&mut self, handler: &mut H, max_wait: Option<Duration>) -> Result<(), Error> {
        EventLoop::run_once(self, handler, max_wait)
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler<Loop = Self>,
    S: Selector,
{
    /// Runs turns until [`shutdown`](Self::shutdown) is called.
    ///
    /// # Errors
    /// The first selector error other than `Interrupted` (which goes to
    /// [`Handler::interrupted`]); the loop is then stopped.
    pub fn run(&mut self, handler: &mut H) -> Result<(), Error> {
        self.running = true;
        while self.running {
            if let Err(err) = self.run_once(handler, None) {
                self.running = false;
                return Err(err);
            }
        }
        Ok(())
    }

    /// Runs one turn: selects, waiting up to `max_wait` (`None`: until an event), no
    /// longer than [`Config::max_sleep`](super::Config::max_sleep) and than until the
    /// next timer's deadline; dispatches every event returned, then the timers that
    /// expired, then up to `messages_per_turn` channel messages, then calls
    /// [`Handler::tick`].
    ///
    /// # Errors
    /// A selector error other than `Interrupted`; `Interrupted` calls
    /// [`Handler::interrupted`] and returns `Ok`.
    pub fn run_once(&mut self, handler: &mut H, max_wait: Option<Duration>) -> Result<(), Error> {
        let mut wait = [max_wait, self.config.max_sleep, self.time_to_next_timer()]
            .into_iter()
            .flatten()
            .min();
        // Tell senders the loop may sleep (they will wake it), unless messages wait.
        let may_sleep = wait != Some(Duration::ZERO);
        if let Some(channel) = &self.channel
            && may_sleep
            && !channel.prepare_sleep()
        {
            wait = Some(Duration::ZERO);
        }
        let selected = self.selector.select(&mut self.events, wait);
        if let Some(channel) = &self.channel
            && may_sleep
        {
            channel.finish_sleep();
        }
        match selected {
            Ok(()) => self.dispatch(handler),
            Err(err) if err.is_interrupted() => handler.interrupted(self),
            Err(err) => return Err(err.into()),
        }
        self.expire_timers(handler);
        self.deliver_messages(handler);
        handler.tick(self);
        Ok(())
    }

    /// Hands up to `messages_per_turn` channel messages to [`Handler::notify`].
    fn deliver_messages(&mut self, handler: &mut H) {
        for _ in 0..self.config.messages_per_turn {
            let Some(message) = self.channel.as_ref().and_then(Receiver::try_recv) else {
                return;
            };
            handler.notify(self, message);
        }
    }

    /// How long until the earliest timer is due; `None` (and no clock read) without one.
    fn time_to_next_timer(&self) -> Option<Duration> {
        let deadline = self.timers.next_deadline()?.saturating_mul(self.tick_nanos);
        let now = self.selector.clock().now().as_nanos();
        Some(Duration::from_nanos(deadline.saturating_sub(now)))
    }

    /// Fires the timers due now. Only as many as were pending when it started: a timer
    /// set by a callback here, due at once, fires next turn, so a handler re-arming a
    /// zero delay cannot keep the loop from its I/O.
    fn expire_timers(&mut self, handler: &mut H) {
        if self.timers.is_empty() {
            return;
        }
        let now = current_tick(&self.selector, self.tick_nanos);
        for _ in 0..self.timers.len() {
            match self.timers.poll_expired(now) {
                Some((_, value)) => handler.timeout(self, value),
                None => return,
            }
        }
    }

    /// Hands each event of the current registration of its token to [`Handler::ready`].
    fn dispatch(&mut self, handler: &mut H) {
        let mut i = 0;
        // Indexing (not iterating) lets the handler borrow the loop between events.
        while let Some(&event) = self.events.get(i) {
            i += 1;
            // `resolve` drops the events of registrations that have ended, and the
            // waker's (`Token::WAKER`): its index bits are all ones, past every slot
            // (`Registry::FITS`). The waker event only ended the select; the channel's
            // messages are taken in `deliver_messages` whatever woke the loop.
            if let Some(token) = self.registry.resolve(S::token(&event)) {
                handler.ready(self, token, S::ready(&event));
            }
        }
    }
}
