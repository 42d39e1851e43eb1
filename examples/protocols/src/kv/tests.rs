//! The commands against replies recorded from redis-server 7.0.15, the parser's edge
//! cases and errors, the limits, expiry, and partial input down to one byte per read.

use std::string::String;
use std::vec::Vec;
use std::{format, vec};

use statio_core::buf::{Buf, LinearBuf, MutBuf};

use super::{Kv, MUTATION_REPLY_MAX, Session};
use crate::driver::drive;
use crate::{Next, Served};

const LIMIT: usize = 1024;
type Small = Kv<64, 16, 32, LIMIT>;
/// Commands of up to 64 bytes.
type Tiny = Kv<64, 16, 32, 64>;

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// One call with all of `input` at `now` and a large output buffer.
fn serve<const C: usize>(kv: &mut Kv<64, 16, 32, C>, input: &[u8], now: u64) -> (Served, String) {
    let mut out: LinearBuf<8192> = LinearBuf::new();
    let served = kv.serve(&mut Session::new(), input, &mut out, now);
    (served, String::from_utf8_lossy(out.filled()).into_owned())
}

/// Runs one command at `now` and returns its reply.
fn run(kv: &mut Small, args: &[&str], now: u64) -> String {
    let input = resp(args);
    let (served, out) = serve(kv, &input, now);
    assert_eq!(served.consumed, input.len(), "{args:?}");
    out
}

/// Commands sent one at a time to `redis-server --save '' --appendonly no` 7.0.15 on
/// one connection after `FLUSHALL`, with its replies (Redis's `PTTL` of a key with a
/// deadline depends on the milliseconds the test took, and `SELECT 1` works there: both
/// are left out). Redis's clock moved a few milliseconds; this one stays at [`NOW`].
const REDIS_7_0_15: &[(&[&str], &str)] = &[
    (&["PING"], "+PONG\r\n"),
    (&["PING", "hello"], "$5\r\nhello\r\n"),
    (
        &["PING", "a", "b"],
        "-ERR wrong number of arguments for 'ping' command\r\n",
    ),
    (&["ping"], "+PONG\r\n"),
    (&["ECHO", "x y"], "$3\r\nx y\r\n"),
    (
        &["ECHO"],
        "-ERR wrong number of arguments for 'echo' command\r\n",
    ),
    (
        &["echo", "a", "b"],
        "-ERR wrong number of arguments for 'echo' command\r\n",
    ),
    (&["GET", "k"], "$-1\r\n"),
    (
        &["GET"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    ),
    (
        &["GET", "a", "b"],
        "-ERR wrong number of arguments for 'get' command\r\n",
    ),
    (&["SET", "k", "v"], "+OK\r\n"),
    (&["GET", "k"], "$1\r\nv\r\n"),
    (&["set", "k", "w", "XX"], "+OK\r\n"),
    (&["GET", "k"], "$1\r\nw\r\n"),
    (&["SET", "k", "z", "NX"], "$-1\r\n"),
    (&["SET", "n", "1", "NX"], "+OK\r\n"),
    (
        &["SET", "k"],
        "-ERR wrong number of arguments for 'set' command\r\n",
    ),
    (&["SET", "k", "v", "NX", "XX"], "-ERR syntax error\r\n"),
    (&["SET", "k", "v", "XX", "NX"], "-ERR syntax error\r\n"),
    (&["SET", "k", "v", "EX"], "-ERR syntax error\r\n"),
    (
        &["SET", "k", "v", "EX", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (
        &["SET", "k", "v", "EX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    ),
    (
        &["SET", "k", "v", "EX", "-1"],
        "-ERR invalid expire time in 'set' command\r\n",
    ),
    (
        &["SET", "k", "v", "PX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    ),
    (
        &["SET", "k", "v", "EX", "9223372036854775807"],
        "-ERR invalid expire time in 'set' command\r\n",
    ),
    (
        &["SET", "k", "v", "EX", "9223372036854775"],
        "-ERR invalid expire time in 'set' command\r\n",
    ),
    (&["SET", "k", "v", "FOO"], "-ERR syntax error\r\n"),
    (
        &["SET", "k", "v", "EX", "10", "PX", "10"],
        "-ERR syntax error\r\n",
    ),
    (
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        "-ERR syntax error\r\n",
    ),
    (
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        "-ERR syntax error\r\n",
    ),
    (&["SET", "k", "v", "NX", "NX"], "$-1\r\n"),
    (&["SET", "t", "v", "EX", "100"], "+OK\r\n"),
    (&["TTL", "t"], ":100\r\n"),
    (&["SET", "t", "w", "KEEPTTL"], "+OK\r\n"),
    (&["TTL", "t"], ":100\r\n"),
    (&["SET", "t", "x"], "+OK\r\n"),
    (&["TTL", "t"], ":-1\r\n"),
    (&["TTL", "missing"], ":-2\r\n"),
    (&["PTTL", "missing"], ":-2\r\n"),
    (&["PTTL", "t"], ":-1\r\n"),
    (
        &["TTL"],
        "-ERR wrong number of arguments for 'ttl' command\r\n",
    ),
    (
        &["EXPIRE", "t"],
        "-ERR wrong number of arguments for 'expire' command\r\n",
    ),
    (
        &["EXPIRE", "t", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (&["EXPIRE", "t", "100"], ":1\r\n"),
    (&["TTL", "t"], ":100\r\n"),
    (&["EXPIRE", "t", "50", "NX"], ":0\r\n"),
    (&["EXPIRE", "t", "50", "XX"], ":1\r\n"),
    (&["TTL", "t"], ":50\r\n"),
    (&["EXPIRE", "t", "10", "GT"], ":0\r\n"),
    (&["EXPIRE", "t", "100", "GT"], ":1\r\n"),
    (&["TTL", "t"], ":100\r\n"),
    (&["EXPIRE", "t", "200", "LT"], ":0\r\n"),
    (&["EXPIRE", "t", "20", "LT"], ":1\r\n"),
    (&["TTL", "t"], ":20\r\n"),
    (
        &["EXPIRE", "t", "10", "NX", "XX"],
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
    ),
    (
        &["EXPIRE", "t", "10", "GT", "LT"],
        "-ERR GT and LT options at the same time are not compatible\r\n",
    ),
    (
        &["EXPIRE", "t", "10", "FOO"],
        "-ERR Unsupported option FOO\r\n",
    ),
    (&["EXPIRE", "t", "10", "gt", "xx"], ":0\r\n"),
    (&["EXPIRE", "missing", "10"], ":0\r\n"),
    (
        &["EXPIRE", "t", "9223372036854775807"],
        "-ERR invalid expire time in 'expire' command\r\n",
    ),
    (
        &["PEXPIRE", "t", "9223372036854775807"],
        "-ERR invalid expire time in 'pexpire' command\r\n",
    ),
    (
        &["EXPIRE", "t", "-9223372036854775808"],
        "-ERR invalid expire time in 'expire' command\r\n",
    ),
    (&["PERSIST", "t"], ":1\r\n"),
    (&["TTL", "t"], ":-1\r\n"),
    (&["PERSIST", "t"], ":0\r\n"),
    (&["PERSIST", "missing"], ":0\r\n"),
    (&["SET", "g", "1"], "+OK\r\n"),
    (&["EXPIRE", "g", "100", "LT"], ":1\r\n"),
    (&["TTL", "g"], ":100\r\n"),
    (&["EXPIRE", "g", "0"], ":1\r\n"),
    (&["EXISTS", "g"], ":0\r\n"),
    (&["SET", "g", "1"], "+OK\r\n"),
    (&["EXPIRE", "g", "-5"], ":1\r\n"),
    (&["GET", "g"], "$-1\r\n"),
    (&["SET", "g", "1"], "+OK\r\n"),
    (&["PEXPIRE", "g", "100000", "XX"], ":0\r\n"),
    (&["PEXPIRE", "g", "100000"], ":1\r\n"),
    (&["TTL", "g"], ":100\r\n"),
    (&["DEL", "k", "n", "missing", "k"], ":2\r\n"),
    (
        &["DEL"],
        "-ERR wrong number of arguments for 'del' command\r\n",
    ),
    (
        &["EXISTS"],
        "-ERR wrong number of arguments for 'exists' command\r\n",
    ),
    (&["SET", "a", "1"], "+OK\r\n"),
    (&["EXISTS", "a", "a", "b"], ":2\r\n"),
    (&["INCR", "c"], ":1\r\n"),
    (&["INCR", "c"], ":2\r\n"),
    (&["DECR", "c"], ":1\r\n"),
    (&["INCRBY", "c", "10"], ":11\r\n"),
    (&["DECRBY", "c", "3"], ":8\r\n"),
    (
        &["INCRBY", "c", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (
        &["INCRBY", "c", "1.5"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (
        &["INCRBY", "c"],
        "-ERR wrong number of arguments for 'incrby' command\r\n",
    ),
    (
        &["INCR", "c", "d"],
        "-ERR wrong number of arguments for 'incr' command\r\n",
    ),
    (&["SET", "c", "007"], "+OK\r\n"),
    (
        &["INCR", "c"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (&["SET", "c", " 1"], "+OK\r\n"),
    (
        &["INCR", "c"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (&["SET", "c", "abc"], "+OK\r\n"),
    (
        &["INCR", "c"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (&["SET", "c", "-0"], "+OK\r\n"),
    (
        &["INCR", "c"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (&["SET", "c", "9223372036854775807"], "+OK\r\n"),
    (
        &["INCR", "c"],
        "-ERR increment or decrement would overflow\r\n",
    ),
    (&["SET", "c", "-9223372036854775808"], "+OK\r\n"),
    (
        &["DECR", "c"],
        "-ERR increment or decrement would overflow\r\n",
    ),
    (
        &["DECRBY", "c", "-9223372036854775808"],
        "-ERR decrement would overflow\r\n",
    ),
    (&["SET", "c", "0"], "+OK\r\n"),
    (
        &["DECRBY", "c", "-9223372036854775808"],
        "-ERR decrement would overflow\r\n",
    ),
    (
        &["INCRBY", "c", "-9223372036854775808"],
        ":-9223372036854775808\r\n",
    ),
    (&["SET", "c", "5"], "+OK\r\n"),
    (&["EXPIRE", "c", "100"], ":1\r\n"),
    (&["INCR", "c"], ":6\r\n"),
    (&["TTL", "c"], ":100\r\n"),
    (&["MSET", "x", "1", "y", "2"], "+OK\r\n"),
    (
        &["MGET", "x", "y", "nope"],
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n",
    ),
    (
        &["MSET", "x"],
        "-ERR wrong number of arguments for 'mset' command\r\n",
    ),
    (
        &["MSET", "x", "1", "y"],
        "-ERR wrong number of arguments for 'mset' command\r\n",
    ),
    (
        &["MSET"],
        "-ERR wrong number of arguments for 'mset' command\r\n",
    ),
    (
        &["MGET"],
        "-ERR wrong number of arguments for 'mget' command\r\n",
    ),
    (&["MSET", "x", "3", "x", "4"], "+OK\r\n"),
    (&["GET", "x"], "$1\r\n4\r\n"),
    (&["DBSIZE"], ":6\r\n"),
    (
        &["DBSIZE", "x"],
        "-ERR wrong number of arguments for 'dbsize' command\r\n",
    ),
    (&["SELECT", "0"], "+OK\r\n"),
    (
        &["SELECT", "x"],
        "-ERR value is not an integer or out of range\r\n",
    ),
    (
        &["SELECT"],
        "-ERR wrong number of arguments for 'select' command\r\n",
    ),
    (&["FLUSHALL", "foo"], "-ERR syntax error\r\n"),
    (&["FLUSHALL", "ASYNC", "x"], "-ERR syntax error\r\n"),
    (
        &["COMMAND", "FOO"],
        "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n",
    ),
    (&["CONFIG", "GET", "save"], "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
    (
        &["CONFIG", "GET", "appendonly"],
        "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    ),
    (&["CONFIG", "GET", "nonexistent"], "*0\r\n"),
    (
        &["CONFIG", "GET"],
        "-ERR wrong number of arguments for 'config|get' command\r\n",
    ),
    (
        &["CONFIG"],
        "-ERR wrong number of arguments for 'config' command\r\n",
    ),
    (
        &["CONFIG", "FOO"],
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
    ),
    (
        &["NOSUCH"],
        "-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    ),
    (
        &["NOSUCH", "a", "b"],
        "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n",
    ),
    (
        &["nosuch", "x\r\ny"],
        "-ERR unknown command 'nosuch', with args beginning with: 'x  y' \r\n",
    ),
    (&["FLUSHDB"], "+OK\r\n"),
    (&["DBSIZE"], ":0\r\n"),
    (&["FLUSHALL", "SYNC"], "+OK\r\n"),
    (&["QUIT"], "+OK\r\n"),
];

/// Redis's clock is Unix milliseconds: deadlines near `i64::MAX` overflow from there.
const NOW: u64 = 1_764_633_600_000;

#[test]
fn replies_are_those_of_redis_7_0_15() {
    let mut kv = Small::new();
    for (args, expected) in REDIS_7_0_15 {
        assert_eq!(run(&mut kv, args, NOW), *expected, "{args:?}");
    }
}

/// The whole transcript at once (pipelined) and byte by byte: the same replies.
#[test]
fn pipelined_and_byte_by_byte_give_the_same_replies() {
    let input: Vec<u8> = REDIS_7_0_15
        .iter()
        .flat_map(|(args, _)| resp(args))
        .collect();
    let expected: String = REDIS_7_0_15.iter().map(|(_, reply)| *reply).collect();
    for chunk in [input.len(), 1, 2, 5, 64] {
        let mut kv = Small::new();
        let transcript = drive::<4096>(&input, chunk, LIMIT, |i, o| {
            kv.serve(&mut Session::new(), i, o, NOW)
        });
        assert_eq!(
            String::from_utf8_lossy(&transcript.output),
            expected,
            "chunk {chunk}"
        );
        assert!(transcript.closed, "the transcript ends with QUIT");
        assert!(transcript.kept.is_empty());
    }
}

#[test]
fn quit_replies_then_closes() {
    let mut kv = Small::new();
    let (served, out) = serve(&mut kv, b"QUIT\r\nPING\r\n", 0);
    assert_eq!(out, "+OK\r\n");
    assert_eq!(served, Served::new(6, Next::Close));
}

#[test]
fn inline_commands_split_on_white_space_and_take_quotes() {
    let mut kv = Small::new();
    let (served, out) = serve(
        &mut kv,
        b"  PING   \r\nPING\nSET k \"a b\"\r\nGET k\r\nECHO 'it''s'x\r\n",
        0,
    );
    assert_eq!(
        out,
        "+PONG\r\n+PONG\r\n+OK\r\n$3\r\na b\r\n-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert_eq!(served.next, Next::Close);
    // Empty lines, `*0` and `*-10` are skipped without a reply, as Redis does.
    let (served, out) = serve(&mut kv, b"\r\n\n*0\r\n*-10\r\nPING\r\n", 0);
    assert_eq!(out, "+PONG\r\n");
    assert_eq!(served, Served::new(19, Next::NeedInput));
    // A quote inside an argument is a plain byte; escapes in quotes are refused.
    let (_, out) = serve(&mut kv, b"ECHO a\"b\r\n", 0);
    assert_eq!(out, "$3\r\na\"b\r\n");
    for input in [&b"ECHO \"a\\nb\"\r\n"[..], b"ECHO 'a\\'\r\n"] {
        let (served, out) = serve(&mut kv, input, 0);
        assert_eq!(
            out,
            "-ERR Protocol error: escapes in quoted inline arguments are not supported\r\n"
        );
        assert_eq!(served.next, Next::Close);
    }
    let (_, out) = serve(&mut kv, b"ECHO \"a\r\n", 0);
    assert_eq!(out, "-ERR Protocol error: unbalanced quotes in request\r\n");
}

/// Malformed RESP: Redis 7.0.15's error (the first four recorded from it), then close.
#[test]
fn malformed_resp_is_a_protocol_error_then_close() {
    for (input, error) in [
        (&b"*x\r\n"[..], "invalid multibulk length"),
        (b"*1\r\n$x\r\n", "invalid bulk length"),
        (b"*1\r\n$-1\r\n", "invalid bulk length"),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
            "expected '$', got 'f'",
        ),
        (
            b"*1\r\n$4\r\nPINGxx\r\n",
            "expected CRLF after a bulk string",
        ),
        (b"*1\rx\n", "invalid multibulk length"),
        (
            b"*123456789012345678901234567890123",
            "too big mbulk count string",
        ),
        (
            b"*1\r\n$123456789012345678901234567890123",
            "too big bulk count string",
        ),
    ] {
        let mut kv = Small::new();
        let (served, out) = serve(&mut kv, input, 0);
        assert_eq!(
            out,
            format!("-ERR Protocol error: {error}\r\n"),
            "{input:?}"
        );
        assert_eq!(served, Served::new(0, Next::Close));
    }
}

#[test]
fn a_command_larger_than_the_input_buffer_is_refused_early() {
    let mut kv = Tiny::new();
    // A bulk string that could never fit: refused on its length, before its bytes.
    let (served, out) = serve(&mut kv, b"*2\r\n$4\r\nECHO\r\n$60\r\n", 0);
    assert_eq!(out, "-ERR Protocol error: invalid bulk length\r\n");
    assert_eq!(served.next, Next::Close);
    // More elements than could fit.
    let (_, out) = serve(&mut kv, b"*11\r\n", 0);
    assert_eq!(out, "-ERR Protocol error: invalid multibulk length\r\n");
    // Many small elements, incomplete at the limit.
    let mut input = b"*10\r\n".to_vec();
    while input.len() < 64 {
        input.extend_from_slice(b"$1\r\na\r\n");
    }
    let (_, out) = serve(&mut kv, &input[..64], 0);
    assert_eq!(
        out,
        "-ERR Protocol error: command larger than this server's input buffer\r\n"
    );
    // An inline line with no newline within the limit; one byte less waits.
    let line = [b'a'; 64];
    let (_, out) = serve(&mut kv, &line, 0);
    assert_eq!(out, "-ERR Protocol error: too big inline request\r\n");
    let (served, out) = serve(&mut kv, &line[..63], 0);
    assert_eq!((served.next, out.as_str()), (Next::NeedInput, ""));
    // Over the limit but complete in one read: refused all the same, as it would be
    // had it come in pieces (found by the generated hostile streams).
    let mut long = [b'a'; 70].to_vec();
    long.extend_from_slice(b"\r\n");
    let (served, out) = serve(&mut kv, &long, 0);
    assert_eq!(out, "-ERR Protocol error: too big inline request\r\n");
    assert_eq!(served.next, Next::Close);
    let (served, out) = serve(&mut kv, &input, 0);
    assert_eq!(
        out,
        "-ERR Protocol error: command larger than this server's input buffer\r\n"
    );
    assert_eq!(served.next, Next::Close);
}

#[test]
fn too_many_arguments_is_an_error_and_the_connection_goes_on() {
    let mut kv = Small::new();
    let mut args = vec!["DEL"];
    args.extend(["k"; super::MAX_ARGS]);
    let mut input = resp(&args);
    input.extend_from_slice(b"PING\r\n");
    let (served, out) = serve(&mut kv, &input, 0);
    assert_eq!(
        out,
        "-ERR too many arguments: this server takes at most 64 per command\r\n+PONG\r\n"
    );
    assert_eq!(served, Served::new(input.len(), Next::NeedInput));
}

#[test]
fn keys_and_values_over_their_limits_are_refused() {
    let mut kv = Small::new();
    let key = "k".repeat(17);
    let value = "v".repeat(33);
    let key_error =
        "-ERR key exceeds maximum allowed size (this server's keys are at most 16 bytes)\r\n";
    let value_error =
        "-ERR string exceeds maximum allowed size (this server's values are at most 32 bytes)\r\n";
    assert_eq!(run(&mut kv, &["SET", &key, "v"], 0), key_error);
    assert_eq!(run(&mut kv, &["SET", "k", &value], 0), value_error);
    assert_eq!(run(&mut kv, &["INCR", &key], 0), key_error);
    assert_eq!(
        run(&mut kv, &["MSET", "a", "1", "b", &value], 0),
        value_error
    );
    assert_eq!(run(&mut kv, &["DBSIZE"], 0), ":0\r\n", "MSET wrote nothing");
    // At the limits: accepted.
    let key = "k".repeat(16);
    let value = "v".repeat(32);
    assert_eq!(run(&mut kv, &["SET", &key, &value], 0), "+OK\r\n");
    assert_eq!(
        run(&mut kv, &["GET", &key], 0),
        format!("$32\r\n{value}\r\n")
    );
    // A too-long key cannot exist: reads answer as for a missing key.
    assert_eq!(run(&mut kv, &["GET", &"k".repeat(17)], 0), "$-1\r\n");
}

#[test]
fn a_full_store_refuses_new_keys_with_oom_but_takes_expired_slots() {
    let mut kv: Kv<4, 16, 32, LIMIT> = Kv::new();
    let mut run4 = |args: &[&str], now| {
        let mut out: LinearBuf<512> = LinearBuf::new();
        kv.serve(&mut Session::new(), &resp(args), &mut out, now);
        String::from_utf8(out.filled().to_vec()).unwrap()
    };
    assert_eq!(run4(&["MSET", "a", "1", "b", "2", "c", "3"], 0), "+OK\r\n");
    assert_eq!(run4(&["SET", "d", "4", "PX", "10"], 0), "+OK\r\n");
    let oom = "-OOM command not allowed when the store is full (4 keys)\r\n";
    assert_eq!(run4(&["SET", "e", "5"], 0), oom);
    assert_eq!(run4(&["INCR", "e"], 0), oom);
    assert_eq!(run4(&["MSET", "a", "9", "e", "5"], 0), oom);
    assert_eq!(run4(&["GET", "a"], 0), "$1\r\n1\r\n", "MSET wrote nothing");
    // Existing keys still change.
    assert_eq!(run4(&["SET", "a", "x"], 0), "+OK\r\n");
    assert_eq!(run4(&["MSET", "a", "y", "b", "z", "a", "w"], 0), "+OK\r\n");
    // Once `d` expired, its slot is taken back for a new key.
    assert_eq!(run4(&["SET", "e", "5"], 11), "+OK\r\n");
    assert_eq!(run4(&["DBSIZE"], 11), ":4\r\n");
    assert_eq!(run4(&["GET", "d"], 11), "$-1\r\n");
}

#[test]
fn an_expired_key_is_never_read_and_expire_takes_it_back() {
    let mut kv = Small::new();
    assert_eq!(
        run(&mut kv, &["SET", "k", "v", "PX", "100"], 1000),
        "+OK\r\n"
    );
    assert_eq!(run(&mut kv, &["SET", "s", "v", "EX", "2"], 1000), "+OK\r\n");
    assert_eq!(run(&mut kv, &["SET", "p", "v"], 1000), "+OK\r\n");
    assert_eq!(kv.volatile(), 2);
    assert_eq!(run(&mut kv, &["PTTL", "k"], 1000), ":100\r\n");
    assert_eq!(run(&mut kv, &["PTTL", "k"], 1060), ":40\r\n");
    assert_eq!(run(&mut kv, &["TTL", "k"], 1049), ":0\r\n"); // 51 ms rounds to 0 s
    assert_eq!(run(&mut kv, &["TTL", "s"], 1499), ":2\r\n"); // 1,501 ms rounds to 2 s
    // At its deadline a key still exists (Redis: expired once now is past it).
    assert_eq!(run(&mut kv, &["GET", "k"], 1100), "$1\r\nv\r\n");
    assert_eq!(run(&mut kv, &["PTTL", "k"], 1100), ":0\r\n");
    for args in [
        &["GET", "k"][..],
        &["EXISTS", "k"],
        &["TTL", "k"],
        &["MGET", "k"],
    ] {
        let reply = run(&mut kv, args, 1101);
        assert!(
            matches!(
                reply.as_str(),
                "$-1\r\n" | ":0\r\n" | ":-2\r\n" | "*1\r\n$-1\r\n"
            ),
            "{args:?}: {reply}"
        );
    }
    // Reads leave it in place; the sweep removes it, and only it.
    assert_eq!(kv.len(), 3);
    assert_eq!(kv.expire(1101, 10), 1);
    assert_eq!((kv.len(), kv.volatile()), (2, 1));
    assert_eq!(kv.expire(3001, 1), 1, "`s`: one look was enough");
    assert_eq!((kv.len(), kv.volatile()), (1, 0));
    assert_eq!(kv.expire(u64::MAX, 100), 0, "no deadline left");
    // INCR on an expired key starts again from 0, with no deadline.
    assert_eq!(run(&mut kv, &["SET", "c", "5", "PX", "1"], 0), "+OK\r\n");
    assert_eq!(run(&mut kv, &["INCR", "c"], 2), ":1\r\n");
    assert_eq!(run(&mut kv, &["TTL", "c"], 2), ":-1\r\n");
}

#[test]
fn expire_steps_round_robin_within_its_budget() {
    let mut kv = Small::new();
    for i in 0..40 {
        let key = format!("k{i}");
        let ttl = if i % 2 == 0 { "10" } else { "100000" };
        assert_eq!(run(&mut kv, &["SET", &key, "v", "PX", ttl], 0), "+OK\r\n");
    }
    let mut removed = 0;
    let mut steps = 0;
    while removed < 20 {
        let n = kv.expire(11, 5);
        assert!(n <= 5);
        removed += n;
        steps += 1;
        assert!(
            steps <= 16,
            "40 keys in steps of 5 take at most 8 rounds and a wrap"
        );
    }
    assert_eq!((kv.len(), kv.volatile()), (20, 20));
}

#[test]
fn flushall_forgets_every_key_and_deadline() {
    let mut kv = Small::new();
    run(&mut kv, &["SET", "a", "1", "EX", "5"], 0);
    run(&mut kv, &["SET", "b", "1"], 0);
    assert_eq!(run(&mut kv, &["FLUSHALL"], 0), "+OK\r\n");
    assert_eq!((kv.len(), kv.volatile()), (0, 0));
    assert!(kv.is_empty());
}

#[test]
fn what_redis_cli_and_redis_benchmark_send_first() {
    let mut kv = Small::new();
    // redis-cli 7.0 (interactive): COMMAND DOCS; an empty array makes it use its own help.
    assert_eq!(run(&mut kv, &["COMMAND", "DOCS"], 0), "*0\r\n");
    assert_eq!(run(&mut kv, &["COMMAND"], 0), "*0\r\n");
    assert_eq!(run(&mut kv, &["COMMAND", "COUNT"], 0), ":30\r\n");
    // redis-benchmark 7.0: CONFIG GET save, CONFIG GET appendonly (recorded above).
    assert_eq!(
        run(&mut kv, &["config", "get", "*"], 0),
        "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
    );
    assert_eq!(
        run(&mut kv, &["CONFIG", "SET", "save", ""], 0),
        "-ERR CONFIG SET is not supported: this server is configured at compile time\r\n"
    );
}

#[test]
fn what_is_not_supported_says_so() {
    let mut kv = Small::new();
    assert_eq!(
        run(&mut kv, &["SELECT", "1"], 0),
        "-ERR DB index is out of range\r\n"
    );
    for option in ["GET", "EXAT", "pxat"] {
        assert_eq!(
            run(&mut kv, &["SET", "k", "v", option, "1"], 0),
            "-ERR syntax error: this server does not support SET's GET, EXAT and PXAT\r\n"
        );
    }
}

/// Runs `input` for the connection whose session is `session`; returns the replies.
fn in_session(kv: &mut Small, session: &mut Session, input: &[u8]) -> String {
    let mut out: LinearBuf<8192> = LinearBuf::new();
    let served = kv.serve(session, input, &mut out, 0);
    assert_eq!(served, Served::new(input.len(), Next::NeedInput));
    String::from_utf8_lossy(out.filled()).into_owned()
}

/// `HELLO`'s reply, as redis-server 7.0.15 gives it but for the server's name.
fn hello_reply(protocol: u8, id: u32) -> String {
    let header = if protocol == 3 { "%7" } else { "*14" };
    format!(
        "{header}\r\n$6\r\nserver\r\n$9\r\nstatio-kv\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
         $5\r\nproto\r\n:{protocol}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
         $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
}

/// The replies that differ between the protocols, recorded from redis-server 7.0.15
/// on one connection after `HELLO 3` and after `HELLO 2`.
#[test]
fn hello_switches_a_connection_to_resp3_and_back() {
    let mut kv = Small::new();
    let mut session = Session::new();
    assert_eq!(session.protocol(), 2);
    in_session(&mut kv, &mut session, b"SET a 1\r\n");
    assert_eq!(in_session(&mut kv, &mut session, b"GET x\r\n"), "$-1\r\n");
    assert_eq!(
        in_session(&mut kv, &mut session, b"HELLO 3\r\n"),
        hello_reply(3, 1)
    );
    assert_eq!(session.protocol(), 3);
    let resp3 = [
        (&b"GET x\r\n"[..], "_\r\n"),
        (b"MGET a x\r\n", "*2\r\n$1\r\n1\r\n_\r\n"),
        (b"SET a 2 NX\r\n", "_\r\n"),
        (b"CONFIG GET save\r\n", "%1\r\n$4\r\nsave\r\n$0\r\n\r\n"),
        (b"CONFIG GET nothing\r\n", "%0\r\n"),
        (b"COMMAND DOCS\r\n", "%0\r\n"),
        (b"TTL a\r\n", ":-1\r\n"),
    ];
    for (input, reply) in resp3 {
        assert_eq!(in_session(&mut kv, &mut session, input), reply, "{input:?}");
    }
    // No version: the current one; the id stays the session's.
    assert_eq!(
        in_session(&mut kv, &mut session, b"HELLO\r\n"),
        hello_reply(3, 1)
    );
    assert_eq!(
        in_session(
            &mut kv,
            &mut session,
            b"HELLO 2 AUTH default any SETNAME x\r\n"
        ),
        hello_reply(2, 1)
    );
    assert_eq!(session.protocol(), 2);
    assert_eq!(
        in_session(&mut kv, &mut session, b"CONFIG GET save\r\n"),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    // Another connection gets the next id.
    assert_eq!(
        in_session(&mut kv, &mut Session::new(), b"HELLO 2\r\n"),
        hello_reply(2, 2)
    );
}

#[test]
fn a_refused_hello_leaves_the_protocol_as_it_was() {
    let mut kv = Small::new();
    let mut session = Session::new();
    let refused = [
        (
            &b"HELLO 4\r\n"[..],
            "-NOPROTO unsupported protocol version\r\n",
        ),
        (b"HELLO 1\r\n", "-NOPROTO unsupported protocol version\r\n"),
        (
            b"HELLO x\r\n",
            "-ERR Protocol version is not an integer or out of range\r\n",
        ),
        (
            b"HELLO 3 AUTH bob pw\r\n",
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        ),
        (
            b"*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$7\r\nSETNAME\r\n$3\r\na\x01b\r\n",
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        ),
        (
            b"HELLO 3 FOO\r\n",
            "-ERR Syntax error in HELLO option 'FOO'\r\n",
        ),
        (
            b"HELLO 3 AUTH default\r\n",
            "-ERR Syntax error in HELLO option 'AUTH'\r\n",
        ),
        (
            b"HELLO 3 SETNAME\r\n",
            "-ERR Syntax error in HELLO option 'SETNAME'\r\n",
        ),
    ];
    for (input, reply) in refused {
        assert_eq!(in_session(&mut kv, &mut session, input), reply, "{input:?}");
        assert_eq!(session.protocol(), 2, "{input:?}");
    }
    // A reply with no room waits, the session unchanged; in an output buffer too
    // small for it even when empty it is an error reply, the session unchanged too.
    let mut out: LinearBuf<256> = LinearBuf::new();
    out.try_write_all(&[b'.'; 200]).unwrap();
    let served = kv.serve(&mut session, b"HELLO 3\r\n", &mut out, 0);
    assert_eq!(served, Served::new(0, Next::OutputFull));
    assert_eq!(session.protocol(), 2);
    let mut small: LinearBuf<80> = LinearBuf::new();
    kv.serve(&mut session, b"HELLO 3\r\n", &mut small, 0);
    assert_eq!(
        String::from_utf8_lossy(small.filled()),
        "-ERR the reply does not fit in this server's output buffer\r\n"
    );
    assert_eq!(session.protocol(), 2);
}

#[test]
fn unknown_commands_list_at_most_128_bytes_of_arguments() {
    let mut kv = Small::new();
    let long = "x".repeat(200);
    let reply = run(&mut kv, &[&long, &long, "more"], 0);
    // Redis: the name cut at 128, the first argument at 128 - 0, then no more.
    let expected = format!(
        "-ERR unknown command '{}', with args beginning with: '{}' \r\n",
        &long[..128],
        &long[..128]
    );
    assert_eq!(reply, expected);
}

#[test]
fn a_full_output_buffer_stops_before_the_command_runs() {
    let mut kv = Small::new();
    let mut input = Vec::new();
    for _ in 0..10 {
        input.extend_from_slice(b"INCR n\r\n");
    }
    // Room for a few replies only: each stop is OutputFull, and every INCR runs once.
    let transcript = drive::<70>(&input, input.len(), LIMIT, |i, o| {
        kv.serve(&mut Session::new(), i, o, 0)
    });
    let expected: String = (1..=10).map(|n| format!(":{n}\r\n")).collect();
    assert_eq!(String::from_utf8_lossy(&transcript.output), expected);
    // A write needs MUTATION_REPLY_MAX free bytes, though its reply is shorter.
    let mut out: LinearBuf<128> = LinearBuf::new();
    out.try_write_all(&[b'.'; 128 - MUTATION_REPLY_MAX + 1])
        .unwrap();
    let served = kv.serve(&mut Session::new(), b"INCR n\r\n", &mut out, 0);
    assert_eq!(served, Served::new(0, Next::OutputFull));
    assert_eq!(run(&mut kv, &["GET", "n"], 0), "$2\r\n10\r\n", "not run");
    // A read-only reply that does not fit waits too.
    let mut out: LinearBuf<128> = LinearBuf::new();
    out.try_write_all(&[b'.'; 125]).unwrap();
    assert_eq!(
        kv.serve(&mut Session::new(), b"GET n\r\n", &mut out, 0),
        Served::new(0, Next::OutputFull)
    );
}

#[test]
fn a_reply_larger_than_an_empty_output_buffer_is_an_error_reply() {
    let mut kv = Small::new();
    run(&mut kv, &["SET", "k", &"v".repeat(32)], 0);
    let mut out: LinearBuf<80> = LinearBuf::new();
    let input = b"MGET k k k\r\nPING\r\n";
    let served = kv.serve(&mut Session::new(), input, &mut out, 0);
    assert_eq!(
        String::from_utf8_lossy(out.filled()),
        "-ERR the reply does not fit in this server's output buffer\r\n+PONG\r\n"
    );
    assert_eq!(served, Served::new(input.len(), Next::NeedInput));
    // Not even that fits: close.
    let mut tiny: LinearBuf<8> = LinearBuf::new();
    assert_eq!(
        kv.serve(&mut Session::new(), b"MGET k\r\n", &mut tiny, 0)
            .next,
        Next::Close
    );
    assert!(!tiny.has_remaining());
}

#[test]
fn need_input_keeps_less_than_a_command_for_every_prefix() {
    let input = [
        resp(&["SET", "key", &"v".repeat(20)]),
        b"PING with an inline line\r\n".to_vec(),
        resp(&["ECHO", &"e".repeat(100)]),
    ]
    .concat();
    for end in 0..=input.len() {
        let mut kv = Tiny::new();
        let mut out: LinearBuf<1024> = LinearBuf::new();
        let served = kv.serve(&mut Session::new(), &input[..end], &mut out, 0);
        if served.next == Next::NeedInput {
            assert!(end - served.consumed < 64, "at {end}");
        }
    }
}
