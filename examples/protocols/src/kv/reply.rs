//! Replies in RESP2 or RESP3, each written whole or not at all: a reply is a function
//! that puts its bytes into a [`Sink`], run once to measure it and once to write it.
//! The two protocols differ, for this server's commands, only in the null and the map.

use statio_core::buf::{MutBuf, NoRoom};

use super::Session;

/// Where a reply puts its bytes.
pub(super) trait Sink {
    fn put(&mut self, bytes: &[u8]);
    /// Whether the reply is written in RESP3 (`HELLO 3`), else RESP2.
    fn resp3(&self) -> bool;
}

/// Counts the bytes: the first run.
struct Measure {
    len: usize,
    resp3: bool,
}

impl Sink for Measure {
    fn put(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
    }

    fn resp3(&self) -> bool {
        self.resp3
    }
}

/// Writes the bytes, after [`Measure`] found room for all of them.
struct Fill<'a, B: ?Sized> {
    out: &'a mut B,
    resp3: bool,
}

impl<B: MutBuf + ?Sized> Sink for Fill<'_, B> {
    fn put(&mut self, bytes: &[u8]) {
        self.out.write_truncating(bytes);
    }

    fn resp3(&self) -> bool {
        self.resp3
    }
}

/// A connection's output buffer and its session, which says the protocol.
pub(super) struct Out<'a, B: ?Sized> {
    pub buf: &'a mut B,
    pub session: &'a mut Session,
}

/// Writes the reply `reply` puts, whole, or nothing, in the session's protocol.
/// `reply` must put the same bytes each time it runs (it only reads).
pub(super) fn emit<B: MutBuf + ?Sized>(
    out: &mut Out<'_, B>,
    reply: impl Fn(&mut dyn Sink),
) -> Result<(), NoRoom> {
    emit_in(out.buf, out.session.resp3, reply)
}

/// [`emit`] in RESP3 when `resp3`, else RESP2: for `HELLO`, whose reply is in the
/// protocol it switches to, and which switches only once its reply is written.
pub(super) fn emit_in<B: MutBuf + ?Sized>(
    out: &mut B,
    resp3: bool,
    reply: impl Fn(&mut dyn Sink),
) -> Result<(), NoRoom> {
    let mut measure = Measure { len: 0, resp3 };
    reply(&mut measure);
    let free = out.remaining_mut();
    if measure.len > free {
        return Err(NoRoom {
            needed: measure.len,
            free,
        });
    }
    reply(&mut Fill { out, resp3 });
    Ok(())
}

pub(super) fn ok(s: &mut dyn Sink) {
    s.put(b"+OK\r\n");
}

pub(super) fn simple(s: &mut dyn Sink, text: &[u8]) {
    s.put(b"+");
    s.put(text);
    s.put(b"\r\n");
}

pub(super) fn int(s: &mut dyn Sink, n: i64) {
    s.put(b":");
    s.put(itoa::Buffer::new().format(n).as_bytes());
    s.put(b"\r\n");
}

pub(super) fn bulk(s: &mut dyn Sink, bytes: &[u8]) {
    s.put(b"$");
    s.put(itoa::Buffer::new().format(bytes.len()).as_bytes());
    s.put(b"\r\n");
    s.put(bytes);
    s.put(b"\r\n");
}

/// A missing value: RESP3's null, RESP2's null bulk string.
pub(super) fn nil(s: &mut dyn Sink) {
    s.put(if s.resp3() { b"_\r\n" } else { b"$-1\r\n" });
}

/// No array: RESP3's null, RESP2's null array (`EXEC` after a `WATCH` failed).
pub(super) fn nil_array(s: &mut dyn Sink) {
    s.put(if s.resp3() { b"_\r\n" } else { b"*-1\r\n" });
}

/// The header of an array of `n` replies, which follow.
pub(super) fn array(s: &mut dyn Sink, n: usize) {
    header(s, b"*", n);
}

/// The header of a map of `n` pairs, key and value replies, which follow: RESP3's map,
/// RESP2's flat array of `2n` replies.
pub(super) fn map(s: &mut dyn Sink, n: usize) {
    if s.resp3() {
        header(s, b"%", n);
    } else {
        header(s, b"*", 2 * n);
    }
}

fn header(s: &mut dyn Sink, kind: &[u8], n: usize) {
    s.put(kind);
    s.put(itoa::Buffer::new().format(n).as_bytes());
    s.put(b"\r\n");
}

/// The error that stands for a reply larger than the room it has.
pub(super) fn too_large(s: &mut dyn Sink) {
    error(
        s,
        &[b"ERR the reply does not fit in this server's output buffer"],
    );
}

/// An error reply: `-`, the parts, CRLF. Parts may hold a client's bytes: CR and LF
/// become spaces, as Redis does (an error is one line).
pub(super) fn error(s: &mut dyn Sink, parts: &[&[u8]]) {
    s.put(b"-");
    for part in parts {
        one_line(s, part);
    }
    s.put(b"\r\n");
}

/// `bytes` with CR and LF as spaces.
pub(super) fn one_line(s: &mut dyn Sink, bytes: &[u8]) {
    let mut pieces = bytes.split(|&b| b == b'\r' || b == b'\n');
    if let Some(first) = pieces.next() {
        s.put(first);
    }
    for piece in pieces {
        s.put(b" ");
        s.put(piece);
    }
}
