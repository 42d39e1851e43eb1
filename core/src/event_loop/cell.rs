//! [`LoopCell`]: a `static` home for an [`EventLoop`] that builds it in place.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use super::EventLoop;
use super::config::{current_tick, tick_nanos};
use crate::registry::Registry;
use crate::wheel::Wheel;
use crate::{Config, Error, Events, Handler, Selector};

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
        open: impl FnOnce() -> Result<S, crate::OsError>,
        config: Config,
    ) -> Result<&'static mut EventLoop<H, S, SOURCES, TIMERS, EVENTS>, Error> {
        // The registry's capacity check, which `Registry::new` makes and this path skips.
        let () = Registry::<S::Handle, SOURCES>::FITS;
        // Relaxed: the flag only elects the one caller that may write; the loop it
        // builds reaches other threads only through that caller's own synchronisation.
        if self.taken.swap(true, Ordering::Relaxed) {
            return Err(Error::LoopCellTaken);
        }
        let opened = tick_nanos(&config).and_then(|tick| Ok((tick, open()?)));
        let (tick_nanos, selector) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                // Nothing was written: the cell is still all zeros, free to try again.
                self.taken.store(false, Ordering::Relaxed);
                return Err(err);
            }
        };
        let now = current_tick(&selector, tick_nanos);
        let place = self
            .place
            .get()
            .cast::<EventLoop<H, S, SOURCES, TIMERS, EVENTS>>();
        // SAFETY: `taken` makes this the only access to `place` ever, which is valid,
        // aligned and all zero bytes (`new`; nothing wrote since). Each field is
        // written through a raw place (no reference to the not yet valid loop), except
        // those whose zero bytes are their empty state: the registry (documented on
        // `Registry`) and the wheel's parts that `Wheel::init_zeroed` leaves (its
        // contract). So every field is valid after these writes, and `write` drops
        // nothing.
        unsafe {
            (&raw mut (*place).selector).write(selector);
            (&raw mut (*place).events).write(Events::new());
            Wheel::init_zeroed(&raw mut (*place).timers, now);
            (&raw mut (*place).tick_nanos).write(tick_nanos);
            (&raw mut (*place).channel).write(None);
            (&raw mut (*place).config).write(config);
            (&raw mut (*place).running).write(false);
            (&raw mut (*place).handler).write(PhantomData);
            Ok(&mut *place)
        }
    }
}
