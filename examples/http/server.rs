//! The loop side of `examples/http`: per loop, a `SourceTable` of connections (tokens
//! `0..C`), the listener (token `C`) and, on loop 0, the signal source (token `C + 1`);
//! timers close idle and slow connections; a control channel stops the loop. Shared
//! with the integration tests, which run it with smaller capacities.
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
//!   kit's `Acceptor` deregisters the listener (no spin on a pending connection it
//!   cannot take) until its timer fires or a connection closes, whichever is first;
//!   [`Server::accept_pauses`] counts the pauses.
//! - `SIGTERM` or `SIGINT` (loop 0), or [`Control::Stop`]: the loop tells the other
//!   loops, drops its listener and every connection, and returns from `run`.
//!   `SIGHUP` is logged: there is nothing to reload.
//! - `SIGUSR1` (loop 0), or [`Control::Report`]: the loop prints its marks
//!   ([`Server::stats`]) to stderr as one block and goes on; loop 0 passes the request
//!   to the other loops, so each prints its own block.

use core::net::SocketAddr;
use core::time::Duration;

use statio::net::{TcpListener, TcpSocket, TcpStream};
use statio::signal::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, name};
use statio::{Accepted, Acceptor};
use statio::{
    Error, EventLoop, Handler, Interest, NativeSelector, PollOpt, Ready, Selector, Sender, Signals,
    SourceTable, Stats, Token,
};
use statio_protocols::http::{Http, Limits};

use crate::conn::{BUF, Buffer, Conn, Pool, Shared, Wait};
use crate::timers::{Phase, Timeouts, Timer};

#[path = "../common/marks.rs"]
mod marks;

/// Events one turn takes.
pub const EVENTS: usize = 256;
/// The most loops a program runs (one `Sender` each in loop 0).
pub const MAX_LOOPS: usize = 8;
/// Connections accepted per readiness of the listener, at most: a level-triggered
/// listener reports the rest next turn, after the other connections' events. Large, so
/// that a burst of connections (wrk -c1000 connects all at once) leaves the backlog
/// fast: a full backlog drops SYNs, and the client retries after a second.
const ACCEPTS_PER_EVENT: usize = 512;
/// Connections are registered edge-triggered for both directions where the port's
/// edges are the kernel's own (epoll, kqueue): no re-registration when one waits to
/// write, and no re-poll by the kernel of those reported last turn (about 5 % less
/// server CPU per request under wrk -c100 on a loaded 2-core VM, 3 rounds of 4).
/// Level-triggered on the poll(2) port, switching between readable and writable: it
/// emulates edges, and an arrival racing the drain could go unseen there (see
/// `statio-poll`). Either way a short read ends the reading (the read rule, in `conn.rs`).
const EDGE: bool = <NativeSelector as Selector>::NATIVE_EDGES;

/// The loop of a server with `C` connections, `S` tokens (at least `C + 2`: the
/// listener's and the signals') and `P` pooled buffers. `S` timers: one per connection,
/// the clock's and the listener's pause.
pub type HttpLoop<const C: usize, const S: usize, const P: usize> =
    EventLoop<Server<C, S, P>, S, S, EVENTS>;

/// What another thread (or loop) tells a loop.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Stop accepting, close every connection, return from `run`.
    Stop,
    /// Print the loop's marks to stderr.
    Report,
}

/// The connections' table of one loop: a `static` of its own, all zero bytes
/// (`SourceTable::new`), so it sits in `.bss` and only the slots a connection used
/// become resident (inside the server it would go through the stack and be written whole
/// into place).
pub type Table<const C: usize, const P: usize> = SourceTable<TcpStream, Conn<P>, C>;

/// An HTTP/1.1 server: up to `C` connections, `S` loop tokens, `P` pooled buffers (two
/// per connection, so the pool never runs dry).
pub struct Server<const C: usize, const S: usize, const P: usize> {
    conns: &'static mut Table<C, P>,
    acceptor: Option<Acceptor<TcpListener>>,
    signals: Option<Signals>,
    scratch: [u8; BUF],
    out: Buffer,
    http: Http,
    pool: &'static Pool<P>,
    timeouts: Timeouts,
    /// The other loops' channels: loop 0 tells them to stop.
    peers: heapless::Vec<Sender<'static, Control>, MAX_LOOPS>,
    stopping: bool,
    /// This loop's number, in its reports (loop 0 has the signals).
    index: usize,
    /// Connections closed at once because the table was full.
    pub rejected: usize,
    /// `accept` calls that failed for that connection only (`ECONNABORTED`, ...).
    pub accept_errors: usize,
    /// Times accepting paused, out of descriptors or memory.
    pub accept_pauses: usize,
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
    /// Times a connection had its reads for an event and was re-armed for the next turn.
    pub yields: usize,
}

impl<const C: usize, const S: usize, const P: usize> Server<C, S, P> {
    const LISTENER: Token = Token(C);
    const SIGNALS: Token = Token(C + 1);
    const FITS: () = {
        assert!(
            S >= C + 2,
            "a token per connection, the listener's and the signals'"
        );
        assert!(P >= 2 * C, "two pooled buffers per connection");
    };

    /// A server lending from `pool`, over `conns` (empty), with no listener yet.
    pub fn new(pool: &'static Pool<P>, conns: &'static mut Table<C, P>) -> Self {
        let () = Self::FITS;
        Server {
            conns,
            acceptor: None,
            signals: None,
            scratch: [0; BUF],
            out: Buffer::new(),
            http: Http::new(Limits::DEFAULT),
            pool,
            timeouts: Timeouts::DEFAULT,
            peers: heapless::Vec::new(),
            stopping: false,
            index: 0,
            rejected: 0,
            accept_errors: 0,
            accept_pauses: 0,
            accepted: 0,
            closed: 0,
            idle_closed: 0,
            slow_closed: 0,
            aborted: 0,
            write_waits: 0,
            yields: 0,
        }
    }

    /// Uses `timeouts` for the connections armed from now on.
    #[allow(dead_code)] // for tests/http.rs
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// Numbers this loop `index` in its reports (0 unless set).
    pub fn set_index(&mut self, index: usize) {
        self.index = index;
    }

    /// The marks of the loop, its pool, its table and its listener: how close this
    /// loop came to each capacity, and how often each refused.
    pub fn stats(&self, event_loop: &HttpLoop<C, S, P>) -> Stats {
        event_loop
            .stats()
            .with_pool(self.pool.marks())
            .with_table(self.conns.marks())
            .with_accept_paused(self.accept_pauses as u64)
    }

    /// Prints [`stats`](Self::stats) to stderr as one block, under the line
    /// `http: loop N marks WHEN`.
    pub fn report(&self, event_loop: &HttpLoop<C, S, P>, when: &str) {
        let label = format_args!("http: loop {} marks {when}", self.index);
        marks::print(label, &self.stats(event_loop));
    }

    /// Tells `peer` to stop when this loop stops (loop 0 holds the others' senders).
    ///
    /// # Errors
    /// The sender, when [`MAX_LOOPS`] are there already.
    pub fn add_peer(
        &mut self,
        peer: Sender<'static, Control>,
    ) -> Result<(), Sender<'static, Control>> {
        self.peers.push(peer)
    }

    /// Connections open now.
    #[allow(dead_code)] // for tests/http.rs
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The address the listener is bound to, if it listens.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.acceptor.as_ref()?.listener().local_addr().ok()
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
    /// What the OS refused (address in use, ...).
    pub fn listen(
        &mut self,
        event_loop: &mut HttpLoop<C, S, P>,
        addr: SocketAddr,
        reuse_port: bool,
    ) -> Result<SocketAddr, Error> {
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
        // The system's maximum backlog (`net.core.somaxconn`, 4,096 on Linux 5.4+).
        let listener = socket.listen(-1)?;
        let local = listener.local_addr()?;
        self.acceptor = Some(Acceptor::register(listener, event_loop, Self::LISTENER)?);
        self.tick_clock(event_loop);
        Ok(local)
    }

    /// Registers `signals` (give them to one loop only): `SIGTERM`/`SIGINT` stop, `SIGHUP`
    /// is logged.
    ///
    /// # Errors
    /// What the selector refused.
    pub fn watch_signals(
        &mut self,
        event_loop: &mut HttpLoop<C, S, P>,
        signals: Signals,
    ) -> Result<(), Error> {
        event_loop.register(&signals, Self::SIGNALS)?;
        self.signals = Some(signals);
        Ok(())
    }

    fn tick_clock(&mut self, event_loop: &mut HttpLoop<C, S, P>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        self.http.set_time(now);
        // Cannot be full: a timer per connection, and this one besides.
        let _ = event_loop.timeout(Timer::Clock, Duration::from_secs(1));
    }

    fn accept(&mut self, event_loop: &mut HttpLoop<C, S, P>) {
        for _ in 0..ACCEPTS_PER_EVENT {
            let Some(acceptor) = &mut self.acceptor else {
                return;
            };
            let stream = match acceptor.accept(event_loop, || Timer::ResumeAccept) {
                Accepted::Stream(stream, _peer) => stream,
                Accepted::Empty => return,
                Accepted::Paused(_) => {
                    self.accept_pauses += 1;
                    return;
                }
                Accepted::Failed(_) => {
                    self.accept_errors += 1;
                    continue;
                }
            };
            // Small responses leave at once; a failure costs only Nagle.
            let _ = stream.set_nodelay(true);
            let (interest, opt) = if EDGE {
                (Interest::READABLE | Interest::WRITABLE, PollOpt::edge())
            } else {
                (Interest::READABLE, PollOpt::level())
            };
            match self
                .conns
                .insert(event_loop, stream, Conn::new(), interest, opt)
            {
                Ok(token) => {
                    self.accepted += 1;
                    if let Some((_, conn)) = self.conns.get_mut(token) {
                        conn.registration = event_loop.registration(token);
                    }
                    self.arm(event_loop, token);
                }
                // Dropped: closed, its client sees EOF; the table goes on as before.
                Err(rejected) if matches!(rejected.error, Error::TableFull { .. }) => {
                    self.rejected += 1;
                }
                Err(_) => self.aborted += 1,
            }
        }
    }

    /// Sets the connection's timer to what its phase measures, unless it measures that
    /// already (a request's time is not restarted by its next byte).
    fn arm(&mut self, event_loop: &mut HttpLoop<C, S, P>, token: Token) {
        let Some((_, conn)) = self.conns.get_mut(token) else {
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
        conn.timer = conn.registration.and_then(|registration| {
            event_loop
                .timeout(Timer::Conn(registration), self.timeouts.of(phase))
                .ok()
                .map(|timer| (timer, phase))
        });
    }

    fn drive(&mut self, event_loop: &mut HttpLoop<C, S, P>, token: Token) {
        let Some((stream, conn)) = self.conns.get_mut(token) else {
            return;
        };
        let mut shared = Shared {
            scratch: &mut self.scratch,
            out: &mut self.out,
            http: &self.http,
            pool: self.pool,
        };
        let writing = match conn.pump(stream, &mut shared) {
            Ok(Wait::Read) => false,
            Ok(Wait::Yield) => {
                self.yields += 1;
                // Bytes may wait, and no new edge comes for bytes already there: a
                // re-registration reports them again next turn. Level-triggered
                // registrations report them anyway.
                let both = Interest::READABLE | Interest::WRITABLE;
                if EDGE
                    && event_loop
                        .reregister(&*stream, token, both, PollOpt::edge())
                        .is_err()
                {
                    self.aborted += 1;
                    return self.close(event_loop, token);
                }
                false
            }
            Ok(Wait::Write) => true,
            Ok(Wait::Close) => return self.close(event_loop, token),
            Err(_) => {
                self.aborted += 1;
                return self.close(event_loop, token);
            }
        };
        if writing != conn.writing {
            conn.writing = writing;
            self.write_waits += usize::from(writing);
            if EDGE {
                // Registered for both already: the next writable edge resumes it.
                return self.arm(event_loop, token);
            }
            let interest = if writing {
                Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if event_loop
                .reregister(&*stream, token, interest, PollOpt::level())
                .is_err()
            {
                self.aborted += 1;
                return self.close(event_loop, token);
            }
        }
        self.arm(event_loop, token);
    }

    fn close(&mut self, event_loop: &mut HttpLoop<C, S, P>, token: Token) {
        // Dropping them closes the socket and returns the buffers.
        if let Some((_stream, conn)) = self.conns.remove(event_loop, token) {
            if let Some((timer, _)) = conn.timer {
                event_loop.clear_timeout(timer);
            }
            self.closed += 1;
            if let Some(acceptor) = &mut self.acceptor {
                // A failure leaves it paused: its timer tries again.
                let _ = acceptor.descriptor_freed(event_loop);
            }
        }
    }

    fn signalled(&mut self, event_loop: &mut HttpLoop<C, S, P>) {
        let Some(Ok(arrived)) = self.signals.as_mut().map(Signals::receive) else {
            return;
        };
        for signal in arrived {
            match signal {
                SIGTERM | SIGINT => self.stop(event_loop),
                SIGHUP => eprintln!("http: SIGHUP: nothing to reload"),
                SIGUSR1 => self.report_all(event_loop),
                other => eprintln!("http: ignoring {}", name(other).unwrap_or("a signal")),
            }
        }
    }

    /// Prints this loop's marks and asks the other loops for theirs. A peer's request
    /// is sent only while its channel keeps a slot free besides (loop 0 is its only
    /// sender), so a later `Stop` always fits; one whose channel has no such room
    /// still has earlier requests queued, which will print its block.
    fn report_all(&mut self, event_loop: &mut HttpLoop<C, S, P>) {
        self.report(event_loop, "on SIGUSR1");
        for peer in &self.peers {
            let queue = peer.channel();
            if queue.len() + 2 <= queue.capacity() {
                // Cannot be full (the room was checked, and only this loop sends); a
                // loop that stopped already has nothing left to report.
                let _ = peer.send(Control::Report);
            }
        }
    }

    /// Tells the other loops to stop, closes the listener and every connection, and
    /// ends `run` after this turn.
    pub fn stop(&mut self, event_loop: &mut HttpLoop<C, S, P>) {
        if !self.stopping {
            self.stopping = true;
            for peer in &self.peers {
                // Cannot be full: `report_all` leaves a slot free for this one `Stop`.
                let _ = peer.send(Control::Stop);
            }
        }
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.close(event_loop);
        }
        for index in 0..C {
            self.close(event_loop, Token(index));
        }
        event_loop.shutdown();
    }
}

impl<const C: usize, const S: usize, const P: usize> Handler for Server<C, S, P> {
    type Timeout = Timer;
    type Message = Control;
    type Loop = HttpLoop<C, S, P>;

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, _: Ready) {
        match token {
            _ if token.0 < C => self.drive(event_loop, token),
            _ if token == Self::LISTENER => self.accept(event_loop),
            _ if token == Self::SIGNALS => self.signalled(event_loop),
            _ => {}
        }
    }

    fn timeout(&mut self, event_loop: &mut Self::Loop, timer: Timer) {
        let registration = match timer {
            Timer::Clock => return self.tick_clock(event_loop),
            Timer::ResumeAccept => {
                if let Some(acceptor) = &mut self.acceptor {
                    // Refused: still paused, with a new timer (a close resumes it sooner).
                    let _ = acceptor.resume(event_loop, || Timer::ResumeAccept);
                }
                return;
            }
            Timer::Conn(registration) => registration,
        };
        let Some((_, conn)) = self.conns.get_current(event_loop, registration) else {
            return;
        };
        let Some((_, phase)) = conn.timer.take() else {
            return;
        };
        let token = registration.token();
        match phase {
            Phase::Idle if conn.active => self.arm(event_loop, token),
            Phase::Idle => {
                self.idle_closed += 1;
                self.close(event_loop, token);
            }
            Phase::Request => {
                self.slow_closed += 1;
                self.close(event_loop, token);
            }
            Phase::Closing => self.close(event_loop, token),
        }
    }

    fn notify(&mut self, event_loop: &mut Self::Loop, message: Control) {
        match message {
            Control::Stop => self.stop(event_loop),
            Control::Report => self.report(event_loop, "on SIGUSR1"),
        }
    }
}
