//! [`OneThread`]: a value in a `ConstStaticCell` that is not `Send`, for the examples'
//! connection tables (echo, http and kv include it with `#[path]`; not an example
//! itself).
//!
//! A table in its own `ConstStaticCell`, all zero bytes (`SourceTable::new`), sits in
//! `.bss`: nothing in the file, never built on the stack, and only the slots used become
//! resident. But its connections' lent buffers borrow the pool, which is not `Sync` (one
//! loop lends and returns them), so they are not `Send`, and a `ConstStaticCell` holds
//! only `Send` values.

/// A value used by one thread only: the thread that takes it from its cell, which also
/// takes the pool its connections borrow from.
#[repr(transparent)]
pub struct OneThread<T>(pub T);

// SAFETY: each table is taken once, by the thread that runs its loop (echo's and kv's
// main thread; each of http's loop threads for its own home), and used only there,
// with the pool its lent buffers borrow, taken by the same thread.
unsafe impl<T> Send for OneThread<T> {}
