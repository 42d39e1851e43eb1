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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimSelector, SimSource};
    use crate::{Ready, Token};
    use heapless::Vec;

    type Loop = EventLoop<Recorder, SimSelector, 8, 4>;

    /// Records every callback; optionally deregisters a victim when an event arrives.
    #[derive(Default)]
    struct Recorder {
        ready: Vec<(Token, Ready), 64>,
        interrupted: usize,
        ticks: usize,
        /// On any event of `.0`, deregister source `.1` under token `.2`.
        deregister_on: Option<(Token, SimSource, Token)>,
        /// On the first event of `.0`, deregister source `.2` from token `.1` and register
        /// a new source with the same handle under the same token.
        replace_on: Option<(Token, Token, SimSource)>,
    }

    impl Handler for Recorder {
        type Timeout = ();
        type Message = ();
        type Loop = Loop;

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
        type L = EventLoop<Stopper, SimSelector, 2, 2>;
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
        type L = EventLoop<Seed, SimSelector, 2, 2>;
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
}
