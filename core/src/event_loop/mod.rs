//! [`EventLoop`]: a selector, a registry and an events buffer, dispatching to a
//! [`Handler`].
//!
//! One turn ([`run_once`](EventLoop::run_once)) is: one `select`, then for each event an
//! O(1) registry lookup (dropping events of registrations that ended earlier in the
//! batch) and a direct, statically dispatched call of [`Handler::ready`], then the
//! expired timers ([`Handler::timeout`]), then up to `messages_per_turn` messages of the
//! channel ([`Handler::notify`]), then [`Handler::tick`]. With no timer pending and no
//! channel attached, nothing else: no clock read, no atomic, no syscall, no scan.
//!
//! Turns do not nest: `run` or `run_once` called from a callback returns
//! [`Error::Reentered`] and the turn under way goes on (a nested select would refill the
//! events buffer being dispatched).
//!
//! Timers are tickless: the select waits until the earliest deadline, rounded up to
//! the timer tick, so an idle loop sleeps until its next timer (or for ever) and a
//! timer never fires before its deadline.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`EventLoop`], its constructors, registration, timers, channel, accessors |
//! | `turn.rs` | [`run`](EventLoop::run), [`run_once`](EventLoop::run_once), dispatch, expiry, messages; [`Run`] |
//! | `config.rs` | [`Config`] and the timer-tick arithmetic |
//! | `cell.rs` | [`LoopCell`], the one in-place constructor, and the zero-bytes contract |

use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::time::Duration;

use crate::channel::{ChannelView, Receiver, Sender};
use crate::clock::Clock;
use crate::error::Error;
use crate::event::Events;
use crate::handler::Handler;
use crate::interest::{Interest, PollOpt};
use crate::registry::{Registration, Registry};
use crate::selector::{Selector, Source};
use crate::token::Token;
use crate::wheel::{TimerError, TimerKey, Wheel};

mod cell;
mod config;
mod memory;
mod orphan;
mod stats;
// Not under loom: these tests keep channels in `static`s, and loom's atomics are neither
// `const` nor usable outside a loom model (`.ci/run`'s loom step builds every lib test).
#[cfg(all(test, not(loom)))]
mod tests;
mod turn;

pub use cell::LoopCell;
pub use config::Config;
pub use stats::Stats;
pub use turn::Run;

/// An event loop for handler `H` over selector `S`, watching up to `SOURCES` sources
/// (tokens `0..SOURCES`), holding up to `TIMERS` pending timers and taking up to
/// `EVENTS` events per turn.
///
/// Name it once in an alias and use the alias in the handler (see [`Handler`]); the
/// `statio` facade provides one with the native selector filled in. The whole loop is
/// one value of known size: keep it on the stack, in a `static`, or in a `StaticCell`.
///
/// ```
/// use statio_core::sim::{SimSelector, SimSource};
/// use statio_core::{EventLoop, Handler, Interest, PollOpt, Ready, Token};
///
/// type Loop = EventLoop<Counter, SimSelector, /*sources*/ 8, /*timers*/ 4, /*events*/ 4>;
///
/// struct Counter(usize);
///
/// impl Handler for Counter {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
///
///     fn readable(&mut self, event_loop: &mut Loop, _: Token, _: Ready) {
///         self.0 += 1;
///         event_loop.shutdown();
///     }
/// }
///
/// let mut event_loop = Loop::new().unwrap();
/// event_loop.register(&SimSource(5), Token(1)).unwrap();
/// event_loop.selector_mut().set_ready(5, Ready::READABLE).unwrap();
/// let mut counter = Counter(0);
/// event_loop.run(&mut counter).unwrap();
/// assert_eq!(counter.0, 1);
/// ```
///
/// # Capacities
///
/// Each is a const generic, checked at compile time where it can be wrong: `SOURCES`
/// must fit in half a `usize` (tokens carry a generation in the other half), and
/// `EVENTS` must be at least 1, or no turn could take an event. Either mistake fails
/// the build where the loop is made:
///
/// ```compile_fail,E0080
/// use statio_core::sim::SimSelector;
/// use statio_core::{EventLoop, Handler};
///
/// type Loop = EventLoop<App, SimSelector, /*sources*/ 8, /*timers*/ 0, /*events*/ 0>;
///
/// struct App;
///
/// impl Handler for App {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
/// }
///
/// let event_loop = Loop::new(); // EVENTS must be at least 1
/// ```
///
/// `TIMERS` may be 0: such a loop refuses every timer with [`TimerError::Full`].
pub struct EventLoop<
    H: Handler,
    S: Selector,
    const SOURCES: usize,
    const TIMERS: usize,
    const EVENTS: usize,
> {
    selector: S,
    registry: Registry<S::Handle, SOURCES>,
    events: Events<S::Event, EVENTS>,
    timers: Wheel<H::Timeout, TIMERS>,
    /// `config.timer_tick` in nanoseconds, never zero.
    tick_nanos: u64,
    channel: Option<Receiver<'static, H::Message, S::Waker>>,
    config: Config,
    running: bool,
    /// A `run` or `run_once` is under way: a nested one is refused (`turn::Entered`).
    in_turn: bool,
    /// The turn may have more to do than select and dispatch: a channel is attached,
    /// `config.max_sleep` is set, or a timer may be pending. Set by what adds one of
    /// them, by a stale event (the orphan check then runs) and by `shutdown` (`run`
    /// then tests `running`); a turn that finds none clears it. One byte to test,
    /// twice a turn.
    extras: bool,
    /// The marks the registry and the wheel do not keep (`stats.rs`).
    marks: stats::LoopMarks,
    /// Stale events seen, to tell an orphaned kernel registration (`orphan.rs`).
    stale: orphan::StaleWatch,
    handler: PhantomData<fn(&mut H)>,
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    /// A loop with the default [`Config`] over a new selector.
    ///
    /// # Errors
    /// What the OS refused when the selector opened (e.g. out of descriptors).
    pub fn new() -> Result<Self, Error> {
        Self::configured(Config::new())
    }

    /// A loop with `config` over a new selector.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero or over-long timer tick; what the OS refused
    /// when the selector opened.
    pub fn configured(config: Config) -> Result<Self, Error> {
        Self::with_selector(S::new()?, config)
    }

    /// A loop over a selector the caller opened.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero timer tick or one of 2^64 ns or more.
    pub fn with_selector(selector: S, config: Config) -> Result<Self, Error> {
        let mut place = MaybeUninit::<Self>::zeroed();
        // SAFETY: `place` is valid, aligned and all zero bytes; `init_in_place` made it
        // a loop when it returns `Ok`.
        unsafe {
            Self::init_in_place(place.as_mut_ptr(), || Ok(selector), config)?;
            Ok(place.assume_init())
        }
    }

    /// Watches `io` for readability, level-triggered, under `token`.
    ///
    /// # Errors
    /// As [`register_opt`](Self::register_opt).
    pub fn register<I>(&mut self, io: &I, token: Token) -> Result<(), Error>
    where
        I: Source<S::Handle> + ?Sized,
    {
        self.register_opt(io, token, Interest::READABLE, PollOpt::level())
    }

    /// Watches `io` for `interest`, reported as `opt` says, under `token`.
    ///
    /// # A source dropped while registered
    /// The loop does not own `io` (a [`SourceTable`](crate::SourceTable) does, and rules
    /// this out): deregister it before dropping it. If it is dropped registered, its
    /// token stays held (a `register` under it returns [`Error::TokenInUse`]) until
    /// [`release`](Self::release) frees it; meanwhile, by port:
    ///
    /// - epoll and kqueue: closing the descriptor ends its kernel registration, so
    ///   nothing more is reported. Except on epoll when the file stays open through
    ///   another descriptor (a `dup`, a child's copy): epoll keys a registration by
    ///   file *and* descriptor number, so it lives on and no `epoll_ctl` can reach it.
    ///   Its events still come under the token (before `release`, to the handler; after,
    ///   dropped as stale). One that keeps coming after `release` (an *orphan*: the same
    ///   stale registration in two selects) makes `run` and `run_once` return
    ///   [`Error::Orphaned`] with the token at the end of that turn, instead of waking at
    ///   once on every turn for ever.
    /// - poll(2): the descriptor stays in the poll set. A closed number is reported
    ///   (`POLLNVAL`, as an error) to the token on every turn, and a new file that gets
    ///   the same number cannot be registered (`AlreadyExists`) until `release` drops the
    ///   entry.
    ///
    /// In every case `release` frees the token without a call on the old number (which
    /// may name a new file whose registration must stay), and its events never reach a
    /// later registration of the token (the generation check).
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] unless `token < SOURCES`; [`Error::TokenInUse`] when a
    /// source holds the token; [`Error::Os`] when the selector refuses (`AlreadyExists`
    /// when `io` is registered under another token).
    pub fn register_opt<I>(
        &mut self,
        io: &I,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), Error>
    where
        I: Source<S::Handle> + ?Sized,
    {
        let handle = io.handle();
        let tagged = self.registry.claim(token, handle)?;
        if let Err(err) = self.selector.register(handle, tagged, interest, opt) {
            // Cannot fail: the claim above holds this token for this handle.
            let _ = self.registry.release(token, handle);
            return Err(err.into());
        }
        Ok(())
    }

    /// Changes the interest or options of `io`, registered under `token`; re-arms a
    /// oneshot registration. Events already returned keep their validity.
    ///
    /// # Errors
    /// [`Error::NotRegistered`] unless `io` is registered under `token`; [`Error::Os`]
    /// when the selector refuses.
    pub fn reregister<I>(
        &mut self,
        io: &I,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), Error>
    where
        I: Source<S::Handle> + ?Sized,
    {
        let handle = io.handle();
        let tagged = self.registry.tagged(token, handle)?;
        self.selector.reregister(handle, tagged, interest, opt)?;
        Ok(())
    }

    /// Stops watching `io`, registered under `token`, and frees the token. Events of
    /// this registration not yet dispatched in the current turn are dropped.
    ///
    /// The token is taken with the source (rather than found from it) so that this is
    /// O(1) without a handle-to-token map. Deregister before dropping a source: a
    /// dropped source leaves its token held until [`release`](Self::release).
    ///
    /// # Errors
    /// [`Error::NotRegistered`] unless `io` is registered under `token`; [`Error::Os`]
    /// when the selector refuses, in which case the token is freed all the same.
    pub fn deregister<I>(&mut self, io: &I, token: Token) -> Result<(), Error>
    where
        I: Source<S::Handle> + ?Sized,
    {
        let handle = io.handle();
        self.registry.release(token, handle)?;
        self.selector.deregister(handle)?;
        Ok(())
    }

    /// Frees `token`, registered with a source that is gone (dropped while registered),
    /// without a call on its descriptor number, which may name another file by now.
    /// The selector forgets the registration ([`Selector::forget`]: the poll(2) and
    /// kqueue ports drop their entry, so the number registers afresh; epoll has nothing
    /// to do, the kernel ended it at close). Events of the registration are dropped from now on; see
    /// [`register_opt`](Self::register_opt) for a kernel registration that outlives its
    /// descriptor.
    ///
    /// For a source still open, use [`deregister`](Self::deregister): `release` leaves
    /// its kernel registration in place (reporting under a token that is no longer its).
    ///
    /// # Errors
    /// [`Error::NotRegistered`] when nothing holds `token`.
    pub fn release(&mut self, token: Token) -> Result<(), Error> {
        let (handle, tagged) = self.registry.release_any(token)?;
        self.selector.forget(handle, tagged);
        Ok(())
    }

    /// Sets a timer: after `delay`, [`Handler::timeout`] receives `value`.
    ///
    /// The deadline is rounded up to the next timer tick, so the timer never fires
    /// early; on an unloaded machine it fires within one tick of its deadline. Timers
    /// due at the same tick fire in an unspecified order.
    ///
    /// # Errors
    /// [`TimerError::Full`] with `value` when `TIMERS` timers are pending;
    /// [`TimerError::OutOfRange`] with `value` when the deadline is 2^36 ticks or more
    /// away.
    #[inline]
    pub fn timeout(
        &mut self,
        value: H::Timeout,
        delay: Duration,
    ) -> Result<TimerKey, TimerError<H::Timeout>> {
        let now = self.selector.clock().now().as_nanos();
        let Ok(delay) = u64::try_from(delay.as_nanos()) else {
            return Err(TimerError::OutOfRange(value));
        };
        // Round up: the deadline tick starts at or after now + delay.
        let deadline = now.saturating_add(delay).div_ceil(self.tick_nanos);
        self.extras = true;
        self.timers.insert(deadline, value)
    }

    /// Cancels the pending timer `key` names, freeing its slot at once; `false` when it
    /// already fired or was cleared (a stale key cancels nothing).
    pub fn clear_timeout(&mut self, key: TimerKey) -> bool {
        self.timers.cancel(key).is_some()
    }

    /// Makes this loop the receiver of `channel`: from the next turn on, its messages go
    /// to [`Handler::notify`], and a send wakes the loop when it may be asleep (one
    /// syscall per sleep, however many messages arrive). Returns a sender; any thread
    /// can make more with `channel.sender()`.
    ///
    /// The channel must be `'static` (a `static`, or a `StaticCell`): senders on other
    /// threads borrow it for as long as they like.
    ///
    /// The loop keeps the channel's one [`Receiver`], which is `Send` but not `Sync`:
    /// the ring has one consumer, so no two threads may receive through one
    /// `&Receiver` (nor share the loop that holds it):
    ///
    /// ```compile_fail,E0277
    /// use statio_core::{Channel, Receiver};
    ///
    /// static CHANNEL: Channel<u32, 4> = Channel::new();
    ///
    /// fn shared<T: Sync>(_: &T) {}
    ///
    /// let receiver: Receiver<'static, u32> = CHANNEL.receiver().unwrap();
    /// shared(&receiver); // `Receiver` is not `Sync`
    /// ```
    ///
    /// Dropping the loop detaches the channel: sends fail with
    /// [`SendError::Disconnected`](crate::SendError::Disconnected) (their message handed
    /// back), the messages still queued and the waker (its descriptor) are dropped, and
    /// another loop can attach the channel.
    ///
    /// # Errors
    /// [`Error::ChannelInUse`] when a live loop (this or another) receives the channel,
    /// or this loop has a channel; [`Error::Os`] when the selector cannot make a waker (out of
    /// descriptors, ...): the loop then holds the channel without one, delivering its
    /// messages only when something else wakes it, and a later `attach_channel` with
    /// the same channel tries the waker again.
    pub fn attach_channel(
        &mut self,
        channel: &'static ChannelView<H::Message, S::Waker>,
    ) -> Result<Sender<'static, H::Message, S::Waker>, Error> {
        let receiver = match self.channel.take() {
            // The selector could not make a waker last time: try again for this channel.
            Some(held) if core::ptr::eq(held.channel(), channel) && held.waker().is_none() => held,
            Some(held) => {
                self.channel = Some(held);
                return Err(Error::ChannelInUse);
            }
            None => channel.receiver().ok_or(Error::ChannelInUse)?,
        };
        // On error the loop keeps the receiver: dropping it would detach the channel and
        // refuse the sends meanwhile.
        let waker = self.selector.waker();
        let attached = waker.map(|waker| {
            // Cannot fail: only the receiver attaches, and this one has no waker yet.
            let _ = receiver.attach(waker);
        });
        self.channel = Some(receiver);
        self.extras = true;
        attached?;
        Ok(channel.sender())
    }

    /// A sender into the loop's channel, if one is attached.
    pub fn sender(&self) -> Option<Sender<'static, H::Message, S::Waker>> {
        self.channel.as_ref().map(|rx| rx.channel().sender())
    }

    /// Whether a source is registered under `token`.
    pub fn is_registered(&self, token: Token) -> bool {
        self.registry.is_registered(token)
    }

    /// The registration under `token`, if any. Comparing the values taken before and
    /// after some code tells whether that code ended the registration, even if it
    /// registered a source under the token again: the default
    /// [`Handler::ready`] uses it to skip `writable` when `readable` deregistered.
    pub fn registration(&self, token: Token) -> Option<Registration> {
        self.registry.registration(token)
    }

    /// Makes [`run`](Self::run) return after the current turn.
    pub fn shutdown(&mut self) {
        self.running = false;
        // `run` looks at `running` only after a turn with extras (`turn.rs`).
        self.extras = true;
    }

    /// Whether [`run`](Self::run) is running and has not been shut down.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The loop's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The selector, for port-specific calls.
    pub fn selector(&self) -> &S {
        &self.selector
    }

    /// The selector, mutably, for port-specific calls. Registering through it bypasses
    /// the loop's registry: such events are dropped as stale, and one that keeps coming
    /// is reported as [`Error::Orphaned`].
    pub fn selector_mut(&mut self) -> &mut S {
        &mut self.selector
    }
}
