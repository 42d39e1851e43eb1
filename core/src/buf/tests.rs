//! Model tests: every buffer against a `VecDeque` reference, and the edge cases by name.
//! (The pool's own tests are in `pool_tests.rs`.)

extern crate std;

use proptest::prelude::*;
use std::collections::VecDeque;
use std::vec::Vec;

use super::*;

/// Everything `buf` holds, in order, through `chunks`, checking the chunk invariants.
fn contents(buf: &impl Buf) -> Vec<u8> {
    let (first, second) = buf.chunks();
    assert_eq!(first.len() + second.len(), buf.remaining());
    assert!(
        !first.is_empty() || second.is_empty(),
        "first chunk empty, second not"
    );
    [first, second].concat()
}

#[test]
fn zero_capacity_ring_is_empty_and_full() {
    let mut ring: RingBuf<0> = RingBuf::new();
    assert!(ring.is_empty() && ring.is_full());
    assert_eq!(ring.write_truncating(b"x"), 0);
    assert_eq!(ring.commit(1), 0);
    assert_eq!(ring.advance(1), 0);
    let (a, b) = ring.chunks_mut();
    assert!(a.is_empty() && b.is_empty());
    assert_eq!(ring.chunks(), (&[][..], &[][..]));
}

#[test]
fn free_space_wraps_and_fills_in_order() {
    let mut ring: RingBuf<8> = RingBuf::new();
    assert_eq!(ring.write_truncating(b"abcdef"), 6);
    assert_eq!(ring.advance(4), 4);
    // Free: offsets 6..8, then 0..4.
    let (first, second) = ring.chunks_mut();
    assert_eq!((first.len(), second.len()), (2, 4));
    first.copy_from_slice(b"gh");
    second[..3].copy_from_slice(b"ijk");
    assert_eq!(ring.commit(5), 5);
    assert_eq!(ring.chunks(), (&b"efgh"[..], &b"ijk"[..]));
    assert_eq!(ring.remaining_mut(), 1);
}

#[test]
fn emptied_ring_restarts_contiguous() {
    let mut ring: RingBuf<8> = RingBuf::new();
    ring.write_truncating(b"abcde");
    ring.advance(5);
    let (first, second) = ring.chunks_mut();
    assert_eq!((first.len(), second.len()), (8, 0));
}

#[test]
fn commit_and_advance_stop_at_the_edges() {
    let mut ring: RingBuf<4> = RingBuf::new();
    assert_eq!(ring.commit(10), 4);
    assert!(ring.is_full());
    assert_eq!(ring.write_truncating(b"z"), 0);
    assert_eq!(ring.advance(10), 4);
    assert_eq!(ring.read_slice(&mut [0; 4]), 0);
}

#[test]
fn slice_bufs() {
    let mut src = SliceBuf::new(b"hello world");
    let mut storage = [0u8; 8];
    let mut dst = MutSliceBuf::new(&mut storage);
    let (chunk, _) = src.chunks();
    let n = dst.write_truncating(chunk);
    assert_eq!(src.advance(n), 8);
    assert_eq!(dst.filled(), b"hello wo");
    assert_eq!(src.rest(), b"rld");
    assert_eq!(src.position(), 8);
    assert_eq!(dst.write_truncating(b"more"), 0);
    assert_eq!(dst.commit(1), 0);
    dst.clear();
    assert_eq!(dst.write_truncating(b"again"), 5);
    assert_eq!(dst.into_filled(), b"again");
    assert_eq!(src.advance(99), 3);
    assert!(!src.has_remaining());
}

#[test]
fn try_write_all_writes_nothing_when_it_does_not_fit() {
    let mut ring: RingBuf<8> = RingBuf::new();
    ring.try_write_all(b"abcde").unwrap();
    let err = ring.try_write_all(b"fghi").unwrap_err();
    assert_eq!(err, NoRoom { needed: 4, free: 3 });
    assert_eq!(
        std::format!("{err}"),
        "a 4-byte write does not fit in the buffer's 3 free bytes; nothing was written"
    );
    assert_eq!(ring.chunks(), (&b"abcde"[..], &b""[..]));
    ring.try_write_all(b"fgh").unwrap();
    assert!(ring.is_full());
    ring.try_write_all(b"").unwrap();
}

#[test]
fn linear_buf_parses_the_head_and_compacts_for_the_tail() {
    let mut input: LinearBuf<8> = LinearBuf::new();
    input.try_write_all(b"ab\ncd").unwrap();
    assert_eq!(input.advance(3), 3);
    assert_eq!(input.filled(), b"cd");
    // Only 2 bytes free at the tail, but 6 in all: `chunks_mut` moves "cd" to the front.
    assert_eq!(input.remaining_mut(), 6);
    let (free, none) = input.chunks_mut();
    assert_eq!((free.len(), none.len()), (6, 0));
    free[..3].copy_from_slice(b"efg");
    assert_eq!(input.commit(3), 3);
    assert_eq!(input.chunks(), (&b"cdefg"[..], &b""[..]));
    // Committing without `chunks_mut` after a consume compacts too, never past the end.
    input.advance(4);
    assert_eq!(input.commit(7), 7);
    assert!(input.is_full());
    assert_eq!(input.filled()[0], b'g');
    assert_eq!(input.commit(1), 0);
    assert_eq!(input.advance(8), 8);
    assert!(input.is_empty());
}

#[test]
fn zero_capacity_linear_buf_is_empty_and_full() {
    let mut input: LinearBuf<0> = LinearBuf::new();
    assert!(input.is_empty() && input.is_full());
    assert!(input.try_write_all(b"x").is_err());
    assert_eq!(input.commit(1), 0);
    assert_eq!(input.chunks_mut().0.len(), 0);
}

#[derive(Debug, Clone)]
enum Op {
    /// `write_truncating` of these bytes.
    Write(Vec<u8>),
    /// `try_write_all` of these bytes.
    WriteAll(Vec<u8>),
    /// Fill this many bytes through `chunks_mut` + `commit`, as a port's readv does.
    Fill(usize, u8),
    /// `read_slice` into a buffer of this size.
    Read(usize),
    /// `advance` this far, as a port does after writev.
    Advance(usize),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Op::Write),
        2 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(Op::WriteAll),
        2 => (0usize..24, any::<u8>()).prop_map(|(n, b)| Op::Fill(n, b)),
        3 => (0usize..24).prop_map(Op::Read),
        2 => (0usize..24).prop_map(Op::Advance),
        1 => Just(Op::Clear),
    ]
}

const CASES: u32 = if cfg!(miri) { 8 } else { 2_000 };

/// A buffer under test, which `Op::Clear` empties.
trait Clear: Buf + MutBuf {
    fn clear_all(&mut self);
}

impl<B: PoolBuf> Clear for B {
    fn clear_all(&mut self) {
        self.clear();
    }
}

impl<B: PoolBuf, const N: usize> Clear for LentBuf<'_, B, N> {
    fn clear_all(&mut self) {
        (**self).clear();
    }
}

/// Applies `op` to `ring`, a buffer of `cap` bytes, and to the model; they must agree
/// after every step.
fn step<B: Clear>(ring: &mut B, cap: usize, model: &mut VecDeque<u8>, op: Op) {
    let free = cap - model.len();
    match op {
        Op::Write(bytes) => {
            let n = ring.write_truncating(&bytes);
            assert_eq!(n, bytes.len().min(free));
            model.extend(&bytes[..n]);
        }
        Op::WriteAll(bytes) => match ring.try_write_all(&bytes) {
            Ok(()) => model.extend(&bytes),
            Err(err) => assert_eq!(
                err,
                NoRoom {
                    needed: bytes.len(),
                    free
                }
            ),
        },
        Op::Fill(n, byte) => {
            let (first, second) = ring.chunks_mut();
            assert_eq!(first.len() + second.len(), free);
            assert!(!first.is_empty() || second.is_empty());
            let mut k = 0u8;
            for b in first.iter_mut().chain(second.iter_mut()).take(n) {
                *b = byte.wrapping_add(k);
                k = k.wrapping_add(1);
            }
            let committed = ring.commit(n);
            assert_eq!(committed, n.min(free));
            model.extend((0..committed).map(|i| byte.wrapping_add(i as u8)));
        }
        Op::Read(n) => {
            let mut out = std::vec![0u8; n];
            let got = ring.read_slice(&mut out);
            let want: Vec<u8> = model.drain(..n.min(model.len())).collect();
            assert_eq!(&out[..got], &want[..]);
        }
        Op::Advance(n) => {
            let want = n.min(model.len());
            assert_eq!(ring.advance(n), want);
            model.drain(..want);
        }
        Op::Clear => {
            ring.clear_all();
            model.clear();
        }
    }
    assert_eq!(ring.remaining(), model.len());
    assert_eq!(ring.remaining_mut(), cap - model.len());
    assert_eq!(ring.has_remaining(), !model.is_empty());
    assert_eq!(ring.has_remaining_mut(), model.len() < cap);
    assert_eq!(contents(ring), model.iter().copied().collect::<Vec<u8>>());
}

/// Runs `ops` on `buf`, of `cap` bytes, and on a deque, checking them after each.
fn agrees_with_a_deque<B: Clear>(buf: &mut B, cap: usize, ops: Vec<Op>) {
    let mut model = VecDeque::new();
    for op in ops {
        step(buf, cap, &mut model, op);
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(CASES))]

    /// A ring agrees with a bounded `VecDeque` after every write, fill, read, advance
    /// and clear; its chunks always spell the deque's contents.
    #[test]
    fn ring_behaves_like_a_bounded_deque(ops in proptest::collection::vec(op(), 0..100)) {
        agrees_with_a_deque(&mut RingBuf::<16>::new(), 16, ops);
    }

    /// The same with a capacity that is not a power of two and smaller than most writes.
    #[test]
    fn odd_ring_behaves_like_a_bounded_deque(ops in proptest::collection::vec(op(), 0..100)) {
        agrees_with_a_deque(&mut RingBuf::<7>::new(), 7, ops);
    }

    /// A linear buffer agrees with the deque too, compacting as it goes.
    #[test]
    fn linear_buf_behaves_like_a_bounded_deque(ops in proptest::collection::vec(op(), 0..100)) {
        agrees_with_a_deque(&mut LinearBuf::<16>::new(), 16, ops);
    }

    /// The same with a small odd size, so most writes are cut or refused.
    #[test]
    fn odd_linear_buf_behaves_like_a_bounded_deque(ops in proptest::collection::vec(op(), 0..100)) {
        agrees_with_a_deque(&mut LinearBuf::<7>::new(), 7, ops);
    }

    /// A lent buffer reads and writes as the buffer it lends, through its own
    /// `Buf`/`MutBuf` (what `try_read_buf`/`try_write_buf` call).
    #[test]
    fn lent_buffers_behave_like_a_bounded_deque(ops in proptest::collection::vec(op(), 0..100)) {
        let pool: BufPool<RingBuf<7>, 1> = BufPool::new();
        agrees_with_a_deque(&mut pool.lend().unwrap(), 7, ops);
        prop_assert!(!pool.lend().unwrap().has_remaining(), "returned emptied");
    }

    /// Slice buffers: whatever is written into a `MutSliceBuf` reads back through a
    /// `SliceBuf` in order, in any split of reads.
    #[test]
    fn slice_bufs_round_trip(
        data in proptest::collection::vec(any::<u8>(), 0..64),
        cap in 0usize..64,
        reads in proptest::collection::vec(0usize..16, 0..16),
    ) {
        let mut storage = std::vec![0u8; cap];
        let mut dst = MutSliceBuf::new(&mut storage);
        let n = dst.write_truncating(&data);
        prop_assert_eq!(n, data.len().min(cap));
        let filled = dst.into_filled();
        let mut src = SliceBuf::new(filled);
        let mut model: VecDeque<u8> = data[..n].iter().copied().collect();
        for r in reads {
            let mut out = std::vec![0u8; r];
            let got = src.read_slice(&mut out);
            let want: Vec<u8> = model.drain(..r.min(model.len())).collect();
            prop_assert_eq!(&out[..got], &want[..]);
            prop_assert_eq!(contents(&src), model.iter().copied().collect::<Vec<u8>>());
        }
    }
}
