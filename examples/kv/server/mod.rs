//! The key-value server behind `examples/kv`: one table holds the listener, the
//! signal source and every connection; the store (`statio_protocols::kv`) serves them
//! all. Shared with the integration tests (tests/kv.rs), which run it with smaller
//! capacities.
//!
//! Behaviour, for each kind of input (what a connection does: [`conn`]):
//! - Commands are answered in order; the replies to the commands of one read leave in
//!   one write. RESP errors are Redis's (the store's docs list them); malformed RESP
//!   gets `-ERR Protocol error: ...` and the connection is closed.
//! - EOF, a reset or any other socket error: the connection is deregistered and closed.
//! - The table is full: a new connection is accepted and closed at once (its client
//!   sees EOF); [`Stats::rejected`] counts these. `accept` failing (e.g. `EMFILE`) is
//!   counted in [`Stats::accept_errors`]; the connection stays queued until the next
//!   readiness of the listener.
//! - Expiry: every read checks a key's deadline (an expired key is never seen); while
//!   keys have deadlines a timer on the loop's wheel removes expired ones, 20 keys
//!   looked at every 100 ms and again at once while more than a quarter of them had
//!   expired (Redis's active expiry). No key with a deadline, no timer.
//! - `SIGTERM` or `SIGINT` (when [`Server::watch_signals`] was called): the listener
//!   and every connection are closed and the loop stops; `SIGHUP` is logged (there is
//!   nothing to reload: every setting is fixed at compile time).

pub mod conn;

use core::net::SocketAddr;
use core::time::Duration;

use statio::buf::BufPool;
use statio::net::{TcpListener, TcpStream};
use statio::signal::{SIGHUP, SIGINT, SIGTERM, SignalSet};
use statio::{
    Clock, EventLoop, Handler, Interest, Key, PollOpt, Ready, Selector, Signals, Slab, TimerKey,
    Token,
};

use conn::{After, Block, Conn, Shared, Store};

/// How many events one turn takes.
pub const EVENTS: usize = 256;
/// Timers: the expiry sweep's only.
pub const TIMERS: usize = 1;
/// The signals the server stops on (`SIGTERM`, `SIGINT`) or logs (`SIGHUP`).
pub const SIGNALS: SignalSet = SignalSet::new().with(SIGTERM).with(SIGINT).with(SIGHUP);

/// How often the expiry sweep runs while keys have deadlines, and what it looks at.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
const SWEEP_KEYS: usize = 20;
/// Sweep steps one timer may take while each removes more than a quarter of its keys.
const SWEEP_ROUNDS: usize = 16;

/// The loop of a server whose table holds `N` sources (listener and signals
/// included), with a pool of `BUFS` buffers and a store of `KEYS` keys.
pub type KvLoop<'p, const N: usize, const BUFS: usize, const KEYS: usize> =
    EventLoop<Server<'p, N, BUFS, KEYS>, N, TIMERS, EVENTS>;

/// A pool of `BUFS` buffers for the connections' bytes in flight.
pub type Pool<const BUFS: usize> = BufPool<Block, BUFS>;

enum Source<'p, const BUFS: usize> {
    Listener(TcpListener),
    Signals(Signals),
    Conn(Conn<'p, BUFS>),
}

/// What the server counted.
#[derive(Copy, Clone, Debug, Default)]
pub struct Stats {
    /// Connections accepted into the table.
    pub accepted: usize,
    /// Connections closed at once because the table was full.
    pub rejected: usize,
    /// `accept` calls that failed.
    pub accept_errors: usize,
    /// Connections closed (by either side, or at shutdown).
    pub closed: usize,
}

/// The server: a listener, optionally a signal source, and up to `N - 2` connections
/// in one table of `N`; a store of `KEYS` keys; `BUFS` pooled buffers (at least two per
/// connection, so a connection never waits for one).
pub struct Server<'p, const N: usize, const BUFS: usize, const KEYS: usize> {
    table: Slab<Source<'p, BUFS>, N>,
    shared: Shared<'p, KEYS, BUFS>,
    /// Whether `shared.now_ms` was read in this turn.
    clock_read: bool,
    /// The expiry sweep's timer, while keys have deadlines.
    sweep: Option<TimerKey>,
    /// What happened so far.
    pub stats: Stats,
}

impl<'p, const N: usize, const BUFS: usize, const KEYS: usize> Server<'p, N, BUFS, KEYS> {
    /// A server with an empty table over `store` and `pool`.
    pub fn new(store: &'p mut Store<KEYS>, pool: &'p Pool<BUFS>) -> Self {
        const {
            assert!(
                BUFS >= 2 * N,
                "two pooled buffers per connection: a connection never waits for one"
            )
        };
        Server {
            table: Slab::new(),
            shared: Shared {
                store,
                pool,
                scratch: [0; conn::BUF],
                out: Block::new(),
                now_ms: 0,
            },
            clock_read: false,
            sweep: None,
            stats: Stats::default(),
        }
    }

    /// Binds `addr`, registers the listener, and returns the address bound.
    ///
    /// # Errors
    /// What the OS refused (address in use, ...), or a full table.
    pub fn listen(
        &mut self,
        event_loop: &mut KvLoop<'p, N, BUFS, KEYS>,
        addr: SocketAddr,
    ) -> Result<SocketAddr, statio::Error> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        self.add(event_loop, Source::Listener(listener), Interest::READABLE)?;
        Ok(local)
    }

    /// Stops the server on `SIGTERM` and `SIGINT`, logs `SIGHUP`: registers `signals`
    /// (made for [`SIGNALS`], blocked in every thread first: see `Signals::block`).
    ///
    /// # Errors
    /// A full table, or the registration refused.
    pub fn watch_signals(
        &mut self,
        event_loop: &mut KvLoop<'p, N, BUFS, KEYS>,
        signals: Signals,
    ) -> Result<(), statio::Error> {
        self.add(event_loop, Source::Signals(signals), Interest::READABLE)
    }

    // Read by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Keys held, expired ones not yet removed included.
    pub fn keys(&self) -> usize {
        self.shared.store.len()
    }

    // Read by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Connections in the table.
    pub fn connections(&self) -> usize {
        self.table
            .iter()
            .filter(|(_, source)| matches!(source, Source::Conn(_)))
            .count()
    }

    // Read by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Pooled buffers the connections hold now, and the most ever lent at once.
    pub fn buffers(&self) -> (usize, usize) {
        (self.shared.pool.lent(), self.shared.pool.peak_lent())
    }

    fn add(
        &mut self,
        event_loop: &mut KvLoop<'p, N, BUFS, KEYS>,
        source: Source<'p, BUFS>,
        interest: Interest,
    ) -> Result<(), statio::Error> {
        let Ok(key) = self.table.insert(source) else {
            return Err(statio::Error::TokenInUse(Token(N)));
        };
        let registered = match self.table.get(key) {
            Some(Source::Listener(listener)) => {
                event_loop.register_opt(listener, Token(key.index()), interest, PollOpt::level())
            }
            Some(Source::Signals(signals)) => {
                event_loop.register_opt(signals, Token(key.index()), interest, PollOpt::level())
            }
            Some(Source::Conn(conn)) => {
                event_loop.register_opt(&conn.stream, Token(key.index()), interest, PollOpt::edge())
            }
            None => Ok(()),
        };
        if registered.is_err() {
            self.table.remove(key);
        }
        registered
    }

    fn remove(&mut self, event_loop: &mut KvLoop<'p, N, BUFS, KEYS>, key: Key) {
        let token = Token(key.index());
        // Deregistering a source about to close cannot fail in a way that matters:
        // closing it removes it from the selector too.
        match self.table.remove(key) {
            Some(Source::Listener(listener)) => {
                let _ = event_loop.deregister(&listener, token);
            }
            Some(Source::Signals(signals)) => {
                let _ = event_loop.deregister(&signals, token);
            }
            Some(Source::Conn(conn)) => {
                let _ = event_loop.deregister(&conn.stream, token);
                self.stats.closed += 1;
            }
            None => {}
        }
    }

    fn accept(&mut self, event_loop: &mut KvLoop<'p, N, BUFS, KEYS>, key: Key) {
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let Some(Source::Listener(listener)) = self.table.get(key) else {
                return;
            };
            let stream: TcpStream = match listener.accept() {
                Ok(Some((stream, _peer))) => stream,
                Ok(None) => return,
                Err(_) => {
                    self.stats.accept_errors += 1;
                    return;
                }
            };
            if self.table.is_full() {
                // Dropping it closes it: its client sees EOF instead of waiting.
                self.stats.rejected += 1;
                continue;
            }
            // Replies leave as soon as they are written (Redis does the same).
            let _ = stream.set_nodelay(true);
            if self
                .add(event_loop, Source::Conn(Conn::new(stream)), Interest::BOTH)
                .is_ok()
            {
                self.stats.accepted += 1;
            }
        }
    }

    fn signalled(&mut self, event_loop: &mut KvLoop<'p, N, BUFS, KEYS>, key: Key) {
        let Some(Source::Signals(signals)) = self.table.get_mut(key) else {
            return;
        };
        let arrived = signals.receive().unwrap_or_default();
        if arrived.contains(SIGHUP) {
            eprintln!("kv: SIGHUP: nothing to reload (every setting is fixed at compile time)");
        }
        if arrived.contains(SIGTERM) || arrived.contains(SIGINT) {
            eprintln!("kv: stopping: closing the listener and every connection");
            self.stop(event_loop);
        }
    }

    /// Closes the listener and every connection, and stops the loop.
    pub fn stop(&mut self, event_loop: &mut KvLoop<'p, N, BUFS, KEYS>) {
        for index in 0..N {
            if let Some(key) = self.table.key_at(index) {
                self.remove(event_loop, key);
            }
        }
        if let Some(sweep) = self.sweep.take() {
            event_loop.clear_timeout(sweep);
        }
        event_loop.shutdown();
    }

    /// The loop's clock in milliseconds, read once per turn (deadlines are on it).
    fn refresh_clock(&mut self, event_loop: &KvLoop<'p, N, BUFS, KEYS>) {
        if !self.clock_read {
            self.shared.now_ms = event_loop.selector().clock().now().as_nanos() / 1_000_000;
            self.clock_read = true;
        }
    }

    /// Starts the expiry sweep if keys have deadlines and it is not running. A full
    /// wheel cannot happen (the sweep is its only timer); were it refused, the lazy
    /// check on every read still hides expired keys, and a full store sweeps them.
    fn arm_sweep(&mut self, event_loop: &mut KvLoop<'p, N, BUFS, KEYS>) {
        if self.sweep.is_none() && self.shared.store.volatile() > 0 {
            self.sweep = event_loop.timeout((), SWEEP_EVERY).ok();
        }
    }
}

impl<'p, const N: usize, const BUFS: usize, const KEYS: usize> Handler
    for Server<'p, N, BUFS, KEYS>
{
    type Timeout = ();
    type Message = ();
    type Loop = KvLoop<'p, N, BUFS, KEYS>;

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, ready: Ready) {
        let Some(key) = self.table.key_at(token.0) else {
            return;
        };
        self.refresh_clock(event_loop);
        let after = match self.table.get_mut(key) {
            Some(Source::Conn(conn)) => conn.ready(ready, &mut self.shared),
            Some(Source::Listener(_)) => return self.accept(event_loop, key),
            Some(Source::Signals(_)) => return self.signalled(event_loop, key),
            None => return,
        };
        if after == After::Close {
            self.remove(event_loop, key);
        }
        self.arm_sweep(event_loop);
    }

    /// The expiry sweep: Redis's active expiry, on the wheel.
    fn timeout(&mut self, event_loop: &mut Self::Loop, (): ()) {
        self.sweep = None;
        self.refresh_clock(event_loop);
        for _ in 0..SWEEP_ROUNDS {
            if self.shared.store.expire(self.shared.now_ms, SWEEP_KEYS) <= SWEEP_KEYS / 4 {
                break;
            }
        }
        if event_loop.is_running() {
            self.arm_sweep(event_loop);
        }
    }

    fn tick(&mut self, _: &mut Self::Loop) {
        self.clock_read = false;
    }
}
