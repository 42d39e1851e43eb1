//! The atomics and the cell that concurrent code in core uses: core's own, or loom's when
//! the crate is model-checked (`RUSTFLAGS="--cfg loom"`), so one source runs under both.
//!
//! The cell has loom's closure API (`with`, `with_mut`) so that loom can check every access
//! to a slot for data races; outside loom the closures compile to plain pointer accesses.

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicUsize, Ordering};

/// `core::cell::UnsafeCell` with loom's access API.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(core::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading the contents.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing the contents.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// One round of a wait for another thread's progress: a CPU spin hint, or under loom a
/// yield, so the model checker schedules the thread being waited for.
#[cfg(not(loom))]
pub(crate) fn spin() {
    core::hint::spin_loop();
}

/// One round of a wait for another thread's progress (loom: let another thread run).
#[cfg(loom)]
pub(crate) fn spin() {
    loom::thread::yield_now();
}
