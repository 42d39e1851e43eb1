//! Zero heap allocations in the protocol logic: every HTTP request kind and every kv
//! command, answered, refused, pipelined and in pieces, under a counting allocator.

use statio_core::buf::{Buf, LinearBuf};
use statio_protocols::Next;
use statio_protocols::http::{Http, Limits};
use statio_protocols::kv::{Kv, Session};
use statio_test_support::alloc::{Counting, count_allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Serves `input` in `chunk`-byte reads through `serve`, as a loop would, keeping the
/// unconsumed rest in a `LinearBuf` and emptying the output after each call; returns
/// the output bytes seen (so the work is not optimised away).
fn feed<const IN: usize>(
    input: &[u8],
    chunk: usize,
    mut serve: impl FnMut(&[u8], &mut LinearBuf<8192>) -> statio_protocols::Served,
) -> usize {
    let mut kept: LinearBuf<IN> = LinearBuf::new();
    let mut out: LinearBuf<8192> = LinearBuf::new();
    let mut sent = 0;
    for piece in input.chunks(chunk) {
        use statio_core::buf::MutBuf;
        kept.try_write_all(piece).expect("the rest and a piece fit");
        loop {
            let served = serve(kept.filled(), &mut out);
            kept.advance(served.consumed);
            sent += out.filled().len();
            out.clear();
            match served.next {
                Next::NeedInput => break,
                Next::OutputFull => continue,
                Next::Close => {
                    kept.clear();
                    break;
                }
            }
        }
    }
    sent
}

#[test]
fn the_counter_counts() {
    let (_, n) = count_allocations(|| std::hint::black_box(vec![1u8; 10]));
    assert_eq!(
        n, 1,
        "the counting allocator is installed and counts this thread"
    );
}

const HTTP: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi",
    b"GET /missing?q HTTP/1.1\r\nHost: a\r\n\r\n",
    b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n",
];

#[test]
fn http_allocates_nothing() {
    let mut http = Http::new(Limits::DEFAULT);
    let mut pipelined = Vec::new();
    for request in &HTTP[..7] {
        pipelined.extend_from_slice(request);
    }
    let (sent, allocations) = count_allocations(|| {
        http.set_time(1_764_633_600);
        let mut sent = 0;
        for chunk in [1, 7, 4096] {
            for request in HTTP {
                sent += feed::<4096>(request, chunk, |i, o| http.serve(i, o));
            }
            sent += feed::<4096>(&pipelined, chunk, |i, o| http.serve(i, o));
        }
        sent
    });
    assert!(sent > 5_000, "{sent} bytes of responses");
    assert_eq!(allocations, 0, "heap allocations answering HTTP");
}

#[test]
fn kv_allocates_nothing() {
    // Small enough for the test thread's stack; a server keeps its store in a `static`.
    let mut kv: Kv<128, 64, 128, 4096> = Kv::new();
    let mut session = Session::new();
    let commands: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n",
        b"*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n",
        b"*2\r\n$4\r\nINCR\r\n$20\r\ncounter:__rand_int__\r\n",
        b"SET t v EX 100\r\nTTL t\r\nPTTL t\r\nEXPIRE t 5 GT\r\nPERSIST t\r\n",
        b"MSET a 1 b 2 c 3\r\nMGET a b c d\r\nDEL a b\r\nEXISTS a c\r\nDBSIZE\r\n",
        b"INCRBY n 5\r\nDECR n\r\nDECRBY n 2\r\nINCR t\r\nECHO hi\r\nPING\r\nPING x\r\n",
        b"COMMAND DOCS\r\nCONFIG GET save\r\nCONFIG GET appendonly\r\nSELECT 0\r\n",
        b"NOSUCH a b\r\nGET\r\nSET k v NX XX\r\nSET k v EX 0\r\nSET k v GET\r\n",
        b"HELLO 3 SETNAME z\r\nGET missing\r\nCONFIG GET *\r\nHELLO 2\r\nHELLO 4\r\n",
        b"FLUSHALL\r\nQUIT\r\n",
        b"*1\r\n$x\r\n",
    ];
    let (sent, allocations) = count_allocations(|| {
        let mut sent = 0;
        for (chunk, now) in [(1, 0), (5, 1000), (4096, 200_000)] {
            for command in commands {
                sent += feed::<4096>(command, chunk, |i, o| kv.serve(&mut session, i, o, now));
            }
            kv.expire(now, 100);
        }
        sent
    });
    assert!(sent > 1000, "{sent} bytes of replies");
    assert_eq!(allocations, 0, "heap allocations running kv commands");
}
