//! [`SliceBuf`] and [`MutSliceBuf`]: the buffer traits over borrowed memory.

use super::{Buf, MutBuf};

/// Borrowed bytes to consume from the front, e.g. a reply to write:
/// [`Buf`] over a `&[u8]`.
///
/// ```
/// use statio_core::buf::{Buf, SliceBuf};
///
/// let mut reply = SliceBuf::new(b"HTTP/1.0 200 OK\r\n");
/// assert_eq!(reply.advance(9), 9); // a write took 9 bytes
/// assert_eq!(reply.chunks().0, b"200 OK\r\n");
/// ```
#[derive(Clone, Debug)]
pub struct SliceBuf<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> SliceBuf<'a> {
    /// All of `bytes`, none consumed yet.
    pub const fn new(bytes: &'a [u8]) -> Self {
        SliceBuf { bytes, pos: 0 }
    }

    /// How many bytes have been consumed.
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not consumed yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }
}

impl Buf for SliceBuf<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn chunks(&self) -> (&[u8], &[u8]) {
        (&self.bytes[self.pos..], &[])
    }

    fn advance(&mut self, n: usize) -> usize {
        let n = n.min(self.bytes.len() - self.pos);
        self.pos += n;
        n
    }
}

/// Borrowed memory to fill from the front, e.g. a stack array to read into:
/// [`MutBuf`] over a `&mut [u8]`.
///
/// ```
/// use statio_core::buf::{MutBuf, MutSliceBuf};
///
/// let mut storage = [0u8; 16];
/// let mut buf = MutSliceBuf::new(&mut storage);
/// buf.try_write_all(b"GET /").unwrap();
/// assert_eq!(buf.filled(), b"GET /");
/// assert_eq!(buf.remaining_mut(), 11);
/// ```
#[derive(Debug)]
pub struct MutSliceBuf<'a> {
    bytes: &'a mut [u8],
    filled: usize,
}

impl<'a> MutSliceBuf<'a> {
    /// All of `bytes` free, none filled yet.
    pub const fn new(bytes: &'a mut [u8]) -> Self {
        MutSliceBuf { bytes, filled: 0 }
    }

    /// The bytes filled so far.
    pub fn filled(&self) -> &[u8] {
        &self.bytes[..self.filled]
    }

    /// Gives the borrow back as the filled bytes.
    pub fn into_filled(self) -> &'a mut [u8] {
        &mut self.bytes[..self.filled]
    }

    /// Forgets the filled bytes: all of the memory is free again.
    pub fn clear(&mut self) {
        self.filled = 0;
    }
}

impl MutBuf for MutSliceBuf<'_> {
    fn remaining_mut(&self) -> usize {
        self.bytes.len() - self.filled
    }

    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        (&mut self.bytes[self.filled..], &mut [])
    }

    fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.bytes.len() - self.filled);
        self.filled += n;
        n
    }
}
