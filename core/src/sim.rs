//! [`SimSelector`]: a selector driven by the caller instead of an OS, for deterministic
//! tests of handlers and of the loop itself (it runs under Miri and on bare metal).
//!
//! ```
//! use statio_core::sim::{SimSelector, SimSource};
//! use statio_core::{Events, Interest, PollOpt, Ready, Selector, Token};
//!
//! let mut sel: SimSelector = SimSelector::new().unwrap();
//! sel.register(3, Token(7), Interest::READABLE, PollOpt::edge()).unwrap();
//! sel.set_ready(3, Ready::READABLE);
//!
//! let mut events: Events<_, 8> = Events::new();
//! sel.select(&mut events, None).unwrap();
//! assert_eq!(events.len(), 1);
//! assert_eq!(SimSelector::<64>::token(&events.as_slice()[0]), Token(7));
//! sel.select(&mut events, None).unwrap();
//! assert!(events.is_empty(), "edge-triggered: reported once per change");
//! # let _ = SimSource(3);
//! ```
//!
//! Readiness is whatever [`set_ready`](SimSelector::set_ready) last said. Level
//! registrations report it every call, edge ones once per `set_ready`, oneshot ones
//! once until reregistered. `select` never blocks; it records the wait it was given
//! and, when it reports nothing, moves its [`SimClock`] forward by that wait, as if
//! it had slept that long (`None`, no limit, leaves the clock where it is).
//! When more handles are ready than the buffer holds, the next call resumes after the
//! last one reported. Errors carry Linux `errno` numbers. As with the epoll port,
//! `PRIORITY` is not reported: no [`Interest`] asks for it.

use core::time::Duration;

use embedded_io::ErrorKind;
use heapless::Vec;

use crate::channel::NoWake;
use crate::clock::SimClock;
use crate::error::OsError;
use crate::event::{Event, Events};
use crate::interest::{Interest, PollOpt};
use crate::ready::Ready;
use crate::selector::{Selector, Source};
use crate::token::Token;

/// A stand-in source for the [`SimSelector`]: just a handle number.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SimSource(pub i32);

impl Source<i32> for SimSource {
    fn handle(&self) -> i32 {
        self.0
    }
}

#[derive(Copy, Clone, Debug)]
struct Registration {
    handle: i32,
    token: Token,
    interest: Interest,
    opt: PollOpt,
    ready: Ready,
    /// Edge mode: readiness changed since it was last reported.
    fresh: bool,
    /// Oneshot mode: not yet reported since (re)registration.
    armed: bool,
}

impl Registration {
    /// What this registration reports now, updating its edge/oneshot state.
    fn take_report(&mut self) -> Ready {
        let wanted = Ready::ERROR
            | Ready::HUP
            | (Ready::READABLE | Ready::READ_CLOSED).when(self.interest.is_readable())
            | (Ready::WRITABLE | Ready::WRITE_CLOSED).when(self.interest.is_writable());
        let report = self.ready.intersection(wanted);
        if report.is_empty() || !self.armed || (self.opt.is_edge() && !self.fresh) {
            return Ready::EMPTY;
        }
        self.fresh = false;
        self.armed = !self.opt.is_oneshot();
        report
    }
}

/// A [`Selector`] whose readiness the caller sets, watching up to `N` handles.
pub struct SimSelector<const N: usize = 64> {
    registrations: Vec<Registration, N>,
    /// Where the next `select` starts scanning, so no handle starves.
    cursor: usize,
    interrupt_next: bool,
    select_calls: usize,
    last_max_wait: Option<Duration>,
    clock: SimClock,
    refuse_waker: bool,
}

const EEXIST: OsError = OsError::new(17, ErrorKind::AlreadyExists);
const ENOENT: OsError = OsError::new(2, ErrorKind::NotFound);
const ENOSPC: OsError = OsError::new(28, ErrorKind::OutOfMemory);
const EINTR: OsError = OsError::new(4, ErrorKind::Interrupted);
const EMFILE: OsError = OsError::new(24, ErrorKind::OutOfMemory);

impl<const N: usize> SimSelector<N> {
    fn find(&mut self, handle: i32) -> Result<&mut Registration, OsError> {
        self.registrations
            .iter_mut()
            .find(|r| r.handle == handle)
            .ok_or(ENOENT)
    }

    /// Sets the readiness of `handle` (what a kernel would see), as a new edge.
    ///
    /// # Errors
    /// `NotFound` when `handle` is not registered.
    pub fn set_ready(&mut self, handle: i32, ready: Ready) -> Result<(), OsError> {
        let reg = self.find(handle)?;
        reg.ready = ready;
        reg.fresh = true;
        Ok(())
    }

    /// Makes the next [`select`](Selector::select) fail with `Interrupted`, as on `EINTR`.
    pub fn interrupt_next(&mut self) {
        self.interrupt_next = true;
    }

    /// Makes the next [`waker`](Selector::waker) fail, as when the process is out of
    /// descriptors (`EMFILE`).
    pub fn refuse_next_waker(&mut self) {
        self.refuse_waker = true;
    }

    /// How many times `select` has been called.
    pub fn select_calls(&self) -> usize {
        self.select_calls
    }

    /// The `max_wait` the last `select` was given.
    pub fn last_max_wait(&self) -> Option<Duration> {
        self.last_max_wait
    }
}

impl<const N: usize> Selector for SimSelector<N> {
    type Handle = i32;
    type Event = Event;
    type Clock = SimClock;
    type Waker = NoWake;
    /// The simulated kernel keeps exact edges.
    const NATIVE_EDGES: bool = true;

    fn new() -> Result<Self, OsError> {
        Ok(SimSelector {
            registrations: Vec::new(),
            cursor: 0,
            interrupt_next: false,
            select_calls: 0,
            last_max_wait: None,
            clock: SimClock::new(),
            refuse_waker: false,
        })
    }

    fn register(
        &mut self,
        handle: i32,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        if self.find(handle).is_ok() {
            return Err(EEXIST);
        }
        let reg = Registration {
            handle,
            token,
            interest,
            opt,
            ready: Ready::EMPTY,
            fresh: false,
            armed: true,
        };
        self.registrations.push(reg).map_err(|_| ENOSPC)
    }

    fn reregister(
        &mut self,
        handle: i32,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        let reg = self.find(handle)?;
        reg.token = token;
        reg.interest = interest;
        reg.opt = opt;
        reg.armed = true;
        // As epoll_ctl(EPOLL_CTL_MOD) does: re-evaluate, so present readiness is an edge.
        reg.fresh = true;
        Ok(())
    }

    fn deregister(&mut self, handle: i32) -> Result<(), OsError> {
        let at = self
            .registrations
            .iter()
            .position(|r| r.handle == handle)
            .ok_or(ENOENT)?;
        self.registrations.swap_remove(at);
        Ok(())
    }

    /// Drops the registration of `handle` if it carries `token`, as the poll(2) port does.
    fn forget(&mut self, handle: i32, token: Token) {
        if let Some(at) = self
            .registrations
            .iter()
            .position(|r| r.handle == handle && r.token == token)
        {
            self.registrations.swap_remove(at);
        }
    }

    fn select<const E: usize>(
        &mut self,
        events: &mut Events<Event, E>,
        max_wait: Option<Duration>,
    ) -> Result<(), OsError> {
        events.clear();
        self.select_calls += 1;
        self.last_max_wait = max_wait;
        if core::mem::take(&mut self.interrupt_next) {
            return Err(EINTR);
        }
        let count = self.registrations.len();
        for step in 0..count {
            let at = (self.cursor + step) % count;
            let reg = &mut self.registrations[at];
            if events.len() == E {
                self.cursor = at;
                return Ok(());
            }
            let ready = reg.take_report();
            if !ready.is_empty() {
                let token = reg.token;
                // Cannot fail: checked for room above.
                let _ = events.push(Event { token, ready });
            }
        }
        self.cursor = 0;
        if let (true, Some(slept)) = (events.is_empty(), max_wait) {
            self.clock.advance(slept);
        }
        Ok(())
    }

    /// The sim's `select` never blocks, so there is nothing to wake.
    fn waker(&mut self) -> Result<NoWake, OsError> {
        if core::mem::take(&mut self.refuse_waker) {
            return Err(EMFILE);
        }
        Ok(NoWake)
    }

    fn clock(&self) -> &SimClock {
        &self.clock
    }

    fn token(event: &Event) -> Token {
        event.token
    }

    fn ready(event: &Event) -> Ready {
        event.ready
    }
}
