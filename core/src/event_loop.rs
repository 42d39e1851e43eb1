//! [`EventLoop`]: a selector, a registry and an events buffer, dispatching to a
//! [`Handler`].
//!
//! One turn ([`run_once`](EventLoop::run_once)) is: one `select`, then for each event an
//! O(1) registry lookup (dropping events of registrations that ended earlier in the
//! batch) and a direct, statically dispatched call of [`Handler::ready`], then the
//! expired timers ([`Handler::timeout`]), then up to `messages_per_tick` messages of the
//! channel ([`Handler::notify`]), then [`Handler::tick`]. With no timer pending and no
//! channel attached, nothing else: no clock read, no atomic, no syscall, no scan.
//!
//! Timers are tickless: the select's timeout is the time to the earliest deadline,
//! rounded up to the timer tick, so an idle loop sleeps until its next timer (or for
//! ever) and a timer never fires before its deadline.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use crate::channel::{ChannelView, Receiver, Sender};
use crate::registry::Registry;
use crate::wheel::{InsertError, TimerKey, Wheel};
use crate::{Clock, Error, Events, Handler, Interest, PollOpt, Selector, Source, Token};

/// The handle of a timer set with [`EventLoop::timeout`], to cancel it with
/// [`EventLoop::clear_timeout`]; stale once the timer fired or was cleared.
pub type Timeout = TimerKey;

/// Why [`EventLoop::timeout`] refused a timer; the value comes back in it.
pub type TimerError<T> = InsertError<T>;

/// The loop's knobs that are not capacities (those are const generics).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    max_sleep: Option<Duration>,
    timer_tick: Duration,
    messages_per_tick: usize,
}

impl Config {
    /// The defaults: a turn may sleep as long as nothing happens; timers have a 1 ms
    /// tick; a turn takes up to 256 channel messages.
    pub const fn new() -> Config {
        Config {
            max_sleep: None,
            timer_tick: Duration::from_millis(1),
            messages_per_tick: 256,
        }
    }

    /// Sets how many channel messages one turn delivers at most, so a flood of messages
    /// cannot starve I/O and timers; the rest wait for the next turn (which then does
    /// not sleep). Zero is taken as one, so messages always make progress.
    pub const fn messages_per_tick(mut self, messages: usize) -> Config {
        self.messages_per_tick = if messages == 0 { 1 } else { messages };
        self
    }

    /// Sets the timer resolution: deadlines are rounded up to a whole tick, and the
    /// wheel's range is 2^36 ticks (795 days at 1 ms). A zero tick is refused by
    /// [`EventLoop::configured`].
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
        let tick_nanos = tick_nanos(&config)?;
        let now = current_tick(&selector, tick_nanos);
        Ok(EventLoop {
            selector,
            registry: Registry::new(),
            events: Events::new(),
            timers: Wheel::starting_at(now),
            tick_nanos,
            channel: None,
            config,
            running: false,
            handler: PhantomData,
        })
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
    /// dropped source leaves its token held.
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
    pub fn timeout(
        &mut self,
        value: H::Timeout,
        delay: Duration,
    ) -> Result<Timeout, TimerError<H::Timeout>> {
        let now = self.selector.clock().now().as_nanos();
        let Ok(delay) = u64::try_from(delay.as_nanos()) else {
            return Err(TimerError::OutOfRange(value));
        };
        // Round up: the deadline tick starts at or after now + delay.
        let deadline = now.saturating_add(delay).div_ceil(self.tick_nanos);
        self.timers.insert(deadline, value)
    }

    /// Cancels a pending timer, freeing its slot at once; `false` when it already
    /// fired or was cleared (a stale handle cancels nothing).
    pub fn clear_timeout(&mut self, timeout: Timeout) -> bool {
        self.timers.cancel(timeout).is_some()
    }

    /// Makes this loop the receiver of `channel`: from the next turn on, its messages go
    /// to [`Handler::notify`], and a send wakes the loop when it may be asleep (one
    /// syscall per sleep, however many messages arrive). Returns a sender; any thread
    /// can make more with `channel.sender()`.
    ///
    /// The channel must be `'static` (a `static`, or a `StaticCell`): senders on other
    /// threads borrow it for as long as they like.
    ///
    /// # Errors
    /// [`Error::ChannelInUse`] when the channel's receiver was taken already or this
    /// loop has a channel; [`Error::Os`] when the selector cannot make a waker (out of
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
        // On error the loop keeps the receiver: dropping it would close the channel for good.
        let waker = self.selector.waker();
        let attached = waker.map(|waker| {
            // Cannot fail: only the receiver attaches, and this one has no waker yet.
            let _ = receiver.attach(waker);
        });
        self.channel = Some(receiver);
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

    /// Makes [`run`](Self::run) return after the current turn.
    pub fn shutdown(&mut self) {
        self.running = false;
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
    /// the loop's registry: such events are dropped as stale.
    pub fn selector_mut(&mut self) -> &mut S {
        &mut self.selector
    }
}

/// `config.timer_tick` in nanoseconds, checked.
/// The timer tick the selector's clock is in (ticks of `tick_nanos` since its origin).
fn current_tick<S: Selector>(selector: &S, tick_nanos: u64) -> u64 {
    selector.clock().now().as_nanos() / tick_nanos
}

fn tick_nanos(config: &Config) -> Result<u64, Error> {
    match u64::try_from(config.timer_tick.as_nanos()) {
        Ok(0) => Err(Error::InvalidConfig("the timer tick is zero")),
        Ok(nanos) => Ok(nanos),
        Err(_) => Err(Error::InvalidConfig("the timer tick is 2^64 ns or more")),
    }
}

/// A `static` home for an [`EventLoop`] that costs memory only where the loop is used.
///
/// [`new`](LoopCell::new) is `const` and all zero bytes, so the cell sits in `.bss`:
/// no bytes in the binary, and no resident page until something writes there.
/// [`init`](LoopCell::init) then builds the loop in place, once: it opens the selector
/// and writes only the few fields whose empty state is not zero bytes. The registry's
/// slots, the events buffer, and the timer wheel's heads, bitmaps and free stack are
/// left as they are, so their pages become resident only as tokens, events and timers
/// use them, and the loop is never copied through the stack. (Building a loop by value
/// and moving it into a `StaticCell` writes all of it, at least twice.)
///
/// ```
/// use statio_core::sim::{SimSelector, SimSource};
/// use statio_core::{Config, EventLoop, Handler, LoopCell, Token};
///
/// type Loop = EventLoop<App, SimSelector, /*sources*/ 1024, /*timers*/ 0, /*events*/ 64>;
///
/// struct App;
///
/// impl Handler for App {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
/// }
///
/// static LOOP: LoopCell<Loop> = LoopCell::new();
///
/// let event_loop: &'static mut Loop = LOOP.init(Config::new()).unwrap();
/// event_loop.register(&SimSource(3), Token(7)).unwrap();
/// assert!(LOOP.init(Config::new()).is_err(), "a cell holds one loop, built once");
/// ```
///
/// The loop is never dropped (as with `StaticCell`): its selector stays open until the
/// process exits.
pub struct LoopCell<L> {
    taken: AtomicBool,
    place: UnsafeCell<MaybeUninit<L>>,
}

// SAFETY: the only access to `place` is through `init`, which hands out its `&mut`
// once (the `taken` flag), so sharing the cell shares no access to the loop; the
// loop may be built on one thread and used on another, hence `L: Send`.
unsafe impl<L: Send> Sync for LoopCell<L> {}

impl<L> LoopCell<L> {
    /// An empty cell: all zero bytes, so a `static` of it lives in `.bss`.
    pub const fn new() -> Self {
        LoopCell {
            taken: AtomicBool::new(false),
            place: UnsafeCell::new(MaybeUninit::zeroed()),
        }
    }
}

impl<L> Default for LoopCell<L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    LoopCell<EventLoop<H, S, SOURCES, TIMERS, EVENTS>>
where
    H: Handler,
    S: Selector,
{
    /// Builds the loop in the cell with `config` over a new selector, as
    /// [`EventLoop::configured`] would, and returns it.
    ///
    /// # Errors
    /// [`Error::LoopCellTaken`] when the cell already holds a loop; otherwise as
    /// [`EventLoop::configured`], and the cell stays empty (a later `init` may retry).
    pub fn init(
        &'static self,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        self.init_with(S::new, config)
    }

    /// Builds the loop in the cell over a selector the caller opened, as
    /// [`EventLoop::with_selector`] would, and returns it.
    ///
    /// # Errors
    /// As [`init`](Self::init), less the selector's; on an error `selector` is dropped.
    pub fn init_with_selector(
        &'static self,
        selector: S,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        self.init_with(|| Ok(selector), config)
    }

    // The `&mut` is unique: `taken` lets one call ever reach `place` (as `StaticCell`).
    #[allow(clippy::mut_from_ref)]
    fn init_with(
        &'static self,
        open: impl FnOnce() -> Result<S, crate::OsError>,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        // The registry's capacity check, which `Registry::new` makes and this path skips.
        let () = Registry::<S::Handle, SOURCES>::FITS;
        // Relaxed: the flag only elects the one caller that may write; the loop it
        // builds reaches other threads only through that caller's own synchronisation.
        if self.taken.swap(true, Ordering::Relaxed) {
            return Err(Error::LoopCellTaken);
        }
        let opened = tick_nanos(&config).and_then(|tick| Ok((tick, open()?)));
        let (tick_nanos, selector) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                // Nothing was written: the cell is still all zeros, free to try again.
                self.taken.store(false, Ordering::Relaxed);
                return Err(err);
            }
        };
        let now = current_tick(&selector, tick_nanos);
        let place = self
            .place
            .get()
            .cast::<EventLoop<H, S, SOURCES, TIMERS, EVENTS>>();
        // SAFETY: `taken` makes this the only access to `place` ever, which is valid,
        // aligned and all zero bytes (`new`; nothing wrote since). Each field is
        // written through a raw place (no reference to the not yet valid loop), except
        // those whose zero bytes are their empty state: the registry (documented on
        // `Registry`) and the wheel's parts that `Wheel::init_zeroed` leaves (its
        // contract). So every field is valid after these writes, and `write` drops
        // nothing.
        unsafe {
            (&raw mut (*place).selector).write(selector);
            (&raw mut (*place).events).write(Events::new());
            Wheel::init_zeroed(&raw mut (*place).timers, now);
            (&raw mut (*place).tick_nanos).write(tick_nanos);
            (&raw mut (*place).channel).write(None);
            (&raw mut (*place).config).write(config);
            (&raw mut (*place).running).write(false);
            (&raw mut (*place).handler).write(PhantomData);
            Ok(&mut *place)
        }
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

    /// Runs one turn: waits up to `timeout` (`None`: until an event), and no longer
    /// than until the next timer's deadline; dispatches every event returned, then the
    /// timers that expired, then calls [`Handler::tick`].
    ///
    /// # Errors
    /// A selector error other than `Interrupted`; `Interrupted` calls
    /// [`Handler::interrupted`] and returns `Ok`.
    pub fn run_once(&mut self, handler: &mut H, timeout: Option<Duration>) -> Result<(), Error> {
        let mut timeout = [timeout, self.config.max_sleep, self.time_to_next_timer()]
            .into_iter()
            .flatten()
            .min();
        // Tell senders the loop may sleep (they will wake it), unless messages wait.
        let may_sleep = timeout != Some(Duration::ZERO);
        if let Some(channel) = &self.channel
            && may_sleep
            && !channel.prepare_sleep()
        {
            timeout = Some(Duration::ZERO);
        }
        let selected = self.selector.select(&mut self.events, timeout);
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

    /// Hands up to `messages_per_tick` channel messages to [`Handler::notify`].
    fn deliver_messages(&mut self, handler: &mut H) {
        for _ in 0..self.config.messages_per_tick {
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

    fn dispatch(&mut self, handler: &mut H) {
        let mut i = 0;
        // Indexing (not iterating) lets the handler borrow the loop between events.
        while let Some(&event) = self.events.get(i) {
            i += 1;
            if let Some(token) = self.registry.resolve(S::token(&event)) {
                handler.ready(self, token, S::ready(&event));
            }
        }
    }
}

// Not under loom: these tests keep channels in `static`s, and loom's atomics are neither
// `const` nor usable outside a loom model (`.ci/run`'s loom step builds every lib test).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sim::{SimSelector, SimSource};
    use crate::{Ready, Token};
    use heapless::Vec;

    type Loop = EventLoop<Recorder, SimSelector, 8, 4, 4>;

    /// Records every callback; optionally deregisters a victim when an event arrives.
    #[derive(Default)]
    struct Recorder {
        ready: Vec<(Token, Ready), 64>,
        /// Each timer value fired, with the simulated time it fired at.
        fired: Vec<(u32, Duration), 64>,
        /// Timer values that set a new timer of zero delay when they fire.
        rearm: Option<u32>,
        /// Each channel message, in the order delivered.
        notified: Vec<u32, 64>,
        interrupted: usize,
        ticks: usize,
        /// On any event of `.0`, deregister source `.1` under token `.2`.
        deregister_on: Option<(Token, SimSource, Token)>,
        /// On the first event of `.0`, deregister source `.2` from token `.1` and register
        /// a new source with the same handle under the same token.
        replace_on: Option<(Token, Token, SimSource)>,
    }

    impl Handler for Recorder {
        type Timeout = u32;
        type Message = u32;
        type Loop = Loop;

        fn notify(&mut self, _: &mut Loop, message: u32) {
            self.notified.push(message).unwrap();
        }

        fn timeout(&mut self, el: &mut Loop, value: u32) {
            let at = el
                .selector()
                .clock()
                .now()
                .duration_since(crate::Instant::ZERO);
            self.fired.push((value, at)).unwrap();
            if self.rearm == Some(value) {
                el.timeout(value, Duration::ZERO).unwrap();
            }
        }

        fn ready(&mut self, el: &mut Loop, token: Token, ready: Ready) {
            self.ready.push((token, ready)).unwrap();
            if let Some((on, victim, victim_token)) = self.deregister_on
                && on == token
            {
                el.deregister(&victim, victim_token).unwrap();
            }
            if let Some((on, victim_token, source)) = self.replace_on
                && on == token
            {
                self.replace_on = None;
                el.deregister(&source, victim_token).unwrap();
                el.register(&SimSource(source.0), victim_token).unwrap();
            }
        }

        fn interrupted(&mut self, _: &mut Loop) {
            self.interrupted += 1;
        }

        fn tick(&mut self, _: &mut Loop) {
            self.ticks += 1;
        }
    }

    fn tokens(r: &Recorder) -> std::vec::Vec<usize> {
        r.ready.iter().map(|(t, _)| t.0).collect()
    }

    extern crate std;

    #[test]
    fn dispatches_ready_sources_with_their_tokens() {
        let mut el = Loop::new().unwrap();
        el.register(&SimSource(10), Token(3)).unwrap();
        el.register_opt(
            &SimSource(11),
            Token(5),
            Interest::WRITABLE,
            PollOpt::edge(),
        )
        .unwrap();
        el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
        el.selector_mut().set_ready(11, Ready::WRITABLE).unwrap();
        let mut rec = Recorder::default();
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(
            rec.ready.as_slice(),
            &[(Token(3), Ready::READABLE), (Token(5), Ready::WRITABLE)]
        );
        assert_eq!(rec.ticks, 1);
    }

    #[test]
    fn a_loop_built_in_its_cell_works_and_is_built_once() {
        static CELL: LoopCell<Loop> = LoopCell::new();
        let zero = Config::new().timer_tick(Duration::ZERO);
        assert!(matches!(CELL.init(zero), Err(Error::InvalidConfig(_))));
        // The refusal left the cell empty: a valid config builds the loop.
        let el = CELL.init(Config::new()).unwrap();
        assert!(matches!(
            CELL.init(Config::new()),
            Err(Error::LoopCellTaken)
        ));
        el.register(&SimSource(10), Token(3)).unwrap();
        el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
        el.timeout(7, Duration::from_millis(2)).unwrap();
        let mut rec = Recorder::default();
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(tokens(&rec), [3]);
        el.deregister(&SimSource(10), Token(3)).unwrap();
        assert!(!el.is_registered(Token(3)));
        // Nothing ready: the turn sleeps until the timer's deadline.
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(fired(&rec), [7]);
    }

    #[test]
    fn every_limit_is_a_typed_error() {
        let mut el = Loop::new().unwrap();
        assert_eq!(
            el.register(&SimSource(1), Token(8)),
            Err(Error::TokenOutOfRange {
                token: Token(8),
                capacity: 8
            })
        );
        el.register(&SimSource(1), Token(0)).unwrap();
        assert_eq!(
            el.register(&SimSource(2), Token(0)),
            Err(Error::TokenInUse(Token(0)))
        );
        // The same source under a second token: the selector refuses, the token stays free.
        let err = el.register(&SimSource(1), Token(1)).unwrap_err();
        assert!(matches!(err, Error::Os(os) if os.kind() == embedded_io::ErrorKind::AlreadyExists));
        assert!(!el.is_registered(Token(1)));
        assert_eq!(
            el.reregister(&SimSource(2), Token(0), Interest::BOTH, PollOpt::edge()),
            Err(Error::NotRegistered(Token(0)))
        );
        assert_eq!(
            el.deregister(&SimSource(1), Token(7)),
            Err(Error::NotRegistered(Token(7)))
        );
        assert_eq!(
            el.deregister(&SimSource(1), Token(99)),
            Err(Error::NotRegistered(Token(99)))
        );
        el.deregister(&SimSource(1), Token(0)).unwrap();
        assert!(!el.is_registered(Token(0)));
    }

    #[test]
    fn a_source_deregistered_in_the_batch_gets_no_event() {
        let mut el = Loop::new().unwrap();
        el.register(&SimSource(10), Token(1)).unwrap();
        el.register(&SimSource(11), Token(2)).unwrap();
        el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
        el.selector_mut().set_ready(11, Ready::READABLE).unwrap();
        let mut rec = Recorder {
            deregister_on: Some((Token(1), SimSource(11), Token(2))),
            ..Recorder::default()
        };
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(tokens(&rec), [1]);
    }

    #[test]
    fn a_handle_reopened_in_the_batch_gets_no_stale_event() {
        // Tokens 1 and 2 are ready in one batch. Handling token 1, the handler closes
        // token 2's source and registers a new source with the same handle number under
        // the same token. The queued event belongs to the old registration: dropped.
        let mut el = Loop::new().unwrap();
        el.register(&SimSource(10), Token(1)).unwrap();
        el.register(&SimSource(11), Token(2)).unwrap();
        el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
        el.selector_mut().set_ready(11, Ready::READABLE).unwrap();
        let mut rec = Recorder {
            replace_on: Some((Token(1), Token(2), SimSource(11))),
            ..Recorder::default()
        };
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(tokens(&rec), [1]);
        assert!(el.is_registered(Token(2)));
        // The new registration reports its own readiness, and only that.
        el.deregister(&SimSource(10), Token(1)).unwrap();
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(tokens(&rec), [1]);
        el.selector_mut()
            .set_ready(11, Ready::WRITABLE | Ready::READABLE)
            .unwrap();
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(tokens(&rec), [1, 2]);
    }

    #[test]
    fn overflowing_the_events_buffer_loses_nothing() {
        // 4 events per turn, 7 ready edge-triggered sources: two turns deliver all 7.
        let mut el = Loop::new().unwrap();
        for i in 0..7 {
            el.register_opt(
                &SimSource(i),
                Token(i as usize),
                Interest::READABLE,
                PollOpt::edge(),
            )
            .unwrap();
            el.selector_mut().set_ready(i, Ready::READABLE).unwrap();
        }
        let mut rec = Recorder::default();
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(rec.ready.len(), 4);
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        let mut seen = tokens(&rec);
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4, 5, 6]);
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(rec.ready.len(), 7, "edge-triggered: nothing more");
    }

    #[test]
    fn eintr_reaches_interrupted_and_the_loop_goes_on() {
        let mut el = Loop::new().unwrap();
        el.register(&SimSource(1), Token(0)).unwrap();
        el.selector_mut().interrupt_next();
        let mut rec = Recorder::default();
        el.run_once(&mut rec, None).unwrap();
        assert_eq!((rec.interrupted, rec.ready.len(), rec.ticks), (1, 0, 1));
        el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(tokens(&rec), [0]);
    }

    #[test]
    fn max_sleep_caps_the_select_timeout() {
        let cap = Duration::from_millis(5);
        let mut el = Loop::configured(Config::new().max_sleep(cap)).unwrap();
        let mut rec = Recorder::default();
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(el.selector().last_timeout(), Some(cap));
        el.run_once(&mut rec, Some(Duration::from_millis(1)))
            .unwrap();
        assert_eq!(el.selector().last_timeout(), Some(Duration::from_millis(1)));
        let mut el = Loop::new().unwrap();
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(el.selector().last_timeout(), None);
    }

    #[test]
    fn run_returns_after_shutdown_and_reports_running() {
        struct Stopper(usize);
        type L = EventLoop<Stopper, SimSelector, 2, 0, 2>;
        impl Handler for Stopper {
            type Timeout = ();
            type Message = ();
            type Loop = L;
            fn tick(&mut self, el: &mut L) {
                assert!(el.is_running());
                self.0 += 1;
                if self.0 == 3 {
                    el.shutdown();
                }
            }
        }
        let mut el = L::new().unwrap();
        let mut h = Stopper(0);
        assert!(!el.is_running());
        el.run(&mut h).unwrap();
        assert_eq!(h.0, 3);
        assert!(!el.is_running());
    }

    #[test]
    fn default_ready_routes_to_readable_and_writable() {
        #[derive(Default)]
        struct Seed {
            readable: Vec<Ready, 8>,
            writable: usize,
        }
        type L = EventLoop<Seed, SimSelector, 2, 1, 2>;
        impl Handler for Seed {
            type Timeout = ();
            type Message = ();
            type Loop = L;
            fn readable(&mut self, _: &mut L, _: Token, hint: Ready) {
                self.readable.push(hint).unwrap();
            }
            fn writable(&mut self, _: &mut L, _: Token) {
                self.writable += 1;
            }
        }
        let mut el = L::new().unwrap();
        el.register_opt(&SimSource(1), Token(0), Interest::BOTH, PollOpt::edge())
            .unwrap();
        let mut h = Seed::default();
        let turn = |el: &mut L, h: &mut Seed, r: Ready| {
            el.selector_mut().set_ready(1, r).unwrap();
            el.run_once(h, Some(Duration::ZERO)).unwrap();
        };
        turn(&mut el, &mut h, Ready::READABLE | Ready::WRITABLE);
        turn(&mut el, &mut h, Ready::HUP);
        turn(&mut el, &mut h, Ready::WRITABLE);
        assert_eq!(
            h.readable.as_slice(),
            &[Ready::READABLE | Ready::WRITABLE, Ready::HUP]
        );
        assert_eq!(h.writable, 2);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn fired(rec: &Recorder) -> std::vec::Vec<u32> {
        rec.fired.iter().map(|(v, _)| *v).collect()
    }

    #[test]
    fn a_timer_fires_once_at_its_deadline_never_before() {
        let mut el = Loop::new().unwrap();
        let mut rec = Recorder::default();
        el.timeout(7, ms(10)).unwrap();
        // The select sleeps exactly until the deadline, then the timer fires.
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(el.selector().last_timeout(), Some(ms(10)));
        assert_eq!(rec.fired.as_slice(), &[(7, ms(10))]);
        // Nothing pending: the next turn may sleep for ever.
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(el.selector().last_timeout(), None);
        assert_eq!(rec.fired.len(), 1);
    }

    #[test]
    fn a_deadline_between_ticks_rounds_up() {
        let tick = Config::new().timer_tick(ms(10));
        let mut el = Loop::configured(tick).unwrap();
        let mut rec = Recorder::default();
        el.timeout(1, Duration::from_micros(10_001)).unwrap();
        // Not due at 10 ms (that would be early): the deadline is the 20 ms tick.
        el.run_once(&mut rec, Some(ms(10))).unwrap();
        assert!(rec.fired.is_empty());
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(rec.fired.as_slice(), &[(1, ms(20))]);
    }

    #[test]
    fn an_idle_loop_sleeps_until_its_timer() {
        // One timer 2 s away, nothing else: at most a handful of selects before it fires.
        let mut el = Loop::new().unwrap();
        let mut rec = Recorder::default();
        el.timeout(1, Duration::from_secs(2)).unwrap();
        for _ in 0..5 {
            if !rec.fired.is_empty() {
                break;
            }
            el.run_once(&mut rec, None).unwrap();
        }
        assert_eq!(fired(&rec), [1]);
        assert!(
            el.selector().select_calls() <= 2,
            "{} selects",
            el.selector().select_calls()
        );
    }

    #[test]
    fn a_clock_jump_fires_every_overdue_timer_once_in_order() {
        let mut el = Loop::new().unwrap();
        let mut rec = Recorder::default();
        for (value, delay) in [(3, 300_000), (1, 5), (2, 70), (4, 5_000_000)] {
            el.timeout(value, ms(delay)).unwrap();
        }
        el.selector().clock().advance(Duration::from_secs(7200));
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(fired(&rec), [1, 2, 3, 4]);
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(rec.fired.len(), 4);
    }

    #[test]
    fn clear_timeout_cancels_once_and_stale_handles_cancel_nothing() {
        let mut el = Loop::new().unwrap();
        let mut rec = Recorder::default();
        let a = el.timeout(1, ms(5)).unwrap();
        let b = el.timeout(2, ms(5)).unwrap();
        assert!(el.clear_timeout(a));
        assert!(!el.clear_timeout(a));
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(fired(&rec), [2]);
        assert!(!el.clear_timeout(b), "fired: its handle is stale");
        // A new timer reuses a's slot; a's handle still cancels nothing.
        let _c = el.timeout(3, ms(5)).unwrap();
        assert!(!el.clear_timeout(a));
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(fired(&rec), [2, 3]);
    }

    #[test]
    fn timer_limits_hand_the_value_back() {
        let mut el = Loop::new().unwrap();
        for i in 0..4 {
            el.timeout(i, ms(1)).unwrap();
        }
        assert_eq!(el.timeout(99, ms(1)), Err(TimerError::Full(99)));
        let mut el = Loop::new().unwrap();
        assert_eq!(
            el.timeout(5, Duration::from_secs(100 * 365 * 86_400)),
            Err(TimerError::OutOfRange(5))
        );
        assert_eq!(el.timeout(6, Duration::MAX), Err(TimerError::OutOfRange(6)));
    }

    #[test]
    fn a_zero_tick_is_refused() {
        let zero = Config::new().timer_tick(Duration::ZERO);
        assert!(matches!(
            Loop::configured(zero),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn a_timer_rearmed_at_zero_delay_cannot_starve_io() {
        let mut el = Loop::new().unwrap();
        el.register(&SimSource(1), Token(0)).unwrap();
        el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
        let mut rec = Recorder {
            rearm: Some(9),
            ..Recorder::default()
        };
        el.timeout(9, Duration::ZERO).unwrap();
        for _ in 0..3 {
            el.run_once(&mut rec, None).unwrap();
        }
        // One firing per turn, and the level-triggered source every turn.
        assert_eq!(fired(&rec), [9, 9, 9]);
        assert_eq!(tokens(&rec), [0, 0, 0]);
        assert_eq!(el.selector().last_timeout(), Some(Duration::ZERO));
    }

    use crate::channel::{Channel, NoWake, SendError};

    #[test]
    fn channel_messages_reach_notify_in_order_a_bounded_number_per_turn() {
        static CHANNEL: Channel<u32, 4, NoWake> = Channel::new();
        let mut el = Loop::configured(Config::new().messages_per_tick(3)).unwrap();
        assert!(el.sender().is_none());
        let tx = el.attach_channel(&CHANNEL).unwrap();
        for i in 0..4 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.send(4), Err(SendError::Full(4)));
        let mut rec = Recorder::default();
        el.run_once(&mut rec, None).unwrap();
        // Messages were queued, so the turn did not sleep; three of four were delivered.
        assert_eq!(el.selector().last_timeout(), Some(Duration::ZERO));
        assert_eq!(rec.notified.as_slice(), &[0, 1, 2]);
        el.run_once(&mut rec, None).unwrap();
        assert_eq!(el.selector().last_timeout(), Some(Duration::ZERO));
        assert_eq!(rec.notified.as_slice(), &[0, 1, 2, 3]);
        // Nothing queued: the loop may sleep as long as it was asked to.
        el.sender().unwrap().send(5).unwrap();
        el.run_once(&mut rec, Some(ms(7))).unwrap();
        el.run_once(&mut rec, Some(ms(7))).unwrap();
        assert_eq!(el.selector().last_timeout(), Some(ms(7)));
        assert_eq!(rec.notified.as_slice(), &[0, 1, 2, 3, 5]);
    }

    #[test]
    fn a_channel_has_one_receiving_loop_and_a_loop_one_channel() {
        static FIRST: Channel<u32, 2, NoWake> = Channel::new();
        static SECOND: Channel<u32, 2, NoWake> = Channel::new();
        let mut a = Loop::new().unwrap();
        let mut b = Loop::new().unwrap();
        a.attach_channel(&FIRST).unwrap();
        assert!(matches!(
            a.attach_channel(&SECOND),
            Err(Error::ChannelInUse)
        ));
        assert!(matches!(b.attach_channel(&FIRST), Err(Error::ChannelInUse)));
        // SECOND was not consumed by the refusal: another loop can still take it.
        b.attach_channel(&SECOND).unwrap();
    }

    #[test]
    fn a_failed_waker_keeps_the_channel_and_a_retry_attaches_it() {
        static CHANNEL: Channel<u32, 2, NoWake> = Channel::new();
        static OTHER: Channel<u32, 2, NoWake> = Channel::new();
        let mut el = Loop::new().unwrap();
        el.selector_mut().refuse_next_waker();
        let err = el.attach_channel(&CHANNEL).unwrap_err();
        assert!(matches!(err, Error::Os(os) if os.code() == 24));
        // The channel is not closed: messages still reach the loop.
        CHANNEL.sender().send(1).unwrap();
        let mut rec = Recorder::default();
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
        assert_eq!(rec.notified.as_slice(), &[1]);
        // Another channel is refused; the same one gets its waker now.
        assert!(matches!(
            el.attach_channel(&OTHER),
            Err(Error::ChannelInUse)
        ));
        el.attach_channel(&CHANNEL).unwrap();
        assert!(CHANNEL.waker().is_some());
        assert!(matches!(
            el.attach_channel(&CHANNEL),
            Err(Error::ChannelInUse)
        ));
    }
}
