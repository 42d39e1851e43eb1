//! RESP2 replies, each written whole or not at all: a reply is a function that puts its
//! bytes into a [`Sink`], run once to measure it and once to write it.

use statio_core::buf::{MutBuf, NoRoom};

/// Where a reply puts its bytes.
pub(super) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

/// Counts the bytes: the first run.
struct Measure(usize);

impl Sink for Measure {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Writes the bytes, after [`Measure`] found room for all of them.
struct Fill<'a, B: ?Sized>(&'a mut B);

impl<B: MutBuf + ?Sized> Sink for Fill<'_, B> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.write_truncating(bytes);
    }
}

/// Writes the reply `reply` puts, whole, or nothing. `reply` must put the same bytes
/// each time it runs (it only reads).
pub(super) fn emit<B: MutBuf + ?Sized>(
    out: &mut B,
    reply: impl Fn(&mut dyn Sink),
) -> Result<(), NoRoom> {
    let mut measure = Measure(0);
    reply(&mut measure);
    let free = out.remaining_mut();
    if measure.0 > free {
        return Err(NoRoom {
            needed: measure.0,
            free,
        });
    }
    reply(&mut Fill(out));
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

/// The null bulk string: a missing value.
pub(super) fn nil(s: &mut dyn Sink) {
    s.put(b"$-1\r\n");
}

/// The header of an array of `n` replies, which follow.
pub(super) fn array(s: &mut dyn Sink, n: usize) {
    s.put(b"*");
    s.put(itoa::Buffer::new().format(n).as_bytes());
    s.put(b"\r\n");
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
