//! The pool: exhaustion, reuse order, untouched memory, and a model of many connections
//! echoing through partial writes.

extern crate std;

use proptest::prelude::*;
#[cfg(target_arch = "x86_64")]
use static_cell::ConstStaticCell;
use std::vec::Vec;

use super::*;
use crate::Mark;

#[test]
fn an_empty_pool_says_so_and_lends_again_once_a_buffer_returns() {
    let pool: BufPool<RingBuf<8>, 2> = BufPool::new();
    let a = pool.lend().unwrap();
    let b = pool.lend().unwrap();
    assert_eq!((pool.lent(), pool.available()), (2, 0));
    let err = pool.lend().unwrap_err();
    assert_eq!(err, PoolEmpty { capacity: 2 });
    assert_eq!(
        std::format!("{err}"),
        "all 2 buffers of the pool are lent; one returns when its holder drops it"
    );
    let b_index = b.index();
    drop(b);
    assert_eq!(pool.available(), 1);
    assert_eq!(pool.lend().unwrap().index(), b_index);
    drop(a);
    assert_eq!(pool.lent(), 0);
    assert_eq!(pool.peak_lent(), 2);
    let marks = Mark {
        now: 0,
        peak: 2,
        capacity: 2,
        limit_hits: 1,
    };
    assert_eq!(pool.marks(), marks);
}

#[test]
fn reset_marks_starts_a_window_at_what_is_lent_now() {
    let pool: BufPool<LinearBuf<8>, 3> = BufPool::new();
    let held: Vec<_> = (0..3).map(|_| pool.lend().unwrap()).collect();
    assert!(pool.lend().is_err());
    assert!(pool.lend().is_err());
    assert_eq!((pool.marks().peak, pool.marks().limit_hits), (3, 2));
    let mut held = held.into_iter();
    drop(held.next());
    drop(held.next());
    pool.reset_marks();
    assert_eq!(pool.marks().peak, 1, "one still lent");
    assert_eq!(pool.marks().limit_hits, 0);
    let again = pool.lend().unwrap();
    assert_eq!(pool.marks().peak, 2);
    drop(again);
    // The residency peak is not a window: buffer 2 was touched for ever.
    assert_eq!(pool.peak_lent(), 3);
}

#[test]
fn an_option_of_a_lent_buffer_costs_nothing_and_keeps_its_flag() {
    type Lent<'p> = LentBuf<'p, RingBuf<8>, 2>;
    // `None` is the null reference (so an array of `None`s is all zero bytes), not a
    // value of a flag: the flag shares the index's word.
    assert_eq!(size_of::<Option<Lent<'_>>>(), size_of::<Lent<'_>>());
    let pool: BufPool<RingBuf<8>, 2> = BufPool::new();
    let mut slots: [Option<Lent<'_>>; 2] = [None, None];
    let mut a = pool.lend().unwrap();
    a.try_write_all(b"abc").unwrap();
    let b = pool.lend().unwrap();
    assert_eq!((a.index(), b.index()), (0, 1));
    slots[0] = Some(a);
    slots[1] = Some(b);
    drop(slots);
    // Both back, and the written one emptied.
    let a = pool.lend().unwrap();
    assert_eq!((a.index(), a.remaining()), (1, 0));
    let a2 = pool.lend().unwrap();
    assert_eq!((a2.index(), a2.remaining()), (0, 0));
}

#[test]
fn returned_buffers_are_lent_again_last_in_first_out() {
    let pool: BufPool<LinearBuf<8>, 4> = BufPool::new();
    let lent: Vec<_> = (0..3).map(|_| pool.lend().unwrap()).collect();
    let order: Vec<usize> = lent.iter().map(|buf| buf.index()).collect();
    assert_eq!(order, [0, 1, 2], "never-used buffers go in order");
    drop(lent); // returns 0, then 1, then 2
    let again: Vec<usize> = (0..4).map(|_| pool.lend().unwrap().index()).collect();
    // Each is dropped at once: the most recently returned comes back every time.
    assert_eq!(again, [2, 2, 2, 2]);
    assert_eq!(
        pool.peak_lent(),
        3,
        "buffer 3 was never needed, never touched"
    );
}

#[test]
fn a_returned_buffer_comes_back_empty() {
    let pool: BufPool<RingBuf<8>, 1> = BufPool::new();
    let mut buf = pool.lend().unwrap();
    buf.try_write_all(b"abcdef").unwrap();
    buf.advance(2);
    drop(buf); // a connection closed with bytes unsent: they go with it
    let buf = pool.lend().unwrap();
    assert!(!buf.has_remaining());
    assert_eq!(buf.remaining_mut(), 8);
}

/// Whether the page holding `addr` is resident: bit 63 of its `/proc/self/pagemap`
/// entry (readable without privileges since Linux 4.2), or `None` without a pagemap.
#[cfg(target_arch = "x86_64")]
fn resident(addr: usize) -> Option<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut pagemap = std::fs::File::open("/proc/self/pagemap").ok()?;
    pagemap
        .seek(SeekFrom::Start((addr / 4096 * 8) as u64))
        .ok()?;
    let mut entry = [0; 8];
    pagemap.read_exact(&mut entry).ok()?;
    Some(u64::from_ne_bytes(entry) >> 63 == 1)
}

/// No page of a `static` pool is resident until a byte is written to its buffer: not
/// when buffers are lent, nor when they go back unused, and reuse keeps to one page.
#[test]
#[cfg_attr(miri, ignore = "reads /proc/self/pagemap")]
// Native only: under qemu-user (the aarch64 CI step) the pagemap is the emulator's.
#[cfg(target_arch = "x86_64")]
fn buffers_never_written_stay_untouched() {
    const BUFFERS: usize = 16;
    type Page = RingBuf<4080>;
    const _: () = assert!(size_of::<Page>() == 4096);
    #[repr(C, align(4096))]
    struct Aligned(BufPool<Page, BUFFERS>);
    static POOL: ConstStaticCell<Aligned> = ConstStaticCell::new(Aligned(BufPool::new()));

    let pool = &POOL.take().0;
    let base = core::ptr::from_ref(pool).addr();
    let resident_buffers = || -> Option<Vec<usize>> {
        let mut pages = Vec::new();
        for i in 0..BUFFERS {
            if resident(base + i * 4096)? {
                pages.push(i);
            }
        }
        Some(pages)
    };
    let Some(before) = resident_buffers() else {
        std::eprintln!("no /proc/self/pagemap: nothing to check on this system");
        return;
    };
    assert_eq!(before, [], "a fresh pool is all untouched .bss");

    let mut a = pool.lend().unwrap();
    let b = pool.lend().unwrap();
    assert_eq!(
        resident_buffers(),
        Some(std::vec![]),
        "lending touches nothing"
    );
    a.try_write_all(b"left over").unwrap();
    let a_index = a.index();
    assert_eq!(resident_buffers(), Some(std::vec![a_index]));
    drop(b);
    drop(a);
    assert_eq!(
        resident_buffers(),
        Some(std::vec![a_index]),
        "returning b unused touched it"
    );
    // The next 100 connections with a leftover all get the one hot buffer.
    for _ in 0..100 {
        let mut c = pool.lend().unwrap();
        assert_eq!(c.index(), a_index);
        c.try_write_all(b"more").unwrap();
    }
    assert_eq!(resident_buffers(), Some(std::vec![a_index]));
}

const CONNS: usize = 6;
const BUFFERS: usize = 3;
const CAP: usize = 16;

/// What happens to one connection of an echo server reading through a shared scratch.
#[derive(Debug, Clone)]
enum Event {
    /// The peer sent `len` bytes; the socket's send buffer takes `room` more.
    Readable {
        conn: usize,
        len: usize,
        room: usize,
    },
    /// The send buffer takes `room` more bytes.
    Writable { conn: usize, room: usize },
    /// The connection closes, unsent bytes or not.
    Close(usize),
}

fn event() -> impl Strategy<Value = Event> {
    // One flat tuple: cheaper to generate than `prop_oneof!` (this test runs long).
    (0u8..8, 0..CONNS, 1..=CAP, 0..=CAP + 4).prop_map(|(kind, conn, len, room)| match kind {
        0..4 => Event::Readable { conn, len, room },
        4..7 => Event::Writable { conn, room },
        _ => Event::Close(conn),
    })
}

#[derive(Default)]
struct Conn<'p> {
    unsent: Option<LentBuf<'p, RingBuf<CAP>, BUFFERS>>,
    /// Everything the peer sent since the connection opened...
    received: Vec<u8>,
    /// ...of which this many bytes were echoed.
    echoed: usize,
}

impl Conn<'_> {
    /// Echoes `bytes`: they must be the next ones the peer sent.
    fn echo(&mut self, bytes: &[u8]) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            bytes,
            &self.received[self.echoed..self.echoed + bytes.len()]
        );
        self.echoed += bytes.len();
        Ok(())
    }
}

/// The bytes `buf` holds, both of a ring's regions in order.
fn held(buf: &impl Buf) -> Vec<u8> {
    let (first, second) = buf.chunks();
    [first, second].concat()
}

/// Runs `events` through the shared-scratch pattern and checks, after each, that every
/// lent buffer is held by one connection, that the pool counts them, and that each
/// connection's echo is its input in order (a buffer lent twice would mix two).
fn run(events: Vec<Event>) -> Result<(), TestCaseError> {
    let pool: BufPool<RingBuf<CAP>, BUFFERS> = BufPool::new();
    let mut conns: Vec<Conn> = (0..CONNS).map(|_| Conn::default()).collect();
    let mut next_byte = 0u8;
    for event in events {
        match event {
            Event::Readable { conn, len, room } => {
                let conn = &mut conns[conn];
                if conn.unsent.is_some() {
                    continue; // an echo reads only once all is sent
                }
                let mut spare = match pool.lend() {
                    Ok(spare) => spare,
                    Err(empty) => {
                        // Not read: the bytes stay with the peer.
                        prop_assert_eq!(empty.capacity, BUFFERS);
                        prop_assert_eq!(pool.lent(), BUFFERS);
                        continue;
                    }
                };
                let scratch: Vec<u8> = (0..len)
                    .map(|_| {
                        next_byte = next_byte.wrapping_add(1);
                        next_byte
                    })
                    .collect();
                conn.received.extend_from_slice(&scratch);
                let sent = len.min(room);
                conn.echo(&scratch[..sent])?;
                if sent < len {
                    prop_assert!(spare.try_write_all(&scratch[sent..]).is_ok());
                    conn.unsent = Some(spare);
                }
            }
            Event::Writable { conn, room } => {
                let conn = &mut conns[conn];
                if let Some(mut unsent) = conn.unsent.take() {
                    // As `sendmsg` would: up to `room` bytes from both regions.
                    let bytes: Vec<u8> = held(&unsent).into_iter().take(room).collect();
                    prop_assert_eq!(unsent.advance(bytes.len()), bytes.len());
                    conn.echo(&bytes)?;
                    // Drained: dropped, so returned.
                    conn.unsent = Some(unsent).filter(|buf| buf.has_remaining());
                }
            }
            Event::Close(conn) => conns[conn] = Conn::default(),
        }
        let held_by: Vec<usize> = conns
            .iter()
            .filter_map(|conn| conn.unsent.as_ref().map(|buf| buf.index()))
            .collect();
        prop_assert_eq!(pool.lent(), held_by.len());
        let mut distinct = held_by.clone();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), held_by.len(), "lent twice: {:?}", held_by);
        prop_assert!(pool.peak_lent() <= BUFFERS);
        for conn in &conns {
            let unsent = conn.unsent.as_ref().map(held).unwrap_or_default();
            prop_assert_eq!(&unsent[..], &conn.received[conn.echoed..]);
        }
    }
    drop(conns);
    prop_assert_eq!(pool.lent(), 0, "a buffer leaked");
    let all: Vec<_> = (0..BUFFERS).map(|_| pool.lend().unwrap()).collect();
    let mut indices: Vec<usize> = all.iter().map(|buf| buf.index()).collect();
    indices.sort_unstable();
    prop_assert_eq!(indices, (0..BUFFERS).collect::<Vec<_>>());
    prop_assert!(
        all.iter().all(|buf| !buf.has_remaining()),
        "returned emptied"
    );
    prop_assert!(pool.lend().is_err());
    Ok(())
}

// About 100,000 partial writes (half the reads are cut short) in 8,000 scenarios.
const SCENARIOS: u32 = if cfg!(miri) { 16 } else { 8_000 };

proptest! {
    #![proptest_config(crate::test_support::proptest_config(SCENARIOS))]

    /// Random scenarios of partial writes, exhaustion and closes: no buffer is leaked
    /// or lent twice, and no byte is lost or reordered.
    #[test]
    fn no_buffer_leaks_or_is_lent_twice(events in proptest::collection::vec(event(), 1..200)) {
        run(events)?;
    }
}
