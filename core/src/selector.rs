//! The [`Selector`] trait that every port implements, and [`Source`]: what it watches.

use core::time::Duration;

use crate::channel::Wake;
use crate::clock::Clock;
use crate::error::OsError;
use crate::event::Events;
use crate::interest::{Interest, PollOpt};
use crate::ready::Ready;
use crate::token::Token;

/// Anything a selector can watch: it names its OS handle (a file descriptor on Unix).
///
/// The source only lends its handle: registration does not take ownership, and the
/// caller keeps the source alive (and deregistered before drop) as with mio.
pub trait Source<H> {
    /// The handle to register with the selector.
    fn handle(&self) -> H;
}

impl<H, S: Source<H> + ?Sized> Source<H> for &S {
    fn handle(&self) -> H {
        (**self).handle()
    }
}

/// An OS readiness mechanism: epoll, kqueue, poll(2), or a test double.
///
/// This is the low-level layer, usable on its own as with mio 1.x: register handles
/// under tokens, then [`select`](Self::select) into an [`Events`] buffer and read each
/// entry through [`token`](Self::token) and [`ready`](Self::ready). The
/// [`EventLoop`](crate::EventLoop) builds on it, storing a generation in each token.
pub trait Selector: Sized {
    /// The OS handle of a source (`RawFd` on Unix).
    type Handle: Copy + Eq;
    /// One event as the OS writes it (`epoll_event`, `kevent`, ...).
    type Event: Copy;
    /// The monotonic clock that [`select`](Self::select)'s waits are measured on.
    type Clock: Clock;
    /// What another thread calls to make [`select`](Self::select) return (an `eventfd`
    /// on epoll); owned by the [`Channel`](crate::Channel) it is attached to, which drops
    /// it when the loop's receiver drops.
    type Waker: Wake + Send + Sync + 'static;

    /// Whether edge-triggered registrations ([`PollOpt::edge`]) are the kernel's own
    /// (epoll's `EPOLLET`, kqueue's `EV_CLEAR`): readiness that arises after the source
    /// was drained is always reported. `false` where the port emulates edges (poll(2)):
    /// a source drained and refilled between two selects can go unreported there, so a
    /// server that reads until a short read (the read rule) registers level-triggered
    /// on such a port.
    const NATIVE_EDGES: bool;

    /// Opens the OS object (an epoll or kqueue instance, a poll set).
    ///
    /// # Errors
    /// What the OS refused, e.g. `EMFILE` when the process is out of descriptors.
    fn new() -> Result<Self, OsError>;

    /// Starts watching `handle` for `interest`, reporting `token` in its events.
    ///
    /// # Errors
    /// `AlreadyExists` when the handle is registered already; what else the OS refused.
    fn register(
        &mut self,
        handle: Self::Handle,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError>;

    /// Changes the token, interest or options of a registered handle; re-arms oneshot.
    ///
    /// # Errors
    /// `NotFound` when the handle is not registered; what else the OS refused.
    fn reregister(
        &mut self,
        handle: Self::Handle,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError>;

    /// Stops watching `handle`.
    ///
    /// # Errors
    /// `NotFound` when the handle is not registered; what else the OS refused.
    fn deregister(&mut self, handle: Self::Handle) -> Result<(), OsError>;

    /// Drops what the selector keeps for the registration of `handle` under `token`,
    /// whose source may be gone, without a call on `handle`: its number may name
    /// another file by now, whose registration must stay. Called by
    /// [`EventLoop::release`](crate::EventLoop::release).
    ///
    /// The default does nothing, which is right for a selector whose registrations the
    /// kernel ends when the descriptor closes and that keeps nothing of its own (epoll).
    /// A selector that keeps its own list (poll(2)'s registrations, kqueue's set of
    /// registered descriptors) drops the entry of `handle` if it still carries `token`.
    fn forget(&mut self, handle: Self::Handle, token: Token) {
        let _ = (handle, token);
    }

    /// Waits until a source is ready or `max_wait` passes (`None`: no limit), then
    /// fills `events` with what is ready, at most `N`; the rest wait for the next call.
    ///
    /// The wait is rounded up to the OS's resolution, never down, so a positive wait
    /// never turns into a busy poll.
    ///
    /// # Errors
    /// `Interrupted` when a signal arrived (`EINTR`) before any event; what else the
    /// OS refused. `events` is empty on error.
    fn select<const N: usize>(
        &mut self,
        events: &mut Events<Self::Event, N>,
        max_wait: Option<Duration>,
    ) -> Result<(), OsError>;

    /// Creates a waker watched by this selector: each [`Wake::wake`] makes the current
    /// or next `select` return, with an event under [`Token::WAKER`] (which the
    /// [`EventLoop`](crate::EventLoop) never dispatches).
    ///
    /// # Errors
    /// What the OS refused (out of descriptors, ...).
    fn waker(&mut self) -> Result<Self::Waker, OsError>;

    /// The clock timers are measured on: the OS's monotonic clock, or a simulated one.
    fn clock(&self) -> &Self::Clock;

    /// The token of one event.
    fn token(event: &Self::Event) -> Token;

    /// The readiness of one event.
    fn ready(event: &Self::Event) -> Ready;
}
