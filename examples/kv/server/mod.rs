//! The key-value server behind `examples/kv`: a `SourceTable` holds every connection
//! (its socket and its [`Conn`] state) under the loop's tokens `0..CONNS`; the listener
//! and the signal source take the two tokens after it; the store
//! (`statio_protocols::kv`) serves them all. Shared with the integration tests (tests/kv.rs), which run it with smaller
//! capacities.
//!
//! Behaviour, for each kind of input (what a connection does: [`conn`]):
//! - Commands are answered in order; the replies to the commands of one read leave in
//!   one write. RESP errors are Redis's (the store's docs list them); malformed RESP
//!   gets `-ERR Protocol error: ...` and the connection is closed.
//! - EOF, a reset or any other socket error: the connection is deregistered and closed.
//! - The table is full: a new connection is accepted and closed at once (its client
//!   sees EOF, the table's `Rejected` hands it back to be dropped); [`Stats::rejected`]
//!   counts these.
//! - Out of descriptors (`EMFILE`, `ENFILE`) or kernel memory on `accept`: the kit's
//!   `Acceptor` pauses the listener instead of spinning on it (logged, counted in
//!   [`Stats::accept_paused`]); it resumes when a connection closes, or on a timer
//!   (100 ms doubling to 1 s). The clients wait in the backlog meanwhile.
//! - Expiry: every read checks a key's deadline (an expired key is never seen); while
//!   keys have deadlines a timer on the loop's wheel removes expired ones, 20 keys
//!   looked at every 100 ms and again at once while more than a quarter of them had
//!   expired (Redis's active expiry). No key with a deadline, no timer.
//! - `SIGTERM` or `SIGINT` (when [`Server::watch_signals`] was called): the listener
//!   and every connection are closed and the loop stops; `SIGHUP` is logged (there is
//!   nothing to reload: every setting is fixed at compile time); `SIGUSR1` prints the
//!   marks ([`Server::marks`]) to stderr as one block, and the server goes on.

pub mod conn;
#[path = "../../common/marks.rs"]
pub mod marks;

use core::net::SocketAddr;
use core::time::Duration;

use statio::buf::BufPool;
use statio::net::{TcpListener, TcpStream};
use statio::signal::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SignalSet};
use statio::{Accepted, Acceptor};
use statio::{
    Clock, EventLoop, Handler, Interest, NativeSelector, PollOpt, Ready, Selector, Signals,
    SourceTable, TimerKey, Token,
};

use conn::{After, Block, Conn, Shared, Store};

/// Whether connections are registered edge-triggered: where the port's edges are the
/// kernel's own (epoll, kqueue); level-triggered where they are emulated (poll(2)).
const EDGES: bool = <NativeSelector as Selector>::NATIVE_EDGES;
/// How many events one turn takes.
pub const EVENTS: usize = 256;
/// Timers: the expiry sweep's and the paused listener's.
pub const TIMERS: usize = 2;
/// The signals the server stops on (`SIGTERM`, `SIGINT`), logs (`SIGHUP`) or prints its
/// marks on (`SIGUSR1`).
pub const SIGNALS: SignalSet = SignalSet::new()
    .with(SIGTERM)
    .with(SIGINT)
    .with(SIGHUP)
    .with(SIGUSR1);

/// How often the expiry sweep runs while keys have deadlines, and what it looks at.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
const SWEEP_KEYS: usize = 20;
/// Sweep steps one timer may take while each removes more than a quarter of its keys.
const SWEEP_ROUNDS: usize = 16;

/// The loop of a server with up to `CONNS` connections among its `SOURCES` tokens (at
/// least `CONNS + 2`: the listener and the signals), a pool of `BUFS` buffers and a
/// store of `KEYS` keys.
pub type KvLoop<
    'p,
    const CONNS: usize,
    const SOURCES: usize,
    const BUFS: usize,
    const KEYS: usize,
> = EventLoop<Server<'p, CONNS, SOURCES, BUFS, KEYS>, SOURCES, TIMERS, EVENTS>;

/// A pool of `BUFS` buffers for the connections' bytes in flight.
pub type Pool<const BUFS: usize> = BufPool<Block, BUFS>;

/// What a timer of the server is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The expiry sweep.
    Sweep,
    /// The end of the listener's pause (out of descriptors).
    ResumeAccept,
}

/// What the server counted.
#[derive(Copy, Clone, Debug, Default)]
pub struct Stats {
    /// Connections accepted into the table.
    pub accepted: usize,
    /// Connections closed at once because the table was full.
    pub rejected: usize,
    /// Connections that failed before they were accepted (`ECONNABORTED`, ...).
    pub accept_errors: usize,
    /// Times accepting paused because descriptors (or kernel memory) ran out.
    pub accept_paused: usize,
    /// Connections closed (by either side, or at shutdown).
    pub closed: usize,
    /// Times a connection had its reads for an event and was re-armed for the next turn.
    pub yields: usize,
}

/// The connections' table: a `static` of its own, all zero bytes (`SourceTable::new`),
/// so it sits in `.bss` and only the slots a connection used become resident (inside the
/// server it would be built on the stack and copied whole into place).
pub type Table<'p, const CONNS: usize, const BUFS: usize> =
    SourceTable<TcpStream, Conn<'p, BUFS>, CONNS>;

/// The server: up to `CONNS` connections, a listener and a signal source among the
/// loop's `SOURCES` tokens; a store of `KEYS` keys; `BUFS` pooled buffers (at least two
/// per connection, so a connection never waits for one).
pub struct Server<
    'p,
    const CONNS: usize,
    const SOURCES: usize,
    const BUFS: usize,
    const KEYS: usize,
> {
    conns: &'p mut Table<'p, CONNS, BUFS>,
    /// The listener; it pauses when descriptors run out, instead of spinning.
    acceptor: Option<Acceptor<TcpListener>>,
    signals: Option<Signals>,
    shared: Shared<'p, KEYS, BUFS>,
    /// Whether `shared.now_ms` was read in this turn.
    clock_read: bool,
    /// The expiry sweep's timer, while keys have deadlines.
    sweep: Option<TimerKey>,
    /// What happened so far.
    pub stats: Stats,
}

impl<'p, const CONNS: usize, const SOURCES: usize, const BUFS: usize, const KEYS: usize>
    Server<'p, CONNS, SOURCES, BUFS, KEYS>
{
    /// The listener's token: the first after the table's.
    pub const LISTENER: Token = Token(CONNS);
    /// The signal source's token.
    pub const SIGNALS: Token = Token(CONNS + 1);

    /// A server over `conns` (empty), `store` and `pool`.
    pub fn new(
        conns: &'p mut Table<'p, CONNS, BUFS>,
        store: &'p mut Store<KEYS>,
        pool: &'p Pool<BUFS>,
    ) -> Self {
        const {
            assert!(
                SOURCES >= CONNS + 2,
                "the loop needs a token per connection, the listener's and the signals'"
            );
            assert!(
                BUFS >= 2 * CONNS,
                "two pooled buffers per connection: a connection never waits for one"
            );
        };
        Server {
            conns,
            acceptor: None,
            signals: None,
            shared: Shared {
                store,
                pool,
                scratch: [0; conn::BUF],
                out: Block::new(),
                now_ms: 0,
                reads_per_event: conn::READS_PER_EVENT,
            },
            clock_read: false,
            sweep: None,
            stats: Stats::default(),
        }
    }

    /// Binds `addr`, registers the listener, and returns the address bound.
    ///
    /// # Errors
    /// What the OS refused (address in use, ...).
    pub fn listen(
        &mut self,
        event_loop: &mut KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>,
        addr: SocketAddr,
    ) -> Result<SocketAddr, statio::Error> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        self.acceptor = Some(Acceptor::register(listener, event_loop, Self::LISTENER)?);
        Ok(local)
    }

    /// Stops the server on `SIGTERM` and `SIGINT`, logs `SIGHUP`, prints the marks on
    /// `SIGUSR1`: registers `signals`
    /// (made for [`SIGNALS`], blocked in every thread first: see `Signals::block`).
    ///
    /// # Errors
    /// The registration refused.
    pub fn watch_signals(
        &mut self,
        event_loop: &mut KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>,
        signals: Signals,
    ) -> Result<(), statio::Error> {
        event_loop.register(&signals, Self::SIGNALS)?;
        self.signals = Some(signals);
        Ok(())
    }

    // Used by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Gives each connection `reads` full reads per event (at least 1) instead of
    /// [`conn::READS_PER_EVENT`].
    pub fn set_reads_per_event(&mut self, reads: usize) {
        self.shared.reads_per_event = reads.max(1);
    }

    // Read by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Keys held, expired ones not yet removed included.
    pub fn keys(&self) -> usize {
        self.shared.store.len()
    }

    // Read by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Connections open.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    // Read by tests/kv.rs, not by the example.
    #[allow(dead_code)]
    /// Pooled buffers the connections hold now, and the most ever lent at once.
    pub fn buffers(&self) -> (usize, usize) {
        (self.shared.pool.lent(), self.shared.pool.peak_lent())
    }

    fn accept(&mut self, event_loop: &mut KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>) {
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let Some(acceptor) = self.acceptor.as_mut() else {
                return;
            };
            let stream = match acceptor.accept(event_loop, || Timer::ResumeAccept) {
                Accepted::Stream(stream, _peer) => stream,
                Accepted::Empty => return,
                Accepted::Paused(paused) => {
                    // Resumes on its timer, or at once when a connection closes.
                    self.stats.accept_paused += 1;
                    eprintln!("kv: {paused}");
                    return;
                }
                Accepted::Failed(_) => {
                    self.stats.accept_errors += 1;
                    continue;
                }
            };
            // Replies leave as soon as they are written (Redis does the same).
            let _ = stream.set_nodelay(true);
            // Edge-triggered, both directions, once; level-triggered on poll(2): see `conn`.
            let (interest, opt) = if EDGES {
                (Interest::READABLE | Interest::WRITABLE, PollOpt::edge())
            } else {
                (Interest::READABLE, PollOpt::level())
            };
            match self
                .conns
                .insert(event_loop, stream, Conn::new(), interest, opt)
            {
                Ok(_) => self.stats.accepted += 1,
                // Full (or refused): dropping the stream closes it; its client sees EOF.
                Err(_rejected) => self.stats.rejected += 1,
            }
        }
    }

    fn signalled(&mut self, event_loop: &mut KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>) {
        let Some(signals) = self.signals.as_mut() else {
            return;
        };
        let arrived = signals.receive().unwrap_or_default();
        if arrived.contains(SIGHUP) {
            eprintln!("kv: SIGHUP: nothing to reload (every setting is fixed at compile time)");
        }
        if arrived.contains(SIGUSR1) {
            marks::print(
                format_args!("kv: marks on SIGUSR1"),
                &self.marks(event_loop),
            );
        }
        if arrived.contains(SIGTERM) || arrived.contains(SIGINT) {
            eprintln!("kv: stopping: closing the listener and every connection");
            self.stop(event_loop);
        }
    }

    /// The marks of the loop, the pool, the table and the listener: how close the
    /// server came to each capacity, and how often each refused.
    pub fn marks(&self, event_loop: &KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>) -> statio::Stats {
        event_loop
            .stats()
            .with_pool(self.shared.pool.marks())
            .with_table(self.conns.marks())
            .with_accept_paused(self.stats.accept_paused as u64)
    }

    /// Closes the listener and every connection, and stops the loop.
    pub fn stop(&mut self, event_loop: &mut KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.close(event_loop);
        }
        for index in 0..CONNS {
            if self.conns.remove(event_loop, Token(index)).is_some() {
                self.stats.closed += 1;
            }
        }
        if let Some(sweep) = self.sweep.take() {
            event_loop.clear_timeout(sweep);
        }
        event_loop.shutdown();
    }

    /// The loop's clock in milliseconds, read once per turn (deadlines are on it).
    fn refresh_clock(&mut self, event_loop: &KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>) {
        if !self.clock_read {
            self.shared.now_ms = event_loop.selector().clock().now().as_nanos() / 1_000_000;
            self.clock_read = true;
        }
    }

    /// Starts the expiry sweep if keys have deadlines and it is not running. A full
    /// wheel cannot happen (the sweep has a timer of its own); were it refused, the lazy
    /// check on every read still hides expired keys, and a full store sweeps them.
    fn arm_sweep(&mut self, event_loop: &mut KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>) {
        if self.sweep.is_none() && self.shared.store.volatile() > 0 {
            self.sweep = event_loop.timeout(Timer::Sweep, SWEEP_EVERY).ok();
        }
    }
}

impl<'p, const CONNS: usize, const SOURCES: usize, const BUFS: usize, const KEYS: usize> Handler
    for Server<'p, CONNS, SOURCES, BUFS, KEYS>
{
    type Timeout = Timer;
    type Message = ();
    type Loop = KvLoop<'p, CONNS, SOURCES, BUFS, KEYS>;

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, ready: Ready) {
        if token == Self::LISTENER {
            return self.accept(event_loop);
        }
        if token == Self::SIGNALS {
            return self.signalled(event_loop);
        }
        self.refresh_clock(event_loop);
        let Some((stream, conn)) = self.conns.get_mut(token) else {
            return;
        };
        let was_writing = conn.writing();
        let after = conn.ready(stream, ready, &mut self.shared);
        let level = PollOpt::level();
        let interest = match after {
            After::Yield if EDGES => {
                self.stats.yields += 1;
                Some((Interest::READABLE | Interest::WRITABLE, PollOpt::edge()))
            }
            After::Yield => {
                self.stats.yields += 1;
                (conn.writing() != was_writing).then_some((Interest::READABLE, level))
            }
            After::Wait if EDGES || conn.writing() == was_writing => None,
            After::Wait if conn.writing() => Some((Interest::WRITABLE, level)),
            After::Wait => Some((Interest::READABLE, level)),
            After::Close => None,
        };
        let refused = interest.is_some_and(|(interest, opt)| {
            self.conns
                .reregister(event_loop, token, interest, opt)
                .is_err()
        });
        if after == After::Close || refused {
            self.conns.remove(event_loop, token);
            self.stats.closed += 1;
            if let Some(acceptor) = self.acceptor.as_mut() {
                // A descriptor is free: a paused listener resumes at once. Refused,
                // it stays paused and its timer tries again.
                let _ = acceptor.descriptor_freed(event_loop);
            }
        }
        self.arm_sweep(event_loop);
    }

    /// The expiry sweep: Redis's active expiry, on the wheel.
    fn timeout(&mut self, event_loop: &mut Self::Loop, timer: Timer) {
        if timer == Timer::ResumeAccept {
            if let Some(acceptor) = self.acceptor.as_mut() {
                // Refused: it stays paused, with a new timer (or until a close).
                let _ = acceptor.resume(event_loop, || Timer::ResumeAccept);
            }
            return;
        }
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
