//! A key-value store spoken to in RESP2 or RESP3 (Redis's protocols), with no I/O:
//! [`Kv::serve`] runs the complete commands at the start of a connection's input.
//!
//! ```
//! use statio_core::buf::{Buf, LinearBuf};
//! use statio_protocols::kv::{Kv, Session};
//! use statio_protocols::Next;
//!
//! // 64 keys of up to 64 bytes, values of up to 256; commands of up to 4,080 bytes
//! // (the default fourth parameter: a `LinearBuf<4080>` holds one).
//! let mut kv: Kv<64, 64, 256> = Kv::new();
//! let mut session = Session::new(); // one per connection
//! let mut out: LinearBuf<4080> = LinearBuf::new();
//! let now_ms = 0; // the caller's monotonic clock
//! let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n41\r\nINCR k\r\nGET k\r\n*2\r\n$3\r\nGET";
//! let served = kv.serve(&mut session, input, &mut out, now_ms);
//! assert_eq!(out.filled(), b"+OK\r\n:42\r\n$2\r\n42\r\n");
//! assert_eq!(served.next, Next::NeedInput);
//! assert_eq!(&input[served.consumed..], b"*2\r\n$3\r\nGET"); // incomplete: kept
//! ```
//!
//! # Commands
//! `PING [msg]`, `ECHO msg`, `GET`, `SET key value [NX|XX] [EX s|PX ms|KEEPTTL]`,
//! `DEL key...`, `EXISTS key...`, `INCR`, `DECR`, `INCRBY`, `DECRBY`,
//! `EXPIRE`/`PEXPIRE key time [NX|XX|GT|LT]`, `TTL`, `PTTL`, `PERSIST`, `MGET key...`,
//! `MSET key value...`, `DBSIZE`, `FLUSHALL`/`FLUSHDB [ASYNC|SYNC]`, `QUIT`, `SELECT 0`,
//! `HELLO [2|3 [AUTH default password] [SETNAME name]]`, `MULTI`, `EXEC`, `DISCARD`,
//! `WATCH key...`, `UNWATCH` (transactions: see below), and what `redis-cli` and
//! `redis-benchmark` 7 send first: `COMMAND DOCS` (empty: redis-cli then uses its
//! built-in help), `COMMAND COUNT`, and `CONFIG GET save|appendonly|*` (`""` and `no`:
//! nothing is persisted). Replies and errors are Redis 7.0's, byte for byte where Redis
//! has one (the unit tests hold replies recorded from redis-server 7.0.15). Command
//! names are case-insensitive.
//!
//! # Protocol
//! A connection speaks RESP2 until its `HELLO 3` (redis-py 8 and go-redis 9 send one
//! first; `redis-cli -3` too), RESP3 until a `HELLO 2`; the [`Session`] the caller keeps
//! per connection remembers which. In RESP3 a missing value is the null `_` and
//! `CONFIG GET`, `COMMAND DOCS` and `HELLO` answer maps; every other reply is the same
//! in both. `HELLO` reports `server` `statio-kv`, `version` `7.0.15` (the Redis whose
//! replies it gives), the session's `id`, `mode` `standalone`, `role` `master`, no
//! modules. There are no users: `AUTH default` with any password is accepted (Redis's
//! default user without a password), any other user is `-WRONGPASS`; `SETNAME` is
//! checked as Redis does and otherwise ignored (nothing reads names back).
//!
//! Not supported: other data types, `SET`'s `GET`, `EXAT` and `PXAT` (a syntax error),
//! databases other than 0, pub/sub, `CLIENT`, `AUTH`, persistence. Inline
//! commands split on white space and take quoted arguments without escapes (a quote
//! inside an argument is a plain byte).
//!
//! # Limits
//! | limit | reply |
//! |---|---|
//! | a key over `KEY` bytes (`SET`, `MSET`, `INCR`...) | `-ERR key exceeds maximum allowed size ...` |
//! | a value over `VALUE` bytes | `-ERR string exceeds maximum allowed size ...` |
//! | a new key when `KEYS` are held and none has expired | `-OOM command not allowed when the store is full ...` |
//! | more than [`MAX_ARGS`] arguments | `-ERR too many arguments ...` |
//! | a command larger than `COMMAND` bytes (the input buffer), or malformed RESP | `-ERR Protocol error: ...`, then [`Next::Close`] |
//! | a transaction's queued commands and the command after them (at last its `EXEC`) reach `COMMAND` bytes | each still `+QUEUED`; `EXEC` answers `-EXECABORT Transaction discarded because its queued commands outgrew this server's input buffer.` |
//! | a transaction of more commands than the output buffer holds at [`MUTATION_REPLY_MAX`] bytes each (and 22 for the array's header) | `-EXECABORT Transaction discarded because its replies may not fit this server's output buffer.` |
//! | a connection's watched keys would take more than [`WATCHED`] buckets | `-ERR too many keys watched ...`; the `WATCH` watches none of its keys |
//!
//! A write that fails changes nothing (`MSET` checks every pair first).
//!
//! # Transactions
//! `MULTI` ... `EXEC` as in Redis 7.0: each command in between is answered `+QUEUED`
//! or refused at once (an unknown command, a wrong number of arguments: `EXEC` then
//! discards the transaction with `-EXECABORT`), and `EXEC` runs the queued ones with
//! nothing in between and answers the array of their replies, errors of single
//! commands included; `DISCARD` drops them; `QUIT` closes at once. The queue needs no
//! memory of its own: the queued commands stay unconsumed at the start of the input
//! ([`Served::consumed`](crate::Served) stops before them), so they must fit the input
//! buffer together. `EXEC` runs into an empty output buffer (it stops with
//! [`Next::OutputFull`] until what the buffer holds was sent), where each reply is
//! promised [`MUTATION_REPLY_MAX`] bytes and may take more when there is room: one that
//! does not fit what is left becomes `-ERR the reply does not fit in this server's output
//! buffer`.
//!
//! `WATCH` as in Redis 7.0 too: `EXEC` answers null (`*-1`; RESP3 `_`) and runs nothing
//! when a watched key was changed (by any connection, this one included) or expired
//! after it was watched; `EXEC` and `DISCARD` unwatch every key, `WATCH` inside a
//! transaction is refused without discarding it. A connection keeps versions, not keys:
//! the store counts the changes to each of 1,024 buckets of keys (by a hash of the key),
//! and a connection remembers the counts of up to [`WATCHED`] buckets. So a change to a
//! watched key always fails the `EXEC`, and so may a change to another key of the same
//! bucket (the client retries, as after any failed `WATCH`).
//!
//! # Expiry
//! A key's deadline is kept with it, on the caller's clock (`now_ms`, milliseconds,
//! monotonic). Every read checks it, so an expired key is never seen. Its memory is
//! taken back by the next write to it, by [`Kv::expire`] (the loop's timer calls it,
//! Redis's active expiry), and, when a new key finds the store full, by a sweep of all
//! keys first.
//!
//! # Output
//! A command that changes the store runs only when [`MUTATION_REPLY_MAX`] bytes are
//! free in the output buffer, so its reply always fits after it ran; a read-only
//! command's reply is measured first. A reply that does not fit into what is left
//! stops the call with [`Next::OutputFull`], the command not run (or run again, if
//! read-only: it changed nothing). A reply too large for an empty output buffer is
//! replaced by an error reply.
//!
//! [`Next::Close`]: crate::Next::Close
//! [`Next::OutputFull`]: crate::Next::OutputFull

mod command;
#[cfg(test)]
mod hostile_tests;
mod int;
mod parse;
mod reply;
mod store;
#[cfg(test)]
mod tests;
mod transaction;
#[cfg(test)]
mod transaction_tests;
mod watch;
#[cfg(test)]
mod watch_tests;

use statio_core::buf::{Buf, MutBuf};

pub use parse::MAX_ARGS;
pub use watch::WATCHED;

use crate::{Next, Served};
use parse::{Args, Frame};
use store::Store;
use transaction::{Multi, Step};
use watch::Watch;

/// The free output bytes a command that changes the store needs before it runs: more
/// than any reply such a command gives after changing something (`+OK`, an integer,
/// a null).
pub const MUTATION_REPLY_MAX: usize = 64;

/// The store and its command logic: up to `KEYS` keys (a power of two) of up to `KEY`
/// bytes, values of up to `VALUE` bytes (at least 20, the longest `INCR` result),
/// commands of up to `COMMAND` bytes (the size of the input buffer, so that an
/// incomplete command always fits it; 4,080 by default, a `LinearBuf<4080>`). One
/// serves every connection of a loop; a connection's own state is its [`Session`].
///
/// Memory: `KEYS` entries of `KEY + VALUE` bytes plus 44 of bookkeeping (64-bit), and
/// 4 KiB of `WATCH` versions, in one block. [`Kv::new`] is `const` and all zero bytes,
/// so a `static` one (in a `ConstStaticCell`) sits in `.bss`: no file size, and no
/// resident page until used.
pub struct Kv<const KEYS: usize, const KEY: usize, const VALUE: usize, const COMMAND: usize = 4080>
{
    store: Store<KEYS, KEY, VALUE>,
    /// The last id a [`Session`] was given (by its first `HELLO`).
    last_id: u32,
}

/// What one connection negotiated with `HELLO` (the protocol its replies are in, RESP2
/// until a `HELLO 3`, and the id `HELLO` reports), its open transaction, if any, and the
/// keys it watches. Keep one per connection, from [`Session::new`] when it opens, and
/// pass it to each [`Kv::serve`] for it, with the input it left unconsumed. 120 bytes
/// (64-bit), 88 of them for its watched keys.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    resp3: bool,
    /// 0 until its first `HELLO`.
    id: u32,
    /// The open transaction, from `MULTI` to `EXEC` or `DISCARD`.
    multi: Option<Multi>,
    /// The keys watched for the next `EXEC`.
    watch: Watch,
}

impl Session {
    /// A new connection's: RESP2.
    pub const fn new() -> Self {
        Session {
            resp3: false,
            id: 0,
            multi: None,
            watch: Watch::new(),
        }
    }

    /// The protocol version its replies are in: 2 or 3.
    pub const fn protocol(&self) -> u8 {
        if self.resp3 { 3 } else { 2 }
    }
}

impl<const KEYS: usize, const KEY: usize, const VALUE: usize, const COMMAND: usize> Default
    for Kv<KEYS, KEY, VALUE, COMMAND>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const KEYS: usize, const KEY: usize, const VALUE: usize, const COMMAND: usize>
    Kv<KEYS, KEY, VALUE, COMMAND>
{
    /// An empty store.
    pub const fn new() -> Self {
        const {
            assert!(VALUE >= 20, "VALUE must hold any i64 (20 bytes) for INCR");
            assert!(KEY >= 1, "KEY must be at least 1");
        }
        Kv {
            store: Store::new(),
            last_id: 0,
        }
    }

    /// Runs the complete commands at the start of `input`, the input of the connection
    /// whose session is `session`, their replies into `out`, in order, each whole or
    /// not at all; see [`Served`] and [`Next`] for what to do after. `now_ms` is the
    /// caller's monotonic clock in milliseconds; deadlines are on it.
    pub fn serve<B: Buf + MutBuf + ?Sized>(
        &mut self,
        session: &mut Session,
        input: &[u8],
        out: &mut B,
        now_ms: u64,
    ) -> Served {
        let out = &mut reply::Out { buf: out, session };
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let mut consumed = 0;
        let mut args = Args::default();
        loop {
            // In an open transaction, `input[consumed..pos]` is its queue, answered.
            let pos = consumed + Multi::answered(out.session.multi);
            let frame = parse::parse(&input[pos..], COMMAND, &mut args);
            // Where the queue and the command after it, whole or not yet, end.
            let end = match frame {
                Frame::Incomplete => Some(input.len()),
                Frame::Command { len } => Some(pos + len),
                Frame::Empty(_) | Frame::Error(_) => None,
            };
            if pos > consumed && end.is_some_and(|end| end - consumed >= COMMAND) {
                // They fill the input buffer, at the same command whether the bytes came
                // at once or in pieces: the queue goes.
                if let Some(multi) = out.session.multi.as_mut() {
                    multi.input_full();
                }
                consumed = pos;
            }
            let len = match frame {
                Frame::Incomplete => return Served::new(consumed, Next::NeedInput),
                Frame::Empty(len) => {
                    match out.session.multi.as_mut() {
                        Some(multi) if pos > consumed => multi.answer(len),
                        _ => consumed += len,
                    }
                    continue;
                }
                Frame::Error(error) => {
                    let (message, found) = error.message();
                    let reply = reply::emit(out, |s| match found {
                        Some(byte) => {
                            reply::error(s, &[b"ERR Protocol error: ", message, &[byte], b"'"])
                        }
                        None => reply::error(s, &[b"ERR Protocol error: ", message]),
                    });
                    return match reply {
                        Err(_) if out.buf.has_remaining() => {
                            Served::new(consumed, Next::OutputFull)
                        }
                        _ => Served::new(consumed, Next::Close),
                    };
                }
                Frame::Command { len } => len,
            };
            match self.step(&args, &input[consumed..pos], now, out) {
                Ok(Step::Consume) => consumed = pos + len,
                Ok(Step::Keep) => {
                    if let Some(multi) = out.session.multi.as_mut() {
                        multi.answer(len);
                    }
                }
                Ok(Step::Close) => return Served::new(pos + len, Next::Close),
                Err(_) if out.buf.has_remaining() => {
                    return Served::new(consumed, Next::OutputFull);
                }
                Err(_) => {
                    // Even an empty buffer is too small: say so instead, and go on.
                    if reply::emit(out, reply::too_large).is_err() {
                        return Served::new(consumed, Next::Close);
                    }
                    if let Some(multi) = out.session.multi.as_mut() {
                        multi.refuse();
                    }
                    consumed = pos + len;
                }
            }
        }
    }

    /// Redis's active expiry: looks at up to `budget` keys, round robin from where the
    /// last call stopped, and removes the expired ones; returns how many it removed.
    /// Call it from a timer while [`volatile`](Self::volatile) is not 0, e.g. every
    /// 100 ms with a budget of 20, again at once while it removes more than a quarter
    /// of its budget (what Redis does). Costs O(`budget`).
    pub fn expire(&mut self, now_ms: u64, budget: usize) -> usize {
        self.store
            .expire(i64::try_from(now_ms).unwrap_or(i64::MAX), budget)
    }

    /// Keys held, expired ones not yet removed included (what `DBSIZE` says).
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// Keys with a deadline, expired or not: while not 0, [`expire`](Self::expire)
    /// has work.
    pub fn volatile(&self) -> usize {
        self.store.volatile()
    }
}
