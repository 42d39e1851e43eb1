//! [`EventLoop`]: a selector, a registry and an events buffer, dispatching to a
//! [`Handler`].
//!
//! One turn ([`run_once`](EventLoop::run_once)) is: one `select`, then for each event an
//! O(1) registry lookup (dropping events of registrations that ended earlier in the
//! batch) and a direct, statically dispatched call of [`Handler::ready`], then
//! [`Handler::tick`]. Nothing else: no clock read, no syscall, no scan.

use core::marker::PhantomData;
use core::time::Duration;

use crate::registry::Registry;
use crate::{Error, Events, Handler, Interest, PollOpt, Selector, Source, Token};

/// The loop's knobs that are not capacities (those are const generics).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    max_sleep: Option<Duration>,
}

impl Config {
    /// The defaults: a turn may sleep as long as nothing happens.
    pub const fn new() -> Config {
        Config { max_sleep: None }
    }

    /// Caps how long one `select` may sleep, e.g. to bound the wait of a loop that
    /// polls something outside the selector.
    pub const fn max_sleep(mut self, cap: Duration) -> Config {
        self.max_sleep = Some(cap);
        self
    }
}

/// An event loop for handler `H` over selector `S`, watching up to `SOURCES` sources
/// (tokens `0..SOURCES`) and taking up to `EVENTS` events per turn.
///
/// Name it once in an alias and use the alias in the handler (see [`Handler`]); the
/// `statio` facade provides one with the native selector filled in. The whole loop is
/// one value of known size: keep it on the stack, in a `static`, or in a `StaticCell`.
///
/// ```
/// use statio_core::sim::{SimSelector, SimSource};
/// use statio_core::{EventLoop, Handler, Interest, PollOpt, Ready, Token};
///
/// type Loop = EventLoop<Counter, SimSelector, 8, 4>;
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
pub struct EventLoop<H, S: Selector, const SOURCES: usize, const EVENTS: usize> {
    selector: S,
    registry: Registry<S::Handle, SOURCES>,
    events: Events<S::Event, EVENTS>,
    config: Config,
    running: bool,
    handler: PhantomData<fn(&mut H)>,
}

impl<H, S, const SOURCES: usize, const EVENTS: usize> EventLoop<H, S, SOURCES, EVENTS>
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
    /// What the OS refused when the selector opened.
    pub fn configured(config: Config) -> Result<Self, Error> {
        Ok(Self::with_selector(S::new()?, config))
    }

    /// A loop over a selector the caller opened.
    pub fn with_selector(selector: S, config: Config) -> Self {
        EventLoop {
            selector,
            registry: Registry::new(),
            events: Events::new(),
            config,
            running: false,
            handler: PhantomData,
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

impl<H, S, const SOURCES: usize, const EVENTS: usize> EventLoop<H, S, SOURCES, EVENTS>
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

    /// Runs one turn: waits up to `timeout` (`None`: until an event), dispatches every
    /// event returned, then calls [`Handler::tick`].
    ///
    /// # Errors
    /// A selector error other than `Interrupted`; `Interrupted` calls
    /// [`Handler::interrupted`] and returns `Ok`.
    pub fn run_once(&mut self, handler: &mut H, timeout: Option<Duration>) -> Result<(), Error> {
        let timeout = match (timeout, self.config.max_sleep) {
            (Some(t), Some(cap)) => Some(t.min(cap)),
            (t, cap) => t.or(cap),
        };
        match self.selector.select(&mut self.events, timeout) {
            Ok(()) => self.dispatch(handler),
            Err(err) if err.is_interrupted() => handler.interrupted(self),
            Err(err) => return Err(err.into()),
        }
        handler.tick(self);
        Ok(())
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
