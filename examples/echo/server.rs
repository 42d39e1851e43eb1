//! The echo server behind `examples/echo`: one fixed table holds the listener and every
//! connection, each connection with its own fixed buffer. Shared with the integration
//! tests, which run it with smaller capacities.
//!
//! Behaviour, for each kind of input:
//! - A connection's bytes come back in order. Reading pauses while a partial write is
//!   pending (the connection's interest switches to writable until its buffer drains),
//!   so a client that does not read cannot make the server buffer without bound.
//! - EOF, a reset or any other error on a connection: it is deregistered and closed.
//! - The table is full: a new connection is accepted and closed at once, so its client
//!   sees EOF instead of waiting in the backlog; the connections already in the table
//!   are served as before. [`Echo::rejected`] counts these.
//! - `accept` fails (e.g. `EMFILE`): the error is counted in [`Echo::accept_errors`] and
//!   the pending connection stays queued until the next readiness of the listener.
//! - A connection sends nothing for longer than the idle timeout (a client that went
//!   silent, or one that stopped reading so its echo cannot be written): it is closed,
//!   and [`Echo::timed_out`] counts it. One timer per connection, re-armed on each read.

use core::net::SocketAddr;
use core::time::Duration;

use statio::net::{TcpListener, TcpStream};
use statio::{EventLoop, Handler, Interest, Key, OsError, PollOpt, Ready, Slab, TimerKey, Token};

/// How many events one turn takes.
pub const EVENTS: usize = 256;

/// How long a connection may send nothing before it is closed, unless set otherwise.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The loop of an echo server whose table holds `N` sockets (the listener included),
/// with a `BUF`-byte buffer per connection and an idle timer per connection.
pub type EchoLoop<const N: usize, const BUF: usize> = EventLoop<Echo<N, BUF>, N, N, EVENTS>;

enum Socket<const BUF: usize> {
    Listener(TcpListener),
    Conn(Conn<BUF>),
}

struct Conn<const BUF: usize> {
    stream: TcpStream,
    buf: [u8; BUF],
    /// `buf[written..filled]` is read but not yet echoed.
    written: usize,
    filled: usize,
    /// The idle timer, re-armed on each read.
    idle: Option<TimerKey>,
}

/// What a connection wants next.
enum Next {
    Read,
    Write,
    Close,
}

impl<const BUF: usize> Conn<BUF> {
    /// Writes what is pending; reads once more when nothing is. Returns what the
    /// connection wants next and whether bytes arrived.
    fn pump(&mut self, ready: Ready) -> Result<(Next, bool), OsError> {
        let mut received = false;
        if self.written == self.filled && ready.is_readable() {
            match self.stream.try_read(&mut self.buf)? {
                Some(0) => return Ok((Next::Close, false)),
                Some(n) => (self.written, self.filled, received) = (0, n, true),
                None => return Ok((Next::Read, false)),
            }
        }
        while self.written < self.filled {
            match self
                .stream
                .try_write(&self.buf[self.written..self.filled])?
            {
                Some(0) => return Ok((Next::Close, received)),
                Some(n) => self.written += n,
                None => return Ok((Next::Write, received)),
            }
        }
        Ok((Next::Read, received))
    }
}

/// The echo server: a listener and up to `N - 1` connections in one table.
pub struct Echo<const N: usize, const BUF: usize> {
    sockets: Slab<Socket<BUF>, N>,
    /// Connections closed at once because the table was full.
    pub rejected: usize,
    /// `accept` calls that failed.
    pub accept_errors: usize,
    /// Connections served and closed.
    pub closed: usize,
    /// Times a connection's write was partial and it waited for writability.
    pub write_waits: usize,
    /// Connections closed because they were idle too long.
    pub timed_out: usize,
    idle_timeout: Duration,
}

impl<const N: usize, const BUF: usize> Echo<N, BUF> {
    /// A server with an empty table; `const`, so a large table can be a `static`.
    pub const fn new() -> Self {
        Echo {
            sockets: Slab::new(),
            rejected: 0,
            accept_errors: 0,
            closed: 0,
            write_waits: 0,
            timed_out: 0,
            idle_timeout: IDLE_TIMEOUT,
        }
    }

    /// Closes connections that send nothing for `idle` (instead of [`IDLE_TIMEOUT`]),
    /// counted from their next read.
    pub fn set_idle_timeout(&mut self, idle: Duration) {
        self.idle_timeout = idle;
    }

    /// Binds `addr`, registers the listener, and returns the address bound.
    ///
    /// # Errors
    /// What the OS refused (address in use, ...); the table already holds a listener.
    pub fn listen(
        &mut self,
        event_loop: &mut EchoLoop<N, BUF>,
        addr: SocketAddr,
    ) -> Result<SocketAddr, statio::Error> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let Some(key) = self
            .sockets
            .vacant_key()
            .filter(|_| self.sockets.is_empty())
        else {
            return Err(statio::Error::TokenInUse(Token(0)));
        };
        event_loop.register(&listener, Token(key.index()))?;
        let _ = self.sockets.insert(Socket::Listener(listener));
        Ok(local)
    }

    fn accept(&mut self, event_loop: &mut EchoLoop<N, BUF>, token: Token) {
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let Some(key) = self.sockets.key_at(token.0) else {
                return;
            };
            let Some(Socket::Listener(listener)) = self.sockets.get(key) else {
                return;
            };
            let stream = match listener.accept() {
                Ok(Some((stream, _peer))) => stream,
                Ok(None) => return,
                Err(_) => {
                    self.accept_errors += 1;
                    return;
                }
            };
            let conn = Conn {
                stream,
                buf: [0; BUF],
                written: 0,
                filled: 0,
                idle: None,
            };
            match self.sockets.insert(Socket::Conn(conn)) {
                Ok(key) => {
                    let token = Token(key.index());
                    if let Some(Socket::Conn(conn)) = self.sockets.get_mut(key) {
                        if event_loop.register(&conn.stream, token).is_err() {
                            self.sockets.remove(key);
                            continue;
                        }
                        // Cannot be full: there are as many timers as table slots.
                        conn.idle = event_loop.timeout(key, self.idle_timeout).ok();
                    }
                }
                // Full: dropping the connection closes it; its client sees EOF.
                Err(_) => self.rejected += 1,
            }
        }
    }

    fn close(&mut self, event_loop: &mut EchoLoop<N, BUF>, key: Key) {
        if let Some(Socket::Conn(conn)) = self.sockets.remove(key) {
            let _ = event_loop.deregister(&conn.stream, Token(key.index()));
            if let Some(idle) = conn.idle {
                event_loop.clear_timeout(idle);
            }
            self.closed += 1;
        }
    }
}

impl<const N: usize, const BUF: usize> Handler for Echo<N, BUF> {
    type Timeout = Key;
    type Message = ();
    type Loop = EchoLoop<N, BUF>;

    /// The idle timer of connection `key` expired; a stale key (its connection closed
    /// and the slot reused) matches nothing.
    fn timeout(&mut self, event_loop: &mut Self::Loop, key: Key) {
        if let Some(Socket::Conn(conn)) = self.sockets.get_mut(key) {
            conn.idle = None;
            self.timed_out += 1;
            self.close(event_loop, key);
        }
    }

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, ready: Ready) {
        let Some(key) = self.sockets.key_at(token.0) else {
            return;
        };
        let conn = match self.sockets.get_mut(key) {
            Some(Socket::Conn(conn)) => conn,
            Some(Socket::Listener(_)) => return self.accept(event_loop, token),
            None => return,
        };
        let was_writing = conn.written < conn.filled;
        let (next, received) = conn.pump(ready).unwrap_or((Next::Close, false));
        if received {
            // The connection is not idle: restart its timer.
            if let Some(idle) = conn.idle.take() {
                event_loop.clear_timeout(idle);
            }
            conn.idle = event_loop.timeout(key, self.idle_timeout).ok();
        }
        let interest = match next {
            Next::Read if was_writing => Interest::READABLE,
            Next::Write if !was_writing => {
                self.write_waits += 1;
                Interest::WRITABLE
            }
            Next::Read | Next::Write => return,
            Next::Close => return self.close(event_loop, key),
        };
        if event_loop
            .reregister(&conn.stream, token, interest, PollOpt::level())
            .is_err()
        {
            self.close(event_loop, key);
        }
    }
}
