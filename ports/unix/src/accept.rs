//! [`Acceptor`]: a listener that pauses when the process runs out of descriptors,
//! instead of spinning on a listener that stays readable.
//!
//! When `accept` fails with `EMFILE`/`ENFILE` (no descriptor), `ENOBUFS`/`ENOMEM`
//! (no kernel memory), the connection stays in the backlog, so a level-triggered
//! listener is reported again at once: the loop would call `accept` thousands of times a
//! second, at 100 % of a core, until a descriptor frees. The acceptor instead
//! deregisters the listener, sets a timer (100 ms, doubling up to 1 s while the failures
//! go on), and tells the handler with [`Accepted::Paused`]. It resumes when the timer
//! fires ([`Acceptor::resume`] from `Handler::timeout`) or at once when the server
//! closes a connection ([`Acceptor::descriptor_freed`]): waiting clients are served
//! within one turn of a descriptor freeing, and meanwhile the loop sleeps.
//!
//! ```no_run
//! use statio_core::sim::SimSelector;
//! use statio_core::{EventLoop, Handler, Ready, Token};
//! use statio_unix::accept::{Accepted, Acceptor};
//! use statio_unix::net::TcpListener;
//!
//! const LISTENER: Token = Token(0);
//! type Loop = EventLoop<Server, SimSelector, 16, 4, 16>;
//!
//! enum Timer {
//!     ResumeAccept,
//! }
//!
//! struct Server {
//!     acceptor: Acceptor<TcpListener>,
//! }
//!
//! impl Handler for Server {
//!     type Timeout = Timer;
//!     type Message = ();
//!     type Loop = Loop;
//!
//!     fn readable(&mut self, event_loop: &mut Loop, token: Token, _: Ready) {
//!         if token != LISTENER {
//!             return; // a connection's event; after closing one, call
//!                     // `self.acceptor.descriptor_freed(event_loop)`
//!         }
//!         // Bounded: a level-triggered listener reports the rest next turn.
//!         for _ in 0..64 {
//!             match self.acceptor.accept(event_loop, || Timer::ResumeAccept) {
//!                 Accepted::Stream(stream, _peer) => drop(stream), // store it instead
//!                 Accepted::Empty => break,
//!                 Accepted::Paused(paused) => {
//!                     eprintln!("{paused}");
//!                     break;
//!                 }
//!                 Accepted::Failed(_aborted) => continue,
//!             }
//!         }
//!     }
//!
//!     fn timeout(&mut self, event_loop: &mut Loop, timer: Timer) {
//!         match timer {
//!             Timer::ResumeAccept => {
//!                 // Refused: still paused, and it set a new timer to try again.
//!                 let _ = self.acceptor.resume(event_loop, || Timer::ResumeAccept);
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! # Why pause, and not a reserved descriptor
//!
//! libev's documentation (the "special problem of accept()ing when you can't") and
//! libuv (`uv__emfile_trick`) keep a spare descriptor open: on `EMFILE` they close it,
//! accept the pending connection, close that at once, and reopen the spare. The client
//! gets a reset instead of waiting, and the listener drains. But the spare is one
//! descriptor taken from the server for its whole life, the trick needs a loop that
//! can tell `EAGAIN` from `EMFILE` on the retry (libuv's own bug fix b3ab332), it does
//! nothing for `ENFILE` (system-wide: another process may take the freed descriptor)
//! or `ENOMEM`, and it turns away clients that a server about to close an idle
//! connection could have served a moment later. nginx instead disables its accept
//! events on `EMFILE`/`ENFILE` and re-enables them on a timer
//! (`ngx_disable_accept_events`, `accept_mutex_delay`, 500 ms); hyper's `AddrIncoming`
//! and axum's `serve` sleep 1 s after such an error before accepting again. statio
//! follows nginx, with the delay starting shorter (100 ms, doubling to 1 s: a brief
//! exhaustion costs little latency, a long one costs at most one `accept` a second) and
//! an early resume when the server itself frees a descriptor, which is what a server
//! at its limit usually waits for. Waiting clients stay in the kernel's backlog (and
//! get `ECONNREFUSED`/a timeout only if it overflows), which is what they would see
//! from any server at its limit.

use core::fmt;
use core::time::Duration;

use statio_core::{Error, EventLoop, Handler, OsError, Selector, Source, TimerKey, Token};

use crate::RawFd;
use core::net::SocketAddr;

use crate::net::{TcpListener, TcpStream, UnixAddr, UnixListener, UnixStream};

/// The first pause after an exhaustion error.
pub const FIRST_PAUSE: Duration = Duration::from_millis(100);
/// The longest pause: the delay doubles up to this while the errors go on.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// A listening socket an [`Acceptor`] can take connections from.
pub trait Listener: Source<RawFd> {
    /// The connected stream `accept` returns.
    type Stream;
    /// The peer's address.
    type Addr;

    /// Accepts one pending connection: `Ok(None)` when none is pending.
    ///
    /// # Errors
    /// What `accept` refused.
    fn accept(&self) -> Result<Option<Connection<Self>>, OsError>;
}

/// A connection a [`Listener`] accepted: the stream and its peer's address.
pub type Connection<L> = (<L as Listener>::Stream, <L as Listener>::Addr);

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Addr = SocketAddr;

    fn accept(&self) -> Result<Option<(TcpStream, SocketAddr)>, OsError> {
        TcpListener::accept(self)
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Addr = UnixAddr;

    fn accept(&self) -> Result<Option<(UnixStream, UnixAddr)>, OsError> {
        UnixListener::accept(self)
    }
}

/// What one [`Acceptor::accept`] produced.
#[derive(Debug)]
pub enum Accepted<S, A> {
    /// A new connection and its peer's address.
    Stream(S, A),
    /// No connection is pending (or the acceptor is paused): wait for the next event.
    Empty,
    /// Out of descriptors or memory: the listener is paused; see [`AcceptPaused`].
    Paused(AcceptPaused),
    /// This connection failed before it was accepted (`ECONNABORTED`, `EPERM` from a
    /// firewall, ...): it left the backlog, so calling `accept` again is fine.
    Failed(OsError),
}

/// The listener stopped accepting because the process or system ran out of a
/// resource. It resumes after `retry_in` (when the handler passes the timer to
/// [`Acceptor::resume`]) or when the server calls [`Acceptor::descriptor_freed`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AcceptPaused {
    /// What `accept` failed with: `EMFILE`, `ENFILE`, `ENOBUFS` or `ENOMEM`.
    pub error: OsError,
    /// When the timer resumes it; `None` when no timer could be set (the loop's timers
    /// are full, or it has none): then only `descriptor_freed` resumes it.
    pub retry_in: Option<Duration>,
}

impl fmt::Display for AcceptPaused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "accept paused ({})", self.error)?;
        match self.retry_in {
            Some(delay) => write!(f, ": retrying in {} ms", delay.as_millis()),
            None => f.write_str(": resuming when a connection closes"),
        }
    }
}

/// Whether `error` means "out of descriptors or memory": the backlog keeps the
/// connection, and retrying at once fails the same way.
pub fn is_exhaustion(error: OsError) -> bool {
    matches!(
        error.code(),
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
    )
}

/// A registered listener that pauses on exhaustion; see the [module docs](self).
#[derive(Debug)]
pub struct Acceptor<L> {
    listener: L,
    token: Token,
    /// `Some` while paused: the timer that resumes it, if one was set.
    paused: Option<Option<TimerKey>>,
    /// The next pause's length.
    next_pause: Duration,
    /// The first and the longest pause.
    pauses: (Duration, Duration),
    /// Pauses since registration or the last `reset_paused_count`.
    paused_count: u64,
}

impl<L: Listener> Acceptor<L> {
    /// Registers `listener` readable (level-triggered) under `token`.
    ///
    /// # Errors
    /// What [`EventLoop::register`] refused; the listener is dropped (closed) then.
    pub fn register<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        listener: L,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
        token: Token,
    ) -> Result<Self, Error>
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        event_loop.register(&listener, token)?;
        Ok(Acceptor {
            listener,
            token,
            paused: None,
            next_pause: FIRST_PAUSE,
            pauses: (FIRST_PAUSE, LONGEST_PAUSE),
            paused_count: 0,
        })
    }

    /// Pauses `first` long after the first exhaustion error, doubling up to `longest`
    /// while they go on (instead of [`FIRST_PAUSE`] and [`LONGEST_PAUSE`]).
    pub fn set_pauses(&mut self, first: Duration, longest: Duration) {
        self.pauses = (first, longest.max(first));
        self.next_pause = first;
    }

    /// Accepts one connection. On exhaustion, pauses: deregisters the listener and
    /// sets a timer of value `timer()` (which the handler's `timeout` passes to
    /// [`resume`](Self::resume)).
    pub fn accept<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
        timer: impl FnOnce() -> H::Timeout,
    ) -> Accepted<L::Stream, L::Addr>
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        if self.paused.is_some() {
            return Accepted::Empty;
        }
        match self.listener.accept() {
            Ok(Some((stream, addr))) => {
                self.next_pause = self.pauses.0;
                Accepted::Stream(stream, addr)
            }
            Ok(None) => Accepted::Empty,
            Err(error) if is_exhaustion(error) => {
                Accepted::Paused(self.pause(event_loop, timer, error))
            }
            Err(error) => Accepted::Failed(error),
        }
    }

    fn pause<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
        timer: impl FnOnce() -> H::Timeout,
        error: OsError,
    ) -> AcceptPaused
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        // Cannot fail but for an OS error, after which the token is free all the same;
        // `resume` registers again either way.
        let _ = event_loop.deregister(&self.listener, self.token);
        let retry_in = self.arm(event_loop, timer);
        self.paused_count = self.paused_count.saturating_add(1);
        AcceptPaused { error, retry_in }
    }

    /// Sets the timer that resumes a pause (the next pause's length, doubling it for
    /// the one after) and marks the acceptor paused; returns the delay, `None` when the
    /// loop's wheel is full (then only `descriptor_freed` resumes it).
    fn arm<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
        timer: impl FnOnce() -> H::Timeout,
    ) -> Option<Duration>
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        let delay = self.next_pause;
        let key = event_loop.timeout(timer(), delay).ok();
        self.next_pause = delay.saturating_mul(2).min(self.pauses.1);
        self.paused = Some(key);
        key.map(|_| delay)
    }

    /// Resumes a paused listener (the pause's timer fired; pass the same `timer` as to
    /// [`accept`](Self::accept)): registers it again, so the connections waiting in
    /// the backlog are reported next turn. Returns whether it was paused; a call while
    /// not paused does nothing.
    ///
    /// # Errors
    /// What [`EventLoop::register`] refused. The acceptor stays paused and sets a new
    /// timer of value `timer()`, the next pause long (the one that called this has
    /// fired: without a new one, only a `descriptor_freed` would resume it).
    pub fn resume<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
        timer: impl FnOnce() -> H::Timeout,
    ) -> Result<bool, Error>
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        let Some(key) = self.paused else {
            return Ok(false);
        };
        if let Some(key) = key {
            // A stale key (the timer is what called us) cancels nothing; a live one
            // (called early) is replaced either way.
            event_loop.clear_timeout(key);
        }
        match self.try_register(event_loop) {
            Ok(()) => Ok(true),
            Err(err) => {
                self.arm(event_loop, timer);
                Err(err)
            }
        }
    }

    /// The server closed a connection (a descriptor is free): resumes at once if
    /// paused. Call it after each close; it costs nothing when not paused.
    ///
    /// # Errors
    /// What [`EventLoop::register`] refused: the acceptor stays paused, and its
    /// pause's timer (if the wheel had room for one) still resumes it.
    pub fn descriptor_freed<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
    ) -> Result<bool, Error>
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        let Some(key) = self.paused else {
            return Ok(false);
        };
        self.try_register(event_loop)?;
        if let Some(key) = key {
            event_loop.clear_timeout(key);
        }
        Ok(true)
    }

    /// Registers the paused listener again and ends the pause; refused, it stays paused.
    fn try_register<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
    ) -> Result<(), Error>
    where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        event_loop.register(&self.listener, self.token)?;
        self.paused = None;
        Ok(())
    }

    /// Stops accepting for good: deregisters the listener (or cancels its pause timer)
    /// and closes it.
    pub fn close<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        self,
        event_loop: &mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>,
    ) where
        H: Handler,
        S: Selector<Handle = RawFd>,
    {
        match self.paused {
            None => {
                let _ = event_loop.deregister(&self.listener, self.token);
            }
            Some(timer) => {
                if let Some(timer) = timer {
                    event_loop.clear_timeout(timer);
                }
            }
        }
    }

    /// Whether accepting is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.is_some()
    }

    /// How many times accepting paused on exhaustion since the listener was registered
    /// or [`reset_paused_count`](Self::reset_paused_count): the limit-hit count of the
    /// process's descriptors, for `Stats::with_accept_paused`.
    pub fn paused_count(&self) -> u64 {
        self.paused_count
    }

    /// Starts counting pauses from zero again (with the loop's `reset_stats`).
    pub fn reset_paused_count(&mut self) {
        self.paused_count = 0;
    }

    /// The token the listener is registered under (also while paused: it comes back
    /// under the same one).
    pub fn token(&self) -> Token {
        self.token
    }

    /// The listener, e.g. for `local_addr`.
    pub fn listener(&self) -> &L {
        &self.listener
    }
}
