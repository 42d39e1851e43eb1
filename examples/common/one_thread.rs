//! [`OneThread`]: a value in a `ConstStaticCell` that is not `Send`, for the examples'
//! connection tables (echo and kv include it with `#[path]`; not an example itself).
//!
//! A table in its own `ConstStaticCell`, all zero bytes (`SourceTable::new`), sits in
//! `.bss`: nothing in the file, never built on the stack, and only the slots used become
//! resident. But its connections' lent buffers borrow the pool, which is not `Sync` (one
//! loop lends and returns them), so they are not `Send`, and a `ConstStaticCell` holds
//! only `Send` values.

/// A value used by one thread only: the thread that takes it from its cell.
#[repr(transparent)]
pub struct OneThread<T>(pub T);

// SAFETY: each example takes its table once, in `main`, and uses it only on the main
// thread: neither server starts a thread of its own.
unsafe impl<T> Send for OneThread<T> {}
