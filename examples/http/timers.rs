//! The timers of `examples/http`: what each connection's one timer measures, how long,
//! and the loop's other timers.
//!
//! A connection has one timer at a time, set for its [`Phase`]. Within a phase it is not
//! re-armed on each byte: a request's time runs from its first byte (so a slowloris
//! client, a byte at a time, is closed), and the idle timer only notes activity
//! (`Conn::active`) and, when it fires after some, arms itself again, so a busy
//! connection costs no timer operation per request.

use core::time::Duration;

use statio::Registration;

/// What a connection's timer measures.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No request under way: closes a connection that sent nothing for the idle time.
    Idle,
    /// A request under way: closes it if not complete within the request time (a
    /// slowloris client never completes one).
    Request,
    /// The lingering close: closes it if the client does not.
    Closing,
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

    /// The time of `phase`.
    pub fn of(&self, phase: Phase) -> Duration {
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
    /// The timer of the connection with this registration.
    Conn(Registration),
    /// Once a second: the `Date` header's clock.
    Clock,
    /// The listener's pause after running out of descriptors ended.
    ResumeAccept,
}
