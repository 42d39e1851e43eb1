//! One turn of the loop (select, dispatch, expire timers, deliver messages), and
//! [`Run`]: the trait that ties a [`Handler`] to its loop.
//!
//! `run` and `run_once` enter the loop (refusing a nested entry from a callback) and
//! run [`turn`](EventLoop::turn), which `run` inlines into its own loop: a turn with
//! only I/O pending is the select, a test of the timers and one of the channel, and
//! the dispatch, with no call around it.

use core::ops::{Deref, DerefMut};
use core::time::Duration;

use super::EventLoop;
use super::config::current_tick;
use crate::channel::Receiver;
use crate::clock::Clock;
use crate::error::{Error, OsError};
use crate::handler::Handler;
use crate::registry::Registration;
use crate::selector::Selector;
use crate::token::Token;

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
/// The methods are [`EventLoop::run`], [`EventLoop::run_once`] and
/// [`EventLoop::registration`], which need no import.
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

    /// As [`EventLoop::registration`].
    fn registration(&self, token: Token) -> Option<Registration>;
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

    #[inline]
    fn registration(&self, token: Token) -> Option<Registration> {
        EventLoop::registration(self, token)
    }
}

/// The loop while a `run` or `run_once` is under way; made by
/// [`enter`](EventLoop::enter). Dropping it, also when a callback unwinds, lets the
/// loop be entered again.
struct Entered<'a, H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
    &'a mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
)
where
    H: Handler,
    S: Selector;

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize> Drop
    for Entered<'_, H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    #[inline]
    fn drop(&mut self) {
        self.0.in_turn = false;
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize> Deref
    for Entered<'_, H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    type Target = EventLoop<H, S, SOURCES, TIMERS, EVENTS>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize> DerefMut
    for Entered<'_, H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0
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
    /// [`Error::Reentered`] when called from a callback of this loop (the turn under
    /// way goes on); the first selector error other than `Interrupted` (which goes to
    /// [`Handler::interrupted`]), or [`Error::Orphaned`] (see
    /// [`register_opt`](Self::register_opt)), and the loop is then stopped.
    // Inline: the loop's body is then compiled next to its caller, in the same codegen
    // unit as the handler (usually), so the handler's callbacks can inline into it.
    #[inline]
    pub fn run(&mut self, handler: &mut H) -> Result<(), Error> {
        let mut event_loop = self.enter()?;
        event_loop.running = true;
        loop {
            match event_loop.turn(handler, None, true) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(err) => {
                    event_loop.running = false;
                    return Err(err);
                }
            }
        }
    }

    /// Runs one turn: selects, waiting up to `max_wait` (`None`: until an event), no
    /// longer than [`Config::max_sleep`](super::Config::max_sleep) and than until the
    /// next timer's deadline; dispatches every event returned, then the timers that
    /// expired, then up to `messages_per_turn` channel messages, then calls
    /// [`Handler::tick`].
    ///
    /// # Errors
    /// [`Error::Reentered`] when called from a callback of this loop: the turn under
    /// way goes on, and this one does not happen. A selector error other than
    /// `Interrupted`; `Interrupted` calls [`Handler::interrupted`] and returns `Ok`.
    /// [`Error::Orphaned`] after a turn (dispatched whole) that received an event of a
    /// registration that outlived its source (see [`register_opt`](Self::register_opt)).
    #[inline] // as `run`
    pub fn run_once(&mut self, handler: &mut H, max_wait: Option<Duration>) -> Result<(), Error> {
        self.enter()?.turn(handler, max_wait, false)?;
        Ok(())
    }

    /// Marks the loop as in a turn, or refuses when it is already (a callback called
    /// `run` or `run_once`).
    #[inline]
    fn enter(&mut self) -> Result<Entered<'_, H, S, SOURCES, TIMERS, EVENTS>, Error> {
        if self.in_turn {
            return Err(Error::Reentered);
        }
        self.in_turn = true;
        Ok(Entered(self))
    }

    /// One turn, as [`run_once`](Self::run_once) documents; `in_run` for a turn of
    /// [`run`](Self::run), which returns `Ok(false)` instead when `run` was shut down
    /// (after the previous turn). Always inlined: `run`'s loop then pays no call, no
    /// register saves and no `Result` in memory per turn.
    #[inline(always)]
    fn turn(
        &mut self,
        handler: &mut H,
        max_wait: Option<Duration>,
        in_run: bool,
    ) -> Result<bool, Error> {
        // Only I/O pending: `max_wait` as it is, no clock read, no channel to tell.
        let (wait, may_sleep) = if self.extras {
            // `shutdown` sets `extras` (and `after_dispatch` keeps it for `run`), so a
            // turn without extras has no `running` to test.
            if in_run && !self.running {
                return Ok(false);
            }
            self.prepare_select(max_wait)
        } else {
            (max_wait, false)
        };
        let selected = self.selector.select(&mut self.events, wait);
        if may_sleep {
            self.finish_sleep();
        }
        // A select that fails leaves no events (`Selector::select`), so only an empty
        // batch needs its result looked at.
        if !self.events.is_empty() {
            self.marks.batch(self.events.len(), EVENTS);
            self.dispatch(handler);
        } else if let Err(err) = selected {
            self.select_failed(err, handler)?;
        }
        // A stale event sets `extras` too, so a turn without one tests no orphan.
        let mut orphan = None;
        if self.extras {
            orphan = self.after_dispatch(handler, in_run);
        }
        handler.tick(self);
        match orphan {
            None => Ok(true),
            Some(token) => Err(Error::Orphaned(token)),
        }
    }

    /// The timers and messages of a turn that has extras, and the end of its batch for
    /// the stale watch (returning the orphan the batch showed); clears `extras` when
    /// none are left. A turn of `run` (`in_run`) that was shut down keeps it: `run`
    /// tests `running` only when `extras` is set.
    #[inline(never)]
    fn after_dispatch(&mut self, handler: &mut H, in_run: bool) -> Option<Token> {
        let orphan = self
            .stale
            .end_batch()
            .map(|tag| Token(self.registry.index_of(tag)));
        self.expire_timers(handler);
        self.deliver_messages(handler);
        self.extras = !self.timers.is_empty()
            || self.channel.is_some()
            || self.config.max_sleep.is_some()
            || (in_run && !self.running);
        orphan
    }

    /// The wait of a turn that is not quiet (`max_wait`, no longer than `max_sleep` and
    /// than until the next timer's deadline), and whether the channel was told the
    /// loop may sleep (then [`finish_sleep`](Self::finish_sleep) must follow the select).
    #[inline(never)]
    fn prepare_select(&self, max_wait: Option<Duration>) -> (Option<Duration>, bool) {
        let wait = [max_wait, self.config.max_sleep, self.time_to_next_timer()]
            .into_iter()
            .flatten()
            .min();
        let Some(channel) = &self.channel else {
            return (wait, false);
        };
        if wait == Some(Duration::ZERO) {
            return (wait, false);
        }
        // Tell senders the loop may sleep (they will wake it), unless messages wait.
        // (`false` lowered the flag again.)
        if channel.prepare_sleep() {
            (wait, true)
        } else {
            (Some(Duration::ZERO), false)
        }
    }

    /// A select that failed: `Interrupted` goes to [`Handler::interrupted`], any other
    /// error to the caller.
    #[cold]
    fn select_failed(&mut self, err: OsError, handler: &mut H) -> Result<(), Error> {
        if !err.is_interrupted() {
            return Err(err.into());
        }
        handler.interrupted(self);
        Ok(())
    }

    /// Tells the channel the loop is awake again: sends cost no syscall.
    fn finish_sleep(&self) {
        if let Some(channel) = &self.channel {
            channel.finish_sleep();
        }
    }

    /// Hands up to `messages_per_turn` channel messages to [`Handler::notify`].
    fn deliver_messages(&mut self, handler: &mut H) {
        if self.channel.is_none() {
            return;
        }
        self.marks.channel(self.channel.as_ref());
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

    /// Hands each event of the current registration of its token to [`Handler::ready`];
    /// a stale one goes to [`stale_event`](Self::stale_event).
    #[inline]
    fn dispatch(&mut self, handler: &mut H) {
        let mut i = 0;
        // Indexing (not iterating) lets the handler borrow the loop between events.
        while let Some(&event) = self.events.get(i) {
            i += 1;
            // `resolve` drops the events of registrations that have ended, and the
            // waker's (`Token::WAKER`): its index bits are all ones, past every slot
            // (`Registry::FITS`). The waker event only ended the select; the channel's
            // messages are taken in `deliver_messages` whatever woke the loop.
            let tag = S::token(&event);
            if let Some(token) = self.registry.resolve(tag) {
                handler.ready(self, token, S::ready(&event));
            } else if tag != Token::WAKER {
                self.stale_event(tag);
            }
        }
    }

    /// An event of a registration that has ended: noted for the orphan check
    /// (`orphan.rs`), which `after_dispatch` completes once the batch is dispatched.
    #[cold]
    #[inline(never)]
    fn stale_event(&mut self, tag: Token) {
        self.stale.saw(tag);
        self.extras = true;
    }
}
