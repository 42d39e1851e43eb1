//! The protocol logic of statio's example servers, with no I/O: [`http`] (HTTP/1.1 on
//! `httparse`) and [`kv`] (a RESP2/RESP3 key-value store). Given the bytes a connection has
//! sent, each answers every complete request into an output buffer and says how many
//! input bytes it consumed and what the connection should do next ([`Served`]). The
//! loop that owns the sockets (statio's `examples/http` and `examples/kv`, or the mio
//! and tokio peers in `benches/examples`) does the reads and writes.
//!
//! ```
//! use statio_core::buf::{Buf, LinearBuf, MutBuf};
//! use statio_protocols::http::{Http, Limits};
//! use statio_protocols::Next;
//!
//! let mut http = Http::new(Limits::DEFAULT);
//! http.set_time(784_111_777); // the caller's clock, in Unix seconds
//! let mut out: LinearBuf<4096> = LinearBuf::new();
//!
//! // Two pipelined requests and the start of a third, as one read may bring them.
//! let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /";
//! let served = http.serve(input, &mut out);
//! assert_eq!(served.next, Next::NeedInput); // keep `input[served.consumed..]`, read more
//! assert_eq!(&input[served.consumed..], b"GET /");
//! let text = core::str::from_utf8(out.filled()).unwrap();
//! assert!(text.starts_with("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
//! assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2); // both, in order, one buffer
//! ```
//!
//! # The contract both servers keep
//! `serve(.., input, out, ..)` parses `input` from its first byte, a request at a time:
//! - every complete request is answered by writing its whole response into `out`
//!   ([`MutBuf::try_write_all`]-style: a response is never cut), in order, so pipelined
//!   responses leave in as few writes as `out` allows;
//! - [`Served::consumed`] counts the input bytes of the requests answered: drop them,
//!   keep the rest, and call again with the rest followed by the next bytes read;
//! - [`Served::next`] says why it stopped ([`Next`]).
//!
//! Each call parses the kept bytes again from their start: no parser state survives a
//! call, so a connection is its bytes (and, for kv, the protocol version its `HELLO`
//! chose: a [`kv::Session`]), and an incomplete request costs a re-parse per read
//! (bounded by the request limit).
//!
//! # Failure modes
//! None panics or allocates (the crate is `no_std` and links no allocator). Every limit
//! has a defined answer: a request larger than its limit gets an error response and
//! [`Next::Close`]; a response that does not fit into what is left of `out` stops the
//! call with [`Next::OutputFull`] before anything of that request is done; a response
//! that could not fit even into an empty `out` (a buffer smaller than the limits the
//! module documents) is replaced by an error reply. A caller that keeps to
//! [`Next`] never loses or duplicates a byte.
//!
//! [`MutBuf::try_write_all`]: statio_core::buf::MutBuf::try_write_all
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

#[cfg(test)]
mod driver;
pub mod http;
pub mod kv;

use statio_core::buf::{MutBuf, NoRoom};

/// What one `serve` call did: how much input it consumed and what to do next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// Input bytes of the requests answered (from the start of the input): drop them.
    /// The rest, `input[consumed..]`, is kept for the next call, unless `next` is
    /// [`Next::Close`]. (In kv, the rest starts with the commands an open transaction
    /// queued, answered already: they are its queue, and run at its `EXEC`.)
    pub consumed: usize,
    /// Why the call stopped.
    pub next: Next,
}

/// Why a `serve` call stopped, and what the connection does next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Every complete request was answered; `input[consumed..]` (possibly empty) is the
    /// start of the next one (in kv, after a transaction's queue). Send what `out` holds,
    /// keep the rest, and read more: call again when new bytes arrived. The rest is
    /// always shorter than the request limit, so an input buffer of that size never
    /// fills.
    NeedInput,
    /// The response to the next complete request does not fit into what is left of
    /// `out`; nothing of that request was done. Send `out`, then call again with
    /// `input[consumed..]` (reading more first is allowed too).
    OutputFull,
    /// Send what `out` holds, then close the connection; ignore the rest of the input.
    /// After a request asked to close (`Connection: close`, HTTP/1.0, `QUIT`), or after
    /// an error response to input that cannot be parsed further.
    Close,
}

impl Served {
    const fn new(consumed: usize, next: Next) -> Self {
        Served { consumed, next }
    }
}

/// Writes `parts`, in order, all of them or, with [`NoRoom`], none: one response.
fn write_parts<B: MutBuf + ?Sized>(out: &mut B, parts: &[&[u8]]) -> Result<(), NoRoom> {
    let needed = parts.iter().map(|part| part.len()).sum();
    let free = out.remaining_mut();
    if needed > free {
        return Err(NoRoom { needed, free });
    }
    for part in parts {
        // Cannot fall short: the room for all of them was checked above.
        out.write_truncating(part);
    }
    Ok(())
}
