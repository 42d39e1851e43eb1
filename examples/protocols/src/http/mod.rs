//! HTTP/1.1 (RFC 9110, RFC 9112) over `httparse`, with no I/O: [`Http::serve`] answers
//! the complete requests at the start of a connection's input.
//!
//! ```
//! use statio_core::buf::{Buf, LinearBuf};
//! use statio_protocols::http::{Http, Limits};
//! use statio_protocols::Next;
//!
//! let http = Http::new(Limits::DEFAULT);
//! let mut out: LinearBuf<4096> = LinearBuf::new();
//! let input = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
//! let served = http.serve(input, &mut out);
//! assert_eq!(served.next, Next::Close); // send `out`, then close
//! assert!(out.filled().ends_with(b"Connection: close\r\n\r\nhello"));
//! ```
//!
//! # Routes
//! | request | response |
//! |---|---|
//! | `GET /`, `HEAD /` | 200, `text/plain`, [`HELLO`] (HEAD: the same headers, no body) |
//! | `POST /echo` | 200, `application/octet-stream`, the request's body |
//! | another method on `/` or `/echo` | 405 with `Allow` |
//! | any other path | 404 |
//!
//! The path is matched without its query; absolute-form targets
//! (`http://host/path`) are accepted (RFC 9112 3.2.2).
//!
//! Every response has `Date` (see [`Http::set_time`]), `Content-Length` and
//! `Content-Type`; a connection that closes gets `Connection: close`, an HTTP/1.0 one
//! that stays open `Connection: keep-alive`.
//!
//! # Connections
//! HTTP/1.1 connections stay open unless the request says `Connection: close`; HTTP/1.0
//! ones only with `Connection: keep-alive` (RFC 9112 9.3). Pipelined requests are
//! answered in order into the one output buffer. A request with
//! `Expect: 100-continue` whose body has not started gets `100 Continue` first.
//!
//! # Refused requests
//! Each is answered with its status, `Connection: close` and [`Next::Close`]: the
//! input after it cannot be trusted to start a request.
//!
//! | input | status |
//! |---|---|
//! | not HTTP/1.x as `httparse` parses it (strictly: no obs-fold, no spaces before `:`) | 400 |
//! | HTTP/1.1 with no `Host`, or any request with two | 400 |
//! | `Content-Length` twice, empty, or not digits | 400 |
//! | `Transfer-Encoding` with `Content-Length`, in HTTP/1.0, or not ending in `chunked` | 400 |
//! | `Transfer-Encoding: chunked` | 501 |
//! | `Content-Length` over [`Limits::body`] | 413 |
//! | request line alone over [`Limits::head`] | 414 |
//! | head over [`Limits::head`], or more than [`MAX_HEADERS`] lines | 431 |
//!
//! Request smuggling rests on two parsers framing one message differently; here a
//! message with two lengths, or a length this server does not parse, is never framed
//! at all.
//!
//! # Sizes
//! The input buffer must hold [`Limits::request`] bytes and the output buffer
//! [`Limits::response`]: then [`Next::NeedInput`] only ever leaves less than a request
//! in the input, and every response fits into an empty output buffer. An output buffer
//! smaller than that gets, for a response that does not fit even when it is empty, a
//! 500 and [`Next::Close`] (or no response, when not even the 500 fits).
//!
//! [`Next::NeedInput`]: crate::Next::NeedInput

mod date;
#[cfg(test)]
mod hostile_tests;
mod request;
mod response;
#[cfg(test)]
mod tests;

use statio_core::buf::{Buf, MutBuf};

pub use date::HttpDate;
pub use request::MAX_HEADERS;
pub use response::{MAX_RESPONSE_HEAD, OCTET_STREAM, Status, TEXT_PLAIN};

use crate::{Next, Served};
use request::{Head, Method, Parsed};
use response::{CONTINUE, Connection, Response};

/// The body of `GET /`.
pub const HELLO: &[u8] = b"Hello, world!\n";
/// `Allow` of `/`.
pub const ALLOW_HELLO: &[u8] = b"GET, HEAD";
/// `Allow` of `/echo`.
pub const ALLOW_ECHO: &[u8] = b"POST";

/// How large a request may be.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of a request's head (request line, header lines, the empty line).
    pub head: usize,
    /// Bytes of a request's body.
    pub body: usize,
}

impl Limits {
    /// 2 KiB of head, 2,032 bytes of body: a request fits a `LinearBuf<4080>` (4 KiB
    /// with its counters, the size of a pooled buffer).
    pub const DEFAULT: Limits = Limits {
        head: 2048,
        body: 2032,
    };

    /// The largest request: the input buffer must hold this many bytes.
    pub const fn request(&self) -> usize {
        self.head.saturating_add(self.body)
    }

    /// The largest response: the output buffer must hold this many bytes.
    pub const fn response(&self) -> usize {
        MAX_RESPONSE_HEAD.saturating_add(self.body)
    }
}

/// The HTTP/1.1 server's logic: its limits and the current `Date`. One serves every
/// connection of a loop; it holds nothing of any connection.
#[derive(Clone, Debug)]
pub struct Http {
    limits: Limits,
    date: HttpDate,
}

impl Http {
    /// A server with these limits; its `Date` shows 1970 until [`set_time`](Self::set_time).
    pub const fn new(limits: Limits) -> Self {
        Http {
            limits,
            date: HttpDate::from_unix_secs(0),
        }
    }

    /// Its limits.
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sets the time the `Date` header shows, in Unix seconds; formats it only when the
    /// second changed. Call it once a second (a timer) or before each batch of reads.
    pub fn set_time(&mut self, unix_secs: u64) {
        if unix_secs != self.date.unix_secs() {
            self.date = HttpDate::from_unix_secs(unix_secs);
        }
    }

    /// The `Date` the responses carry.
    pub const fn date(&self) -> &HttpDate {
        &self.date
    }

    /// Answers the complete requests at the start of `input` into `out`, in order, each
    /// response whole or not at all; see [`Served`] and [`Next`] for what to do after,
    /// and the [module docs](self) for the answers.
    ///
    /// `out` may already hold responses not yet sent: new ones go after them.
    pub fn serve<B: Buf + MutBuf + ?Sized>(&self, input: &[u8], out: &mut B) -> Served {
        let mut consumed = 0;
        loop {
            let rest = &input[consumed..];
            if rest.is_empty() {
                return Served::new(consumed, Next::NeedInput);
            }
            let head = match request::parse(rest, &self.limits) {
                Parsed::Partial => return Served::new(consumed, Next::NeedInput),
                Parsed::Refused { status, head } => {
                    let response = Response::error(status, head);
                    return match response.write(&self.date, out) {
                        Ok(()) => Served::new(consumed, Next::Close),
                        Err(_) => self.no_room(consumed, out),
                    };
                }
                Parsed::Complete(head) => head,
            };
            let len = head.head_len + head.body_len;
            if rest.len() < len {
                // RFC 9110 10.1.1: a server "MAY omit sending 100 (Continue) if it has
                // already received some or all of the content".
                // An output buffer too small for it even when empty goes without: the
                // client sends the body after its own timeout.
                if head.expect_continue
                    && rest.len() == head.head_len
                    && out.try_write_all(CONTINUE).is_err()
                    && out.has_remaining()
                {
                    return Served::new(consumed, Next::OutputFull);
                }
                return Served::new(consumed, Next::NeedInput);
            }
            let response = respond(&head, &rest[head.head_len..len]);
            if response.write(&self.date, out).is_err() {
                return self.no_room(consumed, out);
            }
            consumed += len;
            if !head.keep_alive {
                return Served::new(consumed, Next::Close);
            }
        }
    }

    /// A response did not fit: wait for `out` to drain, or, when it holds nothing and
    /// still had no room, answer 500 and close (the buffer is too small for the limits).
    fn no_room<B: Buf + MutBuf + ?Sized>(&self, consumed: usize, out: &mut B) -> Served {
        if out.has_remaining() {
            return Served::new(consumed, Next::OutputFull);
        }
        // If even this does not fit, the connection closes with no response.
        let _ = Response::error(Status::InternalServerError, false).write(&self.date, out);
        Served::new(consumed, Next::Close)
    }
}

/// The response to a complete, accepted request.
fn respond<'a>(head: &Head<'_>, body: &'a [u8]) -> Response<'a> {
    let connection = match (head.keep_alive, head.http10) {
        (false, _) => Connection::Close,
        (true, true) => Connection::KeepAlive,
        (true, false) => Connection::Default,
    };
    let send_body = head.method != Method::Head;
    let (status, content_type, body, allow): (_, _, &[u8], _) = match (head.path, head.method) {
        (b"/", Method::Get | Method::Head) => (Status::Ok, TEXT_PLAIN, HELLO, None),
        (b"/", _) => (Status::MethodNotAllowed, TEXT_PLAIN, b"", Some(ALLOW_HELLO)),
        (b"/echo", Method::Post) => (Status::Ok, OCTET_STREAM, body, None),
        (b"/echo", _) => (Status::MethodNotAllowed, TEXT_PLAIN, b"", Some(ALLOW_ECHO)),
        _ => (Status::NotFound, TEXT_PLAIN, b"", None),
    };
    let body = if status == Status::Ok {
        body
    } else {
        status.error_body()
    };
    Response {
        status,
        content_type,
        allow,
        connection,
        body,
        send_body,
    }
}
