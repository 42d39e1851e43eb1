//! [`Handler`]: the user's callbacks, called by the loop with the loop itself.

use crate::event_loop::Run;
use crate::ready::Ready;
use crate::token::Token;

/// The callbacks an [`EventLoop`](crate::EventLoop) dispatches to; every one defaults to
/// doing nothing.
///
/// `Loop` names the loop type once, usually through the user's alias, so callbacks take
/// `&mut Self::Loop` and never repeat the capacities:
///
/// ```
/// use statio_core::{Handler, Ready, Token};
/// use statio_core::sim::SimSelector;
///
/// type Loop = statio_core::EventLoop<App, SimSelector, /*sources*/ 64, /*timers*/ 8, /*events*/ 16>;
///
/// struct App;
///
/// impl Handler for App {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
///
///     fn ready(&mut self, event_loop: &mut Loop, token: Token, ready: Ready) {
///         if ready.is_hup() {
///             event_loop.shutdown();
///         }
///     }
/// }
/// ```
///
/// Callbacks run on the loop's thread, one at a time, and may register, reregister and
/// deregister sources and call [`shutdown`](crate::EventLoop::shutdown); a nested
/// `run` or `run_once` is refused ([`Error::Reentered`](crate::Error::Reentered)).
pub trait Handler: Sized {
    /// The value a timer carries back to [`timeout`](Self::timeout).
    type Timeout;
    /// The value other threads send to the loop through its
    /// [`Channel`](crate::Channel), received by [`notify`](Self::notify).
    type Message: 'static;
    /// The loop this handler runs in: an `EventLoop<Self, ...>`, usually named by the
    /// user's alias. [`Run`] bounds it, so naming another handler's loop, or any other
    /// type, fails at this impl:
    ///
    /// ```compile_fail,E0277
    /// use statio_core::sim::SimSelector;
    /// use statio_core::{EventLoop, Handler};
    ///
    /// struct App;
    /// struct Other;
    ///
    /// impl Handler for App {
    ///     type Timeout = ();
    ///     type Message = ();
    ///     type Loop = EventLoop<Other, SimSelector, 8, 0, 8>; // not App's loop
    /// }
    /// # impl Handler for Other {
    /// #     type Timeout = ();
    /// #     type Message = ();
    /// #     type Loop = EventLoop<Other, SimSelector, 8, 0, 8>;
    /// # }
    /// ```
    type Loop: Run<Self>;

    /// A registered source is ready.
    ///
    /// The default, mio 0.2's split:
    ///
    /// - [`readable`](Self::readable) when the event reports readable, read-closed,
    ///   hang-up or error (a read will then return the data, EOF or the error), with
    ///   the whole readiness as its hint;
    /// - then [`writable`](Self::writable) when the event reports
    ///   [`WRITABLE`](Ready::WRITABLE), which only a registration whose interest asked
    ///   for writable receives (every port reports it only then). A hang-up, reset or
    ///   write-closed alone calls `readable` only: on a readable-only registration it
    ///   is the read that reports it.
    /// - `writable` is skipped when `readable` ended the registration (deregistered the
    ///   token, even if it registered it again): the event belongs to the old one.
    ///
    /// Override it to take both directions in one place, or to see `PRIORITY`.
    #[inline]
    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, ready: Ready) {
        let readable =
            ready.intersects(Ready::READABLE | Ready::READ_CLOSED | Ready::HUP | Ready::ERROR);
        if !ready.is_writable() {
            if readable {
                self.readable(event_loop, token, ready);
            }
            return;
        }
        if readable {
            let registration = event_loop.registration(token);
            self.readable(event_loop, token, ready);
            if event_loop.registration(token) != registration {
                return;
            }
        }
        self.writable(event_loop, token);
    }

    /// The source under `token` can be read (or has reached EOF, or has an error: see
    /// `hint`, the event's whole readiness, mio 0.2's `ReadHint`). Called by the default
    /// [`ready`](Self::ready).
    fn readable(&mut self, event_loop: &mut Self::Loop, token: Token, hint: Ready) {
        let _ = (event_loop, token, hint);
    }

    /// The source under `token` can be written. Called by the default
    /// [`ready`](Self::ready).
    fn writable(&mut self, event_loop: &mut Self::Loop, token: Token) {
        let _ = (event_loop, token);
    }

    /// A timer set with [`EventLoop::timeout`](crate::EventLoop::timeout) expired.
    fn timeout(&mut self, event_loop: &mut Self::Loop, value: Self::Timeout) {
        let _ = (event_loop, value);
    }

    /// A message arrived through the loop's channel (see
    /// [`EventLoop::attach_channel`](crate::EventLoop::attach_channel)).
    fn notify(&mut self, event_loop: &mut Self::Loop, message: Self::Message) {
        let _ = (event_loop, message);
    }

    /// A signal interrupted the loop's wait (`EINTR`): the turn dispatched no I/O.
    fn interrupted(&mut self, event_loop: &mut Self::Loop) {
        let _ = event_loop;
    }

    /// The end of every turn, after its events, timers and messages (mio 0.2's name:
    /// it runs once per turn; the timer resolution is [`Config::timer_tick`](crate::Config::timer_tick)).
    fn tick(&mut self, event_loop: &mut Self::Loop) {
        let _ = event_loop;
    }
}
