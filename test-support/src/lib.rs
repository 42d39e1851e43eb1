//! Helpers shared by statio's tests: the ports' unit tests and the facade's integration
//! tests (`tests/util` re-exports them), on the model of mio's `tests/util`.
//!
//! | module | what |
//! |---|---|
//! | [`alloc`] | a [`Counting`](alloc::Counting) global allocator: allocations per thread, for zero-allocation tests |
//! | [`selector`] | one bare [`Selector`](statio_core::Selector): `select`, [`expect_event`](selector::expect_event), [`expect_no_events`](selector::expect_no_events) |
//! | [`fd`] | descriptors outside any selector: a bounded [`wait_fd`](fd::wait_fd), [`assert_cloexec_nonblocking`](fd::assert_cloexec_nonblocking) |
//! | [`names`] | unique socket paths ([`TempPath`](names::TempPath)) and abstract names |
//! | [`assert_would_block`] | statio's would-block, `Ok(None)` |
//!
//! It depends on `statio-core` and `libc` only, never on a port or `statio-unix`, so a
//! port's unit tests use it without a second copy of the port's own types. Every wait
//! is bounded: a test that would hang fails instead.

pub mod alloc;
pub mod fd;
pub mod names;
pub mod selector;

use std::fmt::Debug;

/// Asserts that a non-blocking call would block: statio says so with `Ok(None)`
/// (mio's `assert_would_block` looks for `ErrorKind::WouldBlock`).
#[track_caller]
pub fn assert_would_block<T: Debug, E: Debug>(result: Result<Option<T>, E>) {
    match result {
        Ok(None) => {}
        other => panic!("expected would-block (Ok(None)), got {other:?}"),
    }
}
