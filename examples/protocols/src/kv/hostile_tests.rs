//! Hostile input, generated: streams of RESP and inline commands with valid, wrong and
//! oversized arguments, malformed frames and garbage, fed in random pieces. Nothing
//! panics, the [`Next`](crate::Next) contract holds (the driver checks it on every
//! call), and the replies do not depend on how the input was split into reads or on
//! the output buffer's size (but for a transaction that a small one cannot hold).

use std::format;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{Kv, Session};
use crate::driver::{Transcript, drive};

const COMMAND: usize = 512;
const NOW_MS: u64 = 1_000_000;

fn drive_with<const OUT: usize>(input: &[u8], chunk: usize) -> Transcript {
    let mut kv: Kv<8, 16, 32, COMMAND> = Kv::new();
    let mut session = Session::new();
    drive::<OUT>(input, chunk, COMMAND, |input, out| {
        kv.serve(&mut session, input, out, NOW_MS)
    })
}

fn word() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "k", "k2", "k3", "1", "-5", "0", "10", "99999999999999999999", "9223372036854775807",
            "EX", "PX", "NX", "XX", "GT", "LT", "KEEPTTL", "DOCS", "COUNT", "GET", "save", "*",
            "2", "3", "AUTH", "default", "SETNAME",
            "", "x y", "0123456789abcdef!",
        ])
        .prop_map(|word| word.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

/// A command of `name` and up to 4 more arguments: at most 5 short words, so that every
/// reply fits the narrow output buffer and the two buffer sizes must agree.
fn command() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
    let name = prop::sample::select(vec![
        "SET", "GET", "INCR", "DECRBY", "DEL", "MGET", "MSET", "EXPIRE", "PEXPIRE", "TTL", "PTTL",
        "PERSIST", "EXISTS", "PING", "ECHO", "DBSIZE", "FLUSHALL", "QUIT", "SELECT", "COMMAND",
        "CONFIG", "set", "NOPE", "MULTI", "EXEC", "DISCARD", "MULTI", "EXEC", "WATCH", "UNWATCH",
    ]);
    (name, prop::collection::vec(word(), 0..5))
        .prop_map(|(name, args)| (name.as_bytes().to_vec(), args))
}

fn resp(name: &[u8], args: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = format!("*{}\r\n${}\r\n", args.len() + 1, name.len()).into_bytes();
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(b"\r\n");
    for arg in args {
        bytes.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        bytes.extend_from_slice(arg);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

fn inline(name: &[u8], args: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = name.to_vec();
    for arg in args {
        bytes.push(b' ');
        bytes.extend_from_slice(arg);
    }
    bytes.extend_from_slice(b"\r\n");
    bytes
}

fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => command().prop_map(|(name, args)| resp(&name, &args)),
        2 => command().prop_map(|(name, args)| inline(&name, &args)),
        1 => prop::sample::select(vec![
            "*x\r\n", "*-1\r\n", "*0\r\n", "*99999\r\n", "*2\r\n$3\r\nGE", "*1\r\n$-1\r\n",
            "*1\r\n$600\r\n", "*1\r\n$4\r\nPING\n\n", "$3\r\nGET\r\n", "\"unclosed\r\n", "\r\n",
            "*1\r\n:5\r\n",
        ])
        .prop_map(|frame| frame.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..32),
        1 => prop::collection::vec(Just(b'a'), 500..700),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 1..16).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_command_stream_gives_the_same_replies_however_it_is_split(
        input in stream(),
        chunk in 1usize..64,
    ) {
        let whole = drive_with::<8192>(&input, input.len());
        let pieces = drive_with::<8192>(&input, chunk);
        prop_assert_eq!(&pieces.output, &whole.output);
        prop_assert_eq!(pieces.closed, whole.closed);
        if !whole.closed {
            prop_assert_eq!(&pieces.kept, &whole.kept);
        }
        let narrow = drive_with::<256>(&input, chunk);
        // A transaction's replies share one buffer: in 256 bytes one of more than 3
        // commands is discarded, and a reply beyond its share becomes an error element,
        // in the narrow buffer only. (Outside transactions every reply here fits it.)
        let found = |text: &[u8]| narrow.output.windows(text.len()).any(|w| w == text);
        if !found(b"may not fit this server's output buffer")
            && !found(b"does not fit in this server's output buffer")
        {
            prop_assert_eq!(&narrow.output, &whole.output);
            prop_assert_eq!(narrow.closed, whole.closed);
        }
    }

    #[test]
    fn random_bytes_keep_the_contract(
        input in prop::collection::vec(any::<u8>(), 0..1200),
        chunk in 1usize..64,
    ) {
        drive_with::<256>(&input, chunk);
    }
}
