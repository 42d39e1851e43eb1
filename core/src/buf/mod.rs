//! Byte buffers a socket reads into and writes from directly: the [`Buf`] and
//! [`MutBuf`] traits, a fixed ring [`RingBuf<N>`], and [`SliceBuf`]/[`MutSliceBuf`] over
//! borrowed memory.
//!
//! ```
//! use statio_core::buf::{Buf, MutBuf, RingBuf};
//!
//! let mut ring: RingBuf<8> = RingBuf::new();
//! assert_eq!(ring.write_slice(b"hello"), 5);
//! let mut out = [0u8; 3];
//! assert_eq!(ring.read_slice(&mut out), 3);
//! assert_eq!(&out, b"hel");
//! // 6 more bytes: only 6 are free, and they wrap around the end of the storage.
//! assert_eq!(ring.write_slice(b"world!!"), 6);
//! assert_eq!(ring.chunks(), (&b"lowor"[..], &b"ld!"[..]));
//! ```
//!
//! # How the ports use them
//! A port reads into the free space [`MutBuf::chunks_mut`] exposes and then calls
//! [`MutBuf::commit`]; it writes from the filled space [`Buf::chunks`] exposes and
//! then calls [`Buf::advance`]. Each side is at most two contiguous regions (a ring's
//! region may wrap once), so one `readv`/`writev` moves all of it: the only copy is the
//! kernel's (no double buffering, as mio 0.2 promised).
//!
//! # Failure modes
//! None panic. A full buffer takes no more bytes ([`MutBuf::write_slice`] returns how
//! many it took, possibly 0); an empty one gives none. [`Buf::advance`] and
//! [`MutBuf::commit`] never move past what there is: they return how far they moved.
//!
//! # Costs
//! Every operation is O(1) besides the copies of `read_slice`/`write_slice`. A
//! `RingBuf<N>` is `N` bytes plus two `usize`s; [`RingBuf::new`] is `const` and all
//! zeros, so a `static` ring sits in `.bss` and costs no resident memory until used.
//! A ring that empties restarts at offset 0, so the next fill is contiguous.

mod ring;
mod slice;
#[cfg(test)]
mod tests;

pub use ring::RingBuf;
pub use slice::{MutSliceBuf, SliceBuf};

/// Bytes to be consumed: filled space a writer takes from.
pub trait Buf {
    /// How many bytes are left to consume.
    fn remaining(&self) -> usize;

    /// The bytes left, in order, as at most two contiguous slices; the second is empty
    /// unless the region wraps. `chunks().0.len() + chunks().1.len() == remaining()`,
    /// and the first is empty only when both are.
    fn chunks(&self) -> (&[u8], &[u8]);

    /// Consumes up to `n` bytes from the front and returns how many it consumed:
    /// `n.min(self.remaining())`.
    fn advance(&mut self, n: usize) -> usize;

    /// Whether any byte is left.
    fn has_remaining(&self) -> bool {
        self.remaining() > 0
    }

    /// Copies bytes from the front into `dst` and consumes them; returns how many:
    /// `dst.len().min(self.remaining())`.
    fn read_slice(&mut self, dst: &mut [u8]) -> usize {
        let (first, second) = self.chunks();
        let a = first.len().min(dst.len());
        dst[..a].copy_from_slice(&first[..a]);
        let b = second.len().min(dst.len() - a);
        dst[a..a + b].copy_from_slice(&second[..b]);
        self.advance(a + b)
    }
}

/// Room to be filled: free space a reader writes into.
pub trait MutBuf {
    /// How many bytes fit before the buffer is full.
    fn remaining_mut(&self) -> usize;

    /// The free space, in the order it will be filled, as at most two contiguous
    /// slices; the second is empty unless the space wraps. Their lengths add up to
    /// [`remaining_mut`](Self::remaining_mut). Bytes written there count only once
    /// [`commit`](Self::commit)ted.
    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]);

    /// Marks the first `n` bytes of [`chunks_mut`](Self::chunks_mut) as filled and
    /// returns how many it marked: `n.min(self.remaining_mut())`.
    fn commit(&mut self, n: usize) -> usize;

    /// Whether any byte fits.
    fn has_remaining_mut(&self) -> bool {
        self.remaining_mut() > 0
    }

    /// Copies as much of `src` as fits and commits it; returns how many bytes:
    /// `src.len().min(self.remaining_mut())`.
    fn write_slice(&mut self, src: &[u8]) -> usize {
        let (first, second) = self.chunks_mut();
        let a = first.len().min(src.len());
        first[..a].copy_from_slice(&src[..a]);
        let b = second.len().min(src.len() - a);
        second[..b].copy_from_slice(&src[a..a + b]);
        self.commit(a + b)
    }
}

impl<B: Buf + ?Sized> Buf for &mut B {
    fn remaining(&self) -> usize {
        (**self).remaining()
    }
    fn chunks(&self) -> (&[u8], &[u8]) {
        (**self).chunks()
    }
    fn advance(&mut self, n: usize) -> usize {
        (**self).advance(n)
    }
}

impl<B: MutBuf + ?Sized> MutBuf for &mut B {
    fn remaining_mut(&self) -> usize {
        (**self).remaining_mut()
    }
    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        (**self).chunks_mut()
    }
    fn commit(&mut self, n: usize) -> usize {
        (**self).commit(n)
    }
}
