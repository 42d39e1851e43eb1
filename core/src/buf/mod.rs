//! Byte buffers a socket reads into and writes from directly: the [`Buf`] and
//! [`MutBuf`] traits, a fixed ring [`RingBuf<N>`], a linear [`LinearBuf<N>`] for
//! parsers, [`SliceBuf`]/[`MutSliceBuf`] over borrowed memory, and a [`BufPool`] that
//! lends buffers only to connections with bytes in flight.
//!
//! ```
//! use statio_core::buf::{Buf, MutBuf, RingBuf};
//!
//! let mut ring: RingBuf<8> = RingBuf::new();
//! ring.try_write_all(b"hello").unwrap();
//! let mut out = [0u8; 3];
//! assert_eq!(ring.read_slice(&mut out), 3);
//! assert_eq!(&out, b"hel");
//! // 7 more bytes do not fit in the 6 free: all or nothing...
//! assert!(ring.try_write_all(b"world!!").is_err());
//! // ...or as much as fits, wrapping around the end of the storage.
//! assert_eq!(ring.write_truncating(b"world!!"), 6);
//! assert_eq!(ring.chunks(), (&b"lowor"[..], &b"ld!"[..]));
//! ```
//!
//! # Many connections: one scratch buffer, and a pool for what is left
//! A server reads every connection into one scratch buffer (on the loop's stack, or
//! one `static`), writes or parses from there, and moves into a pooled buffer only what
//! is left: the unsent tail of a partial write, or an incomplete request. A connection
//! whose bytes went straight through holds no buffer, so 1,000 connections that each
//! echoed a message hold none, and memory is spent on bytes in flight, not on
//! connections. [`BufPool`] says what happens when no buffer is left (that connection
//! is not read until one returns) and what buffers cost.
//!
//! ```
//! use statio_core::buf::{Buf, BufPool, LentBuf, MutBuf, PoolEmpty, RingBuf};
//! use static_cell::ConstStaticCell;
//!
//! type Out = RingBuf<4080>; // 4 KiB with its two counters (on 64-bit targets)
//! const BUFFERS: usize = 64;
//! static POOL: ConstStaticCell<BufPool<Out, BUFFERS>> = ConstStaticCell::new(BufPool::new());
//!
//! struct Conn {
//!     /// What could not be sent yet: `Some` only while bytes are in flight.
//!     unsent: Option<LentBuf<'static, Out, BUFFERS>>,
//! }
//!
//! /// Stands in for a TCP stream: its peer sent `inbox`; its send buffer takes `room`
//! /// more bytes, then would block.
//! struct Stream { inbox: Vec<u8>, room: usize, wire: Vec<u8> }
//! impl Stream {
//!     fn try_read(&mut self, buf: &mut [u8]) -> usize {
//!         let n = buf.len().min(self.inbox.len());
//!         buf[..n].copy_from_slice(&self.inbox[..n]);
//!         self.inbox.drain(..n);
//!         n
//!     }
//!     fn try_write(&mut self, bytes: &[u8]) -> usize {
//!         let n = bytes.len().min(self.room);
//!         self.wire.extend_from_slice(&bytes[..n]);
//!         self.room -= n;
//!         n
//!     }
//! }
//!
//! /// Echoes what `conn` has sent. `Err(PoolEmpty)`: nothing was read; read this
//! /// connection again once a buffer returns.
//! fn readable(
//!     conn: &mut Conn,
//!     stream: &mut Stream,
//!     pool: &'static BufPool<Out, BUFFERS>,
//!     scratch: &mut [u8; 4080],
//! ) -> Result<(), PoolEmpty> {
//!     // The buffer for what may be left comes first, so that no byte is read that
//!     // could not be kept. Returned unused, it is untouched.
//!     let mut spare = pool.lend()?;
//!     let n = stream.try_read(scratch);
//!     let sent = stream.try_write(&scratch[..n]);
//!     if sent < n {
//!         // Fits: the scratch is no larger than a pooled buffer.
//!         spare.try_write_all(&scratch[sent..n]).expect("fits");
//!         conn.unsent = Some(spare);
//!     }
//!     Ok(())
//! }
//!
//! let pool: &'static BufPool<Out, BUFFERS> = POOL.take();
//! let mut scratch = [0; 4080];
//! let mut conn = Conn { unsent: None };
//! let mut stream = Stream { inbox: b"hello, world".to_vec(), room: 5, wire: Vec::new() };
//! readable(&mut conn, &mut stream, pool, &mut scratch).unwrap();
//! assert_eq!(stream.wire, b"hello");
//! assert_eq!(pool.lent(), 1); // ", world" waits in a pooled buffer
//!
//! // Writable: send from the pooled buffer (on a socket: `try_write_buf(unsent)`).
//! stream.room = 100;
//! let unsent = conn.unsent.as_mut().unwrap();
//! let n = stream.try_write(unsent.chunks().0);
//! unsent.advance(n);
//! if !unsent.has_remaining() {
//!     conn.unsent = None; // drained: dropping it returns it to the pool
//! }
//! assert_eq!(stream.wire, b"hello, world");
//! assert_eq!(pool.lent(), 0);
//! ```
//!
//! A request/response server does the same with a pool of [`LinearBuf`]s: it parses
//! the scratch in place, moves an incomplete request into a lent buffer, and reads that
//! connection into its buffer (`try_read_buf`) until the request is whole.
//!
//! # How the ports use them
//! A port reads into the free space [`MutBuf::chunks_mut`] exposes and then calls
//! [`MutBuf::commit`]; it writes from the filled space [`Buf::chunks`] exposes and
//! then calls [`Buf::advance`]. Each side is at most two contiguous regions (a ring's
//! region may wrap once), so one `readv`/`writev` moves all of it: the only copy is the
//! kernel's (no double buffering, as mio 0.2 promised).
//!
//! # Failure modes
//! None panic. A full buffer takes no more bytes: [`MutBuf::try_write_all`] writes all
//! of its slice or, with [`NoRoom`], nothing; [`MutBuf::write_truncating`] writes what
//! fits and returns how much (possibly 0). An empty buffer gives no bytes.
//! [`Buf::advance`] and [`MutBuf::commit`] never move past what there is: they return
//! how far they moved. An empty [`BufPool`] lends nothing ([`PoolEmpty`]).
//!
//! # Costs
//! Every operation is O(1) besides the copies of `read_slice`/`write_*` and a
//! [`LinearBuf`]'s compaction. A `RingBuf<N>` or `LinearBuf<N>` is `N` bytes plus two
//! `usize`s; their `new` is `const` and all zero bytes, so a `static` one sits in `.bss`
//! and costs no resident memory until used. A buffer that empties restarts at offset
//! 0, so the next fill is contiguous.

mod linear;
mod pool;
#[cfg(test)]
mod pool_tests;
mod ring;
mod slice;
#[cfg(test)]
mod tests;

use core::fmt;

pub use linear::LinearBuf;
pub use pool::{BufPool, LentBuf, PoolBuf, PoolEmpty};
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

    /// Copies all of `src` and commits it, or nothing when it does not fit: a message
    /// is never cut.
    ///
    /// # Errors
    /// [`NoRoom`] when `src` is longer than [`remaining_mut`](Self::remaining_mut); the
    /// buffer is unchanged then.
    fn try_write_all(&mut self, src: &[u8]) -> Result<(), NoRoom> {
        let free = self.remaining_mut();
        if src.len() > free {
            return Err(NoRoom {
                needed: src.len(),
                free,
            });
        }
        self.write_truncating(src);
        Ok(())
    }

    /// Copies as much of `src` as fits and commits it, leaving the rest out; returns
    /// how many bytes it took: `src.len().min(self.remaining_mut())`. For a message that
    /// must go whole, use [`try_write_all`](Self::try_write_all).
    fn write_truncating(&mut self, src: &[u8]) -> usize {
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

/// A write that [`MutBuf::try_write_all`] refused, with nothing written: the bytes do
/// not fit in the buffer's free space.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NoRoom {
    /// How many bytes the write had.
    pub needed: usize,
    /// How many bytes were free.
    pub free: usize,
}

impl fmt::Display for NoRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {}-byte write does not fit in the buffer's {} free bytes; nothing was written",
            self.needed, self.free
        )
    }
}

impl core::error::Error for NoRoom {}
