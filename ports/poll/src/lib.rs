//! statio's portable port: [`Poll`], a [`Selector`](statio_core::Selector) over
//! `poll(2)`, for any POSIX system, with a self-pipe [`PipeWaker`]. `#![no_std]`, no
//! allocation; its only OS dependency is `libc`.
//!
//! The native ports (epoll, kqueue) scale better: the kernel keeps their interest
//! lists, while `poll` is handed the whole set on every call. Use this one where
//! they do not exist, or to test portable code (the facade's `force-poll` feature).
//!
//! ```
//! use core::time::Duration;
//! use statio_core::{Events, Interest, PollOpt, Selector, Token};
//! use statio_poll::Poll;
//!
//! let mut poll: Poll<16> = Poll::new();
//! let (reader, writer) = statio_unix::net::pipe()?;
//! poll.register(reader.as_raw_fd(), Token(7), Interest::READABLE, PollOpt::edge())?;
//! assert_eq!(writer.try_write(b"x")?, Some(1));
//!
//! let mut events: Events<_, 16> = Events::new();
//! poll.select(&mut events, Some(Duration::from_secs(1)))?;
//! let event = &events.as_slice()[0];
//! assert_eq!(Poll::<16>::token(event), Token(7));
//! assert!(Poll::<16>::ready(event).is_readable());
//! poll.deregister(reader.as_raw_fd())?;
//! # Ok::<(), statio_core::OsError>(())
//! ```
//!
//! # Flags
//!
//! What a registration puts in `pollfd.events`:
//!
//! | statio | poll | why |
//! |---|---|---|
//! | `Interest::READABLE` | `POLLIN \| POLLRDHUP` | `POLLRDHUP` (Linux, Android) is the only report of a peer's `shutdown(SHUT_WR)`; elsewhere half-closes are not reported |
//! | `Interest::WRITABLE` | `POLLOUT` | |
//! | (always) | `POLLERR`, `POLLHUP`, `POLLNVAL` | poll(2) reports them unasked |
//! | (never) | `POLLPRI` | as in the epoll port: an unread urgent byte would wake a level registration forever |
//!
//! What `revents` reports as [`Ready`](statio_core::Ready), the epoll port's table:
//!
//! | poll | `Ready` |
//! |---|---|
//! | `POLLIN` | `READABLE` |
//! | `POLLOUT` | `WRITABLE` |
//! | `POLLRDHUP` | `READ_CLOSED` |
//! | `POLLHUP` | `HUP \| READ_CLOSED \| WRITE_CLOSED` |
//! | `POLLERR` | `ERROR` (never `WRITE_CLOSED`: a pipe's write end whose reader closed, a UDP socket after an ICMP error) |
//! | `POLLNVAL` | `ERROR`: the descriptor was closed while registered; deregister it |
//!
//! # Modes
//!
//! poll(2) only knows levels; the modes are kept in the [`Poll`] itself.
//!
//! - **Level**: whatever `poll` reports, on every call.
//! - **Oneshot** (with or without edge): after one event the entry's `pollfd.fd` is
//!   made negative (`!fd`), which poll(2) skips entirely, `POLLHUP` included, until
//!   `reregister`.
//! - **Edge-triggered, emulated**: an event reports conditions that *became* present
//!   since the last look. Each entry keeps the conditions it reported that have not
//!   been seen clear since (*stale*). The blocking `poll` leaves stale conditions out of
//!   `pollfd.events` (so a socket that stays writable does not make it return at once:
//!   no busy loop), and leaves an entry with a stale `POLLHUP` out altogether (nothing
//!   more can arrive). While any entry has stale conditions, `select` first runs a
//!   non-blocking `poll` with every entry's full interest: a stale condition seen clear
//!   there (the reader drained to would-block, the send buffer filled) is re-armed, and
//!   a condition not stale is reported. So the portable edge contract holds, as the
//!   conformance suite checks: after an event, a reader that drains until would-block
//!   gets one event for the next arrival, and none while nothing changes.
//!
//!   **The limit, inherent to poll(2)**: poll shows levels, not arrivals. If new data
//!   arrives between the reader's would-block and the next `select`, no call ever sees
//!   the condition clear, and the arrival is not reported (epoll reports every arrival).
//!   A server streaming edge-triggered data through this port must therefore either
//!   use level or oneshot mode (recommended here: they are exact), or call
//!   `reregister` after draining, which forgets the stale state so anything present is
//!   reported. A stale `POLLERR` stays in the blocking poll (so a wake-up is never
//!   lost for a source that can still become readable) and makes it return at once
//!   until the error is consumed (`take_error`, a read) or the source deregistered.
//!
//! # More ready than the buffer holds
//!
//! `select` scans the array from a cursor: when the events buffer fills, the cursor
//! stays at the first ready entry left over, and the next call (which polls again, so
//! nothing reported is stale) starts there. The scan wraps around, so successive calls
//! go round every ready entry; state (edge, oneshot) changes only for entries
//! actually reported.
//!
//! # The descriptor index
//!
//! `reregister` and `deregister` find a descriptor's position through a fixed,
//! open-addressed hash table of 2N slots (linear probing, backward-shift deletion, at
//! most half full): O(1) expected, no scan, no allocation. `deregister` moves the last
//! entry into the freed position and updates its slot. See `index.rs`.
//!
//! # Waker
//!
//! [`Selector::waker`](statio_core::Selector::waker) opens a non-blocking, close-on-exec
//! pipe; its read end joins the set under [`Token::WAKER`](statio_core::Token::WAKER)
//! (taking one of the `N` places) and is drained whenever reported. [`PipeWaker`]
//! writes one byte; `EAGAIN` (a full pipe) means a wake-up is pending, which is success.
//!
//! # Signals and child processes
//!
//! [`Signals`] is statio-unix's self-pipe source: a handler (`SA_RESTART`) marks each
//! signal arrived and writes a byte into a pipe whose read end is the source; it works
//! wherever poll(2) does, Linux included (the facade's `force-poll`). [`Children`]
//! watches child exits through `SIGCHLD` on such a pipe and reaps each watched pid with
//! `waitpid(pid, WNOHANG)`. Semantics, shared with the other ports: `statio_unix::signal`
//! and `statio_unix::process`.
//!
//! # Notes
//!
//! - Timeouts have millisecond resolution and are rounded up, never down.
//! - `EINTR` is returned as `Interrupted`, not retried.
//! - Registrations live in the [`Poll`], not the kernel: a source closed while
//!   registered reports `ERROR` (`POLLNVAL`) until deregistered, and a new descriptor
//!   that reuses its number is watched under the old token. Deregister before closing.
//! - On a non-Unix target this crate is empty, so a workspace build succeeds.
#![no_std]
#![warn(missing_docs)]

#[cfg(unix)]
mod index;
#[cfg(unix)]
mod selector;
#[cfg(unix)]
mod translate;
#[cfg(unix)]
mod waker;

#[cfg(unix)]
pub use selector::Poll;
#[cfg(unix)]
pub use waker::PipeWaker;

/// This port's child watcher: `SIGCHLD` through a self-pipe, then `waitpid` per
/// watched child (statio-unix's [`SigchldChildren`](statio_unix::process::SigchldChildren)).
#[cfg(unix)]
pub use statio_unix::process::SigchldChildren as Children;
/// This port's signal source: a self-pipe written by an async-signal-safe handler
/// (statio-unix's [`PipeSignals`](statio_unix::signal::PipeSignals)).
#[cfg(unix)]
pub use statio_unix::signal::PipeSignals as Signals;

#[cfg(all(test, unix))]
mod tests;
