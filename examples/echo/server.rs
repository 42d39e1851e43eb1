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

use core::net::SocketAddr;

use statio::net::{TcpListener, TcpStream};
use statio::{EventLoop, Handler, Interest, OsError, PollOpt, Ready, Slab, Token};

/// How many events one turn takes.
pub const EVENTS: usize = 256;

/// The loop of an echo server whose table holds `N` sockets (the listener included),
/// with a `BUF`-byte buffer per connection.
pub type EchoLoop<const N: usize, const BUF: usize> = EventLoop<Echo<N, BUF>, N, EVENTS>;

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
}

/// What a connection wants next.
enum Next {
    Read,
    Write,
    Close,
}

impl<const BUF: usize> Conn<BUF> {
    /// Writes what is pending; reads once more when nothing is.
    fn pump(&mut self, ready: Ready) -> Result<Next, OsError> {
        if self.written == self.filled && ready.is_readable() {
            match self.stream.try_read(&mut self.buf)? {
                Some(0) => return Ok(Next::Close),
                Some(n) => (self.written, self.filled) = (0, n),
                None => return Ok(Next::Read),
            }
        }
        while self.written < self.filled {
            match self
                .stream
                .try_write(&self.buf[self.written..self.filled])?
            {
                Some(0) => return Ok(Next::Close),
                Some(n) => self.written += n,
                None => return Ok(Next::Write),
            }
        }
        Ok(Next::Read)
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
        }
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
            };
            match self.sockets.insert(Socket::Conn(conn)) {
                Ok(key) => {
                    let token = Token(key.index());
                    if let Some(Socket::Conn(conn)) = self.sockets.get(key)
                        && event_loop.register(&conn.stream, token).is_err()
                    {
                        self.sockets.remove(key);
                    }
                }
                // Full: dropping the connection closes it; its client sees EOF.
                Err(_) => self.rejected += 1,
            }
        }
    }
}

impl<const N: usize, const BUF: usize> Handler for Echo<N, BUF> {
    type Timeout = ();
    type Message = ();
    type Loop = EchoLoop<N, BUF>;

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
        let next = conn.pump(ready).unwrap_or(Next::Close);
        let interest = match next {
            Next::Read if was_writing => Interest::READABLE,
            Next::Write if !was_writing => {
                self.write_waits += 1;
                Interest::WRITABLE
            }
            Next::Read | Next::Write => return,
            Next::Close => {
                let _ = event_loop.deregister(&conn.stream, token);
                self.sockets.remove(key);
                self.closed += 1;
                return;
            }
        };
        if event_loop
            .reregister(&conn.stream, token, interest, PollOpt::level())
            .is_err()
        {
            let _ = event_loop.deregister(&conn.stream, token);
            self.sockets.remove(key);
            self.closed += 1;
        }
    }
}
