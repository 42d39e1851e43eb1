//! The loop side of `examples/http`: one table per loop holds the listener, the signal
//! source (loop 0 only) and the connections; timers close idle and slow connections;
//! a control channel stops the loop. Shared with the integration tests, which run it
//! with smaller capacities.
//!
//! Behaviour, for each kind of input:
//! - Requests are answered as `statio_protocols::http` says (its module docs list
//!   every status), pipelined ones in order and coalesced into one write.
//! - A connection that sends nothing for the idle time is closed; one whose request
//!   is not complete within the request time (a slowloris client) is closed.
//! - A response that closes the connection (`Connection: close`, HTTP/1.0, an error) is
//!   sent, writing is shut down, and the input is read and discarded until the client
//!   closes or the linger time ends: a close with unread input would be a reset.
//! - The table is full: a new connection is accepted and closed at once (its client
//!   sees EOF); [`Server::rejected`] counts them.
//! - `accept` runs out of descriptors (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the
//!   listener is deregistered for [`ACCEPT_PAUSE`] (no spin on a pending connection
//!   it cannot take), then registered again.
//! - `SIGTERM` or `SIGINT` (loop 0), or [`Control::Stop`]: the loop tells the other
//!   loops, drops its listener and every connection, and returns from `run`.
//!   `SIGHUP` is logged: there is nothing to reload.

use core::net::SocketAddr;
use core::time::Duration;

use statio::net::{TcpListener, TcpSocket};
use statio::signal::{SIGHUP, SIGINT, SIGTERM, name};
use statio::{EventLoop, Handler, Interest, Key, PollOpt, Ready, Sender, Signals, Slab, Token};
use statio_protocols::http::{Http, Limits};

use crate::conn::{BUF, Buffer, Conn, Phase, Pool, Shared, Wait};

/// Events one turn takes.
pub const EVENTS: usize = 256;
/// The most loops a program runs (one `Sender` each in loop 0).
pub const MAX_LOOPS: usize = 8;
/// Connections accepted per readiness of the listener, at most: a level-triggered
/// listener reports the rest next turn, after the other connections' events.
const ACCEPTS_PER_EVENT: usize = 64;
/// How long the listener rests after `accept` ran out of descriptors.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The loop of a server with `N` table slots and `P` pooled buffers.
pub type HttpLoop<const N: usize, const P: usize> = EventLoop<Server<N, P>, N, N, EVENTS>;

/// What another thread (or loop) tells a loop.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Stop accepting, close every connection, return from `run`.
    Stop,
}

/// How long a connection may take, in each phase.
#[derive(Copy, Clone, Debug)]
pub struct Timeouts {
    /// Between requests (keep-alive): nothing received for this long closes it.
    pub idle: Duration,
    /// From the first byte of a request to its last.
    pub request: Duration,
    /// After a closing response, for the client to close.
    pub linger: Duration,
}

impl Timeouts {
    /// 60 s idle, 10 s per request, 2 s of lingering close.
    pub const DEFAULT: Timeouts = Timeouts {
        idle: Duration::from_secs(60),
        request: Duration::from_secs(10),
        linger: Duration::from_secs(2),
    };

    fn of(&self, phase: Phase) -> Duration {
        match phase {
            Phase::Idle => self.idle,
            Phase::Request => self.request,
            Phase::Closing => self.linger,
        }
    }
}

/// A timer of the loop.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The timer of the connection in slot `Key`.
    Conn(Key),
    /// Once a second: the `Date` header's clock.
    Clock,
    /// The listener's rest after running out of descriptors ended.
    Resume(Key),
}

enum Slot<const P: usize> {
    Listener(TcpListener),
    Signals(Signals),
    Conn(Conn<P>),
}

/// An HTTP/1.1 server: up to `N` slots (the listener, loop 0's signals, connections)
/// and `P` pooled buffers (at least two per connection, so the pool never runs dry).
pub struct Server<const N: usize, const P: usize> {
    slots: Slab<Slot<P>, N>,
    scratch: [u8; BUF],
    out: Buffer,
    http: Http,
    pool: &'static Pool<P>,
    timeouts: Timeouts,
    /// The other loops' channels: loop 0 tells them to stop.
    peers: heapless::Vec<Sender<'static, Control>, MAX_LOOPS>,
    stopping: bool,
    /// Connections closed at once because the table was full.
    pub rejected: usize,
    /// `accept` calls that failed (out of descriptors or otherwise).
    pub accept_errors: usize,
    /// Connections accepted.
    pub accepted: usize,
    /// Connections closed, for any reason.
    pub closed: usize,
    /// Connections closed by the idle timer.
    pub idle_closed: usize,
    /// Connections closed because a request took too long (slowloris).
    pub slow_closed: usize,
    /// Connections dropped on a failed read or write, or an empty pool.
    pub aborted: usize,
    /// Times a connection's responses waited for room in its send buffer.
    pub write_waits: usize,
}

impl<const N: usize, const P: usize> Server<N, P> {
    const ENOUGH_BUFFERS: () = assert!(P >= 2 * N, "two pooled buffers per slot");

    /// A server lending from `pool`, with no listener yet.
    pub fn new(pool: &'static Pool<P>) -> Self {
        let () = Self::ENOUGH_BUFFERS;
        Server {
            slots: Slab::new(),
            scratch: [0; BUF],
            out: Buffer::new(),
            http: Http::new(Limits::DEFAULT),
            pool,
            timeouts: Timeouts::DEFAULT,
            peers: heapless::Vec::new(),
            stopping: false,
            rejected: 0,
            accept_errors: 0,
            accepted: 0,
            closed: 0,
            idle_closed: 0,
            slow_closed: 0,
            aborted: 0,
            write_waits: 0,
        }
    }

    /// Uses `timeouts` for the connections armed from now on.
    #[allow(dead_code)] // for tests/http.rs
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// Tells `peer` to stop when this loop stops (loop 0 holds the others' senders).
    pub fn add_peer(
        &mut self,
        peer: Sender<'static, Control>,
    ) -> Result<(), Sender<'static, Control>> {
        self.peers.push(peer)
    }

    /// Connections open now.
    #[allow(dead_code)] // for tests/http.rs
    pub fn connections(&self) -> usize {
        self.slots
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Conn(_)))
            .count()
    }

    /// The address the listener is bound to, if it listens.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.slots.iter().find_map(|(_, slot)| match slot {
            Slot::Listener(listener) => listener.local_addr().ok(),
            _ => None,
        })
    }

    /// Pooled buffers lent now.
    #[allow(dead_code)] // for tests/http.rs
    pub fn buffers_lent(&self) -> usize {
        self.pool.lent()
    }

    /// Binds `addr` (with `SO_REUSEPORT` when `reuse_port`, so several loops share it),
    /// registers the listener and starts the `Date` clock; returns the bound address.
    ///
    /// # Errors
    /// What the OS refused (address in use, ...), or a full table.
    pub fn listen(
        &mut self,
        event_loop: &mut HttpLoop<N, P>,
        addr: SocketAddr,
        reuse_port: bool,
    ) -> Result<SocketAddr, statio::Error> {
        let socket = if addr.is_ipv4() {
            TcpSocket::v4()?
        } else {
            TcpSocket::v6()?
        };
        socket.set_reuseaddr(true)?;
        if reuse_port {
            socket.set_reuseport(true)?;
            // FreeBSD delivers to the last bound unless asked to balance.
            #[cfg(target_os = "freebsd")]
            socket.set_reuseport_lb(true)?;
        }
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        let local = listener.local_addr()?;
        self.insert(event_loop, Slot::Listener(listener), Interest::READABLE)?;
        self.tick_clock(event_loop);
        Ok(local)
    }

    /// Registers `signals` (give them to one loop only): `SIGTERM`/`SIGINT` stop, `SIGHUP`
    /// is logged.
    ///
    /// # Errors
    /// A full table, or what the selector refused.
    pub fn watch_signals(
        &mut self,
        event_loop: &mut HttpLoop<N, P>,
        signals: Signals,
    ) -> Result<(), statio::Error> {
        self.insert(event_loop, Slot::Signals(signals), Interest::READABLE)
            .map(|_| ())
    }

    fn insert(
        &mut self,
        event_loop: &mut HttpLoop<N, P>,
        slot: Slot<P>,
        interest: Interest,
    ) -> Result<Key, statio::Error> {
        let key = self
            .slots
            .vacant_key()
            .ok_or(statio::Error::TokenInUse(Token(N)))?;
        let token = Token(key.index());
        match &slot {
            Slot::Listener(io) => event_loop.register_opt(io, token, interest, PollOpt::level()),
            Slot::Signals(io) => event_loop.register_opt(io, token, interest, PollOpt::level()),
            Slot::Conn(conn) => {
                event_loop.register_opt(conn.stream(), token, interest, PollOpt::level())
            }
        }?;
        // Cannot fail: the key was vacant.
        let _ = self.slots.insert(slot);
        Ok(key)
    }

    fn tick_clock(&mut self, event_loop: &mut HttpLoop<N, P>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        self.http.set_time(now);
        // Cannot be full while a slot is free for it: one timer per slot at most.
        let _ = event_loop.timeout(Timer::Clock, Duration::from_secs(1));
    }

    fn accept(&mut self, event_loop: &mut HttpLoop<N, P>, key: Key) {
        for _ in 0..ACCEPTS_PER_EVENT {
            let Some(Slot::Listener(listener)) = self.slots.get(key) else {
                return;
            };
            let stream = match listener.accept() {
                Ok(Some((stream, _peer))) => stream,
                Ok(None) => return,
                Err(err) => {
                    self.accept_errors += 1;
                    if matches!(
                        err.code(),
                        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
                    ) {
                        return self.pause_accept(event_loop, key);
                    }
                    // Others (`ECONNABORTED`, ...) concern that connection only.
                    continue;
                }
            };
            if self.slots.is_full() {
                // Dropped: closed, its client sees EOF; the table goes on as before.
                self.rejected += 1;
                continue;
            }
            // Small responses leave at once; a failure costs only Nagle.
            let _ = stream.set_nodelay(true);
            match self.insert(
                event_loop,
                Slot::Conn(Conn::new(stream)),
                Interest::READABLE,
            ) {
                Ok(key) => {
                    self.accepted += 1;
                    self.arm(event_loop, key);
                }
                Err(_) => self.aborted += 1,
            }
        }
    }

    /// Deregisters the listener and registers it again after [`ACCEPT_PAUSE`].
    fn pause_accept(&mut self, event_loop: &mut HttpLoop<N, P>, key: Key) {
        if let Some(Slot::Listener(listener)) = self.slots.get(key) {
            let _ = event_loop.deregister(listener, Token(key.index()));
            if event_loop
                .timeout(Timer::Resume(key), ACCEPT_PAUSE)
                .is_err()
            {
                // No timer to resume with: listen on, the pending connection retries.
                let _ = event_loop.register(listener, Token(key.index()));
            }
        }
    }

    /// Sets the connection's timer to what its phase measures, unless it measures that
    /// already (a request's time is not restarted by its next byte).
    fn arm(&mut self, event_loop: &mut HttpLoop<N, P>, key: Key) {
        let Some(Slot::Conn(conn)) = self.slots.get_mut(key) else {
            return;
        };
        let phase = conn.phase();
        if let Some((timer, armed)) = conn.timer {
            if armed == phase {
                return;
            }
            event_loop.clear_timeout(timer);
        }
        conn.active = false;
        conn.timer = event_loop
            .timeout(Timer::Conn(key), self.timeouts.of(phase))
            .ok()
            .map(|timer| (timer, phase));
    }

    fn drive(&mut self, event_loop: &mut HttpLoop<N, P>, key: Key) {
        let Some(Slot::Conn(conn)) = self.slots.get_mut(key) else {
            return;
        };
        let mut shared = Shared {
            scratch: &mut self.scratch,
            out: &mut self.out,
            http: &self.http,
            pool: self.pool,
        };
        let wait = match conn.pump(&mut shared) {
            Ok(wait) => wait,
            Err(_) => {
                self.aborted += 1;
                return self.close(event_loop, key);
            }
        };
        let writing = match wait {
            Wait::Close => return self.close(event_loop, key),
            Wait::Read => false,
            Wait::Write => true,
        };
        if writing != conn.writing {
            conn.writing = writing;
            self.write_waits += usize::from(writing);
            let interest = if writing {
                Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = Token(key.index());
            if event_loop
                .reregister(conn.stream(), token, interest, PollOpt::level())
                .is_err()
            {
                self.aborted += 1;
                return self.close(event_loop, key);
            }
        }
        self.arm(event_loop, key);
    }

    fn close(&mut self, event_loop: &mut HttpLoop<N, P>, key: Key) {
        if let Some(Slot::Conn(conn)) = self.slots.get(key) {
            let _ = event_loop.deregister(conn.stream(), Token(key.index()));
            if let Some((timer, _)) = conn.timer {
                event_loop.clear_timeout(timer);
            }
            // Dropping it closes the socket and returns its buffers.
            self.slots.remove(key);
            self.closed += 1;
        }
    }

    fn signalled(&mut self, event_loop: &mut HttpLoop<N, P>, key: Key) {
        let Some(Slot::Signals(signals)) = self.slots.get_mut(key) else {
            return;
        };
        let Ok(arrived) = signals.receive() else {
            return;
        };
        for signal in arrived {
            match signal {
                SIGTERM | SIGINT => self.stop(event_loop),
                SIGHUP => eprintln!("http: SIGHUP: nothing to reload"),
                other => eprintln!("http: ignoring {}", name(other).unwrap_or("a signal")),
            }
        }
    }

    /// Tells the other loops to stop, closes the listener and every connection, and
    /// ends `run` after this turn.
    pub fn stop(&mut self, event_loop: &mut HttpLoop<N, P>) {
        if !self.stopping {
            self.stopping = true;
            for peer in &self.peers {
                // A full channel holds a `Stop` already: it is the only message.
                let _ = peer.send(Control::Stop);
            }
        }
        for index in 0..N {
            let Some(key) = self.slots.key_at(index) else {
                continue;
            };
            match self.slots.get(key) {
                Some(Slot::Conn(_)) => self.close(event_loop, key),
                Some(Slot::Listener(listener)) => {
                    let _ = event_loop.deregister(listener, Token(index));
                    self.slots.remove(key);
                }
                _ => {}
            }
        }
        event_loop.shutdown();
    }
}

impl<const N: usize, const P: usize> Handler for Server<N, P> {
    type Timeout = Timer;
    type Message = Control;
    type Loop = HttpLoop<N, P>;

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, _: Ready) {
        let Some(key) = self.slots.key_at(token.0) else {
            return;
        };
        match self.slots.get(key) {
            Some(Slot::Conn(_)) => self.drive(event_loop, key),
            Some(Slot::Listener(_)) => self.accept(event_loop, key),
            Some(Slot::Signals(_)) => self.signalled(event_loop, key),
            None => {}
        }
    }

    fn timeout(&mut self, event_loop: &mut Self::Loop, timer: Timer) {
        let key = match timer {
            Timer::Clock => return self.tick_clock(event_loop),
            Timer::Resume(key) => {
                if let Some(Slot::Listener(listener)) = self.slots.get(key)
                    && event_loop.register(listener, Token(key.index())).is_err()
                {
                    self.pause_accept(event_loop, key);
                }
                return;
            }
            Timer::Conn(key) => key,
        };
        let Some(Slot::Conn(conn)) = self.slots.get_mut(key) else {
            return;
        };
        let Some((_, phase)) = conn.timer.take() else {
            return;
        };
        match phase {
            Phase::Idle if conn.active => self.arm(event_loop, key),
            Phase::Idle => {
                self.idle_closed += 1;
                self.close(event_loop, key);
            }
            Phase::Request => {
                self.slow_closed += 1;
                self.close(event_loop, key);
            }
            Phase::Closing => self.close(event_loop, key),
        }
    }

    fn notify(&mut self, event_loop: &mut Self::Loop, message: Control) {
        match message {
            Control::Stop => self.stop(event_loop),
        }
    }
}
