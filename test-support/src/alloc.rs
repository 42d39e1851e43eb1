//! [`Counting`]: the system allocator, counting the allocations one thread makes while
//! it asks to be counted ([`count_allocations`]), for zero-allocation tests.
//!
//! ```
//! use statio_test_support::alloc::{Counting, count_allocations};
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting = Counting;
//!
//! let (value, allocations) = count_allocations(|| vec![1, 2, 3].len());
//! assert_eq!((value, allocations), (3, 1));
//! ```
//!
//! Only the calling thread is counted: the test harness and other threads allocate
//! freely. A test binary that does not install [`Counting`] as its global allocator
//! counts nothing, so check that [`count_allocations`] sees a known allocation first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // `const` initialisers: reading these never allocates (no lazy init), so the
    // allocator may use them.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// `System`, counting the calls that allocate (`alloc`, `alloc_zeroed`, `realloc`) on
/// threads inside [`count_allocations`].
pub struct Counting;

impl Counting {
    fn count() {
        // `try_with`: during a thread's teardown the slots may be gone; not counting.
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; counting touches only
// const-initialised thread-locals, which neither allocate nor re-enter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::count();
        // SAFETY: the caller upholds `realloc`'s contract, which `System` shares.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` (every allocation above forwards to it).
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns its value with the number of allocations this thread made in
/// it (0 unless [`Counting`] is the global allocator).
pub fn count_allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let value = f();
    COUNTING.with(|c| c.set(false));
    (value, ALLOCATIONS.with(Cell::get) - before)
}
