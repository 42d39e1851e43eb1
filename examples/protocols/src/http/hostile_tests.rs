//! Hostile input, generated: streams of valid, truncated, oversized and garbage requests,
//! fed in random pieces. Nothing panics, the [`Next`](crate::Next) contract holds (the
//! driver checks it on every call), and the output does not depend on how the input
//! was split into reads.

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{Http, Limits};
use crate::driver::{Transcript, drive};

const LIMITS: Limits = Limits {
    head: 256,
    body: 64,
};

fn drive_with<const OUT: usize>(input: &[u8], chunk: usize) -> Transcript {
    let mut http = Http::new(LIMITS);
    http.set_time(784_111_777);
    drive::<OUT>(input, chunk, LIMITS.request(), |input, out| {
        http.serve(input, out)
    })
}

/// One piece of a request stream. `Expect: 100-continue` is left out: its interim
/// response depends, by design, on whether the body came in the same read.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "HEAD", "POST", "PUT", "get", "", "G\0T"]);
    let path = prop::sample::select(vec!["/", "/echo", "/missing?q=1", "*", "http://a/", ""]);
    let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.", ""]);
    let header = prop::sample::select(vec![
        "Host: a\r\n",
        "Connection: close\r\n",
        "Connection: keep-alive\r\n",
        "Content-Length: 3\r\n",
        "Content-Length: 70\r\n",
        "Content-Length: 99999999999999999999\r\n",
        "Content-Length: 1, 2\r\n",
        "Content-Length: -1\r\n",
        "Transfer-Encoding: chunked\r\n",
        "X: \u{7f}\r\n",
        "Bad Header\r\n",
        " folded\r\n",
    ]);
    let request = (
        method,
        path,
        version,
        prop::collection::vec(header, 0..4),
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(method, path, version, headers, body)| {
            let mut bytes = std::format!("{method} {path} {version}\r\n").into_bytes();
            for header in headers {
                bytes.extend_from_slice(header.as_bytes());
            }
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(&body);
            bytes
        });
    prop_oneof![
        6 => request,
        1 => prop::collection::vec(any::<u8>(), 0..32),
        1 => Just(b"\r\n".to_vec()),
        1 => prop::collection::vec(Just(b'a'), 200..400),
        1 => Just(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 1..12).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_request_stream_gives_the_same_output_however_it_is_split(
        input in stream(),
        chunk in 1usize..64,
    ) {
        let whole = drive_with::<4096>(&input, input.len());
        let pieces = drive_with::<4096>(&input, chunk);
        prop_assert_eq!(&pieces.output, &whole.output);
        prop_assert_eq!(pieces.closed, whole.closed);
        if !whole.closed {
            prop_assert_eq!(&pieces.kept, &whole.kept);
        }
        // An output buffer that holds one response at a time says the same.
        let narrow = drive_with::<512>(&input, chunk);
        prop_assert_eq!(&narrow.output, &whole.output);
        prop_assert_eq!(narrow.closed, whole.closed);
    }

    #[test]
    fn random_bytes_keep_the_contract(
        input in prop::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
    ) {
        drive_with::<512>(&input, chunk);
    }
}
