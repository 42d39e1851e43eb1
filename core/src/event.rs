//! [`Events`]: the fixed buffer a selector fills, and [`Event`]: one entry read through it.

use core::mem::MaybeUninit;

use heapless::Vec;

use crate::ready::Ready;
use crate::token::Token;

/// One readiness event: which source, and what it is ready for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The token the source was registered with.
    pub token: Token,
    /// The conditions reported.
    pub ready: Ready,
}

/// A fixed buffer of up to `N` events in the selector's own format `T`.
///
/// The kernel writes straight into it (`epoll_wait`, `kevent`), so an event is never
/// copied between the kernel and the dispatch. When more sources are ready than `N`,
/// the rest stay pending in the kernel and arrive on the next `select`.
pub struct Events<T, const N: usize> {
    buf: Vec<T, N>,
}

impl<T: Copy, const N: usize> Events<T, N> {
    /// Bytes an `Events<T, N>` occupies: exactly `size_of::<Self>()`, `N` events of the
    /// selector's format (12 bytes for epoll's `epoll_event` on x86_64, 32 for
    /// `kevent`) and a length.
    pub const MEMORY: usize = size_of::<Self>();

    /// An empty buffer; `const`, so it can live in a `static`.
    pub const fn new() -> Self {
        Events { buf: Vec::new() }
    }

    /// How many events the buffer holds after the last `select`.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the last `select` returned no events.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The most events one `select` can return: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The `i`-th event, if there is one.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.buf.get(i)
    }

    /// The events, in the order the selector returned them.
    pub fn as_slice(&self) -> &[T] {
        &self.buf
    }

    /// Forgets every event; the selector calls it before filling the buffer again.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Appends one event, or gives it back when the buffer is full.
    ///
    /// # Errors
    /// `Err(event)` when the buffer already holds `N` events.
    pub fn push(&mut self, event: T) -> Result<(), T> {
        self.buf.push(event)
    }

    /// Replaces the contents with what `fill` writes into the whole buffer.
    ///
    /// `fill` receives all `N` slots uninitialised and returns how many it wrote, from
    /// the start: the shape of `epoll_wait` and `kevent`.
    ///
    /// # Safety
    /// `fill` must return a count `n <= N` and must have initialised the first `n` slots.
    pub unsafe fn fill_with(&mut self, fill: impl FnOnce(&mut [MaybeUninit<T>]) -> usize) {
        self.buf.clear();
        let n = fill(self.buf.spare_capacity_mut());
        debug_assert!(
            n <= N,
            "selector reported more events than the buffer holds"
        );
        // SAFETY: the caller promises the first `n` slots are initialised and `n <= N`;
        // `clear` above made the length 0, so those slots are exactly the spare capacity.
        unsafe { self.buf.set_len(n) };
    }
}

impl<T: Copy, const N: usize> Default for Events<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_with_exposes_exactly_the_written_prefix() {
        let mut events: Events<u32, 4> = Events::new();
        // SAFETY: the closure initialises slots 0..3 and returns 3.
        unsafe {
            events.fill_with(|slots| {
                for (i, slot) in slots.iter_mut().take(3).enumerate() {
                    slot.write(i as u32 * 10);
                }
                3
            })
        };
        assert_eq!(events.as_slice(), &[0, 10, 20]);
        assert_eq!(events.capacity(), 4);
        // SAFETY: writes nothing, returns 0.
        unsafe { events.fill_with(|_| 0) };
        assert!(events.is_empty());
    }

    #[test]
    fn push_returns_the_event_when_full() {
        let mut events: Events<u8, 1> = Events::new();
        assert_eq!(events.push(1), Ok(()));
        assert_eq!(events.push(2), Err(2));
        assert_eq!(events.get(0), Some(&1));
        events.clear();
        assert_eq!(events.len(), 0);
    }
}
