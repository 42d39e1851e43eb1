//! The responses: status lines, the headers every response carries, and writing one
//! whole response or nothing.

use statio_core::buf::{MutBuf, NoRoom};

use super::HttpDate;
use crate::write_parts;

/// The statuses the server answers with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// 100 Continue: the interim answer to `Expect: 100-continue`.
    Continue,
    /// 200 OK.
    Ok,
    /// 400 Bad Request: malformed, or framing that cannot be trusted.
    BadRequest,
    /// 404 Not Found: no route for the path.
    NotFound,
    /// 405 Method Not Allowed: a route, but not for this method (with `Allow`).
    MethodNotAllowed,
    /// 413 Content Too Large: `Content-Length` over the body limit.
    ContentTooLarge,
    /// 414 URI Too Long: the request line alone is over the head limit.
    UriTooLong,
    /// 431 Request Header Fields Too Large: the head is over its limit, or has more
    /// than [`MAX_HEADERS`](super::MAX_HEADERS) lines.
    HeaderFieldsTooLarge,
    /// 500 Internal Server Error: the response would not fit into an empty output
    /// buffer (the buffer is smaller than [`Limits::response`](super::Limits::response)).
    InternalServerError,
    /// 501 Not Implemented: `Transfer-Encoding: chunked`.
    NotImplemented,
}

impl Status {
    /// The status code.
    pub const fn code(self) -> u16 {
        match self {
            Status::Continue => 100,
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::ContentTooLarge => 413,
            Status::UriTooLong => 414,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
        }
    }

    /// The status line, CRLF included.
    const fn line(self) -> &'static [u8] {
        match self {
            Status::Continue => b"HTTP/1.1 100 Continue\r\n",
            Status::Ok => b"HTTP/1.1 200 OK\r\n",
            Status::BadRequest => b"HTTP/1.1 400 Bad Request\r\n",
            Status::NotFound => b"HTTP/1.1 404 Not Found\r\n",
            Status::MethodNotAllowed => b"HTTP/1.1 405 Method Not Allowed\r\n",
            Status::ContentTooLarge => b"HTTP/1.1 413 Content Too Large\r\n",
            Status::UriTooLong => b"HTTP/1.1 414 URI Too Long\r\n",
            Status::HeaderFieldsTooLarge => b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            Status::InternalServerError => b"HTTP/1.1 500 Internal Server Error\r\n",
            Status::NotImplemented => b"HTTP/1.1 501 Not Implemented\r\n",
        }
    }

    /// The plain-text body of an error response: the reason phrase and a newline.
    pub const fn error_body(self) -> &'static [u8] {
        match self {
            Status::Continue => b"",
            Status::Ok => b"OK\n",
            Status::BadRequest => b"Bad Request\n",
            Status::NotFound => b"Not Found\n",
            Status::MethodNotAllowed => b"Method Not Allowed\n",
            Status::ContentTooLarge => b"Content Too Large\n",
            Status::UriTooLong => b"URI Too Long\n",
            Status::HeaderFieldsTooLarge => b"Request Header Fields Too Large\n",
            Status::InternalServerError => b"Internal Server Error\n",
            Status::NotImplemented => b"Not Implemented\n",
        }
    }
}

/// What follows the other headers about the connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Connection {
    /// Nothing: HTTP/1.1 keeps the connection by default.
    Default,
    /// `Connection: keep-alive`, which an HTTP/1.0 client needs to see.
    KeepAlive,
    /// `Connection: close` (RFC 9112 9.6: the server "SHOULD send" it when it closes).
    Close,
}

/// One response, written whole by [`Response::write`].
pub(super) struct Response<'a> {
    pub status: Status,
    pub content_type: &'static [u8],
    /// `Allow` of a 405: the methods the route takes.
    pub allow: Option<&'static [u8]>,
    pub connection: Connection,
    pub body: &'a [u8],
    /// False for HEAD: the headers of a GET, no body (RFC 9110 9.3.2).
    pub send_body: bool,
}

/// The most bytes a response's head takes (every header, the longest status line, a
/// 20-digit length): what [`Limits::response`](super::Limits::response) adds to the body.
pub const MAX_RESPONSE_HEAD: usize = 256;

/// `Content-Type` of `GET /` and of error responses.
pub const TEXT_PLAIN: &[u8] = b"text/plain; charset=utf-8";
/// `Content-Type` of `POST /echo`.
pub const OCTET_STREAM: &[u8] = b"application/octet-stream";

/// The interim response to `Expect: 100-continue`.
pub(super) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl Response<'_> {
    /// An error response: its reason as a text body, then close.
    pub fn error(status: Status, head: bool) -> Response<'static> {
        Response {
            status,
            content_type: TEXT_PLAIN,
            allow: None,
            connection: Connection::Close,
            body: status.error_body(),
            send_body: !head,
        }
    }

    /// Writes the whole response into `out`, or nothing.
    pub fn write<B: MutBuf + ?Sized>(&self, date: &HttpDate, out: &mut B) -> Result<(), NoRoom> {
        let mut digits = itoa::Buffer::new();
        let length = digits.format(self.body.len()).as_bytes();
        let (allow, allowed): (&[u8], &[u8]) = match self.allow {
            Some(methods) => (b"Allow: ", methods),
            None => (b"", b""),
        };
        let connection: &[u8] = match self.connection {
            Connection::Default => b"",
            Connection::KeepAlive => b"Connection: keep-alive\r\n",
            Connection::Close => b"Connection: close\r\n",
        };
        write_parts(
            out,
            &[
                self.status.line(),
                b"Date: ",
                date.as_bytes(),
                b"\r\nContent-Length: ",
                length,
                b"\r\nContent-Type: ",
                self.content_type,
                b"\r\n",
                allow,
                allowed,
                if allow.is_empty() { b"" } else { b"\r\n" },
                connection,
                b"\r\n",
                if self.send_body { self.body } else { b"" },
            ],
        )
    }
}
