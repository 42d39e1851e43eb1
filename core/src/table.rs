//! [`SourceTable`]: registered sources and their per-connection state, owned together,
//! so that registering and storing (and deregistering and dropping) are one step each.

use core::fmt;

use crate::error::Error;
use crate::event_loop::EventLoop;
use crate::handler::Handler;
use crate::interest::{Interest, PollOpt};
use crate::mark::Mark;
use crate::registry::Registration;
use crate::selector::{Selector, Source};
use crate::slab::Slab;
use crate::token::Token;
use crate::zeroed::assert_zero_bytes;

/// One occupied slot: the registered source and the state kept with it.
struct Entry<S, T> {
    source: S,
    state: T,
}

/// Up to `N` registered sources of type `S`, each with a state `T`, under the loop's
/// tokens `0..N`.
///
///  ```
///  use statio_core::sim::{SimSelector, SimSource};
///  use statio_core::{Error, EventLoop, Handler, Interest, PollOpt, SourceTable};
///
///  # struct App;
///  # impl Handler for App { type Timeout = (); type Message = (); type Loop = Loop; }
///  type Loop = EventLoop<App, SimSelector, /*sources*/ 4, /*timers*/ 0, /*events*/ 4>;
///
///  let mut event_loop = Loop::new().unwrap();
///  // Tokens 0 and 1 are the table's; the loop's tokens 2 and 3 are free for a listener.
///  let mut conns: SourceTable<SimSource, u32, 2> = SourceTable::new();
///  let level = PollOpt::level();
///  let a = conns.insert(&mut event_loop, SimSource(10), 0, Interest::READABLE, level).unwrap();
///  let _ = conns.insert(&mut event_loop, SimSource(11), 0, Interest::READABLE, level).unwrap();
///
///  // Full: the source and its state come back with the reason.
///  let full = conns.insert(&mut event_loop, SimSource(12), 7, Interest::READABLE, level);
///  let rejected = full.unwrap_err();
///  assert_eq!(rejected.error, Error::TableFull { capacity: 2 });
///  assert_eq!((rejected.source, rejected.state), (SimSource(12), 7));
///
///  // Remove deregisters and hands both back; the token is free again.
///  assert_eq!(conns.remove(&mut event_loop, a), Some((SimSource(10), 0)));
///  assert!(!event_loop.is_registered(a));
///  assert_eq!(conns.remove(&mut event_loop, a), None);
///  ```
///
///  # Tokens: the table's slots are the loop's
///
///  Slot `i` of a table is the loop's token `i`: a table of `N` owns tokens `0..N`, and
///  the loop's other tokens (`N..SOURCES`) are for sources kept elsewhere (a listener, a
///  signal source). A table larger than its loop fails the build at the first `insert`.
///  There is one generation scheme, the loop's registry: each registration of a token
///  gets a new generation, and an event of an ended registration is dropped before
///  dispatch. So the token a callback receives always names the current occupant, even
///  after `remove` + `insert` reused the slot within one batch of events.
///
///  A token kept *past* its callback (in a timer, in another connection's state) names a
///  slot, not an occupant: keep the [`Registration`](crate::Registration) beside it
///  (`event_loop.registration(token)`) and compare before use, as the table's
///  [`get_current`](SourceTable::get_current) does. A sweep over
///  [`iter_mut`](SourceTable::iter_mut) needs neither.
///
///  # What the table rules out
///
///  A source in the table is dropped only by `remove` (which deregisters it first) or
///  with the table. So "closed while registered" cannot happen through it, and a token
///  is never left held by a source that is gone. Dropping the whole table while the loop
///  runs on leaves its tokens held: drop the loop with it, or `remove` each entry. Do not
///  register other sources under the table's tokens, nor deregister its sources directly:
///  an insert that finds its token taken returns [`Error::TokenInUse`] in [`Rejected`].
///  The raw `EventLoop::register` API stays available; its docs say what the loop does
///  when a source registered there is dropped.
///
///  # Memory
///  [`SourceTable::new`] is `const` and all zero bytes (it is a [`Slab`]), so a table
///  in a `ConstStaticCell` sits in `.bss` and only the slots ever used become resident.
///  The slab's stamps serve only to mark slots occupied; the token's generation is the
///  registry's.
pub struct SourceTable<S, T, const N: usize> {
    entries: Slab<Entry<S, T>, N>,
    /// The most sources at once since the last `reset_marks` (`Mark::peak`).
    peak: u32,
    /// Inserts refused with `TableFull` since the last `reset_marks`, saturating.
    full: u32,
}

assert_zero_bytes!(
    // `u32` sources and states: no padding, so every byte is checked.
    SourceTable::<u32, u32, 3>::new(),
    "SourceTable::new() must be all zero bytes, or a static table lands in .data"
);

impl<S, T, const N: usize> SourceTable<S, T, N> {
    /// Bytes a `SourceTable<S, T, N>` occupies: exactly `size_of::<Self>()`. `N` slots
    /// of a source and its state (at least 4 bytes) and a 4-byte stamp each (a
    /// [`Slab`]: 8 bytes a slot for a descriptor alone), and 20 bytes of counters and
    /// marks, padded to the alignment.
    pub const MEMORY: usize = size_of::<Self>();

    /// An empty table: `const` and all zero bytes, so it can be a `static` in `.bss`.
    pub const fn new() -> Self {
        SourceTable {
            entries: Slab::new(),
            peak: 0,
            full: 0,
        }
    }

    /// Registers `source` with `event_loop` for `interest` under the token of a free
    /// slot, stores it with `state`, and returns the token.
    ///
    /// # Errors
    /// [`Rejected`] holding `source` and `state` with why: [`Error::TableFull`] when all
    /// `N` slots are taken; [`Error::TokenInUse`] when something registered outside the
    /// table holds the token; [`Error::Os`] when the selector refused (e.g. the
    /// descriptor is registered already under another token).
    pub fn insert<H, Sel, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, Sel, SOURCES, TIMERS, EVENTS>,
        source: S,
        state: T,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<Token, Rejected<S, T>>
    where
        H: Handler,
        Sel: Selector,
        S: Source<Sel::Handle>,
    {
        const {
            assert!(
                N <= SOURCES,
                "a SourceTable needs a token of its loop per slot"
            )
        };
        let Some(key) = self.entries.vacant_key() else {
            self.full = self.full.saturating_add(1);
            return Err(Rejected {
                source,
                state,
                error: Error::TableFull { capacity: N },
            });
        };
        let token = Token(key.index());
        if let Err(error) = event_loop.register_opt(&source, token, interest, opt) {
            return Err(Rejected {
                source,
                state,
                error,
            });
        }
        // Cannot fail: `vacant_key` found room, and the slab takes that slot.
        let _ = self.entries.insert(Entry { source, state });
        // `N` fits a `u32` (the slab checks it).
        self.peak = self.peak.max(self.entries.len() as u32);
        Ok(token)
    }

    /// Deregisters the source under `token` and hands it back with its state; `None`
    /// when the slot is vacant (or `token` is not the table's).
    ///
    /// The token is free when this returns, whatever the selector said: an OS error
    /// from the deregistration is dropped, since the source is handed back either way
    /// and dropping it closes the descriptor, which ends its kernel registration.
    pub fn remove<H, Sel, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &mut EventLoop<H, Sel, SOURCES, TIMERS, EVENTS>,
        token: Token,
    ) -> Option<(S, T)>
    where
        H: Handler,
        Sel: Selector,
        S: Source<Sel::Handle>,
    {
        let key = self.entries.key_at(token.0)?;
        let Entry { source, state } = self.entries.remove(key)?;
        let _ = event_loop.deregister(&source, token);
        Some((source, state))
    }

    /// Changes the interest or options of the source under `token` (re-arms oneshot).
    ///
    /// # Errors
    /// [`Error::NotRegistered`] when the slot is vacant; [`Error::Os`] when the
    /// selector refuses.
    pub fn reregister<H, Sel, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &self,
        event_loop: &mut EventLoop<H, Sel, SOURCES, TIMERS, EVENTS>,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), Error>
    where
        H: Handler,
        Sel: Selector,
        S: Source<Sel::Handle>,
    {
        let (source, _) = self.get(token).ok_or(Error::NotRegistered(token))?;
        event_loop.reregister(source, token, interest, opt)
    }

    /// The source and state under `token`, if its slot is occupied.
    pub fn get(&self, token: Token) -> Option<(&S, &T)> {
        let entry = self.entries.get(self.entries.key_at(token.0)?)?;
        Some((&entry.source, &entry.state))
    }

    /// The source and state under `token`, mutably.
    pub fn get_mut(&mut self, token: Token) -> Option<(&mut S, &mut T)> {
        let entry = self.entries.get_mut(self.entries.key_at(token.0)?)?;
        Some((&mut entry.source, &mut entry.state))
    }

    /// The source and state of `registration`, if it is still the current one of its
    /// token: for a token kept past its callback (see [`SourceTable`]).
    pub fn get_current<H, Sel, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>(
        &mut self,
        event_loop: &EventLoop<H, Sel, SOURCES, TIMERS, EVENTS>,
        registration: Registration,
    ) -> Option<(&mut S, &mut T)>
    where
        H: Handler,
        Sel: Selector,
    {
        let token = registration.token();
        if event_loop.registration(token) != Some(registration) {
            return None;
        }
        self.get_mut(token)
    }

    /// Whether a source occupies `token`'s slot.
    pub fn contains(&self, token: Token) -> bool {
        self.entries.key_at(token.0).is_some()
    }

    /// The sources and states with their tokens, in token order.
    pub fn iter(&self) -> impl Iterator<Item = (Token, &S, &T)> {
        self.entries
            .iter()
            .map(|(key, entry)| (Token(key.index()), &entry.source, &entry.state))
    }

    /// The sources and states with their tokens, mutably, in token order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Token, &mut S, &mut T)> {
        self.entries
            .iter_mut()
            .map(|(key, entry)| (Token(key.index()), &mut entry.source, &mut entry.state))
    }

    /// How many sources the table holds.
    pub const fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table holds no source.
    pub const fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether all `N` slots are taken.
    pub const fn is_full(&self) -> bool {
        self.entries.is_full()
    }

    /// The most sources the table holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Sources held now and at their peak since the table was made or
    /// [`reset_marks`](Self::reset_marks); limit hits are inserts refused with
    /// [`Error::TableFull`] (each a connection turned away). For
    /// [`Stats::with_table`](crate::Stats::with_table).
    pub const fn marks(&self) -> Mark {
        Mark {
            now: self.len(),
            peak: self.peak as usize,
            capacity: N,
            limit_hits: self.full as u64,
        }
    }

    /// Starts a new window of [`marks`](Self::marks): the peak is what is held now, no
    /// limit hits.
    pub fn reset_marks(&mut self) {
        self.peak = self.len() as u32;
        self.full = 0;
    }
}

impl<S, T, const N: usize> Default for SourceTable<S, T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, T, const N: usize> fmt::Debug for SourceTable<S, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceTable")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish()
    }
}

/// What [`SourceTable::insert`] could not take: the source and state, handed back, and
/// why. Dropping it closes the source.
pub struct Rejected<S, T> {
    /// The source that was not registered.
    pub source: S,
    /// The state that was not stored.
    pub state: T,
    /// Why: [`Error::TableFull`], [`Error::TokenInUse`] or [`Error::Os`].
    pub error: Error,
}

impl<S, T> fmt::Debug for Rejected<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<S, T> fmt::Display for Rejected<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source not added to the table: {}", self.error)
    }
}

impl<S, T> core::error::Error for Rejected<S, T> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<S, T> From<Rejected<S, T>> for Error {
    /// The reason, dropping the source and state.
    fn from(rejected: Rejected<S, T>) -> Error {
        rejected.error
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
