//! [`LinearBuf<N>`]: a fixed buffer for parsers, its filled bytes always one slice.

use core::fmt;

use super::{Buf, MutBuf};
use crate::zeroed::assert_zero_bytes;

/// `N` bytes that fill at the tail and are consumed at the head, the unconsumed bytes
/// always one contiguous slice ([`filled`](Self::filled)): what a parser such as
/// `httparse` needs. Read into it with `try_read_buf`, parse `filled()`, and
/// [`advance`](Buf::advance) past what was parsed; an incomplete message stays for the
/// next read.
///
/// ```
/// use statio_core::buf::{Buf, LinearBuf, MutBuf};
///
/// let mut input: LinearBuf<16> = LinearBuf::new();
/// input.try_write_all(b"GET /a\nGET").unwrap(); // as a read would
/// let line = input.filled().iter().position(|&b| b == b'\n').unwrap();
/// assert_eq!(&input.filled()[..line], b"GET /a");
/// input.advance(line + 1); // parsed: consume it
/// assert_eq!(input.filled(), b"GET"); // the incomplete rest waits
/// assert_eq!(input.remaining_mut(), 13); // all free space, in one slice:
/// assert_eq!(input.chunks_mut().0.len(), 13); // the rest moved to the front
/// ```
///
/// The free space is one slice too: [`MutBuf::chunks_mut`] first moves the unconsumed
/// bytes to the front when some before them were consumed (one `copy_within` of
/// [`len`](Self::len) bytes, typically a partial message), so
/// [`remaining_mut`](MutBuf::remaining_mut) is all of `N - len()`. Consuming the last
/// byte restarts at offset 0 and moves nothing. Like a ring, a `LinearBuf` offers
/// no more than it has: it never cuts a write silently (use
/// [`MutBuf::try_write_all`]) and never reads past its end.
#[derive(Clone)]
pub struct LinearBuf<const N: usize> {
    bytes: [u8; N],
    /// Offset of the first unconsumed byte: `start <= end`, and 0 when empty.
    start: usize,
    /// Offset of the first free byte: `end <= N`.
    end: usize,
}

assert_zero_bytes!(
    LinearBuf::<8>::new(),
    "LinearBuf::new() must be all zero bytes, or a static buffer lands in .data"
);

impl<const N: usize> LinearBuf<N> {
    /// Bytes a `LinearBuf<N>` occupies: exactly `size_of::<Self>()`, `N` plus two
    /// `usize` offsets.
    pub const MEMORY: usize = size_of::<Self>();

    /// An empty buffer; `const`, and all zeros, so a `static` one lives in `.bss`.
    pub const fn new() -> Self {
        LinearBuf {
            bytes: [0; N],
            start: 0,
            end: 0,
        }
    }

    /// The buffer's size: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Unconsumed bytes: what [`Buf::remaining`] reports.
    pub const fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no byte is unconsumed.
    pub const fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Whether no byte is free.
    pub const fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The unconsumed bytes, in order, as one slice: what to parse.
    pub fn filled(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// Drops every unconsumed byte.
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

impl<const N: usize> Default for LinearBuf<N> {
    fn default() -> Self {
        LinearBuf::new()
    }
}

impl<const N: usize> fmt::Debug for LinearBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinearBuf")
            .field("capacity", &N)
            .field("start", &self.start)
            .field("end", &self.end)
            .finish()
    }
}

impl<const N: usize> Buf for LinearBuf<N> {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn chunks(&self) -> (&[u8], &[u8]) {
        (self.filled(), &[])
    }

    fn advance(&mut self, n: usize) -> usize {
        let n = n.min(self.len());
        if n == 0 {
            // Touch nothing: a buffer in `.bss` stays untouched until bytes arrive.
            return 0;
        }
        self.start += n;
        if self.start == self.end {
            // Empty: restart at 0, so the next fill needs no compaction.
            self.clear();
        }
        n
    }
}

impl<const N: usize> MutBuf for LinearBuf<N> {
    fn remaining_mut(&self) -> usize {
        N - self.len()
    }

    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        if self.start > 0 {
            // Compact: the free space becomes one slice of all `N - len` bytes.
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        (&mut self.bytes[self.end..], &mut [])
    }

    fn commit(&mut self, n: usize) -> usize {
        let n = n.min(N - self.len());
        if n > 0 {
            // The bytes committed are those `chunks_mut` exposes, after its compaction
            // (nothing to move when the caller just called it).
            let _ = self.chunks_mut();
            self.end += n;
        }
        n
    }
}
