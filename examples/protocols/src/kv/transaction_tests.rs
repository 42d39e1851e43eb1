//! `MULTI`, `EXEC`, `DISCARD`: the replies recorded from redis-server 7.0.15, the queue
//! kept across reads down to one byte per read, and this server's limits (a queue that
//! outgrows the input buffer, replies that may not fit the output buffer).

use std::string::String;
use std::vec::Vec;

use proptest::prelude::*;
use statio_core::buf::LinearBuf;

use super::{Kv, Session};
use crate::Next;
use crate::driver::drive;

const COMMAND: usize = 256;
type Store = Kv<64, 16, 32, COMMAND>;

/// `input` on one new connection to a new store, `chunk` bytes per read, through an
/// output buffer of `OUT` bytes: every reply, and whether the connection was closed.
fn transcript<const OUT: usize>(input: &[u8], chunk: usize) -> (String, bool, Vec<u8>) {
    let mut kv = Store::new();
    let mut session = Session::new();
    let t = drive::<OUT>(input, chunk, COMMAND, |input, out| {
        kv.serve(&mut session, input, out, 0)
    });
    (
        String::from_utf8_lossy(&t.output).into_owned(),
        t.closed,
        t.kept,
    )
}

/// Each inline input of a connection, and what redis-server 7.0.15 answered (sent at
/// once on a new connection after `FLUSHALL`).
const REDIS_7_0_15: &[(&str, &str)] = &[
    (
        "MULTI\r\nSET k 1\r\nINCR k\r\nGET k\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n",
    ),
    ("EXEC\r\n", "-ERR EXEC without MULTI\r\n"),
    ("DISCARD\r\n", "-ERR DISCARD without MULTI\r\n"),
    (
        "MULTI\r\nMULTI\r\nPING\r\nEXEC\r\n",
        "+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n*1\r\n+PONG\r\n",
    ),
    (
        "MULTI\r\nNOPE a\r\nPING\r\nEXEC\r\n",
        "+OK\r\n-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n+QUEUED\r\n\
         -EXECABORT Transaction discarded because of previous errors.\r\n",
    ),
    (
        "MULTI\r\nGET\r\nPING\r\nEXEC\r\n",
        "+OK\r\n-ERR wrong number of arguments for 'get' command\r\n+QUEUED\r\n\
         -EXECABORT Transaction discarded because of previous errors.\r\n",
    ),
    (
        "MULTI\r\nSET s abc\r\nINCR s\r\nPING\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n\
         -ERR value is not an integer or out of range\r\n+PONG\r\n",
    ),
    (
        "MULTI\r\nSET d 1\r\nDISCARD\r\nGET d\r\n",
        "+OK\r\n+QUEUED\r\n+OK\r\n$-1\r\n",
    ),
    ("MULTI\r\nEXEC\r\n", "+OK\r\n*0\r\n"),
    (
        "MULTI\r\nSET q 1\r\nQUIT\r\nGET q\r\n",
        "+OK\r\n+QUEUED\r\n+OK\r\n",
    ),
    (
        "MULTI\r\nPING\r\nEXEC x\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of: wrong number of \
         arguments for 'exec' command\r\n-ERR EXEC without MULTI\r\n",
    ),
    (
        "MULTI x\r\n",
        "-ERR wrong number of arguments for 'multi' command\r\n",
    ),
    (
        "HELLO 3\r\nMULTI\r\nGET nokey\r\nEXEC\r\n",
        // (HELLO's own reply, a map, is left out of the comparison below.)
        "+OK\r\n+QUEUED\r\n*1\r\n_\r\n",
    ),
    (
        "MULTI\r\n\r\nPING\r\n\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n",
    ),
    (
        "MULTI\r\nSELECT 0\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n",
    ),
];

#[test]
fn transactions_answer_as_redis_7_0_15_whole_and_a_byte_per_read() {
    for (input, expected) in REDIS_7_0_15 {
        for chunk in [input.len(), 1, 3] {
            let (output, _, _) = transcript::<4080>(input.as_bytes(), chunk);
            let output = match input.starts_with("HELLO") {
                true => &output[output.find("+OK").unwrap()..],
                false => &output[..],
            };
            assert_eq!(output, *expected, "{input:?} in reads of {chunk}");
        }
    }
}

#[test]
fn a_queue_is_kept_in_the_input_across_calls_and_answered_once() {
    let mut kv = Store::new();
    let mut session = Session::new();
    let mut out: LinearBuf<4080> = LinearBuf::new();
    let first = b"MULTI\r\nSET k 1\r\nINCR k\r\nGE";
    let served = kv.serve(&mut session, first, &mut out, 0);
    assert_eq!(out.filled(), b"+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    assert_eq!(served.next, Next::NeedInput);
    // MULTI is consumed; the queued commands and the incomplete one are kept.
    assert_eq!(&first[served.consumed..], b"SET k 1\r\nINCR k\r\nGE");
    assert_eq!(kv.len(), 0, "nothing runs before EXEC");
    out.clear();
    let second = b"SET k 1\r\nINCR k\r\nGET k\r\nEXEC\r\nPING\r\n";
    let served = kv.serve(&mut session, second, &mut out, 0);
    // Only GET is new; EXEC waits for the output buffer to be sent.
    assert_eq!(out.filled(), b"+QUEUED\r\n");
    assert_eq!(served.next, Next::OutputFull);
    assert_eq!(served.consumed, 0, "the queue is still kept");
    out.clear();
    let served = kv.serve(&mut session, second, &mut out, 0);
    assert_eq!(out.filled(), b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n+PONG\r\n");
    assert_eq!(served.consumed, second.len());
    assert_eq!(served.next, Next::NeedInput);
}

#[test]
fn exec_runs_into_an_empty_output_buffer() {
    let mut kv = Store::new();
    let mut session = Session::new();
    let mut out: LinearBuf<4080> = LinearBuf::new();
    let input = b"MULTI\r\nINCR a\r\nINCR b\r\nEXEC\r\nPING\r\n";
    let served = kv.serve(&mut session, input, &mut out, 0);
    assert_eq!(served.next, Next::OutputFull);
    assert_eq!(out.filled(), b"+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    assert_eq!(kv.len(), 0, "nothing ran");
    out.clear();
    let rest = &input[served.consumed..];
    let served = kv.serve(&mut session, rest, &mut out, 0);
    assert_eq!(served.next, Next::NeedInput);
    assert_eq!(served.consumed, rest.len());
    assert_eq!(out.filled(), b"*2\r\n:1\r\n:1\r\n+PONG\r\n");
}

#[test]
fn a_transaction_whose_replies_cannot_fit_an_empty_buffer_is_discarded_whole() {
    let mut kv = Store::new();
    let mut session = Session::new();
    // 200 bytes: less than the header (22) and 3 replies of 64, even empty.
    let mut out: LinearBuf<200> = LinearBuf::new();
    let input = b"MULTI\r\nINCR a\r\nINCR b\r\nINCR c\r\nEXEC\r\nEXISTS a\r\n";
    let served = kv.serve(&mut session, input, &mut out, 0);
    assert_eq!(served.next, Next::OutputFull);
    out.clear();
    let served = kv.serve(&mut session, &input[served.consumed..], &mut out, 0);
    assert_eq!(served.next, Next::NeedInput);
    assert_eq!(
        out.filled(),
        b"-EXECABORT Transaction discarded because its replies may not fit this server's \
          output buffer.\r\n:0\r\n"
    );
    assert_eq!(kv.len(), 0);
}

#[test]
fn a_queue_that_outgrows_the_input_buffer_is_discarded_and_says_why() {
    // 40 SETs of 23 bytes each: 920 bytes, over the 256-byte input buffer.
    let mut input = Vec::from(&b"MULTI\r\n"[..]);
    for i in 0..40 {
        input.extend_from_slice(std::format!("SET key{i:02} value{i:03}\r\n").as_bytes());
    }
    input.extend_from_slice(b"EXEC\r\nDBSIZE\r\n");
    let mut expected = String::from("+OK\r\n");
    for _ in 0..40 {
        expected.push_str("+QUEUED\r\n");
    }
    expected.push_str(
        "-EXECABORT Transaction discarded because its queued commands outgrew this \
         server's input buffer.\r\n:0\r\n",
    );
    for chunk in [input.len(), 1, 7, 100] {
        let (output, closed, kept) = transcript::<4080>(&input, chunk);
        assert_eq!(output, expected, "reads of {chunk}");
        assert!(!closed && kept.is_empty());
    }
}

/// The queue and the `EXEC` after it must fit the input buffer together: at 255 bytes of
/// the 256 the transaction runs, at 256 it is discarded, whole or a byte per read.
#[test]
fn exec_counts_in_the_queue_s_bytes() {
    for (pad, runs) in [(242, true), (243, false)] {
        let echo = std::format!("ECHO {}\r\n", "x".repeat(pad));
        assert_eq!(echo.len() + "EXEC\r\n".len(), if runs { 255 } else { 256 });
        let input = std::format!("MULTI\r\n{echo}EXEC\r\n");
        let expected = match runs {
            true => std::format!("+OK\r\n+QUEUED\r\n*1\r\n${pad}\r\n{}\r\n", "x".repeat(pad)),
            false => String::from(
                "+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded because its queued \
                 commands outgrew this server's input buffer.\r\n",
            ),
        };
        for chunk in [input.len(), 1] {
            let (output, closed, kept) = transcript::<4080>(input.as_bytes(), chunk);
            assert_eq!(output, expected, "pad {pad}, reads of {chunk}");
            assert!(!closed && kept.is_empty());
        }
    }
}

#[test]
fn a_reply_too_large_for_its_share_becomes_an_error_element() {
    let mut kv = Store::new();
    let mut session = Session::new();
    // Values of 32 bytes: MGET of 30 of them takes 1,175 bytes, more than the 1,024-byte
    // buffer leaves it beside PING's share.
    let mut setup = Vec::new();
    for i in 0..30 {
        setup.extend_from_slice(std::format!("SET k{i} {}\r\n", "v".repeat(32)).as_bytes());
    }
    let keys: Vec<String> = (0..30).map(|i| std::format!("k{i}")).collect();
    let input = std::format!("MULTI\r\nMGET {}\r\nPING\r\nEXEC\r\n", keys.join(" "));
    setup.extend_from_slice(input.as_bytes());
    let t = drive::<1024>(&setup, setup.len(), COMMAND, |input, out| {
        kv.serve(&mut session, input, out, 0)
    });
    let expected = std::format!(
        "{}+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n\
         -ERR the reply does not fit in this server's output buffer\r\n+PONG\r\n",
        "+OK\r\n".repeat(30)
    );
    assert_eq!(String::from_utf8_lossy(&t.output), expected);
}

/// Mostly commands to queue, so that queues grow past the 256-byte input buffer.
fn command() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        1 => prop::sample::select(std::vec![
            "MULTI\r\n",
            "EXEC\r\n",
            "DISCARD\r\n",
            "EXEC x\r\n",
            "WATCH k long\r\n",
            "UNWATCH\r\n",
        ]),
        10 => prop::sample::select(std::vec![
            "SET k 1\r\n",
            "INCR k\r\n",
            "GET k\r\n",
            "MGET k k k k k k k k\r\n",
            "SET long 0123456789012345678901234567890\r\n",
            "\r\n",
            "PING\r\n",
        ]),
        1 => prop::sample::select(std::vec!["NOPE\r\n", "GET\r\n", "MULTI x\r\n"]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// However the stream is split into reads, the replies are the same, every call
    /// keeps the `Next` contract (the driver checks it), and what is kept at the end
    /// is the same.
    #[test]
    fn transactions_do_not_depend_on_how_the_input_was_split(
        commands in prop::collection::vec(command(), 1..80),
        chunk in 1usize..40,
    ) {
        let input = commands.concat();
        let whole = transcript::<4080>(input.as_bytes(), input.len());
        let pieces = transcript::<4080>(input.as_bytes(), chunk);
        prop_assert_eq!(&pieces, &whole);
    }
}

#[test]
#[cfg(target_pointer_width = "64")]
fn a_session_is_120_bytes() {
    // What the docs of `Session` say, and what each connection of a server holds.
    assert_eq!(size_of::<Session>(), 120);
}
