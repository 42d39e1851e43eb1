//! Reads straight into a [`MutBuf`]'s free space and writes straight from a [`Buf`]'s
//! filled space, generic over the stream [`Kind`]: the kind's own one-region call for a
//! contiguous region, a vectored call with two `iovec`s only when a ring's region wraps.
//! The kernel's copy is the only one.
//!
//! | call | one region | two regions (wrapped) |
//! |---|---|---|
//! | [`read_buf`] (sockets / pipes) | `recv` / `read` | `readv` |
//! | [`write_buf`] (sockets / pipes) | `send` / `write` | `sendmsg` / `writev` |
//!
//! Sockets write with `send`/`sendmsg`, not `write`/`writev`, because only the send
//! calls take `MSG_NOSIGNAL` (send(2)); `writev` to a reset peer would raise `SIGPIPE`.
//! The one-region calls are the common case (a ring that empties restarts at offset 0)
//! and cheaper in the kernel than their vectored forms, which copy and check an `iovec`
//! array first.

use statio_core::buf::{Buf, MutBuf};

use crate::Fd;
use crate::error::check_retry;
use crate::net::Result;
use crate::net::socket::{IO_MAX, SEND_FLAGS, no_room, would_block};
use crate::net::stream::Kind;

/// Two `iovec`s over `first` and `second`, clamped so their sum stays within
/// [`IO_MAX`]; the count to pass is 1 when `second` is empty.
pub(crate) fn iovecs(
    first: (*mut u8, usize),
    second: (*mut u8, usize),
) -> ([libc::iovec; 2], usize) {
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

/// Reads into `buf`'s free space and commits what arrived: `Ok(Some(n))` bytes
/// (0: end of stream), `Ok(None)` when nothing is available.
///
/// # Errors
/// `InvalidInput` when `buf` is full (no call is made); what the read refused.
pub(crate) fn read_buf<K: Kind, B: MutBuf + ?Sized>(fd: &Fd, buf: &mut B) -> Result<Option<usize>> {
    if !buf.has_remaining_mut() {
        return Err(no_room());
    }
    let (first, second) = buf.chunks_mut();
    let n = if second.is_empty() {
        K::read(fd, first)?
    } else {
        let (vecs, count) = iovecs(
            (first.as_mut_ptr(), first.len()),
            (second.as_mut_ptr(), second.len()),
        );
        // SAFETY: each of the first `count` iovecs spans memory borrowed mutably from
        // `buf` for the call (the borrows end before `commit`); `count` is 1 or 2.
        would_block(check_retry(|| unsafe {
            libc::readv(fd.raw(), vecs.as_ptr(), count as libc::c_int)
        }))?
        .map(|n| n as usize)
    };
    Ok(n.map(|n| buf.commit(n)))
}

/// Writes from `buf`'s filled space and consumes what was taken: `Ok(Some(n))`,
/// `Ok(Some(0))` for an empty `buf` (no call is made), `Ok(None)` when there is no room.
pub(crate) fn write_buf<K: Kind, B: Buf + ?Sized>(fd: &Fd, buf: &mut B) -> Result<Option<usize>> {
    if !buf.has_remaining() {
        return Ok(Some(0));
    }
    let (first, second) = buf.chunks();
    let n = if second.is_empty() {
        K::write(fd, first)?
    } else {
        K::write_vectored(fd, first, second)?
    };
    Ok(n.map(|n| buf.advance(n)))
}

/// Two `iovec`s over the readable `first` and `second` (the kernel only reads through
/// these pointers: `*mut` is what iovec's type demands), and the count to pass.
fn read_only_iovecs(first: &[u8], second: &[u8]) -> ([libc::iovec; 2], usize) {
    iovecs(
        (first.as_ptr().cast_mut(), first.len()),
        (second.as_ptr().cast_mut(), second.len()),
    )
}

/// Sends `first` then `second` with [`SEND_FLAGS`] (no `SIGPIPE`): one `sendmsg`.
pub(crate) fn sendmsg(fd: &Fd, first: &[u8], second: &[u8]) -> Result<Option<usize>> {
    let (mut vecs, count) = read_only_iovecs(first, second);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header (no name, no
    // control data), and only its iovec fields are set below.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = vecs.as_mut_ptr();
    // size_t on glibc, int on musl: `count` is 1 or 2 either way.
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at `count` iovecs spanning `first` and `second`, borrowed for
    // the call; sendmsg(2) only reads them.
    would_block(check_retry(|| unsafe {
        libc::sendmsg(fd.raw(), &msg, SEND_FLAGS)
    }))
    .map(|n| n.map(|n| n as usize))
}

/// Writes `first` then `second`: one `writev`, for pipes, where a closed reader raises
/// `SIGPIPE` (see [`pipe::Sender`](crate::net::pipe::Sender)).
pub(crate) fn writev(fd: &Fd, first: &[u8], second: &[u8]) -> Result<Option<usize>> {
    let (vecs, count) = read_only_iovecs(first, second);
    // SAFETY: the first `count` iovecs span `first` and `second`, borrowed for the call;
    // writev(2) only reads them.
    would_block(check_retry(|| unsafe {
        libc::writev(fd.raw(), vecs.as_ptr(), count as libc::c_int)
    }))
    .map(|n| n.map(|n| n as usize))
}

#[cfg(test)]
mod tests {
    use statio_core::buf::{Buf, BufPool, LinearBuf, MutBuf, MutSliceBuf, RingBuf, SliceBuf};

    use crate::net::test_util::*;
    use crate::net::{UnixStream, pipe};

    #[test]
    fn socket_reads_into_both_regions_and_writes_from_both() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut ring = ring_with_wrapped_room();
        assert_eq!(a.try_write(b"0123456789").unwrap(), Some(10));
        let n = when_readable(b.as_raw_fd(), || b.try_read_buf(&mut ring));
        assert_eq!(n, 6, "one readv fills both free regions");
        assert!(ring.is_full());
        assert_eq!(ring.chunks(), (&b"ef01"[..], &b"2345"[..]));
        // Full: no call, and no 0 that would read as end of stream.
        let full = b.try_read_buf(&mut ring).unwrap_err();
        assert_eq!(full.kind(), embedded_io::ErrorKind::InvalidInput);

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
        let mut ring = ring_with_wrapped_room();
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
        let mut ring = ring_with_wrapped_room();
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
