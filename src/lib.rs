//! statio: a fast, low-level, non-blocking I/O event loop with every capacity fixed at
//! compile time and no heap allocation, in the spirit of mio 0.2.
//!
//! This crate is the facade: it re-exports the portable core ([`statio_core`]) and the
//! native port for the target (epoll on Linux and Android, kqueue on the BSDs and
//! macOS), and names the loop with that port filled in, so a program states its
//! capacities once:
//!
//! ```no_run
//! use statio::net::TcpListener;
//! use statio::{EventLoop, Handler, Ready, Token};
//!
//! type Loop = EventLoop<Server, /*sources*/ 64, /*timers*/ 0, /*events*/ 32>;
//!
//! struct Server(TcpListener);
//!
//! impl Handler for Server {
//!     type Timeout = ();
//!     type Message = ();
//!     type Loop = Loop;
//!
//!     fn readable(&mut self, event_loop: &mut Loop, _: Token, _: Ready) {
//!         // Accept one connection and close it at once, then stop.
//!         if let Ok(Some((_conn, peer))) = self.0.accept() {
//!             println!("accepted {peer}");
//!             event_loop.shutdown();
//!         }
//!     }
//! }
//!
//! fn main() -> Result<(), statio::Error> {
//!     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//!     let mut event_loop = Loop::new()?;
//!     event_loop.register(&listener, Token(0))?;
//!     event_loop.run(&mut Server(listener))
//! }
//! ```
//!
//! | crate | job |
//! |---|---|
//! | `statio-core` | tokens, readiness, slab, registry, timer wheel, clock, `Selector` trait, `EventLoop` (no_std, no libc) |
//! | `statio-unix` | owned fds, errno, TCP/UDP/Unix sockets, pipes, embedded-io, signal sets, child statuses (no_std, libc) |
//! | `statio-epoll` | the epoll selector (Linux, Android) |
//! | `statio-kqueue` | the kqueue selector (FreeBSD, macOS, NetBSD, OpenBSD, DragonFly) |
//! | `statio-poll` | the poll(2) selector, any POSIX system (feature `force-poll` picks it everywhere) |
//!
//! The `std` feature (on by default) adds conversions only: `std::io::Error` from the
//! error types, `AsFd`/`AsRawFd` and `std::net` conversions for the sockets.
#![no_std]
#![warn(missing_docs)]

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// docs/PORTING.md as a page of the API docs; its Rust blocks run as doctests.
#[doc = include_str!("../docs/PORTING.md")]
pub mod porting {}

/// Byte buffers sockets read into and write from directly (`try_read_buf`/`try_write_buf`).
pub use statio_core::buf;
pub use statio_core::{
    ChannelView, Clock, Config, Error, ErrorKind, Event, Events, Handler, Instant, Interest, Key,
    LoopCell, Mark, OsError, PollOpt, Ready, Registration, Rejected, Run, Selector, SendError,
    Slab, Source, SourceTable, Stats, TimerError, TimerKey, Token, Wake, Wheel, sim,
};
pub use statio_unix::accept::{AcceptPaused, Accepted, Acceptor};
pub use statio_unix::clock::MonotonicClock;
pub use statio_unix::{Fd, RawFd, accept, limits, net, process, signal};

/// The native selector of this target: epoll on Linux and Android (no limit of its
/// own), kqueue on the BSDs and macOS (with its default capacity, 1,024 descriptors),
/// and the poll(2) port (with its default capacity, 1,024 descriptors, the waker's
/// included) on any other Unix or when the `force-poll` feature asks for it; one
/// descriptor more is `ENOSPC`. Another port or capacity: `GenericEventLoop<H,
/// ports::kqueue::Kqueue<N>, ...>` or `GenericEventLoop<H, ports::poll::Poll<N>, ...>`.
pub type NativeSelector = ports::Native;

/// Signals as events, from the [`NativeSelector`]'s port: a signalfd on epoll, an
/// `EVFILT_SIGNAL` kqueue on kqueue, a self-pipe on poll(2). Register it like a socket;
/// when readable, `receive()` returns the signals that arrived since the last call.
/// See [`signal`] for the semantics and the threads' masks (`Signals::block` first
/// thing in `main`).
///
/// ```no_run
/// use statio::signal::{SignalSet, SIGHUP, SIGINT, SIGTERM};
/// use statio::{EventLoop, Handler, Ready, Signals, Token};
///
/// const SIGNALS: Token = Token(0);
/// const SET: SignalSet = SignalSet::new().with(SIGTERM).with(SIGINT).with(SIGHUP);
/// type Loop = EventLoop<Daemon, 16, 0, 16>;
///
/// struct Daemon(Signals);
///
/// impl Handler for Daemon {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
///
///     fn readable(&mut self, event_loop: &mut Loop, token: Token, _: Ready) {
///         if token != SIGNALS {
///             return;
///         }
///         for signal in self.0.receive().unwrap_or_default() {
///             match signal {
///                 SIGTERM | SIGINT => event_loop.shutdown(),
///                 _ => println!("SIGHUP: reloading"),
///             }
///         }
///     }
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // Before any thread is spawned: signalfd needs the signals blocked in each.
///     let _mask = Signals::block(SET)?;
///     let signals = Signals::new(SET)?;
///     let mut event_loop = Loop::new()?;
///     event_loop.register(&signals, SIGNALS)?;
///     event_loop.run(&mut Daemon(signals))?;
///     Ok(())
/// }
/// ```
pub type Signals = ports::NativeSignals;

/// Child exits as events, from the [`NativeSelector`]'s port, for up to `N` children
/// at once: pidfds on epoll (or `SIGCHLD` before Linux 5.3), `EVFILT_PROC` on kqueue,
/// `SIGCHLD` on poll(2). `watch(pid)` each child; when readable, `try_reap()` until
/// `Ok(None)`, each call reaping one child and returning its status. See [`process`].
///
/// ```no_run
/// use statio::process::Pid;
/// use statio::{Children, EventLoop, Handler, Ready, Token};
///
/// type Loop = EventLoop<Supervisor, 16, 0, 16>;
///
/// struct Supervisor(Children<64>);
///
/// impl Handler for Supervisor {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
///
///     fn readable(&mut self, event_loop: &mut Loop, _: Token, _: Ready) {
///         while let Ok(Some(exit)) = self.0.try_reap() {
///             println!("child {} ended: {}", exit.pid, exit.status);
///         }
///         if self.0.is_empty() {
///             event_loop.shutdown();
///         }
///     }
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let mut children = Children::<64>::new()?;
///     let child = std::process::Command::new("sleep").arg("1").spawn()?;
///     children.watch(child.id() as Pid)?;
///     let mut event_loop = Loop::new()?;
///     event_loop.register(&children, Token(0))?;
///     event_loop.run(&mut Supervisor(children))?;
///     Ok(())
/// }
/// ```
pub type Children<const N: usize> = ports::NativeChildren<N>;

/// The waker of the [`NativeSelector`]: what a [`Sender`] calls to wake a sleeping loop.
pub type NativeWaker = <NativeSelector as Selector>::Waker;

/// A channel of up to `N` messages of `M` into a loop over the [`NativeSelector`]; put
/// it in a `static` (or a `StaticCell`) and hand it to
/// [`EventLoop::attach_channel`](statio_core::EventLoop::attach_channel).
///
/// ```
/// use statio::{Channel, Handler, Sender};
///
/// static RESULTS: Channel<u64, 64> = Channel::new();
///
/// fn worker(tx: Sender<'static, u64>) {
///     // A full channel hands the message back: the sender decides what to do.
///     if let Err(err) = tx.send(42) {
///         eprintln!("not sent: {err}");
///     }
/// }
/// # worker(RESULTS.sender());
/// ```
pub type Channel<M, const N: usize> = statio_core::Channel<M, N, NativeWaker>;

/// A sending handle of a [`Channel`]: `Copy`, and `Send + Sync` when `M: Send`.
pub type Sender<'a, M> = statio_core::Sender<'a, M, NativeWaker>;

/// An event loop over the [`NativeSelector`] for handler `H`, watching up to `SOURCES`
/// sources (tokens `0..SOURCES`), holding up to `TIMERS` timers and taking up to
/// `EVENTS` events per turn.
pub type EventLoop<H, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize> =
    statio_core::EventLoop<H, NativeSelector, SOURCES, TIMERS, EVENTS>;

/// The loop over any selector (the core's `EventLoop`), for programs and tests that
/// pick a port themselves: `GenericEventLoop<H, ports::epoll::Epoll, SOURCES, TIMERS, EVENTS>`.
pub use statio_core::EventLoop as GenericEventLoop;

/// The ports built for this target, for programs that pick a selector themselves.
///
/// The one place the facade names the platforms, as polling's `cfg_if!` chain does: the
/// port of each system family first, the poll(2) fallback last.
pub mod ports {
    // `Own`, this family's port, goes unused when `force-poll` picks poll(2).
    #![cfg_attr(feature = "force-poll", allow(unused_imports))]

    cfg_if::cfg_if! {
        if #[cfg(any(target_os = "linux", target_os = "android"))] {
            /// The epoll port (Linux, Android).
            pub use statio_epoll as epoll;
            use epoll::{Children as OwnChildren, Epoll as Own, Signals as OwnSignals};
        } else if #[cfg(any(
            target_os = "freebsd",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly"
        ))] {
            /// The kqueue port (FreeBSD, macOS, NetBSD, OpenBSD, DragonFly).
            pub use statio_kqueue as kqueue;
            use kqueue::{Children as OwnChildren, Kqueue as Own, Signals as OwnSignals};
        } else if #[cfg(unix)] {
            use poll::{Children as OwnChildren, Poll as Own, Signals as OwnSignals};
        }
    }

    /// The poll(2) port, on every Unix (the portable fallback).
    #[cfg(unix)]
    pub use statio_poll as poll;

    cfg_if::cfg_if! {
        if #[cfg(feature = "force-poll")] {
            pub(crate) type Native = poll::Poll;
            pub(crate) type NativeSignals = poll::Signals;
            pub(crate) type NativeChildren<const N: usize> = poll::Children<N>;
        } else {
            pub(crate) type Native = Own;
            pub(crate) type NativeSignals = OwnSignals;
            pub(crate) type NativeChildren<const N: usize> = OwnChildren<N>;
        }
    }
}
