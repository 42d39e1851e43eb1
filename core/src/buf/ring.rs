//! [`RingBuf<N>`]: a fixed ring of `N` bytes.

use super::{Buf, MutBuf};
use crate::zeroed::assert_zero_bytes;

/// A ring of `N` bytes: what is written with [`MutBuf`] is read back in order with
/// [`Buf`]. Both sides are at most two contiguous regions (see the
/// [module docs](super)).
///
/// ```
/// use statio_core::buf::{Buf, MutBuf, RingBuf};
///
/// let mut ring: RingBuf<4> = RingBuf::new();
/// assert_eq!(ring.write_truncating(b"abcdef"), 4); // full: the rest does not fit
/// assert!(ring.is_full());
/// assert_eq!(ring.advance(9), 4); // never past what there is
/// assert!(ring.is_empty());
/// ```
#[derive(Clone)]
pub struct RingBuf<const N: usize> {
    bytes: [u8; N],
    /// Offset of the first filled byte, `< N` (or 0 when `N == 0`).
    head: usize,
    /// Filled bytes, `<= N`.
    len: usize,
}

assert_zero_bytes!(
    RingBuf::<8>::new(),
    "RingBuf::new() must be all zero bytes, or a static ring lands in .data"
);

impl<const N: usize> RingBuf<N> {
    /// Bytes a `RingBuf<N>` occupies: exactly `size_of::<Self>()`, `N` plus two
    /// `usize` counters.
    pub const MEMORY: usize = size_of::<Self>();

    /// An empty ring; `const`, and all zeros, so a `static` one lives in `.bss`.
    pub const fn new() -> Self {
        RingBuf {
            bytes: [0; N],
            head: 0,
            len: 0,
        }
    }

    /// The ring's size: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Filled bytes: what [`Buf::remaining`] reports.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is filled.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no byte is free.
    pub const fn is_full(&self) -> bool {
        self.len == N
    }

    /// Drops every filled byte.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Offset of the first free byte (no `%`: `N` may be 0).
    fn tail(&self) -> usize {
        let end = self.head + self.len;
        if end >= N { end - N } else { end }
    }
}

impl<const N: usize> Default for RingBuf<N> {
    fn default() -> Self {
        RingBuf::new()
    }
}

impl<const N: usize> core::fmt::Debug for RingBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingBuf")
            .field("capacity", &N)
            .field("head", &self.head)
            .field("len", &self.len)
            .finish()
    }
}

impl<const N: usize> Buf for RingBuf<N> {
    fn remaining(&self) -> usize {
        self.len
    }

    fn chunks(&self) -> (&[u8], &[u8]) {
        let first_len = self.len.min(N - self.head);
        let first = &self.bytes[self.head..self.head + first_len];
        let second = &self.bytes[..self.len - first_len];
        (first, second)
    }

    fn advance(&mut self, n: usize) -> usize {
        let n = n.min(self.len);
        if n == 0 {
            // Touch nothing: see `commit`.
            return 0;
        }
        self.len -= n;
        if self.len == 0 {
            // Empty: restart at 0 so the next fill is one contiguous region.
            self.head = 0;
        } else {
            let head = self.head + n;
            self.head = if head >= N { head - N } else { head };
        }
        n
    }
}

impl<const N: usize> MutBuf for RingBuf<N> {
    fn remaining_mut(&self) -> usize {
        N - self.len
    }

    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        let free = N - self.len;
        let tail = self.tail();
        // The free space runs from `tail` to the end, then wraps up to `head`.
        let (before, after) = self.bytes.split_at_mut(tail);
        let first_len = free.min(after.len());
        let first = &mut after[..first_len];
        let second = &mut before[..free - first_len];
        (first, second)
    }

    fn commit(&mut self, n: usize) -> usize {
        let n = n.min(N - self.len);
        // No write when nothing arrived (EOF, would-block): a ring in `.bss` that never
        // receives a byte then never becomes resident.
        if n > 0 {
            self.len += n;
        }
        n
    }
}
