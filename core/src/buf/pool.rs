//! [`BufPool`]: a fixed set of buffers, lent to a connection only while it holds bytes
//! it could not send or parse at once.

use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::ops::{Deref, DerefMut};

use super::{Buf, LinearBuf, MutBuf, RingBuf};
use crate::mark::Mark;
use crate::zeroed::assert_zero_bytes;

mod sealed {
    /// Keeps [`PoolBuf`](super::PoolBuf) to the buffers whose empty value is zero bytes.
    pub trait Sealed {}
}

/// A buffer a [`BufPool`] holds: [`RingBuf`] or [`LinearBuf`], whose empty value is
/// all zero bytes (so an unused pool is, too).
pub trait PoolBuf: Buf + MutBuf + sealed::Sealed {
    /// The empty buffer.
    const EMPTY: Self;

    /// Drops every byte the buffer holds.
    fn clear(&mut self);
}

impl<const N: usize> sealed::Sealed for RingBuf<N> {}

impl<const N: usize> PoolBuf for RingBuf<N> {
    const EMPTY: Self = RingBuf::new();

    fn clear(&mut self) {
        RingBuf::clear(self);
    }
}

impl<const N: usize> sealed::Sealed for LinearBuf<N> {}

impl<const N: usize> PoolBuf for LinearBuf<N> {
    const EMPTY: Self = LinearBuf::new();

    fn clear(&mut self) {
        LinearBuf::clear(self);
    }
}

/// `N` buffers of type `B`, lent one at a time as [`LentBuf`]s and returned when those
/// are dropped; the [`buf` module docs](super) show the pattern it serves.
///
/// # When the pool is empty
/// [`BufPool::lend`] returns [`PoolEmpty`]: never a panic, never an allocation. Lend
/// the buffer *before* reading, as the [`buf` example](super) does (lending and returning an unused buffer touch
/// none of its memory), so a connection is read only when its leftover has a place and
/// no byte is ever lost. Without one, stop reading that connection (drop readable from
/// its level-triggered interest; under edge-triggering, just do not read) and read it
/// again once a [`LentBuf`] is dropped: its bytes wait in the kernel's receive buffer,
/// and TCP's flow control slows its sender. The other connections go on as before.
///
/// # Lent buffers
/// A [`LentBuf`] is the one handle to its buffer. It derefs to the buffer
/// ([`RingBuf`] or [`LinearBuf`]) and implements [`Buf`] and [`MutBuf`], so a socket's
/// `try_read_buf`/`try_write_buf` move bytes straight between it and the kernel
/// (`readv`/`sendmsg` with two regions when a ring wraps). Dropping it returns the
/// buffer, emptied, to the pool: it cannot be returned twice, and it goes back when the
/// connection holding it is dropped or removed from its table. Only `mem::forget`
/// keeps a buffer from its pool ([`BufPool::lent`] counts it for ever).
///
/// # Memory
/// [`BufPool::new`] is `const` and all zero bytes, so a pool in a `ConstStaticCell`
/// sits in `.bss`. Buffers are taken in order the first time and last-in, first-out
/// after, so the buffers in use are the few most recently returned: the ones ever used
/// are as many as were ever lent at once ([`BufPool::peak_lent`]), and the pages of the
/// others are never touched. Lending and returning never touch a buffer's bytes or
/// counters (a returned buffer is emptied only if it was written to); the pool's own
/// bookkeeping (4 bytes a buffer, counters and marks) comes after the buffers. For each
/// buffer to have pages of its own, give it a size that is a multiple of the page
/// (`RingBuf<4080>` and `LinearBuf<4080>` are 4 KiB on 64-bit targets) and start the
/// pool at a page boundary (a `#[repr(align(4096))]` wrapper).
///
/// A pool is not `Sync`: the thread of one loop lends and returns its buffers.
// C layout: the buffers first, where an aligned pool puts them at a page boundary, and
// the bookkeeping after them.
#[repr(C)]
pub struct BufPool<B, const N: usize> {
    /// Buffer `i` is reached only through the one `LentBuf` holding `i`, if any.
    buffers: [UnsafeCell<B>; N],
    /// While buffer `i` is free and was lent before: the index + 1 of the next such
    /// buffer, 0 for none.
    next_free: [Cell<u32>; N],
    /// The index + 1 of the most recently returned buffer, 0 for none.
    free_head: Cell<u32>,
    /// Buffers `never_used..N` have never been lent.
    never_used: Cell<u32>,
    /// How many buffers are lent now.
    lent: Cell<u32>,
    /// The most buffers lent at once since the last `reset_marks` (`Mark::peak`).
    peak: Cell<u32>,
    /// `lend` calls refused with `PoolEmpty` since the last `reset_marks`, saturating
    /// (a `u32`: a `u64` would leave padding, which is not zero bytes in a `const`).
    empty: Cell<u32>,
}

assert_zero_bytes!(
    // Three 24-byte rings: the probe has no padding, so every byte is checked.
    BufPool::<RingBuf<8>, 3>::new(),
    "BufPool::new() must be all zero bytes, or a static pool lands in .data"
);

impl<B: PoolBuf, const N: usize> BufPool<B, N> {
    const FITS: () = assert!(
        N as u64 <= WRITTEN as u64,
        "a BufPool holds at most 2^31 buffers"
    );

    /// Bytes a `BufPool<B, N>` occupies: exactly `size_of::<Self>()`, `N` buffers
    /// ([`RingBuf::MEMORY`] or [`LinearBuf::MEMORY`] each), 4 bytes of free list a
    /// buffer, and the pool's counters.
    pub const MEMORY: usize = size_of::<Self>();

    /// A pool of `N` empty buffers: `const` and all zero bytes.
    pub const fn new() -> Self {
        let () = Self::FITS;
        BufPool {
            buffers: [const { UnsafeCell::new(B::EMPTY) }; N],
            next_free: [const { Cell::new(0) }; N],
            free_head: Cell::new(0),
            never_used: Cell::new(0),
            lent: Cell::new(0),
            peak: Cell::new(0),
            empty: Cell::new(0),
        }
    }

    /// Lends an empty buffer: the one most recently returned, or else one never used.
    ///
    /// # Errors
    /// [`PoolEmpty`] when all `N` buffers are lent; see [`BufPool`] for what
    /// a server does then.
    pub fn lend(&self) -> Result<LentBuf<'_, B, N>, PoolEmpty> {
        let head = self.free_head.get();
        let index = if head != 0 {
            let index = head - 1;
            self.free_head.set(self.next_free[index as usize].get());
            index
        } else if (self.never_used.get() as usize) < N {
            let index = self.never_used.get();
            self.never_used.set(index + 1);
            index
        } else {
            self.empty.set(self.empty.get().saturating_add(1));
            return Err(PoolEmpty { capacity: N });
        };
        let lent = self.lent.get() + 1;
        self.lent.set(lent);
        self.peak.set(self.peak.get().max(lent));
        Ok(LentBuf { pool: self, index })
    }

    /// How many buffers are lent now.
    pub fn lent(&self) -> usize {
        self.lent.get() as usize
    }

    /// How many buffers [`lend`](Self::lend) can hand out now.
    pub fn available(&self) -> usize {
        N - self.lent()
    }

    /// The most buffers ever lent at once: all the buffers ever used (LIFO reuse
    /// takes a new one only when all used ones are lent), so the rest of the pool's
    /// memory has never been touched. [`marks`](Self::marks) has the same peak, over a
    /// window that [`reset_marks`](Self::reset_marks) restarts.
    pub fn peak_lent(&self) -> usize {
        self.never_used.get() as usize
    }

    /// Buffers lent now and at their peak since the pool was made or
    /// [`reset_marks`](Self::reset_marks); limit hits are `lend` calls refused with
    /// [`PoolEmpty`] (each a connection that had to wait, or was refused).
    pub fn marks(&self) -> Mark {
        Mark {
            now: self.lent(),
            peak: self.peak.get() as usize,
            capacity: N,
            limit_hits: u64::from(self.empty.get()),
        }
    }

    /// Starts a new window of [`marks`](Self::marks): the peak is what is lent now,
    /// no limit hits.
    pub fn reset_marks(&self) {
        self.peak.set(self.lent.get());
        self.empty.set(0);
    }

    /// How many buffers the pool holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Takes buffer `index` back (from [`LentBuf`]'s drop): first on the free list.
    fn give_back(&self, index: u32) {
        self.next_free[index as usize].set(self.free_head.get());
        self.free_head.set(index + 1);
        self.lent.set(self.lent.get() - 1);
    }
}

impl<B: PoolBuf, const N: usize> Default for BufPool<B, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B, const N: usize> fmt::Debug for BufPool<B, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufPool")
            .field("capacity", &N)
            .field("lent", &self.lent.get())
            .field("peak_lent", &self.never_used.get())
            .field("peak", &self.peak.get())
            .field("empty", &self.empty.get())
            .finish()
    }
}

/// One buffer of a [`BufPool`], lent: empty at first, returned (emptied) when dropped.
/// Derefs to the buffer and reads and writes as it ([`Buf`], [`MutBuf`]). 16 bytes on
/// 64-bit targets, and so is an `Option` of it, whose `None` is all zero bytes (the
/// null `pool`), so an array of them can be in `.bss`.
pub struct LentBuf<'p, B: PoolBuf, const N: usize> {
    pool: &'p BufPool<B, N>,
    /// The buffer's index, plus [`WRITTEN`] once the buffer may hold bytes or moved
    /// counters (if not, returning it touches none of its memory). A `u32` has no
    /// invalid value, so `Option` takes the reference's null as its `None`; a `bool`
    /// field would lend it its niche, and `None` would be a non-zero byte.
    index: u32,
}

/// [`LentBuf::index`]'s flag: the buffer was reached mutably.
const WRITTEN: u32 = 1 << 31;

impl<B: PoolBuf, const N: usize> LentBuf<'_, B, N> {
    /// Which of the pool's buffers this is, `0..N`.
    pub fn index(&self) -> usize {
        (self.index & !WRITTEN) as usize
    }

    fn buf(&self) -> &B {
        // SAFETY: `lend` hands out each index to one `LentBuf` at a time (it is taken
        // off the free list, or past `never_used`, until this handle's drop gives it
        // back), and the pool itself never reaches a lent buffer. So the only access
        // to this buffer is through `self`, and `&self` makes it shared.
        unsafe { &*self.pool.buffers[self.index()].get() }
    }

    fn buf_mut(&mut self) -> &mut B {
        self.index |= WRITTEN;
        // SAFETY: as in `buf`; `&mut self` makes the access exclusive.
        unsafe { &mut *self.pool.buffers[self.index()].get() }
    }
}

impl<B: PoolBuf, const N: usize> Drop for LentBuf<'_, B, N> {
    fn drop(&mut self) {
        if self.index & WRITTEN != 0 {
            self.buf_mut().clear();
        }
        self.pool.give_back(self.index() as u32);
    }
}

impl<B: PoolBuf, const N: usize> Deref for LentBuf<'_, B, N> {
    type Target = B;

    fn deref(&self) -> &B {
        self.buf()
    }
}

impl<B: PoolBuf, const N: usize> DerefMut for LentBuf<'_, B, N> {
    fn deref_mut(&mut self) -> &mut B {
        self.buf_mut()
    }
}

impl<B: PoolBuf, const N: usize> Buf for LentBuf<'_, B, N> {
    fn remaining(&self) -> usize {
        self.buf().remaining()
    }
    fn chunks(&self) -> (&[u8], &[u8]) {
        self.buf().chunks()
    }
    fn advance(&mut self, n: usize) -> usize {
        self.buf_mut().advance(n)
    }
}

impl<B: PoolBuf, const N: usize> MutBuf for LentBuf<'_, B, N> {
    fn remaining_mut(&self) -> usize {
        self.buf().remaining_mut()
    }
    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        self.buf_mut().chunks_mut()
    }
    fn commit(&mut self, n: usize) -> usize {
        self.buf_mut().commit(n)
    }
}

impl<B: PoolBuf + fmt::Debug, const N: usize> fmt::Debug for LentBuf<'_, B, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LentBuf")
            .field("index", &self.index())
            .field("buf", self.buf())
            .finish()
    }
}

/// [`BufPool::lend`] found every buffer lent. Nothing was lent; see
/// [`BufPool`] for what a server does then.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PoolEmpty {
    /// The pool's size: all of its buffers are lent.
    pub capacity: usize,
}

impl fmt::Display for PoolEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "all {} buffers of the pool are lent; one returns when its holder drops it",
            self.capacity
        )
    }
}

impl core::error::Error for PoolEmpty {}
