//! Reads straight into a [`MutBuf`]'s free space and writes straight from a [`Buf`]'s
//! filled space: one `read`/`recv`-sized call for a contiguous region, `readv` or
//! `sendmsg`/`writev` with two `iovec`s when a ring's region wraps. The kernel's copy
//! is the only one.
//!
//! | call | one region | two regions (wrapped) |
//! |---|---|---|
//! | [`read_buf`] (sockets, pipes) | `read` | `readv` |
//! | [`send_buf`] (sockets) | `send` with `MSG_NOSIGNAL` | `sendmsg` with `MSG_NOSIGNAL` |
//! | [`write_buf`] (pipes) | `write` | `writev` |
//!
//! Sockets write with `sendmsg`, not `writev`, because only the send calls take
//! `MSG_NOSIGNAL` (send(2)); `writev` to a reset peer would raise `SIGPIPE`.

use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::error::check_retry;
use crate::net::Result;
use crate::net::socket::{IO_MAX, SEND_FLAGS, would_block};

/// Two `iovec`s over `first` and `second`, clamped so their sum stays within
/// [`IO_MAX`]; the count to pass is 1 when `second` is empty.
fn iovecs(first: (*mut u8, usize), second: (*mut u8, usize)) -> ([libc::iovec; 2], usize) {
    let a = first.1.min(IO_MAX);
    let b = second.1.min(IO_MAX - a);
    let vecs = [
        libc::iovec {
            iov_base: first.0.cast(),
            iov_len: a,
        },
        libc::iovec {
            iov_base: second.0.cast(),
            iov_len: b,
        },
    ];
    (vecs, if b == 0 { 1 } else { 2 })
}

/// Reads into `buf`'s free space and commits what arrived: `Ok(Some(n))` bytes,
/// `Ok(Some(0))` at end of stream or when `buf` is full (no call is made then),
/// `Ok(None)` when nothing is available.
pub(crate) fn read_buf<B: MutBuf + ?Sized>(fd: &Fd, buf: &mut B) -> Result<Option<usize>> {
    if !buf.has_remaining_mut() {
        return Ok(Some(0));
    }
    let (first, second) = buf.chunks_mut();
    let (vecs, count) = iovecs(
        (first.as_mut_ptr(), first.len()),
        (second.as_mut_ptr(), second.len()),
    );
    // SAFETY: each of the first `count` iovecs spans memory borrowed mutably from `buf`
    // for the call (the borrows end before `commit`); `count` is 1 or 2.
    let n = would_block(check_retry(|| unsafe {
        libc::readv(fd.raw(), vecs.as_ptr(), count as libc::c_int)
    }))?;
    Ok(n.map(|n| buf.commit(n as usize)))
}

/// Sends from `buf`'s filled space with [`SEND_FLAGS`] (no `SIGPIPE`) and consumes
/// what was taken: `Ok(Some(n))`, `Ok(Some(0))` for an empty `buf` (no call is made),
/// `Ok(None)` when the send buffer is full.
pub(crate) fn send_buf<B: Buf + ?Sized>(fd: &Fd, buf: &mut B) -> Result<Option<usize>> {
    if !buf.has_remaining() {
        return Ok(Some(0));
    }
    let (first, second) = buf.chunks();
    // The kernel only reads through these pointers: *mut is what iovec's type demands.
    let (mut vecs, count) = iovecs(
        (first.as_ptr().cast_mut(), first.len()),
        (second.as_ptr().cast_mut(), second.len()),
    );
    // SAFETY: msghdr is plain data; all-zero is a valid empty header (no name, no
    // control data), and only its iovec fields are set below.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = vecs.as_mut_ptr();
    // size_t on glibc, int on musl: `count` is 1 or 2 either way.
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at `count` iovecs spanning memory borrowed from `buf` for the
    // call; sendmsg(2) only reads them.
    let n = would_block(check_retry(|| unsafe {
        libc::sendmsg(fd.raw(), &msg, SEND_FLAGS)
    }))?;
    Ok(n.map(|n| buf.advance(n as usize)))
}

/// Writes from `buf`'s filled space (`write`/`writev`, for pipes) and consumes what was
/// taken: as [`send_buf`], but a closed reader raises `SIGPIPE` (see
/// [`pipe::Sender::try_write`](crate::net::pipe::Sender::try_write)).
pub(crate) fn write_buf<B: Buf + ?Sized>(fd: &Fd, buf: &mut B) -> Result<Option<usize>> {
    if !buf.has_remaining() {
        return Ok(Some(0));
    }
    let (first, second) = buf.chunks();
    let (vecs, count) = iovecs(
        (first.as_ptr().cast_mut(), first.len()),
        (second.as_ptr().cast_mut(), second.len()),
    );
    // SAFETY: the first `count` iovecs span memory borrowed from `buf` for the call;
    // writev(2) only reads them.
    let n = would_block(check_retry(|| unsafe {
        libc::writev(fd.raw(), vecs.as_ptr(), count as libc::c_int)
    }))?;
    Ok(n.map(|n| buf.advance(n as usize)))
}

#[cfg(test)]
mod tests {
    use statio_core::buf::{Buf, BufPool, LinearBuf, MutBuf, MutSliceBuf, RingBuf, SliceBuf};

    use crate::net::test_util::*;
    use crate::net::{UnixStream, pipe};

    /// A ring of 8 holding "ef" at offsets 4..6: its free space wraps (6..8, 0..4).
    fn wrapped_ring() -> RingBuf<8> {
        let mut ring = RingBuf::new();
        ring.write_truncating(b"abcdef");
        ring.advance(4);
        let (first, second) = ring.chunks_mut();
        assert_eq!((first.len(), second.len()), (2, 4));
        ring
    }

    #[test]
    fn socket_reads_into_both_regions_and_writes_from_both() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut ring = wrapped_ring();
        assert_eq!(a.try_write(b"0123456789").unwrap(), Some(10));
        let n = when_readable(b.as_raw_fd(), || b.try_read_buf(&mut ring));
        assert_eq!(n, 6, "one readv fills both free regions");
        assert!(ring.is_full());
        assert_eq!(ring.chunks(), (&b"ef01"[..], &b"2345"[..]));
        // Full: no call, Some(0).
        assert_eq!(b.try_read_buf(&mut ring).unwrap(), Some(0));

        assert_eq!(b.try_write_buf(&mut ring).unwrap(), Some(8));
        assert!(ring.is_empty());
        let mut out = [0u8; 16];
        let n = when_readable(a.as_raw_fd(), || a.try_read(&mut out));
        assert_eq!(&out[..n], b"ef012345");
        // Empty: no call, Some(0).
        assert_eq!(b.try_write_buf(&mut ring).unwrap(), Some(0));
        // The rest of the first write is still there.
        let n = when_readable(b.as_raw_fd(), || b.try_read_buf(&mut ring));
        assert_eq!(n, 4);
        assert_eq!(ring.chunks().0, b"6789");
    }

    #[test]
    fn would_block_leaves_the_buffer_alone() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut ring = wrapped_ring();
        assert_eq!(a.try_read_buf(&mut ring).unwrap(), None);
        assert_eq!(ring.len(), 2);
        // Fill the socket, then a buffered write would block and consumes nothing.
        let chunk = [1u8; 4096];
        let full = (0..10_000).any(|_| a.try_write(&chunk).unwrap().is_none());
        assert!(full, "send never blocked");
        assert_eq!(a.try_write_buf(&mut ring).unwrap(), None);
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn pipe_reads_and_writes_wrapped_rings() {
        let (rx, tx) = pipe().unwrap();
        let mut ring = wrapped_ring();
        assert_eq!(
            tx.try_write_buf(&mut SliceBuf::new(b"0123456789")).unwrap(),
            Some(10)
        );
        let n = when_readable(rx.as_raw_fd(), || rx.try_read_buf(&mut ring));
        assert_eq!(n, 6);
        assert_eq!(tx.try_write_buf(&mut ring).unwrap(), Some(8));
        let mut storage = [0u8; 16];
        let mut out = MutSliceBuf::new(&mut storage);
        let n = when_readable(rx.as_raw_fd(), || rx.try_read_buf(&mut out));
        assert_eq!(n, 12);
        assert_eq!(out.filled(), b"6789ef012345");
    }

    #[test]
    fn lent_buffers_read_and_write_both_regions() {
        let pool: BufPool<RingBuf<8>, 1> = BufPool::new();
        let mut lent = pool.lend().unwrap();
        lent.try_write_all(b"abcdef").unwrap();
        lent.advance(4);
        let (a, b) = UnixStream::pair().unwrap();
        assert_eq!(a.try_write(b"0123456789").unwrap(), Some(10));
        let n = when_readable(b.as_raw_fd(), || b.try_read_buf(&mut lent));
        assert_eq!(n, 6, "one readv fills both free regions");
        assert_eq!(lent.chunks(), (&b"ef01"[..], &b"2345"[..]));
        assert_eq!(b.try_write_buf(&mut lent).unwrap(), Some(8));
        let mut out = [0u8; 16];
        let n = when_readable(a.as_raw_fd(), || a.try_read(&mut out));
        assert_eq!(&out[..n], b"ef012345");
        drop(lent);
        assert_eq!(pool.lent(), 0);
    }

    #[test]
    fn linear_buf_reads_after_its_head_was_consumed() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut input: LinearBuf<8> = LinearBuf::new();
        input.try_write_all(b"GET /\nG").unwrap();
        input.advance(6); // parsed one line; "G" waits for the rest
        assert_eq!(a.try_write(b"ET /xy\n").unwrap(), Some(7));
        let n = when_readable(b.as_raw_fd(), || b.try_read_buf(&mut input));
        assert_eq!(n, 7, "all 7 free bytes, in one slice after compaction");
        assert_eq!(input.filled(), b"GET /xy\n");
    }
}
