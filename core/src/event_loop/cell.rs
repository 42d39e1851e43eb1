//! [`LoopCell`], and the one place a loop is built: `EventLoop::init_in_place`.
//!
//! # Zero bytes are an empty loop
//!
//! Every constructor builds the loop in zeroed memory through `init_in_place`:
//! [`EventLoop::with_selector`] (and so `new` and `configured`) in a local
//! `MaybeUninit::zeroed`, [`LoopCell::init`] in the cell's `.bss`. `init_in_place` writes
//! only the fields whose empty state is not zero bytes; each other part is valid and
//! empty as zero bytes, so in a cell its pages stay untouched (not resident) until
//! tokens and timers use them. This is the contract, stated once, that the parts keep:
//!
//! | field | how it starts |
//! |---|---|
//! | `selector`, `tick_nanos`, `channel`, `config`, `running`, `in_turn`, `extras`, `handler` | written |
//! | `events` | written: an empty `Events`, whose slots are `MaybeUninit` (in practice only its length is stored) |
//! | `stale` | zero bytes: no stale tag seen |
//! | `registry` | zero bytes: every slot vacant at generation 0, its handle a `MaybeUninit` read only while occupied (`Registry::init_zeroed`); its marks 0 |
//! | `marks` | zero bytes: no peak, no count yet (`stats::LoopMarks`) |
//! | `timers` | `Wheel::init_zeroed` writes the nodes, `now` and its id; the rest is empty as zero bytes: heads stored inverted (an empty list is 0), minima unread while a slot is empty, bitmaps, generations and the free stack |
//!
//! A field added to `EventLoop` fails to build until `init_in_place`'s guard names it,
//! so it cannot be left as zero bytes by accident; a part that changes what its zero
//! bytes mean must change its `init_zeroed` (their tests run under Miri, which checks
//! every field's validity).

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use super::EventLoop;
use super::config::{Config, current_tick, tick_nanos};
use crate::error::{Error, OsError};
use crate::event::Events;
use crate::handler::Handler;
use crate::registry::Registry;
use crate::selector::Selector;
use crate::wheel::Wheel;

/// A `static` home for an [`EventLoop`] that costs memory only where the loop is used.
///
/// [`new`](LoopCell::new) is `const` and all zero bytes, so the cell sits in `.bss`:
/// no bytes in the binary, and no resident page until something writes there.
/// [`init`](LoopCell::init) then builds the loop in place, once: it opens the selector
/// and writes only the few fields whose empty state is not zero bytes. The registry's
/// slots, the events buffer, and the timer wheel's heads, bitmaps and free stack are
/// left as they are, so their pages become resident only as tokens, events and timers
/// use them, and the loop is never copied through the stack. (Building a loop by value
/// and moving it into a `StaticCell` writes all of it, at least twice.)
///
/// ```
/// use statio_core::sim::{SimSelector, SimSource};
/// use statio_core::{Config, EventLoop, Handler, LoopCell, Token};
///
/// type Loop = EventLoop<App, SimSelector, /*sources*/ 1024, /*timers*/ 0, /*events*/ 64>;
///
/// struct App;
///
/// impl Handler for App {
///     type Timeout = ();
///     type Message = ();
///     type Loop = Loop;
/// }
///
/// static LOOP: LoopCell<Loop> = LoopCell::new();
///
/// let event_loop: &'static mut Loop = LOOP.init(Config::new()).unwrap();
/// event_loop.register(&SimSource(3), Token(7)).unwrap();
/// assert!(LOOP.init(Config::new()).is_err(), "a cell holds one loop, built once");
/// ```
///
/// The loop is never dropped (as with `StaticCell`): its selector stays open until the
/// process exits.
pub struct LoopCell<L> {
    taken: AtomicBool,
    place: UnsafeCell<MaybeUninit<L>>,
}

// SAFETY: the only access to `place` is through `init`, which hands out its `&mut`
// once (the `taken` flag), so sharing the cell shares no access to the loop; the
// loop may be built on one thread and used on another, hence `L: Send`.
unsafe impl<L: Send> Sync for LoopCell<L> {}

impl<L> LoopCell<L> {
    /// An empty cell: all zero bytes, so a `static` of it lives in `.bss`.
    pub const fn new() -> Self {
        LoopCell {
            taken: AtomicBool::new(false),
            place: UnsafeCell::new(MaybeUninit::zeroed()),
        }
    }
}

impl<L> Default for LoopCell<L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    LoopCell<EventLoop<H, S, SOURCES, TIMERS, EVENTS>>
where
    H: Handler,
    S: Selector,
{
    /// Builds the loop in the cell with `config` over a new selector, as
    /// [`EventLoop::configured`] would, and returns it.
    ///
    /// # Errors
    /// [`Error::LoopCellTaken`] when the cell already holds a loop; otherwise as
    /// [`EventLoop::configured`], and the cell stays empty (a later `init` may retry).
    pub fn init(
        &'static self,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        self.init_with(S::new, config)
    }

    /// Builds the loop in the cell over a selector the caller opened, as
    /// [`EventLoop::with_selector`] would, and returns it.
    ///
    /// # Errors
    /// As [`init`](Self::init), less the selector's; on an error `selector` is dropped.
    pub fn init_with_selector(
        &'static self,
        selector: S,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        self.init_with(|| Ok(selector), config)
    }

    // The `&mut` is unique: `taken` lets one call ever reach `place` (as `StaticCell`).
    #[allow(clippy::mut_from_ref)]
    fn init_with(
        &'static self,
        open: impl FnOnce() -> Result<S, OsError>,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        // Relaxed: the flag only elects the one caller that may write; the loop it
        // builds reaches other threads only through that caller's own synchronisation.
        if self.taken.swap(true, Ordering::Relaxed) {
            return Err(Error::LoopCellTaken);
        }
        let place = self
            .place
            .get()
            .cast::<EventLoop<H, S, SOURCES, TIMERS, EVENTS>>();
        // SAFETY: `taken` makes this the only access to `place` ever, which is valid,
        // aligned and all zero bytes (`new`; nothing wrote since). On `Ok` it holds a
        // loop, handed out once; on an error nothing was written.
        match unsafe { EventLoop::init_in_place(place, open, config) } {
            // SAFETY: as above.
            Ok(()) => Ok(unsafe { &mut *place }),
            Err(err) => {
                // Still all zero bytes: free to try again.
                self.taken.store(false, Ordering::Relaxed);
                Err(err)
            }
        }
    }
}

impl<H, S, const SOURCES: usize, const TIMERS: usize, const EVENTS: usize>
    EventLoop<H, S, SOURCES, TIMERS, EVENTS>
where
    H: Handler,
    S: Selector,
{
    /// Builds an empty loop in `place` with `config` over the selector `open` returns,
    /// writing only what zero bytes do not already make empty (the module's contract).
    /// The config is checked before `open` runs.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a timer tick `tick_nanos` refuses; what `open`
    /// returns. Either way nothing was written: `place` is still all zero bytes.
    ///
    /// # Safety
    /// `place` must be valid for writes, aligned, and hold `size_of::<Self>()` zero
    /// bytes. On `Ok` it holds a valid loop.
    pub(super) unsafe fn init_in_place(
        place: *mut Self,
        open: impl FnOnce() -> Result<S, OsError>,
        config: Config,
    ) -> Result<(), Error> {
        const {
            assert!(
                EVENTS > 0,
                "EVENTS must be at least 1: a turn takes up to EVENTS events"
            );
        };
        // The guard: a field added to `EventLoop` fails to build here until it is
        // written below or shown empty as zero bytes in the module's table.
        let _every_field_handled = |event_loop: Self| {
            let EventLoop {
                selector: _,
                registry: _,
                events: _,
                timers: _,
                tick_nanos: _,
                channel: _,
                config: _,
                running: _,
                in_turn: _,
                extras: _,
                marks: _,
                stale: _,
                handler: _,
            } = event_loop;
        };
        let tick_nanos = tick_nanos(&config)?;
        let selector = open()?;
        let now = current_tick(&selector, tick_nanos);
        // SAFETY: `place` is valid, aligned and all zero bytes (the caller's promise).
        // Each field is written through a raw place (no reference to the not yet valid
        // loop), except the registry and the wheel's parts that their `init_zeroed`
        // leave, whose zero bytes are their empty state. So every field is valid after
        // these writes, and `write` drops nothing.
        unsafe {
            (&raw mut (*place).selector).write(selector);
            Registry::init_zeroed(&raw mut (*place).registry);
            (&raw mut (*place).events).write(Events::new());
            Wheel::init_zeroed(&raw mut (*place).timers, now);
            (&raw mut (*place).tick_nanos).write(tick_nanos);
            (&raw mut (*place).channel).write(None);
            (&raw mut (*place).config).write(config);
            (&raw mut (*place).running).write(false);
            (&raw mut (*place).in_turn).write(false);
            (&raw mut (*place).extras).write(config.max_sleep.is_some());
            (&raw mut (*place).handler).write(PhantomData);
        }
        Ok(())
    }
}
