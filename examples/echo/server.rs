//! The echo server behind `examples/echo`, built the documented way: a [`SourceTable`]
//! owns the connections, an [`Acceptor`] takes them (pausing when descriptors run out),
//! and a [`BufPool`] lends a buffer only to a connection whose echo could not be written
//! at once. Shared with the integration tests, which run it with smaller capacities.
//!
//! Behaviour, for each kind of input:
//! - Bytes are read into one shared scratch buffer and written straight back. What a
//!   write leaves over moves into a buffer lent from the pool, and the connection stops
//!   reading (interest: writable) until that buffer drains and goes back. So a client
//!   that does not read stalls only itself, and memory is spent on bytes in flight.
//! - The pool is empty (every buffer holds some connection's unsent bytes): a
//!   connection with bytes to read is not read (a buffer is lent *before* each read, so
//!   no byte is ever read without a place to keep its leftover). Its interest becomes
//!   oneshot, so it goes quiet after one more event, and it is re-armed when a buffer
//!   returns. Its bytes wait in the kernel; [`Echo::starved`] counts these waits.
//! - EOF, a reset or any other error: the connection is removed (deregistered) and
//!   closed.
//! - The table is full: a new connection is accepted and closed at once, so its
//!   client sees EOF; [`Echo::rejected`] counts these.
//! - `accept` fails for lack of descriptors or memory: the acceptor pauses (100 ms
//!   doubling to 1 s, or until a connection closes), [`Echo::accept_pauses`] counts it.
//! - A connection that sends nothing for the idle timeout is closed by a sweep that
//!   runs four times per timeout (one timer for all connections): it lives at least
//!   the timeout and at most 1.25 times it. [`Echo::timed_out`] counts these.
//! - SIGTERM or SIGINT (when [`Echo::watch_signals`] was called): the listener closes,
//!   every connection is closed (its client sees EOF) and `run` returns. SIGHUP is
//!   logged. SIGUSR1 prints the marks ([`Echo::stats`]) to stderr as one block, and
//!   the server goes on.

use core::net::SocketAddr;
use core::time::Duration;

use statio::buf::{Buf, BufPool, LentBuf, MutBuf, RingBuf};
use statio::net::{TcpListener, TcpStream};
use statio::signal::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SignalSet};
use statio::{
    Accepted, Acceptor, Error, EventLoop, Handler, Interest, PollOpt, Ready, Signals, SourceTable,
    Stats, Token,
};

#[path = "../common/marks.rs"]
pub mod marks;

/// How many events one turn takes.
pub const EVENTS: usize = 256;
/// How long a connection may send nothing before it is closed, unless set otherwise.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes of scratch buffer and of each pooled buffer: a `RingBuf<4080>` is 4 KiB.
pub const BUF: usize = 4080;
/// The signals the server stops on, logs (SIGHUP) or prints its marks on (SIGUSR1).
pub const SIGNALS: SignalSet = SignalSet::new()
    .with(SIGTERM)
    .with(SIGINT)
    .with(SIGHUP)
    .with(SIGUSR1);

/// A pool of `P` buffers.
pub type Pool<const P: usize> = BufPool<RingBuf<BUF>, P>;

/// The loop of an echo server with a table of `N` connections, `S` tokens (at least
/// `N + 2`: the table's, the listener's and the signals') and a pool of `P` buffers.
pub type EchoLoop<const N: usize, const S: usize, const P: usize> =
    EventLoop<Echo<N, S, P>, S, 4, EVENTS>;

/// What a timer of the server does.
pub enum Timer {
    /// Resume the paused acceptor.
    ResumeAccept,
    /// Close the connections idle for too long.
    Sweep,
}

/// The connections of a server with `N` connections and a pool of `P` buffers: the
/// table, 16 bytes a connection (its socket, [`Conn`] and the table's stamp), and apart
/// from it the lent buffers of the connections whose echo is partly unsent.
///
/// Why apart: a lent buffer's handle is 16 bytes (it names its pool), and every
/// connection would carry room for one, although at most `P` hold one at a time; with
/// 1,000 connections that echoed once, the table would keep 10 pages resident instead
/// of 4. `new` is all zero bytes, so a `static` table is in `.bss`.
pub struct Table<const N: usize, const P: usize> {
    conns: SourceTable<TcpStream, Conn, N>,
    /// The lent buffers, at their index in the pool: a `writing` connection's unsent
    /// bytes are at its `buf`. The pool lends the buffer returned last first (LIFO),
    /// fresh ones in index order, so only as many entries as were ever lent at once
    /// are touched.
    pending: [Option<LentBuf<'static, RingBuf<BUF>, P>>; P],
}

impl<const N: usize, const P: usize> Table<N, P> {
    /// An empty table: `const` and all zero bytes.
    pub const fn new() -> Self {
        const {
            assert!(
                P <= u16::MAX as usize,
                "a connection keeps its buffer's index as u16"
            )
        };
        Table {
            conns: SourceTable::new(),
            pending: [const { None }; P],
        }
    }
}

impl<const N: usize, const P: usize> Default for Table<N, P> {
    fn default() -> Self {
        Self::new()
    }
}

/// Per connection, beside its socket: when it was last active and what it waits for.
pub struct Conn {
    /// The sweep count at the last read (wrapping: idle is at most 5 sweeps apart).
    seen: u16,
    /// While `writing`: the index of its lent buffer in [`Table`]'s pending ones.
    buf: u16,
    /// Its unsent bytes are in a lent buffer; it waits to be writable.
    writing: bool,
    /// Not read for want of a pooled buffer: oneshot until re-armed.
    starved: bool,
}

/// The echo server.
pub struct Echo<const N: usize, const S: usize, const P: usize> {
    /// Kept apart (a `static` in main.rs): all zero bytes, so in `.bss`.
    conns: &'static mut Table<N, P>,
    acceptor: Option<Acceptor<TcpListener>>,
    signals: Option<Signals>,
    pool: &'static Pool<P>,
    scratch: [u8; BUF],
    idle_timeout: Duration,
    /// Sweeps so far: a connection idle for more than 4 of them is closed.
    sweeps: u16,
    /// Connections waiting for a buffer.
    waiting: usize,
    /// Connections closed at once because the table was full.
    pub rejected: usize,
    /// Times accepting paused for lack of descriptors or memory.
    pub accept_pauses: usize,
    /// `accept` calls that failed for another reason (the connection was aborted).
    pub accept_errors: usize,
    /// Connections served and closed.
    pub closed: usize,
    /// Times a connection's write was partial and it waited for writability.
    pub write_waits: usize,
    /// Times a connection was not read because the pool was empty.
    pub starved: usize,
    /// Connections closed because they were idle too long.
    pub timed_out: usize,
}

impl<const N: usize, const S: usize, const P: usize> Echo<N, S, P> {
    /// The listener's token: the first after the table's.
    pub const LISTENER: Token = Token(N);
    /// The signal source's token.
    pub const SIGNALS: Token = Token(N + 1);

    /// A server with the connection table `conns` (empty), lending buffers from `pool`.
    pub fn new(pool: &'static Pool<P>, conns: &'static mut Table<N, P>) -> Self {
        Echo {
            conns,
            acceptor: None,
            signals: None,
            pool,
            scratch: [0; BUF],
            idle_timeout: IDLE_TIMEOUT,
            sweeps: 0,
            waiting: 0,
            rejected: 0,
            accept_pauses: 0,
            accept_errors: 0,
            closed: 0,
            write_waits: 0,
            starved: 0,
            timed_out: 0,
        }
    }

    /// Closes connections that send nothing for `idle` (instead of [`IDLE_TIMEOUT`]).
    pub fn set_idle_timeout(&mut self, idle: Duration) {
        self.idle_timeout = idle;
    }

    /// Binds `addr`, registers the listener, starts the idle sweep, and returns the
    /// address bound.
    ///
    /// # Errors
    /// What the OS refused (address in use, ...); `TokenInUse` when listening already.
    pub fn listen(
        &mut self,
        event_loop: &mut EchoLoop<N, S, P>,
        addr: SocketAddr,
    ) -> Result<SocketAddr, Error> {
        const { assert!(S >= N + 2, "the loop needs the table's tokens plus two") };
        if self.acceptor.is_some() {
            return Err(Error::TokenInUse(Self::LISTENER));
        }
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        self.acceptor = Some(Acceptor::register(listener, event_loop, Self::LISTENER)?);
        self.arm_sweep(event_loop);
        Ok(local)
    }

    /// Stops on SIGTERM and SIGINT, logs SIGHUP and prints the marks on SIGUSR1,
    /// received through `signals`.
    ///
    /// # Errors
    /// What the loop refused when registering `signals`.
    pub fn watch_signals(
        &mut self,
        event_loop: &mut EchoLoop<N, S, P>,
        signals: Signals,
    ) -> Result<(), Error> {
        event_loop.register(&signals, Self::SIGNALS)?;
        self.signals = Some(signals);
        Ok(())
    }

    fn arm_sweep(&self, event_loop: &mut EchoLoop<N, S, P>) {
        // Cannot be full: the loop holds 4 timers, the server at most 2 at once.
        let _ = event_loop.timeout(Timer::Sweep, self.idle_timeout / 4);
    }

    fn accept(&mut self, event_loop: &mut EchoLoop<N, S, P>) {
        let Some(acceptor) = &mut self.acceptor else {
            return;
        };
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let stream = match acceptor.accept(event_loop, || Timer::ResumeAccept) {
                Accepted::Stream(stream, _) => stream,
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
            let conn = Conn {
                seen: self.sweeps,
                buf: 0,
                writing: false,
                starved: false,
            };
            // Full (or refused): the stream comes back and is dropped, closing it.
            if self
                .conns
                .conns
                .insert(
                    event_loop,
                    stream,
                    conn,
                    Interest::READABLE,
                    PollOpt::level(),
                )
                .is_err()
            {
                self.rejected += 1;
            }
        }
    }

    fn close(&mut self, event_loop: &mut EchoLoop<N, S, P>, token: Token) {
        let Some((_stream, conn)) = self.conns.conns.remove(event_loop, token) else {
            return;
        };
        self.closed += 1;
        if conn.starved {
            self.waiting -= 1;
        }
        // Dropped: its buffer goes back to the pool.
        let returned = conn.writing && self.conns.pending[usize::from(conn.buf)].take().is_some();
        if let Some(acceptor) = &mut self.acceptor {
            let _ = acceptor.descriptor_freed(event_loop);
        }
        if returned {
            self.wake_one_waiting(event_loop);
        }
    }

    /// A buffer returned: re-arm one connection that waits for one.
    fn wake_one_waiting(&mut self, event_loop: &mut EchoLoop<N, S, P>) {
        if self.waiting == 0 {
            return;
        }
        // A scan, only while some connection waits: the pool is exhausted then, and
        // the scan stops at the first one.
        let Some(token) = self
            .conns
            .conns
            .iter_mut()
            .find(|(_, _, conn)| conn.starved)
            .map(|(token, _, conn)| {
                conn.starved = false;
                token
            })
        else {
            return;
        };
        self.waiting -= 1;
        if self
            .conns
            .conns
            .reregister(event_loop, token, Interest::READABLE, PollOpt::level())
            .is_err()
        {
            self.close(event_loop, token);
        }
    }

    /// Reads once into the scratch buffer and echoes; what is left moves into a lent
    /// buffer. Returns the interest the connection needs next, `None` to close it.
    fn read(&mut self, token: Token) -> Option<Interest> {
        let (stream, conn) = self.conns.conns.get_mut(token)?;
        // Lend first: only a connection whose leftover has a place is read.
        let Ok(mut spare) = self.pool.lend() else {
            if !conn.starved {
                conn.starved = true;
                self.waiting += 1;
                self.starved += 1;
            }
            return Some(Interest::READABLE);
        };
        let n = match stream.try_read(&mut self.scratch) {
            Ok(Some(0)) | Err(_) => return None,
            Ok(Some(n)) => n,
            Ok(None) => return Some(Interest::READABLE),
        };
        conn.seen = self.sweeps;
        let mut written = 0;
        while written < n {
            match stream.try_write(&self.scratch[written..n]) {
                Ok(Some(w)) => written += w,
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        if written == n {
            return Some(Interest::READABLE); // `spare` goes back untouched
        }
        // Cannot fail: the leftover is at most `BUF`, the empty buffer's size.
        let _ = spare.try_write_all(&self.scratch[written..n]);
        // Fits `u16`: the pool holds at most `u16::MAX` (checked in `Table::new`).
        let index = spare.index();
        conn.buf = index as u16;
        conn.writing = true;
        self.conns.pending[index] = Some(spare);
        self.write_waits += 1;
        Some(Interest::WRITABLE)
    }

    /// Writes the pending bytes; returns the interest needed next, `None` to close.
    fn flush(&mut self, token: Token) -> Option<(Interest, bool)> {
        let (stream, conn) = self.conns.conns.get_mut(token)?;
        let pending = match &mut self.conns.pending[usize::from(conn.buf)] {
            Some(pending) if conn.writing => pending,
            _ => return Some((Interest::READABLE, false)),
        };
        while pending.has_remaining() {
            match stream.try_write_buf(pending) {
                Ok(Some(_)) => {}
                Ok(None) => return Some((Interest::WRITABLE, false)),
                Err(_) => return None,
            }
        }
        self.conns.pending[usize::from(conn.buf)] = None; // back to the pool
        conn.writing = false;
        Some((Interest::READABLE, true))
    }

    fn on_signals(&mut self, event_loop: &mut EchoLoop<N, S, P>) {
        let Some(signals) = &mut self.signals else {
            return;
        };
        let Ok(set) = signals.receive() else {
            return;
        };
        if set.contains(SIGHUP) {
            eprintln!("echo: SIGHUP: nothing to reload");
        }
        if set.contains(SIGUSR1) {
            marks::print(
                format_args!("echo: marks on SIGUSR1"),
                &self.stats(event_loop),
            );
        }
        if set.contains(SIGTERM) || set.contains(SIGINT) {
            self.stop(event_loop);
        }
    }

    /// The marks of the loop, the pool, the table and the listener: how close the
    /// server came to each capacity, and how often each refused.
    pub fn stats(&self, event_loop: &EchoLoop<N, S, P>) -> Stats {
        event_loop
            .stats()
            .with_pool(self.pool.marks())
            .with_table(self.conns.conns.marks())
            .with_accept_paused(self.accept_pauses as u64)
    }

    /// Stops accepting, closes every connection, and ends `run`.
    pub fn stop(&mut self, event_loop: &mut EchoLoop<N, S, P>) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.close(event_loop);
        }
        self.close_where(event_loop, |_| true);
        event_loop.shutdown();
    }

    /// Closes every connection for which `pick` holds, in one pass over the table's
    /// slots by token (`close` needs the table, so no iterator can stay open across it;
    /// restarting one after each close would make a mass close quadratic). Returns how
    /// many it closed.
    fn close_where(
        &mut self,
        event_loop: &mut EchoLoop<N, S, P>,
        pick: impl Fn(&Conn) -> bool,
    ) -> usize {
        let mut closed = 0;
        for token in (0..N).map(Token) {
            if self
                .conns
                .conns
                .get(token)
                .is_some_and(|(_, conn)| pick(conn))
            {
                self.close(event_loop, token);
                closed += 1;
            }
        }
        closed
    }

    fn sweep(&mut self, event_loop: &mut EchoLoop<N, S, P>) {
        self.sweeps = self.sweeps.wrapping_add(1);
        let now = self.sweeps;
        // Idle for more than 4 sweeps: at least 4 quarters of the timeout.
        self.timed_out += self.close_where(event_loop, |conn| now.wrapping_sub(conn.seen) > 4);
        if self.acceptor.is_some() {
            self.arm_sweep(event_loop);
        }
    }
}

impl<const N: usize, const S: usize, const P: usize> Handler for Echo<N, S, P> {
    type Timeout = Timer;
    type Message = ();
    type Loop = EchoLoop<N, S, P>;

    fn timeout(&mut self, event_loop: &mut Self::Loop, timer: Timer) {
        match timer {
            Timer::ResumeAccept => {
                if let Some(acceptor) = &mut self.acceptor {
                    // Refused: still paused, with a new timer.
                    let _ = acceptor.resume(event_loop, || Timer::ResumeAccept);
                }
            }
            Timer::Sweep => self.sweep(event_loop),
        }
    }

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, ready: Ready) {
        if token == Self::LISTENER {
            return self.accept(event_loop);
        }
        if token == Self::SIGNALS {
            return self.on_signals(event_loop);
        }
        let Some((_, conn)) = self.conns.conns.get(token) else {
            return;
        };
        let was_writing = conn.writing;
        let was_starved = conn.starved;
        let next = if was_writing {
            match self.flush(token) {
                Some((interest, returned)) => {
                    if returned {
                        self.wake_one_waiting(event_loop);
                    }
                    Some(interest)
                }
                None => None,
            }
        } else if ready.is_readable()
            || ready.is_error()
            || ready.is_hup()
            || ready.is_read_closed()
        {
            self.read(token)
        } else {
            Some(Interest::READABLE)
        };
        let Some(interest) = next else {
            return self.close(event_loop, token);
        };
        let Some((_, conn)) = self.conns.conns.get(token) else {
            return;
        };
        let opt = if conn.starved {
            PollOpt::level().with_oneshot()
        } else {
            PollOpt::level()
        };
        if (was_writing, was_starved) == (interest.is_writable(), conn.starved) {
            return;
        }
        if self
            .conns
            .conns
            .reregister(event_loop, token, interest, opt)
            .is_err()
        {
            self.close(event_loop, token);
        }
    }
}
